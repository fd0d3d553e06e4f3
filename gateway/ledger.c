/*
 * The ledger's operations (see ledger.h): transactions, cursors, the outbox, the quarantine
 * and counts. Opening and the schema are in ledger_open.c.
 *
 * The put path runs for every record, so its statements are prepared once at open and kept
 * (SQLITE_PREPARE_PERSISTENT); statements run rarely, or possibly while another is being
 * iterated (quarantine_each calling back into the ledger), are prepared per call.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "canonical.h"
#include "ledger_int.h"
#include "mem.h"
#include "spgw_limits.h"

#define Q_COLUMNS                                                                         \
	"id, created_at, source, region, source_table, spgl_table, record_key, raw, mapped, " \
	"reasons, seen, resolved"

static const char *const stmt_sql[LEDGER_ST_COUNT] = {
	/* IMMEDIATE takes the write lock now, so a commit never fails on a lock held by
	 * another process after the records were written */
	[LEDGER_ST_BEGIN] = "BEGIN IMMEDIATE",
	[LEDGER_ST_COMMIT] = "COMMIT",
	[LEDGER_ST_ROLLBACK] = "ROLLBACK",
	[LEDGER_ST_HEAD] =
		"SELECT version, digest, id, valid FROM outbox"
		" WHERE region = ?1 AND spgl_table = ?2 AND record_key = ?3"
		" ORDER BY version DESC LIMIT 1",
	[LEDGER_ST_PUT] =
		"INSERT INTO outbox (region, spgl_table, record_key, version, day, digest,"
		" source, state, created_at, bkey, day_rule, day_table, day_ref, parent_table,"
		" parent_ref, valid)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15)",
	[LEDGER_ST_PUT_DATA] = "INSERT INTO outbox_data (id, data) VALUES (?1, ?2)",
	/* the tallies a put changes (migration 10: not by trigger, see there): the new version
	 * waits, held while it has no day; the version before stops being the key's newest */
	[LEDGER_ST_TALLY_PUT] =
		"INSERT INTO tally VALUES (?1, ?2, CASE WHEN ?3 IS NULL THEN 'held'"
		" ELSE 'pending' END, ?4) ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[LEDGER_ST_KEYDAY_PUT] =
		"INSERT INTO keyday VALUES (?1, ?2, coalesce(?3, ''), 'pending', ?4)"
		" ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[LEDGER_ST_KEYDAY_PREV] =
		"INSERT INTO keyday SELECT o.region, o.spgl_table, coalesce(o.day, ''), o.state, -1"
		" FROM outbox o WHERE o.region = ?1 AND o.spgl_table = ?2 AND o.record_key = ?3"
		" AND o.version = ?4 - 1 AND o.state IN ('pending', 'dead')"
		" ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[LEDGER_ST_CURSOR_GET] = "SELECT cursor FROM cursors WHERE source = ?1",
	[LEDGER_ST_CURSOR_SET] =
		"INSERT INTO cursors (source, cursor, updated_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (source) DO UPDATE"
		" SET cursor = excluded.cursor, updated_at = excluded.updated_at",
	[LEDGER_ST_Q_FIND] =
		"SELECT id FROM quarantine"
		" WHERE raw_sha256 = ?1 AND resolved = 0 AND source = ?2"
		" AND source_table IS ?3 AND spgl_table IS ?4 AND record_key IS ?5"
		" AND raw = ?6 ORDER BY id LIMIT 1",
	[LEDGER_ST_Q_SEEN] =
		"UPDATE quarantine SET seen = seen + 1, last_seen_at = ?2, region = ?3,"
		" mapped = ?4, reasons = ?5, wait_ref = ?6 WHERE id = ?1",
	[LEDGER_ST_Q_INSERT] =
		"INSERT INTO quarantine (created_at, last_seen_at, source, region, source_table,"
		" spgl_table, record_key, raw, raw_sha256, mapped, reasons, wait_ref)"
		" VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[LEDGER_ST_Q_STATE] = "SELECT resolved FROM quarantine WHERE id = ?1",
	[LEDGER_ST_Q_RESOLVE] =
		"UPDATE quarantine SET resolved = 1, resolved_at = ?2"
		" WHERE id = ?1 AND resolved = 0",
	[LEDGER_ST_Q_UPDATE] =
		"UPDATE quarantine SET mapped = ?2, reasons = ?3 WHERE id = ?1 AND resolved = 0",
	/* one case's steps through the parent index, each only in its newest version. Named:
	 * with a GROUP BY the planner preferred the key index and read the whole table per
	 * step (quadratic), so the plan is fixed here and fails loudly if the index goes */
	[LEDGER_ST_Q_WAITING] =
		"SELECT id FROM quarantine INDEXED BY quarantine_waiting"
		" WHERE region = ?1 AND spgl_table = ?2 AND wait_ref = ?3 AND resolved = 0"
		" AND wait_ref IS NOT NULL ORDER BY id",
	[LEDGER_ST_CHILDREN] =
		"SELECT o.record_key, o.bkey, o.valid FROM outbox o INDEXED BY outbox_parent"
		" WHERE o.region = ?1 AND o.spgl_table = ?2 AND o.parent_ref = ?3"
		" AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.region = o.region"
		"  AND n.spgl_table = o.spgl_table AND n.record_key = o.record_key"
		"  AND n.version > o.version)",
};

