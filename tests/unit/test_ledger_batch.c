/*
 * Unit tests for the ledger's delivery side (gateway/ledger_batch.c): which records are ready
 * and in what order, business days taken from relatives, batches stored and settled, dead
 * letters and their retry, receipts, outbox figures, and that a failed write leaves nothing
 * half-written. Every test works in its own temporary directory (mkdtemp) and removes it; the
 * database is inspected through a separate SQLite connection, so the tests see what is on
 * disk, not what the ledger believes.
 *
 * Environment: SPGW_TEST_CASES (absolute path of tests/cases) is required like every unit
 * test's; this suite keeps no case files of its own and checks only that the folder exists.
 */
/* nftw() removes the temporary directories, open_memstream() builds snapshots */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canonical.h"
#include "ledger.h"
#include "scratch.h"

#define P "SPGL_XMJBXXB"       /* a parent table */
#define C "SPGL_XMDWXXB"       /* a child of P, dated by it */
#define S "SPGL_XMSPSXBLXXB"   /* a table dated by its earliest child */
#define SC "SPGL_XMSPSXBLXXXXB" /* S's children */

/* ---- temporary directories ---- */

static void setup(void)
{
	scratch_make("spgw-ledger-batch");
}

static void teardown(void)
{
	scratch_remove();
}

/* ---- looking at the file from outside ---- */

/* Everything delivery writes, as one string: equal snapshots mean nothing was written. */
static char *snapshot(void)
{
	char *a = scratch_peek_rows(
		"SELECT id, state, batch_id, day, dead_reason, dead_at, delivered_at"
		" FROM outbox_records ORDER BY id");
	char *b = scratch_peek_rows("SELECT id, state, body_sm3, records, attempts, last_status,"
				    " last_error, settled_at FROM batches ORDER BY id");
	char *c = scratch_peek_rows(
		"SELECT batch_id, received_at, content_digest, accepted, duplicate,"
		" rejected, alg, sig, stored_at FROM receipts ORDER BY batch_id");
	size_t n = strlen(a) + strlen(b) + strlen(c) + 8;
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "%s || %s || %s", a, b, c);
	free(a);
	free(b);
	free(c);
	return s;
}

/* ---- the ledger API, briefly ---- */

static struct spgw_ledger *open_ok(void)
{
	struct spgw_ledger *l = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_open(scratch_dir, &l, &err) == SPGW_OK, "open: %s", err.text);
	return l;
}

/* A record to put; NULL members stay unknown. `data` is also its digest's input. */
struct rec {
	const char *region, *table, *key, *data, *day;
	const char *bkey, *rule, *dtable, *dref, *ptable, *pref;
};

/* Put one record version in its own transaction; returns its outbox id. */
static int64_t put_rec(struct spgw_ledger *l, const struct rec *x)
{
	struct spgw_outbox_record r;
	enum spgw_put_result res;
	struct spgw_error err;
	char hex[65], digest[80];

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SM3, x->data, strlen(x->data), hex, NULL),
			 0);
	snprintf(digest, sizeof(digest), "sm3:%s", hex);
	r.source = "changchun";
	r.region = x->region ? x->region : "220100";
	r.table = x->table;
	r.key = x->key;
	r.day = x->day;
	r.digest = digest;
	r.data = x->data;
	r.data_len = strlen(x->data);
	r.bkey = x->bkey;
	r.day_rule = x->rule;
	r.day_table = x->dtable;
	r.day_ref = x->dref;
	r.parent_table = x->ptable;
	r.parent_ref = x->pref;
	ck_assert_int_eq(spgw_ledger_begin(l, &err), SPGW_OK);
	ck_assert_msg(spgw_ledger_put(l, &r, &res, NULL, &err) == SPGW_OK, "put: %s", err.text);
	ck_assert_int_ne(res, SPGW_PUT_UNCHANGED);
	ck_assert_msg(spgw_ledger_commit(l, &err) == SPGW_OK, "commit: %s", err.text);
	return scratch_peek_int("SELECT max(id) FROM outbox_records");
}

/* A dated record of `table` with key `key`, data `data` and business key `key`. */
static int64_t put_simple(struct spgw_ledger *l, const char *table, const char *key,
			  const char *data)
{
	struct rec x = { NULL, table, key, data, "2026-11-03", key, NULL, NULL, NULL, NULL, NULL };

	return put_rec(l, &x);
}

struct ready {
	char text[1024]; /* "data data ..." of the records given */
	int64_t ids[64];
	size_t n;
	size_t stop_after; /* return SPGW_E_LIMIT after this many; 0: never */
};

static enum spgw_rc ready_fn(void *ud, const struct spgw_ready_record *r)
{
	struct ready *g = ud;
	size_t len = strlen(g->text);

	if (g->stop_after && g->n == g->stop_after)
		return SPGW_E_LIMIT;
	ck_assert_uint_lt(g->n, 64);
	ck_assert_uint_eq(r->data_len, strlen(r->data));
	ck_assert_ptr_nonnull(r->day);
	ck_assert_ptr_nonnull(r->digest);
	snprintf(g->text + len, sizeof(g->text) - len, "%s%s", len ? " " : "", r->data);
	g->ids[g->n++] = r->id;
	return SPGW_OK;
}

/* The data of the ready records of (220100, table) above `after`, space-separated. */
static const char *ready(struct spgw_ledger *l, const char *table, int64_t after, int limit,
			 struct ready *g)
{
	struct spgw_error err;

	memset(g, 0, sizeof(*g));
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_ready_each(l, "220100", table, after, limit, ready_fn, g, &err) ==
			      SPGW_OK,
		      "ready_each: %s", err.text);
	return g->text;
}

static void store(struct spgw_ledger *l, const char *id, const char *table, const int64_t *ids,
		  size_t n)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_batch_store(l, id, "220100", table, "spgl-v3", "d1", ids, n, &err) ==
			      SPGW_OK,
		      "batch_store: %s", err.text);
}

static struct spgw_receipt_row receipt(const char *batch, int64_t a, int64_t d, int64_t r)
{
	struct spgw_receipt_row rr;

