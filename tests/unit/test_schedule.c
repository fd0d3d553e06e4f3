/*
 * Unit tests for gateway/schedule.c: cron syntax and its errors, evaluation in Beijing time
 * checked against a minute-by-minute reference, and the scheduler's limits, removal, overrun,
 * "pull now", jitter and clock jumps. Time is whatever the test says: nothing reads a clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "schedule.h"
#include "spgw_limits.h"

#define BJ (8 * 3600)

/* Unix seconds of a Beijing wall-clock time, by the C library (not by schedule.c). */
static int64_t bj(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm) - BJ;
}

/* A Beijing wall-clock time as text, for failure messages. */
static const char *show(int64_t t, char buf[32])
{
	time_t tt = (time_t)(t + BJ);
	struct tm tm;

	if (t == -1 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, 32, "(none)");
		return buf;
	}
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S %a", &tm);
	return buf;
}

static struct spgw_cron *cron(const char *expr)
{
	struct spgw_cron *c = NULL;
	struct spgw_error err = {0};

	ck_assert_msg(spgw_cron_parse(expr, &c, &err) == SPGW_OK, "\"%s\" refused: %s", expr,
		      err.text);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* The next run of `expr` after `after`. */
static int64_t nx(const char *expr, int64_t after)
{
	struct spgw_cron *c = cron(expr);
	int64_t t = spgw_cron_next(c, after);

	spgw_cron_free(c);
	return t;
}

#define ck_time_eq(got, want)                                                             \
	do {                                                                              \
		int64_t g_ = (got), w_ = (want);                                          \
		char gb_[32], wb_[32];                                                    \
		ck_assert_msg(g_ == w_, "got %s, want %s", show(g_, gb_), show(w_, wb_)); \
	} while (0)

/* ---- evaluation against a reference ---- */

/* Beijing wall-clock fields of t. */
static struct tm at(int64_t t)
{
	time_t tt = (time_t)(t + BJ);
	struct tm tm;