/*
 * Turn an SQLite result into our code and a message saying what was being done and what to
 * do next. `src` is the result of the failing call.
 */
enum spgw_rc spgw_ledger_db_fail(struct spgw_ledger *l, int src, const char *what,
				 struct spgw_error *err)
{
	const char *msg = l->simulated ? "simulated I/O error (spgw_ledger_fail_after)"
		: l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(src);
	int sys = l->db && !l->simulated ? sqlite3_system_errno(l->db) : 0;

	l->simulated = 0;
	switch (src & 0xff) {
	case SQLITE_FULL:
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "state directory full while %s (%s): free space on the disk "
				      "holding %s, then run again; nothing of this batch is kept",
				      what, msg, l->dir);
	case SQLITE_IOERR:
		return spgw_error_set(err, SPGW_E_IO, l->path, 0, 0,
				      "I/O error while %s: %s%s%s; check the disk holding %s, then "
				      "run again", what, msg, sys ? ": " : "",
				      sys ? strerror(sys) : "", l->dir);
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "cannot write while %s (%s): make %s and the files in it "
				      "writable by the user running spgw (chown or chmod u+w)",
				      what, msg, l->dir);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "the ledger stayed locked for %d ms while %s: is another "
				      "spgw running on %s? stop it, or run this command when it is "
				      "done",
				      LEDGER_BUSY_MS, what, l->dir);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "the ledger is damaged (%s) while %s: stop spgw, keep the "
				      "file for analysis and restore the last backup; spgw never "
				      "repairs or recreates it", msg, what);
	case SQLITE_NOMEM:
		return spgw_error_nomem(err, what);
	default:
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "SQLite refused while %s: %s (code %d)", what, msg, src);
	}
}

/* Writes must run inside spgw_ledger_begin(): records and cursor commit together or not at
 * all. SQLite itself rolls a transaction back after some errors (full disk, I/O): then the
 * caller must roll back and start over, never carry on in autocommit. */
enum spgw_rc spgw_ledger_need_txn(struct spgw_ledger *l, const char *what,
				  struct spgw_error *err)
{
	if (!l->in_txn)
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "%s outside a transaction (a bug in spgw: call "
				      "spgw_ledger_begin first)", what);
	if (sqlite3_get_autocommit(l->db))
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "%s: SQLite already rolled this transaction back after an "
				      "earlier error; roll back and start the batch again", what);
	return SPGW_OK;
}

/* sqlite3_step() for a statement that writes; the test seam fails it here. */
int spgw_ledger_step_write(struct spgw_ledger *l, sqlite3_stmt *s)
{
	if (l->fail_after == 0) {
		l->simulated = 1;
		if (l->fail_once)
			l->fail_after = -1;
		return SQLITE_IOERR;
	}
	if (l->fail_after > 0)
		l->fail_after--;
	return sqlite3_step(s);
}

void spgw_ledger_fail_after(struct spgw_ledger *l, long n)
{
	l->fail_after = n < 0 ? -1 : n;
	l->fail_once = 0;
}

