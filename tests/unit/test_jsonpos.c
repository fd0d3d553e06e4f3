/*
 * Unit tests for gateway/jsonpos.c: positions of members and elements, pointer escaping,
 * column counting (code points, as jansson counts them), CRLF, syntax errors, duplicates,
 * and a property check over documents jansson writes.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "spgw_limits.h"
#include "mem.h"

static struct spgw_jsonpos *scan(const char *text)
{
	struct spgw_jsonpos *pos = NULL;
	struct spgw_error e;

	memset(&e, 0, sizeof(e));
	ck_assert_msg(spgw_jsonpos_new(text, strlen(text), "t.json", &pos, &e) == SPGW_OK,
		      "scan failed: %d:%d: %s", e.line, e.column, e.text);
	return pos;
}

/* Key position (line:col) and value position of `ptr`, as "L:C L:C". */
static void ck_at(const struct spgw_jsonpos *pos, const char *ptr, int kl, int kc, int vl,
		  int vc)
{
	const struct spgw_jsonpos_at *at = spgw_jsonpos_find(pos, ptr);

	ck_assert_msg(at != NULL, "pointer \"%s\" not found", ptr);
	ck_assert_msg(at->line == kl && at->column == kc && at->value_line == vl &&
			      at->value_column == vc,
		      "%s: got %d:%d %d:%d, want %d:%d %d:%d", ptr, at->line, at->column,
		      at->value_line, at->value_column, kl, kc, vl, vc);
}

START_TEST(nested_objects_and_arrays)
{
	const char *t = "{\n"
			"  \"settings\": {\"dir\": \"/d\",\n"
			"    \"list\": [1, [true, null], {\"k\": -2.5e3}]},\n"
			"  \"sources\": [\n"
			"    \"a\",\n"
			"      {}\n"
			"  ]\n"
			"}";
	struct spgw_jsonpos *pos = scan(t);

	ck_at(pos, "", 1, 1, 1, 1);
	ck_at(pos, "/settings", 2, 3, 2, 15);
	ck_at(pos, "/settings/dir", 2, 16, 2, 23);
	ck_at(pos, "/settings/list", 3, 5, 3, 13);
	ck_at(pos, "/settings/list/0", 3, 14, 3, 14);
	ck_at(pos, "/settings/list/1/1", 3, 24, 3, 24);
	ck_at(pos, "/settings/list/2/k", 3, 32, 3, 37);
	ck_at(pos, "/sources/0", 5, 5, 5, 5);
	ck_at(pos, "/sources/1", 6, 7, 6, 7);
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/sources/2"));
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/sources/01"));
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/settings/dir/x"));
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "settings"));
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/nothing"));
	/* byte offsets point at the key's quote and the value's first byte */
	ck_assert_int_eq(t[spgw_jsonpos_find(pos, "/settings/list/2/k")->offset], '"');
	ck_assert_int_eq(t[spgw_jsonpos_find(pos, "/settings/list/2/k")->value_offset], '-');
	spgw_jsonpos_free(pos);
}
END_TEST

START_TEST(child_lookup)
{
	struct spgw_jsonpos *pos = scan("{\"a\": {\"b\": [10, 20]}, \"b\": 1}");
	const struct spgw_jsonpos_at *root = spgw_jsonpos_find(pos, ""), *a, *arr;

	a = spgw_jsonpos_child(pos, root, "a");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->column, 2);
	arr = spgw_jsonpos_child(pos, a, "b");
	ck_assert_int_eq(arr->column, 8);
	ck_assert_int_eq(spgw_jsonpos_child(pos, arr, "1")->column, 18);
	ck_assert_ptr_null(spgw_jsonpos_child(pos, arr, "2"));
	/* the same key under another parent is another member */
	ck_assert_int_eq(spgw_jsonpos_child(pos, root, "b")->column, 24);
	ck_assert_ptr_null(spgw_jsonpos_child(pos, NULL, "a"));
	spgw_jsonpos_free(pos);
}
END_TEST

