/*
 * Record validation against config/schema/spgl-v3.json: the format checks one by one, then
 * every case of tests/cases/validate/<case>/{table, region, record.json, expected}, where
 * `expected` lists the reasons as "FIELD CODE" ("- CODE" for the whole record) or is "valid".
 * The set of reasons found must equal the expected set exactly.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spgw_limits.h"
#include "mem.h"
#include "validate.h"

#define MAX_CASES 512

static char *case_names[MAX_CASES];
static size_t ncases;

static const char *cases_root(void)
{
	const char *root = getenv("SPGW_TEST_CASES");

	ck_assert_msg(root && *root, "SPGW_TEST_CASES must name the tests/cases folder");
	return root;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert(s != NULL);
	ck_assert_int_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static char *case_file(const char *name, const char *file)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/validate/%s/%s", cases_root(), name, file);
	return slurp(path);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static struct spgw_schema *load_schema(void)
{
	struct spgw_schema *s = NULL;
	struct spgw_diag d;
	char path[1024];

	/* SPGW_SCHEMA when set (meson sets it), else config/schema/ beside tests/cases */
	if (getenv("SPGW_SCHEMA") && *getenv("SPGW_SCHEMA"))
		snprintf(path, sizeof(path), "%s", getenv("SPGW_SCHEMA"));
	else
		snprintf(path, sizeof(path), "%s/../../config/schema/spgl-v3.json", cases_root());
	spgw_diag_init(&d);
	ck_assert_msg(spgw_schema_load(path, &s, &d) == SPGW_OK, "%s: %s", path,
		      d.n ? d.items[0].text : "?");
	spgw_diag_free(&d);
	return s;
}

static json_t *load_record(const char *name)
{
	char *txt = case_file(name, "record.json");
	json_error_t je;
	json_t *rec = json_loads(txt, JSON_REJECT_DUPLICATES, &je);

	ck_assert_msg(rec != NULL, "%s/record.json:%d:%d: %s", name, je.line, je.column, je.text);
	free(txt);
	return rec;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop repeats: the test compares sets. */
static size_t as_set(char **v, size_t n)
{
	size_t i, m = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (m && !strcmp(v[m - 1], v[i]))
			free(v[i]);
		else
			v[m++] = v[i];
	}
	return m;
}