	gmtime_r(&tt, &tm);
	return tm;
}

static int p_biz(const struct tm *t)
{
	return t->tm_min % 15 == 0 && t->tm_hour >= 9 && t->tm_hour <= 17 && t->tm_wday >= 1 &&
	       t->tm_wday <= 5;
}

static int p_feb29_or_monday(const struct tm *t)
{
	return t->tm_min == 0 && t->tm_hour == 0 && t->tm_mon == 1 &&
	       (t->tm_mday == 29 || t->tm_wday == 1);
}

static int p_13th_or_friday(const struct tm *t)
{
	return t->tm_min == 30 && t->tm_hour == 4 && (t->tm_mday == 13 || t->tm_wday == 5);
}

static int p_odd_day_and_friday(const struct tm *t)
{
	return t->tm_min == 0 && t->tm_hour == 0 && t->tm_mday % 2 == 1 && t->tm_wday == 5;
}

static int p_13th_and_weekend(const struct tm *t)
{
	/* a weekday field starting with '*' ANDs; a step of 6 leaves Sunday and Saturday */
	return t->tm_min == 0 && t->tm_hour == 12 && t->tm_mday == 13 &&
	       (t->tm_wday == 0 || t->tm_wday == 6);
}

static int p_lists(const struct tm *t)
{
	return (t->tm_min == 5 || t->tm_min == 25 || t->tm_min == 45 || t->tm_min == 50) &&
	       (t->tm_hour == 1 || t->tm_hour == 3 || t->tm_hour == 5 || t->tm_hour == 22) &&
	       (t->tm_mon == 0 || t->tm_mon == 5 || t->tm_mon == 11) &&
	       (t->tm_wday == 0 || t->tm_wday == 6);
}

static int p_month_end(const struct tm *t)
{
	return t->tm_min == 59 && t->tm_hour == 23 && t->tm_mday == 31;
}

static int p_quarterly_weekend(const struct tm *t)
{
	/* days 1, 4, 7 and 10 of January, April, July and October */
	return t->tm_min == 0 && t->tm_hour == 6 && t->tm_mday <= 10 && t->tm_mday % 3 == 1 &&
	       t->tm_mon % 3 == 0;
}

static const struct {
	const char *expr;
	int (*pred)(const struct tm *);
	int days; /* how long to compare */
} refs[] = {
	{"*/15 9-17 * * MON-FRI", p_biz, 40},
	{"0 0 29 2 1", p_feb29_or_monday, 1500},
	{"30 4 13 * fri", p_13th_or_friday, 400},
	{"0 0 */2 * 5", p_odd_day_and_friday, 400},
	{"0 12 13 * */6", p_13th_and_weekend, 2000},
	{"5/20,50 1-5/2,22 * jan,Jun,DEC sat,7", p_lists, 800},
	{"59 23 31 * *", p_month_end, 800},
	{"0 6 1-10/3 */3 *", p_quarterly_weekend, 800},
};

/* Every minute the reference accepts is a run, and next() goes from one to the next. */
START_TEST(next_matches_reference)
{
	struct spgw_cron *c = cron(refs[_i].expr);
	int64_t start = bj(2027, 6, 1, 0, 0) + 17, end = start + (int64_t)refs[_i].days * 86400;
	int64_t want, got = spgw_cron_next(c, start);
	struct tm tm;
	char gb[32], wb[32];
	long runs = 0;

	for (want = (start / 60 + 1) * 60; want < end; want += 60) {
		tm = at(want);
		if (!refs[_i].pred(&tm))
			continue;
		ck_assert_msg(got == want, "%s: got %s, want %s", refs[_i].expr, show(got, gb),
			      show(want, wb));
		got = spgw_cron_next(c, got);
		runs++;
	}
	ck_assert_msg(got >= end, "%s: extra run %s", refs[_i].expr, show(got, gb));
	ck_assert_msg(runs >= 3, "%s: only %ld runs compared", refs[_i].expr, runs);
	spgw_cron_free(c);
}
END_TEST

/* Forms that must mean the same thing. */
static const char *const same[][4] = {
	{"0 0 * * 7", "0 0 * * 0", "0 0 * * sun", "@weekly"},
	{"0 9 * jan-mar mon-fri", "0 9 * 1-3 1-5", "0 9 * JAN,FEB,Mar 1,2-4,FRI", NULL},
	{"5/20 * * * *", "5,25,45 * * * *", "5-59/20 * * * *", NULL},
	{"10-50/20 * * * *", "10,30,50 * * * *", "10-59/20 * * * *", NULL},
	{"*/20 * * * *", "0,20,40 * * * *", "0/20 * * * *", "0-59/20 * * * *"},
	{"0 0 * * *", "@daily", "@midnight", "  @DAILY  "},
	{"0 0 1 1 *", "@yearly", "@annually", "0 0 1 JAN *"},
	{"0 0 1 * *", "@monthly", NULL, NULL},
	{"0 * * * *", "@hourly", "0 */1 * * *", "0 0-23 * * *"},
	{"0 0 * * 0-2", "0 0 * * 7-2", "0 0 * * SUN-TUE", NULL},
	{"0 0 * * 5-7", "0 0 * * 5,6,0", "0 0 * * FRI-SUN", NULL},
	{"0 0 * * 1,3,5", "0 0 * * 1-5/2", "0 0 * * mon-fri/2", NULL},
	{"0 0 * * *", "0 0 * * */1", "0 0 * * 0-7", NULL},
	{"1 2 3 4 *", "\t1\t2  3 4 *  ", "01 002 3 04 *", NULL},
};

START_TEST(equivalent_forms)
{
	struct spgw_cron *a = cron(same[_i][0]), *b;
	int64_t ta, tb, t0 = bj(2026, 1, 1, 0, 0);
	int k, n;

	for (k = 1; k < 4 && same[_i][k]; k++) {
		b = cron(same[_i][k]);
		ta = tb = t0;
		for (n = 0; n < 300; n++) {
			ta = spgw_cron_next(a, ta);
			tb = spgw_cron_next(b, tb);
			ck_assert_msg(ta == tb && ta > 0, "\"%s\" and \"%s\" differ at run %d",
				      same[_i][0], same[_i][k], n);
		}
		ck_assert_str_eq(spgw_cron_text(b), same[_i][k]);
		spgw_cron_free(b);
	}
	spgw_cron_free(a);
}
END_TEST

START_TEST(beijing_time)
{
	/* 02:00 in Beijing is 18:00 UTC the day before */
	int64_t t = nx("0 2 * * *", bj(2026, 3, 1, 8, 0)); /* 00:00 UTC 1 March */

	ck_assert_int_eq(t % 86400, 18 * 3600);
	ck_time_eq(t, bj(2026, 3, 2, 2, 0));
	ck_assert_int_eq(t, 1772388000); /* 2026-03-01T18:00:00Z, worked out by hand */
	/* the year and weekday turn at Beijing midnight, 16:00 UTC */
	ck_assert_int_eq(nx("0 0 1 1 *", 1767225600 - 1), 1798761600 - BJ); /* 2027-01-01 BJ */
	ck_time_eq(nx("0 0 1 1 *", 1767225600 - BJ - 1), 1767225600 - BJ);
	/* Monday 01:00 in Beijing: Sunday 17:00 UTC */
	t = nx("0 1 * * MON", bj(2026, 3, 4, 0, 0));
	ck_assert_int_eq(((t / 86400) + 4) % 7, 0); /* a Sunday in UTC */
	ck_assert_int_eq(t % 86400, 17 * 3600);
	/* before 1970, too */
	ck_time_eq(nx("0 0 1 1 *", -1), bj(1971, 1, 1, 0, 0));
	ck_time_eq(nx("30 7 * * *", -86400 * 365), bj(1969, 1, 2, 7, 30));
}
END_TEST

START_TEST(strictly_after)
{
	int64_t t = bj(2026, 5, 6, 10, 5);

	ck_time_eq(nx("*/5 * * * *", t), t + 300);
	ck_time_eq(nx("*/5 * * * *", t - 1), t);
	ck_time_eq(nx("*/5 * * * *", t + 59), t + 300);
	ck_time_eq(nx("* * * * *", t + 30), t + 60);
	/* an hour, a day, a month and a year roll over */
	ck_time_eq(nx("0 * * * *", bj(2026, 12, 31, 23, 0)), bj(2027, 1, 1, 0, 0));
	ck_time_eq(nx("59 23 * * *", bj(2026, 12, 31, 23, 59)), bj(2027, 1, 1, 23, 59));
	ck_time_eq(nx("0 0 1 * *", bj(2026, 1, 31, 12, 0)), bj(2026, 2, 1, 0, 0));
	ck_time_eq(nx("0 0 * 3 *", bj(2026, 3, 31, 0, 0)), bj(2027, 3, 1, 0, 0));
}
END_TEST

START_TEST(month_ends_and_leap_years)
{
	ck_time_eq(nx("0 0 31 * *", bj(2026, 4, 1, 0, 0)), bj(2026, 5, 31, 0, 0));
	ck_time_eq(nx("0 0 31 * *", bj(2026, 5, 31, 0, 0)), bj(2026, 7, 31, 0, 0));
	ck_time_eq(nx("0 0 30 * *", bj(2026, 1, 30, 0, 0)), bj(2026, 3, 30, 0, 0));
	ck_time_eq(nx("0 0 29 2 *", bj(2025, 3, 1, 0, 0)), bj(2028, 2, 29, 0, 0));
	ck_time_eq(nx("0 0 29 2 *", bj(2028, 2, 29, 0, 0)), bj(2032, 2, 29, 0, 0));
	ck_time_eq(nx("0 0 29 2 *", bj(2000, 1, 1, 0, 0)), bj(2000, 2, 29, 0, 0));
	/* 2100 is not a leap year: eight years without a 29 February */
	ck_time_eq(nx("0 0 29 2 *", bj(2096, 3, 1, 0, 0)), bj(2104, 2, 29, 0, 0));
	ck_time_eq(nx("0 0 28-31 2 *", bj(2100, 2, 28, 0, 0)), bj(2101, 2, 28, 0, 0));
	ck_time_eq(nx("0 0 */2 2 *", bj(2027, 2, 27, 0, 0)), bj(2028, 2, 1, 0, 0));
	ck_time_eq(nx("0 0 */2 2 *", bj(2028, 2, 27, 0, 0)), bj(2028, 2, 29, 0, 0));
	/* 29 February on a weekend (a weekday field starting with '*' ANDs): 2032 is a
	 * Sunday, then 2036 Friday, 2040 Wednesday, 2044 Monday, 2048 Saturday */
	ck_time_eq(nx("0 0 29 2 */6", bj(2026, 1, 1, 0, 0)), bj(2032, 2, 29, 0, 0));
	ck_time_eq(nx("0 0 29 2 */6", bj(2032, 3, 1, 0, 0)), bj(2048, 2, 29, 0, 0));
}
END_TEST

START_TEST(day_of_month_or_day_of_week)
{
	/* 1 January 2026 is a Thursday */
	int64_t t = bj(2026, 1, 1, 0, 0);

	/* both restricted: either fires; Fri 2, Fri 9, Tue 13, Fri 16 */
	ck_time_eq(t = nx("0 0 13 * 5", t), bj(2026, 1, 2, 0, 0));
	ck_time_eq(t = nx("0 0 13 * 5", t), bj(2026, 1, 9, 0, 0));
	ck_time_eq(t = nx("0 0 13 * 5", t), bj(2026, 1, 13, 0, 0));
	ck_time_eq(t = nx("0 0 13 * 5", t), bj(2026, 1, 16, 0, 0));
	/* one starts with '*': both must match. Odd Fridays: the 9th; then the 23rd */
	ck_time_eq(t = nx("0 0 */2 * 5", bj(2026, 1, 1, 0, 0)), bj(2026, 1, 9, 0, 0));
	ck_time_eq(nx("0 0 */2 * 5", t), bj(2026, 1, 23, 0, 0));
	/* '*' in one: the other alone decides */
	ck_time_eq(nx("0 0 * * 5", bj(2026, 1, 1, 0, 0)), bj(2026, 1, 2, 0, 0));
	ck_time_eq(nx("0 0 13 * *", bj(2026, 1, 1, 0, 0)), bj(2026, 1, 13, 0, 0));
	/* 30 February never is, yet with a weekday named the weekday fires alone */
	ck_time_eq(nx("0 0 30 2 MON", bj(2026, 1, 1, 0, 0)), bj(2026, 2, 2, 0, 0));
}
END_TEST

START_TEST(shorthands)
{
	int64_t t = bj(2026, 6, 15, 10, 30); /* a Monday */

	ck_time_eq(nx("@hourly", t), bj(2026, 6, 15, 11, 0));
	ck_time_eq(nx("@daily", t), bj(2026, 6, 16, 0, 0));
	ck_time_eq(nx("@midnight", t), bj(2026, 6, 16, 0, 0));
	ck_time_eq(nx("@weekly", t), bj(2026, 6, 21, 0, 0));
	ck_time_eq(nx("@monthly", t), bj(2026, 7, 1, 0, 0));
	ck_time_eq(nx("@yearly", t), bj(2027, 1, 1, 0, 0));
	ck_time_eq(nx("@Annually", t), bj(2027, 1, 1, 0, 0));
}
END_TEST

START_TEST(text_as_given)
{
	struct spgw_cron *c = cron(" */5  *\t* * * ");

	ck_assert_str_eq(spgw_cron_text(c), " */5  *\t* * * ");
	spgw_cron_free(c);
	c = cron("@weekly");
	ck_assert_str_eq(spgw_cron_text(c), "@weekly");
	spgw_cron_free(c);
	spgw_cron_free(NULL);
}
END_TEST

START_TEST(absurd_times)
{
	struct spgw_cron *c = cron("* * * * *");

	ck_assert_int_eq(spgw_cron_next(c, INT64_MAX), -1);
	ck_assert_int_eq(spgw_cron_next(c, INT64_MIN), -1);
	ck_time_eq(spgw_cron_next(c, bj(9999, 12, 31, 23, 59)), bj(10000, 1, 1, 0, 0));
	spgw_cron_free(c);
}
END_TEST

/* ---- errors ---- */

static const struct {
	const char *expr;
	const char *where; /* "field N (name), column C" or "column C" */
	const char *what;  /* a phrase of the message */
} errors[] = {
	{"*/0 * * * *", "field 1 (minute), column 3", "step 0 is not allowed (use */1 or *)"},
	{"1-5/0 * * * *", "field 1 (minute), column 5", "step 0 is not allowed"},
	{"60 * * * *", "field 1 (minute), column 1", "60 is out of range for minute (0-59)"},
	{"0 24 * * *", "field 2 (hour), column 3", "24 is out of range for hour (0-23)"},
	{"0 0 0 * *", "field 3 (day-of-month), column 5", "0 is out of range"},
	{"0 0 32 * *", "field 3 (day-of-month), column 5", "32 is out of range"},
	{"0 0 * 13 *", "field 4 (month), column 7", "13 is out of range for month (1-12)"},
	{"0 0 * 0 *", "field 4 (month), column 7", "0 is out of range"},
	{"0 0 * * 8", "field 5 (day-of-week), column 9", "0 and 7 are Sunday"},
	{"0 0 1-99999 * *", "field 3 (day-of-month), column 7", "99999 is out of range"},
	{"0 0 * * * *", "column 11", "more than 5 fields"},
	{"0 0 * *", "column 8", "found 4 fields, expected 5"},
	{"", "column 1", "found 0 fields"},
	{"   ", "column 4", "found 0 fields"},
	{"1,,2 * * * *", "field 1 (minute), column 3", "empty item"},
	{"1, * * * *", "field 1 (minute), column 3", "a comma at the end"},
	{",1 * * * *", "field 1 (minute), column 1", "empty item"},
	{"0 0 * * 1,", "field 5 (day-of-week), column 11", "a comma at the end"},
	{"5x * * * *", "field 1 (minute), column 2", "unexpected \"x\" after \"5\""},
	{"0 0 1 1 *x", "field 5 (day-of-week), column 10", "unexpected \"x\""},
	{"5-2 * * * *", "field 1 (minute), column 1", "runs backwards"},
	{"0 22-2 * * *", "field 2 (hour), column 3", "22-23,0-2"},
	{"0 0 * * FRI-MON", "field 5 (day-of-week), column 9", "5-6,0-1"},
	{"5- * * * *", "field 1 (minute), column 3", "the end of the range is missing"},
	{"*/ * * * *", "field 1 (minute), column 3", "step after \"/\" is missing"},
	{"*/x * * * *", "field 1 (minute), column 3", "must be a number, not \"x\""},
	{"0 0 * * */MON", "field 5 (day-of-week), column 11", "must be a number"},
	{"*/60 * * * *", "field 1 (minute), column 3", "step 60 is too large for minute"},
	{"0 0 * * */7", "field 5 (day-of-week), column 11", "at most 6"},
	{"0 */99999999 * * *", "field 2 (hour), column 5", "step 99999999 is too large"},
	{"0 0 * JUX *", "field 4 (month), column 7", "unknown month name \"JUX\""},
	{"0 0 * * FUN", "field 5 (day-of-week), column 9", "unknown day-of-week name"},
	{"0 0 * * MONDAY", "field 5 (day-of-week), column 9", "\"MONDAY\""},
	{"MON * * * *", "field 1 (minute), column 1", "\"MON\" is not a number"},
	{"0 0 30 2 *", "field 3 (day-of-month), column 5", "never fire"},
	{"0 0 31 4,6,9,11 *", "field 3 (day-of-month), column 5", "never fire"},
	{"0 0 30,31 feb *", "field 3 (day-of-month), column 5", "never fire"},
	{"0 0 30 2 */2", "field 3 (day-of-month), column 5", "never fire"},
	{"@reboot", "column 1", "unknown shorthand \"@reboot\""},
	{"  @daily 5", "column 10", "unexpected text after @daily"},
	{"0 0 ? * MON", "field 3 (day-of-month), column 5", "Quartz"},
	{"0 0 L * *", "field 3 (day-of-month), column 5", "Quartz"},
	{"0 0 1W * *", "field 3 (day-of-month), column 6", "Quartz"},
	{"0 0 * * 5#3", "field 5 (day-of-week), column 10", "Quartz"},
	{"*-5 * * * *", "field 1 (minute), column 2", "\"*\" is already the whole range"},
	{"1-2-3 * * * *", "field 1 (minute), column 4", "a range has one \"-\""},
	{"1-5/2/3 * * * *", "field 1 (minute), column 6", "unexpected \"/\""},
	{"0\x01 * * * *", "field 1 (minute), column 2", "unexpected 0x01"},
	{"0 0 * * -1", "field 5 (day-of-week), column 9", "\"-\" where a value should be"},
};

START_TEST(parse_errors)
{
	struct spgw_cron *c = NULL;
	struct spgw_error err = {0};
	char head[SPGW_CRON_MAX_TEXT + 16];

	ck_assert_int_eq(spgw_cron_parse(errors[_i].expr, &c, &err), SPGW_E_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(err.code, SPGW_E_CONFIG);
	ck_assert_msg(strstr(err.text, errors[_i].where), "\"%s\": want \"%s\" in: %s",
		      errors[_i].expr, errors[_i].where, err.text);
	ck_assert_msg(strstr(err.text, errors[_i].what), "\"%s\": want \"%s\" in: %s",
		      errors[_i].expr, errors[_i].what, err.text);
	/* every message starts by quoting the expression (control characters as '?') */
	snprintf(head, sizeof(head), "cron \"%s\": ", errors[_i].expr);
	if (!strchr(errors[_i].expr, '\x01'))
		ck_assert_msg(strncmp(err.text, head, strlen(head)) == 0, "%s", err.text);
	ck_assert_ptr_null(strchr(err.text, '\x01'));
	/* a NULL err is allowed */
	ck_assert_int_eq(spgw_cron_parse(errors[_i].expr, &c, NULL), SPGW_E_CONFIG);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(exact_message)
{
	struct spgw_cron *c = NULL;
	struct spgw_error err = {0};

	spgw_cron_parse("*/0 * * * *", &c, &err);
	ck_assert_str_eq(err.text, "cron \"*/0 * * * *\": field 1 (minute), column 3: step 0 is "
				   "not allowed (use */1 or *)");
}
END_TEST

START_TEST(too_long)
{
	char expr[SPGW_CRON_MAX_TEXT + 20];
	struct spgw_cron *c = NULL;
	struct spgw_error err = {0};

	memset(expr, ' ', sizeof(expr) - 1);
	memcpy(expr, "* * * * *", 9);
	expr[sizeof(expr) - 1] = '\0';
	ck_assert_int_eq(spgw_cron_parse(expr, &c, &err), SPGW_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.text, "longer than 256 characters"));
	ck_assert_ptr_null(c);
	expr[SPGW_CRON_MAX_TEXT] = '\0'; /* at the limit it is fine */
	c = cron(expr);
	spgw_cron_free(c);
}
END_TEST

/* Every allocation in parsing can fail: reported, nothing leaked, and *out untouched. */
START_TEST(parse_out_of_memory)
{
	struct spgw_cron *c;
	struct spgw_error err;
	enum spgw_rc rc;
	long n;

	for (n = 0;; n++) {
		c = NULL;
		memset(&err, 0, sizeof(err));
		spgw_mem_fail_after(n);
		rc = spgw_cron_parse("@daily", &c, &err);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK)
			break;
		ck_assert_int_eq(rc, SPGW_E_NOMEM);
		ck_assert_ptr_null(c);
		ck_assert_ptr_nonnull(strstr(err.text, "out of memory"));
	}
	ck_assert_int_ge(n, 2);
	spgw_cron_free(c);
}
END_TEST

/* ---- the scheduler ---- */

static void add(struct spgw_sched *s, const char *name, const char *ep, const char *expr,
		unsigned jitter, int64_t now)
{
	struct spgw_cron *c = cron(expr);
	struct spgw_error err = {0};

	ck_assert_msg(spgw_sched_add(s, name, ep, c, jitter, now, &err) == SPGW_OK, "%s: %s", name,
		      err.text);
	spgw_cron_free(c); /* the scheduler keeps its own copy */
}

/* The name of the job take() starts, or "" when none. */
static const char *take(struct spgw_sched *s, int64_t now)
{
	const char *name = NULL;

	if (!spgw_sched_take(s, now, &name)) {
		ck_assert_ptr_null(name);
		return "";
	}
	ck_assert_ptr_nonnull(name);
	return name;
}

START_TEST(fires_when_due_and_never_twice)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1);

	add(s, "jilin", NULL, "*/5 * * * *", 0, t);
	ck_time_eq(spgw_sched_next(s, "jilin"), bj(2026, 3, 2, 10, 5));
	ck_assert_int_eq(spgw_sched_running(s, "jilin"), 0);
	ck_assert_int_eq(spgw_sched_running(s, "nobody"), -1);
	ck_assert_int_eq(spgw_sched_next(s, "nobody"), -1);
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 4) + 59), "");
	ck_time_eq(spgw_sched_wake(s, bj(2026, 3, 2, 10, 4)), bj(2026, 3, 2, 10, 5));
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 5)), "jilin");
	ck_assert_int_eq(spgw_sched_running(s, "jilin"), 1);
	ck_assert_int_eq(spgw_sched_next(s, "jilin"), -1);
	/* running: not again, not even long after its next cron times */
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 5)), "");
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 20)), "");
	ck_assert_int_eq(spgw_sched_wake(s, bj(2026, 3, 2, 10, 20)), -1);
	ck_assert_int_eq(spgw_sched_done(s, "jilin", bj(2026, 3, 2, 10, 5) + 30), SPGW_OK);
	ck_assert_int_eq(spgw_sched_running(s, "jilin"), 0);
	ck_time_eq(spgw_sched_next(s, "jilin"), bj(2026, 3, 2, 10, 10));
	ck_assert_int_eq(spgw_sched_done(s, "jilin", bj(2026, 3, 2, 10, 6)), SPGW_E_NOTFOUND);
	ck_assert_int_eq(spgw_sched_done(s, "nobody", bj(2026, 3, 2, 10, 6)), SPGW_E_NOTFOUND);
	spgw_sched_free(s);
	spgw_sched_free(NULL);
}
END_TEST

