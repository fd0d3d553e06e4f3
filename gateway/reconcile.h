/*
 * Reconciliation: per region, SPGL table and business day, what the city system holds (its
 * plugin's count()), what the gateway's ledger holds (delivered, waiting, dead letters) and
 * what the national platform counts (PROTOCOL.md §3), with every difference marked and said
 * in words; with `detail`, the keys of each differing day compared one by one; with
 * `repair`, what the national side lacks or holds in an old version queued again. Each run
 * is kept in the ledger (ledger_recon.h).
 *
 * Honest about what it does not know: a source whose plugin cannot count, or whose count
 * fails or times out, is "not counted", never zero; a national answer that does not answer
 * the question (other days, looping pages, counts that disagree with the keys) makes the
 * run "incomplete" with the reason, never "agree".
 *
 * When a day agrees: the city's count (records in force, plugin.h) equals the ledger's keys
 * of that day in force (delivered with 数据有效标识 1, waiting, dead), the national count equals the ledger's delivered keys, the national
 * valid count the ledger's, and nothing of the day waits or is dead. Records still without
 * a business day (held) and open quarantine entries cannot be placed on a day: they are
 * given per table, beside the days.
 */
#ifndef SPGW_RECONCILE_H
#define SPGW_RECONCILE_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "ledger_recon.h"
#include "schema.h"

struct spgw_recon_opts {
	const struct spgw_config *config;
	const struct spgw_schema *schema;
	struct spgw_ledger *ledger;
	const char *from, *to;      /* YYYY-MM-DD, inclusive, checked by the caller */
	const char *region;         /* NULL: every region of the sources and the ledger */
	const char *table;          /* NULL: every table of the schema */
	int detail;                 /* compare the keys of differing days */
	int all_keys;               /* compare the keys of every day (finds another version
				     * held by the national side even where counts agree) */
	int repair;                 /* queue again what the national side lacks (implies detail) */
	int skip_city;              /* do not ask the plugins (the daemon's quick rounds) */
	const volatile sig_atomic_t *stop; /* set: stop between requests */
};

/* One row of a result: a region, table and day; day "" is the table's total. */
struct spgw_recon_row {
	char region[8];
	char table[64];
	char day[11];
	int64_t city;                   /* -1: not counted */
	int64_t delivered, valid, pending, dead;
	int64_t national, national_valid; /* -1: not known */
	int64_t held, quarantined;      /* total rows only */
	char *city_note;                /* owned; why not counted, or NULL */
	int city_failed;                /* the count was asked and failed (not "cannot count") */
	char *national_note;            /* owned; why not known, or NULL */
	char status[12];                /* agree, differ, incomplete */
	char *note;                     /* owned: what differs, in words */
};

/* A key that differs (detail). Strings owned. */
struct spgw_recon_diff {
	char *region, *table, *day, *key;
	char *kind;                     /* missing_national, missing_ledger, digest,
					 * extra_national */
	char *ledger_digest, *national_digest;
	int requeued;
};

struct spgw_recon_result {
	int64_t run;                    /* its number in the ledger */
	char from[11], to[11];
	struct spgw_recon_row *rows;    /* region, table, then the total, then days in order */
	size_t nrows;
	struct spgw_recon_diff *diffs;
	size_t ndiffs;
	int64_t differences;            /* day rows that differ */
	int64_t requeued;
	int incomplete;                 /* something could not be known */
	char message[600];              /* the first reason it is incomplete */
	int64_t requests, retries;      /* to the national platform */
};

/*
 * Run one reconciliation. Returns SPGW_OK when it ran (agreeing or not: see the result),
 * or an error that stopped it (the ledger, memory, a stop). `out` is filled either way as
 * far as it got; release it with spgw_recon_result_clear().
 */
enum spgw_rc spgw_reconcile(const struct spgw_recon_opts *o, struct spgw_recon_result *out,
			    struct spgw_error *err);

/* A stored run, as it was (for a report rendered again). */
enum spgw_rc spgw_recon_load(struct spgw_ledger *l, int64_t run, struct spgw_recon_result *out,
			     struct spgw_error *err);

void spgw_recon_result_clear(struct spgw_recon_result *r);

/* The English and Chinese words for a diff kind ("missing_national" -> "missing at the
 * national platform", "国家平台缺少"). */
const char *spgw_recon_kind_en(const char *kind);
const char *spgw_recon_kind_zh(const char *kind);

#endif
