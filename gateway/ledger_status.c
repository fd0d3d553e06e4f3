/*
 * What operations read and the daemon writes about itself (ledger.h, "Operations"): each
 * pull's outcome, the schedule, the heartbeat, alarms, and the per-table figures of
 * `spgw status` from the tallies migration 7 keeps, so a status costs a few index seeks
 * whether the outbox holds a thousand versions or ten million.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger_int.h"

/* Runs kept per source: enough for weeks of five-minute pulls, a bounded table either way. */
#define RUNS_KEPT 1000

void spgw_ledger_shrink(struct spgw_ledger *l)
{
	if (l && l->db && !l->in_txn)
		sqlite3_db_release_memory(l->db);
}

const char *spgw_ledger_dir(const struct spgw_ledger *l)
{
	return l->dir;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Run `sql` (bound by the caller through `bind`) as one write in its own transaction. */
static enum spgw_rc write_one(struct spgw_ledger *l, sqlite3_stmt *s, const char *what,
			      struct spgw_error *err)
{
	int src = spgw_ledger_step_write(l, s);

	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return spgw_ledger_db_fail(l, src, what, err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_run_add(struct spgw_ledger *l, const struct spgw_run_row *r,
				 struct spgw_error *err)
{
	static const char ins[] =
		"INSERT INTO runs (source, kind, started_at, finished_at, result, error_code,"
		" records, added, changed, quarantined, message)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	static const char prune[] =
		"DELETE FROM runs WHERE source = ?1 AND id <= (SELECT id FROM runs WHERE source = ?1"
		" ORDER BY id DESC LIMIT 1 OFFSET ?2)";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	src = sqlite3_prepare_v2(l->db, ins, -1, &s, NULL);
	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, r->source);
		spgw_ledger_bind_text(s, 2, r->kind);
		spgw_ledger_bind_text(s, 3, r->started_at);
		spgw_ledger_bind_text(s, 4, r->finished_at);
		spgw_ledger_bind_text(s, 5, r->result);
		sqlite3_bind_int(s, 6, r->error_code);
		sqlite3_bind_int64(s, 7, r->records);
		sqlite3_bind_int64(s, 8, r->added);
		sqlite3_bind_int64(s, 9, r->changed);
		sqlite3_bind_int64(s, 10, r->quarantined);
		spgw_ledger_bind_text(s, 11, r->message);
		rc = write_one(l, s, "recording a pull's outcome", err);
	} else {
		rc = spgw_ledger_db_fail(l, src, "recording a pull's outcome", err);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!rc) {
		src = sqlite3_prepare_v2(l->db, prune, -1, &s, NULL);
		if (src == SQLITE_OK) {
			spgw_ledger_bind_text(s, 1, r->source);
			sqlite3_bind_int(s, 2, RUNS_KEPT);
			rc = write_one(l, s, "pruning old pull outcomes", err);
		} else {
			rc = spgw_ledger_db_fail(l, src, "pruning old pull outcomes", err);
		}
		sqlite3_finalize(s);
	}
	if (rc) {
		spgw_ledger_rollback(l);
		return rc;
	}
	return spgw_ledger_commit(l, err);
}

enum spgw_rc spgw_ledger_last_runs(struct spgw_ledger *l, spgw_ledger_last_run_fn fn, void *ud,
				   struct spgw_error *err)
{
	/* The newest run per source, and how many runs in a row ended with its result: the
	 * runs after the newest one with another result. Both by runs_source. */
	static const char sql[] =
		"SELECT r.source, r.kind, r.started_at, r.finished_at, r.result, r.error_code,"
		" r.records, r.added, r.changed, r.quarantined, r.message,"
		" (SELECT count(*) FROM runs x WHERE x.source = r.source AND x.id > coalesce("
		"   (SELECT max(y.id) FROM runs y WHERE y.source = r.source"
		"    AND y.result <> r.result), 0))"
		" FROM runs r WHERE r.id = (SELECT max(z.id) FROM runs z WHERE z.source = r.source)"
		" ORDER BY r.source";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_run_row r;

		memset(&r, 0, sizeof(r));
		r.source = col(s, 0);
		r.kind = col(s, 1);
		r.started_at = col(s, 2);
		r.finished_at = col(s, 3);
		r.result = col(s, 4);
		r.error_code = sqlite3_column_int(s, 5);
		r.records = sqlite3_column_int64(s, 6);
		r.added = sqlite3_column_int64(s, 7);
		r.changed = sqlite3_column_int64(s, 8);
		r.quarantined = sqlite3_column_int64(s, 9);
		r.message = col(s, 10);
		if (!r.source || !r.kind || !r.result) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &r, sqlite3_column_int64(s, 11));
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading pull outcomes", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_schedule_replace(struct spgw_ledger *l, const struct spgw_schedule_row *rows,
					  size_t n, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	size_t i;
	int src;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	src = sqlite3_prepare_v2(l->db, "DELETE FROM schedule", -1, &s, NULL);
	rc = src == SQLITE_OK ? write_one(l, s, "storing the schedule", err)
			      : spgw_ledger_db_fail(l, src, "storing the schedule", err);
	sqlite3_finalize(s);
	s = NULL;
	if (!rc) {
		src = sqlite3_prepare_v2(l->db,
					 "INSERT INTO schedule (source, cron, next_at, running,"
					 " updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
					 -1, &s, NULL);
		if (src != SQLITE_OK)
			rc = spgw_ledger_db_fail(l, src, "storing the schedule", err);
	}
	for (i = 0; !rc && i < n; i++) {
		sqlite3_reset(s);
		spgw_ledger_bind_text(s, 1, rows[i].source);
		spgw_ledger_bind_text(s, 2, rows[i].cron);
		spgw_ledger_bind_text(s, 3, rows[i].next_at);
		sqlite3_bind_int(s, 4, rows[i].running);
		spgw_ledger_bind_text(s, 5, spgw_ledger_now(l));
		rc = write_one(l, s, "storing the schedule", err);
	}
	sqlite3_finalize(s);
	if (rc) {
		spgw_ledger_rollback(l);
		return rc;
	}
	return spgw_ledger_commit(l, err);
}

