/*
 * Tests of the provincial plugin (plugins/provincial/) through tests/plugin_host_mock.c, against
 * a real PostgreSQL server that main() starts with contrib/provincial-db/pg.sh on a loopback
 * port and loads with tests/cases/provincial (two cities): records exactly as emitted (numbers,
 * NULLs, GBK bytes), a pull stopped at every record and at every commit and resumed from its
 * cursor without loss or repeat, count() per table and day, settle_seconds, the settings it
 * refuses, and pull_range(): the rows changed on the days asked for, to the millisecond at
 * both ends, resumable the same way.
 *
 * Environment: SPGW_PROVINCIAL_PLUGIN (the built spgw-provincial.so), SPGW_TEST_CASES
 * (tests/cases), SPGW_PG_BIN (the server's binaries; without them the test is skipped, 77).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../plugin_host_mock.h"

#ifndef SPGW_SOURCE_ROOT
#define SPGW_SOURCE_ROOT "."
#endif

/* The fixtures: 20 rows of 吉林市 in eight tables, 7 of 四平市 in five. */
#define JL_ROWS 20

static const char *plugin_path;
static char pgdir[256], settings[1024];
static int port;
static struct spgw_mock *mock;

static void setup(void)
{
	char err[512];

	ck_assert_msg(spgw_mock_load(plugin_path, &mock, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	spgw_mock_free(mock);
	mock = NULL;
}

/* Settings for this server with `extra` (",\"k\": v" ...) appended. */
static const char *with(const char *extra)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "%.*s%s}", (int)strlen(settings) - 1, settings, extra);
	return buf;
}

/* "table:row_id" of kept record i, in `out`. */
static const char *ident(size_t i, char *out, size_t len)
{
	json_t *o = json_loads(spgw_mock_record_json(mock, i, NULL), 0, NULL);

	ck_assert_ptr_nonnull(o);
	snprintf(out, len, "%s:%lld", spgw_mock_record_table(mock, i),
		 (long long)json_integer_value(json_object_get(o, "row_id")));
	json_decref(o);
	return out;
}

/* The JSON of the record of `table` with row_id `id` in the last run, or NULL. */
static const char *record_of(const char *table, long long id)
{
	char want[64], got[96];
	size_t i;

	snprintf(want, sizeof(want), "%s:%lld", table, id);
	for (i = 0; i < spgw_mock_records(mock); i++)
		if (!strcmp(ident(i, got, sizeof(got)), want))
			return spgw_mock_record_json(mock, i, NULL);
	return NULL;
}

START_TEST(pulls_one_city_in_pages)
{
	char id[96], *cursor;
	size_t i;

	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"page_size\": 2"), "220200", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), JL_ROWS);
	ck_assert_uint_eq(spgw_mock_kept(mock), JL_ROWS);
	for (i = 0; i < spgw_mock_records(mock); i++)
		ck_assert_msg(strstr(ident(i, id, sizeof(id)), ":1"), "%s is not 吉林市's", id);
	/* eight tables, pages of two: 2+1+1+4+1+1+1+1 pages with rows */
	ck_assert_uint_eq(spgw_mock_commits(mock), 12);
	ck_assert_ptr_nonnull(strstr(spgw_mock_cursor(mock),
				     "\"t_step\":[\"2026-03-02 09:00:00\",1308]"));
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	/* caught up: a second pull from the cursor (a copy: the mock's is reset by the run)
	 * reads nothing */
	cursor = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull(mock, with(""), "220200", cursor), SPGW_PLUGIN_OK);
	free(cursor);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
}
END_TEST

