/*
 * Tests of the files plugin (plugins/files/), run through tests/plugin_host_mock.c exactly as
 * the gateway runs a plugin: loaded from its .so, settings checked against its options,
 * create -> pull | pull_range | count -> destroy.
 *
 * Environment: SPGW_FILES_PLUGIN (path of the built files.so), SPGW_TEST_CASES (absolute path
 * of tests/cases; the drops are under files/<case>/). SPGW_FILES_MIN_RATE (rows/s) is the
 * throughput the speed test demands: by default 2000, which only a gross regression misses
 * even under valgrind; an optimized build is held to 50000 by setting it.
 */
#define _GNU_SOURCE /* setresuid(): act as another user and come back (unreadable_file) */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../plugin_host_mock.h"

#define MAX_CASES 64
#define REGION "220100"

static const char *plugin_path, *cases_dir;
static char case_names[MAX_CASES][256];
static int n_cases;

static struct spgw_mock *mock;
static char dir[256];

/* --- fixture and helpers --- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/spgw-files-XXXXXX");
	ck_assert_msg(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	ck_assert_msg(spgw_mock_load(plugin_path, &mock, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	spgw_mock_free(mock);
	mock = NULL;
	chmod(dir, 0700);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void putn(const char *name, const char *data, size_t len, const char *mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, mode);
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void put(const char *name, const char *data)
{
	putn(name, data, strlen(data), "wb");
}

static void append(const char *name, const char *data)
{
	putn(name, data, strlen(data), "ab");
}

/* The source settings: dir, stable_seconds 0 (files are complete when written, and tests do
 * not wait), and `extra` (",\"key\":value..." or ""). */
static const char *settings(const char *extra)
{
	static char s[1024];

	snprintf(s, sizeof(s), "{\"dir\":\"%s\",\"stable_seconds\":0%s}", dir, extra);
	return s;
}

static void show_logs(void)
{
	size_t i;

	for (i = 0; i < spgw_mock_logs(mock); i++)
		fprintf(stderr, "  log %d: %s\n", (int)spgw_mock_log_level(mock, i),
			spgw_mock_log_line(mock, i));
}

/* A pull that keeps every rule of plugin.h (else the test fails, showing the logs). */
static int pull(const char *extra, const char *cursor)
{
	int rc = spgw_mock_pull(mock, settings(extra), REGION, cursor);

	if (spgw_mock_violations(mock))
		show_logs();
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	return rc;
}

/* Record i of the last run, parsed (owned by the caller). */
static json_t *record(size_t i)
{
	const char *text = spgw_mock_record_json(mock, i, NULL);
	json_error_t je;
	json_t *j;

	ck_assert_ptr_nonnull(text);
	j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	ck_assert_msg(json_is_object(j), "record %zu is not a JSON object (%s): %s", i, je.text,
		      text);
	return j;
}

/* Member `key` of record i, a string, compared with `want`. */
static void want_field(size_t i, const char *key, const char *want)
{
	json_t *j = record(i);
	const char *got = json_string_value(json_object_get(j, key));

	ck_assert_msg(got && !strcmp(got, want), "record %zu: %s is \"%s\", expected \"%s\"", i,
		      key, got ? got : "(absent)", want);
	json_decref(j);
}

static long long int_field(size_t i, const char *key)
{
	json_t *j = record(i);
	json_t *v = json_object_get(j, key);
	long long n;

	ck_assert_msg(json_is_number(v), "record %zu has no number %s", i, key);
	n = (long long)json_number_value(v);
	json_decref(j);
	return n;
}

static char *cursor_now(void)
{
	const char *c = spgw_mock_cursor(mock);

	ck_assert_ptr_nonnull(c);
	return strdup(c);
}

/* N rows "<i>,v<i>" after a header "ID,V". */
static char *rows_csv(int first, int n)
{
	char *s = malloc((size_t)n * 32 + 16), *p;
	int i;

	ck_assert_ptr_nonnull(s);
	p = s + sprintf(s, "ID,V\n");
	for (i = first; i < first + n; i++)
		p += sprintf(p, "%d,v%d\n", i, i);
	return s;
}

/* --- the drops in tests/cases/files --- */

static int list_cases(void)
{
	char path[512];
	struct dirent **names;
	int n, i;

	snprintf(path, sizeof(path), "%s/files", cases_dir);
	n = scandir(path, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && n_cases < MAX_CASES)
			snprintf(case_names[n_cases++], sizeof(case_names[0]), "%s",
				 names[i]->d_name);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	return n_cases;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* Copy the case's drop/ into the temp dir, in name order (which is then arrival order). */
static void copy_drop(const char *casedir)
{
	char path[1024];
	struct dirent **names;
	int n, i;

	snprintf(path, sizeof(path), "%s/drop", casedir);
	n = scandir(path, &names, NULL, alphasort);
	ck_assert_msg(n > 2, "%s is empty", path);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			size_t len;
			char *data;

			snprintf(path, sizeof(path), "%s/drop/%s", casedir, names[i]->d_name);
			data = slurp(path, &len);
			putn(names[i]->d_name, data, len, "wb");
			free(data);
		}
		free(names[i]);
	}
	free(names);
}