START_TEST(duplicate_names_refused)
{
	struct spgw_sched *s = spgw_sched_new(0);
	struct spgw_cron *c = cron("@hourly");
	struct spgw_error err = {0};
	int64_t t = bj(2026, 3, 2, 10, 1);

	add(s, "changchun", NULL, "*/5 * * * *", 0, t);
	ck_assert_int_eq(spgw_sched_add(s, "changchun", "x", c, 0, t, &err), SPGW_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.text, "\"changchun\" is scheduled twice"));
	/* the first one is untouched */
	ck_time_eq(spgw_sched_next(s, "changchun"), bj(2026, 3, 2, 10, 5));
	spgw_cron_free(c);
	spgw_sched_free(s);
}
END_TEST

START_TEST(global_limit)
{
	struct spgw_sched *s = spgw_sched_new(2);
	int64_t t = bj(2026, 3, 2, 10, 1), due = bj(2026, 3, 2, 10, 5);

	add(s, "c", NULL, "*/5 * * * *", 0, t);
	add(s, "a", NULL, "*/5 * * * *", 0, t);
	add(s, "b", NULL, "*/5 * * * *", 0, t);
	ck_assert_str_eq(take(s, due), "a");
	ck_assert_str_eq(take(s, due), "b");
	ck_assert_str_eq(take(s, due), "");
	/* c is held back: nothing to wake for until a job finishes */
	ck_assert_int_eq(spgw_sched_wake(s, due), -1);
	ck_assert_int_eq(spgw_sched_done(s, "a", due + 10), SPGW_OK);
	ck_time_eq(spgw_sched_wake(s, due + 10), due);
	ck_assert_str_eq(take(s, due + 10), "c");
	ck_assert_str_eq(take(s, due + 10), "");
	spgw_sched_free(s);
}
END_TEST

