/*
 * The ledger's operations and reconciliation tallies (migrations 7 and 9): kept by triggers,
 * they must always equal what a full count of the outbox says. Thousands of random puts,
 * deliveries, dead letters, re-queues and day changes are checked against that count after
 * every step; then the per-day keys, a key's state, re-queueing and the stored runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_recon.h"
#include "scratch.h"

static void setup(void)
{
	scratch_make("spgw-recon");
}

static void teardown(void)
{
	scratch_remove();
}

static struct spgw_ledger *open_ok(void)
{
	struct spgw_ledger *l = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_open(scratch_dir, &l, &err) == SPGW_OK, "open: %s", err.text);
	return l;
}

/* What keyday must hold, counted the slow way from the outbox itself. */
static const char oracle[] =
	"SELECT region, spgl_table, day, kind, n FROM ("
	" SELECT region, spgl_table, coalesce(day, '') AS day, state AS kind, count(*) AS n"
	"  FROM outbox o WHERE state IN ('pending', 'dead') AND version = (SELECT max(version)"
	"  FROM outbox x WHERE x.region = o.region AND x.spgl_table = o.spgl_table"
	"  AND x.record_key = o.record_key) GROUP BY 1, 2, 3, 4"
	" UNION ALL"
	" SELECT region, spgl_table, coalesce(day, ''), 'delivered', count(*) FROM outbox o"
	"  WHERE state = 'delivered' AND version = (SELECT max(version) FROM outbox x"
	"  WHERE x.region = o.region AND x.spgl_table = o.spgl_table"
	"  AND x.record_key = o.record_key AND x.state = 'delivered') GROUP BY 1, 2, 3"
	" UNION ALL"
	" SELECT region, spgl_table, coalesce(day, ''), 'valid', count(*) FROM outbox o"
	"  WHERE state = 'delivered' AND valid = 1 AND version = (SELECT max(version) FROM outbox x"
	"  WHERE x.region = o.region AND x.spgl_table = o.spgl_table"
	"  AND x.record_key = o.record_key AND x.state = 'delivered') GROUP BY 1, 2, 3)"
	" ORDER BY 1, 2, 3, 4";
static const char kept[] =
	"SELECT region, spgl_table, day, kind, n FROM keyday WHERE n <> 0 ORDER BY 1, 2, 3, 4";
/* and the phase tallies of migration 7 */
static const char tally_oracle[] =
	"SELECT region, spgl_table, CASE WHEN state = 'delivered' THEN 'delivered'"
	" WHEN state = 'dead' THEN 'dead' WHEN batch_id IS NOT NULL THEN 'in_flight'"
	" WHEN day IS NULL THEN 'held' ELSE 'pending' END, count(*) FROM outbox GROUP BY 1, 2, 3"
	" ORDER BY 1, 2, 3";
static const char tally_kept[] =
	"SELECT region, spgl_table, phase, n FROM tally WHERE n <> 0 ORDER BY 1, 2, 3";

