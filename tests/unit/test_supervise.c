/*
 * Unit tests for the supervision reports (gateway/supervise.c, approval_stats.c, over
 * gateway/ledger_cases.c): a ledger built record by record through the ledger API, with
 * outbox references from the real schema, a working-day calendar written here (国庆 and
 * a 调休 Saturday, 劳动节 with its 调休 Saturday, 清明) and the real catalog; then every
 * figure checked against numbers worked out by hand in the comments:
 *
 *   - a case returned twice (and an item returned once: no violation);
 *   - an overrun across the National Day holiday and a 调休 Saturday (6 working days, where
 *     Monday to Friday would count 10);
 *   - a 补正 span and a 特别程序 span taken off (one overruns only by what is left, the
 *     other would overrun without the subtraction and does not);
 *   - a limit from the catalog's promised days when the case has no SXBLSX;
 *   - a missing step, an out-of-order delivered step, a step waiting in quarantine;
 *   - a case open past its limit at --to (a step after --to ignored), one within it;
 *   - a case outside the range, a withdrawn case, steps whose case record is missing, and
 *     a case of another city (--region);
 *   - approval times: stages judged by their main items only, a refusal superseded by a
 *     later approval, median, 90th percentile, extremes, complete / in progress /
 *     incomplete history, and the range moving a project out.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "catalog.h"
#include "ledger.h"
#include "mem.h"
#include "outbox_refs.h"
#include "schema.h"
#include "scratch.h"
#include "supervise.h"

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif

#define CASES "SPGL_XMSPSXBLXXB"
#define STEPS "SPGL_XMSPSXBLXXXXB"

static struct spgw_schema *schema;
static struct spgw_ledger *ledger;
static struct spgw_calendar *cal;
static struct spgw_catalog *cat;
static int serial; /* keys and digests */

/* A year of holidays as a notice would give them, so the counts below do not depend on
 * config/calendar/cn.json (tested on its own in test_calendar.c). */
static const char calendar_json[] =
	"{\"calendar\": \"test\", \"years\": {\"2026\": {\"source\": \"test\", \"verified\": true,"
	" \"holidays\": ["
	"  {\"name\": \"清明节\", \"from\": \"2026-04-04\", \"to\": \"2026-04-06\"},"
	"  {\"name\": \"劳动节\", \"from\": \"2026-05-01\", \"to\": \"2026-05-05\"},"
	"  {\"name\": \"端午节\", \"from\": \"2026-06-19\", \"to\": \"2026-06-21\"},"
	"  {\"name\": \"国庆节\", \"from\": \"2026-10-01\", \"to\": \"2026-10-07\"}],"
	" \"workdays\": [{\"date\": \"2026-05-09\"}, {\"date\": \"2026-09-20\"},"
	"  {\"date\": \"2026-10-10\"}]}}}";

static void setup(void)
{
	struct spgw_diag d;
	struct spgw_error err;
	FILE *f;

	scratch_make("spgw-supervise");
	f = fopen(scratch_path("cal.json"), "w");
	ck_assert_ptr_nonnull(f);
	fputs(calendar_json, f);
	fclose(f);
	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_schema_load(SPGW_SOURCE_ROOT "/config/schema/spgl-v3.json", &schema,
					  &d), SPGW_OK);
	if (spgw_calendar_load(scratch_path("cal.json"), &cal, &d))
		ck_abort_msg("calendar: %s", d.items[0].text);
	ck_assert_int_eq(spgw_catalog_load(SPGW_SOURCE_ROOT "/config/catalog/jilin.json", &cat,
					   &d), SPGW_OK);
	spgw_diag_free(&d);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_open(scratch_path(""), &ledger, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_begin(ledger, &err), SPGW_OK);
}

static void teardown(void)
{
	spgw_ledger_close(ledger);
	spgw_catalog_free(cat);
	spgw_calendar_free(cal);
	spgw_schema_free(schema);
	scratch_remove();
}

static void commit(void)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_commit(ledger, &err), SPGW_OK);
}