START_TEST(endpoint_limit)
{
	static const char *const prov[] = {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"};
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), due = bj(2026, 3, 2, 10, 5);
	const char *got[3];
	int i, started = 0;

	ck_assert_int_eq(spgw_sched_limit(s, "provincial-db", 2), SPGW_OK);
	for (i = 0; i < 8; i++)
		add(s, prov[i], "provincial-db", "*/5 * * * *", 0, t);
	add(s, "changchun", "changchun-api", "*/5 * * * *", 0, t);
	add(s, "files", NULL, "*/5 * * * *", 0, t);
	for (i = 0; i < 3; i++)
		got[i] = take(s, due);
	/* name order: changchun, files, p1, (p2 would be next but only the limit's 2 go) */
	ck_assert_str_eq(got[0], "changchun");
	ck_assert_str_eq(got[1], "files");
	ck_assert_str_eq(got[2], "p1");
	ck_assert_str_eq(take(s, due), "p2");
	ck_assert_str_eq(take(s, due), "");
	ck_assert_int_eq(spgw_sched_wake(s, due), -1);
	/* each finished provincial pull lets exactly one more start */
	ck_assert_int_eq(spgw_sched_done(s, "p1", due + 60), SPGW_OK);
	ck_assert_str_eq(take(s, due + 60), "p3");
	ck_assert_str_eq(take(s, due + 60), "");
	/* raising the limit lets more start; lowering it stops nothing that runs */
	ck_assert_int_eq(spgw_sched_limit(s, "provincial-db", 4), SPGW_OK);
	ck_assert_str_eq(take(s, due + 60), "p4");
	ck_assert_str_eq(take(s, due + 60), "p5");
	ck_assert_str_eq(take(s, due + 60), "");
	ck_assert_int_eq(spgw_sched_limit(s, "provincial-db", 1), SPGW_OK);
	for (i = 0; i < 8; i++)
		started += spgw_sched_running(s, prov[i]) == 1;
	ck_assert_int_eq(started, 4);
	ck_assert_int_eq(spgw_sched_done(s, "p2", due + 70), SPGW_OK);
	ck_assert_str_eq(take(s, due + 70), "");
	/* 0 lifts the limit; one set before any job of the endpoint exists works too */
	ck_assert_int_eq(spgw_sched_limit(s, "provincial-db", 0), SPGW_OK);
	ck_assert_str_eq(take(s, due + 70), "p6");
	ck_assert_str_eq(take(s, due + 70), "p7");
	ck_assert_str_eq(take(s, due + 70), "p8");
	ck_assert_str_eq(take(s, due + 70), "");
	spgw_sched_free(s);
}
END_TEST