	memset(&rr, 0, sizeof(rr));
	rr.batch_id = batch;
	rr.received_at = "2026-11-22T12:00:00+08:00";
	rr.content_digest = "sm3=AAAA";
	rr.accepted = a;
	rr.duplicate = d;
	rr.rejected = r;
	rr.alg = "sm2-sm3";
	rr.sig = "c2ln";
	return rr;
}

/* Settle `batch` with every record of `keys` accepted. */
static void done_all(struct spgw_ledger *l, const char *batch, const char *const *keys,
		     size_t n)
{
	struct spgw_record_result res[16];
	struct spgw_receipt_row rr = receipt(batch, (int64_t)n, 0, 0);
	struct spgw_error err;
	size_t i;

	ck_assert_uint_le(n, 16);
	memset(&err, 0, sizeof(err));
	for (i = 0; i < n; i++) {
		res[i].key = keys[i];
		res[i].status = SPGW_REC_ACCEPTED;
		res[i].errors = NULL;
	}
	ck_assert_msg(spgw_ledger_batch_done(l, batch, res, n, &rr, &err) == SPGW_OK,
		      "batch_done: %s", err.text);
}

/* ---- choosing records ---- */

START_TEST(ready_versions_in_order)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_record_result res[2];
	struct spgw_receipt_row rr;
	struct spgw_error err;
	struct ready g;
	int64_t a1, a2, a3, b1;

	a1 = put_simple(l, P, "A", "A1");
	b1 = put_simple(l, P, "B", "B1");
	a2 = put_simple(l, P, "A", "A2");
	a3 = put_simple(l, P, "A", "A3");
	/* a key's later versions wait while an earlier one is pending */
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "A1 B1");
	ck_assert_int_eq(g.ids[0], a1);
	ck_assert_int_eq(g.ids[1], b1);
	/* ... in a batch too: the national side must get v1 before v2 */
	store(l, "b1", P, &a1, 1);
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "B1");
	/* delivered: the next version goes, and only that one */
	done_all(l, "b1", (const char *const[]){ "A" }, 1);
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "B1 A2");
	ck_assert_int_eq(g.ids[1], a2);
	/* a dead version does not hold back the ones after it */
	store(l, "b2", P, (const int64_t[]){ b1, a2 }, 2);
	memset(&err, 0, sizeof(err));
	res[0].key = "B";
	res[0].status = SPGW_REC_DUPLICATE;
	res[0].errors = NULL;
	res[1].key = "A";
	res[1].status = SPGW_REC_REJECTED;
	res[1].errors = "[{\"field\":\"XMDM\",\"code\":\"format\",\"message\":\"x\"}]";
	rr = receipt("b2", 0, 1, 1);
	ck_assert_msg(spgw_ledger_batch_done(l, "b2", res, 2, &rr, &err) == SPGW_OK, "%s",
		      err.text);
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "A3");
	ck_assert_int_eq(g.ids[0], a3);
	spgw_ledger_close(l);
}
END_TEST

START_TEST(ready_child_waits_for_parent)
{
	struct spgw_ledger *l = open_ok();
	struct rec child = { NULL, C, "C1", "C1", "2026-11-03", "C1", NULL, NULL, NULL, P, "P1" };
	struct rec orphan = { NULL, C, "C2", "C2", "2026-11-03", "C2", NULL, NULL, NULL, P, "P9" };
	struct rec other = { "220300", P, "P1", "P1-other", "2026-11-03", "P1",
			     NULL, NULL, NULL, NULL, NULL };
	struct spgw_record_result res;
	struct spgw_receipt_row rr;
	struct spgw_error err;
	struct ready g;
	int64_t p1, p1v2;

	p1 = put_simple(l, P, "P1", "P1");
	put_rec(l, &child);
	put_rec(l, &orphan);
	put_rec(l, &other);
	/* the parent the ledger does not hold does not hold its child back; a parent of the
	 * same key in another region is another record */
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "C2");
	/* a parent in a batch is still pending */
	store(l, "bp", P, &p1, 1);
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "C2");
	done_all(l, "bp", (const char *const[]){ "P1" }, 1);
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "C1 C2");
	/* a new version of the parent holds the child back again until it is settled: here
	 * it is rejected, and a dead parent holds nothing back */
	p1v2 = put_simple(l, P, "P1", "P1v2");
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "C2");
	store(l, "bp2", P, &p1v2, 1);
	memset(&err, 0, sizeof(err));
	res.key = "P1";
	res.status = SPGW_REC_REJECTED;
	res.errors = NULL;
	rr = receipt("bp2", 0, 0, 1);
	ck_assert_int_eq(spgw_ledger_batch_done(l, "bp2", &res, 1, &rr, &err), SPGW_OK);
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "C1 C2");
	/* a rejection without errors is stored as an empty list, never NULL */
	ck_rows("SELECT dead_reason FROM outbox_records WHERE data = 'P1v2'", "[];");
	spgw_ledger_close(l);
}
END_TEST

START_TEST(ready_paging_and_limit)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct ready g;
	int64_t id[5];
	char key[8];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "K%d", i);
		id[i] = put_simple(l, P, key, key);
	}
	put_simple(l, C, "other-table", "X");
	ck_assert_str_eq(ready(l, P, 0, 2, &g), "K0 K1");
	ck_assert_str_eq(ready(l, P, g.ids[1], 2, &g), "K2 K3");
	ck_assert_str_eq(ready(l, P, g.ids[1], 2, &g), "K4");
	ck_assert_str_eq(ready(l, P, id[4], 2, &g), "");
	/* SPGW_E_LIMIT from the callback: a full batch, no error */
	memset(&g, 0, sizeof(g));
	memset(&err, 0, sizeof(err));
	g.stop_after = 3;
	ck_assert_int_eq(spgw_ledger_ready_each(l, "220100", P, 0, 100, ready_fn, &g, &err),
			 SPGW_OK);
	ck_assert_str_eq(g.text, "K0 K1 K2");
	ck_assert_int_eq(err.code, SPGW_OK);
	/* another region has nothing */
	ck_assert_int_eq(spgw_ledger_ready_each(l, "220300", P, 0, 100, ready_fn, &g, &err),
			 SPGW_OK);
	ck_assert_uint_eq(g.n, 3);
	spgw_ledger_close(l);
}
END_TEST