/* Put `rec` (stolen) as the next version of `key`, with the references the gateway gives. */
static void put(const char *region, const char *table, const char *key, json_t *rec)
{
	const struct spgw_table *t = spgw_schema_table(schema, table);
	struct spgw_outbox_refs refs;
	struct spgw_outbox_record r;
	enum spgw_put_result res;
	struct spgw_error err;
	char digest[32], *data;

	ck_assert_ptr_nonnull(t);
	json_object_set_new(rec, "DFSJZJ", json_string(key));
	json_object_set_new(rec, "XZQHDM", json_string(region));
	if (!json_object_get(rec, "SJYXBS"))
		json_object_set_new(rec, "SJYXBS", json_integer(1));
	spgw_outbox_refs(t, rec, &refs);
	data = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_ptr_nonnull(data);
	snprintf(digest, sizeof(digest), "sm3:%08d", ++serial);
	memset(&r, 0, sizeof(r));
	r.source = "test";
	r.region = region;
	r.table = table;
	r.key = key;
	r.digest = digest;
	r.data = data;
	r.data_len = strlen(data);
	r.bkey = refs.bkey;
	r.day_rule = refs.day_rule;
	r.day_table = refs.day_table;
	r.day_ref = refs.day_ref;
	r.parent_table = refs.parent_table;
	r.parent_ref = refs.parent_ref;
	r.valid = json_integer_value(json_object_get(rec, "SJYXBS")) ? SPGW_VALID_YES
								       : SPGW_VALID_NO;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_put(ledger, &r, &res, NULL, &err) == SPGW_OK, "%s", err.text);
	free(data);
	json_decref(rec);
}

/* A case (办件) of item `item`; limit < 0: no SXBLSX. */
static void kase(const char *region, const char *gcdm, const char *slbm, const char *item,
		 int limit)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:s,s:i,s:i}", "GCDM", gcdm,
			      "SPSXSLBM", slbm, "SPSXBM", item, "SPSXBBH", 1, "SPLCBM", "JL-LC-03",
			      "SPLCBBH", 1, "SPBMBM", "11220100MB0000001X", "SPBMMC", "自然资源局",
			      "SLFS", 1, "GKFS", 1);
	char key[32];

	if (limit >= 0)
		json_object_set_new(r, "SXBLSX", json_integer(limit));
	snprintf(key, sizeof(key), "SL-%s", slbm);
	put(region, CASES, key, r);
}

static void withdraw(const char *region, const char *gcdm, const char *slbm, const char *item)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:i,s:i,s:s}", "GCDM", gcdm, "SPSXSLBM", slbm,
			      "SPSXBM", item, "SPSXBBH", 1, "SJYXBS", 0, "SJWXYY", "重复申报");
	char key[32];

	snprintf(key, sizeof(key), "SL-%s", slbm);
	put(region, CASES, key, r);
}

/* A handling step under `key` (a new version when the key is there already). */
static void step_as(const char *key, const char *region, const char *gcdm, const char *slbm,
		    int code, const char *time)
{
	put(region, STEPS, key,
	    json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s}", "GCDM", gcdm, "SPSXSLBM", slbm, "BLZT",
		      code, "BLSJ", time, "BLCS", "窗口", "BLR", "张三", "DWMC", "自然资源局",
		      "DWTYSHXYDM", "11220100MB0000001X"));
}

/* A handling step: BLZT `code` at `time`. */
static void step(const char *region, const char *gcdm, const char *slbm, int code,
		 const char *time)
{
	char key[32];

	snprintf(key, sizeof(key), "BL-%06d", serial + 1);
	step_as(key, region, gcdm, slbm, code, time);
}

/* A step refused for now: it waits in quarantine for an earlier step of its case. */
static void waiting(const char *region, const char *gcdm, const char *slbm, int code,
		    const char *time)
{
	const struct spgw_table *t = spgw_schema_table(schema, STEPS);
	json_t *rec = json_pack("{s:s,s:s,s:i,s:s}", "GCDM", gcdm, "SPSXSLBM", slbm, "BLZT", code,
				"BLSJ", time);
	struct spgw_quarantine_record q;
	struct spgw_outbox_refs refs;
	struct spgw_error err;
	char *mapped, key[32];

	spgw_outbox_refs(t, rec, &refs);
	mapped = json_dumps(rec, JSON_COMPACT);
	snprintf(key, sizeof(key), "BL-Q%05d", ++serial);
	memset(&q, 0, sizeof(q));
	q.source = "test";
	q.region = region;
	q.source_table = "steps";
	q.table = STEPS;
	q.key = key;
	q.raw = mapped;
	q.raw_len = strlen(mapped);
	q.mapped = mapped;
	q.reasons = "[{\"field\":\"BLZT\",\"code\":\"sequence\",\"message\":\"test\"}]";
	q.wait_ref = refs.parent_ref;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_quarantine_put(ledger, &q, NULL, &err), SPGW_OK);
	free(mapped);
	json_decref(rec);
}