START_TEST(limit_set_after_add)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), due = bj(2026, 3, 2, 10, 5);

	add(s, "a", "db", "*/5 * * * *", 0, t);
	add(s, "b", "db", "*/5 * * * *", 0, t);
	ck_assert_int_eq(spgw_sched_limit(s, "db", 1), SPGW_OK);
	ck_assert_int_eq(spgw_sched_limit(s, NULL, 1), SPGW_OK); /* no endpoint: nothing to do */
	ck_assert_str_eq(take(s, due), "a");
	ck_assert_str_eq(take(s, due), "");
	spgw_sched_free(s);
}
END_TEST

START_TEST(most_overdue_first_ties_by_name)
{
	struct spgw_sched *s = spgw_sched_new(1);
	int64_t t = bj(2026, 3, 2, 8, 30);

	add(s, "zz-early", NULL, "0 9 * * *", 0, t);
	add(s, "b-late", NULL, "0 10 * * *", 0, t);
	add(s, "a-late", NULL, "0 10 * * *", 0, t);
	t = bj(2026, 3, 2, 10, 30);
	ck_assert_str_eq(take(s, t), "zz-early");
	ck_assert_int_eq(spgw_sched_done(s, "zz-early", t), SPGW_OK);
	ck_assert_str_eq(take(s, t), "a-late");
	ck_assert_int_eq(spgw_sched_done(s, "a-late", t), SPGW_OK);
	ck_assert_str_eq(take(s, t), "b-late");
	spgw_sched_free(s);
}
END_TEST

