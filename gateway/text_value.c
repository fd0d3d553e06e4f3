/* Dates and numbers as city systems write them, normalised (see text.h). */
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- calendar --- */

int spgw_text_days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && leap);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct spgw_text_time *t)
{
	int64_t era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (int)(y + (t->month <= 2));
}

/* Floor division: epoch arithmetic must round toward the past for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Beijing time is UTC+8 all year: China has kept no daylight saving time since 1991. */
#define BEIJING_OFFSET (8 * 3600)

static void from_seconds(int64_t secs, struct spgw_text_time *t)
{
	int64_t days = floor_div(secs, 86400), rem = secs - days * 86400;

	civil_from_days(days, t);
	t->hour = (int)(rem / 3600);
	t->min = (int)(rem / 60 % 60);
	t->sec = (int)(rem % 60);
	t->precision = SPGW_TEXT_TIME;
}

void spgw_text_from_epoch(int64_t secs, struct spgw_text_time *out)
{
	from_seconds(secs + BEIJING_OFFSET, out);
}

/* Write v as n decimal digits (values are in range: the parser checked them). */
static void put_digits(char *p, int v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *spgw_text_format_date(const struct spgw_text_time *t, char out[11])
{
	put_digits(out, t->year, 4);
	out[4] = '-';
	put_digits(out + 5, t->month, 2);
	out[7] = '-';
	put_digits(out + 8, t->day, 2);
	out[10] = '\0';
	return out;
}

char *spgw_text_format_datetime(const struct spgw_text_time *t, char out[20])
{
	spgw_text_format_date(t, out);
	out[10] = ' ';
	put_digits(out + 11, t->hour, 2);
	out[13] = ':';
	put_digits(out + 14, t->min, 2);
	out[16] = ':';
	put_digits(out + 17, t->sec, 2);
	out[19] = '\0';
	return out;
}

/* --- date parsing --- */

struct scan {
	const char *p, *e;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Fixed-width digits at s (for YYYYMMDD forms). */
static int fixed(const char *s, int n)
{
	int v = 0;

	while (n--)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* Read min..max digits into *v. */
static int scan_num(struct scan *sc, int min, int max, int *v)
{
	int n = 0, x = 0;

	while (sc->p < sc->e && n < max && is_digit(*sc->p)) {
		x = x * 10 + (*sc->p++ - '0');
		n++;
	}
	*v = x;
	return n >= min && !(sc->p < sc->e && is_digit(*sc->p));
}

static int scan_lit(struct scan *sc, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(sc->e - sc->p) < n || memcmp(sc->p, lit, n))
		return 0;
	sc->p += n;
	return 1;
}

static int scan_end(const struct scan *sc)
{
	return sc->p == sc->e;
}

/* Why a date was refused, in English and Chinese (reasons carry both). */
enum why {
	WHY_EXCEL_RANGE,
	WHY_EXCEL_60,
	WHY_NOT_DATE,
	WHY_FRACTION,
	WHY_DIGITS,
	WHY_EPOCH_S,
	WHY_EPOCH_MS,
	WHY_NUMBER_FORM,
	WHY_EMPTY,
	WHY_NOT_EPOCH,
	WHY_FORM,
	WHY_MONTH,
	WHY_DAY,
	WHY_TIME,
	WHY_PARTIAL,
	WHY_YEARS,
};

static const char *const whys[][2] = {
	[WHY_EXCEL_RANGE] = { "an Excel serial date outside 1900-01-01..9999-12-31",
			      "Excel 日期序号超出 1900-01-01 至 9999-12-31" },
	[WHY_EXCEL_60] = { "Excel serial 60 is 1900-02-29, a day that does not exist",
			   "Excel 日期序号 60 对应不存在的 1900-02-29" },
	[WHY_NOT_DATE] = { "not a date", "不是日期" },
	[WHY_FRACTION] = { "a number with a fraction that is not an Excel serial date",
			   "带小数的数字不是 Excel 日期序号" },
	[WHY_DIGITS] = { "too many digits for a date", "数字位数过多，不是日期" },
	[WHY_EPOCH_S] = { "epoch seconds beyond the year 9999", "时间戳（秒）超出 9999 年" },
	[WHY_EPOCH_MS] = { "epoch milliseconds beyond the year 9999",
			   "时间戳（毫秒）超出 9999 年" },
	[WHY_NUMBER_FORM] = { "a number that is no known date form (YYYYMMDD, epoch seconds or "
			      "milliseconds, Excel serial days)",
			      "数字不是已知的日期形式（YYYYMMDD、秒或毫秒时间戳、"
			      "Excel 日期序号）" },
	[WHY_EMPTY] = { "empty", "为空" },
	[WHY_NOT_EPOCH] = { "not a number of seconds, milliseconds or Excel days",
			    "不是秒、毫秒或 Excel 日期序号" },
	[WHY_FORM] = { "not a date form we know (2026-11-03, 2026/11/3 9:05, 2026年11月3日, "
		       "20261103, epoch seconds or milliseconds, Excel serial days)",
		       "不是已知的日期格式（2026-11-03、2026/11/3 9:05、2026年11月3日、20261103、"
		       "秒或毫秒时间戳、Excel 日期序号）" },
	[WHY_MONTH] = { "no such month", "月份不存在" },
	[WHY_DAY] = { "no such day in that month", "该月没有这一天" },
	[WHY_TIME] = { "no such time of day", "时刻不存在" },
	[WHY_PARTIAL] = { "a year or month without a day", "只有年或年月，没有日" },
	[WHY_YEARS] = { "a date outside the years 1000..9999", "日期超出 1000 至 9999 年" },
};

static int set_why(const char **why, enum why w)
{
	if (why)
		*why = whys[w][0];
	return -1;
}

const char *spgw_text_why_zh(const char *why)
{
	size_t i;

	for (i = 0; i < sizeof(whys) / sizeof(whys[0]); i++)
		if (why == whys[i][0])
			return whys[i][1];
	return why;
}

/* The time part: 9:05[:07[.123]] or 9时5分[3秒] / 9点5分; then an optional zone offset. */
static int scan_time(struct scan *sc, struct spgw_text_time *t, int *has_zone, int *zone_secs)
{
	int zh = 0, zm = 0, sign;

	if (!scan_num(sc, 1, 2, &t->hour))
		return -1;
	if (scan_lit(sc, ":")) {
		if (!scan_num(sc, 2, 2, &t->min))
			return -1;
		if (scan_lit(sc, ":")) {
			if (!scan_num(sc, 2, 2, &t->sec))
				return -1;
			if (scan_lit(sc, ".") || scan_lit(sc, ",")) {
				if (sc->p == sc->e || !is_digit(*sc->p))
					return -1;
				while (sc->p < sc->e && is_digit(*sc->p))
					sc->p++; /* fractions of a second are dropped */
			}
		}
	} else if (scan_lit(sc, "时") || scan_lit(sc, "点")) {
		if (scan_num(sc, 1, 2, &t->min)) {
			if (!scan_lit(sc, "分"))
				return -1;
			if (scan_num(sc, 1, 2, &t->sec) && !scan_lit(sc, "秒"))
				return -1;
		}
	} else {
		return -1;
	}
	*has_zone = 0;
	if (scan_lit(sc, "Z")) {
		*has_zone = 1;
		*zone_secs = 0;
	} else if (sc->p < sc->e && (*sc->p == '+' || *sc->p == '-')) {
		sign = *sc->p++ == '-' ? -1 : 1;
		if (sc->e - sc->p < 2 || !is_digit(sc->p[0]) || !is_digit(sc->p[1]))
			return -1;
		zh = fixed(sc->p, 2);
		sc->p += 2;
		scan_lit(sc, ":"); /* +08:00 and +0800 */
		if (sc->p < sc->e && !scan_num(sc, 2, 2, &zm))
			return -1;
		if (zh > 14 || zm > 59)
			return -1;
		*has_zone = 1;
		*zone_secs = sign * (zh * 3600 + zm * 60);
	}
	return 0;
}

/* A date written with separators or in Chinese: 2026-11-03, 2026/11/3, 2026年11月3日 ... */
static int parse_text_date(struct scan *sc, struct spgw_text_time *t, int *has_zone,
			   int *zone_secs)
{
	char sep;

	if (!scan_num(sc, 4, 4, &t->year))
		return -1;
	t->precision = SPGW_TEXT_YEAR;
	if (scan_lit(sc, "年")) {
		if (scan_end(sc))
			return 0;
		if (!scan_num(sc, 1, 2, &t->month) || !scan_lit(sc, "月"))
			return -1;
		t->precision = SPGW_TEXT_MONTH;
		if (scan_end(sc))
			return 0;
		if (!scan_num(sc, 1, 2, &t->day) || !(scan_lit(sc, "日") || scan_lit(sc, "号")))
			return -1;
	} else {
		if (scan_end(sc))
			return 0;
		sep = *sc->p;
		if (sep != '-' && sep != '/' && sep != '.')
			return -1;
		sc->p++;
		if (!scan_num(sc, 1, 2, &t->month))
			return -1;
		t->precision = SPGW_TEXT_MONTH;
		if (scan_end(sc))
			return sep == '.' ? -1 : 0; /* "2026.11" reads too much like a number */
		if (*sc->p != sep)
			return -1;
		sc->p++;
		if (!scan_num(sc, 1, 2, &t->day))
			return -1;
	}
	t->precision = SPGW_TEXT_DAY;
	if (scan_end(sc))
		return 0;
	if (*sc->p == 'T') {
		sc->p++;
	} else if (*sc->p == ' ') {
		while (sc->p < sc->e && *sc->p == ' ')
			sc->p++;
	} else if (!(is_digit(*sc->p) && (unsigned char)sc->p[-1] >= 0x80)) {
		return -1; /* only "2026年11月3日9时5分" may join date and time without a space */
	}
	if (scan_time(sc, t, has_zone, zone_secs))
		return -1;
	t->precision = SPGW_TEXT_TIME;
	return scan_end(sc) ? 0 : -1;
}

/* Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 the 1900-02-29 that never
 * was (Lotus 1-2-3's bug, kept for compatibility), so from 61 on day 0 is 1899-12-30. */
static int from_excel(double serial, struct spgw_text_time *t, const char **why)
{
	int64_t days, secs;

	if (!(serial >= 1 && serial < 2958466))
		return set_why(why, WHY_EXCEL_RANGE);
	days = (int64_t)serial;
	if (days == 60)
		return set_why(why, WHY_EXCEL_60);
	secs = (int64_t)((serial - (double)days) * 86400.0 + 0.5);
	days += days < 60 ? days_from_civil(1899, 12, 31) : days_from_civil(1899, 12, 30);
	from_seconds(days * 86400 + secs, t);
	if (secs == 0)
		t->precision = SPGW_TEXT_DAY;
	return 0;
}

/* Parse digits-only input (an optional fraction only for Excel serials). */
static int parse_digits(const char *s, size_t len, enum spgw_text_date_input mode,
			struct spgw_text_time *t, const char **why)
{
	size_t intlen = 0, i;
	int64_t v = 0;
	char tmp[40];

	while (intlen < len && is_digit(s[intlen]))
		intlen++;
	if (intlen < len) {
		if (s[intlen] != '.' || intlen + 1 == len)
			return set_why(why, WHY_NOT_DATE);
		for (i = intlen + 1; i < len; i++)
			if (!is_digit(s[i]))
				return set_why(why, WHY_NOT_DATE);
	}
	if (intlen < len || mode == SPGW_TEXT_EXCEL) {
		if ((mode != SPGW_TEXT_EXCEL && !(mode == SPGW_TEXT_AUTO && intlen == 5)) ||
		    len >= sizeof(tmp))
			return set_why(why, WHY_FRACTION);
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		return from_excel(strtod(tmp, NULL), t, why);
	}
	if (intlen > 18)
		return set_why(why, WHY_DIGITS);
	for (i = 0; i < intlen; i++)
		v = v * 10 + (s[i] - '0');
	if (mode == SPGW_TEXT_EPOCH_S ||
	    (mode == SPGW_TEXT_AUTO && (intlen == 9 || intlen == 10))) {
		if (v > 253402300799) /* 9999-12-31T23:59:59Z */
			return set_why(why, WHY_EPOCH_S);
		spgw_text_from_epoch(v, t);
		return 0;
	}
	if (mode == SPGW_TEXT_EPOCH_MS || (mode == SPGW_TEXT_AUTO && intlen == 13)) {
		if (v / 1000 > 253402300799)
			return set_why(why, WHY_EPOCH_MS);
		spgw_text_from_epoch(v / 1000, t);
		return 0;
	}
	t->hour = t->min = t->sec = 0;
	switch (intlen) {
	case 4:
		t->year = fixed(s, 4);
		t->precision = SPGW_TEXT_YEAR;
		return 0;
	case 5:
		return from_excel((double)v, t, why);
	case 6:
		t->year = fixed(s, 4);
		t->month = fixed(s + 4, 2);
		t->precision = SPGW_TEXT_MONTH;
		return 0;
	case 8:
	case 12:
	case 14:
		t->year = fixed(s, 4);
		t->month = fixed(s + 4, 2);
		t->day = fixed(s + 6, 2);
		t->precision = SPGW_TEXT_DAY;
		if (intlen >= 12) {
			t->hour = fixed(s + 8, 2);
			t->min = fixed(s + 10, 2);
			t->sec = intlen == 14 ? fixed(s + 12, 2) : 0;
			t->precision = SPGW_TEXT_TIME;
		}
		return 0;
	default:
		return set_why(why, WHY_NUMBER_FORM);
	}
}

int spgw_text_parse_date(const char *s, size_t len, enum spgw_text_date_input mode,
			 unsigned flags, struct spgw_text_time *out, const char **why)
{
	struct spgw_text_time t;
	struct scan sc;
	int has_zone = 0, zone_secs = 0, digits_only = 1;
	size_t i, dots = 0;

	while (len && s[0] == ' ') {
		s++;
		len--;
	}
	while (len && s[len - 1] == ' ')
		len--;
	if (!len)
		return set_why(why, WHY_EMPTY);
	memset(&t, 0, sizeof(t));
	t.month = t.day = 1;
	for (i = 0; i < len; i++) {
		digits_only &= is_digit(s[i]) || s[i] == '.';
		dots += s[i] == '.';
	}
	/* "2026.11.03" has two dots: a date with separators, not a number */
	if (dots > 1)
		digits_only = 0;
	if (mode != SPGW_TEXT_AUTO || digits_only) {
		if (!digits_only)
			return set_why(why, WHY_NOT_EPOCH);
		if (parse_digits(s, len, mode, &t, why))
			return -1;
	} else {
		sc.p = s;
		sc.e = s + len;
		if (parse_text_date(&sc, &t, &has_zone, &zone_secs))
			return set_why(why, WHY_FORM);
	}
	if (t.year < 1000 || t.month < 1 || t.month > 12)
		return set_why(why, WHY_MONTH);
	if (t.day < 1 || t.day > spgw_text_days_in_month(t.year, t.month))
		return set_why(why, WHY_DAY);
	if (t.hour > 23 || t.min > 59 || t.sec > 59)
		return set_why(why, WHY_TIME);
	if (t.precision < SPGW_TEXT_DAY && !(flags & SPGW_TEXT_PARTIAL))
		return set_why(why, WHY_PARTIAL);
	if (has_zone) {
		int64_t secs = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
			       t.min * 60 + t.sec - zone_secs;

		spgw_text_from_epoch(secs, &t);
		if (t.year < 1000 || t.year > 9999)
			return set_why(why, WHY_YEARS);
	}
	*out = t;
	return 0;
}

/* --- numbers --- */

/*
 * Check a number as sources write it and copy it without thousands separators or spaces into
 * tmp[64]. Returns its length, or 0 when it is not a number (or longer than any real one).
 * *frac and *exp tell whether it has a fraction and an exponent.
 */
static size_t clean_number(const char *s, size_t len, char tmp[64], int *frac, int *exp)
{
	size_t i = 0, o = 0, digits = 0, group = 0;
	int commas = 0;

	*frac = *exp = 0;
	while (len && s[0] == ' ') {
		s++;
		len--;
	}
	while (len && s[len - 1] == ' ')
		len--;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		tmp[o++] = s[i++];
	for (; i < len && o < 63; i++) {
		if (is_digit(s[i])) {
			tmp[o++] = s[i];
			digits++;
			group++;
		} else if (s[i] == ',') {
			/* thousands separators: 1,234,567 (3 digits after each comma) */
			if (!digits || (commas && group != 3) || (!commas && group > 3))
				return 0;
			commas = 1;
			group = 0;
		} else {
			break;
		}
	}
	if (!digits || (commas && group != 3))
		return 0;
	if (i < len && s[i] == '.') {
		*frac = 1;
		tmp[o++] = s[i++];
		while (i < len && is_digit(s[i]) && o < 63)
			tmp[o++] = s[i++];
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*exp = 1;
		tmp[o++] = s[i++];
		if (i < len && (s[i] == '+' || s[i] == '-') && o < 63)
			tmp[o++] = s[i++];
		if (!(i < len && is_digit(s[i])))
			return 0;
		while (i < len && is_digit(s[i]) && o < 63)
			tmp[o++] = s[i++];
	}
	if (i != len)
		return 0; /* trailing text, or longer than any real number */
	tmp[o] = '\0';
	return o;
}

/*
 * The value of clean_number()'s text without strtod() when it has at most 15 digits and no
 * exponent, the numbers records carry: the digits are then an exact double m, 10^k is exact
 * for k <= 22, and m / 10^k, a correctly rounded division, is what strtod() returns (Clinger's
 * fast path). Returns 0, or -1 to leave the number to strtod().
 */
static int small_decimal(const char *tmp, double *out, int64_t *ival)
{
	static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	uint64_t m = 0;
	int neg = tmp[0] == '-', digits = 0, k = -1;
	const char *p = tmp + (tmp[0] == '-' || tmp[0] == '+');
	double d;

	for (; *p; p++) {
		if (*p == '.') {
			k = 0;
			continue;
		}
		if (!is_digit(*p) || ++digits > 15)
			return -1;
		m = m * 10 + (uint64_t)(*p - '0');
		if (k >= 0)
			k++;
	}
	d = (double)m / p10[k > 0 ? k : 0];
	*out = neg ? -d : d; /* "-0" is -0.0, as strtod() reads it */
	*ival = neg ? -(int64_t)m : (int64_t)m;
	return 0;
}

int spgw_text_parse_number(const char *s, size_t len, double *out, int *integral,
			   int64_t *ival)
{
	char tmp[64], *end;
	int frac, exp, isint;
	int64_t iv;
	double d;

	if (!clean_number(s, len, tmp, &frac, &exp))
		return -1;
	isint = !frac && !exp;
	if (!exp && !small_decimal(tmp, &d, &iv)) {
		if (isint && ival)
			*ival = iv;
		if (integral)
			*integral = isint;
		*out = d;
		return 0;
	}
	errno = 0;
	d = strtod(tmp, &end);
	if (errno == ERANGE || *end)
		return -1;
	if (isint) {
		long long ll;

		errno = 0;
		ll = strtoll(tmp, &end, 10);
		if (errno == ERANGE)
			isint = 0;
		else if (ival)
			*ival = ll;
	}
	if (integral)
		*integral = isint;
	*out = d;
	return 0;
}

int spgw_text_decimal_shift(const char *s, size_t len, int shift, int decimals, char *out,
			    size_t size)
{
	char tmp[64], dig[128];
	size_t n = 0, i, o = 0, nd;
	int frac, exp, neg = 0, point = -1, carry;

	if (shift < -18 || shift > 18 || decimals > 18 || !clean_number(s, len, tmp, &frac, &exp) ||
	    exp)
		return -1;
	/* digits and where the decimal point sits among them */
	for (i = 0; tmp[i]; i++) {
		if (tmp[i] == '-')
			neg = 1;
		else if (tmp[i] == '.')
			point = (int)n;
		else if (is_digit(tmp[i]))
			dig[n++] = tmp[i];
	}
	if (point < 0)
		point = (int)n;
	point += shift;
	/* pad so that the point lies within the digits, with room for the wanted decimals */
	while (point <= 0) {
		memmove(dig + 1, dig, n++);
		dig[0] = '0';
		point++;
	}
	while ((int)n < point)
		dig[n++] = '0';
	if (decimals >= 0 && (int)n > point + decimals) {
		/* round half away from zero on the decimal digits themselves */
		nd = (size_t)(point + decimals);
		carry = dig[nd] >= '5';
		n = nd;
		for (i = nd; carry && i > 0; i--) {
			carry = dig[i - 1] == '9';
			dig[i - 1] = carry ? '0' : (char)(dig[i - 1] + 1);
		}
		if (carry) {
			memmove(dig + 1, dig, n++);
			dig[0] = '1';
			point++;
		}
	}
	/* drop trailing zeros of the fraction and leading zeros of the integer part */
	while ((int)n > point && dig[n - 1] == '0')
		n--;
	for (i = 0; (int)i < point - 1 && dig[i] == '0'; i++)
		;
	if (size < n - i + 3)
		return -1;
	if (neg && (n > i + 1 || dig[i] != '0'))
		out[o++] = '-';
	memcpy(out + o, dig + i, (size_t)point - i);
	o += (size_t)point - i;
	if ((int)n > point) {
		out[o++] = '.';
		memcpy(out + o, dig + point, n - (size_t)point);
		o += n - (size_t)point;
	}
	out[o] = '\0';
	return 0;
}