void spgw_ledger_fail_once(struct spgw_ledger *l, long n)
{
	l->fail_after = n < 0 ? -1 : n;
	l->fail_once = 1;
}

/* The current time as RFC 3339 UTC with seconds, "2026-11-22T12:00:00Z" (borrowed). */
const char *spgw_ledger_now(struct spgw_ledger *l)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t != l->now_sec || !l->now[0]) {
		gmtime_r(&t, &tm);
		strftime(l->now, sizeof(l->now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		l->now_sec = t;
	}
	return l->now;
}


enum spgw_rc spgw_ledger_prepare(struct spgw_ledger *l, struct spgw_error *err)
{
	int i, src;

	for (i = 0; i < LEDGER_ST_COUNT; i++) {
		src = sqlite3_prepare_v3(l->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					 &l->st[i], NULL);
		if (src != SQLITE_OK)
			return spgw_ledger_db_fail(l, src, "preparing the ledger's statements",
						   err);
	}
	return SPGW_OK;
}

/* ---- transactions ---- */

static int flush_puts(struct spgw_ledger *l);

enum spgw_rc spgw_ledger_begin(struct spgw_ledger *l, struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_BEGIN];
	int src;

	if (l->in_txn || !sqlite3_get_autocommit(l->db))
		return spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
				      "a transaction is already open (a bug in spgw: commit or "
				      "roll back first)");
	src = sqlite3_step(s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "starting a transaction", err);
	l->in_txn = 1;
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_commit(struct spgw_ledger *l, struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_COMMIT];
	enum spgw_rc rc;
	int src;

	rc = spgw_ledger_need_txn(l, "committing", err);
	if (rc) {
		spgw_ledger_rollback(l);
		return rc;
	}
	src = flush_puts(l);
	if (src != SQLITE_DONE) {
		rc = spgw_ledger_db_fail(l, src, "counting the transaction's records", err);
		spgw_ledger_rollback(l);
		return rc;
	}
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src == SQLITE_DONE) {
		l->in_txn = 0;
		return SPGW_OK;
	}
	rc = spgw_ledger_db_fail(l, src, "committing a transaction", err);
	/* leave no transaction half-open whatever the caller does next */
	spgw_ledger_rollback(l);
	return rc;
}

void spgw_ledger_rollback(struct spgw_ledger *l)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_ROLLBACK];

	if (!sqlite3_get_autocommit(l->db)) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	l->in_txn = 0;
	l->nputs = 0; /* what was counted went with the transaction */
}

/* ---- cursors ---- */

enum spgw_rc spgw_ledger_cursor_get(struct spgw_ledger *l, const char *source, char **cursor,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_CURSOR_GET];
	enum spgw_rc rc = SPGW_OK;
	char *c = NULL;
	int src;

	spgw_ledger_bind_text(s, 1, source);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		c = spgw_strndup((const char *)sqlite3_column_text(s, 0),
				 (size_t)sqlite3_column_bytes(s, 0));
		if (!c)
			rc = spgw_error_nomem(err, "reading a cursor");
	} else if (src != SQLITE_DONE) {
		rc = spgw_ledger_db_fail(l, src, "reading a cursor", err);
	}
	sqlite3_reset(s);
	if (!rc)
		*cursor = c;
	return rc;
}

enum spgw_rc spgw_ledger_cursor_set(struct spgw_ledger *l, const char *source,
				    const char *cursor, struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_CURSOR_SET];
	enum spgw_rc rc;
	int src;

	rc = spgw_ledger_need_txn(l, "setting a cursor", err);
	if (rc)
		return rc;
	if (strlen(cursor) > SPGW_MAX_CURSOR)
		return spgw_error_set(err, SPGW_E_LIMIT, source, 0, 0,
				      "cursor of %zu bytes exceeds SPGW_MAX_CURSOR (%d): the "
				      "plugin must keep its position shorter", strlen(cursor),
				      SPGW_MAX_CURSOR);
	spgw_ledger_bind_text(s, 1, source);
	spgw_ledger_bind_text(s, 2, cursor);
	spgw_ledger_bind_text(s, 3, spgw_ledger_now(l));
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "setting a cursor", err);
	return SPGW_OK;
}

/* ---- outbox ---- */

