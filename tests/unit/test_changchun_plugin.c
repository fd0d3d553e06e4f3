/*
 * Tests of the changchun plugin (plugins/changchun/) through tests/plugin_host_mock.c, against
 * the real spgw-changchun-sim on a free loopback port serving datasets made by
 * contrib/changchun-sim/synth.sh: resuming at every commit, count() against the dataset,
 * what a skipping server loses and count() reveals, a repeating server, GBK pages, refused
 * settings and credentials (the secret never in a message), an unreachable server, a foreign
 * cursor, and the pull rate.
 *
 * Environment: SPGW_CHANGCHUN_PLUGIN (the built spgw-changchun.so), SPGW_CHANGCHUN_SIM (the
 * simulator), SPGW_CHANGCHUN_MIN_RATE (records/s the speed test demands; default 2000, which
 * only a gross regression misses even under valgrind).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../plugin_host_mock.h"

#define REGION "220100"
#define SECRET "unit-Secret-9f3"

static const char *plugin_path, *sim_path;
static char work[256];   /* datasets and the secret file, made once in main() */
static struct spgw_mock *mock;
static pid_t sim_pid;
static int sim_port;

/* ---- the simulator ---- */

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Start the simulator on `dataset` with extra options (NULL-terminated); waits until its
 * port file appears (it is written once the server listens). */
static void start_sim(const char *dataset, ...)
{
	char data[512], secret[512], port_file[512], buf[32];
	const char *argv[40];
	va_list ap;
	FILE *f;
	int n = 0, i;

	snprintf(data, sizeof(data), "%s/%s", work, dataset);
	snprintf(secret, sizeof(secret), "%s/secret", work);
	snprintf(port_file, sizeof(port_file), "%s/port.%d", work, (int)getpid());
	unlink(port_file);
	argv[n++] = sim_path;
	argv[n++] = "--data", argv[n++] = data;
	argv[n++] = "--app-id", argv[n++] = "spgw-220000";
	argv[n++] = "--app-secret-file", argv[n++] = secret;
	argv[n++] = "--port-file", argv[n++] = port_file;
	argv[n++] = "--quiet";
	va_start(ap, dataset);
	while (n < 38 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	sim_pid = fork();
	ck_assert_int_ge(sim_pid, 0);
	if (sim_pid == 0) {
		execv(sim_path, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {
		f = fopen(port_file, "r");
		if (f && fgets(buf, sizeof(buf), f) && (sim_port = atoi(buf)) > 0) {
			fclose(f);
			unlink(port_file);
			return;
		}
		if (f)
			fclose(f);
		ck_assert_msg(waitpid(sim_pid, NULL, WNOHANG) == 0, "the simulator exited");
		sleep_ms(20);
	}
	ck_abort_msg("the simulator did not listen within 12 s");
}

static void stop_sim(void)
{
	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, NULL, 0);
	}
	sim_pid = 0;
}

/* Settings for the running simulator; `extra` are more JSON members or "". */
static const char *settings(const char *extra)
{
	static char s[2048];

	snprintf(s, sizeof(s),
		 "{\"base_url\": \"http://127.0.0.1:%d\", \"app_id\": \"spgw-220000\", "
		 "\"app_secret_file\": \"%s/secret\", \"retry_base_ms\": 10%s%s}",
		 sim_port, work, *extra ? ", " : "", extra);
	return s;
}

static void setup(void)
{
	char err[512];

	ck_assert_msg(spgw_mock_load(plugin_path, &mock, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	stop_sim();
	spgw_mock_free(mock);
	mock = NULL;
}

/* Non-empty lines of work/<dataset>/<entity>.jsonl. */
static size_t lines(const char *dataset, const char *entity)
{
	char path[512], line[65536];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s.jsonl", work, dataset, entity);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += line[0] != '\n';
	fclose(f);
	return n;
}

static const char *const entities[] = { "projects", "units", "cases", "steps", "documents",
					"procedures", "materials", "opinions", NULL };

static size_t total(const char *dataset)
{
	size_t n = 0;
	int i;

	for (i = 0; entities[i]; i++)
		n += lines(dataset, entities[i]);
	return n;
}

/* "table/id" of record i, in out. */
static void record_id(size_t i, char *out, size_t cap)
{
	json_t *o = json_loads(spgw_mock_record_json(mock, i, NULL), 0, NULL);

	snprintf(out, cap, "%s/%s", spgw_mock_record_table(mock, i),
		 json_string_value(json_object_get(o, "id")));
	json_decref(o);
}

/* ---- tests ---- */

START_TEST(pull_everything)
{
	char *last;
	json_t *cur;
	size_t i;

	start_sim("ds", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"page_size\": 20"), REGION, NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), total("ds"));
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	for (i = 0; i < spgw_mock_records(mock); i++) {
		size_t len;
		const char *j = spgw_mock_record_json(mock, i, &len);
		json_t *o = json_loadb(j, len, 0, NULL);

		ck_assert_msg(json_is_object(o), "record %zu is not a JSON object", i);
		json_decref(o);
	}
	cur = json_loads(spgw_mock_cursor(mock), 0, NULL);
	ck_assert_msg(cur, "cursor %s", spgw_mock_cursor(mock));
	ck_assert_int_eq(json_integer_value(json_object_get(cur, "v")), 1);
	for (i = 0; entities[i]; i++)
		ck_assert_msg(json_string_length(json_object_get(json_object_get(cur, entities[i]),
								 "id")),
			      "no position for %s", entities[i]);
	json_decref(cur);
	/* caught up: the next pull from the cursor emits nothing (the mock's cursor lives
	 * only until the next run: copied) */
	last = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"page_size\": 20"), REGION, last),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	free(last);
}
END_TEST

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The gateway goes away at every commit in turn: the pull resumes from the last one, and
 * over both runs every record is taken exactly once. */
