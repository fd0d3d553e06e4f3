/*
 * Rules across records: the handling-step order of a case (sequence.c) and append-only
 * corrections and withdrawals (pipeline.c), each through the real pipeline and ledger with a
 * small identity mapping, then read back from the ledger file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "mapping.h"
#include "mem.h"
#include "outbox_refs.h"
#include "pipeline.h"
#include "scratch.h"
#include "schema.h"
#include "sequence.h"

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif

/* ---- the automaton alone ---- */

/* Judge "1@t1 3@t2 ..." given as codes with increasing times; returns the fault index. */
static long judge(const char *codes)
{
	struct spgw_seq_event ev[32];
	char en[256], zh[256], *end;
	const char *p = codes;
	size_t n = 0;
	long bad;

	while (*p) {
		ev[n].code = (int)strtol(p, &end, 10);
		ev[n].is_new = 0;
		snprintf(ev[n].time, sizeof(ev[n].time), "2026-11-03 09:%02zu:00", n);
		n++;
		p = *end ? end + 1 : end;
	}
	bad = spgw_sequence_blzt(ev, n, en, zh, sizeof(en));
	if (bad >= 0)
		ck_assert_msg(en[0] && zh[0], "a fault without words: %s", codes);
	return bad;
}

START_TEST(sound_logs)
{
	static const char *const ok[] = {
		"1,3,8,11", "3,8,11", "1,3,8,6,7,11", "1,3,8,9,10,9,10,12", "1,4", "1,2", "1,5",
		"1,3,8,13", "1,3,14", "1,3,8,11,15", "1,3", "1,3,8,6,7,9,10,11", "1,3,8,14,15",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(judge(ok[i]) == -1, "%s judged faulty at %ld", ok[i], judge(ok[i]));
}
END_TEST

START_TEST(faulty_logs)
{
	static const struct {
		const char *log;
		long at;
	} bad[] = {
		{ "8,11", 0 },	    /* first must be 1 or 3 */
		{ "1,3,10", 2 },    /* 10 without 9 */
		{ "1,3,3", 2 },	    /* 3 twice */
		{ "1,3,8,11,8", 4 }, /* after an end only 15 */
		{ "1,3,4", 2 },	    /* a return after acceptance */
		{ "1,8", 1 },	    /* processing before acceptance */
		{ "1,3,7", 2 },	    /* 7 without 6 */
		{ "1,3,9,9", 3 },   /* nested 9 */
		{ "1,3,6,11", 3 },  /* ends while supplementing */
		{ "1,3,9,11", 3 },  /* ends inside a special procedure */
		{ "1,3,8,11,15,15", 5 },
		{ "1,3,6,7,6", 4 }, /* 6 at most once */
		{ "1,3,16", 2 },    /* not a status */
		{ "3,1", 1 },	    /* 1 only first (and once) */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(judge(bad[i].log) == bad[i].at, "%s: fault at %ld, want %ld",
			      bad[i].log, judge(bad[i].log), bad[i].at);
}
END_TEST

START_TEST(times_must_increase)
{
	struct spgw_seq_event ev[3] = {
		{ 1, "2026-11-03 09:00:00", 0 },
		{ 3, "2026-11-03 09:00:00", 0 },
		{ 8, "2026-11-03 10:00:00", 0 },
	};
	char en[256], zh[256];

	ck_assert_int_eq(spgw_sequence_blzt(ev, 3, en, zh, sizeof(en)), 1);
	ck_assert_ptr_nonnull(strstr(en, "not after"));
	ck_assert_ptr_nonnull(strstr(zh, "不晚于"));
}
END_TEST

/* ---- through the pipeline and the ledger ---- */

static struct spgw_schema *schema;
static struct spgw_mapping *mapping;
static struct spgw_ledger *ledger;

/* Source table "steps" and "units" carry SPGL fields under their own names (identity). */
static const char mapping_json[] =
	"{\"mapping\": \"identity\", \"tables\": {"
	" \"steps\": {\"emit\": [{\"table\": \"SPGL_XMSPSXBLXXXXB\", \"key\": \"id\", \"fields\": {"
	"  \"GCDM\": \"GCDM\", \"SPSXSLBM\": \"SPSXSLBM\", \"BLCS\": {\"const\": \"窗口\"},"
	"  \"BLR\": {\"const\": \"张三\"}, \"BLZT\": \"BLZT\", \"BLSJ\": \"BLSJ\","
	"  \"DWMC\": {\"const\": \"长春市自然资源局\"}, \"DWTYSHXYDM\": {\"const\": \"91220101MA17ABCDE2\"},"
	"  \"BLYJ\": {\"const\": \"同意\"}, \"SJYXBS\": {\"from\": \"SJYXBS\", \"default\": 1},"
	"  \"SJWXYY\": {\"from\": \"SJWXYY\", \"omit_empty\": true}}}]},"
	" \"units\": {\"emit\": [{\"table\": \"SPGL_XMDWXXB\", \"key\": \"id\", \"fields\": {"
	"  \"XMDM\": \"XMDM\", \"GCDM\": \"XMDM\", \"DWTYSHXYDM\": {\"const\": \"91220101MA17ABCDE2\"},"
	"  \"DWMC\": \"DWMC\", \"DWLX\": {\"const\": 1},"
	"  \"SJYXBS\": {\"from\": \"SJYXBS\", \"default\": 1},"
	"  \"SJWXYY\": {\"from\": \"SJWXYY\", \"omit_empty\": true}}}]}}}";

static void setup(void)
{
	struct spgw_diag d;
	struct spgw_error err;
	FILE *f;

	scratch_make("spgw-sequence");
	f = fopen(scratch_path("identity.json"), "w");
	ck_assert_ptr_nonnull(f);
	fputs(mapping_json, f);
	fclose(f);
	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_schema_load(SPGW_SOURCE_ROOT "/config/schema/spgl-v3.json", &schema,
					  &d), SPGW_OK);
	if (spgw_mapping_load(scratch_path("identity.json"), schema, &mapping, &d) != SPGW_OK)
		ck_abort_msg("the test mapping does not load: %s", d.n ? d.items[0].text : "?");
	spgw_diag_free(&d);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_open(scratch_path(""), &ledger, &err), SPGW_OK);
}

