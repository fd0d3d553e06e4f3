/*
 * The fast JSON parser must accept and reject exactly what jansson's json_loadb with
 * JSON_REJECT_DUPLICATES does (apart from its own depth limit), and build equal values:
 * hand-picked edge cases, every JSON file under tests/cases, and byte-level mutations of a
 * real record.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_parse.h"
#include "spgw_limits.h"

/* Both parsers agree on `text`: both refuse, or both accept with equal values. */
static void agree(const char *text, size_t len, const char *what)
{
	json_error_t jerr;
	struct spgw_json_error err;
	json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	json_t *b = spgw_json_parse(text, len, &err);

	if (!a && !b) {
		/* both refuse */
	} else if (a && !b && strstr(err.text, "nesting")) {
		/* our own depth limit (SPGW_MAX_JSON_DEPTH) is stricter than jansson's, on purpose */
	} else if (a && !b && memchr(text, '\0', len)) {
		/* jansson 2.14 skips a NUL byte after a number ("1.2\0," reads as 1.2); RFC 8259
		 * allows no such byte, and a plugin sending one is refused, not reinterpreted */
	} else if (a && b) {
		ck_assert_msg(json_equal(a, b), "%s: values differ", what);
	} else {
		char shown[400];
		size_t i, n = 0;

		for (i = 0; i < len && n + 5 < sizeof(shown); i++)
			n += (size_t)snprintf(shown + n, sizeof(shown) - n,
					      (unsigned char)text[i] < 0x20 ||
							      (unsigned char)text[i] >= 0x7f
						      ? "\\x%02x" : "%c",
					      (unsigned char)text[i]);
		ck_assert_msg(0, "%s: jansson %s (%s), spgw %s (%s) on %s", what,
			      a ? "accepts" : "refuses", a ? "" : jerr.text,
			      b ? "accepts" : "refuses", b ? "" : err.text, shown);
	}
	json_decref(a);
	json_decref(b);
}

static const char *const cases[] = {
	"{}", "[]", "0", "-0", "1.5", "-1.5e3", "1E2", "1e-7", "123456789012345678",
	"9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400",
	"01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity",
	"true", "false", "null", "tru", "nul", "\"a\"", "\"\"", "\"\\u0041\"",
	"\"\\u00e9\\u4e2d\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"",
	"\"\\ud83dx\"", "\"\\u0000\"", "\"\\x\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	"\"a\tb\"", "\"中文，全角（）\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"",
	"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xff\"",
	"\"unterminated", "{\"a\":1,\"a\":2}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}",
	"{a:1}", "{\"a\":1} x", " {\"a\" : [ 1 , { } ] } ", "[[[]]]", "{\"k\\u00e9\":1}",
	"{\"\\u0061\":1,\"a\":2}", "", "   ", "[\"\xe4\xb8\"]",
};

START_TEST(test_edge_cases)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree(cases[i], strlen(cases[i]), cases[i]);
}
END_TEST

START_TEST(test_depth_limit)
{
	char text[2 * (SPGW_MAX_JSON_DEPTH + 1) + 1];
	struct spgw_json_error err;
	json_t *v;
	int n;

	for (n = SPGW_MAX_JSON_DEPTH; n <= SPGW_MAX_JSON_DEPTH + 1; n++) {
		memset(text, '[', (size_t)n);
		memset(text + n, ']', (size_t)n);
		v = spgw_json_parse(text, 2 * (size_t)n, &err);
		if (n <= SPGW_MAX_JSON_DEPTH)
			ck_assert_ptr_nonnull(v);
		else
			ck_assert_msg(!v && strstr(err.text, "nesting"), "depth %d accepted", n);
		json_decref(v);
	}
}
END_TEST

START_TEST(test_error_position)
{
	struct spgw_json_error err;

	ck_assert_ptr_null(spgw_json_parse("{\"a\":\"x\xff\"}", 10, &err));
	ck_assert_uint_eq(err.position, 7);
	ck_assert_ptr_nonnull(strstr(err.text, "UTF-8"));
}
END_TEST

static void walk(const char *dir, int *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, files);
		} else if ((n > 5 && !strcmp(e->d_name + n - 5, ".json")) ||
			   (n > 6 && !strcmp(e->d_name + n - 6, ".jsonl"))) {
			FILE *f = fopen(path, "rb");
			char *buf = malloc((size_t)st.st_size + 1);

			if (f && buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
				agree(buf, (size_t)st.st_size, path);
				(*files)++;
			}
			if (f)
				fclose(f);
			free(buf);
		}
	}
	closedir(d);
}

START_TEST(test_case_files)
{
	const char *root = getenv("SPGW_TEST_CASES");
	int files = 0;

	ck_assert_msg(root != NULL, "SPGW_TEST_CASES is not set");
	walk(root, &files);
	ck_assert_msg(files > 50, "only %d JSON files found under %s", files, root);
}
END_TEST

START_TEST(test_mutations)
{
	static const char rec[] =
		"{\"id\":\"010000000001\",\"xmdm\":\"2506-220108-49-03-000001\",\"xmmc\":"
		"\"高新区污水处理厂提标改造\\n\\u4e2d\",\"ztze\":369951421.27,\"n\":-12,"
		"\"spdw\":[{\"name\":\"吉林省\",\"uscc\":\"91220100BLDQTN5LCH\"}],\"ok\":true,"
		"\"none\":null,\"e\":1e5}";
	static const char bytes[] = "{}[]\",:\\u0123456789eE.-+ntf\x80\xc3\xe4\xff\x00 \t";
	char buf[sizeof(rec)];
	unsigned seed = 12345;
	int i, k;

	for (i = 0; i < 20000; i++) {
		memcpy(buf, rec, sizeof(rec) - 1);
		for (k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % (sizeof(rec) - 1)] =
				bytes[(seed >> 20) % (sizeof(bytes) - 1)];
		}
		agree(buf, sizeof(rec) - 1, "mutation");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json_parse");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_edge_cases);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_error_position);
	tcase_add_test(tc, test_case_files);
	tcase_add_test(tc, test_mutations);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
