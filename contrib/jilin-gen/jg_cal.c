/*
 * Working days and the ways dates and times are written.
 *
 * Working days are Monday to Friday: the holiday calendar (法定节假日 and the weekend days
 * worked in exchange, 调休) is a later issue, and until then the generator and the checker
 * both count this way. Day 0 is 1970-01-01, a Thursday; working day 0 is Monday 1970-01-05.
 */
#include <stdio.h>
#include <string.h>

#include "jg.h"

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
int64_t jg_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void jg_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Monday 1970-01-05 is day 4. */
int64_t jg_wd_to_day(int64_t wd)
{
	int64_t w = wd >= 0 ? wd / 5 : (wd - 4) / 5;

	return 4 + 7 * w + (wd - 5 * w);
}

int jg_is_workday(int64_t day)
{
	int64_t k = ((day - 4) % 7 + 7) % 7;

	return k < 5;
}

int64_t jg_day_to_wd(int64_t day)
{
	int64_t x = day - 4, w = x >= 0 ? x / 7 : (x - 6) / 7, k = x - 7 * w;

	if (k > 4) /* Saturday or Sunday: the Monday after */
		return 5 * (w + 1);
	return 5 * w + k;
}

int64_t jg_parse_date(const char *s)
{
	int y, m, d, n = 0;
	int64_t day;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	day = jg_days_from_civil(y, m, d);
	{
		int y2, m2, d2;

		jg_civil_from_days(day, &y2, &m2, &d2);
		if (y2 != y || m2 != m || d2 != d)
			return -1;
	}
	return day;
}

void jg_fmt_day(char *out, size_t n, int64_t day)
{
	int y, m, d;

	jg_civil_from_days(day, &y, &m, &d);
	snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

void jg_fmt_time(char *out, size_t n, int64_t t, enum jg_tfmt f)
{
	int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int s = (int)(t - day * 86400), y, m, d;

	jg_civil_from_days(day, &y, &m, &d);
	switch (f) {
	case JG_T_SLASH:
		snprintf(out, n, "%d/%d/%d %d:%02d", y, m, d, s / 3600, s / 60 % 60);
		break;
	case JG_T_COMPACT:
		snprintf(out, n, "%04d%02d%02d%02d%02d%02d", y, m, d, s / 3600, s / 60 % 60,
			 s % 60);
		break;
	case JG_T_MS:
		/* milliseconds: a stable function of the time, so re-runs stay identical */
		/* the nightly 02:00:00 job writes whole seconds; other times carry milliseconds,
		 * a stable function of the time so that re-runs stay identical */
		snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d.%03d", y, m, d, s / 3600,
			 s / 60 % 60, s % 60,
			 s == 7200 ? 0 : (int)((uint64_t)t * 2654435761u % 1000));
		break;
	default:
		snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, s / 3600, s / 60 % 60,
			 s % 60);
		break;
	}
}

int jg_work_minute(int m)
{
	/* 180 minutes in the morning from 08:30, then 270 in the afternoon from 13:00 */
	if (m < 0)
		m = 0;
	if (m > 449)
		m = 449;
	return m < 180 ? 510 + m : 780 + (m - 180);
}