#define G1 "2026-220102-47-01-000001"
#define G2 "2026-220102-47-01-000002"
#define G3 "2026-220102-47-01-000003"
#define G4 "2026-220102-47-01-000004"
#define G5 "2026-222401-47-01-000005"
#define CC "220100"

static void violation_world(void)
{
	/* G1: JL-SX-006 returned twice (R1, R2), then accepted and approved in 2 days (R3);
	 * JL-SX-005 returned once (R4) */
	kase(CC, G1, "R1", "JL-SX-006", 7);
	step(CC, G1, "R1", 1, "2026-03-02 09:00:00");
	step(CC, G1, "R1", 4, "2026-03-03 10:00:00");
	kase(CC, G1, "R2", "JL-SX-006", 7);
	step(CC, G1, "R2", 1, "2026-03-10 09:00:00");
	step(CC, G1, "R2", 4, "2026-03-11 10:00:00");
	kase(CC, G1, "R3", "JL-SX-006", 7);
	step(CC, G1, "R3", 1, "2026-03-20 09:00:00");
	step(CC, G1, "R3", 3, "2026-03-20 09:30:00");
	step(CC, G1, "R3", 8, "2026-03-20 10:00:00");
	step(CC, G1, "R3", 11, "2026-03-24 10:00:00");
	kase(CC, G1, "R4", "JL-SX-005", 10);
	step(CC, G1, "R4", 1, "2026-03-05 09:00:00");
	step(CC, G1, "R4", 4, "2026-03-06 09:00:00");
	/* G2/O1: accepted Monday 9-28, approved Monday 10-12, limit 5: (9-28, 10-12] holds
	 * 9-29, 9-30, 10-8, 10-9, 10-10 (调休 Saturday), 10-12 = 6 working days; Monday to
	 * Friday would say 10 */
	kase(CC, G2, "O1", "JL-SX-012", 5);
	step(CC, G2, "O1", 1, "2026-09-28 09:00:00");
	step(CC, G2, "O1", 3, "2026-09-28 09:10:00");
	step(CC, G2, "O1", 8, "2026-09-28 09:20:00");
	step(CC, G2, "O1", 11, "2026-10-12 10:00:00");
	/* G2/B1: (6-1, 6-15] = 10 working days, 补正 (6-3, 6-10] = 5 off: 5 against 4 */
	kase(CC, G2, "B1", "JL-SX-010", 4);
	step(CC, G2, "B1", 3, "2026-06-01 09:00:00");
	step(CC, G2, "B1", 8, "2026-06-01 10:00:00");
	step(CC, G2, "B1", 6, "2026-06-03 09:00:00");
	step(CC, G2, "B1", 7, "2026-06-10 09:00:00");
	step(CC, G2, "B1", 11, "2026-06-15 09:00:00");
	/* G2/S1: (7-1, 7-13] = 8, 特别程序 (7-2, 7-9] = 5 off: 3 against 3, no overrun */
	kase(CC, G2, "S1", "JL-SX-013", 3);
	step(CC, G2, "S1", 3, "2026-07-01 09:00:00");
	step(CC, G2, "S1", 8, "2026-07-01 09:30:00");
	step(CC, G2, "S1", 9, "2026-07-02 09:00:00");
	step(CC, G2, "S1", 10, "2026-07-09 09:00:00");
	step(CC, G2, "S1", 12, "2026-07-13 09:00:00");
	/* G2/C1: no SXBLSX: the catalog's 7 days for JL-SX-006; (5-6, 5-18] = 5-7, 5-8, 5-9
	 * (调休 Saturday), 5-11..5-15, 5-18 = 9 */
	kase(CC, G2, "C1", "JL-SX-006", -1);
	step(CC, G2, "C1", 3, "2026-05-06 09:00:00");
	step(CC, G2, "C1", 8, "2026-05-06 10:00:00");
	step(CC, G2, "C1", 11, "2026-05-18 09:00:00");
	/* G3/M1: processing without acceptance; X1: a 10 waits in quarantine (no 9), its
	 * delivered log 1 3 8 11 is sound and in time; X2: a 7 without a 6, delivered */
	kase(CC, G3, "M1", "JL-SX-020", 3);
	step(CC, G3, "M1", 1, "2026-04-01 09:00:00");
	step(CC, G3, "M1", 8, "2026-04-01 10:00:00");
	kase(CC, G3, "X1", "JL-SX-021", 3);
	step(CC, G3, "X1", 1, "2026-04-02 09:00:00");
	step(CC, G3, "X1", 3, "2026-04-02 09:10:00");
	step(CC, G3, "X1", 8, "2026-04-02 09:20:00");
	waiting(CC, G3, "X1", 10, "2026-04-03 09:00:00");
	step(CC, G3, "X1", 11, "2026-04-07 09:00:00");
	kase(CC, G3, "X2", "JL-SX-022", 3);
	step(CC, G3, "X2", 1, "2026-04-08 09:00:00");
	step(CC, G3, "X2", 3, "2026-04-08 09:10:00");
	step(CC, G3, "X2", 7, "2026-04-09 09:00:00");
	step(CC, G3, "X2", 11, "2026-04-10 09:00:00");
	/* G4/P1: open, (10-12, 10-30] = 14 against 10; its 6 on 11-02 is after --to.
	 * P2: open, 8 against 30. Q1: accepted after the range. W1: withdrawn. Z1: steps
	 * whose case record is missing. */
	kase(CC, G4, "P1", "JL-SX-029", 10);
	step(CC, G4, "P1", 1, "2026-10-12 09:00:00");
	step(CC, G4, "P1", 3, "2026-10-12 09:10:00");
	step(CC, G4, "P1", 8, "2026-10-12 09:20:00");
	step(CC, G4, "P1", 6, "2026-11-02 09:00:00");
	kase(CC, G4, "P2", "JL-SX-028", 30);
	step(CC, G4, "P2", 3, "2026-10-20 09:00:00");
	kase(CC, G4, "Q1", "JL-SX-027", 1);
	step(CC, G4, "Q1", 3, "2026-12-01 09:00:00");
	step(CC, G4, "Q1", 11, "2026-12-10 09:00:00");
	kase(CC, G4, "W1", "JL-SX-026", 1);
	step(CC, G4, "W1", 3, "2026-08-03 09:00:00");
	step(CC, G4, "W1", 11, "2026-08-20 09:00:00");
	withdraw(CC, G4, "W1", "JL-SX-026");
	step(CC, G4, "Z1", 3, "2026-08-04 09:00:00");
	step(CC, G4, "Z1", 11, "2026-08-05 09:00:00");
	/* corrections: K1's approval first read on 8-31 (15 against 5), corrected to 8-12
	 * (2); K2's limit first 1 (7 against 1), corrected to 30. Only newest versions count. */
	kase(CC, G4, "K1", "JL-SX-025", 5);
	step(CC, G4, "K1", 3, "2026-08-10 09:00:00");
	step_as("BL-K1-END", CC, G4, "K1", 11, "2026-08-31 09:00:00");
	step_as("BL-K1-END", CC, G4, "K1", 11, "2026-08-12 09:00:00");
	kase(CC, G4, "K2", "JL-SX-024", 1);
	step(CC, G4, "K2", 3, "2026-08-10 09:00:00");
	step(CC, G4, "K2", 11, "2026-08-19 09:00:00");
	kase(CC, G4, "K2", "JL-SX-024", 30);
	/* another city: (2-2, 2-27] = 19 against 1 */
	kase("222400", G5, "E1", "JL-SX-006", 1);
	step("222400", G5, "E1", 3, "2026-02-02 09:00:00");
	step("222400", G5, "E1", 11, "2026-02-27 09:00:00");
	commit();
}

