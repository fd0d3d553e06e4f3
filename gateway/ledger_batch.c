/*
 * The ledger's delivery side (see ledger.h, "Delivery"): which records are ready to send,
 * batches stored before they are sent, the national answers that settle them, dead letters
 * and receipts.
 *
 * Every state change that the national platform's answer causes happens in one transaction
 * with the receipt that proves it, so a crash leaves either the whole answer applied or none
 * of it, and the batch is then resent with the same id and bytes (PROTOCOL.md §2: the
 * national side answers a resent batch with its first answer).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ledger_int.h"
#include "mem.h"

/* Run `sql` with up to three text parameters and no result rows (inside a transaction). */
static enum spgw_rc exec3(struct spgw_ledger *l, const char *sql, const char *a, const char *b,
			  const char *c, int64_t *changes, const char *what,
			  struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, a);
		spgw_ledger_bind_text(s, 2, b);
		spgw_ledger_bind_text(s, 3, c);
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, what, err);
	if (changes)
		*changes = sqlite3_changes64(l->db);
	return SPGW_OK;
}

static enum spgw_rc finish(struct spgw_ledger *l, enum spgw_rc rc, struct spgw_error *err)
{
	if (rc == SPGW_OK)
		rc = spgw_ledger_commit(l, err);
	if (rc)
		spgw_ledger_rollback(l);
	return rc;
}

/* ---- days ---- */

/* Inherited days: the newest dated version of the record the day comes from. */
static const char sql_inherit[] =
	"UPDATE outbox SET day = (SELECT p.day FROM outbox p WHERE p.region = outbox.region"
	"  AND p.spgl_table = outbox.day_table AND p.bkey = outbox.day_ref"
	"  AND p.day IS NOT NULL ORDER BY p.version DESC, p.id DESC LIMIT 1)"
	" WHERE day IS NULL AND state = 'pending' AND day_rule = 'inherit'"
	" AND EXISTS (SELECT 1 FROM outbox p WHERE p.region = outbox.region"
	"  AND p.spgl_table = outbox.day_table AND p.bkey = outbox.day_ref"
	"  AND p.day IS NOT NULL)";

/* A record dated by its children (SPGL_XMSPSXBLXXB: its earliest handling step), counting
 * only each child's newest version that is not dead: a corrected typo in an old version's
 * date must not date the parent. */
#define CHILDREN                                                                          \
	" FROM outbox c WHERE c.region = outbox.region"                                   \
	"  AND c.spgl_table = outbox.day_table AND c.parent_table = outbox.spgl_table"    \
	"  AND c.parent_ref = outbox.day_ref AND c.day IS NOT NULL AND c.state <> 'dead'" \
	"  AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.region = c.region"              \
	"   AND n.spgl_table = c.spgl_table AND n.record_key = c.record_key"              \
	"   AND n.version > c.version)"
static const char sql_earliest[] =
	"UPDATE outbox SET day = (SELECT min(c.day)" CHILDREN ")"
	" WHERE day IS NULL AND state = 'pending' AND day_rule = 'earliest_child'"
	" AND EXISTS (SELECT 1" CHILDREN ")";

enum spgw_rc spgw_ledger_resolve_days(struct spgw_ledger *l, int64_t *n, struct spgw_error *err)
{
	int64_t total = 0, a = 0, b = 0;
	enum spgw_rc rc;
	int round;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	/* A day can come through a chain (an attachment inherits from an item case dated by
	 * its earliest step): repeat until nothing changes; the schema is at most a few
	 * levels deep. */
	for (round = 0; round < 8; round++) {
		rc = exec3(l, sql_earliest, NULL, NULL, NULL, &a, "dating records by their children",
			   err);
		if (rc == SPGW_OK)
			rc = exec3(l, sql_inherit, NULL, NULL, NULL, &b,
				   "dating records by their parents", err);
		if (rc)
			break;
		total += a + b;
		if (!a && !b)
			break;
	}
	rc = finish(l, rc, err);
	if (rc == SPGW_OK && n)
		*n = total;
	return rc;
}

/* ---- choosing records ---- */