struct groups {
	char text[256];
};

static enum spgw_rc group_fn(void *ud, const char *region, const char *table, int64_t ready_n)
{
	struct groups *g = ud;
	size_t len = strlen(g->text);

	ck_assert_int_eq(ready_n, 0);
	snprintf(g->text + len, sizeof(g->text) - len, "%s/%s;", region, table);
	return SPGW_OK;
}

START_TEST(ready_groups_listed)
{
	struct spgw_ledger *l = open_ok();
	struct rec far = { "220300", C, "F", "F", "2026-11-03", "F", NULL, NULL, NULL, NULL, NULL };
	struct spgw_error err;
	struct groups g;
	int64_t a;

	memset(&err, 0, sizeof(err));
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(spgw_ledger_ready_groups(l, group_fn, &g, &err), SPGW_OK);
	ck_assert_str_eq(g.text, "");
	a = put_simple(l, P, "A", "A");
	put_simple(l, C, "B", "B");
	put_rec(l, &far);
	ck_assert_int_eq(spgw_ledger_ready_groups(l, group_fn, &g, &err), SPGW_OK);
	ck_assert_str_eq(g.text, "220100/" C ";220100/" P ";220300/" C ";");
	/* a group whose records are all in a batch has nothing waiting */
	store(l, "b", P, &a, 1);
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(spgw_ledger_ready_groups(l, group_fn, &g, &err), SPGW_OK);
	ck_assert_str_eq(g.text, "220100/" C ";220300/" C ";");
	spgw_ledger_close(l);
}
END_TEST

/* ---- days ---- */

START_TEST(days_inherited_from_parent)
{
	struct spgw_ledger *l = open_ok();
	struct rec child = { NULL, C, "C1", "C1", NULL, "C1", "inherit", P, "P1", P, "P1" };
	struct rec parent = { NULL, P, "P1", "P1", "2026-10-01", "P1", NULL, NULL, NULL, NULL,
			      NULL };
	struct rec parent2 = { NULL, P, "P1", "P1v2", "2026-10-02", "P1", NULL, NULL, NULL, NULL,
			       NULL };
	struct rec undated = { NULL, P, "P1", "P1v3", NULL, "P1", NULL, NULL, NULL, NULL, NULL };
	struct spgw_error err;
	struct ready g;
	int64_t n = -1, c1;

	memset(&err, 0, sizeof(err));
	c1 = put_rec(l, &child);
	/* no parent yet: the child is held, and counted so */
	ck_assert_int_eq(spgw_ledger_resolve_days(l, &n, &err), SPGW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "");
	/* the newest dated version of the parent gives the day */
	put_rec(l, &parent);
	put_rec(l, &parent2);
	put_rec(l, &undated);
	ck_assert_int_eq(spgw_ledger_resolve_days(l, &n, &err), SPGW_OK);
	ck_assert_int_eq(n, 1);
	ck_rows("SELECT day FROM outbox_records WHERE data = 'C1'", "2026-10-02;");
	/* resolved once: a later run changes nothing */
	ck_assert_int_eq(spgw_ledger_resolve_days(l, &n, &err), SPGW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(spgw_ledger_resolve_days(l, NULL, &err), SPGW_OK);
	/* dated, it still waits for its pending parent */
	ck_assert_str_eq(ready(l, C, 0, 100, &g), "");
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records WHERE day IS NULL"),
			 1);
	(void)c1;
	spgw_ledger_close(l);
}
END_TEST

START_TEST(days_from_earliest_child_and_chains)
{
	struct spgw_ledger *l = open_ok();
	/* S1 is dated by the earliest of its children; A inherits from S1, and G from A: a
	 * chain that takes more than one pass */
	struct rec s1 = { NULL, S, "S1", "S1", NULL, "S1", "earliest_child", SC, "S1", NULL,
			  NULL };
	struct rec s2 = { NULL, S, "S2", "S2", NULL, "S2", "earliest_child", SC, "S2", NULL,
			  NULL };
	struct rec k1 = { NULL, SC, "K1", "K1", "2026-11-05", "K1", NULL, NULL, NULL, S, "S1" };
	struct rec k2 = { NULL, SC, "K2", "K2", "2026-11-02", "K2", NULL, NULL, NULL, S, "S1" };
	struct rec k3 = { "220300", SC, "K3", "K3", "2026-10-01", "K3", NULL, NULL, NULL, S,
			  "S1" };
	struct rec a = { NULL, "SPGL_FJ", "A", "A", NULL, "A", "inherit", S, "S1", S, "S1" };
	struct rec gch = { NULL, "SPGL_FJ2", "G", "G", NULL, "G", "inherit", "SPGL_FJ", "A",
			   "SPGL_FJ", "A" };
	struct spgw_error err;
	int64_t n = -1;

	memset(&err, 0, sizeof(err));
	put_rec(l, &gch);
	put_rec(l, &a);
	put_rec(l, &s1);
	put_rec(l, &s2);
	put_rec(l, &k1);
	put_rec(l, &k2);
	put_rec(l, &k3); /* another region's child names the same key: not S1's */
	ck_assert_int_eq(spgw_ledger_resolve_days(l, &n, &err), SPGW_OK);
	ck_assert_int_eq(n, 3);
	ck_rows("SELECT data, day FROM outbox_records WHERE day_rule IS NOT NULL ORDER BY data",
		"A|2026-11-02;G|2026-11-02;S1|2026-11-02;S2|~;");
	ck_rows("SELECT region, spgl_table, held FROM (SELECT region, spgl_table,"
		" sum(state = 'pending' AND day IS NULL) AS held FROM outbox_records"
		" GROUP BY 1, 2) WHERE held > 0",
		"220100|" S "|1;");
	spgw_ledger_close(l);
}
END_TEST

/* ---- batches ---- */

struct batches {
	char text[512];
};

static enum spgw_rc batch_fn(void *ud, const struct spgw_batch_row *b)
{
	struct batches *x = ud;
	size_t len = strlen(x->text);

	snprintf(x->text + len, sizeof(x->text) - len, "%s/%s/%s/%s/%s/%d/%lld/%lld/%s/%d/%s;",
		 b->id, b->region, b->table, b->schema, b->body_sm3, b->body != NULL,
		 (long long)b->records, (long long)b->attempts, b->state, b->last_status,
		 b->last_error ? b->last_error : "~");
	return SPGW_OK;
}