static void compare_record(const char *name, size_t i, const json_t *want)
{
	json_t *got = record(i), *exp = json_object_get(want, "record");
	char *g, *e;

	g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
	e = json_dumps(exp, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_msg(json_equal(got, exp), "%s record %zu:\n  got      %s\n  expected %s", name, i,
		      g, e);
	free(g);
	free(e);
	json_decref(got);
}

START_TEST(drop_case)
{
	const char *name = case_names[_i];
	char casedir[400], path[600], *text, *line, *save = NULL;
	json_t *s;
	json_error_t je;
	size_t n = 0;
	int rc;

	ck_assert_int_lt(snprintf(casedir, sizeof(casedir), "%s/files/%s", cases_dir, name),
			 (int)sizeof(casedir));
	copy_drop(casedir);
	snprintf(path, sizeof(path), "%s/settings.json", casedir);
	s = json_load_file(path, 0, &je);
	ck_assert_msg(json_is_object(s), "%s: %s", path, je.text);
	json_object_set_new(s, "dir", json_string(dir));
	text = json_dumps(s, JSON_COMPACT);
	rc = spgw_mock_pull(mock, text, REGION, NULL);
	free(text);
	json_decref(s);
	if (rc || spgw_mock_violations(mock))
		show_logs();
	ck_assert_msg(rc == SPGW_PLUGIN_OK, "%s: pull returned %d: %s", name, rc,
		      spgw_mock_error(mock));
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);

	snprintf(path, sizeof(path), "%s/expected.jsonl", casedir);
	text = slurp(path, NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		json_t *want = json_loads(line, 0, &je);
		const char *exact = json_string_value(json_object_get(want, "text"));

		ck_assert_msg(want, "%s:%zu: %s", path, n + 1, je.text);
		ck_assert_msg(n < spgw_mock_kept(mock), "%s: only %zu records, expected more", name,
			      spgw_mock_kept(mock));
		ck_assert_str_eq(spgw_mock_record_table(mock, n),
				 json_string_value(json_object_get(want, "table")));
		if (exact)
			ck_assert_str_eq(spgw_mock_record_json(mock, n, NULL), exact);
		else
			compare_record(name, n, want);
		json_decref(want);
	}
	free(text);
	ck_assert_msg(spgw_mock_kept(mock) == n && spgw_mock_records(mock) == n,
		      "%s: %zu records (%zu kept), expected %zu", name, spgw_mock_records(mock),
		      spgw_mock_kept(mock), n);
}
END_TEST

/* --- completeness: never read a half-written file --- */

START_TEST(no_final_newline_waits)
{
	put("xm_1.csv", "ID,V\n1,a\n2,b");
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert(spgw_mock_logged(mock, "waiting for xm_1.csv"));
	ck_assert(spgw_mock_logged(mock, "newline"));

	append("xm_1.csv", "\n");
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	want_field(1, "V", "b");
}
END_TEST

START_TEST(stable_seconds_waits)
{
	char s[600];

	put("xm_1.csv", "ID\n1\n");
	snprintf(s, sizeof(s), "{\"dir\":\"%s\",\"stable_seconds\":3600}", dir);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert(spgw_mock_logged(mock, "stable_seconds"));
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
}
END_TEST

