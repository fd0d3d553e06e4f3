/* The ledger's side of reconciliation (ledger_recon.h). */
#include "ledger_recon.h"

#include <stdio.h>
#include <string.h>

#include "ledger_int.h"

/* Runs kept: a year of daily reconciliations, with room for those run by hand. */
#define RUNS_KEPT 400

enum {
	LAZY_KEY_STATE,
	LAZY_REQUEUE,
	LAZY_DAY_ROW,
	LAZY_KEY_ROW,
	LAZY_DAY_KEYS,
};

sqlite3_stmt *spgw_ledger_lazy(struct spgw_ledger *l, int slot, const char *sql, int *src)
{
	sqlite3_stmt *s = l->lazy[slot];

	*src = SQLITE_OK;
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	*src = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (*src != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	l->lazy[slot] = s;
	return s;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

enum spgw_rc spgw_ledger_day_counts(struct spgw_ledger *l, const char *region, const char *table,
				    const char *from, const char *to, spgw_ledger_day_fn fn,
				    void *ud, struct spgw_error *err)
{
	static const char sql[] =
		"SELECT region, spgl_table, day,"
		" sum(n) FILTER (WHERE kind = 'delivered'), sum(n) FILTER (WHERE kind = 'valid'),"
		" sum(n) FILTER (WHERE kind = 'pending'), sum(n) FILTER (WHERE kind = 'dead')"
		" FROM keyday WHERE (?1 IS NULL OR region = ?1) AND (?2 IS NULL OR spgl_table = ?2)"
		" AND day >= ?3 AND day <= ?4 GROUP BY region, spgl_table, day"
		" HAVING sum(abs(n)) > 0 ORDER BY region, spgl_table, day";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, region);
		spgw_ledger_bind_text(s, 2, table);
		spgw_ledger_bind_text(s, 3, from);
		spgw_ledger_bind_text(s, 4, to);
	}
	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_day_count c;

		c.region = col(s, 0);
		c.table = col(s, 1);
		c.day = col(s, 2);
		c.delivered = sqlite3_column_int64(s, 3);
		c.valid = sqlite3_column_int64(s, 4);
		c.pending = sqlite3_column_int64(s, 5);
		c.dead = sqlite3_column_int64(s, 6);
		if (!c.region || !c.table || !c.day) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &c);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "counting the ledger's keys per day", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_day_keys(struct spgw_ledger *l, const char *region, const char *table,
				  const char *day, spgw_ledger_day_key_fn fn, void *ud,
				  struct spgw_error *err)
{
	/* A key's newest delivered version when it is on the day, and its newest version when
	 * that one waits or is dead on the day: the same rows the keyday tallies count. */
	static const char sql[] =
		"SELECT o.record_key, o.digest, o.state, o.version FROM outbox o INDEXED BY outbox_day"
		" WHERE o.region = ?1 AND o.spgl_table = ?2 AND o.day = ?3 AND ("
		"  (o.state = 'delivered' AND NOT EXISTS (SELECT 1 FROM outbox x"
		"   WHERE x.region = o.region AND x.spgl_table = o.spgl_table"
		"   AND x.record_key = o.record_key AND x.version > o.version"
		"   AND x.state = 'delivered'))"
		"  OR (o.state IN ('pending', 'dead') AND NOT EXISTS (SELECT 1 FROM outbox x"
		"   WHERE x.region = o.region AND x.spgl_table = o.spgl_table"
		"   AND x.record_key = o.record_key AND x.version > o.version)))"
		" ORDER BY o.record_key, o.version";
	enum spgw_rc rc = SPGW_OK;
	int src;
	sqlite3_stmt *s = spgw_ledger_lazy(l, LAZY_DAY_KEYS, sql, &src);

	if (s) {
		spgw_ledger_bind_text(s, 1, region);
		spgw_ledger_bind_text(s, 2, table);
		spgw_ledger_bind_text(s, 3, day);
	}
	while (s && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_day_key k;

		k.key = col(s, 0);
		k.digest = col(s, 1);
		k.state = col(s, 2);
		k.version = sqlite3_column_int64(s, 3);
		if (!k.key || !k.digest || !k.state) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &k);
		if (rc)
			break;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "listing a day's keys", err);
	if (s)
		sqlite3_reset(s);
	return rc;
}