START_TEST(escaped_keys)
{
	const char *t = "{\"a/b\": 1, \"m~n\": 2, \"q\\\"t\": 3, \"\\u0065x\": 4,\n"
			" \"\\ud83d\\ude00\": {\"~1\": 5}, \"\": 6, \"tab\\tkey\": 7}";
	struct spgw_jsonpos *pos = scan(t);
	const struct spgw_jsonpos_at *root = spgw_jsonpos_find(pos, "");

	ck_at(pos, "/a~1b", 1, 2, 1, 9);
	ck_at(pos, "/m~0n", 1, 12, 1, 19);
	ck_at(pos, "/q\"t", 1, 22, 1, 30);
	ck_at(pos, "/ex", 1, 33, 1, 44);   /* \u0065 is "e" */
	ck_at(pos, "/\xF0\x9F\x98\x80/~01", 2, 19, 2, 25); /* the surrogate pair is one key */
	ck_at(pos, "/", 2, 29, 2, 33);     /* the empty key */
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/a/b"));
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/m~2n")); /* not an escape */
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/m~"));
	ck_assert_ptr_nonnull(spgw_jsonpos_child(pos, root, "a/b"));
	ck_assert_ptr_nonnull(spgw_jsonpos_child(pos, root, "tab\tkey"));
	spgw_jsonpos_free(pos);
}
END_TEST

/* Columns count code points: the member after Chinese text sits where an editor shows it. */
START_TEST(chinese_text_columns)
{
	const char *t = "{\"名称\": \"长春市工程建设\", \"xmdm\": 1, \"𠀀\": 2}";
	struct spgw_jsonpos *pos = scan(t);
	const struct spgw_jsonpos_at *at = spgw_jsonpos_find(pos, "/xmdm");

	ck_at(pos, "/名称", 1, 2, 1, 8);
	ck_at(pos, "/xmdm", 1, 19, 1, 27);
	ck_at(pos, "/𠀀", 1, 30, 1, 35);
	ck_assert_uint_eq(at->offset, (size_t)(strstr(t, "\"xmdm\"") - t));
	spgw_jsonpos_free(pos);
}
END_TEST

/*
 * jansson's json_error_t column counts the same way: break the text right after a key and
 * jansson's error column is that key's last character.
 */
START_TEST(columns_agree_with_jansson)
{
	static const char *const texts[] = {
		"{\"长春\": \"吉林省长春市\", \"k\": tru}",
		"{\r\n  \"名\": 1,\r\n  \"键\": tru}",
		"[\"𠀀𠀁\", \"é\", tru]",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char good[128];
		const char *bad = texts[i];
		size_t n = strlen(bad);
		json_error_t je;
		struct spgw_jsonpos *pos;
		struct spgw_error e;
		const struct spgw_jsonpos_at *at;
		char ptr[16];

		/* jansson: error at the end of "tru" */
		ck_assert_ptr_null(json_loadb(bad, n, 0, &je));
		/* us: the same text with "true", the value's column + 2 is the same character */
		snprintf(good, sizeof(good), "%.*strue%s", (int)(strstr(bad, "tru") - bad), bad,
			 strstr(bad, "tru") + 3);
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(spgw_jsonpos_new(good, strlen(good), NULL, &pos, &e), SPGW_OK);
		snprintf(ptr, sizeof(ptr), i == 2 ? "/2" : i == 1 ? "/键" : "/k");
		at = spgw_jsonpos_find(pos, ptr);
		ck_assert_ptr_nonnull(at);
		ck_assert_int_eq(at->value_line, je.line);
		ck_assert_int_eq(at->value_column + 2, je.column);
		/* and our own syntax error lands on the same line as jansson's */
		memset(&e, 0, sizeof(e));
		spgw_jsonpos_free(pos);
		pos = NULL;
		ck_assert_int_eq(spgw_jsonpos_new(bad, n, NULL, &pos, &e), SPGW_E_SYNTAX);
		ck_assert_int_eq(e.line, je.line);
		ck_assert_int_eq(e.column, je.column - 2); /* we point at the token's start */
	}
}
END_TEST