/* SPGW_VALID_* of an outbox row's valid column. */
static int column_valid(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return SPGW_VALID_NONE;
	return sqlite3_column_int(s, col) ? SPGW_VALID_YES : SPGW_VALID_NO;
}

/* Add the counted puts to the tallies (migration 10) and forget them. SQLITE_DONE or the
 * code of the write that failed. */
static int flush_puts(struct spgw_ledger *l)
{
	size_t i;
	int src = SQLITE_DONE;

	for (i = 0; i < l->nputs && src == SQLITE_DONE; i++) {
		const struct ledger_put_count *c = &l->puts[i];
		sqlite3_stmt *t = l->st[LEDGER_ST_TALLY_PUT], *k = l->st[LEDGER_ST_KEYDAY_PUT];

		spgw_ledger_bind_text(t, 1, c->region);
		spgw_ledger_bind_text(t, 2, c->table);
		spgw_ledger_bind_text(t, 3, c->day[0] ? c->day : NULL);
		sqlite3_bind_int64(t, 4, c->n);
		src = spgw_ledger_step_write(l, t);
		sqlite3_reset(t);
		if (src != SQLITE_DONE)
			break;
		spgw_ledger_bind_text(k, 1, c->region);
		spgw_ledger_bind_text(k, 2, c->table);
		spgw_ledger_bind_text(k, 3, c->day);
		sqlite3_bind_int64(k, 4, c->n);
		src = spgw_ledger_step_write(l, k);
		sqlite3_reset(k);
	}
	l->nputs = 0;
	return src;
}

/* What a put changes in the tallies: counted now, written at commit; the version before
 * stops being the key's newest at once (it needs the outbox, and versions are few). */
static int put_tallies(struct spgw_ledger *l, const struct spgw_outbox_record *r,
		       sqlite3_int64 version)
{
	const char *day = r->day ? r->day : "";
	struct ledger_put_count *c;
	size_t i;
	int src = SQLITE_DONE;

	for (i = 0; i < l->nputs; i++)
		if (!strcmp(l->puts[i].day, day) && !strcmp(l->puts[i].table, r->table) &&
		    !strcmp(l->puts[i].region, r->region))
			break;
	if (i == l->nputs && (i == LEDGER_PUT_COUNTS || strlen(r->region) >= sizeof(c->region) ||
			      strlen(r->table) >= sizeof(c->table) || strlen(day) >= sizeof(c->day))) {
		src = flush_puts(l); /* full, or names too long to keep: written now */
		i = 0;
	}
	if (src != SQLITE_DONE)
		return src;
	c = &l->puts[i];
	if (i == l->nputs) {
		if (strlen(r->region) >= sizeof(c->region) || strlen(r->table) >= sizeof(c->table) ||
		    strlen(day) >= sizeof(c->day))
			return SQLITE_TOOBIG;
		snprintf(c->region, sizeof(c->region), "%s", r->region);
		snprintf(c->table, sizeof(c->table), "%s", r->table);
		snprintf(c->day, sizeof(c->day), "%s", day);
		c->n = 0;
		l->nputs++;
	}
	c->n++;
	if (version) {
		sqlite3_stmt *s = l->st[LEDGER_ST_KEYDAY_PREV];

		spgw_ledger_bind_text(s, 1, r->region);
		spgw_ledger_bind_text(s, 2, r->table);
		spgw_ledger_bind_text(s, 3, r->key);
		sqlite3_bind_int64(s, 4, version + 1);
		src = spgw_ledger_step_write(l, s);
		sqlite3_reset(s);
	}
	return src;
}

enum spgw_rc spgw_ledger_put(struct spgw_ledger *l, const struct spgw_outbox_record *r,
			     enum spgw_put_result *result, struct spgw_ledger_head *head,
			     struct spgw_error *err)
{
	sqlite3_stmt *h = l->st[LEDGER_ST_HEAD], *s = l->st[LEDGER_ST_PUT], *sd;
	struct spgw_ledger_head found = { 0 };
	sqlite3_int64 version = 0;
	int same = 0, src;
	enum spgw_rc rc;