static struct spgw_violations *judge(const char *from, const char *to, const char *region)
{
	struct spgw_supervise_query q = {from, to, region};
	struct spgw_violations *v = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err) == SPGW_OK,
		      "%s", err.text);
	return v;
}

/* The violations as "kind gcdm-tail case elapsed/limit[prev]" lines, in report order. */
static char *lines(const struct spgw_violations *v)
{
	static char buf[4096];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < v->n; i++) {
		const struct spgw_violation *x = &v->v[i];

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s %s %s %ld/%ld%s%s;",
				      x->region, spgw_violation_kind_name(x->kind),
				      x->gcdm + strlen(x->gcdm) - 1, x->case_no, x->elapsed, x->limit,
				      x->prev_case ? " after " : "", x->prev_case ? x->prev_case : "");
	}
	return buf;
}

static int has_note(const struct spgw_violations *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->nnotes; i++)
		if (strstr(v->notes[i], s))
			return 1;
	return 0;
}

START_TEST(violations_by_hand)
{
	struct spgw_violations *v;
	const struct spgw_violation *x;
	const struct spgw_violation_tally *t;
	size_t i;

	violation_world();
	v = judge("2026-01-01", "2026-10-30", CC);
	ck_assert_str_eq(lines(v), "220100 second_return 1 R2 -1/-1 after R1;"
				   "220100 overrun 2 B1 5/4;"
				   "220100 overrun 2 C1 9/7;"
				   "220100 overrun 2 O1 6/5;"
				   "220100 open_overdue 4 P1 14/10;"
				   "220100 sequence 3 M1 -1/-1;"
				   "220100 sequence 3 X1 -1/-1;"
				   "220100 sequence 3 X2 -1/-1;");
	/* the details a row carries */
	x = &v->v[0];
	ck_assert_str_eq(x->item, "JL-SX-006");
	ck_assert_str_eq(x->item_name, "建设用地规划许可证核发");
	ck_assert_str_eq(x->ended, "2026-03-11 10:00:00");
	ck_assert_str_eq(x->prev_ended, "2026-03-03 10:00:00");
	ck_assert_int_eq(x->returns, 2);
	ck_assert_int_eq(x->end_code, 4);
	ck_assert_ptr_nonnull(strstr(x->note_zh, "第 2 次退件"));
	x = &v->v[1];
	ck_assert_int_eq(x->paused, 5);
	ck_assert_str_eq(x->limit_from, "SXBLSX");
	ck_assert_str_eq(x->accepted, "2026-06-01 09:00:00");
	ck_assert_str_eq(x->ended, "2026-06-15 09:00:00");
	ck_assert_int_eq(x->end_code, 11);
	ck_assert_str_eq(v->v[2].limit_from, "catalog");
	ck_assert_ptr_null(v->v[4].ended);
	ck_assert_ptr_nonnull(strstr(v->v[4].note_en, "by 2026-10-30"));
	ck_assert_ptr_nonnull(strstr(v->v[5].note_en, "after the case is accepted (3)"));
	ck_assert_ptr_null(v->v[5].accepted);
	ck_assert_str_eq(v->v[5].received, "2026-04-01 09:00:00");
	ck_assert_ptr_nonnull(strstr(v->v[6].note_en, "wait in quarantine"));
	ck_assert_ptr_nonnull(strstr(v->v[6].note_zh, "隔离区"));
	ck_assert_ptr_nonnull(strstr(v->v[7].note_en, "7 (补正结束) without an open 6"));
	/* the city's figures: 16 cases dated in the range (Q1 is later, W1 withdrawn) */
	ck_assert_int_eq(v->nregions, 1);
	t = &v->regions[0];
	ck_assert_str_eq(t->region, CC);
	ck_assert_int_eq(t->cases, 16);
	ck_assert_int_eq(t->accepted, 12);
	ck_assert_int_eq(t->returned, 3);
	ck_assert_int_eq(t->kinds[SPGW_VIOL_SECOND_RETURN], 1);
	ck_assert_int_eq(t->kinds[SPGW_VIOL_OVERRUN], 3);
	ck_assert_int_eq(t->kinds[SPGW_VIOL_OPEN_OVERDUE], 1);
	ck_assert_int_eq(t->kinds[SPGW_VIOL_SEQUENCE], 3);
	ck_assert_int_eq(t->not_judged, 2); /* X2's log, Z1's missing record */
	ck_assert(has_note(v, "1 accepted case(s) not judged for time: their step log"));
	ck_assert(has_note(v, "1 accepted case(s) not judged for time: their case record"));
	ck_assert(!has_note(v, "not verified"));
	/* per item: only items with a violation; JL-SX-006 has the return and C1 */
	for (i = 0; i < v->nitems && strcmp(v->items[i].item, "JL-SX-006"); i++)
		;
	ck_assert_uint_lt(i, v->nitems);
	ck_assert_int_eq(v->items[i].cases, 4); /* R1 R2 R3 C1 */
	ck_assert_int_eq(v->items[i].kinds[SPGW_VIOL_SECOND_RETURN], 1);
	ck_assert_int_eq(v->items[i].kinds[SPGW_VIOL_OVERRUN], 1);
	ck_assert_int_eq(v->nitems, 7); /* 006 010 012 020 021 022 029 */
	spgw_violations_free(v);
}
END_TEST

