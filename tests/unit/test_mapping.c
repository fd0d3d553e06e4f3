/*
 * Unit tests for the mapping engine (gateway/mapping.c, mapping_load.c), mostly as data:
 *
 *   tests/cases/mapping/<case>/mapping.json   the rules (or source.json names a real one)
 *   tests/cases/mapping/<case>/source.json    {"table", "record", optional "region",
 *                                             "source", "mapping": path from the repo root}
 *   tests/cases/mapping/<case>/expected.json  [{"table", "key", "record"}, ...] in emit order
 *   tests/cases/mapping/<case>/expected-reasons  lines "TABLE FIELD CODE" ("-" for no field)
 *   tests/cases/mapping/<case>/expected-error     a substring of the apply error
 *
 *   tests/cases/mapping-load/<case>/mapping.json  a broken mapping
 *   tests/cases/mapping-load/<case>/expected      substrings the problems must contain
 *
 * Environment: SPGW_TEST_CASES (absolute path of tests/cases), SPGW_SCHEMA (the schema file,
 * config/schema/spgl-v3.json).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mapping.h"
#include "mem.h"
#include "validate.h"

#define MAX_CASES 256

static char *cases_dir;
static char *mapping_cases[MAX_CASES], *load_cases[MAX_CASES];
static int n_mapping_cases, n_load_cases;
static struct spgw_schema *schema;

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

static char *case_file(const char *area, const char *name, const char *file)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s/%s", cases_dir, area, name, file);
	return path;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_cases(const char *area, char **out)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", cases_dir, area);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX_CASES)
		if (de->d_name[0] != '.')
			out[n++] = strdup(de->d_name);
	closedir(d);
	qsort(out, (size_t)n, sizeof(*out), cmp_str);
	return n;
}

static void load_schema(void)
{
	const char *path = getenv("SPGW_SCHEMA");
	struct spgw_diag d;
	char line[1024];

	spgw_diag_init(&d);
	ck_assert_msg(path, "set SPGW_SCHEMA to config/schema/spgl-v3.json");
	if (spgw_schema_load(path, &schema, &d) != SPGW_OK)
		ck_abort_msg("cannot load the schema %s: %s", path,
			     d.n ? spgw_error_format(&d.items[0], line, sizeof(line)) : "?");
	spgw_diag_free(&d);
}

static void setup(void)
{
	load_schema();
}

static void teardown(void)
{
	spgw_schema_free(schema);
	schema = NULL;
}

/* Format every problem in `d`, one per line, into a new string. */
static char *problems_text(const struct spgw_diag *d)
{
	size_t i, len = 1;
	char line[1024], *s;

	for (i = 0; i < d->n; i++)
		len += strlen(spgw_error_format(&d->items[i], line, sizeof(line))) + 1;
	s = calloc(1, len);
	for (i = 0; s && i < d->n; i++) {
		strcat(s, spgw_error_format(&d->items[i], line, sizeof(line)));
		strcat(s, "\n");
	}
	return s;
}

static struct spgw_mapping *load_ok(const char *path)
{
	struct spgw_mapping *m = NULL;
	struct spgw_diag d;
	char *text;

	spgw_diag_init(&d);
	if (spgw_mapping_load(path, schema, &m, &d) != SPGW_OK) {
		text = problems_text(&d);
		ck_abort_msg("%s does not load:\n%s", path, text);
	}
	ck_assert_uint_eq(d.n, 0);
	spgw_diag_free(&d);
	return m;
}

/* --- collecting outputs --- */

struct collect {
	json_t *outputs;  /* [{"table", "key", "record"}] */
	json_t *reasons;  /* ["TABLE FIELD CODE"] */
	const char *path; /* the mapping file, which every reason must name */
	int stop_after;   /* return SPGW_E_IO from the n-th call (0: never) */
	int calls;
};