START_TEST(resume_at_every_commit)
{
	const char *s;
	char **ids, id[160], *cursor;
	size_t n = total("ds"), commits, k, i, got, a, b;

	start_sim("ds", NULL);
	/* a commit after every page here, so every page boundary is a resume point */
	s = settings("\"page_size\": 25, \"commit_records\": 25");
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_OK);
	commits = spgw_mock_commits(mock);
	ck_assert_uint_gt(commits, 10);
	ids = calloc(n + 1, sizeof(*ids));
	for (k = 0; k < commits; k++) {
		spgw_mock_fail_commit_after(mock, (long)k);
		ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_RETRY);
		got = 0;
		for (i = 0; i < spgw_mock_kept(mock); i++) {
			record_id(i, id, sizeof(id));
			ids[got++] = strdup(id);
		}
		cursor = spgw_mock_cursor(mock) ? strdup(spgw_mock_cursor(mock)) : NULL;
		spgw_mock_fail_commit_after(mock, -1);
		ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, cursor), SPGW_PLUGIN_OK);
		ck_assert_uint_eq(got + spgw_mock_kept(mock), n);
		for (i = 0; i < spgw_mock_kept(mock); i++) {
			record_id(i, id, sizeof(id));
			ids[got++] = strdup(id);
		}
		qsort(ids, got, sizeof(*ids), by_text);
		for (a = 0, b = 1; b < got; a++, b++)
			ck_assert_msg(strcmp(ids[a], ids[b]) != 0, "commit %zu: %s taken twice", k,
				      ids[a]);
		for (i = 0; i < got; i++)
			free(ids[i]);
		free(cursor);
		ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	}
	free(ids);
}
END_TEST