enum spgw_rc spgw_ledger_ready_groups(struct spgw_ledger *l, spgw_ledger_group_fn fn, void *ud,
				      struct spgw_error *err)
{
	static const char sql[] = "SELECT DISTINCT region, spgl_table FROM outbox"
				  " WHERE state = 'pending' AND batch_id IS NULL"
				  " ORDER BY region, spgl_table";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *region = (const char *)sqlite3_column_text(s, 0);
		const char *table = (const char *)sqlite3_column_text(s, 1);

		if (!region || !table) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, region, table, 0);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "listing what is waiting to be sent", err);
	sqlite3_finalize(s);
	return rc;
}

/* Step `s` (prepared with result `src`) and hand each (id, key, day, digest, data) row to
 * `fn`; SPGW_E_LIMIT from `fn` stops without error. */
static enum spgw_rc each_record(struct spgw_ledger *l, sqlite3_stmt *s, int src,
				spgw_ledger_ready_fn fn, void *ud, struct spgw_error *err)
{
	enum spgw_rc rc = SPGW_OK;

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_ready_record r;

		r.id = sqlite3_column_int64(s, 0);
		r.key = (const char *)sqlite3_column_text(s, 1);
		r.day = (const char *)sqlite3_column_text(s, 2);
		r.digest = (const char *)sqlite3_column_text(s, 3);
		r.data = (const char *)sqlite3_column_text(s, 4);
		r.data_len = (size_t)sqlite3_column_bytes(s, 4);
		if (!r.key || !r.day || !r.digest || !r.data) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &r);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (rc == SPGW_E_LIMIT)
		rc = SPGW_OK;
	else if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading records to send", err);
	return rc;
}

enum spgw_rc spgw_ledger_ready_each(struct spgw_ledger *l, const char *region,
				    const char *table, int64_t after, int limit,
				    spgw_ledger_ready_fn fn, void *ud, struct spgw_error *err)
{
	/* Versions of one key go in order, and a child waits while its parent is pending (in
	 * or out of a batch): the national side checks references against what it holds. */
	static const char sql[] =
		"SELECT o.id, o.record_key, o.day, o.digest, d.data FROM outbox o"
		" JOIN outbox_data d ON d.id = o.id"
		" WHERE o.state = 'pending' AND o.batch_id IS NULL AND o.region = ?1"
		" AND o.spgl_table = ?2 AND o.id > ?3 AND o.day IS NOT NULL"
		/* a first version has no earlier one: skipping the lookup spares a random
		 * seek in the key index, which outgrows the page cache with the backlog */
		" AND (o.version = 1 OR NOT EXISTS (SELECT 1 FROM outbox e"
		"  WHERE e.region = o.region AND e.spgl_table = o.spgl_table"
		"  AND e.record_key = o.record_key AND e.version < o.version"
		"  AND e.state = 'pending'))"
		" AND (o.parent_ref IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p"
		"  WHERE p.region = o.region AND p.spgl_table = o.parent_table"
		"  AND p.bkey = o.parent_ref AND p.state = 'pending'))"
		" ORDER BY o.id LIMIT ?4";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, region);
		spgw_ledger_bind_text(s, 2, table);
		sqlite3_bind_int64(s, 3, after);
		sqlite3_bind_int(s, 4, limit);
	}
	rc = each_record(l, s, src, fn, ud, err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_batch_records(struct spgw_ledger *l, const char *id,
				       spgw_ledger_ready_fn fn, void *ud, struct spgw_error *err)
{
	static const char sql[] =
		"SELECT o.id, o.record_key, o.day, o.digest, d.data FROM outbox o"
		" JOIN outbox_data d ON d.id = o.id"
		" WHERE o.batch_id = ?1 AND o.state = 'pending' ORDER BY o.id";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK)
		spgw_ledger_bind_text(s, 1, id);
	rc = each_record(l, s, src, fn, ud, err);
	sqlite3_finalize(s);
	return rc;
}

/* ---- batches ---- */

