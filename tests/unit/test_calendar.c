/*
 * Unit tests for the working-day calendar (gateway/calendar.c):
 *
 *   - config/calendar/cn.json loads clean; known days of the State Council's notices are
 *     off or worked as the notice says (a 调休 Sunday is a working day, a holiday Monday is
 *     not);
 *   - each year whose notice is written in full keeps the law's arithmetic: weekdays off
 *     minus weekend days worked = the statutory days of that year (11 before 2025, 13 from
 *     2025), so a day typed wrong in the file turns this red;
 *   - counting: the acceptance day does not count, the completion day does; across a
 *     holiday week and a 调休 Saturday; backwards; the time of day ignored;
 *   - a date outside the covered years is an error naming the year, never a weekday guess;
 *   - each kind of broken file gives its message at the line:column of the value, and a
 *     file with several problems lists them all.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "diag.h"
#include "mem.h"
#include "scratch.h"

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif

#define CN SPGW_SOURCE_ROOT "/config/calendar/cn.json"

static struct spgw_calendar *cn;

static void setup(void)
{
	struct spgw_diag d;

	scratch_make("spgw-calendar");
	spgw_diag_init(&d);
	if (spgw_calendar_load(CN, &cn, &d) != SPGW_OK)
		ck_abort_msg("cn.json does not load: %s:%d:%d: %s", d.items[0].source,
			     d.items[0].line, d.items[0].column, d.items[0].text);
	spgw_diag_free(&d);
}

static void teardown(void)
{
	spgw_calendar_free(cn);
	cn = NULL;
	scratch_remove();
}

static int workday(const char *date)
{
	struct spgw_error e;
	int w;

	memset(&e, 0, sizeof(e));
	w = spgw_calendar_is_workday(cn, date, &e);
	ck_assert_msg(w >= 0, "%s: %s", date, e.text);
	return w;
}

static long count(const char *a, const char *b)
{
	struct spgw_error e;
	long n = -999;

	memset(&e, 0, sizeof(e));
	ck_assert_msg(spgw_calendar_workdays(cn, a, b, &n, &e) == SPGW_OK, "%s..%s: %s", a, b,
		      e.text);
	return n;
}

START_TEST(notices_days)
{
	int first, last;

	spgw_calendar_years(cn, &first, &last);
	ck_assert_int_eq(first, 2024);
	ck_assert_int_eq(last, 2027);
	/* 2024: 春节 2月10日至17日, 2月4日（星期日）、2月18日（星期日）上班 */
	ck_assert_int_eq(workday("2024-02-04"), 1);
	ck_assert_int_eq(workday("2024-02-09"), 1); /* 除夕 was still a working day in 2024 */
	ck_assert_int_eq(workday("2024-02-12"), 0);
	ck_assert_int_eq(workday("2024-02-16"), 0);
	ck_assert_int_eq(workday("2024-02-18"), 1);
	ck_assert_int_eq(workday("2024-02-19"), 1);
	/* 2024 国庆: 9月29日（星期日）、10月12日（星期六）上班 */
	ck_assert_int_eq(workday("2024-09-29"), 1);
	ck_assert_int_eq(workday("2024-10-07"), 0);
	ck_assert_int_eq(workday("2024-10-12"), 1);
	ck_assert_int_eq(workday("2024-10-13"), 0); /* an ordinary Sunday */
	/* 2025: 1月28日（除夕）至2月4日, 1月26日（周日）、2月8日（周六）上班; 元旦 not moved */
	ck_assert_int_eq(workday("2025-01-01"), 0);
	ck_assert_int_eq(workday("2025-01-02"), 1);
	ck_assert_int_eq(workday("2025-01-26"), 1);
	ck_assert_int_eq(workday("2025-01-28"), 0);
	ck_assert_int_eq(workday("2025-02-04"), 0);
	ck_assert_int_eq(workday("2025-02-08"), 1);
	ck_assert_int_eq(workday("2025-10-08"), 0);
	ck_assert_int_eq(workday("2025-10-11"), 1);
	/* a datetime's date is taken, its time ignored */
	ck_assert_int_eq(workday("2025-10-09 08:30:00"), 1);
	/* which years are marked verified */
	ck_assert_int_eq(spgw_calendar_year_verified(cn, 2024), 1);
	ck_assert_int_eq(spgw_calendar_year_verified(cn, 2025), 1);
	ck_assert_int_eq(spgw_calendar_year_verified(cn, 2027), 0);
	ck_assert_int_eq(spgw_calendar_year_verified(cn, 2023), -1);
}
END_TEST