/* An independent reading of the synthetic dataset's dates, to check count() against. */
static int day_of(json_t *v, char out[11])
{
	const char *s = json_string_value(v);
	int y, m, d;
	time_t t;
	struct tm tm;

	if (json_is_integer(v)) {
		t = (time_t)(json_integer_value(v) / 1000) + 8 * 3600;
		gmtime_r(&t, &tm);
		return snprintf(out, 11, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				tm.tm_mday) != 10;
	}
	if (!s)
		return -1;
	if (sscanf(s, "%d-%d-%d", &y, &m, &d) == 3 || sscanf(s, "%d/%d/%d", &y, &m, &d) == 3 ||
	    sscanf(s, "%4d%2d%2d", &y, &m, &d) == 3)
		return snprintf(out, 11, "%04d-%02d-%02d", y % 10000, m % 100, d % 100) != 10;
	return -1;
}

/* How many records of work/ds/<entity>.jsonl have `member`'s day equal to `day`. */
static uint64_t expected_on(const char *entity, const char *member, const char *day)
{
	char path[512], dd[11];
	json_error_t je;
	json_t *o;
	uint64_t n = 0;
	FILE *f;
	char line[65536];

	snprintf(path, sizeof(path), "%s/ds/%s.jsonl", work, entity);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		o = json_loads(line, 0, &je);
		if (o && day_of(json_object_get(o, member), dd) == 0 && strcmp(dd, day) == 0)
			n++;
		json_decref(o);
	}
	fclose(f);
	return n;
}

START_TEST(count_per_day)
{
	uint64_t sum[8] = { 0 };
	size_t i;
	int e, checked = 0;

	start_sim("ds", NULL);
	ck_assert_int_eq(spgw_mock_count(mock, settings(""), REGION, NULL, "2025-01-01",
					 "2027-12-31"),
			 SPGW_PLUGIN_OK);
	for (i = 0; i < spgw_mock_counts(mock); i++) {
		for (e = 0; entities[e]; e++)
			if (strcmp(entities[e], spgw_mock_count_table(mock, i)) == 0)
				sum[e] += spgw_mock_count_records(mock, i);
		if (strcmp(spgw_mock_count_table(mock, i), "steps") == 0 ||
		    strcmp(spgw_mock_count_table(mock, i), "projects") == 0) {
			int steps = spgw_mock_count_table(mock, i)[0] == 's';

			ck_assert_uint_eq(spgw_mock_count_records(mock, i),
					  expected_on(steps ? "steps" : "projects",
						      steps ? "handle_time" : "apply_date",
						      spgw_mock_count_day(mock, i)));
			checked++;
		}
	}
	ck_assert_int_gt(checked, 10);
	for (e = 0; entities[e]; e++)
		ck_assert_msg(sum[e] == lines("ds", entities[e]), "%s: counted %llu, holds %zu",
			      entities[e], (unsigned long long)sum[e], lines("ds", entities[e]));
	/* one table; a table that is not an entity */
	ck_assert_int_eq(spgw_mock_count(mock, settings(""), REGION, "steps", "2025-01-01",
					 "2027-12-31"),
			 SPGW_PLUGIN_OK);
	for (i = 0; i < spgw_mock_counts(mock); i++)
		ck_assert_str_eq(spgw_mock_count_table(mock, i), "steps");
	ck_assert_int_eq(spgw_mock_count(mock, settings(""), REGION, "SPGL_XMJBXXB", "2026-01-01",
					 "2026-01-31"),
			 SPGW_PLUGIN_ERROR);
}
END_TEST

/* A server that skips a page cannot be caught by the cursor (every record is after it); the
 * count the city's own system gives shows what is missing. */
START_TEST(skipped_page_shows_in_count)
{
	uint64_t counted = 0;
	size_t i;

	start_sim("ds", "--skip-page", "3", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"page_size\": 20"), REGION, NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_lt(spgw_mock_kept(mock), total("ds"));
	ck_assert_int_eq(spgw_mock_count(mock, settings(""), REGION, NULL, "2025-01-01",
					 "2027-12-31"),
			 SPGW_PLUGIN_OK);
	for (i = 0; i < spgw_mock_counts(mock); i++)
		counted += spgw_mock_count_records(mock, i);
	ck_assert_uint_eq(counted, total("ds"));
}
END_TEST

