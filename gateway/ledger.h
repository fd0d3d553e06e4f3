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
/*
 * The same, without the integrity check when the file is large enough for it to cost (it
 * reads every page: seconds on a ledger of millions of records). For a second connection of a
 * process that checked the ledger with the first (the daemon's threads), and for commands
 * that only read it (spgw status, which must answer at once whatever the ledger's size).
 */
enum spgw_rc spgw_ledger_open_unchecked(const char *state_dir, struct spgw_ledger **out,
					struct spgw_error *err);
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
	/* Relatives (outbox_refs.h); NULL or "" where unknown. */
	const char *bkey;         /* this record's schema key */
	const char *day_rule;     /* "inherit" / "earliest_child" when day is NULL */
	const char *day_table, *day_ref;
	const char *parent_table, *parent_ref;
	/* 数据有效标识 (SJYXBS) of `data`: SPGW_VALID_YES/NO, or SPGW_VALID_NONE for a table
	 * without it (zero, so a zeroed struct says "none"). */
	int valid;
	/* Nonzero: a changed version is not written but reported as SPGW_PUT_CHANGED with the
	 * newest version in *head, so the caller can make the change append-only first. */
	int hold_changes;
};

enum { SPGW_VALID_NONE = 0, SPGW_VALID_NO = 1, SPGW_VALID_YES = 2 };

enum spgw_put_result {
	SPGW_PUT_NEW = 0,       /* first version of this (region, table, key) */
	SPGW_PUT_VERSION = 1,   /* a changed version: queued after the earlier ones */
	SPGW_PUT_UNCHANGED = 2, /* same digest as the newest version: nothing written */
	SPGW_PUT_CHANGED = 3,   /* hold_changes: the digest differs, nothing written */
};

/* The newest version of a key, as spgw_ledger_put() found it. */
struct spgw_ledger_head {
	int64_t id, version;
	int valid; /* SPGW_VALID_* */
};

/*
 * Inside a transaction: add a record version to the outbox (state pending). `head` (may be
 * NULL) receives the newest earlier version when there is one (id 0 otherwise).
 */
enum spgw_rc spgw_ledger_put(struct spgw_ledger *l, const struct spgw_outbox_record *r,
			     enum spgw_put_result *result, struct spgw_ledger_head *head,
			     struct spgw_error *err);

/* The canonical JSON of the outbox version `id`: *data is new (spgw_free), *len its size. */
enum spgw_rc spgw_ledger_version_data(struct spgw_ledger *l, int64_t id, char **data,
				      size_t *len, struct spgw_error *err);

/*
 * The newest version of each record of `table` whose parent reference is `parent_ref`
 * (outbox_refs.h), in no particular order, with its schema key and validity. Used by the
 * sequence check over one case's handling steps. Strings are borrowed for the call.
 */
typedef enum spgw_rc (*spgw_ledger_child_fn)(void *ud, const char *record_key,
					     const char *bkey, int valid);
enum spgw_rc spgw_ledger_children_each(struct spgw_ledger *l, const char *region,
				       const char *table, const char *parent_ref,
				       spgw_ledger_child_fn fn, void *ud,
				       struct spgw_error *err);

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
	/* NULL, or what the record waits for (the key of the case whose earlier steps have not
	 * arrived): spgw_ledger_quarantine_waiting() finds it again by that. */
	const char *wait_ref;
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
/*
 * Call `fn` for each open entry of `region` and `table` that waits for `wait_ref`, in id
 * order; *n (may be NULL) gets how many there were. The ids are read first, so `fn` may
 * replay, resolve or update the entries it is handed. Stops at the callback's first error.
 */