enum spgw_rc spgw_ledger_batch_store(struct spgw_ledger *l, const char *id, const char *region,
				     const char *table, const char *schema, const char *body_sm3,
				     const int64_t *ids, size_t n, struct spgw_error *err)
{
	static const char ins[] = "INSERT INTO batches (id, region, spgl_table, schema, body_sm3,"
				  " records, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char mark[] = "UPDATE outbox SET batch_id = ?1"
				   " WHERE id = ?2 AND state = 'pending' AND batch_id IS NULL";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	size_t i;
	int src;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	src = sqlite3_prepare_v2(l->db, ins, -1, &s, NULL);
	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, id);
		spgw_ledger_bind_text(s, 2, region);
		spgw_ledger_bind_text(s, 3, table);
		spgw_ledger_bind_text(s, 4, schema);
		spgw_ledger_bind_text(s, 5, body_sm3);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)n);
		spgw_ledger_bind_text(s, 7, spgw_ledger_now(l));
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (src != SQLITE_DONE) {
		rc = spgw_ledger_db_fail(l, src, "storing a batch before sending it", err);
		goto out;
	}
	src = sqlite3_prepare_v2(l->db, mark, -1, &s, NULL);
	for (i = 0; src == SQLITE_OK && i < n; i++) {
		spgw_ledger_bind_text(s, 1, id);
		sqlite3_bind_int64(s, 2, ids[i]);
		src = spgw_ledger_step_write(l, s);
		sqlite3_reset(s);
		if (src != SQLITE_DONE)
			break;
		if (sqlite3_changes(l->db) != 1) {
			rc = spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
					    "outbox record %lld is no longer waiting to be sent "
					    "(a bug in spgw, or a second spgw on this state "
					    "directory)",
					    (long long)ids[i]);
			goto out;
		}
		src = SQLITE_OK;
	}
	if (src != SQLITE_OK && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "putting records in a batch", err);
out:
	sqlite3_finalize(s);
	return finish(l, rc, err);
}

enum spgw_rc spgw_ledger_batch_open_each(struct spgw_ledger *l, spgw_ledger_batch_fn fn,
					 void *ud, struct spgw_error *err)
{
	static const char sql[] =
		"SELECT id, region, spgl_table, body, records, attempts, state, created_at,"
		" last_status, last_error, schema, body_sm3 FROM batches WHERE state = 'open'"
		" ORDER BY created_at, rowid";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_batch_row b;

		b.id = (const char *)sqlite3_column_text(s, 0);
		b.region = (const char *)sqlite3_column_text(s, 1);
		b.table = (const char *)sqlite3_column_text(s, 2);
		b.body = sqlite3_column_blob(s, 3);
		b.body_len = (size_t)sqlite3_column_bytes(s, 3);
		b.records = sqlite3_column_int64(s, 4);
		b.attempts = sqlite3_column_int64(s, 5);
		b.state = (const char *)sqlite3_column_text(s, 6);
		b.created_at = (const char *)sqlite3_column_text(s, 7);
		b.last_status = sqlite3_column_int(s, 8);
		b.last_error = (const char *)sqlite3_column_text(s, 9);
		b.schema = (const char *)sqlite3_column_text(s, 10);
		b.body_sm3 = (const char *)sqlite3_column_text(s, 11);
		/* an open batch has its body (version 2) or what rebuilds it (version 3) */
		if (!b.id || !b.region || !b.table || !b.state || !b.created_at ||
		    (!b.body && (!b.schema || !b.body_sm3))) {
			rc = spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
					    "open batch %s has neither its body nor its digest: "
					    "the ledger is damaged", b.id ? b.id : "?");
			break;
		}
		rc = fn(ud, &b);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading the batches still to send", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_batch_attempt(struct spgw_ledger *l, const char *id, int status,
				       const char *error, struct spgw_error *err)
{
	static const char sql[] = "UPDATE batches SET attempts = attempts + 1,"
				  " last_status = ?2, last_error = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, id);
		if (status)
			sqlite3_bind_int(s, 2, status);
		else
			sqlite3_bind_null(s, 2);
		spgw_ledger_bind_text(s, 3, error);
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "noting a send attempt", err);
	return SPGW_OK;
}