START_TEST(violations_range_and_region)
{
	struct spgw_violations *v;

	violation_world();
	/* every city: rows by city, the other one's overrun last */
	v = judge("2026-01-01", "2026-10-30", NULL);
	ck_assert_int_eq(v->nregions, 2);
	ck_assert_int_eq(v->n, 9);
	ck_assert_str_eq(v->v[8].region, "222400");
	ck_assert_int_eq(v->v[8].elapsed, 19);
	spgw_violations_free(v);
	/* March only: the second return alone (the first return is before the range too) */
	v = judge("2026-03-10", "2026-03-31", CC);
	ck_assert_str_eq(lines(v), "220100 second_return 1 R2 -1/-1 after R1;");
	ck_assert_int_eq(v->regions[0].cases, 2); /* R2 R3 */
	spgw_violations_free(v);
	/* the first return alone in the range is no violation */
	v = judge("2026-03-01", "2026-03-09", CC);
	ck_assert_str_eq(lines(v), "");
	spgw_violations_free(v);
	/* to 10-20: O1 overran; P1 is open 6 days, within its 10 */
	v = judge("2026-09-20", "2026-10-20", CC);
	ck_assert_str_eq(lines(v), "220100 overrun 2 O1 6/5;");
	spgw_violations_free(v);
	/* December: Q1's overrun, counted by its acceptance */
	v = judge("2026-12-01", "2026-12-31", CC);
	ck_assert_str_eq(lines(v), "220100 overrun 4 Q1 7/1;");
	spgw_violations_free(v);
}
END_TEST