START_TEST(records_hold_what_the_database_holds)
{
	const char *r;

	ck_assert_int_eq(spgw_mock_pull(mock, with(""), "220200", NULL), SPGW_PLUGIN_OK);
	r = record_of("t_project", 1001);
	ck_assert_ptr_nonnull(r);
	/* numeric exactly as stored, NULL as null, dates as ISO text, column order kept */
	ck_assert_msg(!strncmp(r, "{\"row_id\":1001,\"area_code\":\"220200\",\"xmdm\":", 43),
		      "%s", r);
	ck_assert_msg(strstr(r, "\"ztze\":12345.6790,"), "%s", r);
	ck_assert_msg(strstr(r, "\"splcbbh\":1.0,"), "%s", r);
	ck_assert_msg(strstr(r, "\"gcfw\":null,"), "%s", r);
	ck_assert_msg(strstr(r, "\"sbsj\":\"2026-03-01\","), "%s", r);
	ck_assert_msg(strstr(r, "\"xmmc\":\"吉林市第一中学综合楼\""), "%s", r);
	ck_assert_msg(strstr(r, "\"upd_time\":\"2026-03-02 09:00:00\",\"yxbz\":1,\"zfyy\":null}"),
		      "%s", r);
	/* GBK bytes as the characters of the same numbers, in UTF-8: 吉林 is BC AA C1 D6 */
	r = record_of("t_project", 1002);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strstr(r, "\"xmmc\":\"\xc2\xbc\xc2\xaa\xc3\x81\xc3\x96"), "%s", r);
	/* a void row as it is */
	r = record_of("t_project", 1003);
	ck_assert_msg(strstr(r, "\"yxbz\":0,\"zfyy\":\"重复申报，已作废\"}"), "%s", r);
	r = record_of("t_step", 1306);
	ck_assert_msg(strstr(r, "\"blzt\":\"90\",\"blyj\":\"同意\",\"blsj\":\"2026-03-13 15:00:00\""),
		      "%s", r);
}
END_TEST

/* One pull, or with `range` one pull_range() of March 2, the day every fixture row changed. */
static int pull_or_range(int range, const char *s, const char *cursor)
{
	return range ? spgw_mock_pull_range(mock, s, "220200", "2026-03-02", "2026-03-02", cursor)
		     : spgw_mock_pull(mock, s, "220200", cursor);
}

/* Stop the gateway after n records (or n commits), then resume from the cursor it kept: the
 * two runs together keep every row exactly once. */
static void stop_and_resume(int commits, int range)
{
	char seen[2 * JL_ROWS][96], id[96];
	size_t n_seen, i, j;
	long n;
	int rc;

	for (n = 0; n <= JL_ROWS; n++) {
		char *cursor = NULL;

		n_seen = 0;
		if (commits)
			spgw_mock_fail_commit_after(mock, n);
		else
			spgw_mock_fail_emit_after(mock, n);
		rc = pull_or_range(range, with(",\"page_size\": 3"), NULL);
		/* pages of three: 20 records in 10 commits */
		ck_assert_msg(rc == (n >= (commits ? 10 : JL_ROWS) ? SPGW_PLUGIN_OK
								   : SPGW_PLUGIN_RETRY),
			      "stop after %ld: %d %s", n, rc, spgw_mock_error(mock));
		if (rc == SPGW_PLUGIN_RETRY)
			ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "吉林市 220200"));
		for (i = 0; i < spgw_mock_kept(mock); i++)
			strcpy(seen[n_seen++], ident(i, id, sizeof(id)));
		if (spgw_mock_cursor(mock))
			cursor = strdup(spgw_mock_cursor(mock));
		spgw_mock_fail_emit_after(mock, -1);
		spgw_mock_fail_commit_after(mock, -1);
		ck_assert_int_eq(pull_or_range(range, with(",\"page_size\": 3"), cursor),
				 SPGW_PLUGIN_OK);
		free(cursor);
		for (i = 0; i < spgw_mock_kept(mock); i++) {
			ck_assert_uint_lt(n_seen, 2 * JL_ROWS);
			strcpy(seen[n_seen++], ident(i, id, sizeof(id)));
		}
		ck_assert_msg(n_seen == JL_ROWS, "stop after %ld: %zu rows kept", n, n_seen);
		for (i = 0; i < n_seen; i++)
			for (j = i + 1; j < n_seen; j++)
				ck_assert_msg(strcmp(seen[i], seen[j]), "stop after %ld: %s twice",
					      n, seen[i]);
		ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	}
}

START_TEST(resumes_after_any_record)
{
	stop_and_resume(0, 0);
}
END_TEST

START_TEST(resumes_after_any_commit)
{
	stop_and_resume(1, 0);
}
END_TEST

START_TEST(range_resumes_after_any_record)
{
	stop_and_resume(0, 1);
}
END_TEST

START_TEST(range_resumes_after_any_commit)
{
	stop_and_resume(1, 1);
}
END_TEST