static enum spgw_rc collect(void *ud, const char *table, const char *key, json_t *record,
			    const struct spgw_reasons *reasons)
{
	struct collect *c = ud;
	char line[256];
	size_t i;

	c->calls++;
	json_array_append_new(c->outputs, json_pack("{s:s,s:s?,s:o}", "table", table, "key", key,
						     "record", record));
	for (i = 0; i < reasons->n; i++) {
		const struct spgw_reason *r = &reasons->items[i];

		snprintf(line, sizeof(line), "%s %s %s", table, r->field[0] ? r->field : "-",
			 r->code);
		json_array_append_new(c->reasons, json_string(line));
		/* every reason says where to fix it, in both languages */
		ck_assert_msg(strstr(r->en, c->path), "reason names no %s: %s", c->path, r->en);
		ck_assert_msg(strstr(r->zh, c->path), "reason names no %s: %s", c->path, r->zh);
		ck_assert_msg(strstr(r->zh, "映射") || strstr(r->zh, "源"), "no Chinese: %s",
			      r->zh);
	}
	if (c->stop_after && c->calls == c->stop_after)
		return SPGW_E_IO;
	return SPGW_OK;
}

static json_t *sorted_lines(const char *text)
{
	json_t *arr = json_array();
	const char *p = text, *nl;
	char line[256];
	size_t len;

	while (p && *p) {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\r'))
			len--;
		if (len && p[0] != '#' && len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			json_array_append_new(arr, json_string(line));
		}
		p = nl ? nl + 1 : NULL;
	}
	return arr;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

static char *sorted_text(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **items = calloc(n + 1, sizeof(*items));
	char *s = calloc(1, 8192);

	for (i = 0; i < n; i++)
		items[i] = json_array_get(arr, i);
	qsort(items, n, sizeof(*items), cmp_json_str);
	for (i = 0; i < n; i++) {
		strncat(s, json_string_value(items[i]), 8000 - strlen(s));
		strncat(s, "\n", 8000 - strlen(s));
	}
	free(items);
	return s;
}

/* --- mapping cases --- */

START_TEST(mapping_case)
{
	const char *name = mapping_cases[_i];
	char mpath[4096], *text, *got, *want;
	json_t *src, *expected = NULL, *jm;
	json_error_t jerr;
	struct spgw_mapping *m;
	struct spgw_mapping_env env = { "220100", "test-source" };
	struct spgw_error err;
	struct collect c = { json_array(), json_array(), NULL, 0, 0 };
	enum spgw_rc rc;

	src = json_load_file(case_file("mapping", name, "source.json"), 0, &jerr);
	ck_assert_msg(src, "%s/source.json: %s (line %d)", name, jerr.text, jerr.line);
	jm = json_object_get(src, "mapping");
	if (jm)
		snprintf(mpath, sizeof(mpath), "%s/../../%s", cases_dir, json_string_value(jm));
	else
		snprintf(mpath, sizeof(mpath), "%s", case_file("mapping", name, "mapping.json"));
	if (json_object_get(src, "region"))
		env.region = json_string_value(json_object_get(src, "region"));
	if (json_object_get(src, "source"))
		env.source = json_string_value(json_object_get(src, "source"));
	m = load_ok(mpath);
	c.path = spgw_mapping_path(m);
	memset(&err, 0, sizeof(err));
	rc = spgw_mapping_apply(m, json_string_value(json_object_get(src, "table")),
				json_object_get(src, "record"), &env, collect, &c, &err);

	text = read_text(case_file("mapping", name, "expected-error"));
	if (text) {
		text[strcspn(text, "\n")] = '\0';
		ck_assert_msg(rc != SPGW_OK, "%s: apply succeeded, expected \"%s\"", name, text);
		ck_assert_msg(strstr(err.text, text), "%s: error \"%s\" lacks \"%s\"", name,
			      err.text, text);
		ck_assert_msg(strstr(err.source, "mapping"), "%s: error names no file", name);
		free(text);
	} else {
		ck_assert_msg(rc == SPGW_OK, "%s: apply failed: %s", name, err.text);
	}

	if (access(case_file("mapping", name, "expected.json"), R_OK) == 0) {
		expected = json_load_file(case_file("mapping", name, "expected.json"), 0, &jerr);
		ck_assert_msg(expected, "%s/expected.json: %s (line %d)", name, jerr.text,
			      jerr.line);
		got = json_dumps(c.outputs, JSON_INDENT(2) | JSON_SORT_KEYS);
		want = json_dumps(expected, JSON_INDENT(2) | JSON_SORT_KEYS);
		ck_assert_msg(json_equal(c.outputs, expected),
			      "%s: outputs differ\n--- got\n%s\n--- expected\n%s", name, got, want);
		free(got);
		free(want);
	}

	text = read_text(case_file("mapping", name, "expected-reasons"));
	{
		json_t *lines = sorted_lines(text ? text : "");

		got = sorted_text(c.reasons);
		want = sorted_text(lines);
		ck_assert_msg(!strcmp(got, want), "%s: reasons differ\n--- got\n%s--- expected\n%s",
			      name, got, want);
		free(got);
		free(want);
		json_decref(lines);
	}
	ck_assert_msg(expected || text || c.calls == 0 ||
			      access(case_file("mapping", name, "expected-error"), R_OK) == 0,
		      "%s has neither expected.json nor expected-reasons", name);
	free(text);
	json_decref(expected);
	json_decref(c.outputs);
	json_decref(c.reasons);
	json_decref(src);
	spgw_mapping_free(m);
}
END_TEST

/* --- load-error cases --- */

START_TEST(load_case)
{
	const char *name = load_cases[_i];
	struct spgw_mapping *m = NULL;
	struct spgw_diag d;
	char *want, *got, *line, *save = NULL;
	enum spgw_rc rc;

	spgw_diag_init(&d);
	rc = spgw_mapping_load(case_file("mapping-load", name, "mapping.json"), schema, &m, &d);
	ck_assert_msg(rc != SPGW_OK, "%s: the broken mapping loaded", name);
	ck_assert_ptr_null(m);
	ck_assert_uint_gt(d.n, 0);
	ck_assert_int_eq(d.items[0].code, rc);
	got = problems_text(&d);
	want = read_text(case_file("mapping-load", name, "expected"));
	ck_assert_msg(want, "%s has no expected file", name);
	for (line = strtok_r(want, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!*line || *line == '#')
			continue;
		ck_assert_msg(strstr(got, line), "%s: no problem contains \"%s\"; problems:\n%s",
			      name, line, got);
	}
	/* every problem names the file */
	ck_assert_msg(strstr(got, "mapping.json"), "%s: problems name no file:\n%s", name, got);
	free(want);
	free(got);
	spgw_diag_free(&d);
}
END_TEST

/* --- behaviour not shaped like a case --- */

static char *demo_path(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/../../config/mappings/files-demo.json", cases_dir);
	return path;
}

/* The realistic project of the demo-projects case: ~30 columns, units as JSON text. */
static json_t *demo_record(void)
{
	json_t *src = json_load_file(case_file("mapping", "demo-projects", "source.json"), 0, NULL);
	json_t *rec;

	ck_assert_ptr_nonnull(src);
	rec = json_incref(json_object_get(src, "record"));
	json_decref(src);
	ck_assert_ptr_nonnull(rec);
	return rec;
}

START_TEST(unknown_source_table)
{
	struct spgw_mapping *m = load_ok(demo_path());
	struct spgw_mapping_env env = { "220100", "x" };
	struct collect c = { json_array(), json_array(), NULL, 0, 0 };
	struct spgw_error err;
	json_t *rec = json_object();

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_mapping_apply(m, "nosuch", rec, &env, collect, &c, &err),
			 SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "\"nosuch\""));
	ck_assert_ptr_nonnull(strstr(err.text, "\"projects\""));
	ck_assert_str_eq(err.source, spgw_mapping_path(m));
	ck_assert_int_eq(c.calls, 0);
	json_decref(rec);
	json_decref(c.outputs);
	json_decref(c.reasons);
	spgw_mapping_free(m);
}
END_TEST