START_TEST(bad_queries)
{
	struct spgw_supervise_query q = {"2026-01-01", "2026-13-01", NULL};
	struct spgw_violations *v = NULL;
	struct spgw_error err;

	commit();
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err),
			 SPGW_E_USAGE);
	ck_assert_ptr_nonnull(strstr(err.text, "--to \"2026-13-01\" is not a date"));
	q.to = "2027-01-05";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err),
			 SPGW_E_USAGE);
	ck_assert_ptr_nonnull(strstr(err.text, "not 2027"));
	q.to = "2026-01-05";
	q.from = "2026-02-01";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err),
			 SPGW_E_USAGE);
	q.from = "2026-01-01";
	q.region = "2201";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err),
			 SPGW_E_USAGE);
	ck_assert_ptr_null(v);
	/* an empty ledger: no violation, no region */
	q.region = NULL;
	ck_assert_int_eq(spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err),
			 SPGW_OK);
	ck_assert_int_eq(v->n, 0);
	ck_assert_int_eq(v->nregions, 0);
	spgw_violations_free(v);
}
END_TEST

/* ---- approval times ---- */

#define P "2026-220102-47-01-000010"
#define Q "2026-220102-47-01-000011"
#define R "2026-220102-47-01-000012"
#define S "2026-220102-47-01-000013"
#define U "2026-220102-47-01-000015"

/* One accepted case of `item` from `t3` to `end` (code `endc`, 0: open). */
static void accepted(const char *gcdm, const char *slbm, const char *item, const char *t3,
		     int endc, const char *end)
{
	kase(CC, gcdm, slbm, item, 20);
	step(CC, gcdm, slbm, 3, t3);
	if (endc)
		step(CC, gcdm, slbm, endc, end);
}

