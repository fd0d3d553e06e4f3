/*
 * The schema loader and accessors: config/schema/spgl-v3.json loads cleanly and says what
 * shared/spgl/ says; each broken schema of tests/cases/schema/<case>/schema.json fails with
 * every problem substring listed in its `expected` ("valid": it must load); the business-day
 * rules; dates; `spgw schema show`; allocation failures at every step of a load.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "schema.h"

#define MAX_CASES 256

static char *case_names[MAX_CASES];
static size_t ncases;

static const char *cases_root(void)
{
	const char *root = getenv("SPGW_TEST_CASES");

	ck_assert_msg(root && *root, "SPGW_TEST_CASES must name the tests/cases folder");
	return root;
}

/* SPGW_SCHEMA when set (meson sets it), else config/schema/ beside tests/cases. */
static void schema_path(char *buf, size_t size)
{
	const char *env = getenv("SPGW_SCHEMA");

	if (env && *env)
		snprintf(buf, size, "%s", env);
	else
		snprintf(buf, size, "%s/../../config/schema/spgl-v3.json", cases_root());
}

static struct spgw_schema *load_real(void)
{
	struct spgw_schema *s = NULL;
	struct spgw_diag d;
	char path[1024], line[1024];
	size_t i;

	schema_path(path, sizeof(path));
	spgw_diag_init(&d);
	if (spgw_schema_load(path, &s, &d) != SPGW_OK) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", spgw_error_format(&d.items[i], line, sizeof(line)));
		ck_abort_msg("%s has %zu problems (listed above)", path, d.n);
	}
	ck_assert_uint_eq(d.n, 0);
	spgw_diag_free(&d);
	return s;
}

static const char *const core[12] = {
	"SPGL_SPLCXXB", "SPGL_SPJDXXB", "SPGL_SPSXJBXXB", "SPGL_SPLCJBLSXXXB", "SPGL_XMJBXXB",
	"SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB", "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB",
	"SPGL_XMSPSXBLTBCXXXB", "SPGL_XMSPSXZQYJXXB", "SPGL_XMSQCLJQTFJXXB",
};
static const int core_level[12] = { 0, 1, 1, 2, 3, 4, 4, 5, 5, 5, 5, 5 };