enum spgw_rc spgw_ledger_quarantine_waiting(struct spgw_ledger *l, const char *region,
					    const char *table, const char *wait_ref,
					    spgw_ledger_quarantine_fn fn, void *ud, size_t *n,
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

/* ---- Delivery: outbox -> batches -> national platform (ledger_batch.c) ---- */

/*
 * Give pending records whose day is inherited (PROTOCOL.md §2: the parent's day, or the
 * earliest day of its children) the day of the record it comes from, where that is in the
 * ledger by now. One transaction; *n (may be NULL) receives how many got their day.
 */
enum spgw_rc spgw_ledger_resolve_days(struct spgw_ledger *l, int64_t *n, struct spgw_error *err);

/* (region, table) groups with records ready to batch, and how many. */
typedef enum spgw_rc (*spgw_ledger_group_fn)(void *ud, const char *region, const char *table,
					     int64_t ready);
/*
 * Call `fn` for each (region, table) holding pending records in no batch; `ready` is 0 (not
 * counted: counting would scan the backlog). spgw_ledger_ready_each() says which are ready:
 * day known, no earlier version of its key still pending, its parent (when the ledger holds
 * it) no longer pending.
 */
enum spgw_rc spgw_ledger_ready_groups(struct spgw_ledger *l, spgw_ledger_group_fn fn, void *ud,
				      struct spgw_error *err);

/* A record ready to be batched; strings borrowed for the callback's duration. */
struct spgw_ready_record {
	int64_t id;
	const char *key, *day, *digest;
	const char *data;
	size_t data_len;
};
typedef enum spgw_rc (*spgw_ledger_ready_fn)(void *ud, const struct spgw_ready_record *r);
/*
 * Call `fn` for up to `limit` ready records of (region, table) with an outbox id above
 * `after`, in queue order. The callback returns SPGW_E_LIMIT to stop early without error
 * (a batch is full).
 */
enum spgw_rc spgw_ledger_ready_each(struct spgw_ledger *l, const char *region,
				    const char *table, int64_t after, int limit,
				    spgw_ledger_ready_fn fn, void *ud, struct spgw_error *err);

/* A batch as stored: formed, then sent until it has an answer that settles it. */
struct spgw_batch_row {
	const char *id, *region, *table;
	const char *schema;   /* the schema id written in the body */
	const char *body_sm3; /* hex SM3 of the exact uncompressed body */
	const void *body; /* the body itself, kept only by batches of ledger version 2; else
			   * NULL, and rebuilt from the batch's records (batch.c) */
	size_t body_len;
	int64_t records;
	int64_t attempts;
	const char *state; /* "open", "done", "dead", "split", "conflict" */
	const char *created_at;
	int last_status;  /* last HTTP status, 0 for none or a network error */
	const char *last_error;
};
typedef enum spgw_rc (*spgw_ledger_batch_fn)(void *ud, const struct spgw_batch_row *b);

/*
 * One transaction: store a batch (state open) with the SM3 of its exact body, and put the
 * records `ids` (in body order) in it. Written before the first send: the id, the records
 * (which never change) and the digest fix the bytes, so a restart resends the same id and
 * the same bytes, and can prove they are the same.
 */
enum spgw_rc spgw_ledger_batch_store(struct spgw_ledger *l, const char *id, const char *region,
				     const char *table, const char *schema, const char *body_sm3,
				     const int64_t *ids, size_t n, struct spgw_error *err);
/* The records of an open batch, in body order (to rebuild its body). */
enum spgw_rc spgw_ledger_batch_records(struct spgw_ledger *l, const char *id,
				       spgw_ledger_ready_fn fn, void *ud, struct spgw_error *err);
/* Open batches in the order they were formed. */
enum spgw_rc spgw_ledger_batch_open_each(struct spgw_ledger *l, spgw_ledger_batch_fn fn,
					 void *ud, struct spgw_error *err);
/* Note one more attempt and its outcome (autocommit). */
enum spgw_rc spgw_ledger_batch_attempt(struct spgw_ledger *l, const char *id, int status,
				       const char *error, struct spgw_error *err);

/* The national answer for one record of a batch, in body order. */
enum spgw_record_status { SPGW_REC_ACCEPTED, SPGW_REC_DUPLICATE, SPGW_REC_REJECTED };
struct spgw_record_result {
	const char *key;
	enum spgw_record_status status;
	const char *errors; /* JSON array of {field, code, message} for a rejection, else NULL */
};
/* A verified receipt as stored. */
struct spgw_receipt_row {
	const char *batch_id, *received_at, *content_digest;
	int64_t accepted, duplicate, rejected;
	const char *alg, *sig;
	const char *region, *table; /* of the batch */
	const char *stored_at;
	/* the national public key (PEM) the receipt was verified with when stored; NULL for
	 * receipts stored before ledger version 8 */
	const char *national_key;
};
/*
 * One transaction: the batch is settled by a 200 answer. Accepted and duplicate records are
 * marked delivered, rejected ones dead with their errors, the receipt is stored and the
 * batch marked done (its body is dropped: the receipt's content digest names it).
 * SPGW_E_INVALID, writing nothing, when `results` does not name the batch's records in order.
 */
enum spgw_rc spgw_ledger_batch_done(struct spgw_ledger *l, const char *id,
				    const struct spgw_record_result *results, size_t n,
				    const struct spgw_receipt_row *receipt, struct spgw_error *err);
/* One transaction: the national side refused the whole batch for good (400): every record
 * in it goes to dead letters with `reason` (a JSON array of {field, code, message}). */
enum spgw_rc spgw_ledger_batch_dead(struct spgw_ledger *l, const char *id, int status,
				    const char *reason, struct spgw_error *err);
/* One transaction: give the batch's records back to the queue and close the batch as
 * `state` ("split" after a 413, "conflict" after a batch_id conflict). */
enum spgw_rc spgw_ledger_batch_release(struct spgw_ledger *l, const char *id, const char *state,
				       const char *why, struct spgw_error *err);

/* Dead letters: records the national side rejected, with its reasons. */
struct spgw_dead_row {
	int64_t id;
	const char *region, *table, *key, *day, *digest, *source;
	int64_t version;
	const char *data;
	const char *reason; /* JSON array of {field, code, message} */
	const char *batch_id, *dead_at;
};
typedef enum spgw_rc (*spgw_ledger_dead_fn)(void *ud, const struct spgw_dead_row *r);
/* Dead letters in id order, optionally of one region and/or table (NULL for all). */
enum spgw_rc spgw_ledger_dead_each(struct spgw_ledger *l, const char *region, const char *table,
				   spgw_ledger_dead_fn fn, void *ud, struct spgw_error *err);
/* One dead letter by outbox id; SPGW_E_NOTFOUND when it is not a dead letter. */
enum spgw_rc spgw_ledger_dead_get(struct spgw_ledger *l, int64_t id, spgw_ledger_dead_fn fn,
				  void *ud, struct spgw_error *err);
/* One transaction: put dead letters back in the queue: one by id (id > 0), or every one of
 * region/table (NULL for all). A dead version that a newer version of its key has since
 * replaced stays dead (sending it would undo the newer one). *n receives how many went
 * back, *superseded (may be NULL) how many stayed for that reason. */
enum spgw_rc spgw_ledger_dead_retry(struct spgw_ledger *l, int64_t id, const char *region,
				    const char *table, int64_t *n, int64_t *superseded,
				    struct spgw_error *err);

/* Stored receipts in the order they were stored. */
typedef enum spgw_rc (*spgw_ledger_receipt_fn)(void *ud, const struct spgw_receipt_row *r);
enum spgw_rc spgw_ledger_receipt_each(struct spgw_ledger *l, spgw_ledger_receipt_fn fn,
				      void *ud, struct spgw_error *err);

/* Outbox figures per (region, table). Oldest pending is the created_at of the oldest pending
 * version, NULL when none. */
struct spgw_outbox_stats {
	const char *region, *table;
	int64_t pending;   /* waiting, in no batch */
	int64_t in_flight; /* in an open batch */
	int64_t delivered, dead;
	int64_t held;      /* pending, waiting for the record its day comes from */
	const char *oldest_pending;
};
typedef enum spgw_rc (*spgw_ledger_stats_fn)(void *ud, const struct spgw_outbox_stats *s);
enum spgw_rc spgw_ledger_outbox_stats(struct spgw_ledger *l, spgw_ledger_stats_fn fn, void *ud,
				      struct spgw_error *err);

/* ---- Operations: runs, the daemon's schedule, alarms, status figures (ledger_status.c) ---- */

/* One pull (or backfill, or catalog round) of a source as it ended. */
struct spgw_run_row {
	const char *source;
	const char *kind;        /* "pull", "backfill", "catalog" */
	const char *started_at;  /* RFC 3339 UTC */
	const char *finished_at;
	const char *result;      /* "ok", "failed", "busy", "stopped" */
	int error_code;          /* enum spgw_rc, 0 when ok */
	int64_t records, added, changed, quarantined;
	const char *message;     /* why it failed; NULL when ok */
};
/* Keep a run's outcome (its own transaction; keeps the newest 1000 runs of the source). */
enum spgw_rc spgw_ledger_run_add(struct spgw_ledger *l, const struct spgw_run_row *r,
				 struct spgw_error *err);
typedef enum spgw_rc (*spgw_ledger_run_fn)(void *ud, const struct spgw_run_row *r);
/* The newest run of every source, and for each how many runs in a row before it ended as
 * it did (consecutive failures: `streak`). */
typedef enum spgw_rc (*spgw_ledger_last_run_fn)(void *ud, const struct spgw_run_row *r,
						int64_t streak);
enum spgw_rc spgw_ledger_last_runs(struct spgw_ledger *l, spgw_ledger_last_run_fn fn, void *ud,
				   struct spgw_error *err);

/* The daemon's schedule of one source, as `spgw status` shows it. */
struct spgw_schedule_row {
	const char *source;
	const char *cron;
	const char *next_at; /* RFC 3339 UTC; NULL when not scheduled */
	int running;
};
/* Replace the whole stored schedule with `rows` (one transaction). */
enum spgw_rc spgw_ledger_schedule_replace(struct spgw_ledger *l, const struct spgw_schedule_row *rows,
					  size_t n, struct spgw_error *err);
typedef enum spgw_rc (*spgw_ledger_schedule_fn)(void *ud, const struct spgw_schedule_row *r);
enum spgw_rc spgw_ledger_schedule_each(struct spgw_ledger *l, spgw_ledger_schedule_fn fn, void *ud,
				       struct spgw_error *err);

/* The daemon's heartbeat: who runs on this ledger, since when, in which state. */
struct spgw_daemon_row {
	int64_t pid;
	const char *started_at, *beat_at, *config;
	const char *state; /* "running", "draining", "stopped" */
};
enum spgw_rc spgw_ledger_daemon_beat(struct spgw_ledger *l, const struct spgw_daemon_row *d,
				     struct spgw_error *err);
/* *found 0 when no daemon ever ran here; strings valid during fn only. */
typedef enum spgw_rc (*spgw_ledger_daemon_fn)(void *ud, const struct spgw_daemon_row *d);
enum spgw_rc spgw_ledger_daemon_get(struct spgw_ledger *l, spgw_ledger_daemon_fn fn, void *ud,
				    struct spgw_error *err);

/* An alarm: a condition an operator must act on, stored while it holds. */
struct spgw_alarm_row {
	const char *name;    /* e.g. "identity_refused", "source_failing", "disk_low" */
	const char *subject; /* what it is about (a source, a file, a region/table), or "" */
	const char *message;
	const char *raised_at, *seen_at;
};
/* Raise (or keep up) an alarm; *is_new (may be NULL) says whether it was not up before. */
enum spgw_rc spgw_ledger_alarm_raise(struct spgw_ledger *l, const char *name, const char *subject,
				     const char *message, int *is_new, struct spgw_error *err);
/* Clear an alarm; subject NULL clears every subject of `name`. *cleared (may be NULL) says
 * how many were up. */
enum spgw_rc spgw_ledger_alarm_clear(struct spgw_ledger *l, const char *name, const char *subject,
				     int *cleared, struct spgw_error *err);
typedef enum spgw_rc (*spgw_ledger_alarm_fn)(void *ud, const struct spgw_alarm_row *a);
enum spgw_rc spgw_ledger_alarm_each(struct spgw_ledger *l, spgw_ledger_alarm_fn fn, void *ud,
				    struct spgw_error *err);

/* Figures per (region, table), from the tallies (no scan of the outbox). */
struct spgw_table_status {
	const char *region, *table;
	int64_t pending;    /* waiting with a business day, in no batch */
	int64_t held;       /* waiting for the record its business day comes from */
	int64_t in_flight;  /* in an open batch */
	int64_t delivered, dead;
	int64_t delivered_today; /* versions delivered on today's Beijing date */
	int64_t quarantined;     /* open quarantine entries */
	const char *oldest_pending_at; /* created_at of the oldest waiting version, or NULL */
};
typedef enum spgw_rc (*spgw_ledger_table_status_fn)(void *ud, const struct spgw_table_status *t);
/* `today` is the Beijing date "YYYY-MM-DD" that delivered_today counts. */
enum spgw_rc spgw_ledger_table_status(struct spgw_ledger *l, const char *today,
				      spgw_ledger_table_status_fn fn, void *ud,
				      struct spgw_error *err);
/* The ledger file's size in bytes (main database plus write-ahead log). */
int64_t spgw_ledger_size(struct spgw_ledger *l);
/*
 * Count the tallies of spgw status and reconciliation again from the outbox itself (one
 * transaction). For a ledger whose outbox was written by other means than spgw_ledger_put()
 * (a benchmark's generator, an import); spgw's own writes keep them exact.
 */
enum spgw_rc spgw_ledger_rebuild_tallies(struct spgw_ledger *l, struct spgw_error *err);
/* Give back the memory of the connection's page cache (a daemon between rounds: an idle
 * connection keeps up to its cache size of pages otherwise). */
void spgw_ledger_shrink(struct spgw_ledger *l);
/* The ledger's directory (the state directory), borrowed. */
const char *spgw_ledger_dir(const struct spgw_ledger *l);

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