START_TEST(done_marker)
{
	/* No final newline: with a marker, the marker alone says the file is complete. */
	put("xm_1.csv", "ID\n1\n2");
	put("xm_2.csv", "ID\n3\n");
	ck_assert_int_eq(pull(",\"done_suffix\":\".done\"", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert(spgw_mock_logged(mock, "xm_1.csv.done does not exist"));

	put("xm_2.csv.done", "");
	ck_assert_int_eq(pull(",\"done_suffix\":\".done\"", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0); /* xm_1 came first and is not done */

	put("xm_1.csv.done", "");
	ck_assert_int_eq(pull(",\"done_suffix\":\".done\"", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 3);
	want_field(1, "ID", "2");
	want_field(2, "ID", "3");
}
END_TEST

/* --- cursor: resume without loss or repeat --- */

/* Every record of a clean pull from no cursor. */
static size_t reference(const char *extra, char ***out)
{
	size_t n, i;

	ck_assert_int_eq(pull(extra, NULL), SPGW_PLUGIN_OK);
	n = spgw_mock_kept(mock);
	*out = calloc(n, sizeof(**out));
	for (i = 0; i < n; i++)
		(*out)[i] = strdup(spgw_mock_record_json(mock, i, NULL));
	return n;
}

/*
 * Stop a pull at every emit (or commit) in turn, as if the gateway went away there; the next
 * pull from the committed cursor must deliver exactly the rest.
 */
static void resume_everywhere(const char *extra, int at_commit)
{
	char **ref;
	size_t n = reference(extra, &ref), k, i, got;

	ck_assert_uint_gt(n, 10);
	for (k = 0; k <= n; k++) {
		char *cur = NULL;
		int rc;

		got = 0;
		if (at_commit)
			spgw_mock_fail_commit_after(mock, (long)k);
		else
			spgw_mock_fail_emit_after(mock, (long)k);
		rc = pull(extra, NULL);
		spgw_mock_fail_commit_after(mock, -1);
		spgw_mock_fail_emit_after(mock, -1);
		ck_assert(rc == SPGW_PLUGIN_OK || rc == SPGW_PLUGIN_RETRY);
		for (i = 0; i < spgw_mock_kept(mock); i++, got++)
			ck_assert_str_eq(spgw_mock_record_json(mock, i, NULL), ref[got]);
		if (spgw_mock_cursor(mock))
			cur = cursor_now();
		ck_assert_int_eq(pull(extra, cur), SPGW_PLUGIN_OK);
		for (i = 0; i < spgw_mock_kept(mock); i++, got++) {
			ck_assert_msg(got < n, "stop at %zu: a record delivered twice", k);
			ck_assert_str_eq(spgw_mock_record_json(mock, i, NULL), ref[got]);
		}
		ck_assert_msg(got == n, "stop at %zu: %zu of %zu records", k, got, n);
		free(cur);
	}
	for (i = 0; i < n; i++)
		free(ref[i]);
	free(ref);
}

static void mixed_drop(void)
{
	/* CSV with rows over several lines, CRLF and a bad row; GB18030 found by "auto"; JSON
	 * Lines with a bad line. */
	put("a_1.csv", "ID,NOTE\r\n1,\"x\r\ny\"\r\n2,b\r\n3\r\n4,\"p,q\"\r\n5,e\r\n6,f\r\n");
	put("b_2.csv", "ID,NAME\n7,\xb3\xa4\xb4\xba\n8,\xbc\xaa\xc1\xd6\n9,z\n");
	put("c_3.jsonl", "{\"ID\":10}\n{\"ID\":11}\nnope\n{\"ID\":13}\n\n{\"ID\":14}\n");
}

START_TEST(resume_at_every_record)
{
	mixed_drop();
	resume_everywhere(",\"commit_every\":2", 0);
}
END_TEST

START_TEST(resume_at_every_commit)
{
	mixed_drop();
	resume_everywhere(",\"commit_every\":2", 1);
}
END_TEST

START_TEST(resume_keeps_encoding)
{
	/* Stopped inside a GB18030 file: the cursor remembers the encoding "auto" chose, so the
	 * rest decodes the same without scanning the file again. */
	put("b_2.csv", "ID,NAME\n7,\xb3\xa4\xb4\xba\n8,\xbc\xaa\xc1\xd6\n9,z\n");
	spgw_mock_fail_emit_after(mock, 1);
	ck_assert_int_eq(pull(",\"commit_every\":1", NULL), SPGW_PLUGIN_RETRY);
	ck_assert_ptr_nonnull(strstr(spgw_mock_cursor(mock), "\"encoding\":\"gb18030\""));
	spgw_mock_fail_emit_after(mock, -1);
	{
		char *cur = cursor_now();

		ck_assert_int_eq(pull(",\"commit_every\":1", cur), SPGW_PLUGIN_OK);
		free(cur);
	}
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	want_field(0, "NAME", "吉林");
}
END_TEST

START_TEST(commit_every_n)
{
	char *rows = rows_csv(1, 10);

	put("xm_1.csv", rows);
	free(rows);
	ck_assert_int_eq(pull(",\"commit_every\":4", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_commits(mock), 3);
	ck_assert_uint_eq(spgw_mock_commit_records(mock, 0), 4);
	ck_assert_uint_eq(spgw_mock_commit_records(mock, 1), 8);
	ck_assert_uint_eq(spgw_mock_commit_records(mock, 2), 10);
	ck_assert_ptr_nonnull(strstr(spgw_mock_commit_cursor(mock, 0), "\"done\":false"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_commit_cursor(mock, 0), "\"line\":5"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_commit_cursor(mock, 2), "\"done\":true"));

	/* The plugin.h ceiling: commit_every above 5000 is refused. */
	ck_assert_int_eq(pull(",\"commit_every\":5001", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "commit_every"));
}
END_TEST

START_TEST(later_cursor_and_new_files)
{
	char *c1, *c2;

	put("xm_1.csv", "ID\n1\n2\n");
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	c1 = cursor_now();

	/* Caught up: nothing again. */
	ck_assert_int_eq(pull("", c1), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);

	/* A file arriving between runs is read, and only it. Names sort before xm_1 on purpose:
	 * order is by arrival, not by name. */
	put("aa_2.csv", "ID\n3\n");
	put("ab_3.jsonl", "{\"ID\":\"4\"}\n");
	ck_assert_int_eq(pull("", c1), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	want_field(0, "ID", "3");
	ck_assert_str_eq(spgw_mock_record_table(mock, 0), "aa");
	want_field(1, "ID", "4");
	c2 = cursor_now();
	ck_assert_int_eq(pull("", c2), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);

	/* An older cursor repeats what came after it, and only that. */
	ck_assert_int_eq(pull("", c1), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	free(c1);
	free(c2);
}
END_TEST

START_TEST(foreign_cursor)
{
	put("xm_1.csv", "ID\n1\n");
	ck_assert_int_eq(pull("", "{\"v\":2,\"ctime\":\"1.000000000\",\"file\":\"x\",\"done\":true,"
			      "\"recent\":\"\"}"), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "cursor version 2"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "reset the source's cursor"));
	ck_assert_int_eq(pull("", "2026-01-01T00:00:00"), SPGW_PLUGIN_ERROR);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
}
END_TEST

START_TEST(changed_after_read)
{
	char *c1;

	put("xm_1.csv", "ID\n1\n");
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	c1 = cursor_now();
	append("xm_1.csv", "2\n");

	ck_assert_int_eq(pull("", c1), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert(spgw_mock_logged(mock, "xm_1.csv changed after it was read"));
	ck_assert(spgw_mock_logged(mock, "not read again"));

	ck_assert_int_eq(pull(",\"reread_changed\":true", c1), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	want_field(1, "ID", "2");

	/* chmod moves ctime but not the content: not a change. */
	{
		char path[512], *c2 = cursor_now();

		snprintf(path, sizeof(path), "%s/xm_1.csv", dir);
		ck_assert_int_eq(chmod(path, 0640), 0);
		ck_assert_int_eq(pull(",\"reread_changed\":true", c2), SPGW_PLUGIN_OK);
		ck_assert_uint_eq(spgw_mock_records(mock), 0);
		free(c2);
	}
	free(c1);
}
END_TEST

START_TEST(grown_while_read)
{
	char *rows = rows_csv(1, 6), *cur;

	put("xm_1.csv", rows);
	free(rows);
	spgw_mock_fail_emit_after(mock, 3);
	ck_assert_int_eq(pull(",\"commit_every\":2", NULL), SPGW_PLUGIN_RETRY);
	spgw_mock_fail_emit_after(mock, -1);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	cur = cursor_now();
	append("xm_1.csv", "7,v7\n");
	ck_assert_int_eq(pull(",\"commit_every\":2", cur), SPGW_PLUGIN_OK);
	ck_assert(spgw_mock_logged(mock, "changed while it was being read"));
	ck_assert_uint_eq(spgw_mock_kept(mock), 5);
	want_field(0, "ID", "3");
	want_field(4, "ID", "7");
	free(cur);
}
END_TEST

START_TEST(vanished_in_progress)
{
	char *rows = rows_csv(1, 6), *cur, path[512];

	put("xm_1.csv", rows);
	free(rows);
	spgw_mock_fail_emit_after(mock, 3);
	ck_assert_int_eq(pull(",\"commit_every\":2", NULL), SPGW_PLUGIN_RETRY);
	spgw_mock_fail_emit_after(mock, -1);
	cur = cursor_now();
	snprintf(path, sizeof(path), "%s/xm_1.csv", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(pull("", cur), SPGW_PLUGIN_OK);
	ck_assert(spgw_mock_logged(mock, "xm_1.csv was being read (up to line 3)"));
	ck_assert_uint_eq(spgw_mock_commits(mock), 1);
	free(cur);

	/* Said once: the cursor now has the file done. */
	cur = cursor_now();
	put("xm_2.csv", "ID\n9\n");
	ck_assert_int_eq(pull("", cur), SPGW_PLUGIN_OK);
	ck_assert(!spgw_mock_logged(mock, "was being read"));
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
	want_field(0, "ID", "9");
	free(cur);
}
END_TEST

START_TEST(cursor_small_with_many_files)
{
	char name[300], data[64];
	size_t i, longest = 0;
	int k;

	/* Long names, many files: the cursor must stay under plugin.h's 4096 bytes. */
	for (k = 0; k < 300; k++) {
		snprintf(name, sizeof(name), "xm_%04d_%0200d.csv", k, 0);
		snprintf(data, sizeof(data), "ID\n%d\n", k);
		put(name, data);
	}
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 300);
	for (i = 0; i < spgw_mock_commits(mock); i++)
		if (strlen(spgw_mock_commit_cursor(mock, i)) > longest)
			longest = strlen(spgw_mock_commit_cursor(mock, i));
	ck_assert_uint_lt(longest, 4096);
}
END_TEST

/* --- errors a person must fix --- */

START_TEST(missing_dir)
{
	ck_assert_int_eq(spgw_mock_pull(mock, "{\"dir\":\"/nonexistent/spgw-drop\"}", REGION, NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "/nonexistent/spgw-drop"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "does not exist"));
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
}
END_TEST

START_TEST(unreadable_file)
{
	char path[512];

	put("xm_1.csv", "ID\n1\n");
	put("xm_2.csv", "ID\n2\n");
	put("xm_3.csv", "ID\n3\n");
	snprintf(path, sizeof(path), "%s/xm_2.csv", dir);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	/* root reads anything: act as nobody, keeping the saved uid to come back. */
	if (geteuid() == 0)
		ck_assert_int_eq(setresuid(65534, 65534, 0), 0);
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_ERROR);
	if (getuid() == 65534)
		ck_assert_int_eq(setresuid(0, 0, 0), 0);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "cannot open"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "xm_2.csv"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "Permission denied"));
	/* What came before it is committed; what comes after waits. */
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
	want_field(0, "ID", "1");
}
END_TEST

START_TEST(bad_table_name)
{
	put("项目_1.csv", "ID\n1\n");
	ck_assert_int_eq(pull(",\"pattern\":\"*.csv\"", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "项目_1.csv"));
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "rename the file"));
	ck_assert_int_eq(pull(",\"table\":\"xm\"", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
}
END_TEST

START_TEST(settings_checked)
{
	char s[600];

	/* The host's checks (the mock plays them): unknown key, wrong type, required. */
	snprintf(s, sizeof(s), "{\"dir\":\"%s\",\"encodng\":\"gbk\"}", dir);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_MOCK_REFUSED);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "encodng"));
	snprintf(s, sizeof(s), "{\"dir\":\"%s\",\"commit_every\":\"10\"}", dir);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_MOCK_REFUSED);
	ck_assert_int_eq(spgw_mock_pull(mock, "{}", REGION, NULL), SPGW_MOCK_REFUSED);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "\"dir\" is required"));
	/* The plugin's own: values. */
	ck_assert_int_eq(pull(",\"encoding\":\"big5\"", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "utf-8, gbk, gb18030 or auto"));
	ck_assert_int_eq(pull(",\"delimiter\":\";;\"", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(pull(",\"table\":\"x\",\"table_from\":\"stem\"", NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(pull(",\"max_line\":10", NULL), SPGW_PLUGIN_ERROR);
}
END_TEST

/* --- limits --- */

START_TEST(row_over_max_line)
{
	size_t n = 70000, i;
	char *data = malloc(n + 64), *p;
	json_t *j;

	p = data + sprintf(data, "ID,V\n1,");
	for (i = 0; i < n - 2; i++)
		*p++ = 'x';
	p += sprintf(p, "\n2,ok\n");
	putn("xm_1.csv", data, (size_t)(p - data), "wb");
	free(data);
	ck_assert_int_eq(pull(",\"max_line\":65536", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	j = record(0);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "_error")),
				     "longer than max_line"));
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "_raw"))), 65536);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "_raw_bytes")), 70000);
	ck_assert(json_is_true(json_object_get(j, "_truncated")));
	ck_assert_int_eq(int_field(0, "_line"), 2);
	json_decref(j);
	want_field(1, "V", "ok");
}
END_TEST