START_TEST(crlf_lines)
{
	const char *t = "{\r\n\t\"a\": 1,\r\n\r\n  \"b\":\r\n\t[\r\n 2\r\n ]\r\n}\r\n";
	struct spgw_jsonpos *pos = scan(t);

	ck_at(pos, "/a", 2, 2, 2, 7);
	ck_at(pos, "/b", 4, 3, 5, 2);
	ck_at(pos, "/b/0", 6, 2, 6, 2);
	spgw_jsonpos_free(pos);
}
END_TEST

START_TEST(root_after_whitespace)
{
	struct spgw_jsonpos *pos = scan("\n\n   \"just a string\"  \n");

	ck_at(pos, "", 3, 4, 3, 4);
	ck_assert_ptr_null(spgw_jsonpos_find(pos, "/0"));
	spgw_jsonpos_free(pos);
}
END_TEST

static const struct {
	const char *text;
	int line, column;
} bad_json[] = {
	{ "", 1, 1 },
	{ "{\"a\": 1,}", 1, 9 },
	{ "{\"a\" 1}", 1, 6 },
	{ "{\"a\": \"x\n\"}", 1, 9 },
	{ "{\"a\": \"\\q\"}", 1, 9 },
	{ "{\"a\": \"\\u12g4\"}", 1, 12 },
	{ "{\"a\": \"\\ud800x\"}", 1, 14 },
	{ "{\"a\": \"\\udc00\"}", 1, 14 },
	{ "[01]", 1, 3 },
	{ "[1.]", 1, 4 },
	{ "[-]", 1, 3 },
	{ "[1e]", 1, 4 },
	{ "[nul]", 1, 2 },
	{ "{\"a\": 1}\n x", 2, 2 },
	{ "[1 2]", 1, 4 },
	{ "{\"长春\": }", 1, 8 },
	{ "{\"a\": \"unterminated", 1, 20 },
	{ "{1: 2}", 1, 2 },
};

START_TEST(syntax_errors)
{
	struct spgw_jsonpos *pos = NULL;
	struct spgw_error e;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_jsonpos_new(bad_json[_i].text, strlen(bad_json[_i].text), "x.json",
					  &pos, &e),
			 SPGW_E_SYNTAX);
	ck_assert_ptr_null(pos);
	ck_assert_str_eq(e.source, "x.json");
	ck_assert_msg(e.line == bad_json[_i].line && e.column == bad_json[_i].column,
		      "\"%s\": got %d:%d (%s), want %d:%d", bad_json[_i].text, e.line, e.column,
		      e.text, bad_json[_i].line, bad_json[_i].column);
}
END_TEST

START_TEST(depth_limit)
{
	char t[2 * (SPGW_MAX_JSON_DEPTH + 1) + 1];
	struct spgw_jsonpos *pos = NULL;
	struct spgw_error e;
	int d;

	/* SPGW_MAX_JSON_DEPTH arrays one in another (the root counted) pass, one more does not */
	for (d = SPGW_MAX_JSON_DEPTH; d <= SPGW_MAX_JSON_DEPTH + 1; d++) {
		memset(t, '[', (size_t)d);
		memset(t + d, ']', (size_t)d);
		t[2 * d] = '\0';
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(spgw_jsonpos_new(t, strlen(t), NULL, &pos, &e),
				 d == SPGW_MAX_JSON_DEPTH ? SPGW_OK : SPGW_E_SYNTAX);
		spgw_jsonpos_free(pos);
		pos = NULL;
	}
	ck_assert_int_eq(e.column, SPGW_MAX_JSON_DEPTH + 1);
}
END_TEST