	rc = spgw_ledger_need_txn(l, "writing a record", err);
	if (rc)
		return rc;
	if (r->data_len > INT_MAX)
		return spgw_error_set(err, SPGW_E_LIMIT, r->source, 0, 0,
				      "a record's canonical form of %zu bytes is too large for the "
				      "ledger", r->data_len);
	spgw_ledger_bind_text(h, 1, r->region);
	spgw_ledger_bind_text(h, 2, r->table);
	spgw_ledger_bind_text(h, 3, r->key);
	src = sqlite3_step(h);
	if (src == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(h, 1);

		version = sqlite3_column_int64(h, 0);
		same = d && r->digest && !strcmp(d, r->digest);
		found.id = sqlite3_column_int64(h, 2);
		found.version = version;
		found.valid = column_valid(h, 3);
		src = SQLITE_DONE;
	}
	sqlite3_reset(h);
	if (src != SQLITE_DONE)
		goto fail;
	if (head)
		*head = found;
	if (same) {
		*result = SPGW_PUT_UNCHANGED;
		return SPGW_OK;
	}
	if (version && r->hold_changes) {
		*result = SPGW_PUT_CHANGED;
		return SPGW_OK;
	}
	spgw_ledger_bind_text(s, 1, r->region);
	spgw_ledger_bind_text(s, 2, r->table);
	spgw_ledger_bind_text(s, 3, r->key);
	sqlite3_bind_int64(s, 4, version + 1);
	spgw_ledger_bind_text(s, 5, r->day);
	spgw_ledger_bind_text(s, 6, r->digest);
	spgw_ledger_bind_text(s, 7, r->source);
	spgw_ledger_bind_text(s, 8, spgw_ledger_now(l));
	spgw_ledger_bind_text(s, 9, r->bkey && r->bkey[0] ? r->bkey : NULL);
	/* a day rule only matters while the day is unknown */
	spgw_ledger_bind_text(s, 10, r->day ? NULL : r->day_rule);
	spgw_ledger_bind_text(s, 11, r->day ? NULL : r->day_table);
	spgw_ledger_bind_text(s, 12, r->day ? NULL : r->day_ref);
	spgw_ledger_bind_text(s, 13, r->parent_ref && r->parent_ref[0] ? r->parent_table : NULL);
	spgw_ledger_bind_text(s, 14, r->parent_ref && r->parent_ref[0] ? r->parent_ref : NULL);
	if (r->valid == SPGW_VALID_NONE)
		sqlite3_bind_null(s, 15);
	else
		sqlite3_bind_int(s, 15, r->valid == SPGW_VALID_YES);
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		goto fail;
	sd = l->st[LEDGER_ST_PUT_DATA];
	sqlite3_bind_int64(sd, 1, sqlite3_last_insert_rowid(l->db));
	if (r->data)
		sqlite3_bind_text(sd, 2, r->data, (int)r->data_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(sd, 2);
	src = spgw_ledger_step_write(l, sd);
	sqlite3_reset(sd);
	if (src != SQLITE_DONE)
		goto fail;
	src = put_tallies(l, r, version);
	if (src != SQLITE_DONE)
		goto fail;
	*result = version ? SPGW_PUT_VERSION : SPGW_PUT_NEW;
	return SPGW_OK;
fail:
	rc = spgw_ledger_db_fail(l, src, "writing a record to the outbox", err);
	if (r->table && r->key) {
		char key[128];

		snprintf(key, sizeof(key), "%s/%s", r->table, r->key);
		spgw_error_key(err, key);
	}
	return rc;
}

enum spgw_rc spgw_ledger_version_data(struct spgw_ledger *l, int64_t id, char **data,
				      size_t *len, struct spgw_error *err)
{
	static const char sql[] = "SELECT data FROM outbox_data WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	*data = NULL;
	*len = 0;
	if (src == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		src = sqlite3_step(s);
	}
	if (src == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);

		*data = d ? spgw_malloc(n + 1) : NULL;
		if (!*data)
			rc = spgw_error_nomem(err, "reading a record version");
		else {
			memcpy(*data, d, n);
			(*data)[n] = '\0';
			*len = n;
		}
	} else if (src == SQLITE_DONE) {
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, NULL, 0, 0,
				    "outbox version %lld has no data", (long long)id);
	} else {
		rc = spgw_ledger_db_fail(l, src, "reading a record version", err);
	}
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_children_each(struct spgw_ledger *l, const char *region,
				       const char *table, const char *parent_ref,
				       spgw_ledger_child_fn fn, void *ud,
				       struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_CHILDREN];
	enum spgw_rc rc = SPGW_OK;
	int src;

	spgw_ledger_bind_text(s, 1, region);
	spgw_ledger_bind_text(s, 2, table);
	spgw_ledger_bind_text(s, 3, parent_ref);
	while ((src = sqlite3_step(s)) == SQLITE_ROW && !rc)
		rc = fn(ud, (const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1), column_valid(s, 2));
	sqlite3_reset(s);
	if (!rc && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = spgw_ledger_db_fail(l, src, "reading a record's siblings", err);
	return rc;
}

