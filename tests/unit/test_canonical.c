/*
 * Unit tests for the canonical form and digests (gateway/canonical.c), mostly as data:
 *
 *   tests/cases/canonical/<case>/input.json      any JSON value
 *   tests/cases/canonical/<case>/canonical.json  the exact expected bytes (no trailing newline)
 *   tests/cases/canonical/<case>/sm3.txt         SM3 of canonical.json, lowercase hex
 *   tests/cases/canonical/<case>/sha256.txt      SHA-256 of canonical.json, lowercase hex
 *   tests/cases/canonical/<case>/error           instead of the three above: a substring of
 *                                                the message refusing the input
 *
 * The expected bytes were written by hand and the digests computed with `openssl dgst -sm3`
 * and `sha256sum`, never with this code (tests/vectors/README.md).
 *
 * Environment: SPGW_TEST_CASES (absolute path of tests/cases).
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "spgw_limits.h"
#include "mem.h"
#include "scratch.h"

#define MAX_CASES 256

static char *cases_dir;
static char *cases[MAX_CASES];
static int n_cases;

static char *case_path(const char *name, const char *file)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/canonical/%s/%s", cases_dir, name, file);
	return path;
}

/* A one-line text file without its trailing white space. */
static char *read_line(const char *name, const char *file)
{
	size_t n = 0;
	char *s = scratch_slurp(case_path(name, file), &n);

	while (s && n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_cases(void)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/canonical", cases_dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX_CASES)
		if (de->d_name[0] != '.')
			cases[n++] = strdup(de->d_name);
	closedir(d);
	qsort(cases, (size_t)n, sizeof(cases[0]), cmp_str);
	return n;
}

/* ---- the vectors ---- */

START_TEST(vector)
{
	const char *name = cases[_i];
	char *input, *expected, *want_err, *sm3, *sha;
	size_t in_len = 0, exp_len = 0;
	struct spgw_error err;
	struct spgw_buf out;
	json_error_t jerr;
	char hex[65];
	enum spgw_rc rc;
	json_t *v;

	input = scratch_slurp(case_path(name, "input.json"), &in_len);
	ck_assert_msg(input, "%s: no input.json", name);
	expected = scratch_slurp(case_path(name, "canonical.json"), &exp_len);
	want_err = read_line(name, "error");
	ck_assert_msg(!expected != !want_err, "%s: needs canonical.json or error, not both", name);
	memset(&err, 0, sizeof(err));
	spgw_buf_init(&out, SPGW_MAX_RECORD, "canonical form");
	/* duplicate member names have no canonical form (PROTOCOL.md §4 `canonical`);
	 * jansson refuses them while loading, so the vectors load that way */
	v = json_loadb(input, in_len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
		       &jerr);
	if (want_err) {
		if (!v) {
			ck_assert_msg(strstr(jerr.text, want_err),
				      "%s: load error \"%s\" lacks \"%s\"", name, jerr.text,
				      want_err);
		} else {
			rc = spgw_canonical(v, &out, &err);
			ck_assert_msg(rc == SPGW_E_INVALID, "%s: accepted, wrote %s", name,
				      out.data ? out.data : "");
			ck_assert_msg(strstr(err.text, want_err), "%s: error \"%s\" lacks \"%s\"",
				      name, err.text, want_err);
			ck_assert_uint_eq(out.len, 0);
		}
	} else {
		ck_assert_msg(v, "%s: input does not load: %s", name, jerr.text);
		rc = spgw_canonical(v, &out, &err);
		ck_assert_msg(rc == SPGW_OK, "%s: %s", name, err.text);
		ck_assert_msg(out.len == exp_len && !memcmp(out.data, expected, exp_len),
			      "%s: got %s, want %s", name, out.data, expected);
		sm3 = read_line(name, "sm3.txt");
		sha = read_line(name, "sha256.txt");
		ck_assert_msg(sm3 && sha, "%s: sm3.txt or sha256.txt missing", name);
		ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SM3, out.data, out.len, hex, &err), 0);
		ck_assert_str_eq(hex, sm3);
		ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SHA256, out.data, out.len, hex, &err),
				 0);
		ck_assert_str_eq(hex, sha);
		free(sm3);
		free(sha);
	}
	json_decref(v);
	spgw_buf_free(&out);
	free(input);
	free(expected);
	free(want_err);
}
END_TEST

/* ---- digests ---- */