/* Weekdays off minus weekend days worked in `year`, counted day by day through the API. */
static int net_days_off(int year)
{
	struct tm tm;
	time_t t;
	int off = 0;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mday = 1;
	t = timegm(&tm);
	for (;; t += 86400) {
		char day[16];
		struct tm d;
		int weekend, w;

		gmtime_r(&t, &d);
		if (d.tm_year != year - 1900)
			break;
		strftime(day, sizeof(day), "%Y-%m-%d", &d);
		weekend = d.tm_wday == 0 || d.tm_wday == 6;
		w = workday(day);
		off += !weekend && !w;
		off -= weekend && w;
	}
	return off;
}

START_TEST(statutory_arithmetic)
{
	/* 全国年节及纪念日放假办法: 11 days until 2024, 13 from 2025 (除夕 and 5月2日 added).
	 * Every weekday off is a statutory day, the compensation for one that fell on a
	 * weekend, or paid back by a weekend day worked. 2027 lists the statutory days only
	 * (its notice was not known): no arithmetic to keep yet. */
	ck_assert_int_eq(net_days_off(2024), 11);
	ck_assert_int_eq(net_days_off(2025), 13);
	ck_assert_int_eq(net_days_off(2026), 13);
}
END_TEST

START_TEST(counting_rule)
{
	/* same day: 0; the next working day: 1 */
	ck_assert_int_eq(count("2025-03-03 09:00:00", "2025-03-03 17:00:00"), 0);
	ck_assert_int_eq(count("2025-03-03 17:00:00", "2025-03-04 08:30:00"), 1);
	/* Friday to Monday: 1 */
	ck_assert_int_eq(count("2025-03-07", "2025-03-10"), 1);
	/* accepted on a Saturday (a holiday office): the Monday after is 1 */
	ck_assert_int_eq(count("2025-03-08 10:00:00", "2025-03-10 10:00:00"), 1);
	/* 2024-09-27 (Fri) to 2024-10-08 (Tue): 9月29日 (Sun, worked), 9月30日, then 国庆
	 * 10月1日至7日, then 10月8日: 3 working days (Monday to Friday would say 7) */
	ck_assert_int_eq(count("2024-09-27 10:00:00", "2024-10-08 09:00:00"), 3);
	/* across 春节 2025 with its two 调休 days: 1月24日 (Fri) to 2月10日 (Mon) */
	ck_assert_int_eq(count("2025-01-24", "2025-02-10"), 7); /* 1/26, 1/27, 2/5-2/8, 2/10 */
	/* backwards is the same count, negative */
	ck_assert_int_eq(count("2024-10-08", "2024-09-27"), -3);
	/* across a year end */
	ck_assert_int_eq(count("2024-12-30", "2025-01-02"), 2); /* 12/31, 1/2 */
}
END_TEST

START_TEST(outside_the_years_is_an_error)
{
	struct spgw_error e;
	long n = 0;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_calendar_workdays(cn, "2023-12-29", "2024-01-02", &n, &e),
			 SPGW_E_NOTFOUND);
	ck_assert_msg(strstr(e.text, "not 2023") && strstr(e.text, "2023年部分节假日安排"), "%s",
		      e.text);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_calendar_is_workday(cn, "2028-01-03", &e), -1);
	ck_assert_int_eq(e.code, SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(e.text, "2028"));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_calendar_is_workday(cn, "2025-02-29", &e), -1);
	ck_assert_int_eq(e.code, SPGW_E_INVALID);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_calendar_workdays(cn, "2025-01-01T08:00", "2025-01-02", &n, &e),
			 SPGW_E_INVALID);
}
END_TEST