enum spgw_rc spgw_ledger_key_state(struct spgw_ledger *l, const char *region, const char *table,
				   const char *key, struct spgw_key_state *out,
				   struct spgw_error *err)
{
	static const char sql[] =
		"SELECT version, state, coalesce(day, ''),"
		" (SELECT max(d.version) FROM outbox d WHERE d.region = ?1 AND d.spgl_table = ?2"
		"  AND d.record_key = ?3 AND d.state = 'delivered'),"
		" (SELECT coalesce(d.day, '') FROM outbox d WHERE d.region = ?1"
		"  AND d.spgl_table = ?2 AND d.record_key = ?3 AND d.state = 'delivered'"
		"  ORDER BY d.version DESC LIMIT 1)"
		" FROM outbox WHERE region = ?1 AND spgl_table = ?2 AND record_key = ?3"
		" ORDER BY version DESC LIMIT 1";
	int src;
	sqlite3_stmt *s = spgw_ledger_lazy(l, LAZY_KEY_STATE, sql, &src);

	memset(out, 0, sizeof(*out));
	if (!s)
		return spgw_ledger_db_fail(l, src, "looking a key up", err);
	spgw_ledger_bind_text(s, 1, region);
	spgw_ledger_bind_text(s, 2, table);
	spgw_ledger_bind_text(s, 3, key);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		out->found = 1;
		out->version = sqlite3_column_int64(s, 0);
		snprintf(out->state, sizeof(out->state), "%s", col(s, 1) ? col(s, 1) : "");
		snprintf(out->day, sizeof(out->day), "%s", col(s, 2) ? col(s, 2) : "");
		out->delivered_version = sqlite3_column_int64(s, 3);
		snprintf(out->delivered_day, sizeof(out->delivered_day), "%s",
			 col(s, 4) ? col(s, 4) : "");
		src = SQLITE_DONE;
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "looking a key up", err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_requeue(struct spgw_ledger *l, const char *region, const char *table,
				 const char *key, int *queued, struct spgw_error *err)
{
	/* only the newest version, and only when it is delivered: a waiting or dead one is
	 * left alone, so a repair run twice queues nothing the second time */
	static const char sql[] =
		"UPDATE outbox SET state = 'pending', batch_id = NULL, delivered_at = NULL"
		" WHERE region = ?1 AND spgl_table = ?2 AND record_key = ?3 AND state = 'delivered'"
		" AND version = (SELECT max(version) FROM outbox WHERE region = ?1"
		" AND spgl_table = ?2 AND record_key = ?3)";
	int src;
	sqlite3_stmt *s = spgw_ledger_lazy(l, LAZY_REQUEUE, sql, &src);

	*queued = 0;
	if (!s)
		return spgw_ledger_db_fail(l, src, "queueing a record again", err);
	spgw_ledger_bind_text(s, 1, region);
	spgw_ledger_bind_text(s, 2, table);
	spgw_ledger_bind_text(s, 3, key);
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "queueing a record again", err);
	*queued = sqlite3_changes(l->db) > 0;
	return SPGW_OK;
}

/* ---- stored results ---- */

enum spgw_rc spgw_ledger_recon_begin(struct spgw_ledger *l, const struct spgw_recon_run *r,
				     int64_t *id, struct spgw_error *err)
{
	static const char ins[] =
		"INSERT INTO recon_runs (started_at, from_day, to_day, regions, tables, detail,"
		" repair) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char prune[] =
		"DELETE FROM recon_runs WHERE id <= (SELECT id FROM recon_runs ORDER BY id DESC"
		" LIMIT 1 OFFSET ?1)";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	/* the days and keys of pruned runs go with them (ON DELETE CASCADE) */
	src = sqlite3_exec(l->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(l->db, prune, -1, &s, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int(s, 1, RUNS_KEPT - 1);
		src = spgw_ledger_step_write(l, s);
		src = src == SQLITE_DONE ? SQLITE_OK : src;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(l->db, ins, -1, &s, NULL);
	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, r->started_at ? r->started_at : spgw_ledger_now(l));
		spgw_ledger_bind_text(s, 2, r->from);
		spgw_ledger_bind_text(s, 3, r->to);
		spgw_ledger_bind_text(s, 4, r->regions);
		spgw_ledger_bind_text(s, 5, r->tables);
		sqlite3_bind_int(s, 6, r->detail);
		sqlite3_bind_int(s, 7, r->repair);
		src = spgw_ledger_step_write(l, s);
		src = src == SQLITE_DONE ? SQLITE_OK : src;
	}
	sqlite3_finalize(s);
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "starting a reconciliation record", err);
		spgw_ledger_rollback(l);
		return rc;
	}
	*id = sqlite3_last_insert_rowid(l->db);
	return spgw_ledger_commit(l, err);
}