START_TEST(digest_standard_vectors)
{
	unsigned char md[32];
	char hex[65];

	/* GB/T 32905-2016 appendix A.1 and FIPS 180-2 appendix B.1 */
	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SM3, "abc", 3, hex, NULL), SPGW_OK);
	ck_assert_str_eq(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SHA256, "abc", 3, hex, NULL), SPGW_OK);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* GB/T 32905-2016 A.2: "abcd" sixteen times */
	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SM3,
					 "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd"
					 "abcdabcdabcdabcd", 64, hex, NULL),
			 SPGW_OK);
	ck_assert_str_eq(hex, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
	/* empty input; raw agrees with hex */
	ck_assert_int_eq(spgw_digest_raw(SPGW_DIGEST_SHA256, NULL, 0, md, NULL), SPGW_OK);
	ck_assert_uint_eq(md[0], 0xe3);
	ck_assert_uint_eq(md[31], 0x55);
	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SHA256, "", 0, hex, NULL), SPGW_OK);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(digest_names)
{
	enum spgw_digest_alg alg = SPGW_DIGEST_SHA256;
	struct spgw_error err;

	ck_assert_str_eq(spgw_digest_name(SPGW_DIGEST_SM3), "sm3");
	ck_assert_str_eq(spgw_digest_name(SPGW_DIGEST_SHA256), "sha-256");
	ck_assert_int_eq(spgw_digest_parse("sm3", &alg, NULL), SPGW_OK);
	ck_assert_int_eq(alg, SPGW_DIGEST_SM3);
	ck_assert_int_eq(spgw_digest_parse("sha-256", &alg, NULL), SPGW_OK);
	ck_assert_int_eq(alg, SPGW_DIGEST_SHA256);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_digest_parse("sha256", &alg, &err), SPGW_E_CONFIG);
	ck_assert_int_eq(alg, SPGW_DIGEST_SHA256); /* out-parameter untouched on failure */
	ck_assert_ptr_nonnull(strstr(err.text, "\"sha256\""));
	ck_assert_ptr_nonnull(strstr(err.text, "sha-256"));
	ck_assert_int_eq(spgw_digest_parse(NULL, &alg, NULL), SPGW_E_CONFIG);
	ck_assert_int_eq(spgw_digest_parse("SM3", &alg, NULL), SPGW_E_CONFIG);
}
END_TEST

/* ---- what the vectors cannot hold: values jansson would not load ---- */

/* spgw_canonical of `v` must refuse with a message containing `path` and `what`. */
static void expect_invalid(json_t *v, const char *path, const char *what)
{
	struct spgw_error err;
	struct spgw_buf out;

	ck_assert_ptr_nonnull(v);
	memset(&err, 0, sizeof(err));
	spgw_buf_init(&out, 1 << 20, "canonical form");
	ck_assert_int_eq(spgw_canonical(v, &out, &err), SPGW_E_INVALID);
	ck_assert_msg(strstr(err.text, path) && strstr(err.text, what),
		      "message \"%s\" lacks \"%s\" or \"%s\"", err.text, path, what);
	ck_assert_uint_eq(out.len, 0);
	spgw_buf_free(&out);
	json_decref(v);
}

START_TEST(invalid_utf8)
{
	static const char *const bad[] = {
		"\xff",             /* never in UTF-8 */
		"ab\x80",           /* a continuation byte alone */
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, three bytes */
		"\xed\xa0\x80",     /* U+D800, a lone (high) surrogate as CESU-8 */
		"\xed\xbf\xbf",     /* U+DFFF, a lone low surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe4\xb8",         /* 中 cut short */
		"\xe4\xb8\x41",     /* 中 with a bad continuation */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = json_object();

		json_object_set_new(o, "XMMC", json_stringn_nocheck(bad[i], strlen(bad[i])));
		expect_invalid(o, "XMMC", "UTF-8");
	}
	/* in a member name, inside an array; the message shows the name without the bad
	 * bytes, so it stays clean text for logs */
	{
		json_t *o = json_object(), *a = json_array();
		struct spgw_error err;
		struct spgw_buf out;

		json_object_set_new_nocheck(o, "X\xed\xa0\x80M", json_true());
		json_array_append_new(a, json_integer(1));
		json_array_append_new(a, o);
		memset(&err, 0, sizeof(err));
		spgw_buf_init(&out, 1024, "canonical form");
		ck_assert_int_eq(spgw_canonical(a, &out, &err), SPGW_E_INVALID);
		ck_assert_msg(strstr(err.text, "member [1].X???M: ") &&
				      strstr(err.text, "surrogate"),
			      "message: %s", err.text);
		spgw_buf_free(&out);
		json_decref(a);
	}
}
END_TEST