START_TEST(day_numbers)
{
	int32_t a, b, oa, ob;
	char s[11];

	ck_assert_int_eq(spgw_calendar_day("1970-01-01", &a), 0);
	ck_assert_int_eq(a, 0);
	ck_assert_int_eq(spgw_calendar_day("2024-02-29 23:59:59", &a), 0);
	spgw_calendar_format(a, s);
	ck_assert_str_eq(s, "2024-02-29");
	ck_assert_int_eq(spgw_calendar_year_of(a), 2024);
	ck_assert_int_eq(spgw_calendar_day("2025-02-29", &a), -1);
	ck_assert_int_eq(spgw_calendar_day("2025-1-02", &a), -1);
	ck_assert_int_eq(spgw_calendar_day("2025-01-02 24:00:00", &a), -1);
	ck_assert_int_eq(spgw_calendar_day("2024-10-08", &b), 0);
	ck_assert_int_eq(spgw_calendar_day("2024-09-27", &a), 0);
	ck_assert_int_eq(spgw_calendar_ordinal(cn, a, &oa, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_calendar_ordinal(cn, b, &ob, NULL), SPGW_OK);
	ck_assert_int_eq(ob - oa, 3);
}
END_TEST

/* ---- broken files ---- */

static const char good_year[] =
	"\"source\": \"国务院办公厅关于2024年部分节假日安排的通知\", \"verified\": true,\n"
	"   \"holidays\": [{\"name\": \"春节\", \"from\": \"2024-02-10\", \"to\": \"2024-02-17\"}],\n"
	"   \"workdays\": [{\"date\": \"2024-02-04\", \"for\": \"春节\"}]";

struct broken {
	const char *name;
	const char *text; /* the file */
	const char *at;   /* the problem's place: first occurrence of this in the text */
	const char *expect;
};

static const struct broken broken[] = {
	{"unknown key",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holiday\": [], \"workdays\": []}}}",
	 "\"holiday\"", "unknown key \"holiday\" (did you mean \"holidays\"?)"},
	{"date that does not exist",
	 "{\"calendar\": \"x\", \"years\": {\"2025\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"春节\", \"from\": \"2025-02-29\"}], \"workdays\": []}}}",
	 "\"2025-02-29\"", "years.2025.holidays[0] 春节: from \"2025-02-29\" is not a date"},
	{"date in another year",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"元旦\", \"from\": \"2023-12-30\", \"to\": \"2024-01-01\"}],"
	 " \"workdays\": []}}}",
	 "\"2023-12-30\"", "from 2023-12-30 is not in 2024"},
	{"to before from",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"国庆节\", \"from\": \"2024-10-07\", \"to\": \"2024-10-01\"}],"
	 " \"workdays\": []}}}",
	 "\"2024-10-01\"", "years.2024.holidays[0] 国庆节: to is before from"},
	{"too long",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"国庆节\", \"from\": \"2024-10-01\", \"to\": \"2024-11-07\"}],"
	 " \"workdays\": []}}}",
	 "\"2024-11-07\"", "38 days off in a row"},
	{"overlapping holidays",
	 "{\"calendar\": \"x\", \"years\": {\"2025\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"国庆节\", \"from\": \"2025-10-01\", \"to\": \"2025-10-08\"},\n"
	 "  {\"name\": \"中秋节\", \"from\": \"2025-10-06\"}], \"workdays\": []}}}",
	 "\"2025-10-06\"", "years.2025.holidays[1] 中秋节: 2025-10-06 is already inside holidays[0]"},
	{"worked weekday",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {" "\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"春节\", \"from\": \"2024-02-10\"}],\n"
	 " \"workdays\": [{\"date\": \"2024-02-05\"}]}}}",
	 "\"2024-02-05\"", "years.2024.workdays[0]: 2024-02-05 is a 星期一, a working day anyway"},
	{"worked and off",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [{\"name\": \"春节\", \"from\": \"2024-02-10\", \"to\": \"2024-02-17\"}],\n"
	 " \"workdays\": [{\"date\": \"2024-02-11\"}]}}}",
	 "\"2024-02-11\"", "2024-02-11 is inside holidays[0]: a day is off or worked, not both"},
	{"years not consecutive",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {%Y}, \"2026\": {\"source\": \"s\","
	 " \"verified\": false, \"holidays\": [{\"name\": \"元旦\", \"from\": \"2026-01-01\"}],"
	 " \"workdays\": []}}}",
	 "{\"2024\"", "years 2024 and 2026 are given but not 2025"},
	{"year key",
	 "{\"calendar\": \"x\", \"years\": {\"24\": {%Y}}}", "{\"source\"",
	 "years: \"24\" is not a year"},
	{"verified missing",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\",\n"
	 " \"holidays\": [{\"name\": \"春节\", \"from\": \"2024-02-10\"}], \"workdays\": []}}}",
	 "\"2024\"", "missing required key \"verified\""},
	{"no holidays",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
	 " \"holidays\": [], \"workdays\": []}}}",
	 "{\"source\"", "year 2024 lists no holidays"},
	{"duplicate key",
	 "{\"calendar\": \"x\", \"years\": {\"2024\": {%Y, \"verified\": false}}}",
	 "\"verified\": false", "duplicate key \"verified\""},
};

/* Line and column of byte `off` of `s`, counted as the loader counts (code points). */
static void position(const char *s, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* The case's text with %Y replaced by a good year's members (malloc). */
static char *expand(const char *t)
{
	const char *y = strstr(t, "%Y");
	size_t n = strlen(t) + sizeof(good_year);
	char *out = malloc(n);

	ck_assert(out != NULL);
	if (!y)
		snprintf(out, n, "%s", t);
	else
		snprintf(out, n, "%.*s%s%s", (int)(y - t), t, good_year, y + 2);
	return out;
}

START_TEST(broken_file)
{
	const struct broken *b = &broken[_i];
	char *text = expand(b->text);
	const char *at = strstr(text, b->at);
	struct spgw_calendar *cal = NULL;
	struct spgw_diag d;
	FILE *f;
	int line, col;

	ck_assert_msg(at != NULL, "%s: anchor not in the text", b->name);
	position(text, (size_t)(at - text), &line, &col);
	f = fopen(scratch_path("cal.json"), "wb");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	spgw_diag_init(&d);
	ck_assert_int_ne(spgw_calendar_load(scratch_path("cal.json"), &cal, &d), SPGW_OK);
	ck_assert_ptr_null(cal);
	ck_assert_msg(d.n >= 1, "%s: no problem reported", b->name);
	ck_assert_msg(strstr(d.items[0].text, b->expect), "%s: got \"%s\"", b->name,
		      d.items[0].text);
	ck_assert_msg(d.items[0].line == line && d.items[0].column == col,
		      "%s: at %d:%d, want %d:%d (%s)", b->name, d.items[0].line,
		      d.items[0].column, line, col, d.items[0].text);
	ck_assert_str_eq(d.items[0].source, scratch_path("cal.json"));
	spgw_diag_free(&d);
	free(text);
}
END_TEST

START_TEST(every_problem_at_once)
{
	static const char text[] =
		"{\"calendar\": \"x\", \"years\": {\"2024\": {\"source\": \"s\", \"verified\": true,\n"
		" \"holidays\": [{\"name\": \"春节\", \"from\": \"2024-02-30\"},\n"
		"  {\"name\": \"国庆节\", \"from\": \"2024-10-01\", \"to\": \"2024-10-07\", \"tо\": 1}],\n"
		" \"workdays\": [{\"date\": \"2024-10-08\"}, {\"date\": \"2024-10-05\"}]}}}";
	struct spgw_calendar *cal = NULL;
	struct spgw_diag d;
	FILE *f;

	f = fopen(scratch_path("cal.json"), "wb");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_calendar_load(scratch_path("cal.json"), &cal, &d), SPGW_E_CONFIG);
	/* a bad date, an unknown key (a Cyrillic о), a worked Tuesday, a worked holiday */
	ck_assert_msg(d.n == 4, "%zu problems: %s", d.n, d.n ? d.items[d.n - 1].text : "");
	spgw_diag_free(&d);
}
END_TEST

START_TEST(missing_file)
{
	struct spgw_calendar *cal = NULL;
	struct spgw_diag d;

	spgw_diag_init(&d);
	ck_assert_int_ne(spgw_calendar_load(scratch_path("none.json"), &cal, &d), SPGW_OK);
	ck_assert_ptr_null(cal);
	ck_assert_int_ge(d.n, 1);
	spgw_diag_free(&d);
}
END_TEST

/* Fail the n-th allocation of a load for n = 0, 1, ... until one completes. */
START_TEST(out_of_memory_anywhere)
{
	long n;

	for (n = 0; n < 100000; n++) {
		struct spgw_calendar *cal = NULL;
		struct spgw_diag d;
		enum spgw_rc rc;

		spgw_diag_init(&d);
		spgw_mem_fail_after(n);
		rc = spgw_calendar_load(CN, &cal, &d);
		spgw_mem_fail_after(-1);
		spgw_diag_free(&d);
		if (rc == SPGW_OK) {
			ck_assert_ptr_nonnull(cal);
			spgw_calendar_free(cal);
			break;
		}
		ck_assert_msg(rc == SPGW_E_NOMEM, "allocation %ld: code %d", n, rc);
		ck_assert_ptr_null(cal);
	}
	ck_assert_int_lt(n, 100000);
}
END_TEST

static Suite *calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("cn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notices_days);
	tcase_add_test(tc, statutory_arithmetic);
	tcase_add_test(tc, counting_rule);
	tcase_add_test(tc, outside_the_years_is_an_error);
	tcase_add_test(tc, day_numbers);
	suite_add_tcase(s, tc);
	tc = tcase_create("broken");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, broken_file, 0, (int)(sizeof(broken) / sizeof(broken[0])));
	tcase_add_test(tc, every_problem_at_once);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, out_of_memory_anywhere);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calendar_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