START_TEST(test_real_schema)
{
	static const char *const not_sent[] = { "LSH", "SJSCZT", "SBYY", "GXSJ", "SCSJ" };
	static const char *const common[] = { "DFSJZJ", "XZQHDM", "SJYXBS", "SJWXYY" };
	struct spgw_schema *s = load_real();
	size_t i, j, k;

	ck_assert_str_eq(spgw_schema_id(s), "spgl-v3");
	ck_assert_uint_eq(spgw_schema_table_count(s), 12);
	for (i = 0; i < 12; i++) {
		const struct spgw_table *t = spgw_schema_table(s, core[i]);

		ck_assert_msg(t != NULL, "%s missing", core[i]);
		ck_assert_int_eq(spgw_table_level(t), core_level[i]);
		ck_assert_str_eq(spgw_table_name(t), core[i]);
		ck_assert(strlen(spgw_table_zh(t)) > 0);
		for (j = 0; j < 5; j++) {
			const struct spgw_field *f = spgw_table_field(t, not_sent[j]);

			ck_assert_msg(f && spgw_field_not_sent(f), "%s.%s", core[i], not_sent[j]);
		}
		for (j = 0; j < 4; j++) {
			const struct spgw_field *f = spgw_table_field(t, common[j]);

			ck_assert_msg(f && !spgw_field_not_sent(f), "%s.%s", core[i], common[j]);
		}
		/* lookup by name finds every field, and nothing else */
		for (j = 0; j < spgw_table_field_count(t); j++) {
			const struct spgw_field *f = spgw_table_field_at(t, j);

			ck_assert_ptr_eq(spgw_table_field(t, spgw_field_name(f)), f);
			ck_assert_ptr_nonnull(spgw_field_def(f));
		}
		ck_assert_ptr_null(spgw_table_field(t, "NOPE"));
		ck_assert_ptr_null(spgw_table_field(t, ""));
		ck_assert_ptr_nonnull(spgw_table_def(t));
	}
	ck_assert_ptr_null(spgw_schema_table(s, "SPGL_XMQTFJXXB"));
	ck_assert_ptr_null(spgw_schema_table_at(s, 12));
	/* upload order: levels never go down, and every parent comes before its child */
	for (i = 0; i < 12; i++) {
		const struct spgw_table *t = spgw_schema_table_at(s, i), *p;

		if (i)
			ck_assert_int_le(spgw_table_level(spgw_schema_table_at(s, i - 1)),
					 spgw_table_level(t));
		for (j = 0; (p = spgw_table_parent(t, j, NULL, NULL)); j++) {
			for (k = 0; spgw_schema_table_at(s, k) != p; k++)
				ck_assert_uint_lt(k, i);
		}
	}
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_keys_and_parents)
{
	struct spgw_schema *s = load_real();
	const struct spgw_table *t = spgw_schema_table(s, "SPGL_XMSPSXBLXXB"), *p;
	const char *const *f, *const *pf;

	ck_assert_str_eq(spgw_table_key(t)[0], "GCDM");
	ck_assert_str_eq(spgw_table_key(t)[1], "SPSXSLBM");
	ck_assert_ptr_null(spgw_table_key(t)[2]);
	p = spgw_table_parent(t, 0, &f, &pf);
	ck_assert_str_eq(spgw_table_name(p), "SPGL_XMJBXXB");
	ck_assert_str_eq(f[0], "GCDM");
	ck_assert_ptr_null(f[1]);
	ck_assert_str_eq(pf[0], "GCDM");
	/* the case names its stage-item link by four of the link's five key fields */
	p = spgw_table_parent(t, 1, &f, &pf);
	ck_assert_str_eq(spgw_table_name(p), "SPGL_SPLCJBLSXXXB");
	ck_assert_str_eq(f[2], "SPSXBM");
	ck_assert_str_eq(pf[3], "SPSXBBH");
	ck_assert_ptr_null(pf[4]);
	ck_assert_ptr_null(spgw_table_parent(t, 2, &f, &pf));
	t = spgw_schema_table(s, "SPGL_SPJDXXB");
	p = spgw_table_parent(t, 0, &f, &pf);
	ck_assert_str_eq(spgw_table_name(p), "SPGL_SPLCXXB");
	ck_assert_str_eq(pf[0], "SPLCBM");
	ck_assert_str_eq(pf[1], "SPLCBBH");
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_fields_and_codes)
{
	/* every division code of shared/spgl/codes.md */
	static const char *const jilin[] = {
		"220000", "220100", "220200", "220300", "220400", "220500", "220600", "220700",
		"220800", "222400", "220702", "220721", "220722", "220723", "220781", "220802",
		"220821", "220822", "220881", "220882", "222401", "222402", "222403", "222404",
		"222405", "222406", "222424", "222426" };
	struct spgw_schema *s = load_real();
	const struct spgw_table *t = spgw_schema_table(s, "SPGL_XMJBXXB");
	const struct spgw_field *f;
	const struct spgw_field_rules *r;
	const struct spgw_codes *xz;
	const char *label, *rep, *why_en, *why_zh;
	json_t *rec;
	size_t i;
	char code[8];

	f = spgw_table_field(t, "ZTZE");
	r = spgw_field_rules(f);
	ck_assert_int_eq(spgw_field_type(f), SPGW_FT_DEC);
	ck_assert_int_eq(r->precision, 14);
	ck_assert_int_eq(r->scale, 4);
	ck_assert(r->has_min && r->min == 0);
	ck_assert(r->has_warn_above && r->warn_above == 10000000);
	ck_assert_str_eq(spgw_field_zh(f), "总投资额（万元）");
	r = spgw_field_rules(spgw_table_field(t, "SBSJ"));
	ck_assert(r->count_date);
	ck_assert_str_eq(r->format->name, "date");
	r = spgw_field_rules(spgw_table_field(t, "XMMC"));
	ck_assert_int_eq(r->max, 200);
	r = spgw_field_rules(spgw_table_field(t, "JSDDXZQH"));
	ck_assert_int_eq(r->format->list, ',');
	xz = r->codes;
	ck_assert_str_eq(spgw_codes_name(xz), "XZQHDM");
	for (i = 0; i < sizeof(jilin) / sizeof(*jilin); i++)
		ck_assert_msg(spgw_codes_find(xz, jilin[i], &label, NULL) == 1 && *label, "%s",
			      jilin[i]);
	ck_assert_int_eq(spgw_codes_find(xz, "220724", &label, &rep), -1);
	ck_assert_str_eq(rep, "220781");
	ck_assert_str_eq(label, "扶余县");
	ck_assert_int_eq(spgw_codes_find(xz, "229999", NULL, NULL), 0);
	ck_assert_ptr_nonnull(spgw_schema_codes(s, "XZQHDM"));
	ck_assert_ptr_null(spgw_schema_codes(s, "NOPE"));
	/* BLZT: all fifteen labels; ranges admit plain integers only */
	xz = spgw_field_rules(spgw_table_field(spgw_schema_table(s, "SPGL_XMSPSXBLXXXXB"),
					       "BLZT"))->codes;
	for (i = 1; i <= 15; i++) {
		snprintf(code, sizeof(code), "%zu", i);
		ck_assert(spgw_codes_find(xz, code, &label, NULL) == 1 && *label);
	}
	ck_assert_int_eq(spgw_codes_find(xz, "16", NULL, NULL), 0);
	xz = spgw_field_rules(spgw_table_field(t, "SPLCLX"))->codes;
	ck_assert_int_eq(spgw_codes_find(xz, "7", &label, NULL), 1);
	ck_assert_str_eq(label, "");
	ck_assert_int_eq(spgw_codes_find(xz, "07", NULL, NULL), 0);
	ck_assert_int_eq(spgw_codes_find(xz, "10", NULL, NULL), 0);
	ck_assert_int_eq(spgw_codes_find(xz, "", NULL, NULL), 0);
	/* conditions, both ways */
	f = spgw_table_field(t, "GCFW");
	rec = json_pack("{s:s,s:s}", "XMDM", "2020-220104-47-01-000123", "GCDM",
			"2020-220104-47-01-000123-01");
	ck_assert_int_eq(spgw_field_need(f, rec, &why_en, &why_zh), SPGW_NEED_REQUIRED);
	ck_assert_str_eq(why_en, "GCDM differs from XMDM");
	json_object_set_new(rec, "GCDM", json_string("2020-220104-47-01-000123"));
	ck_assert_int_eq(spgw_field_need(f, rec, NULL, NULL), SPGW_NEED_OPTIONAL);
	f = spgw_table_field(t, "SJWXYY");
	json_object_set_new(rec, "SJYXBS", json_integer(0));
	ck_assert_int_eq(spgw_field_need(f, rec, NULL, NULL), SPGW_NEED_REQUIRED);
	json_object_set_new(rec, "SJYXBS", json_integer(1));
	ck_assert_int_eq(spgw_field_need(f, rec, NULL, &why_zh), SPGW_NEED_EMPTY);
	ck_assert_str_eq(why_zh, "数据有效标识（SJYXBS）为“0”");
	ck_assert_int_eq(spgw_field_need(spgw_table_field(t, "XMDM"), rec, NULL, NULL),
			 SPGW_NEED_REQUIRED);
	ck_assert_int_eq(spgw_field_need(spgw_table_field(t, "QJDGCDM"), rec, NULL, NULL),
			 SPGW_NEED_OPTIONAL);
	json_decref(rec);
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_time)
{
	static const struct {
		const char *in;
		enum spgw_time kind;
		const char *day;
	} cases[] = {
		{ "2026-11-03", SPGW_TIME_DATE, "2026-11-03" },
		{ "2026-11-03 23:59:59", SPGW_TIME_DATETIME, "2026-11-03" },
		{ "2026-11-03T23:59:59", SPGW_TIME_OTHER, "2026-11-03" },
		{ "2026-11-03T16:00:00Z", SPGW_TIME_OTHER, "2026-11-04" },
		{ "2026-11-03T15:59:59Z", SPGW_TIME_OTHER, "2026-11-03" },
		{ "2026-12-31T16:00:00.250Z", SPGW_TIME_OTHER, "2027-01-01" },
		{ "2026-11-03T01:00:00+09:00", SPGW_TIME_OTHER, "2026-11-03" },
		{ "2026-11-03T00:30:00+0900", SPGW_TIME_OTHER, "2026-11-02" },
		{ "2026-03-01T02:00:00-05:00", SPGW_TIME_OTHER, "2026-03-01" },
		{ "2024-03-01T07:00:00+16:00", SPGW_TIME_OTHER, "2024-02-29" },
		{ "0001-01-01T00:00:00+09:00", SPGW_TIME_BAD, NULL },
		{ "2026-02-30", SPGW_TIME_BAD, NULL },
		{ "2026-11-03 24:00:00", SPGW_TIME_BAD, NULL },
		{ "2026-11-03 10:00", SPGW_TIME_BAD, NULL },
		{ "2026-11-03T10:00:00+8", SPGW_TIME_BAD, NULL },
		{ "2026-11-03x", SPGW_TIME_BAD, NULL },
		{ "2026-11-03/10:00:00", SPGW_TIME_BAD, NULL },
		{ "2026-11-03 10:00:00.", SPGW_TIME_BAD, NULL },
		{ "2026-11-03 10:00:00+08:00x", SPGW_TIME_BAD, NULL },
		{ "20261103", SPGW_TIME_BAD, NULL },
		{ "", SPGW_TIME_BAD, NULL },
	};
	char day[11];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		strcpy(day, "untouched");
		ck_assert_msg(spgw_schema_time(cases[i].in, day) == cases[i].kind, "%s",
			      cases[i].in);
		if (cases[i].day)
			ck_assert_msg(!strcmp(day, cases[i].day), "%s: %s", cases[i].in, day);
	}
	ck_assert_int_eq(spgw_schema_time(NULL, NULL), SPGW_TIME_BAD);
}
END_TEST