START_TEST(test_case)
{
	const char *name = case_names[_i];
	struct spgw_schema *s = load_schema();
	char *table = case_file(name, "table"), *region = case_file(name, "region");
	char *expected = case_file(name, "expected"), *line, *save = NULL;
	char *want[SPGW_MAX_REASONS + 8], *got[SPGW_MAX_REASONS + 8], report[8192] = "";
	json_t *rec = load_record(name);
	struct spgw_reasons r;
	size_t nwant = 0, ngot = 0, i, found;

	chomp(table);
	chomp(region);
	spgw_reasons_init(&r);
	found = spgw_validate(s, table, region, rec, &r);
	ck_assert_uint_eq(found, r.n);
	for (line = strtok_r(expected, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		chomp(line);
		ck_assert_uint_lt(nwant, SPGW_MAX_REASONS);
		if (*line && strcmp(line, "valid"))
			want[nwant++] = strdup(line);
	}
	for (i = 0; i < r.n; i++) {
		const struct spgw_reason *it = &r.items[i];
		char buf[128];
		size_t len = strlen(report);

		snprintf(buf, sizeof(buf), "%s %s", it->field[0] ? it->field : "-", it->code);
		got[ngot++] = strdup(buf);
		snprintf(report + len, sizeof(report) - len, "\n  %s: %s | %s", buf, it->en,
			 it->zh);
		/* every message names the field, in both languages when the schema knows it */
		ck_assert_msg(it->en[0] && it->zh[0], "%s: empty message", buf);
		if (it->field[0]) {
			const struct spgw_table *t = spgw_schema_table(s, table);
			const struct spgw_field *f = t ? spgw_table_field(t, it->field) : NULL;

			ck_assert_msg(strstr(it->en, it->field) && strstr(it->zh, it->field),
				      "%s: message does not name the field: %s | %s", buf, it->en,
				      it->zh);
			if (f)
				ck_assert_msg(strstr(it->en, spgw_field_zh(f)) &&
					      strstr(it->zh, spgw_field_zh(f)),
					      "%s: message lacks the Chinese name %s", buf,
					      spgw_field_zh(f));
		}
	}
	nwant = as_set(want, nwant);
	ngot = as_set(got, ngot);
	for (i = 0; i < nwant || i < ngot; i++)
		ck_assert_msg(i < nwant && i < ngot && !strcmp(want[i], got[i]),
			      "case %s: expected reason \"%s\", found \"%s\"; all found:%s", name,
			      i < nwant ? want[i] : "(none)", i < ngot ? got[i] : "(none)",
			      report[0] ? report : " none");
	for (i = 0; i < nwant; i++)
		free(want[i]);
	for (i = 0; i < ngot; i++)
		free(got[i]);
	spgw_reasons_free(&r);
	json_decref(rec);
	free(table);
	free(region);
	free(expected);
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_uscc)
{
	static const char set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	char code[19] = "91220101MA17ABCDE2";
	size_t i;

	/* the worked example of shared/spgl/codes.md */
	ck_assert(spgw_validate_uscc("91220101MA17ABCDE2"));
	ck_assert_int_eq(spgw_validate_uscc_check("91220101MA17ABCDE"), '2');
	for (i = 0; set[i]; i++) {
		code[17] = set[i];
		ck_assert_msg(spgw_validate_uscc(code) == (set[i] == '2'), "%s", code);
	}
	/* check characters computed independently of this code */
	ck_assert(spgw_validate_uscc("12220100013545678A"));
	ck_assert(spgw_validate_uscc("11220000MB1234567E"));
	ck_assert(spgw_validate_uscc("91220104MA0Y4K7L86"));
	ck_assert(spgw_validate_uscc("91220201MA84QX2R3T"));
	ck_assert(spgw_validate_uscc("91220101MA17AB0280")); /* S mod 31 = 0: check value 0 */
	ck_assert_int_eq(spgw_validate_uscc_check("91220101MA17AB028"), '0');
	ck_assert(!spgw_validate_uscc("91220101ma17abcde2"));   /* upper case only */
	ck_assert(!spgw_validate_uscc("91220101MA17ABCDI2"));   /* I is not in the set */
	ck_assert(!spgw_validate_uscc("91220101MA17ABCD2"));    /* 17 characters */
	ck_assert(!spgw_validate_uscc("91220101MA17ABCDE22"));  /* 19 */
	ck_assert(!spgw_validate_uscc("220104198001011234"));   /* a personal ID number */
	ck_assert(!spgw_validate_uscc(""));
	ck_assert(!spgw_validate_uscc(NULL));
	ck_assert_int_eq(spgw_validate_uscc_check("91220101MA17ABCD"), 0);
	ck_assert_int_eq(spgw_validate_uscc_check("91220101MA17ABCDO"), 0);
}
END_TEST

START_TEST(test_xmdm)
{
	static const char *const good[] = { "2509-320193-89-01-544060",
					    "2020-220104-47-01-000123",
					    "2511-220182-48-03-004567",
					    "2019-220000-88-88-000001" };
	static const char *const bad[] = { "2026-2201-48", "2509-320193-89-01-54406",
					   "2509-320193-89-01-5440600", "2509 320193-89-01-544060",
					   "2509-32019A-89-01-544060", "2509-320193-8901-544060-",
					   "25093201938901544060", "", "２５０９-320193-89-01-544060" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		ck_assert_msg(spgw_validate_xmdm(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(!spgw_validate_xmdm(bad[i]), "%s", bad[i]);
	ck_assert(!spgw_validate_xmdm(NULL));
}
END_TEST

START_TEST(test_dates)
{
	static const char *const good_d[] = { "2026-11-03", "2024-02-29", "2000-02-29",
					      "9999-01-01", "0001-01-01", "2026-12-31" };
	static const char *const bad_d[] = { "2026-02-29", "1900-02-29", "2026-02-30", "2026-04-31",
					     "2026-13-01", "2026-00-10", "2026-01-00", "0000-01-01",
					     "2026-1-01", "2026/01/01", "20260101", "2026-01-01 ",
					     "2026-01-01 00:00:00", "" };
	static const char *const good_t[] = { "2026-11-03 00:00:00", "2026-11-03 23:59:59",
					      "2024-02-29 12:30:00" };
	static const char *const bad_t[] = { "2026-11-03 24:00:00", "2026-11-03 23:60:00",
					     "2026-11-03 23:59:60", "2026-11-03T10:00:00",
					     "2026-11-03 10:00", "2026-11-03 10:00:00Z",
					     "2026-02-30 10:00:00", "2026-11-03" };
	size_t i;

	for (i = 0; i < sizeof(good_d) / sizeof(*good_d); i++)
		ck_assert_msg(spgw_validate_date(good_d[i]), "%s", good_d[i]);
	for (i = 0; i < sizeof(bad_d) / sizeof(*bad_d); i++)
		ck_assert_msg(!spgw_validate_date(bad_d[i]), "%s", bad_d[i]);
	for (i = 0; i < sizeof(good_t) / sizeof(*good_t); i++)
		ck_assert_msg(spgw_validate_datetime(good_t[i]), "%s", good_t[i]);
	for (i = 0; i < sizeof(bad_t) / sizeof(*bad_t); i++)
		ck_assert_msg(!spgw_validate_datetime(bad_t[i]), "%s", bad_t[i]);
}
END_TEST

/* The happy path must not allocate: a failing allocator changes nothing for a valid record. */
START_TEST(test_valid_allocates_nothing)
{
	struct spgw_schema *s = load_schema();
	json_t *rec = load_record("project-valid");
	struct spgw_reasons r;
	size_t n;

	spgw_reasons_init(&r);
	spgw_mem_fail_after(0);
	n = spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r);
	spgw_mem_fail_after(-1);
	ck_assert_uint_eq(n, 0);
	spgw_reasons_free(&r);
	json_decref(rec);
	spgw_schema_free(s);
}
END_TEST

/* Without memory for the reasons, a bad record still counts as bad. */
START_TEST(test_nomem_is_never_valid)
{
	struct spgw_schema *s = load_schema();
	json_t *rec = load_record("project-many-failures");
	struct spgw_reasons r;
	size_t n;

	spgw_reasons_init(&r);
	spgw_mem_fail_after(0);
	n = spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r);
	spgw_mem_fail_after(-1);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_ge(n, 10);
	spgw_reasons_free(&r);
	json_decref(rec);
	spgw_schema_free(s);
}
END_TEST

static const struct spgw_reason *find_reason(const struct spgw_reasons *r, const char *field)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].field, field))
			return &r->items[i];
	return NULL;
}