START_TEST(remove_idle_and_running)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), due = bj(2026, 3, 2, 10, 5);

	add(s, "a", "db", "*/5 * * * *", 0, t);
	add(s, "b", "db", "*/5 * * * *", 0, t);
	ck_assert_int_eq(spgw_sched_limit(s, "db", 1), SPGW_OK);
	ck_assert_int_eq(spgw_sched_remove(s, "b"), SPGW_OK);
	ck_assert_int_eq(spgw_sched_running(s, "b"), -1);
	ck_assert_int_eq(spgw_sched_remove(s, "b"), SPGW_E_NOTFOUND);
	ck_assert_str_eq(take(s, due), "a");
	/* removed while running: it finishes, holds its endpoint slot, never starts again */
	ck_assert_int_eq(spgw_sched_remove(s, "a"), SPGW_OK);
	ck_assert_int_eq(spgw_sched_running(s, "a"), 1);
	ck_assert_int_eq(spgw_sched_next(s, "a"), -1);
	ck_assert_int_eq(spgw_sched_remove(s, "a"), SPGW_E_NOTFOUND);
	ck_assert_int_eq(spgw_sched_run_now(s, "a", due), SPGW_E_NOTFOUND);
	add(s, "c", "db", "*/5 * * * *", 0, t);
	ck_assert_str_eq(take(s, due), "");
	ck_assert_int_eq(spgw_sched_done(s, "a", due + 100), SPGW_OK);
	ck_assert_int_eq(spgw_sched_running(s, "a"), -1);
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 12, 0)), "c");
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 12, 0)), "");
	ck_assert_int_eq(spgw_sched_done(s, "a", due + 100), SPGW_E_NOTFOUND);
	spgw_sched_free(s);
}
END_TEST

/* A reload removes and re-adds a source that is pulling: it is taken back, not doubled. */
START_TEST(readd_while_running)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), due = bj(2026, 3, 2, 10, 5);

	add(s, "a", "old-db", "*/5 * * * *", 0, t);
	ck_assert_int_eq(spgw_sched_limit(s, "old-db", 1), SPGW_OK);
	ck_assert_int_eq(spgw_sched_limit(s, "new-db", 1), SPGW_OK);
	add(s, "x", "old-db", "*/5 * * * *", 0, t);
	add(s, "y", "new-db", "*/5 * * * *", 0, t);
	ck_assert_str_eq(take(s, due), "a");
	ck_assert_int_eq(spgw_sched_remove(s, "a"), SPGW_OK);
	add(s, "a", "new-db", "0 * * * *", 0, due + 5);
	ck_assert_int_eq(spgw_sched_running(s, "a"), 1);
	/* its slot moved from old-db to new-db with it */
	ck_assert_str_eq(take(s, due + 5), "x");
	ck_assert_str_eq(take(s, due + 5), "");
	ck_assert_int_eq(spgw_sched_done(s, "a", due + 60), SPGW_OK);
	ck_time_eq(spgw_sched_next(s, "a"), bj(2026, 3, 2, 11, 0)); /* the new expression */
	ck_assert_str_eq(take(s, due + 60), "y");
	spgw_sched_free(s);
}
END_TEST

/* A pull that overran several cron times runs once more, not once per missed time. */
START_TEST(overrun_runs_once)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1);

	add(s, "slow", NULL, "*/5 * * * *", 0, t);
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 5)), "slow");
	ck_assert_int_eq(spgw_sched_done(s, "slow", bj(2026, 3, 2, 10, 23) + 10), SPGW_OK);
	ck_time_eq(spgw_sched_next(s, "slow"), bj(2026, 3, 2, 10, 25));
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 24)), "");
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 25)), "slow");
	spgw_sched_free(s);
}
END_TEST