START_TEST(empty_and_header_only)
{
	char sub[512];

	/* A directory whose name looks like a drop is not one. */
	snprintf(sub, sizeof(sub), "%s/xm_0.csv", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put("xm_1.csv", "ID,V\n");
	put("xm_2.csv", "\n\n");
	put("xm_3.csv", "ID\n1\n");
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
	ck_assert_int_eq(int_field(0, "_line"), 2);
	ck_assert_ptr_nonnull(strstr(spgw_mock_cursor(mock), "xm_3.csv"));
}
END_TEST

/* --- count --- */

static uint64_t counted(const char *table, const char *day)
{
	size_t i;

	for (i = 0; i < spgw_mock_counts(mock); i++)
		if (!strcmp(spgw_mock_count_table(mock, i), table) &&
		    !strcmp(spgw_mock_count_day(mock, i), day))
			return spgw_mock_count_records(mock, i);
	return 0;
}

START_TEST(count_by_day_column)
{
	put("xm_1.csv", "ID,SBSJ\n1,2026-01-05\n2,2026/01/05 10:00\n3,20260106\n4,someday\n"
			"5,2025-12-31\n6,2026-02-30\n7,2026-02-01\n");
	put("bj_1.jsonl", "{\"SBSJ\":\"2026-01-06T08:00:00\"}\n{\"SBSJ\":20260106}\n");
	ck_assert_int_eq(spgw_mock_count(mock, settings(",\"day_column\":\"SBSJ\""), REGION, NULL,
					 "2026-01-01", "2026-01-31"),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	ck_assert_uint_eq(counted("xm", "2026-01-05"), 2);
	ck_assert_uint_eq(counted("xm", "2026-01-06"), 1);
	ck_assert_uint_eq(counted("bj", "2026-01-06"), 1);
	ck_assert_uint_eq(spgw_mock_counts(mock), 3);
	/* "someday", 2026-02-30 and the number are not dates: said, not counted. */
	ck_assert(spgw_mock_logged(mock, "xm_1.csv: 2 rows have no readable date"));
	ck_assert(spgw_mock_logged(mock, "bj_1.jsonl: 1 rows have no readable date"));

	ck_assert_int_eq(spgw_mock_count(mock, settings(",\"day_column\":\"SBSJ\""), REGION, "bj",
					 "2026-01-06", "2026-01-06"),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_counts(mock), 1);
	ck_assert_uint_eq(counted("bj", "2026-01-06"), 1);
}
END_TEST

START_TEST(count_needs_day_column)
{
	put("xm_1.csv", "ID\n1\n");
	ck_assert_int_eq(spgw_mock_count(mock, settings(""), REGION, NULL, "2026-01-01",
					 "2026-01-31"),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "day_column"));
	ck_assert_uint_eq(spgw_mock_counts(mock), 0);
	ck_assert_int_eq(spgw_mock_count(mock, settings(",\"day_column\":\"D\""), REGION, NULL,
					 "2026-01-31", "2026-01-01"),
			 SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(spgw_mock_count(mock, settings(",\"day_column\":\"D\""), REGION, NULL,
					 "2026-1-1", "2026-01-31"),
			 SPGW_PLUGIN_ERROR);
}
END_TEST

/* --- pull_range: the files written on the days asked for --- */

/* Set a file's mtime to `t` (Unix seconds); its ctime, and so its place in arrival order,
 * becomes now. */
static void set_mtime(const char *name, time_t t)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { t, 0 } };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* 2026-MM-DD hh:mm in Beijing as Unix seconds (UTC+8). */
static time_t beijing(int month, int day, int hour, int min)
{
	static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	/* 2026-01-01 00:00 UTC is 1767225600 */
	long days = before[month - 1] + day - 1;

	return (time_t)(1767225600L + days * 86400L + hour * 3600L + min * 60L - 8 * 3600L);
}

static int pull_range(const char *extra, const char *from, const char *to, const char *cursor)
{
	int rc = spgw_mock_pull_range(mock, settings(extra), REGION, from, to, cursor);

	if (spgw_mock_violations(mock))
		show_logs();
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	return rc;
}

/* Three exports around the turn of January: in Beijing the second was written on February 1
 * (its UTC date is still January 31), the third on March 1. Arrival order is the reverse of
 * name order, so the range follows arrival, as pull() does. */
static void three_months(void)
{
	put("c_jan.csv", "ID\n1\n2\n");
	set_mtime("c_jan.csv", beijing(1, 31, 23, 30));
	put("b_feb.csv", "ID\n3\n4\n5\n");
	set_mtime("b_feb.csv", beijing(2, 1, 0, 10));
	put("a_mar.jsonl", "{\"ID\":\"6\"}\n");
	set_mtime("a_mar.jsonl", beijing(3, 1, 9, 0));
	put("d_feb.jsonl", "{\"ID\":\"7\"}\n{\"ID\":\"8\"}\n");
	set_mtime("d_feb.jsonl", beijing(2, 28, 23, 59));
}

START_TEST(range_by_mtime_in_beijing)
{
	three_months();
	ck_assert_int_eq(pull_range("", "2026-02-01", "2026-02-28", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 5);
	want_field(0, "ID", "3");
	ck_assert_str_eq(spgw_mock_record_table(mock, 0), "b");
	want_field(2, "ID", "5");
	want_field(3, "ID", "7");
	want_field(4, "ID", "8");
	ck_assert_str_eq(spgw_mock_record_table(mock, 4), "d");

	/* one day; the whole quarter; a range with no file */
	ck_assert_int_eq(pull_range("", "2026-01-31", "2026-01-31", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	want_field(0, "ID", "1");
	ck_assert_int_eq(pull_range("", "2026-01-01", "2026-03-31", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 8);
	ck_assert_int_eq(pull_range("", "2025-12-01", "2025-12-31", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert_uint_eq(spgw_mock_commits(mock), 0);
}
END_TEST

/* Stopped at every record of the range, then resumed from its cursor: each record once. */
START_TEST(range_resume_at_every_record)
{
	const char *ex = ",\"commit_every\":2";
	char **ref;
	size_t n, k, i, got;

	three_months();
	ck_assert_int_eq(pull_range(ex, "2026-02-01", "2026-02-28", NULL), SPGW_PLUGIN_OK);
	n = spgw_mock_kept(mock);
	ck_assert_uint_eq(n, 5);
	ref = calloc(n, sizeof(*ref));
	for (i = 0; i < n; i++)
		ref[i] = strdup(spgw_mock_record_json(mock, i, NULL));
	for (k = 0; k <= n; k++) {
		char *cur = NULL;

		spgw_mock_fail_emit_after(mock, (long)k);
		ck_assert_int_ne(pull_range(ex, "2026-02-01", "2026-02-28", NULL),
				 SPGW_MOCK_REFUSED);
		spgw_mock_fail_emit_after(mock, -1);
		for (got = 0; got < spgw_mock_kept(mock); got++)
			ck_assert_str_eq(spgw_mock_record_json(mock, got, NULL), ref[got]);
		if (spgw_mock_cursor(mock))
			cur = cursor_now();
		ck_assert_int_eq(pull_range(ex, "2026-02-01", "2026-02-28", cur), SPGW_PLUGIN_OK);
		for (i = 0; i < spgw_mock_kept(mock); i++, got++) {
			ck_assert_msg(got < n, "stop at %zu: a record delivered twice", k);
			ck_assert_str_eq(spgw_mock_record_json(mock, i, NULL), ref[got]);
		}
		ck_assert_msg(got == n, "stop at %zu: %zu of %zu records", k, got, n);
		free(cur);
	}
	for (i = 0; i < n; i++)
		free(ref[i]);
	free(ref);
}
END_TEST

/* A file of the range not complete yet is the regular pull's; the range goes on past it. */
START_TEST(range_leaves_incomplete_files)
{
	put("a_1.csv", "ID\n1\n2");
	set_mtime("a_1.csv", beijing(2, 3, 10, 0));
	put("b_2.csv", "ID\n3\n");
	set_mtime("b_2.csv", beijing(2, 4, 10, 0));
	ck_assert_int_eq(pull_range("", "2026-02-01", "2026-02-28", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
	want_field(0, "ID", "3");
	ck_assert(spgw_mock_logged(mock, "a_1.csv is not complete yet"));
	/* the regular pull waits for it, as ever */
	ck_assert_int_eq(pull("", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 0);
}
END_TEST

/* The mock refuses what the host refuses; the plugin refuses a range's cursor it cannot
 * read, without a record. */
START_TEST(range_refused)
{
	three_months();
	ck_assert_int_eq(pull_range("", "2026-02-28", "2026-02-01", NULL), SPGW_MOCK_REFUSED);
	ck_assert_int_eq(pull_range("", "2026-02-01", "2026-02-28", "not a cursor"),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "restart the backfill"));
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert_ptr_nonnull(spgw_mock_plugin(mock)->pull_range);
}
END_TEST

/* --- the shared object --- */

START_TEST(exports_only_descriptor)
{
	char cmd[600], line[512];
	int found = 0, others = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", plugin_path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *sym = strrchr(line, ' ');

		ck_assert_ptr_nonnull(sym);
		sym[strcspn(sym, "\n")] = '\0';
		sym++;
		if (!strcmp(sym, "spgw_plugin"))
			found = 1;
		/* Linker and sanitizer bookkeeping, not the plugin's. */
		else if (strcmp(sym, "_init") && strcmp(sym, "_fini") && strcmp(sym, "_edata") &&
			 strcmp(sym, "_end") && strcmp(sym, "__bss_start") &&
			 strncmp(sym, "__odr_asan", 10) && strncmp(sym, "__asan", 6)) {
			fprintf(stderr, "exported: %s\n", sym);
			others++;
		}
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert(found);
	ck_assert_int_eq(others, 0);
	ck_assert_str_eq(spgw_mock_plugin(mock)->name, "files");
}
END_TEST

/* --- speed and memory --- */

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ~1.5 KB, 40 columns, Chinese text: a realistic case record. */
static size_t bench_row(char *p, int i, int jsonl)
{
	static const char *const text[] = { "长春市南关区道路改造工程", "吉林省建设项目审批",
					    "2026-01-05 10:00:00", "91220101MA0000000X" };
	char *s = p;
	int c;

	s += sprintf(s, jsonl ? "{\"ID\":\"%d\"" : "%d", i);
	for (c = 1; c < 40; c++)
		if (jsonl)
			s += sprintf(s, ",\"C%02d\":\"%s-%d\"", c, text[c % 4], i);
		else
			s += sprintf(s, ",%s-%d", text[c % 4], i);
	s += sprintf(s, jsonl ? "}\n" : "\n");
	return (size_t)(s - p);
}

static double bench(const char *name, int rows, int jsonl, double *mb)
{
	char *row = malloc(4096), path[512];
	double t0, dt;
	FILE *f;
	int i, c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	if (!jsonl) {
		fputs("ID", f);
		for (c = 1; c < 40; c++)
			fprintf(f, ",C%02d", c);
		fputc('\n', f);
	}
	for (i = 0; i < rows; i++)
		fwrite(row, 1, bench_row(row, i, jsonl), f);
	*mb = (double)ftell(f) / 1e6;
	fclose(f);
	free(row);
	spgw_mock_keep_records(mock, 0);
	t0 = seconds();
	ck_assert_int_eq(pull(",\"commit_every\":5000", NULL), SPGW_PLUGIN_OK);
	dt = seconds() - t0;
	ck_assert_uint_eq(spgw_mock_kept(mock), (size_t)rows);
	unlink(path);
	return rows / dt;
}

START_TEST(throughput_and_flat_memory)
{
	const char *env = getenv("SPGW_FILES_MIN_RATE");
	double min = env ? atof(env) : 2000, csv, jsonl, mb1, mb2;
	long rss0;
	int rows = 40000;

	bench("warm_0.csv", 1000, 0, &mb1); /* first-use allocations out of the measurement */
	rss0 = max_rss_kb();
	csv = bench("xm_1.csv", rows, 0, &mb1);
	jsonl = bench("xm_2.jsonl", rows, 1, &mb2);
	fprintf(stderr, "files plugin: CSV %.0f rows/s (%.1f MB), JSON Lines %.0f rows/s (%.1f MB),"
		" max RSS grew %ld KB\n", csv, mb1, jsonl, mb2, max_rss_kb() - rss0);
	ck_assert_msg(csv >= min, "CSV: %.0f rows/s, less than %.0f", csv, min);
	ck_assert_msg(jsonl >= min, "JSON Lines: %.0f rows/s, less than %.0f", jsonl, min);
	/* Streaming: a 60 MB file must not be held in memory. (AddressSanitizer keeps freed
	 * memory in quarantine, so only a build without it can tell.) */
#ifndef __SANITIZE_ADDRESS__
	ck_assert_int_lt(max_rss_kb() - rss0, 24 * 1024);
#endif
}
END_TEST

/* --- the mock itself: it must refuse what the real host refuses --- */

/* A tiny plugin built now with `cc`, its descriptor and behaviour set by -D flags. */
static const char mini_plugin[] =
	"#include <spgw/plugin.h>\n"
	"static int create(const char *s, const char *r, const struct spgw_host *h, void **ctx,\n"
	"		  struct spgw_plugin_error *e)\n"
	"{ (void)s; (void)r; (void)h; (void)e; *ctx = &ctx; return 0; }\n"
	"static int pull(void *ctx, const char *cur, const struct spgw_host *h,\n"
	"		struct spgw_plugin_error *e)\n"
	"{\n"
	"	int i;\n"
	"	(void)ctx; (void)cur; (void)e;\n"
	"	for (i = 0; i < EMITS; i++)\n"
	"		if (h->emit(h->ctx, \"t\", \"{}\", 2))\n"
	"			break;\n"
	"	h->commit(h->ctx, \"c\");\n"
	"	return RC;\n"
	"}\n"
	"static void destroy(void *ctx) { (void)ctx; }\n"
	"SPGW_EXPORT const struct spgw_plugin spgw_plugin = { .abi_version = ABI,\n"
	"	.struct_size = SIZE, .name = NAME, .version = \"1\", .create = create,\n"
	"	.pull = pull, .destroy = destroy };\n";

/* Build the mini plugin with `defs`; its path, or NULL when there is no compiler. */
static const char *mini_build(const char *tag, const char *defs)
{
	static char so[600];
	char src[512], cmd[2048];

	snprintf(src, sizeof(src), "%s/mini.c", dir);
	put("mini.c", mini_plugin);
	snprintf(so, sizeof(so), "%s/%s.so", dir, tag);
	snprintf(cmd, sizeof(cmd), "cc -shared -fPIC -I'%s/../../include' -DABI=1 "
		 "-DSIZE='sizeof(struct spgw_plugin)' -DNAME='\"mini\"' -DEMITS=3 -DRC=0 %s "
		 "-o '%s' '%s'", cases_dir, defs, so, src);
	if (system(cmd) != 0)
		return NULL;
	return so;
}

START_TEST(mock_refuses_bad_descriptors)
{
	static const struct {
		const char *defs, *message;
	} bad[] = {
		{ "-UABI -DABI=2", "built for plugin ABI 2, this host speaks 1" },
		{ "-USIZE -DSIZE=8", "struct_size 8 is smaller" },
		{ "-UNAME -DNAME='\"Bad Name\"'", "malformed descriptor: name" },
	};
	struct spgw_mock *m = NULL;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *so = mini_build("bad", bad[i].defs);

		if (!so) {
			fprintf(stderr, "mock_refuses_bad_descriptors: no C compiler; not run\n");
			return;
		}
		ck_assert_int_eq(spgw_mock_load(so, &m, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i].message), "\"%s\" lacks \"%s\"", err,
			      bad[i].message);
		ck_assert_ptr_nonnull(strstr(err, so));
	}
	ck_assert_int_eq(spgw_mock_load("/nonexistent/x.so", &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot load"));
}
END_TEST

START_TEST(mock_counts_violations)
{
	static const struct {
		const char *defs;
		int rc;
		size_t kept, violations;
		const char *message;
	} runs[] = {
		{ "", SPGW_PLUGIN_OK, 3, 0, NULL },
		{ "-UEMITS -DEMITS=5001", SPGW_PLUGIN_OK, 0, 3, "more than 5000 records" },
		{ "-URC -DRC=2", SPGW_PLUGIN_ERROR, 3, 1, "without saying why" },
	};
	size_t i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const char *so = mini_build("run", runs[i].defs);
		struct spgw_mock *m;
		char err[512];

		if (!so) {
			fprintf(stderr, "mock_counts_violations: no C compiler; not run\n");
			return;
		}
		ck_assert_msg(spgw_mock_load(so, &m, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(spgw_mock_pull(m, NULL, REGION, NULL), runs[i].rc);
		ck_assert_uint_eq(spgw_mock_kept(m), runs[i].kept);
		ck_assert_uint_eq(spgw_mock_violations(m), runs[i].violations);
		ck_assert(!runs[i].message || spgw_mock_logged(m, runs[i].message));
		/* The mock plays the host's settings check too. */
		ck_assert_int_eq(spgw_mock_pull(m, "{\"x\":1}", REGION, NULL), SPGW_MOCK_REFUSED);
		ck_assert_int_eq(spgw_mock_pull(m, NULL, "2201", NULL), SPGW_MOCK_REFUSED);
		spgw_mock_free(m);
	}
}
END_TEST

static Suite *files_suite(void)
{
	Suite *s = suite_create("files_plugin");
	TCase *tc;

	tc = tcase_create("drops");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, drop_case, 0, n_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("complete");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_final_newline_waits);
	tcase_add_test(tc, stable_seconds_waits);
	tcase_add_test(tc, done_marker);
	suite_add_tcase(s, tc);

	tc = tcase_create("cursor");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, resume_at_every_record);
	tcase_add_test(tc, resume_at_every_commit);
	tcase_add_test(tc, resume_keeps_encoding);
	tcase_add_test(tc, commit_every_n);
	tcase_add_test(tc, later_cursor_and_new_files);
	tcase_add_test(tc, foreign_cursor);
	tcase_add_test(tc, changed_after_read);
	tcase_add_test(tc, grown_while_read);
	tcase_add_test(tc, vanished_in_progress);
	tcase_add_test(tc, cursor_small_with_many_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_dir);
	tcase_add_test(tc, unreadable_file);
	tcase_add_test(tc, bad_table_name);
	tcase_add_test(tc, settings_checked);
	tcase_add_test(tc, row_over_max_line);
	tcase_add_test(tc, empty_and_header_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("count");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, count_by_day_column);
	tcase_add_test(tc, count_needs_day_column);
	suite_add_tcase(s, tc);

	tc = tcase_create("pull_range");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, range_by_mtime_in_beijing);
	tcase_add_test(tc, range_resume_at_every_record);
	tcase_add_test(tc, range_leaves_incomplete_files);
	tcase_add_test(tc, range_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("object");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, exports_only_descriptor);
	tcase_add_test(tc, throughput_and_flat_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("mock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mock_refuses_bad_descriptors);
	tcase_add_test(tc, mock_counts_violations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	plugin_path = getenv("SPGW_FILES_PLUGIN");
	cases_dir = getenv("SPGW_TEST_CASES");
	if (!plugin_path || !*plugin_path || !cases_dir || !*cases_dir) {
		fprintf(stderr,
			"test_files_plugin: set SPGW_FILES_PLUGIN to the built files.so and "
			"SPGW_TEST_CASES to the absolute path of tests/cases\n");
		return EXIT_FAILURE;
	}
	if (!list_cases()) {
		fprintf(stderr, "test_files_plugin: no cases under %s/files\n", cases_dir);
		return EXIT_FAILURE;
	}
	sr = srunner_create(files_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