START_TEST(batch_store_and_done)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_record_result res[3];
	struct spgw_receipt_row rr;
	struct spgw_error err;
	struct batches bx;
	struct ready g;
	int64_t ids[3];

	memset(&err, 0, sizeof(err));
	memset(&bx, 0, sizeof(bx));
	ids[0] = put_simple(l, P, "A", "A");
	ids[1] = put_simple(l, P, "B", "B");
	ids[2] = put_simple(l, P, "C", "C");
	put_simple(l, P, "D", "D");
	ck_assert_int_eq(spgw_ledger_batch_store(l, "bin", "220100", P, "spgl-v3", "d3", ids, 3, &err),
			 SPGW_OK);
	ck_rows("SELECT id, region, spgl_table, schema, body_sm3, body IS NULL, records, state,"
		" attempts FROM batches",
		"bin|220100|" P "|spgl-v3|d3|1|3|open|0;");
	ck_rows("SELECT data, batch_id FROM outbox_records ORDER BY id", "A|bin;B|bin;C|bin;D|~;");
	/* the batch holds them: not ready again */
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "D");
	ck_assert_int_eq(spgw_ledger_batch_open_each(l, batch_fn, &bx, &err), SPGW_OK);
	ck_assert_str_eq(bx.text, "bin/220100/" P "/spgl-v3/d3/0/3/0/open/0/~;");
	/* attempts are counted with their outcome */
	ck_assert_int_eq(spgw_ledger_batch_attempt(l, "bin", 503, "HTTP 503 busy", &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_batch_attempt(l, "bin", 0, "connection refused", &err),
			 SPGW_OK);
	memset(&bx, 0, sizeof(bx));
	ck_assert_int_eq(spgw_ledger_batch_open_each(l, batch_fn, &bx, &err), SPGW_OK);
	ck_assert_str_eq(bx.text, "bin/220100/" P "/spgl-v3/d3/0/3/2/open/0/connection refused;");
	/* the answer */
	res[0].key = "A";
	res[0].status = SPGW_REC_ACCEPTED;
	res[0].errors = NULL;
	res[1].key = "B";
	res[1].status = SPGW_REC_REJECTED;
	res[1].errors = "[{\"field\":\"XMDM\",\"code\":\"format\",\"message\":\"m\"}]";
	res[2].key = "C";
	res[2].status = SPGW_REC_DUPLICATE;
	res[2].errors = NULL;
	rr = receipt("bin", 1, 1, 1);
	ck_assert_msg(spgw_ledger_batch_done(l, "bin", res, 3, &rr, &err) == SPGW_OK, "%s",
		      err.text);
	ck_rows("SELECT data, state, batch_id, dead_reason, delivered_at IS NOT NULL,"
		" dead_at IS NOT NULL FROM outbox_records ORDER BY id",
		"A|delivered|bin|~|1|0;"
		"B|dead|bin|[{\"field\":\"XMDM\",\"code\":\"format\",\"message\":\"m\"}]|0|1;"
		"C|delivered|bin|~|1|0;D|pending|~|~|0|0;");
	/* the receipt names the body, which is dropped */
	ck_rows("SELECT state, body IS NULL, last_status, settled_at IS NOT NULL FROM batches",
		"done|1|200|1;");
	ck_rows("SELECT batch_id, received_at, content_digest, accepted, duplicate, rejected,"
		" alg, sig, stored_at IS NOT NULL FROM receipts",
		"bin|2026-11-22T12:00:00+08:00|sm3=AAAA|1|1|1|sm2-sm3|c2ln|1;");
	memset(&bx, 0, sizeof(bx));
	ck_assert_int_eq(spgw_ledger_batch_open_each(l, batch_fn, &bx, &err), SPGW_OK);
	ck_assert_str_eq(bx.text, "");
	/* a second answer to a settled batch is refused and changes nothing */
	{
		char *before = snapshot(), *after;

		ck_assert_int_eq(spgw_ledger_batch_done(l, "bin", res, 3, &rr, &err),
				 SPGW_E_INVALID);
		after = snapshot();
		ck_assert_str_eq(after, before);
		free(before);
		free(after);
	}
	spgw_ledger_close(l);
}
END_TEST

START_TEST(batch_open_each_in_order)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct batches bx;
	int64_t a, b;

	memset(&err, 0, sizeof(err));
	memset(&bx, 0, sizeof(bx));
	a = put_simple(l, P, "A", "A");
	b = put_simple(l, C, "B", "B");
	store(l, "z-first", P, &a, 1);
	store(l, "a-second", C, &b, 1);
	ck_assert_int_eq(spgw_ledger_batch_open_each(l, batch_fn, &bx, &err), SPGW_OK);
	ck_assert_str_eq(bx.text, "z-first/220100/" P "/spgl-v3/d1/0/1/0/open/0/~;"
				  "a-second/220100/" C "/spgl-v3/d1/0/1/0/open/0/~;");
	spgw_ledger_close(l);
}
END_TEST

START_TEST(batch_done_refuses_wrong_results)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_record_result res[3];
	struct spgw_receipt_row rr = receipt("b", 2, 0, 0);
	struct spgw_error err;
	char *before, *after;
	int64_t ids[2];
	size_t i;

	ids[0] = put_simple(l, P, "A", "A");
	ids[1] = put_simple(l, P, "B", "B");
	store(l, "b", P, ids, 2);
	for (i = 0; i < 3; i++) {
		res[i].status = SPGW_REC_ACCEPTED;
		res[i].errors = NULL;
	}
	before = snapshot();
	/* wrong order */
	res[0].key = "B";
	res[1].key = "A";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_done(l, "b", res, 2, &rr, &err), SPGW_E_INVALID);
	ck_assert_ptr_nonnull(strstr(err.text, "batch b"));
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* too few */
	res[0].key = "A";
	res[1].key = "B";
	res[2].key = "C";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_done(l, "b", res, 1, &rr, &err), SPGW_E_INVALID);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* too many */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_done(l, "b", res, 3, &rr, &err), SPGW_E_INVALID);
	ck_assert_ptr_nonnull(strstr(err.text, "2 records"));
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* a NULL key */
	res[1].key = NULL;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_done(l, "b", res, 2, &rr, &err), SPGW_E_INVALID);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* no such batch */
	res[1].key = "B";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_done(l, "nope", res, 2, &rr, &err), SPGW_E_INVALID);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* the ledger is still usable, and the right answer settles the batch */
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_batch_done(l, "b", res, 2, &rr, &err) == SPGW_OK, "%s",
		      err.text);
	ck_rows("SELECT state FROM outbox_records ORDER BY id", "delivered;delivered;");
	free(before);
	spgw_ledger_close(l);
}
END_TEST