/* Check that `results` name the batch's records in body (id) order; fill ids[]. */
static enum spgw_rc match_results(struct spgw_ledger *l, const char *id,
				  const struct spgw_record_result *results, size_t n,
				  int64_t *ids, struct spgw_error *err)
{
	static const char sql[] = "SELECT id, record_key FROM outbox WHERE batch_id = ?1"
				  " AND state = 'pending' ORDER BY id";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	size_t i = 0;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src == SQLITE_OK)
		spgw_ledger_bind_text(s, 1, id);
	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 1);

		if (i >= n || !key || !results[i].key || strcmp(key, results[i].key)) {
			rc = spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
					    "batch %s: result %zu names key \"%s\" where the "
					    "batch holds \"%s\"",
					    id, i + 1, i < n && results[i].key ? results[i].key : "",
					    key ? key : "");
			break;
		}
		ids[i++] = sqlite3_column_int64(s, 0);
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading a batch's records", err);
	if (!rc && i != n)
		rc = spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
				    "batch %s holds %zu records waiting for an answer but the "
				    "answer has %zu results",
				    id, i, n);
	sqlite3_finalize(s);
	return rc;
}

static enum spgw_rc store_receipt(struct spgw_ledger *l, const struct spgw_receipt_row *r,
				  struct spgw_error *err)
{
	static const char sql[] =
		"INSERT INTO receipts (batch_id, received_at, content_digest, accepted,"
		" duplicate, rejected, alg, sig, stored_at, national_key) VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, ?7, ?8, ?9, (SELECT id FROM national_keys WHERE pem = ?10))";
	static const char key[] =
		"INSERT INTO national_keys (pem, first_used_at) VALUES (?1, ?2)"
		" ON CONFLICT (pem) DO NOTHING";
	sqlite3_stmt *s = NULL;
	int src = SQLITE_OK;

	if (r->national_key) {
		src = sqlite3_prepare_v2(l->db, key, -1, &s, NULL);
		if (src == SQLITE_OK) {
			spgw_ledger_bind_text(s, 1, r->national_key);
			spgw_ledger_bind_text(s, 2, spgw_ledger_now(l));
			src = spgw_ledger_step_write(l, s);
			src = src == SQLITE_DONE ? SQLITE_OK : src;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 10, r->national_key);
		spgw_ledger_bind_text(s, 1, r->batch_id);
		spgw_ledger_bind_text(s, 2, r->received_at);
		spgw_ledger_bind_text(s, 3, r->content_digest);
		sqlite3_bind_int64(s, 4, r->accepted);
		sqlite3_bind_int64(s, 5, r->duplicate);
		sqlite3_bind_int64(s, 6, r->rejected);
		spgw_ledger_bind_text(s, 7, r->alg);
		spgw_ledger_bind_text(s, 8, r->sig);
		spgw_ledger_bind_text(s, 9, spgw_ledger_now(l));
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "storing a receipt", err);
	return SPGW_OK;
}