/* The count of `table` on `day` in the last count run, or 0. */
static uint64_t counted(const char *table, const char *day)
{
	size_t i;

	for (i = 0; i < spgw_mock_counts(mock); i++)
		if (!strcmp(spgw_mock_count_table(mock, i), table) &&
		    !strcmp(spgw_mock_count_day(mock, i), day))
			return spgw_mock_count_records(mock, i);
	return 0;
}

START_TEST(counts_per_table_and_business_day)
{
	uint64_t total = 0;
	size_t i;

	ck_assert_int_eq(spgw_mock_count(mock, with(""), "220200", NULL, "2026-03-01",
					 "2026-03-31"), SPGW_PLUGIN_OK);
	for (i = 0; i < spgw_mock_counts(mock); i++)
		total += spgw_mock_count_records(mock, i);
	/* the rows in force (plugin.h): the void project 1003 is not among them (it is
	 * delivered, with 数据有效标识 0, and reconciliation compares with valid records) */
	ck_assert_uint_eq(total, JL_ROWS - 1);
	/* 申报时间 */
	ck_assert_uint_eq(counted("t_project", "2026-03-01"), 1);
	ck_assert_uint_eq(counted("t_project", "2026-03-03"), 0);
	/* units on their project's day, cases and materials on their first step's */
	ck_assert_uint_eq(counted("t_unit", "2026-03-01"), 2);
	ck_assert_uint_eq(counted("t_case", "2026-03-05"), 2);
	ck_assert_uint_eq(counted("t_material", "2026-03-05"), 2);
	ck_assert_uint_eq(counted("t_step", "2026-03-05"), 4);
	ck_assert_uint_eq(counted("t_step", "2026-03-13"), 1);
	ck_assert_uint_eq(counted("t_doc", "2026-03-13"), 1);
	ck_assert_uint_eq(counted("t_tbcx", "2026-03-09"), 1);
	ck_assert_uint_eq(counted("t_opinion", "2026-03-10"), 1);

	/* one table, a range that cuts days off */
	ck_assert_int_eq(spgw_mock_count(mock, with(""), "220200", "t_step", "2026-03-06",
					 "2026-03-12"), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_counts(mock), 3);
	ck_assert_uint_eq(counted("t_step", "2026-03-05"), 0);
	ck_assert_uint_eq(counted("t_step", "2026-03-09"), 1);

	ck_assert_int_eq(spgw_mock_count(mock, with(""), "220200", "t_nothing", "2026-03-01",
					 "2026-03-31"), SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(spgw_mock_count(mock, with(""), "220200", NULL, "2026-03-31",
					 "2026-03-01"), SPGW_PLUGIN_ERROR);
}
END_TEST

START_TEST(refuses_what_a_person_must_fix)
{
	char s[1024];

	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"area_code\": \"220300\""), "220200", NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock),
				     "city config points at the wrong region code"));

	snprintf(s, sizeof(s), "{\"conninfo\": \"host=127.0.0.1 port=%d dbname=jlsp "
		 "user=spgw_reader password=secret-in-conninfo\"}", port);
	ck_assert_int_eq(spgw_mock_pull(mock, s, "220200", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "conninfo holds a password"));
	ck_assert_ptr_null(strstr(spgw_mock_error(mock), "secret-in-conninfo"));

	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"tables\": [\"t_step\", \"t_steps\"]"),
					"220200", NULL), SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "tables[1]"));
	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"page_size\": 5001"), "220200", NULL),
			 SPGW_PLUGIN_ERROR);
	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"password\": \"x\""), "220200", NULL),
			 SPGW_PLUGIN_ERROR); /* and password_file */

	ck_assert_int_eq(spgw_mock_pull(mock, with(""), "220200",
					"{\"v\":1,\"area\":\"220300\","
					"\"t_step\":[\"2026-01-01\",1]}"),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "reset the source's cursor"));
	ck_assert_int_eq(spgw_mock_pull(mock, with(""), "220200", "not a cursor"),
			 SPGW_PLUGIN_ERROR);
}
END_TEST