START_TEST(batch_store_refuses_taken_record)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	char *before, *after;
	int64_t ids[2];

	ids[0] = put_simple(l, P, "A", "A");
	ids[1] = put_simple(l, P, "B", "B");
	store(l, "first", P, &ids[1], 1);
	before = snapshot();
	/* B is in a batch already: the second batch is not stored, A not taken */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_store(l, "second", "220100", P, "spgl-v3", "x", ids, 2, &err),
			 SPGW_E_LEDGER);
	ck_assert_ptr_nonnull(strstr(err.text, "no longer waiting"));
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* an id that does not exist */
	ids[1] = 999;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_store(l, "second", "220100", P, "spgl-v3", "x", ids, 2, &err),
			 SPGW_E_LEDGER);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	/* a batch id used before */
	memset(&err, 0, sizeof(err));
	ck_assert_int_ne(spgw_ledger_batch_store(l, "first", "220100", P, "spgl-v3", "x", ids, 1, &err),
			 SPGW_OK);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	spgw_ledger_close(l);
}
END_TEST

START_TEST(batch_dead_whole)
{
	struct spgw_ledger *l = open_ok();
	static const char reason[] =
		"[{\"field\":null,\"code\":\"bad_request\",\"message\":\"m\"}]";
	struct spgw_error err;
	struct ready g;
	int64_t ids[2];

	memset(&err, 0, sizeof(err));
	ids[0] = put_simple(l, P, "A", "A");
	ids[1] = put_simple(l, P, "B", "B");
	put_simple(l, P, "C", "C");
	store(l, "b", P, ids, 2);
	ck_assert_int_eq(spgw_ledger_batch_dead(l, "b", 400, reason, &err), SPGW_OK);
	ck_rows("SELECT data, state, batch_id, dead_reason IS '[{\"field\":null,\"code\":"
		"\"bad_request\",\"message\":\"m\"}]', dead_at IS NOT NULL FROM outbox_records ORDER BY id",
		"A|dead|b|1|1;B|dead|b|1|1;C|pending|~|0|0;");
	/* the digest of what the platform called malformed is kept, and its records */
	ck_rows("SELECT state, body_sm3, last_status, last_error IS"
		" (SELECT dead_reason FROM outbox_records WHERE id = 1) FROM batches",
		"dead|d1|400|1;");
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "C");
	/* a refusal that comes for a settled batch is refused and does not undo what it
	 * delivered or rewrite the batch */
	store(l, "c", P, (const int64_t[]){ 3 }, 1);
	done_all(l, "c", (const char *const[]){ "C" }, 1);
	ck_assert_int_eq(spgw_ledger_batch_dead(l, "c", 400, reason, &err), SPGW_E_INVALID);
	ck_assert_msg(strstr(err.text, "not open") != NULL, "%s", err.text);
	ck_rows("SELECT data, state FROM outbox_records WHERE batch_id = 'c'", "C|delivered;");
	ck_rows("SELECT count(*) FROM receipts WHERE batch_id = 'c'", "1;");
	ck_rows("SELECT state FROM batches WHERE id = 'c'", "done;");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_release(l, "c", "split", "late", &err),
			 SPGW_E_INVALID);
	ck_rows("SELECT state FROM batches WHERE id = 'c'", "done;");
	spgw_ledger_close(l);
}
END_TEST

START_TEST(batch_release_back_to_queue)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct ready g;
	int64_t ids[2];

	memset(&err, 0, sizeof(err));
	ids[0] = put_simple(l, P, "A", "A");
	ids[1] = put_simple(l, P, "B", "B");
	store(l, "b", P, ids, 2);
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "");
	ck_assert_int_eq(spgw_ledger_batch_release(l, "b", "split", "HTTP 413 too large", &err),
			 SPGW_OK);
	ck_rows("SELECT data, state, batch_id FROM outbox_records ORDER BY id",
		"A|pending|~;B|pending|~;");
	ck_rows("SELECT state, body IS NULL, last_error, settled_at IS NOT NULL FROM batches",
		"split|1|HTTP 413 too large|1;");
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "A B");
	/* they go in a new batch, and the conflict state closes one too */
	store(l, "b2", P, ids, 2);
	ck_assert_int_eq(spgw_ledger_batch_release(l, "b2", "conflict", "batch_id conflict", &err),
			 SPGW_OK);
	ck_rows("SELECT id, state FROM batches ORDER BY id", "b|split;b2|conflict;");
	/* a state the schema does not know is refused, and nothing changes */
	store(l, "b3", P, ids, 2);
	ck_assert_int_ne(spgw_ledger_batch_release(l, "b3", "bogus", NULL, &err), SPGW_OK);
	ck_rows("SELECT data, batch_id FROM outbox_records ORDER BY id", "A|b3;B|b3;");
	spgw_ledger_close(l);
}
END_TEST

/* ---- dead letters ---- */

struct deads {
	char text[1024];
};

static enum spgw_rc dead_fn(void *ud, const struct spgw_dead_row *r)
{
	struct deads *d = ud;
	size_t len = strlen(d->text);

	ck_assert_ptr_nonnull(r->dead_at);
	ck_assert_str_eq(r->source, "changchun");
	ck_assert_ptr_nonnull(strstr(r->digest, "sm3:"));
	snprintf(d->text + len, sizeof(d->text) - len, "%lld/%s/%s/%s/%lld/%s/%s/%s;",
		 (long long)r->id, r->region, r->table, r->key, (long long)r->version, r->data,
		 r->reason ? r->reason : "~", r->batch_id ? r->batch_id : "~");
	return SPGW_OK;
}