START_TEST(repeated_page_is_retry)
{
	start_sim("ds", "--repeat-page", "3", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"page_size\": 20"), REGION, NULL),
			 SPGW_PLUGIN_RETRY);
	ck_assert_msg(strstr(spgw_mock_error(mock), "it repeated a page or went back"), "%s",
		      spgw_mock_error(mock));
	ck_assert_uint_eq(spgw_mock_records(mock), spgw_mock_kept(mock));
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
}
END_TEST

static int has_token_like(const char *s)
{
	int run = 0;

	for (; *s; s++) {
		run = ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) ? run + 1 : 0;
		if (run >= 32)
			return 1;
	}
	return 0;
}

START_TEST(faults_recovered_without_leaks)
{
	size_t i;

	start_sim("ds", "--fail-500", "0.3", "--expire-token-after", "2", "--html-every", "5",
		  "--truncate-every", "6", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"page_size\": 30, \"max_retries\": 12"),
					REGION, NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), total("ds"));
	ck_assert(spgw_mock_logged(mock, "token is no longer accepted"));
	ck_assert(spgw_mock_logged(mock, "HTTP 500"));
	for (i = 0; i < spgw_mock_logs(mock); i++) {
		ck_assert_msg(!strstr(spgw_mock_log_line(mock, i), SECRET), "secret in a log line");
		ck_assert_msg(!has_token_like(spgw_mock_log_line(mock, i)), "a token in: %s",
			      spgw_mock_log_line(mock, i));
	}
}
END_TEST

START_TEST(gbk_page)
{
	size_t i, len;
	const char *j;
	int gbk = 0, raw = 0;
	json_t *o;

	start_sim("dirty", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings(""), REGION, NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), total("dirty"));
	for (i = 0; i < spgw_mock_records(mock); i++) {
		j = spgw_mock_record_json(mock, i, &len);
		o = json_loadb(j, len, 0, NULL);
		ck_assert_msg(o, "record %zu is not UTF-8 JSON: %.200s", i, j);
		if (strcmp(json_string_value(json_object_get(o, "id")), "CCP90000001") == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(o, "project_name")),
					 "长春市淺水湾综合楼项目");
			gbk = 1;
		}
		if (strcmp(json_string_value(json_object_get(o, "id")), "CCU90000002") == 0) {
			/* not valid GBK: its bytes, one character each, for the mapping to judge */
			ck_assert_str_eq(json_string_value(json_object_get(o, "name")),
					 "\xc2\xbc\xc2\xaa\xc3\x81\xc3\x96\xc3\xbf \xc3\x89\xc3\xa8"
					 "\xc2\xbc\xc3\x86\xc3\x94\xc2\xba");
			ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "设计单位");
			raw = 1;
		}
		json_decref(o);
	}
	ck_assert(gbk && raw);
	ck_assert(spgw_mock_logged(mock, "units CCU90000002: name holds bytes that are not valid "
					 "GBK text"));
}
END_TEST

START_TEST(settings_refused)
{
	static const struct {
		const char *extra, *says;
	} bad[] = {
		{ "\"page_size\": 501", "\"page_size\" must be a whole number from 1 to 500" },
		{ "\"app_secret\": \"x\"", "not both" },
		{ "\"entities\": [\"steps\", \"steps\"]", "names \"steps\" twice" },
		{ "\"entities\": [\"SPGL_XMJBXXB\"]", "is not one of projects" },
		{ "\"max_retries\": 99", "\"max_retries\" must be a whole number from 0 to 20" },
	};
	char s[1024];
	size_t i;

	start_sim("ds", NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(spgw_mock_pull(mock, settings(bad[i].extra), REGION, NULL),
				 SPGW_PLUGIN_ERROR);
		ck_assert_msg(strstr(spgw_mock_error(mock), bad[i].says), "%s: %s", bad[i].extra,
			      spgw_mock_error(mock));
	}
	snprintf(s, sizeof(s), "{\"base_url\": \"ftp://127.0.0.1:%d\", \"app_id\": \"a\", "
		 "\"app_secret\": \"x\"}", sim_port);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "http:// or https://"));
	ck_assert_int_eq(spgw_mock_pull(mock, "{\"base_url\": \"http://127.0.0.1:1\", \"app_id\": "
					"\"a\", \"app_secret_file\": \"/nonexistent/secret\"}",
					REGION, NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "app_secret_file \"/nonexistent/secret\""));
	ck_assert_int_eq(spgw_mock_pull(mock, "{\"base_url\": \"http://127.0.0.1:1\", \"app_id\": "
					"\"a\"}", REGION, NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "\"app_secret_file\" (or \"app_secret\") is "
						"required"));
}
END_TEST

