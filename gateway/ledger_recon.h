/*
 * The ledger's side of reconciliation (ledger_recon.c): keys per region, table and business
 * day counted the way the national platform counts them (PROTOCOL.md §3), a day's keys for a
 * record-level comparison, re-queueing what the national side lacks, and each
 * reconciliation's results, kept so a report is rendered again without asking anyone again.
 */
#ifndef SPGW_LEDGER_RECON_H
#define SPGW_LEDGER_RECON_H

#include <stdint.h>

#include "ledger.h"

/* One region, table and business day ("" while the records wait for their day). */
struct spgw_day_count {
	const char *region, *table, *day;
	int64_t delivered; /* keys whose newest delivered version is on this day */
	int64_t valid;     /* of them, SJYXBS 1 */
	int64_t pending;   /* keys whose newest version waits (in a batch or not) */
	int64_t dead;      /* keys whose newest version is a dead letter */
};
typedef enum spgw_rc (*spgw_ledger_day_fn)(void *ud, const struct spgw_day_count *c);
/*
 * The counts of every day from `from` to `to` (inclusive, YYYY-MM-DD) that holds any, in
 * region, table, day order; `region` and `table` NULL for all. From the keyday tallies: a few
 * rows per day whatever the size of the outbox.
 */
enum spgw_rc spgw_ledger_day_counts(struct spgw_ledger *l, const char *region, const char *table,
				    const char *from, const char *to, spgw_ledger_day_fn fn,
				    void *ud, struct spgw_error *err);

/* A key of a day, as the ledger knows it. */
struct spgw_day_key {
	const char *key;
	const char *digest;  /* of the version this row is about */
	const char *state;   /* "delivered" (the key's newest delivered version is on this day),
			      * "pending" or "dead" (its newest version, on this day) */
	int64_t version;
};
typedef enum spgw_rc (*spgw_ledger_day_key_fn)(void *ud, const struct spgw_day_key *k);
/*
 * Every key of `region`, `table` on `day`, in key order (bytes: code points, as the national
 * listing), a key's rows in version order (its newest delivered version, then a newer
 * version still waiting). By outbox_day.
 */
enum spgw_rc spgw_ledger_day_keys(struct spgw_ledger *l, const char *region, const char *table,
				  const char *day, spgw_ledger_day_key_fn fn, void *ud,
				  struct spgw_error *err);

/* What the ledger holds of one key: its newest version and its newest delivered one. */
struct spgw_key_state {
	int found;                  /* 0: the ledger never had this key */
	int64_t version;            /* the newest version */
	char state[12];             /* its state */
	char day[16];               /* its day, "" while unknown */
	int64_t delivered_version;  /* 0 when none was delivered */
	char delivered_day[16];
};
enum spgw_rc spgw_ledger_key_state(struct spgw_ledger *l, const char *region, const char *table,
				   const char *key, struct spgw_key_state *out,
				   struct spgw_error *err);

/*
 * Send a key again: when its newest version is delivered, it goes back to the queue (pending,
 * in no batch), *queued 1; when its newest version is waiting or dead already, nothing
 * changes, *queued 0 (a repair run twice queues nothing the second time). Inside the caller's
 * transaction or its own.
 */
enum spgw_rc spgw_ledger_requeue(struct spgw_ledger *l, const char *region, const char *table,
				 const char *key, int *queued, struct spgw_error *err);

/* ---- stored results ---- */

struct spgw_recon_run {
	int64_t id;
	const char *started_at, *finished_at;
	const char *from, *to;
	const char *regions, *tables; /* the filters, NULL: all */
	int detail, repair;
	int64_t differences;
	const char *result;  /* agree, differ, incomplete, running */
	const char *message;
};
/* One region, table and day of a run; day "" is the table's total over the range. */
struct spgw_recon_day {
	const char *region, *table, *day;
	int64_t city;          /* -1: not counted */
	const char *city_note; /* why not counted, or a remark */
	int64_t delivered, valid, pending, dead;
	int64_t national, national_valid; /* -1: not known */
	const char *national_note;
	int64_t held, quarantined; /* the table's total row (day ""): undated records */
	const char *status;    /* agree, differ, incomplete */
	const char *note;      /* what differs, in words */
};
struct spgw_recon_key {
	const char *region, *table, *day, *key;
	const char *kind;      /* missing_national, missing_ledger, digest, extra_national */
	const char *ledger_digest, *national_digest;
	const char *action;    /* requeued, or NULL */
};

/* A new run (its own transaction); *id is its number. Keeps the newest 400 runs. */
enum spgw_rc spgw_ledger_recon_begin(struct spgw_ledger *l, const struct spgw_recon_run *r,
				     int64_t *id, struct spgw_error *err);
/* Rows of run `id`; inside a transaction the caller holds. */
enum spgw_rc spgw_ledger_recon_add_day(struct spgw_ledger *l, int64_t id,
				       const struct spgw_recon_day *d, struct spgw_error *err);
enum spgw_rc spgw_ledger_recon_add_key(struct spgw_ledger *l, int64_t id,
				       const struct spgw_recon_key *k, struct spgw_error *err);
/* The run's outcome (its own transaction). */
enum spgw_rc spgw_ledger_recon_finish(struct spgw_ledger *l, int64_t id, int64_t differences,
				      const char *result, const char *message,
				      struct spgw_error *err);
typedef enum spgw_rc (*spgw_ledger_recon_run_fn)(void *ud, const struct spgw_recon_run *r);
typedef enum spgw_rc (*spgw_ledger_recon_day_fn)(void *ud, const struct spgw_recon_day *d);
typedef enum spgw_rc (*spgw_ledger_recon_key_fn)(void *ud, const struct spgw_recon_key *k);
/* The runs, newest first, at most `limit` (0: all). */
enum spgw_rc spgw_ledger_recon_runs(struct spgw_ledger *l, int limit, spgw_ledger_recon_run_fn fn,
				    void *ud, struct spgw_error *err);
/* One run's rows (any callback may be NULL); SPGW_E_NOTFOUND when there is no such run. */
enum spgw_rc spgw_ledger_recon_load(struct spgw_ledger *l, int64_t id,
				    spgw_ledger_recon_run_fn run_fn, spgw_ledger_recon_day_fn day_fn,
				    spgw_ledger_recon_key_fn key_fn, void *ud,
				    struct spgw_error *err);

#endif