START_TEST(duplicates)
{
	const char *t = "{\"a\": {\"x\": 1, \"y\": 2},\n \"b\": {\"x\": 1, \"y\": 2, \"x\": 3},\n"
			" \"a\": 0}";
	struct spgw_jsonpos *pos = scan(t);
	const struct spgw_jsonpos_at *first = NULL, *dup;
	const char *key = NULL;

	dup = spgw_jsonpos_duplicate(pos, &first, &key);
	ck_assert_ptr_nonnull(dup);
	ck_assert_str_eq(key, "x");
	ck_assert_int_eq(dup->line, 2);
	ck_assert_int_eq(dup->column, 24);
	ck_assert_int_eq(first->line, 2);
	ck_assert_int_eq(first->column, 8);
	/* a lookup finds the first occurrence */
	ck_assert_int_eq(spgw_jsonpos_find(pos, "/b/x")->column, 8);
	ck_assert_int_eq(spgw_jsonpos_find(pos, "/a")->line, 1);
	spgw_jsonpos_free(pos);
	pos = scan("{\"a\": [1, 1], \"b\": {\"a\": 1}}");
	ck_assert_ptr_null(spgw_jsonpos_duplicate(pos, &first, &key));
	spgw_jsonpos_free(pos);
}
END_TEST

/* Every member and element of `v` is found, and its value starts with the right byte. */
static void check_tree(const struct spgw_jsonpos *pos, const char *text, const json_t *v,
		       char *ptr, size_t len, size_t *count)
{
	const struct spgw_jsonpos_at *at = spgw_jsonpos_find(pos, ptr);
	const char *starts = json_is_object(v)	? "{"
			     : json_is_array(v) ? "["
			     : json_is_string(v) ? "\""
			     : json_is_true(v)	 ? "t"
			     : json_is_false(v)	 ? "f"
			     : json_is_null(v)	 ? "n"
						 : "-0123456789";
	const char *key;
	json_t *m;
	size_t i;

	ck_assert_msg(at != NULL, "%s not found", ptr);
	ck_assert_msg(strchr(starts, text[at->value_offset]) != NULL, "%s at %zu: '%c'", ptr,
		      at->value_offset, text[at->value_offset]);
	(*count)++;
	json_object_foreach((json_t *)v, key, m) {
		size_t n = len, k;

		ptr[n++] = '/';
		for (k = 0; key[k]; k++) {
			if (key[k] == '~' || key[k] == '/') {
				ptr[n++] = '~';
				ptr[n++] = key[k] == '~' ? '0' : '1';
			} else {
				ptr[n++] = key[k];
			}
		}
		ptr[n] = '\0';
		ck_assert_int_eq(text[spgw_jsonpos_find(pos, ptr)->offset], '"');
		check_tree(pos, text, m, ptr, n, count);
		ptr[len] = '\0';
	}
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		int n = snprintf(ptr + len, 32, "/%zu", i);

		check_tree(pos, text, json_array_get(v, i), ptr, len + (size_t)n, count);
		ptr[len] = '\0';
	}
}

static json_t *random_value(unsigned *seed, int depth)
{
	static const char *const words[] = { "a", "b/c", "x~y", "长春", "\"q\"", "k\n",
					     "𠀀", "dir", "" };
	int r = (int)(rand_r(seed) % (depth > 4 ? 5 : 7));
	json_t *v;
	int i, n;

	switch (r) {
	case 0:
		return json_string(words[rand_r(seed) % 9]);
	case 1:
		return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
	case 2:
		return json_real((double)rand_r(seed) / 7.0);
	case 3:
		return json_boolean(rand_r(seed) & 1);
	case 4:
		return json_null();
	case 5:
		v = json_object();
		n = (int)(rand_r(seed) % 6);
		for (i = 0; i < n; i++) {
			char key[64];

			snprintf(key, sizeof(key), "%s%d", words[rand_r(seed) % 9], i);
			json_object_set_new(v, key, random_value(seed, depth + 1));
		}
		return v;
	default:
		v = json_array();
		n = (int)(rand_r(seed) % 6);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(seed, depth + 1));
		return v;
	}
}