/* The callback's code stops the run: no further outputs. */
START_TEST(callback_stops)
{
	struct spgw_mapping *m = load_ok(demo_path());
	struct spgw_mapping_env env = { "220100", "x" };
	struct collect c = { json_array(), json_array(), NULL, 1, 0 };
	struct spgw_error err;
	json_t *rec = demo_record();

	memset(&err, 0, sizeof(err));
	c.path = spgw_mapping_path(m);
	ck_assert_int_eq(spgw_mapping_apply(m, "projects", rec, &env, collect, &c, &err),
			 SPGW_E_IO);
	ck_assert_int_eq(c.calls, 1);
	json_decref(rec);
	json_decref(c.outputs);
	json_decref(c.reasons);
	spgw_mapping_free(m);
}
END_TEST

static enum spgw_rc discard(void *ud, const char *table, const char *key, json_t *record,
			    const struct spgw_reasons *reasons)
{
	(void)table;
	(void)key;
	*(size_t *)ud += reasons->n;
	json_decref(record);
	return SPGW_OK;
}

/*
 * Every allocation may fail, in loading and in applying: each failure is reported as
 * SPGW_E_NOMEM (never a wrong result), and nothing leaks (the sanitizer's leak check fails
 * this forked test otherwise). N counts up until a run completes untouched.
 */