START_TEST(run_now)
{
	struct spgw_sched *s = spgw_sched_new(1);
	int64_t t = bj(2026, 3, 2, 10, 1);

	add(s, "hourly", NULL, "@hourly", 0, t);
	add(s, "busy", NULL, "* * * * *", 0, t);
	ck_assert_str_eq(take(s, t + 60), "busy");
	ck_assert_int_eq(spgw_sched_run_now(s, "hourly", t + 61), SPGW_OK);
	ck_time_eq(spgw_sched_next(s, "hourly"), t + 61);
	ck_assert_int_eq(spgw_sched_run_now(s, "busy", t + 61), SPGW_E_BUSY);
	ck_assert_int_eq(spgw_sched_run_now(s, "nobody", t + 61), SPGW_E_NOTFOUND);
	/* the global limit still applies */
	ck_assert_str_eq(take(s, t + 61), "");
	ck_assert_int_eq(spgw_sched_done(s, "busy", t + 62), SPGW_OK);
	ck_assert_str_eq(take(s, t + 62), "hourly");
	ck_assert_int_eq(spgw_sched_done(s, "hourly", t + 70), SPGW_OK);
	ck_time_eq(spgw_sched_next(s, "hourly"), bj(2026, 3, 2, 11, 0));
	spgw_sched_free(s);
}
END_TEST

START_TEST(jitter_bounds_and_determinism)
{
	static const char *const names[] = {"changchun", "jilin",    "siping",
					    "liaoyuan",	 "tonghua",  "baishan",
					    "songyuan",	 "baicheng", "yanbian"};
	struct spgw_sched *s = spgw_sched_new(0), *s2 = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), fire = bj(2026, 3, 2, 10, 5), next, seen[9];
	int i, k, distinct = 0, moved = 0;

	for (i = 0; i < 9; i++) {
		add(s, names[i], NULL, "*/5 * * * *", 60, t);
		add(s2, names[8 - i], NULL, "*/5 * * * *", 60, t + 7); /* other order, other now */
	}
	for (i = 0; i < 9; i++) {
		next = spgw_sched_next(s, names[i]);
		ck_assert_int_ge(next, fire);
		ck_assert_int_le(next, fire + 60);
		ck_assert_int_eq(next, spgw_sched_next(s2, names[i]));
		seen[i] = next;
		for (k = 0; k < i && seen[k] != next; k++)
			;
		distinct += k == i;
	}
	/* nine sources must not all start in the same second */
	ck_assert_int_ge(distinct, 5);
	spgw_sched_free(s);
	spgw_sched_free(s2);
	/* one through 50 cycles: always within bounds, and not always the same offset */
	s = spgw_sched_new(0);
	add(s, "jilin", NULL, "*/5 * * * *", 60, t);
	for (k = 0; k < 50; k++) {
		next = spgw_sched_next(s, "jilin");
		ck_assert_int_ge(next - fire, 0);
		ck_assert_int_le(next - fire, 60);
		moved += next - fire != seen[1] - bj(2026, 3, 2, 10, 5);
		ck_assert_str_eq(take(s, next), "jilin");
		ck_assert_int_eq(spgw_sched_done(s, "jilin", next + 1), SPGW_OK);
		fire += 300;
	}
	ck_assert_int_ge(moved, 10);
	spgw_sched_free(s);
}
END_TEST

START_TEST(jitter_zero_and_too_large)
{
	struct spgw_sched *s = spgw_sched_new(0);
	struct spgw_cron *c = cron("@hourly");
	struct spgw_error err = {0};
	int64_t t = bj(2026, 3, 2, 10, 1);

	add(s, "exact", NULL, "@hourly", 0, t);
	ck_time_eq(spgw_sched_next(s, "exact"), bj(2026, 3, 2, 11, 0));
	ck_assert_int_eq(spgw_sched_add(s, "x", NULL, c, SPGW_SCHED_MAX_JITTER + 1, t, &err),
			 SPGW_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err.text, "more than a day"));
	ck_assert_int_eq(spgw_sched_running(s, "x"), -1);
	add(s, "day", NULL, "@hourly", SPGW_SCHED_MAX_JITTER, t);
	spgw_cron_free(c);
	spgw_sched_free(s);
}
END_TEST

/* The clock set back a day: pulls continue on the new clock, they do not wait a day. */
START_TEST(clock_back)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), back = t - 86400;

	add(s, "a", NULL, "*/5 * * * *", 0, t);
	add(s, "b", NULL, "*/5 * * * *", 0, t);
	/* a little back (within the tolerance) changes nothing */
	ck_assert_str_eq(take(s, t - 120), "");
	ck_time_eq(spgw_sched_next(s, "a"), bj(2026, 3, 2, 10, 5));
	/* a day back: wake() notices, and the next runs follow the new clock */
	ck_time_eq(spgw_sched_wake(s, back), bj(2026, 3, 1, 10, 5));
	ck_time_eq(spgw_sched_next(s, "a"), bj(2026, 3, 1, 10, 5));
	ck_assert_str_eq(take(s, bj(2026, 3, 1, 10, 5)), "a");
	ck_assert_str_eq(take(s, bj(2026, 3, 1, 10, 5)), "b");
	spgw_sched_done(s, "a", bj(2026, 3, 1, 10, 6));
	spgw_sched_done(s, "b", bj(2026, 3, 1, 10, 6));
	ck_time_eq(spgw_sched_next(s, "a"), bj(2026, 3, 1, 10, 10));
	/* take() notices it too, and keeps an operator's "pull now" */
	ck_assert_int_eq(spgw_sched_run_now(s, "b", bj(2026, 3, 1, 10, 7)), SPGW_OK);
	ck_assert_str_eq(take(s, bj(2026, 2, 1, 0, 0)), "b");
	ck_time_eq(spgw_sched_next(s, "a"), bj(2026, 2, 1, 0, 5));
	spgw_sched_free(s);
}
END_TEST