enum spgw_rc spgw_ledger_recon_add_day(struct spgw_ledger *l, int64_t id,
				       const struct spgw_recon_day *d, struct spgw_error *err)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO recon_days (run, region, spgl_table, day, city, city_note,"
		" delivered, valid, pending, dead, national, national_valid, national_note, status,"
		" held, quarantined, note)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
	int src;
	sqlite3_stmt *s = spgw_ledger_lazy(l, LAZY_DAY_ROW, sql, &src);

	if (!s)
		return spgw_ledger_db_fail(l, src, "keeping a reconciliation result", err);
	sqlite3_bind_int64(s, 1, id);
	spgw_ledger_bind_text(s, 2, d->region);
	spgw_ledger_bind_text(s, 3, d->table);
	spgw_ledger_bind_text(s, 4, d->day);
	if (d->city >= 0)
		sqlite3_bind_int64(s, 5, d->city);
	spgw_ledger_bind_text(s, 6, d->city_note);
	sqlite3_bind_int64(s, 7, d->delivered);
	sqlite3_bind_int64(s, 8, d->valid);
	sqlite3_bind_int64(s, 9, d->pending);
	sqlite3_bind_int64(s, 10, d->dead);
	if (d->national >= 0) {
		sqlite3_bind_int64(s, 11, d->national);
		sqlite3_bind_int64(s, 12, d->national_valid);
	}
	spgw_ledger_bind_text(s, 13, d->national_note);
	spgw_ledger_bind_text(s, 14, d->status);
	sqlite3_bind_int64(s, 15, d->held);
	sqlite3_bind_int64(s, 16, d->quarantined);
	spgw_ledger_bind_text(s, 17, d->note);
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "keeping a reconciliation result", err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_recon_add_key(struct spgw_ledger *l, int64_t id,
				       const struct spgw_recon_key *k, struct spgw_error *err)
{
	static const char sql[] =
		"INSERT INTO recon_keys (run, region, spgl_table, day, record_key, kind,"
		" ledger_digest, national_digest, action) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	int src;
	sqlite3_stmt *s = spgw_ledger_lazy(l, LAZY_KEY_ROW, sql, &src);

	if (!s)
		return spgw_ledger_db_fail(l, src, "keeping a differing key", err);
	sqlite3_bind_int64(s, 1, id);
	spgw_ledger_bind_text(s, 2, k->region);
	spgw_ledger_bind_text(s, 3, k->table);
	spgw_ledger_bind_text(s, 4, k->day);
	spgw_ledger_bind_text(s, 5, k->key);
	spgw_ledger_bind_text(s, 6, k->kind);
	spgw_ledger_bind_text(s, 7, k->ledger_digest);
	spgw_ledger_bind_text(s, 8, k->national_digest);
	spgw_ledger_bind_text(s, 9, k->action);
	src = spgw_ledger_step_write(l, s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "keeping a differing key", err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_recon_finish(struct spgw_ledger *l, int64_t id, int64_t differences,
				      const char *result, const char *message,
				      struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(l->db,
				     "UPDATE recon_runs SET finished_at = ?2, differences = ?3,"
				     " result = ?4, message = ?5 WHERE id = ?1",
				     -1, &s, NULL);

	if (src == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		spgw_ledger_bind_text(s, 2, spgw_ledger_now(l));
		sqlite3_bind_int64(s, 3, differences);
		spgw_ledger_bind_text(s, 4, result);
		spgw_ledger_bind_text(s, 5, message);
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "finishing a reconciliation record", err);
	return SPGW_OK;
}

static void run_row(sqlite3_stmt *s, struct spgw_recon_run *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->started_at = col(s, 1);
	r->finished_at = col(s, 2);
	r->from = col(s, 3);
	r->to = col(s, 4);
	r->regions = col(s, 5);
	r->tables = col(s, 6);
	r->detail = sqlite3_column_int(s, 7);
	r->repair = sqlite3_column_int(s, 8);
	r->differences = sqlite3_column_int64(s, 9);
	r->result = col(s, 10);
	r->message = col(s, 11);
}

#define RUN_COLUMNS                                                                        \
	"id, started_at, finished_at, from_day, to_day, regions, tables, detail, repair,"  \
	" differences, result, message"

enum spgw_rc spgw_ledger_recon_runs(struct spgw_ledger *l, int limit, spgw_ledger_recon_run_fn fn,
				    void *ud, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db,
				     "SELECT " RUN_COLUMNS " FROM recon_runs ORDER BY id DESC"
				     " LIMIT ?1",
				     -1, &s, NULL);

	if (src == SQLITE_OK)
		sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_recon_run r;

		run_row(s, &r);
		if (!r.started_at || !r.from || !r.to || !r.result) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &r);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading reconciliation runs", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_recon_load(struct spgw_ledger *l, int64_t id,
				    spgw_ledger_recon_run_fn run_fn, spgw_ledger_recon_day_fn day_fn,
				    spgw_ledger_recon_key_fn key_fn, void *ud,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src, found = 0;

	src = sqlite3_prepare_v2(l->db, "SELECT " RUN_COLUMNS " FROM recon_runs WHERE id = ?1", -1,
				 &s, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		src = sqlite3_step(s);
	}
	if (src == SQLITE_ROW) {
		struct spgw_recon_run r;

		found = 1;
		run_row(s, &r);
		rc = run_fn ? run_fn(ud, &r) : SPGW_OK;
		src = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!rc && src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "reading a reconciliation run", err);
	if (!rc && !found)
		return spgw_error_set(err, SPGW_E_NOTFOUND, l->path, 0, 0,
				      "there is no reconciliation run %lld (spgw reconcile "
				      "--history lists them)",
				      (long long)id);
	if (!rc && day_fn) {
		src = sqlite3_prepare_v2(l->db,
					 "SELECT region, spgl_table, day, city, city_note, delivered,"
					 " valid, pending, dead, national, national_valid,"
					 " national_note, status, held, quarantined, note"
					 " FROM recon_days WHERE run = ?1"
					 " ORDER BY region, spgl_table, day",
					 -1, &s, NULL);
		if (src == SQLITE_OK)
			sqlite3_bind_int64(s, 1, id);
		while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
			struct spgw_recon_day d;

			d.region = col(s, 0);
			d.table = col(s, 1);
			d.day = col(s, 2);
			d.city = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1
									  : sqlite3_column_int64(s, 3);
			d.city_note = col(s, 4);
			d.delivered = sqlite3_column_int64(s, 5);
			d.valid = sqlite3_column_int64(s, 6);
			d.pending = sqlite3_column_int64(s, 7);
			d.dead = sqlite3_column_int64(s, 8);
			d.national = sqlite3_column_type(s, 9) == SQLITE_NULL
					     ? -1
					     : sqlite3_column_int64(s, 9);
			d.national_valid = sqlite3_column_int64(s, 10);
			d.national_note = col(s, 11);
			d.status = col(s, 12);
			d.held = sqlite3_column_int64(s, 13);
			d.quarantined = sqlite3_column_int64(s, 14);
			d.note = col(s, 15);
			rc = day_fn(ud, &d);
			if (rc)
				break;
			src = SQLITE_OK;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (!rc && src != SQLITE_DONE)
			return spgw_ledger_db_fail(l, src, "reading a reconciliation run", err);
	}
	if (!rc && key_fn) {
		src = sqlite3_prepare_v2(l->db,
					 "SELECT region, spgl_table, day, record_key, kind,"
					 " ledger_digest, national_digest, action FROM recon_keys"
					 " WHERE run = ?1 ORDER BY region, spgl_table, day, record_key",
					 -1, &s, NULL);
		if (src == SQLITE_OK)
			sqlite3_bind_int64(s, 1, id);
		while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
			struct spgw_recon_key k;

			k.region = col(s, 0);
			k.table = col(s, 1);
			k.day = col(s, 2);
			k.key = col(s, 3);
			k.kind = col(s, 4);
			k.ledger_digest = col(s, 5);
			k.national_digest = col(s, 6);
			k.action = col(s, 7);
			rc = key_fn(ud, &k);
			if (rc)
				break;
			src = SQLITE_OK;
		}
		sqlite3_finalize(s);
		if (!rc && src != SQLITE_DONE)
			return spgw_ledger_db_fail(l, src, "reading a reconciliation run", err);
	}
	return rc;
}
