/*
 * The pipeline and the ledger together under the fault seams: fail the N-th ledger write or
 * the N-th allocation for N = 0, 1, 2, ... until a batch completes untouched. After every
 * failed batch (rolled back, as ingest does) the ledger must hold nothing of it; after the
 * batch that completes, exactly the expected records and quarantine entries, each once.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "mapping.h"
#include "mem.h"
#include "pipeline.h"
#include "schema.h"

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif

static struct spgw_schema *schema;
static struct spgw_mapping *mapping;

/* The batch: the demo cases' source records, plus a record that is not JSON at all. */
struct item {
	char table[32];
	char *raw;
};
static struct item items[4];
static size_t nitems;

static void load_case(const char *name)
{
	char path[1024];
	json_error_t jerr;
	json_t *c;

	snprintf(path, sizeof(path), "%s/mapping/demo-%s/source.json", getenv("SPGW_TEST_CASES"), name);
	c = json_load_file(path, 0, &jerr);
	ck_assert_msg(c != NULL, "%s: %s", path, jerr.text);
	snprintf(items[nitems].table, sizeof(items[nitems].table), "%s",
		 json_string_value(json_object_get(c, "table")));
	items[nitems].raw = json_dumps(json_object_get(c, "record"), JSON_COMPACT);
	nitems++;
	json_decref(c);
}

static void setup(void)
{
	struct spgw_diag d;

	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_schema_load(SPGW_SOURCE_ROOT "/config/schema/spgl-v3.json", &schema,
					  &d), SPGW_OK);
	ck_assert_int_eq(spgw_mapping_load(SPGW_SOURCE_ROOT "/config/mappings/files-demo.json",
					   schema, &mapping, &d), SPGW_OK);
	spgw_diag_free(&d);
	nitems = 0;
	load_case("projects");
	load_case("steps");
	load_case("steps-bad");
	snprintf(items[nitems].table, sizeof(items[nitems].table), "steps");
	items[nitems++].raw = strdup("{\"gcdm\": \"cut short");
}

static void teardown(void)
{
	size_t i;

	for (i = 0; i < nitems; i++)
		free(items[i].raw);
	spgw_mapping_free(mapping);
	spgw_schema_free(schema);
}

struct totals {
	int64_t outbox, quarantine;
};

static enum spgw_rc add(void *ud, const char *source, const char *region, const char *table,
			const char *state, int64_t count)
{
	struct totals *t = ud;

	(void)source, (void)region, (void)table;
	if (!strcmp(state, "quarantined"))
		t->quarantine += count;
	else
		t->outbox += count;
	return SPGW_OK;
}

static struct totals totals(struct spgw_ledger *l)
{
	struct totals t = { 0, 0 };
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_counts(l, add, &t, &err), SPGW_OK);
	return t;
}

