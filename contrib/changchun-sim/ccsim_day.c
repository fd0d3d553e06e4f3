/*
 * Times and days. update_time is always "YYYY-MM-DD HH:MM:SS" (the API's cursor depends on
 * it); the business dates inside records are written the many ways Changchun's system writes
 * them, and /stats/daily must read them the way the gateway's mapping does, or a count would
 * differ for no reason but parsing.
 */
#include <stdio.h>
#include <string.h>

#include "ccsim.h"

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int32_t ccsim_days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	int era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int date_ok(int y, int m, int d)
{
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* `n` digits at s as a number, or -1. */
static long digits(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t ccsim_time_parse(const char *s, size_t n)
{
	long y, mo, d, h, mi, se;

	if (n != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0 || !date_ok((int)y, (int)mo,
									     (int)d) ||
	    h > 23 || mi > 59 || se > 59)
		return -1;
	return (int64_t)ccsim_days_from_civil((int)y, (int)mo, (int)d) * 86400 + h * 3600 +
	       mi * 60 + se;
}

/* n digits of v at out, zero-padded. */
static void put_digits(char *out, long v, int n)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void ccsim_time_format(int64_t t, char out[20])
{
	int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	long sec = (long)(t - day * 86400);

	ccsim_day_format((int32_t)day, out);
	out[10] = ' ';
	put_digits(out + 11, sec / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, sec / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, sec % 60, 2);
	out[19] = '\0';
}

int32_t ccsim_day_parse(const char *s, size_t n)
{
	long y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !date_ok((int)y, (int)m, (int)d))
		return -1;
	return ccsim_days_from_civil((int)y, (int)m, (int)d);
}

void ccsim_day_format(int32_t day, char out[11])
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = '\0';
}

/* Skip one of the separators Changchun writes between year, month and day. */
static size_t separator(const char *s, size_t n, size_t i)
{
	static const char *const seps[] = { "-", "/", ".", "年", "月", NULL };
	size_t k, l;

	for (k = 0; seps[k]; k++) {
		l = strlen(seps[k]);
		if (i + l <= n && memcmp(s + i, seps[k], l) == 0)
			return l;
	}
	return 0;
}

/* 1 or 2 digits at s[*i]; -1 when none. */
static long small_number(const char *s, size_t n, size_t *i)
{
	long v = 0;
	size_t k = 0;

	while (*i + k < n && k < 2 && s[*i + k] >= '0' && s[*i + k] <= '9')
		v = v * 10 + (s[*i + k++] - '0');
	*i += k;
	return k ? v : -1;
}

int32_t ccsim_day_of_text(const char *s, size_t n)
{
	size_t i = 0, k, nd;
	long y, m, d;
	int64_t secs;

	while (n && s[n - 1] == ' ')
		n--;
	while (n && *s == ' ')
		s++, n--;
	for (nd = 0; nd < n && s[nd] >= '0' && s[nd] <= '9'; nd++)
		;
	if (nd == n && (n == 13 || n == 10 || n == 9)) {
		/* Unix time, a UTC instant: the day in Beijing (UTC+8, no daylight saving) */
		secs = digits(s, n > 10 ? 10 : n);
		if (n == 13)
			secs = (int64_t)digits(s, 13) / 1000;
		return (int32_t)((secs + 8 * 3600) / 86400);
	}
	if (nd == n && (n == 8 || n == 12 || n == 14)) {
		y = digits(s, 4), m = digits(s + 4, 2), d = digits(s + 6, 2);
		return date_ok((int)y, (int)m, (int)d) ? ccsim_days_from_civil((int)y, (int)m,
									      (int)d)
						       : -1;
	}
	if (nd != 4)
		return -1;
	y = digits(s, 4);
	i = 4;
	k = separator(s, n, i);
	if (!k)
		return -1;
	i += k;
	m = small_number(s, n, &i);
	k = separator(s, n, i);
	if (m < 0 || !k)
		return -1;
	i += k;
	d = small_number(s, n, &i);
	if (d < 0)
		return -1;
	if (i + 3 <= n && (memcmp(s + i, "日", 3) == 0 || memcmp(s + i, "号", 3) == 0))
		i += 3;
	/* a time may follow; anything else glued to the day makes it no date */
	if (i < n && s[i] != ' ' && s[i] != 'T')
		return -1;
	return date_ok((int)y, (int)m, (int)d) ? ccsim_days_from_civil((int)y, (int)m, (int)d)
					       : -1;
}