enum spgw_rc spgw_ledger_schedule_each(struct spgw_ledger *l, spgw_ledger_schedule_fn fn, void *ud,
				       struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db,
				     "SELECT source, cron, next_at, running FROM schedule"
				     " ORDER BY source",
				     -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_schedule_row r;

		r.source = col(s, 0);
		r.cron = col(s, 1);
		r.next_at = col(s, 2);
		r.running = sqlite3_column_int(s, 3);
		if (!r.source || !r.cron) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &r);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading the schedule", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_daemon_beat(struct spgw_ledger *l, const struct spgw_daemon_row *d,
				     struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src = sqlite3_prepare_v2(l->db,
				     "INSERT INTO daemon (id, pid, started_at, beat_at, config, state)"
				     " VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET"
				     " pid = ?1, started_at = ?2, beat_at = ?3, config = ?4,"
				     " state = ?5",
				     -1, &s, NULL);

	if (src != SQLITE_OK) {
		sqlite3_finalize(s);
		return spgw_ledger_db_fail(l, src, "storing the daemon's heartbeat", err);
	}
	sqlite3_bind_int64(s, 1, d->pid);
	spgw_ledger_bind_text(s, 2, d->started_at);
	spgw_ledger_bind_text(s, 3, d->beat_at ? d->beat_at : spgw_ledger_now(l));
	spgw_ledger_bind_text(s, 4, d->config);
	spgw_ledger_bind_text(s, 5, d->state);
	rc = write_one(l, s, "storing the daemon's heartbeat", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_daemon_get(struct spgw_ledger *l, spgw_ledger_daemon_fn fn, void *ud,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db,
				     "SELECT pid, started_at, beat_at, config, state FROM daemon",
				     -1, &s, NULL);

	if (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_daemon_row d;

		d.pid = sqlite3_column_int64(s, 0);
		d.started_at = col(s, 1);
		d.beat_at = col(s, 2);
		d.config = col(s, 3);
		d.state = col(s, 4);
		rc = d.started_at && d.beat_at && d.config && d.state ? fn(ud, &d) : SPGW_E_NOMEM;
		if (rc == SPGW_E_NOMEM)
			spgw_error_nomem(err, "reading the daemon's heartbeat");
		src = SQLITE_DONE;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading the daemon's heartbeat", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_alarm_raise(struct spgw_ledger *l, const char *name, const char *subject,
				     const char *message, int *is_new, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src;

	src = sqlite3_prepare_v2(l->db,
				 "INSERT INTO alarms (name, subject, message, raised_at, seen_at)"
				 " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO UPDATE SET"
				 " message = ?3, seen_at = ?4",
				 -1, &s, NULL);
	if (src != SQLITE_OK) {
		sqlite3_finalize(s);
		return spgw_ledger_db_fail(l, src, "raising an alarm", err);
	}
	spgw_ledger_bind_text(s, 1, name);
	spgw_ledger_bind_text(s, 2, subject ? subject : "");
	spgw_ledger_bind_text(s, 3, message);
	spgw_ledger_bind_text(s, 4, spgw_ledger_now(l));
	{
		/* new or kept up: an upsert counts one change either way, so ask first */
		sqlite3_stmt *q = NULL;
		int up = 0;

		if (sqlite3_prepare_v2(l->db, "SELECT 1 FROM alarms WHERE name = ?1 AND subject = ?2",
				       -1, &q, NULL) == SQLITE_OK) {
			spgw_ledger_bind_text(q, 1, name);
			spgw_ledger_bind_text(q, 2, subject ? subject : "");
			up = sqlite3_step(q) == SQLITE_ROW;
		}
		sqlite3_finalize(q);
		if (is_new)
			*is_new = !up;
	}
	rc = write_one(l, s, "raising an alarm", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_alarm_clear(struct spgw_ledger *l, const char *name, const char *subject,
				     int *cleared, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src = sqlite3_prepare_v2(l->db,
				     "DELETE FROM alarms WHERE name = ?1 AND (?2 IS NULL OR"
				     " subject = ?2)",
				     -1, &s, NULL);

	if (src != SQLITE_OK) {
		sqlite3_finalize(s);
		return spgw_ledger_db_fail(l, src, "clearing an alarm", err);
	}
	spgw_ledger_bind_text(s, 1, name);
	spgw_ledger_bind_text(s, 2, subject);
	rc = write_one(l, s, "clearing an alarm", err);
	if (cleared)
		*cleared = rc ? 0 : sqlite3_changes(l->db);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_alarm_each(struct spgw_ledger *l, spgw_ledger_alarm_fn fn, void *ud,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db,
				     "SELECT name, subject, message, raised_at, seen_at FROM alarms"
				     " ORDER BY raised_at, name, subject",
				     -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_alarm_row a;

		a.name = col(s, 0);
		a.subject = col(s, 1);
		a.message = col(s, 2);
		a.raised_at = col(s, 3);
		a.seen_at = col(s, 4);
		if (!a.name || !a.subject || !a.message || !a.raised_at || !a.seen_at) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &a);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading alarms", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_table_status(struct spgw_ledger *l, const char *today,
				      spgw_ledger_table_status_fn fn, void *ud,
				      struct spgw_error *err)
{
	/* Every (region, table) the tallies or the open quarantine know; the oldest waiting
	 * version by outbox_ready (the first row of the group in id order). */
	static const char sql[] =
		"WITH qc (region, spgl_table, n) AS ("
		"  SELECT coalesce(region, ''), coalesce(spgl_table, source_table, ''), count(*)"
		"  FROM quarantine INDEXED BY quarantine_open WHERE resolved = 0 GROUP BY 1, 2),"
		" g (region, spgl_table) AS ("
		"  SELECT region, spgl_table FROM tally UNION SELECT region, spgl_table FROM qc)"
		" SELECT g.region, g.spgl_table,"
		" (SELECT n FROM tally t WHERE t.region = g.region AND t.spgl_table = g.spgl_table"
		"  AND t.phase = 'pending'),"
		" (SELECT n FROM tally t WHERE t.region = g.region AND t.spgl_table = g.spgl_table"
		"  AND t.phase = 'held'),"
		" (SELECT n FROM tally t WHERE t.region = g.region AND t.spgl_table = g.spgl_table"
		"  AND t.phase = 'in_flight'),"
		" (SELECT n FROM tally t WHERE t.region = g.region AND t.spgl_table = g.spgl_table"
		"  AND t.phase = 'delivered'),"
		" (SELECT n FROM tally t WHERE t.region = g.region AND t.spgl_table = g.spgl_table"
		"  AND t.phase = 'dead'),"
		" (SELECT n FROM tally_day d WHERE d.region = g.region"
		"  AND d.spgl_table = g.spgl_table AND d.day = ?1),"
		" (SELECT n FROM qc WHERE qc.region = g.region AND qc.spgl_table = g.spgl_table),"
		" (SELECT o.created_at FROM outbox o INDEXED BY outbox_ready"
		"  WHERE o.region = g.region AND o.spgl_table = g.spgl_table"
		"  AND o.state = 'pending' AND o.batch_id IS NULL ORDER BY o.id LIMIT 1)"
		" FROM g ORDER BY g.region, g.spgl_table";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK)
		spgw_ledger_bind_text(s, 1, today);
	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_table_status t;

		t.region = col(s, 0);
		t.table = col(s, 1);
		t.pending = sqlite3_column_int64(s, 2);
		t.held = sqlite3_column_int64(s, 3);
		t.in_flight = sqlite3_column_int64(s, 4);
		t.delivered = sqlite3_column_int64(s, 5);
		t.dead = sqlite3_column_int64(s, 6);
		t.delivered_today = sqlite3_column_int64(s, 7);
		t.quarantined = sqlite3_column_int64(s, 8);
		t.oldest_pending_at = col(s, 9);
		if (!t.region || !t.table) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &t);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading the status figures", err);
	sqlite3_finalize(s);
	return rc;
}

int64_t spgw_ledger_size(struct spgw_ledger *l)
{
	char wal[4200];
	struct stat st;
	int64_t n = 0;

	if (stat(l->path, &st) == 0)
		n += (int64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", l->path);
	if (stat(wal, &st) == 0)
		n += (int64_t)st.st_size;
	return n;
}