/* The clock jumps three hours ahead: every job fires once, then follows the new clock. */
START_TEST(clock_forward)
{
	static const char *const names[] = {"a", "b", "c"};
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1), jump = bj(2026, 3, 2, 13, 2) + 20;
	const char *got;
	int i, seen[3] = {0};

	for (i = 0; i < 3; i++)
		add(s, names[i], NULL, i == 2 ? "0 * * * *" : "*/5 * * * *", 30, t);
	ck_assert_int_le(spgw_sched_wake(s, jump), jump);
	for (i = 0; i < 3; i++) {
		got = take(s, jump);
		ck_assert_msg(got[0] >= 'a' && got[0] <= 'c' && !got[1], "took \"%s\"", got);
		seen[got[0] - 'a']++;
	}
	ck_assert_str_eq(take(s, jump), "");
	ck_assert_int_eq(seen[0] + seen[1] + seen[2], 3);
	ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(spgw_sched_done(s, names[i], jump + 5), SPGW_OK);
	ck_assert_str_eq(take(s, jump + 5), "");
	ck_assert_int_ge(spgw_sched_next(s, "a"), bj(2026, 3, 2, 13, 5));
	ck_assert_int_le(spgw_sched_next(s, "a"), bj(2026, 3, 2, 13, 5) + 30);
	ck_assert_int_ge(spgw_sched_next(s, "c"), bj(2026, 3, 2, 14, 0));
	ck_assert_int_le(spgw_sched_next(s, "c"), bj(2026, 3, 2, 14, 0) + 30);
	ck_assert_int_eq(spgw_sched_wake(s, jump + 5),
			 spgw_sched_next(s, "a") < spgw_sched_next(s, "b")
				 ? spgw_sched_next(s, "a")
				 : spgw_sched_next(s, "b"));
	spgw_sched_free(s);
}
END_TEST

START_TEST(wake_times)
{
	struct spgw_sched *s = spgw_sched_new(0);
	int64_t t = bj(2026, 3, 2, 10, 1);

	ck_assert_int_eq(spgw_sched_wake(s, t), -1);
	add(s, "hourly", NULL, "@hourly", 0, t);
	add(s, "daily", NULL, "@daily", 0, t);
	ck_time_eq(spgw_sched_wake(s, t), bj(2026, 3, 2, 11, 0));
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 11, 0)), "hourly");
	ck_time_eq(spgw_sched_wake(s, bj(2026, 3, 2, 11, 0)), bj(2026, 3, 3, 0, 0));
	spgw_sched_free(s); /* with a job running: nothing leaks */
}
END_TEST

START_TEST(source_ceiling)
{
	struct spgw_sched *s = spgw_sched_new(0);
	struct spgw_cron *c = cron("@hourly");
	struct spgw_error err = {0};
	char name[32];
	int i;

	for (i = 0; i < SPGW_MAX_SOURCES; i++) {
		snprintf(name, sizeof(name), "s%04d", SPGW_MAX_SOURCES - i);
		ck_assert_int_eq(spgw_sched_add(s, name, NULL, c, 0, 0, NULL), SPGW_OK);
	}
	ck_assert_int_eq(spgw_sched_add(s, "one-more", NULL, c, 0, 0, &err), SPGW_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err.text, "SPGW_MAX_SOURCES"));
	/* kept in name order whatever the order of adding */
	ck_assert_str_eq(take(s, 7200), "s0001");
	spgw_cron_free(c);
	spgw_sched_free(s);
}
END_TEST

/* Every allocation in add and limit can fail: reported, the scheduler unchanged. */
START_TEST(sched_out_of_memory)
{
	struct spgw_sched *s = spgw_sched_new(0);
	struct spgw_cron *c = cron("*/5 * * * *");
	struct spgw_error err;
	int64_t t = bj(2026, 3, 2, 10, 1);
	enum spgw_rc rc;
	long n;

	for (n = 0;; n++) {
		memset(&err, 0, sizeof(err));
		spgw_mem_fail_after(n);
		rc = spgw_sched_add(s, "a", "db", c, 0, t, &err);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK)
			break;
		ck_assert_int_eq(rc, SPGW_E_NOMEM);
		ck_assert_int_eq(spgw_sched_running(s, "a"), -1);
		ck_assert_int_eq(spgw_sched_wake(s, t), -1);
	}
	ck_assert_int_ge(n, 4);
	for (n = 0;; n++) {
		spgw_mem_fail_after(n);
		rc = spgw_sched_limit(s, "other-db", 1);
		spgw_mem_fail_after(-1);
		if (rc == SPGW_OK)
			break;
		ck_assert_int_eq(rc, SPGW_E_NOMEM);
	}
	ck_assert_str_eq(take(s, bj(2026, 3, 2, 10, 5)), "a");
	spgw_mem_fail_after(0);
	ck_assert_ptr_null(spgw_sched_new(0));
	spgw_mem_fail_after(-1);
	spgw_cron_free(c);
	spgw_sched_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("cron");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, next_matches_reference, 0, sizeof(refs) / sizeof(refs[0]));
	tcase_add_loop_test(tc, equivalent_forms, 0, sizeof(same) / sizeof(same[0]));
	tcase_add_test(tc, beijing_time);
	tcase_add_test(tc, strictly_after);
	tcase_add_test(tc, month_ends_and_leap_years);
	tcase_add_test(tc, day_of_month_or_day_of_week);
	tcase_add_test(tc, shorthands);
	tcase_add_test(tc, text_as_given);
	tcase_add_test(tc, absurd_times);
	tcase_add_loop_test(tc, parse_errors, 0, sizeof(errors) / sizeof(errors[0]));
	tcase_add_test(tc, exact_message);
	tcase_add_test(tc, too_long);
	tcase_add_test(tc, parse_out_of_memory);
	suite_add_tcase(s, tc);
	tc = tcase_create("scheduler");
	tcase_add_test(tc, fires_when_due_and_never_twice);
	tcase_add_test(tc, duplicate_names_refused);
	tcase_add_test(tc, global_limit);
	tcase_add_test(tc, endpoint_limit);
	tcase_add_test(tc, limit_set_after_add);
	tcase_add_test(tc, most_overdue_first_ties_by_name);
	tcase_add_test(tc, remove_idle_and_running);
	tcase_add_test(tc, readd_while_running);
	tcase_add_test(tc, overrun_runs_once);
	tcase_add_test(tc, run_now);
	tcase_add_test(tc, jitter_bounds_and_determinism);
	tcase_add_test(tc, jitter_zero_and_too_large);
	tcase_add_test(tc, clock_back);
	tcase_add_test(tc, clock_forward);
	tcase_add_test(tc, wake_times);
	tcase_add_test(tc, source_ceiling);
	tcase_add_test(tc, sched_out_of_memory);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