static void same(const char *what, int step)
{
	char *a = scratch_peek_rows(oracle), *b = scratch_peek_rows(kept);
	char *c = scratch_peek_rows(tally_oracle), *d = scratch_peek_rows(tally_kept);

	ck_assert_msg(!strcmp(a, b), "%s (step %d): keyday differs from the outbox\n"
		      "outbox: %s\nkeyday: %s", what, step, a, b);
	ck_assert_msg(!strcmp(c, d), "%s (step %d): tally differs from the outbox\n"
		      "outbox: %s\ntally: %s", what, step, c, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A deterministic pseudo-random walk (xorshift). */
static unsigned rnd(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A put through spgw_ledger_put (which keeps the tallies since migration 10). `day` is the
 * SQL literal of the step ("'2026-11-01'"), or NULL. */
static void api_put(const char *table, int key, const char *day, int valid, int step)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_outbox_record rec;
	enum spgw_put_result res;
	struct spgw_error err;
	char k[16], dd[16], digest[32], data[64];

	memset(&rec, 0, sizeof(rec));
	memset(&err, 0, sizeof(err));
	snprintf(k, sizeof(k), "K%d", key);
	snprintf(digest, sizeof(digest), "sm3:%08x", (unsigned)step * 2654435761u);
	snprintf(data, sizeof(data), "{\"step\":%d}", step);
	if (day)
		snprintf(dd, sizeof(dd), "%.10s", day + 1);
	rec.source = "s";
	rec.region = "220100";
	rec.table = table;
	rec.key = k;
	rec.day = day ? dd : NULL;
	rec.digest = digest;
	rec.data = data;
	rec.data_len = strlen(data);
	rec.valid = valid ? SPGW_VALID_YES : SPGW_VALID_NO;
	ck_assert_int_eq(spgw_ledger_begin(l, &err), SPGW_OK);
	ck_assert_msg(spgw_ledger_put(l, &rec, &res, NULL, &err) == SPGW_OK, "put: %s", err.text);
	ck_assert_int_eq(spgw_ledger_commit(l, &err), SPGW_OK);
	spgw_ledger_close(l);
}

START_TEST(tallies_follow_every_change)
{
	struct spgw_ledger *l = open_ok();
	unsigned seed = 12345;
	char sql[1024];
	int step;

	spgw_ledger_close(l);
	for (step = 0; step < 1500; step++) {
		unsigned r = rnd(&seed);
		int key = (int)(r % 40), table = (int)(r / 40 % 2), day = (int)(r / 80 % 4);
		const char *t = table ? "SPGL_XMDWXXB" : "SPGL_XMJBXXB";
		char d[16];

		if (day == 3)
			strcpy(d, "NULL");
		else
			snprintf(d, sizeof(d), "'2026-11-0%d'", day + 1);
		switch (rnd(&seed) % 9) {
		case 0:
		case 1: /* a put, through the ledger: the next version of the key */
			api_put(t, key, day == 3 ? NULL : d, (int)(r % 3) ? 1 : 0, step);
			if (step % 25 == 0 || step > 1450)
				same("random walk", step);
			continue;
		case 2: /* a batch takes a waiting version */
			snprintf(sql, sizeof(sql),
				 "UPDATE outbox SET batch_id = 'B%d' WHERE id = (SELECT id FROM outbox"
				 " WHERE state = 'pending' AND batch_id IS NULL AND day IS NOT NULL"
				 " ORDER BY (id * %u) %% 97 LIMIT 1)",
				 step, r % 89 + 1);
			break;
		case 3:
		case 6:
		case 7: /* delivered (in any order: a retried batch may settle after a later one) */
			snprintf(sql, sizeof(sql),
				 "UPDATE outbox SET state = 'delivered', delivered_at ="
				 " '2026-11-23T01:00:00Z' WHERE id = (SELECT id FROM outbox WHERE"
				 " state = 'pending' AND day IS NOT NULL ORDER BY (id * %u) %% 97"
				 " LIMIT 1)",
				 r % 89 + 1);
			break;
		case 4: /* a dead letter, or one retried */
			snprintf(sql, sizeof(sql),
				 (r & 1) ? "UPDATE outbox SET state = 'dead' WHERE id = (SELECT id FROM"
					   " outbox WHERE state = 'pending' ORDER BY (id * %u) %% 97"
					   " LIMIT 1)"
					 : "UPDATE outbox SET state = 'pending', batch_id = NULL WHERE"
					   " id = (SELECT id FROM outbox WHERE state = 'dead' ORDER BY"
					   " (id * %u) %% 97 LIMIT 1)",
				 r % 89 + 1);
			break;
		case 5: /* a held version gets its day */
			snprintf(sql, sizeof(sql),
				 "UPDATE outbox SET day = '2026-11-0%d' WHERE id = (SELECT id FROM"
				 " outbox WHERE day IS NULL ORDER BY (id * %u) %% 97 LIMIT 1)",
				 day % 3 + 1, r % 89 + 1);
			break;
		default: /* a repair queues a delivered newest version again */
			snprintf(sql, sizeof(sql),
				 "UPDATE outbox SET state = 'pending', batch_id = NULL, delivered_at ="
				 " NULL WHERE id = (SELECT o.id FROM outbox o WHERE o.state ="
				 " 'delivered' ORDER BY (o.id * %u) %% 97 LIMIT 1)",
				 r % 89 + 1);
			break;
		}
		scratch_poke(sql);
		if (step % 25 == 0 || step > 1450)
			same("random walk", step);
	}
	same("the end", step);
	ck_assert_int_gt(scratch_peek_int("SELECT count(*) FROM outbox WHERE state = 'delivered'"),
			 10);
	ck_assert_int_gt(scratch_peek_int("SELECT count(*) FROM outbox o WHERE state = 'delivered'"
					  " AND EXISTS (SELECT 1 FROM outbox x WHERE"
					  " x.record_key = o.record_key AND x.spgl_table ="
					  " o.spgl_table AND x.version > o.version)"),
			 0);
}
END_TEST

struct collected {
	char text[4096];
};

static enum spgw_rc on_day(void *ud, const struct spgw_day_count *c)
{
	struct collected *x = ud;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "%s %s %s d%lld v%lld p%lld x%lld;", c->region,
		 c->table, c->day, (long long)c->delivered, (long long)c->valid,
		 (long long)c->pending, (long long)c->dead);
	return SPGW_OK;
}

static enum spgw_rc on_key(void *ud, const struct spgw_day_key *k)
{
	struct collected *x = ud;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "%s/%lld/%s;", k->key, (long long)k->version,
		 k->state);
	return SPGW_OK;
}