START_TEST(allocation_failures)
{
	struct spgw_mapping *m = NULL;
	struct spgw_mapping_env env = { "220100", "x" };
	struct spgw_diag d;
	struct spgw_error err;
	json_t *rec, *units;
	size_t reasons;
	long n;
	enum spgw_rc rc;

	json_set_alloc_funcs(spgw_malloc, spgw_free);
	for (n = 0;; n++) {
		spgw_diag_init(&d);
		spgw_mem_fail_after(n);
		rc = spgw_mapping_load(demo_path(), schema, &m, &d);
		spgw_mem_fail_after(-1);
		spgw_diag_free(&d);
		if (rc == SPGW_OK)
			break;
		/* jansson reports an allocation failure inside its parser as a syntax error (or
		 * none at all); everything after parsing must say NOMEM */
		ck_assert_msg(rc == SPGW_E_NOMEM || rc == SPGW_E_SYNTAX, "n=%ld: rc %d", n, rc);
		ck_assert_ptr_null(m);
	}
	ck_assert_int_gt(n, 10);
	/* the units as a real list: JSON text would be parsed by jansson, see above */
	rec = demo_record();
	units = json_loads(json_string_value(json_object_get(rec, "spdw")), 0, NULL);
	ck_assert_int_eq(json_object_set_new(rec, "spdw", units), 0);
	ck_assert(json_is_array(json_object_get(rec, "spdw")));
	for (n = 0;; n++) {
		memset(&err, 0, sizeof(err));
		reasons = 0;
		spgw_mem_fail_after(n);
		rc = spgw_mapping_apply(m, "projects", rec, &env, discard, &reasons, &err);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK)
			break;
		ck_assert_int_eq(rc, SPGW_E_NOMEM);
	}
	ck_assert_uint_eq(reasons, 0);
	ck_assert_int_gt(n, 10);
	json_decref(rec);
	spgw_mapping_free(m);
}
END_TEST

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/*
 * The apply path's speed on a realistic 30-field project with two units (3 outputs). The
 * budget is ~15 us per record in an optimised build (README.md of config/mappings). Timing
 * under sanitizers and a busy machine varies too much for an absolute bound, so the test
 * compares with what any mapping must at least do, copying the record's values into three
 * new objects (here: three deep copies), in the same run. Parsing a rule per record, or any
 * other per-record work proportional to the mapping file, breaks the ratio.
 */