/* ---- quarantine ---- */

enum spgw_rc spgw_ledger_quarantine_put(struct spgw_ledger *l,
					const struct spgw_quarantine_record *q, int64_t *id,
					struct spgw_error *err)
{
	sqlite3_stmt *f = l->st[LEDGER_ST_Q_FIND], *s;
	const void *raw = q->raw ? q->raw : "";
	unsigned char hash[32];
	sqlite3_int64 found = 0;
	enum spgw_rc rc;
	int src;

	rc = spgw_ledger_need_txn(l, "quarantining a record", err);
	if (!rc && q->raw_len > SPGW_MAX_FRAME)
		rc = spgw_error_set(err, SPGW_E_LIMIT, q->source, 0, 0,
				    "a raw record of %zu bytes exceeds SPGW_MAX_FRAME", q->raw_len);
	if (!rc)
		rc = spgw_digest_raw(SPGW_DIGEST_SHA256, raw, q->raw_len, hash, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(f, 1, hash, sizeof(hash), SQLITE_STATIC);
	spgw_ledger_bind_text(f, 2, q->source);
	spgw_ledger_bind_text(f, 3, q->source_table);
	spgw_ledger_bind_text(f, 4, q->table);
	spgw_ledger_bind_text(f, 5, q->key);
	sqlite3_bind_blob(f, 6, raw, (int)q->raw_len, SQLITE_STATIC);
	src = sqlite3_step(f);
	if (src == SQLITE_ROW) {
		found = sqlite3_column_int64(f, 0);
		src = SQLITE_DONE;
	}
	sqlite3_reset(f);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "looking for an identical quarantine entry",
					   err);
	if (found) {
		/* the same record refused again: one entry, counted, with today's reasons */
		s = l->st[LEDGER_ST_Q_SEEN];
		sqlite3_bind_int64(s, 1, found);
		spgw_ledger_bind_text(s, 2, spgw_ledger_now(l));
		spgw_ledger_bind_text(s, 3, q->region);
		spgw_ledger_bind_text(s, 4, q->mapped);
		spgw_ledger_bind_text(s, 5, q->reasons);
		spgw_ledger_bind_text(s, 6, q->wait_ref);
	} else {
		s = l->st[LEDGER_ST_Q_INSERT];
		spgw_ledger_bind_text(s, 1, spgw_ledger_now(l));
		spgw_ledger_bind_text(s, 2, q->source);
		spgw_ledger_bind_text(s, 3, q->region);
		spgw_ledger_bind_text(s, 4, q->source_table);
		spgw_ledger_bind_text(s, 5, q->table);
		spgw_ledger_bind_text(s, 6, q->key);
		sqlite3_bind_blob(s, 7, raw, (int)q->raw_len, SQLITE_STATIC);
		sqlite3_bind_blob(s, 8, hash, sizeof(hash), SQLITE_STATIC);
		spgw_ledger_bind_text(s, 9, q->mapped);
		spgw_ledger_bind_text(s, 10, q->reasons);
		spgw_ledger_bind_text(s, 11, q->wait_ref);
	}
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "writing a quarantine entry", err);
	if (!found)
		found = sqlite3_last_insert_rowid(l->db);
	if (id)
		*id = found;
	return SPGW_OK;
}