static enum spgw_rc settle(struct spgw_ledger *l, const char *id, const char *state,
			   int status, const char *error, int drop_body, struct spgw_error *err)
{
	/* Only an open batch can be settled: an answer is applied once, and a late refusal
	 * of a batch already settled must not rewrite its history. */
	static const char keep[] = "UPDATE batches SET state = ?2, last_error = coalesce(?3,"
				   " last_error), settled_at = ?4, last_status = ?5"
				   " WHERE id = ?1 AND state = 'open'";
	static const char drop[] = "UPDATE batches SET state = ?2, last_error = coalesce(?3,"
				   " last_error), settled_at = ?4, last_status = ?5, body = NULL"
				   " WHERE id = ?1 AND state = 'open'";
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(l->db, drop_body ? drop : keep, -1, &s, NULL);

	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(s, 1, id);
		spgw_ledger_bind_text(s, 2, state);
		spgw_ledger_bind_text(s, 3, error);
		spgw_ledger_bind_text(s, 4, spgw_ledger_now(l));
		if (status)
			sqlite3_bind_int(s, 5, status);
		else
			sqlite3_bind_null(s, 5);
		src = spgw_ledger_step_write(l, s);
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "closing a batch", err);
	if (sqlite3_changes(l->db) != 1)
		return spgw_error_set(err, SPGW_E_INVALID, l->path, 0, 0,
				      "batch %s is not open (already settled, or unknown): its "
				      "answer is not applied twice", id);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_batch_done(struct spgw_ledger *l, const char *id,
				    const struct spgw_record_result *results, size_t n,
				    const struct spgw_receipt_row *receipt, struct spgw_error *err)
{
	static const char ok[] = "UPDATE outbox SET state = 'delivered', delivered_at = ?2"
				 " WHERE batch_id = ?1 AND state = 'pending'";
	static const char bad[] = "UPDATE outbox SET state = 'dead', dead_at = ?2,"
				  " dead_reason = ?3 WHERE id = ?1";
	sqlite3_stmt *sok = NULL, *sbad = NULL;
	int64_t *ids = spgw_calloc(n ? n : 1, sizeof(*ids));
	enum spgw_rc rc;
	size_t i;
	int src;

	if (!ids)
		return spgw_error_nomem(err, "settling a batch");
	rc = spgw_ledger_begin(l, err);
	if (rc) {
		spgw_free(ids);
		return rc;
	}
	rc = match_results(l, id, results, n, ids, err);
	if (rc)
		goto out;
	src = sqlite3_prepare_v2(l->db, ok, -1, &sok, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(l->db, bad, -1, &sbad, NULL);
	/* the rejected ones one by one with their reasons, then the rest of the batch in one
	 * statement: each statement on the outbox runs its tallies' triggers under a statement
	 * journal, so a thousand statements a batch would cost a thousand journals */
	for (i = 0; src == SQLITE_OK && i < n; i++) {
		if (results[i].status != SPGW_REC_REJECTED)
			continue;
		sqlite3_bind_int64(sbad, 1, ids[i]);
		spgw_ledger_bind_text(sbad, 2, spgw_ledger_now(l));
		spgw_ledger_bind_text(sbad, 3, results[i].errors ? results[i].errors : "[]");
		src = spgw_ledger_step_write(l, sbad);
		sqlite3_reset(sbad);
		if (src == SQLITE_DONE)
			src = SQLITE_OK;
	}
	if (src == SQLITE_OK) {
		spgw_ledger_bind_text(sok, 1, id);
		spgw_ledger_bind_text(sok, 2, spgw_ledger_now(l));
		src = spgw_ledger_step_write(l, sok);
		sqlite3_reset(sok);
		if (src == SQLITE_DONE)
			src = SQLITE_OK;
	}
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "marking delivered records", err);
		goto out;
	}
	rc = store_receipt(l, receipt, err);
	if (rc == SPGW_OK)
		rc = settle(l, id, "done", 200, NULL, 1, err);
out:
	sqlite3_finalize(sok);
	sqlite3_finalize(sbad);
	spgw_free(ids);
	return finish(l, rc, err);
}

enum spgw_rc spgw_ledger_batch_dead(struct spgw_ledger *l, const char *id, int status,
				    const char *reason, struct spgw_error *err)
{
	enum spgw_rc rc = spgw_ledger_begin(l, err);

	if (rc)
		return rc;
	rc = exec3(l,
		   "UPDATE outbox SET state = 'dead', dead_at = ?2, dead_reason = ?3"
		   " WHERE batch_id = ?1 AND state = 'pending'",
		   id, spgw_ledger_now(l), reason, NULL, "dead-lettering a batch", err);
	if (rc == SPGW_OK)
		rc = settle(l, id, "dead", status, reason, 0, err);
	return finish(l, rc, err);
}

enum spgw_rc spgw_ledger_batch_release(struct spgw_ledger *l, const char *id, const char *state,
				       const char *why, struct spgw_error *err)
{
	enum spgw_rc rc = spgw_ledger_begin(l, err);

	if (rc)
		return rc;
	rc = exec3(l,
		   "UPDATE outbox SET batch_id = NULL WHERE batch_id = ?1 AND state = 'pending'",
		   id, NULL, NULL, NULL, "giving a batch's records back to the queue", err);
	if (rc == SPGW_OK)
		rc = settle(l, id, state, 0, why, 1, err);
	return finish(l, rc, err);
}