static void put(const char *key, int version, const char *day, const char *state)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO outbox (region, spgl_table, record_key, version, day, digest, source,"
		 " created_at, valid) VALUES ('220100', 'SPGL_XMJBXXB', '%s', %d, '%s', 'sm3:%s%d',"
		 " 's', '2026-11-23T00:00:00Z', 1); UPDATE outbox SET state = '%s' WHERE"
		 " record_key = '%s' AND version = %d",
		 key, version, day, key, version, state, key, version);
	scratch_poke(sql);
}

START_TEST(days_keys_and_requeue)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct collected x;
	struct spgw_key_state ks;
	int queued;

	spgw_ledger_close(l);
	put("A", 1, "2026-11-01", "delivered");
	put("B", 1, "2026-11-01", "delivered");
	put("B", 2, "2026-11-02", "pending");    /* moves day, not delivered yet */
	put("C", 1, "2026-11-01", "dead");
	put("D", 1, "2026-11-02", "delivered");
	put("D", 2, "2026-11-02", "delivered");  /* the national side holds v2 */
	l = open_ok();
	memset(&err, 0, sizeof(err));
	/* written around spgw_ledger_put: counted again from the outbox */
	ck_assert_int_eq(spgw_ledger_rebuild_tallies(l, &err), SPGW_OK);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_day_counts(l, NULL, NULL, "2026-11-01", "2026-11-30", on_day,
						&x, &err),
			 SPGW_OK);
	ck_assert_str_eq(x.text, "220100 SPGL_XMJBXXB 2026-11-01 d2 v2 p0 x1;"
				 "220100 SPGL_XMJBXXB 2026-11-02 d1 v1 p1 x0;");
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_day_keys(l, "220100", "SPGL_XMJBXXB", "2026-11-01", on_key,
					      &x, &err),
			 SPGW_OK);
	ck_assert_str_eq(x.text, "A/1/delivered;B/1/delivered;C/1/dead;");
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_day_keys(l, "220100", "SPGL_XMJBXXB", "2026-11-02", on_key,
					      &x, &err),
			 SPGW_OK);
	ck_assert_str_eq(x.text, "B/2/pending;D/2/delivered;");
	ck_assert_int_eq(spgw_ledger_key_state(l, "220100", "SPGL_XMJBXXB", "B", &ks, &err),
			 SPGW_OK);
	ck_assert_int_eq(ks.found, 1);
	ck_assert_int_eq(ks.version, 2);
	ck_assert_str_eq(ks.state, "pending");
	ck_assert_int_eq(ks.delivered_version, 1);
	ck_assert_str_eq(ks.delivered_day, "2026-11-01");
	ck_assert_int_eq(spgw_ledger_key_state(l, "220100", "SPGL_XMJBXXB", "Z", &ks, &err),
			 SPGW_OK);
	ck_assert_int_eq(ks.found, 0);
	/* re-queue: only a delivered newest version, once */
	ck_assert_int_eq(spgw_ledger_requeue(l, "220100", "SPGL_XMJBXXB", "D", &queued, &err),
			 SPGW_OK);
	ck_assert_int_eq(queued, 1);
	ck_assert_int_eq(spgw_ledger_requeue(l, "220100", "SPGL_XMJBXXB", "D", &queued, &err),
			 SPGW_OK);
	ck_assert_int_eq(queued, 0);
	ck_assert_int_eq(spgw_ledger_requeue(l, "220100", "SPGL_XMJBXXB", "B", &queued, &err),
			 SPGW_OK);
	ck_assert_int_eq(queued, 0); /* its newest version waits already */
	ck_assert_int_eq(spgw_ledger_requeue(l, "220100", "SPGL_XMJBXXB", "C", &queued, &err),
			 SPGW_OK);
	ck_assert_int_eq(queued, 0); /* dead: a dead letter is retried with spgw dlq */
	spgw_ledger_close(l);
	/* D's v1 is the newest delivered again while v2 waits */
	ck_rows("SELECT day, kind, n FROM keyday WHERE day = '2026-11-02' AND n <> 0 ORDER BY 2",
		"2026-11-02|delivered|1;2026-11-02|pending|2;2026-11-02|valid|1;");
	same("after the re-queues", 0);
}
END_TEST