START_TEST(apply_speed)
{
	struct spgw_mapping *m = load_ok(demo_path());
	struct spgw_mapping_env env = { "220100", "x" };
	struct spgw_error err;
	json_t *rec = demo_record(), *copy;
	size_t reasons = 0, i, k, n = 20000;
	double t0, apply, floor;

	t0 = now_us();
	for (i = 0; i < n; i++)
		ck_assert_int_eq(
			spgw_mapping_apply(m, "projects", rec, &env, discard, &reasons, &err),
			SPGW_OK);
	apply = (now_us() - t0) / (double)n;
	t0 = now_us();
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++) {
			copy = json_deep_copy(rec);
			ck_assert_ptr_nonnull(copy);
			json_decref(copy);
		}
	}
	floor = (now_us() - t0) / (double)n;
	fprintf(stderr, "mapping apply: %.2f us per source record (3 outputs); 3 copies: %.2f us\n",
		apply, floor);
	ck_assert_uint_eq(reasons, 0);
	ck_assert_msg(apply < 4 * floor, "apply takes %.1f us, %.1f times three copies", apply,
		      apply / floor);
	json_decref(rec);
	spgw_mapping_free(m);
}
END_TEST

/* Outputs that the mapping found no fault in must pass validation against the real schema. */
static enum spgw_rc validate_output(void *ud, const char *table, const char *key,
				    json_t *record, const struct spgw_reasons *reasons)
{
	struct spgw_reasons out;
	char *text = json_dumps(record, JSON_COMPACT);
	size_t i;

	(void)ud;
	ck_assert_uint_eq(reasons->n, 0);
	ck_assert_ptr_nonnull(key);
	spgw_reasons_init(&out);
	spgw_validate(schema, table, "220100", record, &out);
	for (i = 0; i < out.n; i++)
		fprintf(stderr, "%s %s: %s\n", table, key, out.items[i].en);
	ck_assert_msg(out.n == 0, "%s %s is not valid: %s", table, key, text);
	free(text);
	spgw_reasons_free(&out);
	json_decref(record);
	(*(int *)ud)++;
	return SPGW_OK;
}

/* The demo mapping makes records the national schema accepts (the demo must go through). */
START_TEST(demo_outputs_valid)
{
	static const char *const demo_cases[] = { "demo-projects", "demo-steps" };
	struct spgw_mapping *m = load_ok(demo_path());
	struct spgw_mapping_env env = { "220100", "220100-files" };
	struct spgw_error err;
	json_t *src;
	const char *table;
	size_t i;
	int outputs = 0;

	for (i = 0; i < 2; i++) {
		src = json_load_file(case_file("mapping", demo_cases[i], "source.json"), 0, NULL);
		ck_assert_ptr_nonnull(src);
		table = json_string_value(json_object_get(src, "table"));
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(spgw_mapping_apply(m, table, json_object_get(src, "record"), &env,
						    validate_output, &outputs, &err),
				 SPGW_OK);
		json_decref(src);
	}
	ck_assert_int_eq(outputs, 4);
	spgw_mapping_free(m);
}
END_TEST

static Suite *mapping_suite(void)
{
	Suite *s = suite_create("mapping");
	TCase *tc = tcase_create("cases");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, mapping_case, 0, n_mapping_cases);
	suite_add_tcase(s, tc);
	tc = tcase_create("load-errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, load_case, 0, n_load_cases);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unknown_source_table);
	tcase_add_test(tc, callback_stops);
	tcase_add_test(tc, demo_outputs_valid);
	tcase_add_test(tc, allocation_failures);
	tcase_add_test(tc, apply_speed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	cases_dir = getenv("SPGW_TEST_CASES");
	if (!cases_dir || !*cases_dir) {
		fprintf(stderr, "test_mapping: set SPGW_TEST_CASES to the absolute path of "
				"tests/cases\n");
		return EXIT_FAILURE;
	}
	n_mapping_cases = list_cases("mapping", mapping_cases);
	n_load_cases = list_cases("mapping-load", load_cases);
	if (!n_mapping_cases || !n_load_cases) {
		fprintf(stderr, "test_mapping: no cases under %s/mapping or %s/mapping-load\n",
			cases_dir, cases_dir);
		return EXIT_FAILURE;
	}
	sr = srunner_create(mapping_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