/* ---- dead letters ---- */

#define DEAD_COLUMNS                                                                      \
	"SELECT id, region, spgl_table, record_key, day, digest, source, version, data,"    \
	" dead_reason, batch_id, dead_at FROM outbox_records WHERE state = 'dead'"

static enum spgw_rc dead_iterate(struct spgw_ledger *l, sqlite3_stmt *s,
				 spgw_ledger_dead_fn fn, void *ud, int *found,
				 struct spgw_error *err)
{
	enum spgw_rc rc = SPGW_OK;
	int src;

	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_dead_row r;

		r.id = sqlite3_column_int64(s, 0);
		r.region = (const char *)sqlite3_column_text(s, 1);
		r.table = (const char *)sqlite3_column_text(s, 2);
		r.key = (const char *)sqlite3_column_text(s, 3);
		r.day = (const char *)sqlite3_column_text(s, 4);
		r.digest = (const char *)sqlite3_column_text(s, 5);
		r.source = (const char *)sqlite3_column_text(s, 6);
		r.version = sqlite3_column_int64(s, 7);
		r.data = (const char *)sqlite3_column_text(s, 8);
		r.reason = (const char *)sqlite3_column_text(s, 9);
		r.batch_id = (const char *)sqlite3_column_text(s, 10);
		r.dead_at = (const char *)sqlite3_column_text(s, 11);
		if (!r.region || !r.table || !r.key || !r.digest || !r.source || !r.data) {
			src = SQLITE_NOMEM;
			break;
		}
		if (found)
			*found = 1;
		rc = fn(ud, &r);
		if (rc)
			return rc;
	}
	if (src != SQLITE_DONE)
		return spgw_ledger_db_fail(l, src, "reading dead letters", err);
	return SPGW_OK;
}

enum spgw_rc spgw_ledger_dead_each(struct spgw_ledger *l, const char *region, const char *table,
				   spgw_ledger_dead_fn fn, void *ud, struct spgw_error *err)
{
	static const char sql[] = DEAD_COLUMNS " AND (?1 IS NULL OR region = ?1)"
					       " AND (?2 IS NULL OR spgl_table = ?2) ORDER BY id";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src != SQLITE_OK)
		return spgw_ledger_db_fail(l, src, "reading dead letters", err);
	spgw_ledger_bind_text(s, 1, region);
	spgw_ledger_bind_text(s, 2, table);
	rc = dead_iterate(l, s, fn, ud, NULL, err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_dead_get(struct spgw_ledger *l, int64_t id, spgw_ledger_dead_fn fn,
				  void *ud, struct spgw_error *err)
{
	static const char sql[] = DEAD_COLUMNS " AND id = ?1";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int found = 0, src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (src != SQLITE_OK)
		return spgw_ledger_db_fail(l, src, "reading a dead letter", err);
	sqlite3_bind_int64(s, 1, id);
	rc = dead_iterate(l, s, fn, ud, &found, err);
	sqlite3_finalize(s);
	if (rc == SPGW_OK && !found)
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, NULL, 0, 0,
				    "no dead letter with id %lld: `spgw dlq list` shows them",
				    (long long)id);
	return rc;
}

enum spgw_rc spgw_ledger_dead_retry(struct spgw_ledger *l, int64_t id, const char *region,
				    const char *table, int64_t *n, int64_t *superseded,
				    struct spgw_error *err)
{
	static const char sel[] = " state = 'dead' AND (?1 = 0 OR id = ?1)"
				  " AND (?2 IS NULL OR region = ?2)"
				  " AND (?3 IS NULL OR spgl_table = ?3)";
	static const char newer[] = " EXISTS (SELECT 1 FROM outbox v WHERE v.region = o.region"
				    " AND v.spgl_table = o.spgl_table"
				    " AND v.record_key = o.record_key AND v.version > o.version)";
	char sql[1024];
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc;
	int src, pass;