static void teardown(void)
{
	spgw_ledger_close(ledger);
	spgw_mapping_free(mapping);
	spgw_schema_free(schema);
	scratch_remove();
}

/* Feed source records "table|json" in one transaction. */
static struct spgw_pipeline_stats feed(const char *const *recs, size_t n)
{
	struct spgw_pipeline_source src = { "cc", "220100", mapping };
	struct spgw_pipeline_stats st;
	struct spgw_pipeline *p = NULL;
	struct spgw_error err;
	size_t i;

	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_pipeline_new(schema, ledger, &p, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_begin(ledger, &err), SPGW_OK);
	for (i = 0; i < n; i++) {
		const char *bar = strchr(recs[i], '|');
		char table[16];

		snprintf(table, sizeof(table), "%.*s", (int)(bar - recs[i]), recs[i]);
		ck_assert_msg(spgw_pipeline_record(p, &src, table, bar + 1, strlen(bar + 1), &st,
						   &err) == SPGW_OK,
			      "%s: %s", recs[i], err.text);
	}
	ck_assert_int_eq(spgw_ledger_commit(ledger, &err), SPGW_OK);
	spgw_pipeline_free(p);
	return st;
}

#define STEP(id, zt, sj) \
	"steps|{\"id\":\"" id "\",\"GCDM\":\"2026-220104-47-01-000123\",\"SPSXSLBM\":\"SL1\"," \
	"\"BLZT\":" #zt ",\"BLSJ\":\"2026-11-03 " sj "\"}"