START_TEST(an_unreachable_server_is_retried)
{
	char s[1024];

	/* port 1 on loopback: nothing listens, the connection is refused */
	snprintf(s, sizeof(s), "{\"conninfo\": \"host=127.0.0.1 port=1 dbname=jlsp "
		 "user=spgw_reader\", \"connect_timeout\": 2}");
	ck_assert_int_eq(spgw_mock_pull(mock, s, "220300", NULL), SPGW_PLUGIN_RETRY);
	ck_assert_msg(strstr(spgw_mock_error(mock), "四平市 220300: t_project from its first row: "
				 "cannot connect"), "%s", spgw_mock_error(mock));
}
END_TEST

START_TEST(only_the_tables_asked_for)
{
	size_t i;

	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"tables\": [\"t_step\", \"t_project\"]"),
					"220300", NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 4);
	/* in the order given */
	for (i = 0; i < 2; i++)
		ck_assert_str_eq(spgw_mock_record_table(mock, i), "t_step");
	ck_assert_str_eq(spgw_mock_record_table(mock, 2), "t_project");
}
END_TEST

/* Run SQL as the administrator; 0 when it worked. */
static int admin_sql(const char *sql)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s/contrib/provincial-db/pg.sh -d %s/pg psql -q -c \"%s\" "
		 ">/dev/null", SPGW_SOURCE_ROOT, pgdir, sql);
	return system(cmd);
}

/* upd_time is Beijing time: a row stamped now is left alone for settle_seconds */
START_TEST(settle_seconds_leaves_fresh_rows)
{
	ck_assert_int_eq(admin_sql("INSERT INTO jlsp.t_opinion (row_id, area_code, upd_time) "
				   "VALUES (2701, '220300', "
				   "now() AT TIME ZONE 'Asia/Shanghai')"), 0);
	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"tables\": [\"t_opinion\"], "
						   "\"settle_seconds\": 3600"), "220300", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	ck_assert_int_eq(spgw_mock_pull(mock, with(",\"tables\": [\"t_opinion\"]"), "220300",
					NULL), SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 1);
	ck_assert_int_eq(admin_sql("DELETE FROM jlsp.t_opinion WHERE row_id = 2701"), 0);
}
END_TEST

/* pull_range(): the rows whose upd_time falls on the days, Beijing time as the column holds
 * it, the last millisecond of a day in and the first of the next out. */
START_TEST(range_takes_exactly_its_days)
{
	const char *opinions = ",\"tables\": [\"t_opinion\"], \"page_size\": 1";
	char id[96], *regular;

	ck_assert_int_eq(admin_sql("INSERT INTO jlsp.t_opinion (row_id, area_code, upd_time) "
				   "VALUES (2710, '220300', '2026-02-28 23:59:59.999'), "
				   "(2711, '220300', '2026-03-01 00:00:00'), "
				   "(2712, '220300', '2026-03-31 23:59:59.999'), "
				   "(2713, '220300', '2026-04-01 00:00:00')"), 0);
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(opinions), "220300", "2026-03-01",
					      "2026-03-31", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_violations(mock), 0);
	ck_assert_uint_eq(spgw_mock_kept(mock), 2);
	ck_assert_str_eq(ident(0, id, sizeof(id)), "t_opinion:2711");
	ck_assert_str_eq(ident(1, id, sizeof(id)), "t_opinion:2712");
	ck_assert_ptr_nonnull(strstr(spgw_mock_cursor(mock),
				     "\"range\":[\"2026-03-01\",\"2026-03-31\"]"));
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(opinions), "220300", "2026-02-28",
					      "2026-02-28", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), 1);
	ck_assert_str_eq(ident(0, id, sizeof(id)), "t_opinion:2710");
	/* one city's rows only, every table */
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(""), "220200", "2026-03-02",
					      "2026-03-02", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_kept(mock), JL_ROWS);
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(""), "220200", "2026-03-03",
					      "2026-12-31", NULL),
			 SPGW_PLUGIN_OK);
	ck_assert_uint_eq(spgw_mock_records(mock), 0);
	/* the regular pull's cursor is not the range's, and the other way round */
	ck_assert_int_eq(spgw_mock_pull(mock, with(""), "220200", NULL), SPGW_PLUGIN_OK);
	regular = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(""), "220200", "2026-03-02",
					      "2026-03-02", regular),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "restart the backfill"));
	free(regular);
	ck_assert_int_eq(spgw_mock_pull_range(mock, with(opinions), "220300", "2026-03-01",
					      "2026-03-31", NULL),
			 SPGW_PLUGIN_OK);
	regular = strdup(spgw_mock_cursor(mock));
	ck_assert_int_eq(spgw_mock_pull(mock, with(opinions), "220300", regular),
			 SPGW_PLUGIN_ERROR);
	ck_assert_ptr_nonnull(strstr(spgw_mock_error(mock), "a backfill's"));
	free(regular);
	ck_assert_int_eq(admin_sql("DELETE FROM jlsp.t_opinion WHERE row_id BETWEEN 2710 AND "
				   "2713"), 0);
}
END_TEST