START_TEST(every_member_found)
{
	static const size_t flags[] = { 0, JSON_INDENT(2), JSON_COMPACT, JSON_ENSURE_ASCII,
					JSON_INDENT(1) | JSON_ENSURE_ASCII };
	unsigned seed = 7;
	size_t total = 0;
	int round;

	for (round = 0; round < 200; round++) {
		json_t *v = json_object();
		struct spgw_jsonpos *pos;
		char *text, ptr[4096] = "";

		json_object_set_new(v, "root", random_value(&seed, 0));
		json_object_set_new(v, "more", random_value(&seed, 0));
		text = json_dumps(v, flags[round % 5]);
		pos = scan(text);
		check_tree(pos, text, v, ptr, 0, &total);
		spgw_jsonpos_free(pos);
		free(text);
		json_decref(v);
	}
	ck_assert_uint_gt(total, 1000);
}
END_TEST

/* The scan of a large document is linear: ~6 MB with 200,000 members. */
START_TEST(large_document)
{
	size_t cap = 8u << 20, len = 0, i;
	char *t = malloc(cap);
	struct spgw_jsonpos *pos;
	char ptr[64];

	len += (size_t)snprintf(t + len, cap - len, "{\"rows\": [\n");
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"%s{\"id\": %zu, \"名称\": \"长春市第%zu号工程\", \"a\": 1,"
					" \"b\": [1, 2, 3], \"c\": {\"d\": null}, \"e\": true,"
					" \"f\": \"x\", \"g\": 2.5}\n",
					i ? "," : "", i, i);
	len += (size_t)snprintf(t + len, cap - len, "]}");
	ck_assert_uint_lt(len, cap);
	pos = NULL;
	{
		struct spgw_error e;

		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(spgw_jsonpos_new(t, len, NULL, &pos, &e), SPGW_OK);
	}
	snprintf(ptr, sizeof(ptr), "/rows/19999/c/d");
	ck_assert_int_eq(spgw_jsonpos_find(pos, ptr)->line, 20001);
	/* after ",{\"id\": 12345, " */
	ck_assert_int_eq(spgw_jsonpos_find(pos, "/rows/12345/名称")->column, 16);
	spgw_jsonpos_free(pos);
	free(t);
}
END_TEST

/* Failing allocation N, for every N: an error, never a crash or a leak (ASan watches). */
START_TEST(allocation_failures)
{
	const char *t = "{\"a\": [1, {\"长\": \"v\"}, [[]]], \"b\\u0041\": {\"c\": 3}}";
	long n;

	for (n = 0;; n++) {
		struct spgw_jsonpos *pos = NULL;
		struct spgw_error e;
		enum spgw_rc rc;
		void *probe;

		memset(&e, 0, sizeof(e));
		spgw_mem_fail_after(n);
		rc = spgw_jsonpos_new(t, strlen(t), NULL, &pos, &e);
		probe = spgw_malloc(1);
		spgw_mem_fail_after(-1);
		if (probe) { /* no allocation failed: the run was untouched */
			spgw_free(probe);
			ck_assert_int_eq(rc, SPGW_OK);
			ck_assert_int_eq(spgw_jsonpos_find(pos, "/bA/c")->column, 42);
			spgw_jsonpos_free(pos);
			break;
		}
		ck_assert_msg(rc == SPGW_E_NOMEM || rc == SPGW_OK, "n=%ld: rc %d", n, rc);
		ck_assert(rc == SPGW_OK || pos == NULL);
		spgw_jsonpos_free(pos);
	}
	ck_assert_int_gt(n, 2);
}
END_TEST

static Suite *jsonpos_suite(void)
{
	Suite *s = suite_create("jsonpos");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nested_objects_and_arrays);
	tcase_add_test(tc, child_lookup);
	tcase_add_test(tc, escaped_keys);
	tcase_add_test(tc, chinese_text_columns);
	tcase_add_test(tc, columns_agree_with_jansson);
	tcase_add_test(tc, crlf_lines);
	tcase_add_test(tc, root_after_whitespace);
	tcase_add_loop_test(tc, syntax_errors, 0, (int)(sizeof(bad_json) / sizeof(bad_json[0])));
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, every_member_found);
	tcase_add_test(tc, large_document);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonpos_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