START_TEST(refused_secret_is_error_without_it)
{
	char s[1024];

	start_sim("ds", NULL);
	snprintf(s, sizeof(s), "{\"base_url\": \"http://127.0.0.1:%d\", \"app_id\": "
		 "\"spgw-220000\", \"app_secret\": \"wrong-%s\"}", sim_port, SECRET);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_ERROR);
	ck_assert_msg(strstr(spgw_mock_error(mock), "refused app_id \"spgw-220000\""), "%s",
		      spgw_mock_error(mock));
	ck_assert_msg(!strstr(spgw_mock_error(mock), SECRET), "%s", spgw_mock_error(mock));
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
}
END_TEST

START_TEST(unreachable_is_retry)
{
	ck_assert_int_eq(spgw_mock_pull(mock, "{\"base_url\": \"http://127.0.0.1:1\", \"app_id\": "
					"\"a\", \"app_secret\": \"x\", \"max_retries\": 1, "
					"\"retry_base_ms\": 10, \"timeout\": 2}",
					REGION, NULL),
			 SPGW_PLUGIN_RETRY);
	ck_assert_msg(strstr(spgw_mock_error(mock), "gave up after 2 attempts; the last answer "
						    "was no answer"),
		      "%s", spgw_mock_error(mock));
}
END_TEST

START_TEST(foreign_cursor_is_error)
{
	start_sim("ds", NULL);
	ck_assert_int_eq(spgw_mock_pull(mock, settings(""), REGION, "{\"v\":2}"),
			 SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "reset the source's cursor"));
	ck_assert_int_eq(spgw_mock_pull(mock, settings(""), REGION, "2026-11-01 08:00:00"),
			 SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(spgw_mock_pull(mock, settings(""), REGION,
					"{\"v\":1,\"steps\":{\"t\":\"2026-11-01\"}}"),
			 SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "\"steps\" is not an entity's (t, id)"));
}
END_TEST

/* ---- pull_range ---- */

/* Records of work/<dataset> whose update_time falls on the days from..to: the plugin's answer
 * read independently from the dataset files. */
static size_t changed_in(const char *dataset, const char *from, const char *to)
{
	char path[512], line[65536];
	size_t n = 0;
	int i;

	for (i = 0; entities[i]; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/%s.jsonl", work, dataset, entities[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			json_t *o = json_loads(line, 0, NULL);
			const char *t = json_string_value(json_object_get(o, "update_time"));

			n += t && strncmp(t, from, 10) >= 0 && strncmp(t, to, 10) <= 0;
			json_decref(o);
		}
		fclose(f);
	}
	return n;
}

/* "months": records changed from January 31 to March 1, with a batch across each midnight. */
START_TEST(range_takes_exactly_its_days)
{
	const char *s;
	size_t i, want = changed_in("months", "2026-02-01", "2026-02-28");
	json_t *cur;

	start_sim("months", NULL);
	s = settings("\"page_size\": 7");
	ck_assert_uint_gt(want, 20);
	ck_assert_uint_lt(want, total("months"));
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	ck_assert_uint_eq(spgw_mock_kept(mock), want);
	for (i = 0; i < spgw_mock_records(mock); i++) {
		json_t *o = json_loads(spgw_mock_record_json(mock, i, NULL), 0, NULL);
		const char *t = json_string_value(json_object_get(o, "update_time"));

		ck_assert_msg(t && !strncmp(t, "2026-02-", 8), "record %zu changed at %s", i, t);
		json_decref(o);
	}
	cur = json_loads(spgw_mock_cursor(mock), 0, NULL);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cur, "range"), 1)),
			 "2026-02-28");
	json_decref(cur);
	/* one day; a range with nothing in it */
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-01-31", "2026-01-31", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), changed_in("months", "2026-01-31", "2026-01-31"));
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2025-06-01", "2025-06-30", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
}
END_TEST