/* Kill the records `ids` of (220100, table) through a batch rejected as a whole. */
static void kill(struct spgw_ledger *l, const char *batch, const char *table, const int64_t *ids,
		 size_t n)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	store(l, batch, table, ids, n);
	ck_assert_msg(spgw_ledger_batch_dead(l, batch, 400, "[]", &err) == SPGW_OK, "%s",
		      err.text);
}

START_TEST(dead_each_and_get)
{
	struct spgw_ledger *l = open_ok();
	struct rec far = { "220300", P, "F", "F", "2026-11-03", "F", NULL, NULL, NULL, NULL, NULL };
	struct spgw_error err;
	struct deads d;
	int64_t a, b, f, alive;

	memset(&err, 0, sizeof(err));
	memset(&d, 0, sizeof(d));
	a = put_simple(l, P, "A", "A");
	b = put_simple(l, C, "B", "B");
	f = put_rec(l, &far);
	alive = put_simple(l, P, "E", "E");
	kill(l, "b1", P, &a, 1);
	kill(l, "b2", C, &b, 1);
	/* another region's batch: stored by hand, since the helpers work in 220100 */
	ck_assert_int_eq(spgw_ledger_batch_store(l, "b3", "220300", P, "spgl-v3", "x", &f, 1, &err),
			 SPGW_OK);
	ck_assert_int_eq(spgw_ledger_batch_dead(l, "b3", 400, "[{\"code\":\"x\"}]", &err),
			 SPGW_OK);
	ck_assert_int_eq(spgw_ledger_dead_each(l, NULL, NULL, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "1/220100/" P "/A/1/A/[]/b1;2/220100/" C "/B/1/B/[]/b2;"
				 "3/220300/" P "/F/1/F/[{\"code\":\"x\"}]/b3;");
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(spgw_ledger_dead_each(l, "220100", NULL, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "1/220100/" P "/A/1/A/[]/b1;2/220100/" C "/B/1/B/[]/b2;");
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(spgw_ledger_dead_each(l, NULL, P, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "1/220100/" P "/A/1/A/[]/b1;3/220300/" P "/F/1/F/[{\"code\":"
				 "\"x\"}]/b3;");
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(spgw_ledger_dead_each(l, "220300", C, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "");
	ck_assert_int_eq(spgw_ledger_dead_get(l, b, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "2/220100/" C "/B/1/B/[]/b2;");
	/* a record that is no dead letter, and an id that is nothing */
	ck_assert_int_eq(spgw_ledger_dead_get(l, alive, dead_fn, &d, &err), SPGW_E_NOTFOUND);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_dead_get(l, 999, dead_fn, &d, &err), SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "999"));
	spgw_ledger_close(l);
}
END_TEST

START_TEST(dead_retry_keeps_superseded)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct deads d;
	struct ready g;
	int64_t a1, b1, c1, a2, n = -1, sup = -1;

	memset(&err, 0, sizeof(err));
	a1 = put_simple(l, P, "A", "A1");
	b1 = put_simple(l, P, "B", "B1");
	c1 = put_simple(l, C, "C", "C1");
	kill(l, "b1", P, (const int64_t[]){ a1, b1 }, 2);
	kill(l, "b2", C, &c1, 1);
	/* the city corrected A: its new version replaces the dead one */
	a2 = put_simple(l, P, "A", "A2");
	/* one by id: replaced, so it stays */
	ck_assert_int_eq(spgw_ledger_dead_retry(l, a1, NULL, NULL, &n, &sup, &err), SPGW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sup, 1);
	/* one by id that can go */
	ck_assert_int_eq(spgw_ledger_dead_retry(l, c1, NULL, NULL, &n, &sup, &err), SPGW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(sup, 0);
	ck_rows("SELECT data, state, batch_id FROM outbox_records ORDER BY id",
		"A1|dead|b1;B1|dead|b1;C1|pending|~;A2|pending|~;");
	/* every one of a table: B goes back, A1 stays */
	ck_assert_int_eq(spgw_ledger_dead_retry(l, 0, "220100", P, &n, NULL, &err), SPGW_OK);
	ck_assert_int_eq(n, 1);
	ck_rows("SELECT data, state, batch_id FROM outbox_records ORDER BY id",
		"A1|dead|b1;B1|pending|~;C1|pending|~;A2|pending|~;");
	ck_assert_str_eq(ready(l, P, 0, 100, &g), "B1 A2");
	/* a filter that matches nothing, and the rest */
	ck_assert_int_eq(spgw_ledger_dead_retry(l, 0, "220300", NULL, &n, &sup, &err), SPGW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sup, 0);
	ck_assert_int_eq(spgw_ledger_dead_retry(l, 0, NULL, NULL, &n, &sup, &err), SPGW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sup, 1);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(spgw_ledger_dead_each(l, NULL, NULL, dead_fn, &d, &err), SPGW_OK);
	ck_assert_str_eq(d.text, "1/220100/" P "/A/1/A1/[]/b1;");
	(void)a2;
	spgw_ledger_close(l);
}
END_TEST

/* ---- receipts and figures ---- */

struct receipts {
	char text[512];
};

static enum spgw_rc receipt_fn(void *ud, const struct spgw_receipt_row *r)
{
	struct receipts *x = ud;
	size_t len = strlen(x->text);

	ck_assert_ptr_nonnull(r->stored_at);
	snprintf(x->text + len, sizeof(x->text) - len, "%s/%s/%s/%lld/%lld/%lld/%s;", r->batch_id,
		 r->region, r->table, (long long)r->accepted, (long long)r->duplicate,
		 (long long)r->rejected, r->sig);
	return SPGW_OK;
}

START_TEST(receipts_in_stored_order)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct receipts x;
	int64_t a, b;

	memset(&err, 0, sizeof(err));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_receipt_each(l, receipt_fn, &x, &err), SPGW_OK);
	ck_assert_str_eq(x.text, "");
	a = put_simple(l, P, "A", "A");
	b = put_simple(l, C, "B", "B");
	/* "z" settled first: stored order, not id order */
	store(l, "z", P, &a, 1);
	store(l, "a", C, &b, 1);
	done_all(l, "z", (const char *const[]){ "A" }, 1);
	done_all(l, "a", (const char *const[]){ "B" }, 1);
	ck_assert_int_eq(spgw_ledger_receipt_each(l, receipt_fn, &x, &err), SPGW_OK);
	ck_assert_str_eq(x.text, "z/220100/" P "/1/0/0/c2ln;a/220100/" C "/1/0/0/c2ln;");
	spgw_ledger_close(l);
}
END_TEST

struct stats {
	char text[1024];
};

static enum spgw_rc stats_fn(void *ud, const struct spgw_outbox_stats *s)
{
	struct stats *x = ud;
	size_t len = strlen(x->text);

	snprintf(x->text + len, sizeof(x->text) - len, "%s/%s p%lld f%lld d%lld x%lld h%lld %s;",
		 s->region, s->table, (long long)s->pending, (long long)s->in_flight,
		 (long long)s->delivered, (long long)s->dead, (long long)s->held,
		 s->oldest_pending ? s->oldest_pending : "~");
	return SPGW_OK;
}

START_TEST(outbox_stats_figures)
{
	struct spgw_ledger *l = open_ok();
	struct rec held = { NULL, C, "H", "H", NULL, "H", "inherit", P, "nowhere", NULL, NULL };
	struct rec far = { "220300", P, "F", "F", "2026-11-03", "F", NULL, NULL, NULL, NULL, NULL };
	struct spgw_error err;
	struct stats x;
	int64_t id[5];

	memset(&err, 0, sizeof(err));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_outbox_stats(l, stats_fn, &x, &err), SPGW_OK);
	ck_assert_str_eq(x.text, "");
	id[0] = put_simple(l, P, "A", "A"); /* delivered */
	id[1] = put_simple(l, P, "B", "B"); /* dead */
	id[2] = put_simple(l, P, "C", "C"); /* in flight */
	id[3] = put_simple(l, P, "D", "D"); /* pending */
	id[4] = put_simple(l, C, "E", "E"); /* pending, next to a held one */
	put_rec(l, &held);
	put_rec(l, &far);
	store(l, "ok", P, &id[0], 1);
	done_all(l, "ok", (const char *const[]){ "A" }, 1);
	kill(l, "bad", P, &id[1], 1);
	store(l, "fly", P, &id[2], 1);
	scratch_poke("UPDATE outbox SET created_at = '2026-11-20T00:00:0' || id || 'Z'");
	ck_assert_int_eq(spgw_ledger_outbox_stats(l, stats_fn, &x, &err), SPGW_OK);
	/* oldest pending counts what is in flight too: it is not delivered either */
	ck_assert_str_eq(x.text, "220100/" C " p2 f0 d0 x0 h1 2026-11-20T00:00:05Z;"
				 "220100/" P " p1 f1 d1 x1 h0 2026-11-20T00:00:03Z;"
				 "220300/" P " p1 f0 d0 x0 h0 2026-11-20T00:00:07Z;");
	(void)id[4];
	spgw_ledger_close(l);
}
END_TEST