static Suite *provincial_suite(void)
{
	Suite *s = suite_create("provincial plugin");
	TCase *tc = tcase_create("against PostgreSQL");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pulls_one_city_in_pages);
	tcase_add_test(tc, records_hold_what_the_database_holds);
	tcase_add_test(tc, resumes_after_any_record);
	tcase_add_test(tc, resumes_after_any_commit);
	tcase_add_test(tc, counts_per_table_and_business_day);
	tcase_add_test(tc, refuses_what_a_person_must_fix);
	tcase_add_test(tc, an_unreachable_server_is_retried);
	tcase_add_test(tc, only_the_tables_asked_for);
	tcase_add_test(tc, settle_seconds_leaves_fresh_rows);
	tcase_add_test(tc, range_takes_exactly_its_days);
	tcase_add_test(tc, range_resumes_after_any_record);
	tcase_add_test(tc, range_resumes_after_any_commit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *bin = getenv("SPGW_PG_BIN"), *cases = getenv("SPGW_TEST_CASES"), *tmp;
	char path[512], cmd[2048];
	SRunner *sr;
	int failed, tries;

	plugin_path = getenv("SPGW_PROVINCIAL_PLUGIN");
	if (!plugin_path || !*plugin_path || !cases || !*cases) {
		fprintf(stderr, "test_provincial_plugin: set SPGW_PROVINCIAL_PLUGIN to the built "
			"spgw-provincial.so and SPGW_TEST_CASES to tests/cases\n");
		return EXIT_FAILURE;
	}
	if (!bin || !*bin)
		bin = "/usr/lib/postgresql/15/bin";
	snprintf(path, sizeof(path), "%s/postgres", bin);
	if (access(path, X_OK)) {
		printf("skip: no PostgreSQL server (%s); set SPGW_PG_BIN\n", path);
		return 77;
	}
	tmp = getenv("TMPDIR");
	snprintf(pgdir, sizeof(pgdir), "%s/spgw-pvtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(pgdir) || chmod(pgdir, 0711)) {
		perror("test_provincial_plugin: mkdtemp");
		return EXIT_FAILURE;
	}
	/* a free port: a taken one makes the start fail, so try a few */
	port = 20000 + (int)(getpid() % 20000);
	for (tries = 0;; tries++, port += 997) {
		snprintf(cmd, sizeof(cmd), "%s/contrib/provincial-db/pg.sh -d %s/pg -p %d start "
			 ">%s/pg.out 2>&1", SPGW_SOURCE_ROOT, pgdir, port, pgdir);
		if (!system(cmd))
			break;
		if (tries == 8) {
			fprintf(stderr, "test_provincial_plugin: the server did not start, "
				"see %s\n", pgdir);
			return EXIT_FAILURE;
		}
	}
	snprintf(cmd, sizeof(cmd), "%s/contrib/provincial-db/load.sh -d %s/pg %s/provincial "
		 ">/dev/null", SPGW_SOURCE_ROOT, pgdir, cases);
	if (system(cmd)) {
		fprintf(stderr, "test_provincial_plugin: load.sh failed\n");
		failed = 1;
		goto out;
	}
	snprintf(settings, sizeof(settings), "{\"conninfo\": \"host=127.0.0.1 port=%d dbname=jlsp "
		 "user=spgw_reader\", \"password_file\": \"%s/pg/reader.password\"}", port, pgdir);
	sr = srunner_create(provincial_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
out:
	snprintf(cmd, sizeof(cmd), "%s/contrib/provincial-db/pg.sh -d %s/pg stop >/dev/null 2>&1; "
		 "rm -rf %s", SPGW_SOURCE_ROOT, pgdir, pgdir);
	if (system(cmd))
		fprintf(stderr, "test_provincial_plugin: could not stop the server in %s\n", pgdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