START_TEST(strings_with_nul_and_utf8_edges)
{
	/* U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF: the edges of each UTF-8 length */
	static const char edges[] = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
				    "\xf4\x8f\xbf\xbf";
	struct spgw_buf out;
	json_t *a = json_array();

	spgw_buf_init(&out, 1024, "canonical form");
	json_array_append_new(a, json_stringn("a\0b", 3));
	json_array_append_new(a, json_stringn_nocheck(edges, sizeof(edges) - 1));
	ck_assert_int_eq(spgw_canonical(a, &out, NULL), SPGW_OK);
	ck_assert_uint_eq(out.len, strlen("[\"a\\u0000b\",\"\"]") + sizeof(edges) - 1);
	ck_assert_int_eq(memcmp(out.data, "[\"a\\u0000b\",\"", 13), 0);
	ck_assert_int_eq(memcmp(out.data + 13, edges, sizeof(edges) - 1), 0);
	spgw_buf_free(&out);
	json_decref(a);
}
END_TEST

START_TEST(numbers_built_in_code)
{
	struct spgw_buf out;
	json_t *a = json_array();

	spgw_buf_init(&out, 1024, "canonical form");
	json_array_append_new(a, json_real(-0.0));
	json_array_append_new(a, json_real(9007199254740991.0));
	json_array_append_new(a, json_real(-9007199254740991.0));
	json_array_append_new(a, json_real(0.1 + 0.2));
	json_array_append_new(a, json_real(1e-6));
	json_array_append_new(a, json_real(-1e-6));
	json_array_append_new(a, json_real(123.0 / 1024)); /* 0.1201171875, exact */
	ck_assert_int_eq(spgw_canonical(a, &out, NULL), SPGW_OK);
	ck_assert_str_eq(out.data, "[0,9007199254740991,-9007199254740991,0.30000000000000004,"
				   "0.000001,-0.000001,0.1201171875]");
	spgw_buf_free(&out);
	json_decref(a);
	expect_invalid(json_pack("{s:f}", "ZTZE", 9007199254740992.0), "ZTZE", "2^53");
	expect_invalid(json_pack("{s:I}", "n", (json_int_t)-9007199254740992LL), "n", "2^53");
	expect_invalid(json_pack("{s:f}", "x", 9.99e-7), "x", "1e-6");
	expect_invalid(json_pack("{s:f}", "x", 1e300), "x", "2^53");
	/* jansson refuses to hold NaN or infinity (json_real() returns NULL), so no record can
	 * carry one to spgw_canonical; the check there is for a future jansson */
	ck_assert_ptr_null(json_real(NAN));
	ck_assert_ptr_null(json_real(INFINITY));
}
END_TEST

/*
 * Every non-integral double in the canonical range comes out in plain notation, without
 * superfluous zeros, and reads back as the same double.
 */
START_TEST(numbers_round_trip)
{
	struct spgw_buf out;
	unsigned long long state = 0x9e3779b97f4a7c15ULL;
	int i, checked = 0;

	spgw_buf_init(&out, 1024, "canonical form");
	for (i = 0; i < 200000; i++) {
		double x;
		json_t *v;
		char *end;

		/* xorshift64: any bit pattern, so every exponent and mantissa shows up */
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		memcpy(&x, &state, sizeof(x));
		if (isnan(x) || isinf(x) || x == trunc(x) || fabs(x) < 1e-6)
			continue;
		v = json_real(x);
		spgw_buf_reset(&out);
		ck_assert_int_eq(spgw_canonical(v, &out, NULL), SPGW_OK);
		ck_assert_msg(!strpbrk(out.data, "eE+"), "%.17g written as %s", x, out.data);
		ck_assert_msg(strtod(out.data, &end) == x && *end == '\0', "%.17g written as %s", x,
			      out.data);
		ck_assert_msg(out.data[out.len - 1] != '0' && out.data[out.len - 1] != '.',
			      "%.17g written as %s", x, out.data);
		ck_assert_msg(out.data[x < 0] != '.', "%.17g written as %s", x, out.data);
		json_decref(v);
		checked++;
	}
	ck_assert_int_gt(checked, 1000);
	spgw_buf_free(&out);
}
END_TEST

/* The output is appended; a refusal leaves what was there before, no half-written form. */
START_TEST(appends_and_restores)
{
	struct spgw_buf out;
	json_t *ok = json_pack("{s:i,s:s}", "b", 1, "a", "x");
	json_t *bad = json_pack("{s:s,s:f}", "a", "long enough to be written first", "b", 1e-9);

	spgw_buf_init(&out, 1024, "canonical form");
	ck_assert_int_eq(spgw_buf_addstr(&out, "prefix:", NULL), SPGW_OK);
	ck_assert_int_eq(spgw_canonical(ok, &out, NULL), SPGW_OK);
	ck_assert_str_eq(out.data, "prefix:{\"a\":\"x\",\"b\":1}");
	ck_assert_int_eq(spgw_canonical(bad, &out, NULL), SPGW_E_INVALID);
	ck_assert_str_eq(out.data, "prefix:{\"a\":\"x\",\"b\":1}");
	ck_assert_int_eq(spgw_canonical(NULL, &out, NULL), SPGW_E_INVALID);
	spgw_buf_free(&out);
	json_decref(ok);
	json_decref(bad);
}
END_TEST