/* ---- faults: a failed write leaves nothing half-written ---- */

/* What each fault test runs, set up before the loop. */
static struct {
	int64_t ids[3];
	int64_t n, sup;
} fx;

/*
 * Run `op` with the write seam failing after 0, 1, 2, ... writes (or, with `once`, failing
 * only that write) until it succeeds. Every failed run must report the simulated I/O error
 * and leave the ledger exactly as it was. Returns how many writes the successful run made.
 */
static long faults(struct spgw_ledger *l, enum spgw_rc (*op)(struct spgw_ledger *,
							     struct spgw_error *),
		   int once)
{
	char *before = snapshot(), *after;
	struct spgw_error err;
	enum spgw_rc rc;
	long n;

	for (n = 0;; n++) {
		ck_assert_int_lt(n, 50);
		memset(&err, 0, sizeof(err));
		if (once)
			spgw_ledger_fail_once(l, n);
		else
			spgw_ledger_fail_after(l, n);
		rc = op(l, &err);
		spgw_ledger_fail_after(l, -1);
		after = snapshot();
		if (rc == SPGW_OK) {
			ck_assert_str_ne(after, before);
			free(after);
			break;
		}
		ck_assert_msg(rc == SPGW_E_IO, "write %ld: %d %s", n + 1, rc, err.text);
		ck_assert_ptr_nonnull(strstr(err.text, "simulated"));
		ck_assert_msg(!strcmp(after, before), "after failing write %ld:\n%s\nnot\n%s",
			      n + 1, after, before);
		free(after);
	}
	free(before);
	return n;
}

/* Both seams, on copies of the same starting ledger: the second run starts from what the
 * first left, so each op is undone between them by reopening a saved copy. */
static void both_seams(const char *prepared, enum spgw_rc (*op)(struct spgw_ledger *,
								struct spgw_error *),
		       long min_writes)
{
	char cmd[512];
	struct spgw_ledger *l;
	long a, b;

	/* the database file alone is the whole ledger once closed (WAL checkpointed) */
	snprintf(cmd, sizeof(cmd), "cp %s/spgw.db %s/%s", scratch_dir, scratch_dir, prepared);
	ck_assert_int_eq(system(cmd), 0);
	l = open_ok();
	a = faults(l, op, 0);
	spgw_ledger_close(l);
	snprintf(cmd, sizeof(cmd), "cp %s/%s %s/spgw.db && rm -f %s/spgw.db-wal %s/spgw.db-shm",
		 scratch_dir, prepared, scratch_dir, scratch_dir, scratch_dir);
	ck_assert_int_eq(system(cmd), 0);
	l = open_ok();
	b = faults(l, op, 1);
	spgw_ledger_close(l);
	/* a write whose failure went unnoticed would let the once-run succeed early */
	ck_assert_int_eq(a, b);
	ck_assert_int_ge(a, min_writes);
}

static enum spgw_rc op_store(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_batch_store(l, "f", "220100", P, "spgl-v3", "d", fx.ids, 3, err);
}