START_TEST(step_out_of_order_is_quarantined)
{
	const char *const recs[] = {
		STEP("B1", 1, "09:00:00"), STEP("B2", 3, "09:10:00"), STEP("B3", 10, "09:20:00"),
		STEP("B4", 8, "09:30:00"), STEP("B5", 3, "09:40:00"), STEP("B6", 11, "10:00:00"),
		STEP("B7", 8, "10:30:00"),
	};
	char *r;

	feed(recs, 7);
	/* 1, 3, 8, 11 stand; the 10 without a 9, the second 3 and the step after the end wait
	 * in quarantine with the reason */
	ck_rows("SELECT record_key FROM outbox ORDER BY id", "B1;B2;B4;B6;");
	ck_rows("SELECT record_key FROM quarantine ORDER BY id", "B3;B5;B7;");
	r = scratch_peek_text("SELECT reasons FROM quarantine WHERE record_key = 'B3'");
	ck_assert_msg(strstr(r, "\"sequence\"") && strstr(r, "without an open 9") &&
			      strstr(r, "2026-220104-47-01-000123/SL1") && strstr(r, "1,3") &&
			      strstr(r, "特别程序"),
		      "%s", r);
	free(r);
	/* the same pull again changes nothing: the known steps are their own siblings */
	feed(recs, 7);
	ck_rows("SELECT count(*) FROM outbox", "4;");
}
END_TEST

START_TEST(steps_may_arrive_out_of_time_order)
{
	const char *const recs[] = { STEP("B2", 3, "09:10:00"), STEP("B1", 1, "09:00:00"),
				     STEP("B3", 8, "09:20:00") };

	feed(recs, 3);
	ck_rows("SELECT count(*) FROM outbox", "3;");
	ck_rows("SELECT count(*) FROM quarantine", "0;");
}
END_TEST

/* A source reads by update time, not by event time: the 受理 (3) comes last. The 8 and the
 * 11 wait in quarantine for it and go to the outbox when it arrives, in the same pull. */
START_TEST(waiting_steps_resolve_when_the_missing_step_arrives)
{
	const char *const recs[] = { STEP("B1", 1, "09:00:00"), STEP("B3", 8, "09:20:00"),
				     STEP("B4", 11, "09:30:00"), STEP("B2", 3, "09:10:00") };
	const char *const later[] = { STEP("B5", 10, "09:40:00") };
	struct spgw_pipeline_stats st = feed(recs, 4);

	/* four records came and four went in: the re-judged ones are not counted twice */
	ck_assert_uint_eq(st.records, 4);
	ck_assert_uint_eq(st.added, 4);
	ck_rows("SELECT record_key FROM outbox ORDER BY record_key", "B1;B2;B3;B4;");
	ck_rows("SELECT record_key, resolved FROM quarantine ORDER BY id", "B3|1;B4|1;");
	/* a step that can never fit stays, waiting, with its reason */
	feed(later, 1);
	ck_rows("SELECT record_key, resolved, wait_ref IS NOT NULL FROM quarantine"
		" WHERE resolved = 0", "B5|0|1;");
}
END_TEST

/* A 补正 pair (6, 7) read after the case's end (11): each alone breaks the log, together
 * they mend it; both go in. */
START_TEST(a_pair_read_late_goes_in_together)
{
	const char *const recs[] = { STEP("B1", 1, "09:00:00"), STEP("B2", 3, "09:10:00"),
				     STEP("B5", 11, "11:00:00"), STEP("B3", 6, "09:20:00"),
				     STEP("B4", 7, "09:30:00") };

	feed(recs, 5);
	ck_rows("SELECT record_key FROM outbox ORDER BY record_key", "B1;B2;B3;B4;B5;");
	ck_rows("SELECT count(*) FROM quarantine WHERE resolved = 0", "0;");
}
END_TEST

#define UNIT(id, name, extra) \
	"units|{\"id\":\"" id "\",\"XMDM\":\"2026-220104-47-01-000123\",\"DWMC\":\"" name "\"" extra "}"

START_TEST(correction_is_invalidation_then_new_row)
{
	const char *const v1[] = { UNIT("DW-1", "甲公司", "") };
	const char *const v2[] = { UNIT("DW-1", "甲建设公司", "") };
	struct spgw_pipeline_stats st;

	feed(v1, 1);
	st = feed(v2, 1);
	ck_assert_int_eq(st.versions, 2);
	ck_rows("SELECT version, valid, json_extract(data, '$.DWMC'),"
		" ifnull(json_extract(data, '$.SJWXYY'), '-') FROM outbox_records ORDER BY version",
		"1|1|甲公司|-;2|0|甲公司|地方系统已更正此记录，原数据作废（corrected at source）;"
		"3|1|甲建设公司|-;");
	/* the corrected row again: nothing new */
	st = feed(v2, 1);
	ck_assert_int_eq(st.unchanged, 1);
	ck_rows("SELECT count(*) FROM outbox", "3;");
}
END_TEST