/* A limit on the output buffer is reported, not overrun. */
START_TEST(output_limit)
{
	struct spgw_error err;
	struct spgw_buf out;
	json_t *v = json_pack("{s:s}", "XMMC", "0123456789012345678901234567890123456789");

	memset(&err, 0, sizeof(err));
	spgw_buf_init(&out, 20, "canonical form");
	ck_assert_int_eq(spgw_canonical(v, &out, &err), SPGW_E_LIMIT);
	ck_assert_uint_eq(out.len, 0);
	spgw_buf_free(&out);
	json_decref(v);
}
END_TEST

/*
 * Objects with more members than fit the on-stack member array, nested so that an inner
 * object grows the shared stack while the outer one is being written.
 */
START_TEST(many_members)
{
	struct spgw_buf out, want;
	json_t *outer = json_object();
	char key[16];
	int i, j;

	spgw_buf_init(&out, 1 << 22, "canonical form");
	spgw_buf_init(&want, 1 << 22, "expected");
	for (i = 299; i >= 0; i--) {
		json_t *inner = json_object();

		for (j = 299; j >= 0; j--) {
			snprintf(key, sizeof(key), "k%03d", j);
			json_object_set_new(inner, key, json_integer(j));
		}
		snprintf(key, sizeof(key), "o%03d", i);
		json_object_set_new(outer, key, inner);
	}
	for (i = 0; i < 300; i++) {
		spgw_buf_printf(&want, NULL, "%s\"o%03d\":{", i ? "," : "{", i);
		for (j = 0; j < 300; j++)
			spgw_buf_printf(&want, NULL, "%s\"k%03d\":%d", j ? "," : "", j, j);
		spgw_buf_addc(&want, '}', NULL);
	}
	spgw_buf_addc(&want, '}', NULL);
	ck_assert_int_eq(spgw_canonical(outer, &out, NULL), SPGW_OK);
	ck_assert_uint_eq(out.len, want.len);
	ck_assert_int_eq(memcmp(out.data, want.data, want.len), 0);
	spgw_buf_free(&out);
	spgw_buf_free(&want);
	json_decref(outer);
}
END_TEST

/* Every allocation failing in turn: reported as NOMEM, never a crash or a wrong form. */
START_TEST(allocation_failures)
{
	struct spgw_buf out;
	json_t *big = json_object();
	char key[16];
	long n;
	int i, done = 0;

	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "f%03d", 399 - i);
		json_object_set_new(big, key, json_string("吉林省长春市"));
	}
	for (n = 0; n < 64 && !done; n++) {
		enum spgw_rc rc;

		spgw_buf_init(&out, 1 << 20, "canonical form");
		spgw_mem_fail_after(n);
		rc = spgw_canonical(big, &out, NULL);
		spgw_mem_fail_after(-1);
		ck_assert_msg(rc == SPGW_OK || rc == SPGW_E_NOMEM, "rc %d after %ld allocations",
			      rc, n);
		if (rc == SPGW_OK) {
			ck_assert_int_eq(
				strncmp(out.data, "{\"f000\":\"吉林省长春市\",\"f001\"", 29), 0);
			done = 1;
		} else {
			ck_assert_uint_eq(out.len, 0);
		}
		spgw_buf_free(&out);
	}
	ck_assert_msg(done, "never succeeded");
	ck_assert_int_gt(n, 1); /* at least one failure was injected and survived */
	json_decref(big);
}
END_TEST

static Suite *canonical_suite(void)
{
	Suite *s = suite_create("canonical");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, vector, 0, n_cases);
	suite_add_tcase(s, tc);
	tc = tcase_create("digests");
	tcase_add_test(tc, digest_standard_vectors);
	tcase_add_test(tc, digest_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("serializer");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, invalid_utf8);
	tcase_add_test(tc, strings_with_nul_and_utf8_edges);
	tcase_add_test(tc, numbers_built_in_code);
	tcase_add_test(tc, numbers_round_trip);
	tcase_add_test(tc, appends_and_restores);
	tcase_add_test(tc, output_limit);
	tcase_add_test(tc, many_members);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, i;

	cases_dir = getenv("SPGW_TEST_CASES");
	if (!cases_dir || cases_dir[0] != '/') {
		fprintf(stderr, "test_canonical: set SPGW_TEST_CASES to the absolute path of "
				"tests/cases\n");
		return 1;
	}
	n_cases = list_cases();
	if (n_cases == 0) {
		fprintf(stderr, "test_canonical: no cases in %s/canonical\n", cases_dir);
		return 1;
	}
	sr = srunner_create(canonical_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < n_cases; i++)
		free(cases[i]);
	return failed ? 1 : 0;
}