static enum spgw_rc op_done(struct spgw_ledger *l, struct spgw_error *err)
{
	struct spgw_record_result res[3] = {
		{ "A", SPGW_REC_ACCEPTED, NULL },
		{ "B", SPGW_REC_REJECTED, "[{\"field\":null,\"code\":\"x\",\"message\":\"m\"}]" },
		{ "C", SPGW_REC_DUPLICATE, NULL },
	};
	struct spgw_receipt_row rr = receipt("f", 1, 1, 1);

	return spgw_ledger_batch_done(l, "f", res, 3, &rr, err);
}

static enum spgw_rc op_dead(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_batch_dead(l, "f", 400, "[]", err);
}

static enum spgw_rc op_release(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_batch_release(l, "f", "split", "HTTP 413", err);
}

static enum spgw_rc op_attempt(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_batch_attempt(l, "f", 503, "busy", err);
}

static enum spgw_rc op_retry(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_dead_retry(l, 0, NULL, NULL, &fx.n, &fx.sup, err);
}

static enum spgw_rc op_resolve(struct spgw_ledger *l, struct spgw_error *err)
{
	return spgw_ledger_resolve_days(l, &fx.n, err);
}

/* Three pending records of P, closed so the file holds everything. */
static void prepare_three(void)
{
	struct spgw_ledger *l = open_ok();

	fx.ids[0] = put_simple(l, P, "A", "A");
	fx.ids[1] = put_simple(l, P, "B", "B");
	fx.ids[2] = put_simple(l, P, "C", "C");
	spgw_ledger_close(l);
}

/* The same, stored in batch "f". */
static void prepare_batch(void)
{
	struct spgw_ledger *l;

	prepare_three();
	l = open_ok();
	store(l, "f", P, fx.ids, 3);
	spgw_ledger_close(l);
}

START_TEST(fault_batch_store)
{
	prepare_three();
	/* the batch row, three marks, the commit */
	both_seams("prepared.db", op_store, 5);
	ck_rows("SELECT count(*) FROM outbox_records WHERE batch_id = 'f'", "3;");
}
END_TEST

START_TEST(fault_batch_done)
{
	prepare_batch();
	/* the rejected record, the rest of the batch in one statement, the receipt (with its
	 * key), the batch settled, the commit */
	both_seams("prepared.db", op_done, 5);
	ck_rows("SELECT state FROM outbox_records ORDER BY id", "delivered;dead;delivered;");
	ck_rows("SELECT count(*) FROM receipts", "1;");
}
END_TEST

START_TEST(fault_batch_dead)
{
	prepare_batch();
	both_seams("prepared.db", op_dead, 3);
	ck_rows("SELECT group_concat(state) FROM outbox_records", "dead,dead,dead;");
}
END_TEST

START_TEST(fault_batch_release)
{
	prepare_batch();
	both_seams("prepared.db", op_release, 3);
	ck_rows("SELECT count(*) FROM outbox_records WHERE batch_id IS NULL", "3;");
}
END_TEST

START_TEST(fault_batch_attempt)
{
	prepare_batch();
	both_seams("prepared.db", op_attempt, 1);
	ck_rows("SELECT attempts, last_status FROM batches", "1|503;");
}
END_TEST

START_TEST(fault_dead_retry)
{
	struct spgw_ledger *l;

	prepare_batch();
	l = open_ok();
	ck_assert_int_eq(spgw_ledger_batch_dead(l, "f", 400, "[]", NULL), SPGW_OK);
	put_simple(l, P, "A", "A2"); /* A's dead version is replaced: it stays */
	spgw_ledger_close(l);
	both_seams("prepared.db", op_retry, 2);
	ck_assert_int_eq(fx.n, 2);
	ck_assert_int_eq(fx.sup, 1);
	ck_rows("SELECT data, state FROM outbox_records ORDER BY id",
		"A|dead;B|pending;C|pending;A2|pending;");
}
END_TEST

START_TEST(fault_resolve_days)
{
	struct rec child = { NULL, C, "K", "K", NULL, "K", "inherit", P, "A", P, "A" };
	struct spgw_ledger *l;

	prepare_three();
	l = open_ok();
	put_rec(l, &child);
	spgw_ledger_close(l);
	both_seams("prepared.db", op_resolve, 2);
	ck_assert_int_eq(fx.n, 1);
	ck_rows("SELECT day FROM outbox_records WHERE data = 'K'", "2026-11-03;");
}
END_TEST

static Suite *ledger_batch_suite(void)
{
	Suite *s = suite_create("ledger_batch");
	TCase *tc;

	tc = tcase_create("ready");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ready_versions_in_order);
	tcase_add_test(tc, ready_child_waits_for_parent);
	tcase_add_test(tc, ready_paging_and_limit);
	tcase_add_test(tc, ready_groups_listed);
	tcase_add_test(tc, days_inherited_from_parent);
	tcase_add_test(tc, days_from_earliest_child_and_chains);
	suite_add_tcase(s, tc);
	tc = tcase_create("batches");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, batch_store_and_done);
	tcase_add_test(tc, batch_open_each_in_order);
	tcase_add_test(tc, batch_done_refuses_wrong_results);
	tcase_add_test(tc, batch_store_refuses_taken_record);
	tcase_add_test(tc, batch_dead_whole);
	tcase_add_test(tc, batch_release_back_to_queue);
	suite_add_tcase(s, tc);
	tc = tcase_create("dead letters and figures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dead_each_and_get);
	tcase_add_test(tc, dead_retry_keeps_superseded);
	tcase_add_test(tc, receipts_in_stored_order);
	tcase_add_test(tc, outbox_stats_figures);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fault_batch_store);
	tcase_add_test(tc, fault_batch_done);
	tcase_add_test(tc, fault_batch_dead);
	tcase_add_test(tc, fault_batch_release);
	tcase_add_test(tc, fault_batch_attempt);
	tcase_add_test(tc, fault_dead_retry);
	tcase_add_test(tc, fault_resolve_days);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *cases = getenv("SPGW_TEST_CASES");
	struct stat st;
	SRunner *sr;
	int failed;

	if (!cases || cases[0] != '/' || stat(cases, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "test_ledger_batch: set SPGW_TEST_CASES to the absolute path of "
				"tests/cases\n");
		return 1;
	}
	sr = srunner_create(ledger_batch_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