START_TEST(withdrawal_invalidates_what_was_sent)
{
	const char *const v1[] = { UNIT("DW-1", "甲公司", "") };
	/* the source's tombstone carries other data: what goes is the last version, invalid */
	const char *const gone[] = { UNIT("DW-1", "别的名字", ",\"SJYXBS\":0,\"SJWXYY\":\"重复录入\"") };
	const char *const back[] = { UNIT("DW-1", "甲公司", ",\"SJYXBS\":1") };

	feed(v1, 1);
	feed(gone, 1);
	ck_rows("SELECT version, valid, json_extract(data, '$.DWMC'), json_extract(data, '$.SJWXYY')"
		" FROM outbox_records WHERE version = 2",
		"2|0|甲公司|重复录入;");
	feed(gone, 1); /* the tombstone again: the same invalidation, unchanged */
	ck_rows("SELECT count(*) FROM outbox", "2;");
	feed(back, 1); /* restored at source: a valid row again, no second invalidation */
	ck_rows("SELECT version, valid FROM outbox ORDER BY version", "1|1;2|0;3|1;");
}
END_TEST

START_TEST(first_seen_withdrawn_is_kept_as_sent)
{
	const char *const gone[] = { UNIT("DW-9", "乙公司", ",\"SJYXBS\":0,\"SJWXYY\":\"作废\"") };

	feed(gone, 1);
	ck_rows("SELECT version, valid, json_extract(data, '$.DWMC') FROM outbox_records",
		"1|0|乙公司;");
}
END_TEST

/* A project names its flow version as the decimal 1.0, the flow's key holds 1 (or 1.0): both
 * must give the same reference text, or the project would never find its parent. */
START_TEST(decimal_versions_meet_in_references)
{
	struct spgw_outbox_refs flow, flow_real, proj;
	json_t *f = json_pack("{s:s, s:i}", "SPLCBM", "JL-LC-01", "SPLCBBH", 1);
	json_t *fr = json_pack("{s:s, s:f}", "SPLCBM", "JL-LC-01", "SPLCBBH", 1.0);
	json_t *p = json_pack("{s:s, s:s, s:f}", "GCDM", "G", "SPLCBM", "JL-LC-01", "SPLCBBH", 1.0);

	spgw_outbox_refs(spgw_schema_table(schema, "SPGL_SPLCXXB"), f, &flow);
	spgw_outbox_refs(spgw_schema_table(schema, "SPGL_SPLCXXB"), fr, &flow_real);
	spgw_outbox_refs(spgw_schema_table(schema, "SPGL_XMJBXXB"), p, &proj);
	ck_assert_str_eq(flow.bkey, "JL-LC-01\x1f" "1");
	ck_assert_str_eq(flow_real.bkey, flow.bkey);
	ck_assert_str_eq(proj.parent_ref, flow.bkey);
	json_decref(f);
	json_decref(fr);
	json_decref(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sequence");
	TCase *tc = tcase_create("automaton");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sound_logs);
	tcase_add_test(tc, faulty_logs);
	tcase_add_test(tc, times_must_increase);
	suite_add_tcase(s, tc);
	tc = tcase_create("ledger");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, step_out_of_order_is_quarantined);
	tcase_add_test(tc, steps_may_arrive_out_of_time_order);
	tcase_add_test(tc, waiting_steps_resolve_when_the_missing_step_arrives);
	tcase_add_test(tc, a_pair_read_late_goes_in_together);
	tcase_add_test(tc, correction_is_invalidation_then_new_row);
	tcase_add_test(tc, withdrawal_invalidates_what_was_sent);
	tcase_add_test(tc, first_seen_withdrawn_is_kept_as_sent);
	tcase_add_test(tc, decimal_versions_meet_in_references);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