static enum spgw_rc on_run(void *ud, const struct spgw_recon_run *r)
{
	struct collected *x = ud;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "run %lld %s..%s %s %lld;", (long long)r->id,
		 r->from, r->to, r->result, (long long)r->differences);
	return SPGW_OK;
}

static enum spgw_rc on_rday(void *ud, const struct spgw_recon_day *d)
{
	struct collected *x = ud;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "%s %s city%lld nat%lld %s %s;", d->table,
		 d->day[0] ? d->day : "total", (long long)d->city, (long long)d->national,
		 d->status, d->note ? d->note : "-");
	return SPGW_OK;
}

static enum spgw_rc on_rkey(void *ud, const struct spgw_recon_key *k)
{
	struct collected *x = ud;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "%s %s %s;", k->key, k->kind,
		 k->action ? k->action : "-");
	return SPGW_OK;
}

START_TEST(runs_are_kept)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	struct spgw_recon_run run;
	struct spgw_recon_day d;
	struct spgw_recon_key k;
	struct collected x;
	int64_t id = 0;

	memset(&err, 0, sizeof(err));
	memset(&run, 0, sizeof(run));
	run.from = "2026-11-01";
	run.to = "2026-11-30";
	ck_assert_int_eq(spgw_ledger_recon_begin(l, &run, &id, &err), SPGW_OK);
	ck_assert_int_gt(id, 0);
	memset(&d, 0, sizeof(d));
	d.region = "220100";
	d.table = "SPGL_XMJBXXB";
	d.day = "";
	d.city = -1;
	d.national = 3;
	d.status = "differ";
	ck_assert_int_eq(spgw_ledger_begin(l, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_recon_add_day(l, id, &d, &err), SPGW_OK);
	d.day = "2026-11-02";
	d.city = 4;
	d.note = "the city holds 1 more";
	ck_assert_int_eq(spgw_ledger_recon_add_day(l, id, &d, &err), SPGW_OK);
	memset(&k, 0, sizeof(k));
	k.region = "220100";
	k.table = "SPGL_XMJBXXB";
	k.day = "2026-11-02";
	k.key = "K9";
	k.kind = "missing_national";
	k.action = "requeued";
	ck_assert_int_eq(spgw_ledger_recon_add_key(l, id, &k, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_commit(l, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_recon_finish(l, id, 1, "differ", NULL, &err), SPGW_OK);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_recon_load(l, id, on_run, on_rday, on_rkey, &x, &err),
			 SPGW_OK);
	ck_assert_str_eq(x.text, "run 1 2026-11-01..2026-11-30 differ 1;"
				 "SPGL_XMJBXXB total city-1 nat3 differ -;"
				 "SPGL_XMJBXXB 2026-11-02 city4 nat3 differ the city holds 1 more;"
				 "K9 missing_national requeued;");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_recon_load(l, 99, on_run, NULL, NULL, &x, &err),
			 SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "no reconciliation run 99"));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(spgw_ledger_recon_runs(l, 10, on_run, &x, &err), SPGW_OK);
	ck_assert_str_eq(x.text, "run 1 2026-11-01..2026-11-30 differ 1;");
	spgw_ledger_close(l);
}
END_TEST

/* A ledger written around spgw_ledger_put (a generator, an import) counts again. */
START_TEST(rebuild_counts_again)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;

	spgw_ledger_close(l);
	put("A", 1, "2026-11-01", "delivered");
	put("A", 2, "2026-11-02", "delivered");
	put("B", 1, "2026-11-01", "pending");
	scratch_poke("INSERT INTO outbox (region, spgl_table, record_key, version, day, digest,"
		     " source, created_at, valid, state) VALUES ('220100', 'SPGL_XMJBXXB', 'C', 1,"
		     " NULL, 'sm3:c', 's', '2026-11-23T00:00:00Z', 1, 'pending')");
	l = open_ok();
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_rebuild_tallies(l, &err), SPGW_OK);
	spgw_ledger_close(l);
	same("rebuilt", 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ledger_recon");
	TCase *tc = tcase_create("recon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tallies_follow_every_change);
	tcase_add_test(tc, days_keys_and_requeue);
	tcase_add_test(tc, runs_are_kept);
	tcase_add_test(tc, rebuild_counts_again);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
