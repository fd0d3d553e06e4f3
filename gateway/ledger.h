/*
 * The ledger: one SQLite database in the state directory (WAL, versioned migrations) holding
 * the outbox (every valid record version with its canonical JSON and digest), each source's
 * committed cursor, and the quarantine (refused records with raw form, mapped form and every
 * reason). It is the truth: records and the cursor that produced them are written in one
 * transaction, so kill -9 at any instant loses nothing and stores nothing twice.
 */
#ifndef SPGW_LEDGER_H
#define SPGW_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct spgw_ledger;

/*
 * Open (creating when absent) `state_dir`/spgw.db. Refuses, with a message that says what to
 * do, a directory that is missing or not writable, a file that is not an SQLite database, an
 * SQLite database of another application, one from a newer spgw, or one that fails the quick
 * integrity check; never recreates or overwrites an existing file. Applies pending migrations
 * in one transaction. *out is new, released with spgw_ledger_close().
 */
enum spgw_rc spgw_ledger_open(const char *state_dir, struct spgw_ledger **out,
			      struct spgw_error *err);
void spgw_ledger_close(struct spgw_ledger *l);
/* The database file's path (borrowed). */
const char *spgw_ledger_path(const struct spgw_ledger *l);

/* One write transaction at a time (BEGIN IMMEDIATE). Rollback never fails visibly. */
enum spgw_rc spgw_ledger_begin(struct spgw_ledger *l, struct spgw_error *err);
enum spgw_rc spgw_ledger_commit(struct spgw_ledger *l, struct spgw_error *err);
void spgw_ledger_rollback(struct spgw_ledger *l);

/* The last committed cursor of `source`: *cursor is new (spgw_free) or NULL if none yet. */
enum spgw_rc spgw_ledger_cursor_get(struct spgw_ledger *l, const char *source, char **cursor,
				    struct spgw_error *err);
/* Inside a transaction: set `source`'s cursor. */
enum spgw_rc spgw_ledger_cursor_set(struct spgw_ledger *l, const char *source,
				    const char *cursor, struct spgw_error *err);

/* A valid record version for the outbox. All strings borrowed for the call. */
struct spgw_outbox_record {
	const char *source; /* configured source name */
	const char *region; /* six digits */
	const char *table;  /* SPGL table */
	const char *key;    /* 地方数据主键 DFSJZJ */
	const char *day;    /* business day YYYY-MM-DD, or NULL while it is not known yet */
	const char *digest; /* "sm3:<hex>" of `data` */
	const char *data;   /* canonical JSON */
	size_t data_len;
};

enum spgw_put_result {
	SPGW_PUT_NEW = 0,       /* first version of this (region, table, key) */
	SPGW_PUT_VERSION = 1,   /* a changed version: queued after the earlier ones */
	SPGW_PUT_UNCHANGED = 2, /* same digest as the newest version: nothing written */
};

/* Inside a transaction: add a record version to the outbox (state pending). */
enum spgw_rc spgw_ledger_put(struct spgw_ledger *l, const struct spgw_outbox_record *r,
			     enum spgw_put_result *result, struct spgw_error *err);

/* A refused record. All strings borrowed for the call; NULL where unknown. */
struct spgw_quarantine_record {
	const char *source;
	const char *region;
	const char *source_table; /* the plugin's table name */
	const char *table;        /* SPGL table when mapping got that far */
	const char *key;          /* 地方数据主键 when derived */
	const void *raw;          /* the bytes the plugin emitted, exactly */
	size_t raw_len;
	const char *mapped;  /* mapped record as JSON, or NULL */
	const char *reasons; /* JSON array from spgw_reasons_to_json() */
};

/*
 * Inside a transaction: keep a refused record. An identical open entry (same source, source
 * table, SPGL table, key and raw bytes) is not stored twice: its reasons are refreshed and
 * its `seen` count raised. *id (may be NULL) receives the entry's id.
 */
enum spgw_rc spgw_ledger_quarantine_put(struct spgw_ledger *l,
					const struct spgw_quarantine_record *q, int64_t *id,
					struct spgw_error *err);

/* A quarantine entry as read back; every pointer borrowed for the callback's duration. */
struct spgw_quarantine_row {
	int64_t id;
	const char *created_at; /* RFC 3339 UTC */
	const char *source, *region, *source_table, *table, *key;
	const void *raw;
	size_t raw_len;
	const char *mapped, *reasons;
	int64_t seen;
	int resolved; /* nonzero once replay moved it to the outbox */
};

typedef enum spgw_rc (*spgw_ledger_quarantine_fn)(void *ud,
						  const struct spgw_quarantine_row *row);

/*
 * Call `fn` for each entry in id order: open entries only unless `include_resolved`;
 * of one source when `source` is not NULL. Iterates row by row (memory stays flat).
 * Stops and returns the callback's code when it is not SPGW_OK.
 */
enum spgw_rc spgw_ledger_quarantine_each(struct spgw_ledger *l, const char *source,
					 int include_resolved, spgw_ledger_quarantine_fn fn,
					 void *ud, struct spgw_error *err);
/* One entry by id; SPGW_E_NOTFOUND when absent. */
enum spgw_rc spgw_ledger_quarantine_get(struct spgw_ledger *l, int64_t id,
					spgw_ledger_quarantine_fn fn, void *ud,
					struct spgw_error *err);
/* Inside a transaction: mark an entry resolved (its record went to the outbox). */
enum spgw_rc spgw_ledger_quarantine_resolve(struct spgw_ledger *l, int64_t id,
					    struct spgw_error *err);
/* Inside a transaction: replace an open entry's reasons and mapped form after a replay that
 * still fails. */
enum spgw_rc spgw_ledger_quarantine_update(struct spgw_ledger *l, int64_t id, const char *mapped,
					   const char *reasons, struct spgw_error *err);

/* Counts for reports: one callback per (source, region, table, state) with its count.
 * state is "pending", "delivered", "dead" (outbox) or "quarantined" (open quarantine;
 * table is the SPGL table or, when unknown, the source table). */
typedef enum spgw_rc (*spgw_ledger_count_fn)(void *ud, const char *source, const char *region,
					     const char *table, const char *state,
					     int64_t count);
enum spgw_rc spgw_ledger_counts(struct spgw_ledger *l, spgw_ledger_count_fn fn, void *ud,
				struct spgw_error *err);

/*
 * Test seam (after SQLite's fault injection): after `n` more successful write statements
 * (record, cursor and quarantine writes, and COMMIT), every further one fails with an
 * I/O error (SPGW_E_IO) without touching the database, until reset with a negative `n`.
 * Lets a test check that a failed batch leaves nothing half-written. Tests only.
 */
void spgw_ledger_fail_after(struct spgw_ledger *l, long n);
/* The same, but only the one write fails and later ones succeed: catches a caller that
 * ignores a failed write and commits the rest. Tests only. */
void spgw_ledger_fail_once(struct spgw_ledger *l, long n);

#endif