/* The gateway goes away at every commit of a range in turn: resumed from the range's cursor,
 * every record of the days once, none other. */
START_TEST(range_resume_at_every_commit)
{
	const char *s;
	char **ids, id[160], *cursor;
	size_t n = changed_in("months", "2026-02-01", "2026-02-28"), commits, k, i, got, a, b;

	start_sim("months", NULL);
	s = settings("\"page_size\": 9, \"commit_records\": 9");
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28", NULL),
			 SPGW_PLUGIN_OK);
	commits = spgw_mock_commits(mock);
	ck_assert_uint_gt(commits, 5);
	ids = calloc(n + 1, sizeof(*ids));
	for (k = 0; k < commits; k++) {
		spgw_mock_fail_commit_after(mock, (long)k);
		ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28",
						      NULL),
				 SPGW_PLUGIN_RETRY);
		got = 0;
		for (i = 0; i < spgw_mock_kept(mock); i++) {
			record_id(i, id, sizeof(id));
			ids[got++] = strdup(id);
		}
		cursor = spgw_mock_cursor(mock) ? strdup(spgw_mock_cursor(mock)) : NULL;
		spgw_mock_fail_commit_after(mock, -1);
		ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28",
						      cursor),
				 SPGW_PLUGIN_OK);
		ck_assert_uint_eq(got + spgw_mock_kept(mock), n);
		for (i = 0; i < spgw_mock_kept(mock); i++) {
			record_id(i, id, sizeof(id));
			ids[got++] = strdup(id);
		}
		qsort(ids, got, sizeof(*ids), by_text);
		for (a = 0, b = 1; b < got; a++, b++)
			ck_assert_msg(strcmp(ids[a], ids[b]) != 0, "commit %zu: %s taken twice", k,
				      ids[a]);
		for (i = 0; i < got; i++)
			free(ids[i]);
		free(cursor);
		ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	}
	free(ids);
}
END_TEST

/* A cursor of the regular pull, of another range, or a range's in pull(): refused, since
 * following it would skip records. */
START_TEST(range_cursor_belongs_to_its_range)
{
	const char *s;
	char *regular, *ranged;

	start_sim("months", NULL);
	s = settings("\"page_size\": 50");
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, NULL), SPGW_PLUGIN_OK);
	regular = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28", NULL),
			 SPGW_PLUGIN_OK);
	ranged = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28",
					      regular),
			 SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "restart the backfill"));
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-27",
					      ranged),
			 SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(spgw_mock_pull(mock, s, REGION, ranged), SPGW_PLUGIN_ERROR);
	ck_assert(strstr(spgw_mock_error(mock), "a backfill's"));
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	/* its own range goes on from it: nothing left */
	ck_assert_int_eq(spgw_mock_pull_range(mock, s, REGION, "2026-02-01", "2026-02-28",
					      ranged),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	free(regular);
	free(ranged);
}
END_TEST