	rc = spgw_ledger_begin(l, err);
	if (rc)
		return rc;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox o WHERE%s AND%s",
				 sel, newer);
		else
			snprintf(sql, sizeof(sql),
				 "UPDATE outbox AS o SET state = 'pending', batch_id = NULL"
				 " WHERE%s AND NOT%s", sel, newer);
		src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
		if (src == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, id > 0 ? id : 0);
			spgw_ledger_bind_text(s, 2, region);
			spgw_ledger_bind_text(s, 3, table);
			src = pass ? spgw_ledger_step_write(l, s) : sqlite3_step(s);
		}
		if (pass == 0 && src == SQLITE_ROW) {
			if (superseded)
				*superseded = sqlite3_column_int64(s, 0);
			src = SQLITE_DONE;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (src != SQLITE_DONE) {
			rc = spgw_ledger_db_fail(l, src, "putting dead letters back in the queue",
						 err);
			break;
		}
		if (pass == 1 && n)
			*n = sqlite3_changes64(l->db);
	}
	return finish(l, rc, err);
}

/* ---- receipts and figures ---- */

enum spgw_rc spgw_ledger_receipt_each(struct spgw_ledger *l, spgw_ledger_receipt_fn fn,
				      void *ud, struct spgw_error *err)
{
	static const char sql[] =
		"SELECT r.batch_id, r.received_at, r.content_digest, r.accepted, r.duplicate,"
		" r.rejected, r.alg, r.sig, b.region, b.spgl_table, r.stored_at, k.pem"
		" FROM receipts r JOIN batches b ON b.id = r.batch_id"
		" LEFT JOIN national_keys k ON k.id = r.national_key ORDER BY r.rowid";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_receipt_row r;

		r.batch_id = (const char *)sqlite3_column_text(s, 0);
		r.received_at = (const char *)sqlite3_column_text(s, 1);
		r.content_digest = (const char *)sqlite3_column_text(s, 2);
		r.accepted = sqlite3_column_int64(s, 3);
		r.duplicate = sqlite3_column_int64(s, 4);
		r.rejected = sqlite3_column_int64(s, 5);
		r.alg = (const char *)sqlite3_column_text(s, 6);
		r.sig = (const char *)sqlite3_column_text(s, 7);
		r.region = (const char *)sqlite3_column_text(s, 8);
		r.table = (const char *)sqlite3_column_text(s, 9);
		r.stored_at = (const char *)sqlite3_column_text(s, 10);
		r.national_key = (const char *)sqlite3_column_text(s, 11);
		if (!r.batch_id || !r.received_at || !r.content_digest || !r.alg || !r.sig ||
		    !r.region || !r.table || !r.stored_at) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &r);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "reading receipts", err);
	sqlite3_finalize(s);
	return rc;
}

enum spgw_rc spgw_ledger_outbox_stats(struct spgw_ledger *l, spgw_ledger_stats_fn fn, void *ud,
				      struct spgw_error *err)
{
	static const char sql[] =
		"SELECT region, spgl_table,"
		" sum(state = 'pending' AND batch_id IS NULL),"
		" sum(state = 'pending' AND batch_id IS NOT NULL),"
		" sum(state = 'delivered'), sum(state = 'dead'),"
		" sum(state = 'pending' AND day IS NULL),"
		" min(CASE WHEN state = 'pending' THEN created_at END)"
		" FROM outbox GROUP BY region, spgl_table ORDER BY region, spgl_table";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (src == SQLITE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		struct spgw_outbox_stats st;

		st.region = (const char *)sqlite3_column_text(s, 0);
		st.table = (const char *)sqlite3_column_text(s, 1);
		st.pending = sqlite3_column_int64(s, 2);
		st.in_flight = sqlite3_column_int64(s, 3);
		st.delivered = sqlite3_column_int64(s, 4);
		st.dead = sqlite3_column_int64(s, 5);
		st.held = sqlite3_column_int64(s, 6);
		st.oldest_pending = (const char *)sqlite3_column_text(s, 7);
		if (!st.region || !st.table) {
			src = SQLITE_NOMEM;
			break;
		}
		rc = fn(ud, &st);
		if (rc)
			break;
		src = SQLITE_OK;
	}
	if (!rc && src != SQLITE_DONE)
		rc = spgw_ledger_db_fail(l, src, "counting the outbox", err);
	sqlite3_finalize(s);
	return rc;
}