static void stats_world(void)
{
	/* P: stage 1 (3-2, 3-6] = 4, its parallel item refused (not holding the stage);
	 * stage 2 (4-1, 4-8] = 4 (清明 4-6 off); stage 3 (6-1, 6-3] = 2; stage 4 (9-1, 9-8] = 5 */
	accepted(P, "P1", "JL-SX-006", "2026-03-02 09:00:00", 11, "2026-03-06 09:00:00");
	accepted(P, "P1b", "JL-SX-030", "2026-03-02 10:00:00", 13, "2026-03-03 09:00:00");
	accepted(P, "P2", "JL-SX-012", "2026-04-01 09:00:00", 11, "2026-04-08 09:00:00");
	accepted(P, "P3", "JL-SX-020", "2026-06-01 09:00:00", 11, "2026-06-03 09:00:00");
	accepted(P, "P4", "JL-SX-029", "2026-09-01 09:00:00", 12, "2026-09-08 09:00:00");
	/* Q: stage 1 two main items, (3-2, 3-13] = 9; stage 2 (5-6, 5-12] = 5 (5-9 worked);
	 * stage 3 refused, then approved: (6-1, 6-10] = 7; stage 4 (10-12, 10-16] = 4 */
	accepted(Q, "Q1", "JL-SX-006", "2026-03-02 09:00:00", 11, "2026-03-10 09:00:00");
	accepted(Q, "Q1b", "JL-SX-005", "2026-03-03 09:00:00", 11, "2026-03-13 09:00:00");
	accepted(Q, "Q2", "JL-SX-012", "2026-05-06 09:00:00", 11, "2026-05-12 09:00:00");
	accepted(Q, "Q3", "JL-SX-020", "2026-06-01 09:00:00", 13, "2026-06-02 09:00:00");
	accepted(Q, "Q3b", "JL-SX-020", "2026-06-08 09:00:00", 11, "2026-06-10 09:00:00");
	accepted(Q, "Q4", "JL-SX-029", "2026-10-12 09:00:00", 11, "2026-10-16 09:00:00");
	/* R: stage 1 (3-2, 3-4] = 2, stage 2 open: in progress */
	accepted(R, "R1", "JL-SX-006", "2026-03-02 09:00:00", 11, "2026-03-04 09:00:00");
	accepted(R, "R2", "JL-SX-012", "2026-06-01 09:00:00", 0, NULL);
	/* S: only stage 4 in the ledger, (9-1, 9-2] = 1: incomplete history */
	accepted(S, "S4", "JL-SX-029", "2026-09-01 09:00:00", 11, "2026-09-02 09:00:00");
	/* U: stage 1 refused in its latest case: in progress, no stage */
	accepted(U, "U1", "JL-SX-006", "2026-03-02 09:00:00", 13, "2026-03-05 09:00:00");
	commit();
}

static struct spgw_stats *times(const char *from, const char *to)
{
	struct spgw_supervise_query q = {from, to, NULL};
	struct spgw_stats *st = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_supervise_stats(ledger, schema, cal, cat, &q, &st, &err) == SPGW_OK,
		      "%s", err.text);
	return st;
}

static void fig_is(const struct spgw_stats_figure *f, long n, double median, long p90,
		   long min, const char *fastest, long max, const char *slowest)
{
	ck_assert_int_eq(f->n, n);
	if (!n)
		return;
	ck_assert_msg(f->median == median, "median %g, want %g", f->median, median);
	ck_assert_int_eq(f->p90, p90);
	ck_assert_int_eq(f->min, min);
	ck_assert_int_eq(f->max, max);
	ck_assert_str_eq(f->fastest, fastest);
	ck_assert_str_eq(f->slowest, slowest);
}

static long wd(const char *a, const char *b)
{
	long n = -1;

	ck_assert_int_eq(spgw_calendar_workdays(cal, a, b, &n, NULL), SPGW_OK);
	return n;
}