START_TEST(test_day_rules)
{
	struct spgw_schema *s = load_real();
	const struct spgw_table *t, *parent = NULL;
	const char *const *pf = NULL;
	json_t *rec;
	char day[11];

	/* a count-date field: date, datetime, ISO with a zone, missing, unparseable */
	t = spgw_schema_table(s, "SPGL_XMJBXXB");
	rec = json_pack("{s:s}", "SBSJ", "2026-11-03");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_OK);
	ck_assert_str_eq(day, "2026-11-03");
	ck_assert_ptr_null(parent);
	json_object_set_new(rec, "SBSJ", json_string("2026-11-03 23:30:00"));
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_OK);
	ck_assert_str_eq(day, "2026-11-03");
	json_object_set_new(rec, "SBSJ", json_string("2026-11-03T20:00:00Z"));
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_OK);
	ck_assert_str_eq(day, "2026-11-04");
	json_object_set_new(rec, "SBSJ", json_string("2026-11-31"));
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_MISSING);
	json_object_set_new(rec, "SBSJ", json_integer(20261103));
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_MISSING);
	json_object_del(rec, "SBSJ");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_MISSING);
	json_decref(rec);

	t = spgw_schema_table(s, "SPGL_XMSPSXBLXXXXB");
	rec = json_pack("{s:s}", "BLSJ", "2026-11-04 00:00:01");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, NULL, NULL), SPGW_DAY_OK);
	ck_assert_str_eq(day, "2026-11-04");
	json_decref(rec);

	/* inherited through a parent: a unit takes its project's day, by GCDM */
	rec = json_object();
	t = spgw_schema_table(s, "SPGL_XMDWXXB");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_INHERIT);
	ck_assert_str_eq(spgw_table_name(parent), "SPGL_XMJBXXB");
	ck_assert_str_eq(pf[0], "GCDM");
	ck_assert_ptr_null(pf[1]);
	/* inherited from a grandparent: the stage-item link takes its flow's day */
	t = spgw_schema_table(s, "SPGL_SPLCJBLSXXXB");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_INHERIT);
	ck_assert_str_eq(spgw_table_name(parent), "SPGL_SPLCXXB");
	ck_assert_str_eq(pf[0], "SPLCBM");
	ck_assert_str_eq(pf[1], "SPLCBBH");
	ck_assert_ptr_null(pf[2]);
	t = spgw_schema_table(s, "SPGL_SPJDXXB");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_INHERIT);
	ck_assert_str_eq(spgw_table_name(parent), "SPGL_SPLCXXB");
	/* materials take the case's day, and the case the earliest of its steps */
	t = spgw_schema_table(s, "SPGL_XMSQCLJQTFJXXB");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_INHERIT);
	ck_assert_str_eq(spgw_table_name(parent), "SPGL_XMSPSXBLXXB");
	ck_assert_str_eq(pf[1], "SPSXSLBM");
	t = spgw_schema_table(s, "SPGL_XMSPSXBLXXB");
	ck_assert_int_eq(spgw_schema_day(t, rec, day, &parent, &pf), SPGW_DAY_EARLIEST_CHILD);
	ck_assert_str_eq(spgw_table_name(parent), "SPGL_XMSPSXBLXXXXB");
	ck_assert_str_eq(pf[0], "GCDM");
	ck_assert_str_eq(pf[1], "SPSXSLBM");
	ck_assert_ptr_null(pf[2]);
	json_decref(rec);
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_show)
{
	struct spgw_schema *s = load_real();
	struct spgw_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_int_eq(spgw_schema_show(s, "SPGL_XMJBXXB", out, &err), SPGW_OK);
	fclose(out);
	ck_assert_msg(strstr(text, "SPGL_XMJBXXB 项目基本信息表\n"), "%s", text);
	ck_assert_msg(strstr(text, "upload level 3"), "%s", text);
	ck_assert_msg(strstr(text, "key: GCDM\n"), "%s", text);
	ck_assert_msg(strstr(text, "SPGL_SPLCXXB 审批流程信息表 by SPLCBM, SPLCBBH"), "%s", text);
	ck_assert_msg(strstr(text, "SBSJ 申报时间"), "%s", text);
	ck_assert_msg(strstr(text, "rule: NKGSJ < NJCSJ"), "%s", text);
	/* columns line up whatever the width of the Chinese names */
	ck_assert_msg(strstr(text, "  XMDM        项目代码              str(24)     Y    "
				   "            xmdm"), "%s", text);
	ck_assert_msg(strstr(text, "dec(14,4)   Y"), "%s", text);
	ck_assert_msg(strstr(text, "required when SJYXBS is 0, else empty"), "%s", text);
	ck_assert_msg(strstr(text, "SJSCZT"), "%s", text);
	ck_assert_msg(strstr(text, "not sent (national write-back)"), "%s", text);
	free(text);

	out = open_memstream(&text, &len);
	ck_assert_int_eq(spgw_schema_show(s, "SPGL_XMSPSXBLXXB", out, &err), SPGW_OK);
	fclose(out);
	ck_assert_msg(strstr(text, "earliest count date among its records in SPGL_XMSPSXBLXXXXB"),
		      "%s", text);
	free(text);

	out = open_memstream(&text, &len);
	ck_assert_int_eq(spgw_schema_show(s, "SPGL_NOPE", out, &err), SPGW_E_NOTFOUND);
	fclose(out);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err.text, "\"SPGL_NOPE\"") && strstr(err.text, "SPGL_SPLCXXB, ") &&
		      strstr(err.text, "SPGL_XMSQCLJQTFJXXB"), "%s", err.text);
	free(text);
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_missing_file)
{
	struct spgw_schema *s = NULL;
	struct spgw_diag d;
	char line[1024];

	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_schema_load("/nonexistent/spgl.json", &s, &d), SPGW_E_IO);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(d.n, 1);
	spgw_error_format(&d.items[0], line, sizeof(line));
	ck_assert_msg(strstr(line, "/nonexistent/spgl.json") && strstr(line, "schema"), "%s", line);
	spgw_diag_free(&d);
}
END_TEST