START_TEST(test_messages)
{
	struct spgw_schema *s = load_schema();
	json_t *rec = load_record("project-overlong-chinese");
	const struct spgw_reason *it;
	struct spgw_reasons r;
	const char *cut;

	spgw_reasons_init(&r);
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 1);
	it = find_reason(&r, "XMMC");
	ck_assert_ptr_nonnull(it);
	/* the length is in code points (201), not bytes (603) */
	ck_assert_msg(strstr(it->en, "201 characters") && strstr(it->en, "200"), "%s", it->en);
	ck_assert_msg(strstr(it->zh, "项目名称（XMMC）长度为 201 个字符"), "%s", it->zh);
	/* the value is quoted, cut after 64 code points with a mark */
	cut = strstr(it->en, "…\"");
	ck_assert_msg(cut != NULL, "%s", it->en);
	ck_assert_msg(strstr(it->en, "\"长春市朝阳区第一实验小学教学楼改扩建工程长春市") != NULL, "%s",
		      it->en);
	ck_assert_uint_lt(strlen(it->en), 64 * 3 + 120);
	json_decref(rec);
	spgw_reasons_clear(&r);

	rec = load_record("project-bad-xmdm");
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 1);
	it = find_reason(&r, "XMDM");
	ck_assert_msg(strstr(it->en, "\"2026-2201-48\"") &&
		      strstr(it->en, "NNNN-NNNNNN-NN-NN-NNNNNN"), "%s", it->en);
	ck_assert_msg(strstr(it->zh, "项目代码（XMDM）\"2026-2201-48\" 不是有效的项目代码"), "%s",
		      it->zh);
	json_decref(rec);
	spgw_reasons_clear(&r);

	rec = load_record("project-retired-region");
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 1);
	it = find_reason(&r, "JSDDXZQH");
	ck_assert_msg(strstr(it->en, "retired") && strstr(it->en, "use 220781"), "%s", it->en);
	json_decref(rec);
	spgw_reasons_clear(&r);

	rec = load_record("project-uscc-checkdigit");
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 1);
	it = find_reason(&r, "JSDWDM");
	ck_assert_msg(strstr(it->en, "should be E"), "%s", it->en);
	json_decref(rec);
	spgw_reasons_free(&r);
	spgw_schema_free(s);
}
END_TEST