START_TEST(pull_rate)
{
	const char *env = getenv("SPGW_CHANGCHUN_MIN_RATE");
	double min = env ? atof(env) : 2000, s, rate;
	struct timespec a, b;
	size_t n = lines("steps", "steps");

	start_sim("steps", NULL);
	spgw_mock_keep_records(mock, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(spgw_mock_pull(mock, settings("\"entities\": [\"steps\"]"), REGION,
					NULL),
			 SPGW_PLUGIN_OK);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_uint_eq(spgw_mock_kept(mock), n);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	rate = (double)n / s;
	printf("changchun plugin: %zu steps, page_size 500, in %.2f s: %.0f records/s\n", n, s,
	       rate);
	ck_assert_msg(rate >= min, "%.0f records/s, below SPGW_CHANGCHUN_MIN_RATE %.0f", rate, min);
}
END_TEST

/* ---- the datasets ---- */

static int run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "test_changchun_plugin: `%s` failed (%d)\n", cmd, rc);
	return rc;
}

static int make_datasets(void)
{
	char cmd[2048];
	FILE *f;

	snprintf(work, sizeof(work), "/tmp/spgw-changchun-XXXXXX");
	if (!mkdtemp(work))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/secret", work);
	f = fopen(cmd, "w");
	if (!f || fprintf(f, "%s\n", SECRET) < 0 || fclose(f))
		return -1;
	chmod(cmd, 0600);
	snprintf(cmd, sizeof(cmd),
		 "sh %s/contrib/changchun-sim/synth.sh %s/ds -p 12 -c 3 -b 4 && "
		 "sh %s/contrib/changchun-sim/synth.sh %s/dirty -p 6 -c 2 && "
		 "for f in %s/tests/cases/changchun/dirty/*.jsonl; do "
		 "cat \"$f\" >> %s/dirty/$(basename \"$f\"); done && "
		 "sh %s/contrib/changchun-sim/synth.sh %s/steps -p 6250 -c 4 -P 0 -e steps",
		 SPGW_SOURCE_ROOT, work, SPGW_SOURCE_ROOT, work, SPGW_SOURCE_ROOT, work,
		 SPGW_SOURCE_ROOT, work);
	if (run(cmd))
		return -1;
	/* "months": batches across the midnights that open and close February */
	snprintf(cmd, sizeof(cmd),
		 "S=%s/contrib/changchun-sim/synth.sh; W=%s; "
		 "sh $S $W/months -p 4 -c 2 -t '2026-01-31 23:59:40' && "
		 "sh $S $W/m2 -p 4 -c 2 -i 5 -t '2026-02-14 12:00:00' && "
		 "sh $S $W/m3 -p 4 -c 2 -i 9 -t '2026-02-28 23:59:40' && "
		 "for d in m2 m3; do for f in $W/$d/*.jsonl; do "
		 "cat \"$f\" >> $W/months/$(basename \"$f\"); done; done",
		 SPGW_SOURCE_ROOT, work);
	return run(cmd);
}

static Suite *changchun_suite(void)
{
	Suite *s = suite_create("changchun_plugin");
	TCase *t = tcase_create("api");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, pull_everything);
	tcase_add_test(t, resume_at_every_commit);
	tcase_add_test(t, count_per_day);
	tcase_add_test(t, skipped_page_shows_in_count);
	tcase_add_test(t, repeated_page_is_retry);
	tcase_add_test(t, faults_recovered_without_leaks);
	tcase_add_test(t, gbk_page);
	tcase_add_test(t, settings_refused);
	tcase_add_test(t, refused_secret_is_error_without_it);
	tcase_add_test(t, unreachable_is_retry);
	tcase_add_test(t, foreign_cursor_is_error);
	tcase_add_test(t, range_takes_exactly_its_days);
	tcase_add_test(t, range_resume_at_every_commit);
	tcase_add_test(t, range_cursor_belongs_to_its_range);
	tcase_add_test(t, pull_rate);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;
	char cmd[512];

	plugin_path = getenv("SPGW_CHANGCHUN_PLUGIN");
	sim_path = getenv("SPGW_CHANGCHUN_SIM");
	if (!plugin_path || !sim_path) {
		fprintf(stderr, "set SPGW_CHANGCHUN_PLUGIN and SPGW_CHANGCHUN_SIM\n");
		return 2;
	}
	if (make_datasets())
		return 1;
	sr = srunner_create(changchun_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	run(cmd);
	return failed ? 1 : 0;
}