START_TEST(test_bad_schema)
{
	const char *name = case_names[_i];
	struct spgw_schema *s = NULL;
	struct spgw_diag d;
	char path[1024], line[1024], all[16384] = "", want[512];
	enum spgw_rc rc;
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/schema/%s/schema.json", cases_root(), name);
	spgw_diag_init(&d);
	rc = spgw_schema_load(path, &s, &d);
	for (i = 0; i < d.n; i++) {
		size_t n = strlen(all);

		spgw_error_format(&d.items[i], line, sizeof(line));
		snprintf(all + n, sizeof(all) - n, "\n  %s", line);
		/* every problem names the file */
		ck_assert_msg(strstr(line, "schema.json"), "%s", line);
	}
	snprintf(path, sizeof(path), "%s/schema/%s/expected", cases_root(), name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	while (fgets(want, sizeof(want), f)) {
		want[strcspn(want, "\n")] = '\0';
		if (!strcmp(want, "valid")) {
			ck_assert_msg(rc == SPGW_OK && s && !d.n, "%s should load:%s", name, all);
			continue;
		}
		ck_assert_msg(rc != SPGW_OK && !s, "%s loaded, expected problems", name);
		ck_assert_msg(!*want || strstr(all, want), "%s: no problem says \"%s\"; found:%s",
			      name, want, all);
	}
	fclose(f);
	spgw_schema_free(s);
	spgw_diag_free(&d);
}
END_TEST

/* Fail allocation 1, 2, ... of a load until one succeeds: each failure is reported, nothing
 * leaks (ASan's leak check runs at the end of each forked test) and nothing crashes. */
START_TEST(test_load_nomem)
{
	char path[1024];
	long n;

	schema_path(path, sizeof(path));
	for (n = 0;; n++) {
		struct spgw_schema *s = NULL;
		struct spgw_diag d;
		enum spgw_rc rc;

		spgw_diag_init(&d);
		spgw_mem_fail_after(n);
		rc = spgw_schema_load(path, &s, &d);
		spgw_mem_fail_after(-1);
		spgw_diag_free(&d);
		if (rc == SPGW_OK) {
			ck_assert_ptr_nonnull(s);
			spgw_schema_free(s);
			break;
		}
		ck_assert_msg(rc == SPGW_E_NOMEM, "allocation %ld: rc %d", n, rc);
		ck_assert_ptr_null(s);
	}
	ck_assert_int_gt(n, 20);
}
END_TEST

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_cases(void)
{
	char path[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/schema", getenv("SPGW_TEST_CASES"));
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && ncases < MAX_CASES)
		if (e->d_name[0] != '.')
			case_names[ncases++] = strdup(e->d_name);
	closedir(d);
	qsort(case_names, ncases, sizeof(*case_names), cmp_name);
}

int main(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("spgl-v3");
	TCase *bad = tcase_create("bad schemas");
	SRunner *sr;
	int failed;
	size_t i;

	if (!getenv("SPGW_TEST_CASES")) {
		fprintf(stderr, "test_schema: set SPGW_TEST_CASES to the tests/cases folder\n");
		return 1;
	}
	find_cases();
	if (!ncases) {
		fprintf(stderr, "test_schema: no cases in %s/schema\n", getenv("SPGW_TEST_CASES"));
		return 1;
	}
	tcase_add_test(tc, test_real_schema);
	tcase_add_test(tc, test_keys_and_parents);
	tcase_add_test(tc, test_fields_and_codes);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_day_rules);
	tcase_add_test(tc, test_show);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_load_nomem);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(bad, test_bad_schema, 0, (int)ncases);
	suite_add_tcase(s, bad);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < ncases; i++)
		free(case_names[i]);
	return failed ? 1 : 0;
}