/* The ids of the open entries waiting for `wait_ref`: *ids is new (spgw_free). */
static enum spgw_rc waiting_ids(struct spgw_ledger *l, const char *region, const char *table,
				const char *wait_ref, int64_t **ids, size_t *n,
				struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_Q_WAITING];
	int64_t *v = NULL, *nv;
	size_t cap = 0;
	int src;

	*ids = NULL;
	*n = 0;
	spgw_ledger_bind_text(s, 1, region);
	spgw_ledger_bind_text(s, 2, table);
	spgw_ledger_bind_text(s, 3, wait_ref);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			nv = spgw_realloc(v, cap * sizeof(*v));
			if (!nv) {
				sqlite3_reset(s);
				spgw_free(v);
				*n = 0;
				return spgw_error_nomem(err, "reading waiting quarantine entries");
			}
			v = nv;
		}
		v[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE) {
		spgw_free(v);
		*n = 0;
		return spgw_ledger_db_fail(l, src, "reading waiting quarantine entries", err);
	}
	*ids = v;
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_quarantine_waiting(struct spgw_ledger *l, const char *region,
					    const char *table, const char *wait_ref,
					    spgw_ledger_quarantine_fn fn, void *ud, size_t *n,
					    struct spgw_error *err)
{
	int64_t *ids = NULL;
	size_t k = 0, i;
	enum spgw_rc rc = waiting_ids(l, region, table, wait_ref, &ids, &k, err);

	for (i = 0; !rc && i < k; i++)
		rc = spgw_ledger_quarantine_get(l, ids[i], fn, ud, err);
	spgw_free(ids);
	if (n)
		*n = k;
	return rc;
}

/* A quarantine row into the borrowed struct the callbacks see. */
static int q_row(sqlite3_stmt *s, struct spgw_quarantine_row *row)
{
	const char **text[] = { &row->created_at, &row->source, &row->region,
				&row->source_table, &row->table, &row->key };
	int i;

	memset(row, 0, sizeof(*row));
	row->id = sqlite3_column_int64(s, 0);
	for (i = 0; i < 6; i++) {
		*text[i] = (const char *)sqlite3_column_text(s, i + 1);
		if (!*text[i] && sqlite3_column_type(s, i + 1) != SQLITE_NULL)
			return SQLITE_NOMEM;
	}
	row->raw = sqlite3_column_blob(s, 7);
	row->raw_len = (size_t)sqlite3_column_bytes(s, 7);
	if (!row->raw) {
		if (row->raw_len)
			return SQLITE_NOMEM;
		row->raw = "";
	}
	row->mapped = (const char *)sqlite3_column_text(s, 8);
	row->reasons = (const char *)sqlite3_column_text(s, 9);
	if ((!row->mapped && sqlite3_column_type(s, 8) != SQLITE_NULL) ||
	    (!row->reasons && sqlite3_column_type(s, 9) != SQLITE_NULL))
		return SQLITE_NOMEM;
	row->seen = sqlite3_column_int64(s, 10);
	row->resolved = sqlite3_column_int(s, 11) != 0;
	return SQLITE_OK;
}

/* Run a prepared quarantine SELECT, one callback per row (flat memory however many). */
static enum spgw_rc q_iterate(struct spgw_ledger *l, sqlite3_stmt *s,
			      spgw_ledger_quarantine_fn fn, void *ud, size_t *rows,
			      struct spgw_error *err)
{
	struct spgw_quarantine_row row;
	enum spgw_rc rc = SPGW_OK;
	int src;

	*rows = 0;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		src = q_row(s, &row);
		if (src != SQLITE_OK)
			break;
		(*rows)++;
		rc = fn(ud, &row);
		if (rc)
			return rc;
	}
	if (src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading the quarantine", err);
	return rc;
}

enum spgw_rc spgw_ledger_quarantine_each(struct spgw_ledger *l, const char *source,
					 int include_resolved, spgw_ledger_quarantine_fn fn,
					 void *ud, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	size_t rows;
	int src;

	/* prepared per call: a callback may call back into the ledger, even iterate again */
	src = sqlite3_prepare_v2(l->db,
				 "SELECT " Q_COLUMNS " FROM quarantine"
				 " WHERE (?1 IS NULL OR source = ?1) AND (?2 OR resolved = 0)"
				 " ORDER BY id",
				 -1, &s, NULL);
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "reading the quarantine", err);
		goto out;
	}
	spgw_ledger_bind_text(s, 1, source);
	sqlite3_bind_int(s, 2, include_resolved != 0);
	rc = q_iterate(l, s, fn, ud, &rows, err);