START_TEST(stats_by_hand)
{
	struct spgw_stats *st;
	long tp = wd("2026-03-02", "2026-09-08"), tq = wd("2026-03-02", "2026-10-16");
	size_t k;

	stats_world();
	st = times("2026-01-01", "2026-10-30");
	ck_assert_int_eq(st->nregions, 2); /* 220100, then the whole */
	ck_assert_str_eq(st->regions[0].region, CC);
	ck_assert_ptr_null(st->regions[1].region);
	for (k = 0; k < 2; k++) {
		const struct spgw_stats_region *r = &st->regions[k];

		ck_assert_int_eq(r->complete, 2);
		ck_assert_int_eq(r->in_progress, 2);
		ck_assert_int_eq(r->incomplete_history, 1);
		fig_is(&r->fig[0], 3, 4, 9, 2, R, 9, Q);
		fig_is(&r->fig[1], 2, 4.5, 5, 4, P, 5, Q);
		fig_is(&r->fig[2], 2, 4.5, 7, 2, P, 7, Q);
		fig_is(&r->fig[3], 3, 4, 5, 1, S, 5, P);
		fig_is(&r->fig[SPGW_STATS_TOTAL], 2, (tp + tq) / 2.0, tq, tp, P, tq, Q);
		fig_is(&r->fig[SPGW_STATS_SUM], 2, 20, 25, 15, P, 25, Q);
	}
	ck_assert_int_eq(tp, 132); /* (3-2, 9-8]: 136 weekdays - 5 off + 1 调休 Saturday */
	spgw_stats_free(st);
	/* to 9-30: Q's stage 4 is later, Q is in progress */
	st = times("2026-01-01", "2026-09-30");
	ck_assert_int_eq(st->regions[0].complete, 1);
	ck_assert_int_eq(st->regions[0].in_progress, 3);
	fig_is(&st->regions[0].fig[3], 2, 3, 5, 1, S, 5, P);
	fig_is(&st->regions[0].fig[SPGW_STATS_SUM], 1, 15, 15, 15, P, 15, P);
	spgw_stats_free(st);
	/* from 10-01: only Q completes; P completed before the range (neither counted nor in
	 * progress) */
	st = times("2026-10-01", "2026-10-30");
	ck_assert_int_eq(st->regions[0].complete, 1);
	ck_assert_int_eq(st->regions[0].in_progress, 2);
	fig_is(&st->regions[0].fig[SPGW_STATS_TOTAL], 1, (double)tq, tq, tq, Q, tq, Q);
	fig_is(&st->regions[0].fig[0], 0, 0, 0, 0, NULL, 0, NULL);
	spgw_stats_free(st);
}
END_TEST

START_TEST(stats_need_the_catalog)
{
	struct spgw_supervise_query q = {"2026-01-01", "2026-10-30", NULL};
	struct spgw_stats *st = NULL;
	struct spgw_error err;

	commit();
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_supervise_stats(ledger, schema, cal, NULL, &q, &st, &err),
			 SPGW_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.text, "catalog"));
}
END_TEST

/* Fail the n-th allocation for n = 0, 1, ... until a run completes: every failure is an
 * out-of-memory error, nothing half-made comes back, and (under ASan) nothing leaks. */
START_TEST(out_of_memory_anywhere)
{
	struct spgw_supervise_query q = {"2026-01-01", "2026-10-30", NULL};
	long n, done = 0;

	violation_world();
	for (n = 0; n < 100000 && done < 2; n++) {
		struct spgw_violations *v = NULL;
		struct spgw_stats *st = NULL;
		struct spgw_error err;
		enum spgw_rc rc;

		memset(&err, 0, sizeof(err));
		spgw_mem_fail_after(n);
		rc = done ? spgw_supervise_stats(ledger, schema, cal, cat, &q, &st, &err)
			  : spgw_supervise_violations(ledger, schema, cal, cat, &q, &v, &err);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK) {
			ck_assert(done ? st != NULL : v != NULL);
			if (!done)
				ck_assert_int_eq(v->n, 9);
			spgw_violations_free(v);
			spgw_stats_free(st);
			done++;
			n = -1;
			continue;
		}
		ck_assert_msg(rc == SPGW_E_NOMEM, "allocation %ld: %s (%d)", n, err.text, rc);
		ck_assert_ptr_null(v);
		ck_assert_ptr_null(st);
	}
	ck_assert_int_eq(done, 2);
}
END_TEST

static Suite *supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("violations");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, violations_by_hand);
	tcase_add_test(tc, violations_range_and_region);
	tcase_add_test(tc, bad_queries);
	tcase_add_test(tc, out_of_memory_anywhere);
	suite_add_tcase(s, tc);
	tc = tcase_create("stats");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stats_by_hand);
	tcase_add_test(tc, stats_need_the_catalog);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(supervise_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