/* Text that JSON files cannot carry: built with jansson's unchecked constructors. */
START_TEST(test_text)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *code; /* NULL: valid */
	} cases[] = {
		{ "\xff", 1, "canonical" },
		{ "\xc0\xaf", 2, "canonical" },         /* overlong "/" */
		{ "\xe0\x80\xaf", 3, "canonical" },     /* overlong, three bytes */
		{ "\xed\xa0\x80", 3, "canonical" },     /* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 4, "canonical" }, /* beyond U+10FFFF */
		{ "\xe9\x95", 2, "canonical" },         /* cut short */
		{ "\x80" "abc", 4, "canonical" },        /* stray continuation byte */
		{ "a\0b", 3, "canonical" },              /* NUL inside */
		{ "\xf0\x9f\x8f\x97\xc3\xa9\xe9\x95\xbf", 9, NULL }, /* 🏗é长 */
	};
	struct spgw_schema *s = load_schema();
	json_t *rec = load_record("project-valid");
	struct spgw_reasons r;
	char big[4 * 201 + 1];
	size_t i;

	spgw_reasons_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_object_set_new(rec, "XMMC", json_stringn_nocheck(cases[i].bytes, cases[i].n));
		spgw_reasons_clear(&r);
		spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r);
		if (!cases[i].code) {
			ck_assert_msg(r.n == 0, "case %zu: %s", i, r.n ? r.items[0].en : "");
			continue;
		}
		ck_assert_msg(r.n == 1, "case %zu: %zu reasons", i, r.n);
		ck_assert_str_eq(r.items[0].field, "XMMC");
		ck_assert_str_eq(r.items[0].code, cases[i].code);
	}
	/* four-byte characters count once: 200 fit, 201 do not */
	for (i = 0; i < 201; i++)
		memcpy(big + 4 * i, "\xf0\x9f\x8f\x97", 4);
	big[4 * 200] = '\0';
	json_object_set_new(rec, "XMMC", json_string(big));
	spgw_reasons_clear(&r);
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 0);
	big[4 * 200] = '\xf0';
	big[4 * 201] = '\0';
	json_object_set_new(rec, "XMMC", json_string(big));
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 1);
	ck_assert_str_eq(r.items[0].code, "length");
	spgw_reasons_free(&r);
	json_decref(rec);
	spgw_schema_free(s);
}
END_TEST

START_TEST(test_warnings)
{
	struct spgw_schema *s = load_schema();
	json_t *rec = load_record("project-valid");
	struct spgw_reasons r;

	spgw_reasons_init(&r);
	ck_assert_uint_eq(spgw_validate_warnings(s, "SPGL_XMJBXXB", "220100", rec, &r), 0);
	/* 1.285 亿元 written in 元 where 万元 belong: a probable unit mix-up, sent anyway */
	json_object_set_new(rec, "ZTZE", json_integer(128500000));
	json_object_set_new(rec, "JSDDXZQH", json_string("220104,220702"));
	ck_assert_uint_eq(spgw_validate(s, "SPGL_XMJBXXB", "220100", rec, &r), 0);
	ck_assert_uint_eq(spgw_validate_warnings(s, "SPGL_XMJBXXB", "220100", rec, &r), 2);
	ck_assert_str_eq(r.items[0].field, "ZTZE");
	ck_assert_str_eq(r.items[0].code, "warning");
	ck_assert_msg(strstr(r.items[0].zh, "万元"), "%s", r.items[0].zh);
	ck_assert_str_eq(r.items[1].field, "JSDDXZQH");
	ck_assert_msg(strstr(r.items[1].en, "220702"), "%s", r.items[1].en);
	spgw_reasons_clear(&r);
	/* the province reports: every Jilin county is inside; exactly 10,000,000 is no warning */
	json_object_set_new(rec, "ZTZE", json_integer(10000000));
	ck_assert_uint_eq(spgw_validate_warnings(s, "SPGL_XMJBXXB", "220000", rec, &r), 0);
	spgw_reasons_free(&r);
	json_decref(rec);
	spgw_schema_free(s);
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

	snprintf(path, sizeof(path), "%s/validate", getenv("SPGW_TEST_CASES"));
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
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("formats");
	TCase *cases = tcase_create("cases");
	SRunner *sr;
	int failed;
	size_t i;

	if (!getenv("SPGW_TEST_CASES")) {
		fprintf(stderr, "test_validate: set SPGW_TEST_CASES to the tests/cases folder\n");
		return 1;
	}
	find_cases();
	if (ncases < 25) {
		fprintf(stderr, "test_validate: %zu cases in %s/validate, expected at least 25\n",
			ncases, getenv("SPGW_TEST_CASES"));
		return 1;
	}
	tcase_add_test(tc, test_uscc);
	tcase_add_test(tc, test_xmdm);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_valid_allocates_nothing);
	tcase_add_test(tc, test_nomem_is_never_valid);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_warnings);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(cases, test_case, 0, (int)ncases);
	suite_add_tcase(s, cases);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < ncases; i++)
		free(case_names[i]);
	return failed ? 1 : 0;
}