/* One batch as ingest writes it: records, then the cursor, in one transaction. */
static enum spgw_rc batch(struct spgw_ledger *l)
{
	struct spgw_pipeline_source src = { "220100-files", "220100", mapping };
	struct spgw_pipeline_stats st;
	struct spgw_pipeline *p = NULL;
	struct spgw_error err;
	enum spgw_rc rc;
	size_t i;

	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	rc = spgw_pipeline_new(schema, l, &p, &err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_begin(l, &err);
	for (i = 0; rc == SPGW_OK && i < nitems; i++)
		rc = spgw_pipeline_record(p, &src, items[i].table, items[i].raw,
					  strlen(items[i].raw), &st, &err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_cursor_set(l, src.name, "after-batch", &err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_commit(l, &err);
	if (rc)
		spgw_ledger_rollback(l);
	spgw_pipeline_free(p);
	return rc;
}

static char *cursor_of(struct spgw_ledger *l)
{
	struct spgw_error err;
	char *c = NULL;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "220100-files", &c, &err), SPGW_OK);
	return c;
}

/* Project + 2 units + 1 step valid; the bad step and the cut-short record quarantined. */
static void assert_complete(struct spgw_ledger *l)
{
	struct totals t = totals(l);
	char *c = cursor_of(l);

	ck_assert_int_eq(t.outbox, 4);
	ck_assert_int_eq(t.quarantine, 2);
	ck_assert_str_eq(c, "after-batch");
	spgw_free(c);
}

static void assert_empty(struct spgw_ledger *l, long n)
{
	struct totals t = totals(l);
	char *c = cursor_of(l);

	ck_assert_msg(t.outbox == 0 && t.quarantine == 0 && c == NULL,
		      "failure %ld left %lld records, %lld quarantine entries, cursor %s", n,
		      (long long)t.outbox, (long long)t.quarantine, c ? c : "none");
}

static struct spgw_ledger *fresh_ledger(char dir[64])
{
	struct spgw_ledger *l = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	snprintf(dir, 64, "/tmp/spgw-pipeline.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(spgw_ledger_open(dir, &l, &err), SPGW_OK);
	return l;
}

static void remove_ledger(struct spgw_ledger *l, const char *dir)
{
	char cmd[128];

	spgw_ledger_close(l);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_clean_batch_twice)
{
	char dir[64];
	struct spgw_ledger *l = fresh_ledger(dir);

	ck_assert_int_eq(batch(l), SPGW_OK);
	assert_complete(l);
	/* the same batch again (a re-read after a crash): nothing new, nothing doubled */
	ck_assert_int_eq(batch(l), SPGW_OK);
	assert_complete(l);
	remove_ledger(l, dir);
}
END_TEST

START_TEST(test_ledger_write_failures)
{
	char dir[64];
	struct spgw_ledger *l = fresh_ledger(dir);
	long n;

	for (n = 0;; n++) {
		enum spgw_rc rc;

		spgw_ledger_fail_after(l, n);
		rc = batch(l);
		spgw_ledger_fail_after(l, -1);
		if (rc == SPGW_OK)
			break;
		assert_empty(l, n);
		ck_assert_msg(n < 1000, "the batch never completed");
	}
	ck_assert_msg(n > 3, "only %ld writes were failed: the seam does not reach the batch", n);
	assert_complete(l);
	remove_ledger(l, dir);
}
END_TEST

START_TEST(test_single_write_failures)
{
	int failed = 0, completed = 0;
	long n;

	/* one failing write, the rest succeeding: a caller that ignored the failure would
	 * commit a batch with a record missing */
	for (n = 0; n < 40; n++) {
		char dir[64];
		struct spgw_ledger *l = fresh_ledger(dir);

		spgw_ledger_fail_once(l, n);
		if (batch(l) == SPGW_OK) {
			assert_complete(l);
			completed++;
		} else {
			assert_empty(l, n);
			failed++;
		}
		remove_ledger(l, dir);
	}
	ck_assert_msg(failed > 3 && completed > 0, "%d batches failed, %d completed", failed,
		      completed);
}
END_TEST

START_TEST(test_allocation_failures)
{
	char dir[64];
	struct spgw_ledger *l = fresh_ledger(dir);
	long n;

	for (n = 0;; n++) {
		enum spgw_rc rc;

		spgw_mem_fail_after(n);
		rc = batch(l);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK)
			break;
		assert_empty(l, n);
		ck_assert_msg(n < 100000, "the batch never completed");
	}
	ck_assert_msg(n > 50, "only %ld allocations were failed", n);
	assert_complete(l);
	remove_ledger(l, dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("faults");
	SRunner *sr;
	int failed;

	if (!getenv("SPGW_TEST_CASES")) {
		fprintf(stderr, "SPGW_TEST_CASES is not set\n");
		return 1;
	}
	/* jansson allocates through the seam too, as in spgw itself */
	json_set_alloc_funcs(spgw_malloc, spgw_free);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_clean_batch_twice);
	tcase_add_test(tc, test_ledger_write_failures);
	tcase_add_test(tc, test_single_write_failures);
	tcase_add_test(tc, test_allocation_failures);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