out:
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_quarantine_get(struct spgw_ledger *l, int64_t id,
					spgw_ledger_quarantine_fn fn, void *ud,
					struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	size_t rows = 0;
	int src;

	src = sqlite3_prepare_v2(l->db, "SELECT " Q_COLUMNS " FROM quarantine WHERE id = ?1",
				 -1, &s, NULL);
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "reading a quarantine entry", err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = q_iterate(l, s, fn, ud, &rows, err);
	if (!rc && !rows)
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, l->path, 0, 0,
				    "quarantine entry %lld does not exist: see the entries with "
				    "`spgw quarantine list`", (long long)id);
out:
	sqlite3_finalize(s);
	return rc;
}

/* After an UPDATE of an open entry changed nothing: absent, or already resolved? */
static enum spgw_rc q_not_open(struct spgw_ledger *l, int64_t id, int *resolved,
			       struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_Q_STATE];
	enum spgw_rc rc = SPGW_OK;
	int src;

	sqlite3_bind_int64(s, 1, id);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		*resolved = sqlite3_column_int(s, 0) != 0;
	else if (src == SQLITE_DONE)
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, l->path, 0, 0,
				    "quarantine entry %lld does not exist: see the entries with "
				    "`spgw quarantine list`", (long long)id);
	else
		rc = spgw_ledger_db_fail(l, src, "reading a quarantine entry", err);
	sqlite3_reset(s);
	return rc;
}

enum spgw_rc spgw_ledger_quarantine_resolve(struct spgw_ledger *l, int64_t id,
					    struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_Q_RESOLVE];
	enum spgw_rc rc;
	int src, resolved = 0;

	rc = spgw_ledger_need_txn(l, "resolving a quarantine entry", err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	spgw_ledger_bind_text(s, 2, spgw_ledger_now(l));
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "resolving a quarantine entry", err);
	/* resolving an entry twice is harmless: a replay may meet one already resolved */
	if (sqlite3_changes(l->db) == 0)
		return q_not_open(l, id, &resolved, err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_quarantine_update(struct spgw_ledger *l, int64_t id, const char *mapped,
					   const char *reasons, struct spgw_error *err)
{
	sqlite3_stmt *s = l->st[LEDGER_ST_Q_UPDATE];
	enum spgw_rc rc;
	int src, resolved = 0;

	rc = spgw_ledger_need_txn(l, "updating a quarantine entry", err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	spgw_ledger_bind_text(s, 2, mapped);
	spgw_ledger_bind_text(s, 3, reasons);
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "updating a quarantine entry", err);
	if (sqlite3_changes(l->db) > 0)
		return SPGW_OK;
	rc = q_not_open(l, id, &resolved, err);
	if (!rc && resolved)
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, l->path, 0, 0,
				    "quarantine entry %lld is already resolved: its record is in "
				    "the outbox, so its reasons are kept as they were",
				    (long long)id);
	return rc;
}

/* ---- counts ---- */

enum spgw_rc spgw_ledger_counts(struct spgw_ledger *l, spgw_ledger_count_fn fn, void *ud,
				struct spgw_error *err)
{
	/* Outbox rows are record versions: "pending 3" is three versions still to send. */
	static const char sql[] =
		"SELECT source, region, spgl_table, state, count(*) FROM outbox"
		" GROUP BY source, region, spgl_table, state"
		" UNION ALL "
		"SELECT source, region, coalesce(spgl_table, source_table, ''), 'quarantined',"
		" count(*) FROM quarantine WHERE resolved = 0"
		" GROUP BY 1, 2, 3"
		" ORDER BY 1, 2, 3, 4";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src;

	src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *c[4];
		int i;

		for (i = 0; i < 4; i++) {
			c[i] = (const char *)sqlite3_column_text(s, i);
			if (!c[i] && sqlite3_column_type(s, i) != SQLITE_NULL)
				break;
		}
		if (i < 4) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, c[0], c[1], c[2], c[3], sqlite3_column_int64(s, 4));
		if (rc)
			goto out;
		src = SQLITE_OK;
	}
	if (src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "counting the ledger's records", err);
out:
	sqlite3_finalize(s);
	return rc;
}
