/*
 * The working-day calendar (see calendar.h; format: config/calendar/README.md): read with the
 * configuration reader (config_int.h: UTF-8, duplicate keys, positions), every entry checked,
 * then one flag and one running count per day of the covered years, so that a count between
 * two dates is two array reads however many cases a report judges.
 *
 * Every problem is listed at the line and column of the value it is about: the file is meant
 * to be corrected by hand from the State Council's notice, and a typo there silently moves
 * every overrun verdict of a week.
 */
#include "calendar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "mem.h"
#include "text.h"

/* Years a calendar may name: a four-digit year far from both ends keeps day numbers small. */
#define YEAR_MIN 1990
#define YEAR_MAX 2200
/* The longest holiday a notice has given is 9 days (春节 2026; 国庆 8 days in 2020 and 2025);
 * a range of more than two weeks is a typing error in a date ("to": "2024-12-17"). */
#define HOLIDAY_MAX_DAYS 14
/* Holiday names are short labels ("国庆节、中秋节"). */
#define NAME_MAX_CHARS 40

struct spgw_calendar {
	char *path;
	int first_year, last_year;
	int32_t first_day;  /* day number of first_year-01-01 */
	int32_t ndays;      /* days covered */
	unsigned char *work; /* per day: 1 working day, 0 not */
	int32_t *count;     /* per day: working days from first_day through that day */
	unsigned char *verified; /* per year */
};

/* ---- dates ---- */

/* Howard Hinnant's days_from_civil (proleptic Gregorian): day 0 is 1970-01-01. */
static int32_t days_from_civil(int y, int m, int d)
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
	int32_t era, doe, yoe, doy, mp;

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

/* 0 Monday ... 6 Sunday (1970-01-01 was a Thursday). */
static int weekday(int32_t day)
{
	return (int)(((day + 3) % 7 + 7) % 7);
}

static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int spgw_calendar_day(const char *s, int32_t *day)
{
	int y, m, d, y2, m2, d2;
	size_t n;

	if (!s)
		return -1;
	n = strlen(s);
	if (n != 10 && n != 19)
		return -1;
	if (s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	if (n == 19 && (s[10] != ' ' || s[13] != ':' || s[16] != ':' || digits(s + 11, 2) < 0 ||
			digits(s + 11, 2) > 23 || digits(s + 14, 2) < 0 || digits(s + 14, 2) > 59 ||
			digits(s + 17, 2) < 0 || digits(s + 17, 2) > 59))
		return -1;
	*day = days_from_civil(y, m, d);
	civil_from_days(*day, &y2, &m2, &d2);
	return y2 == y && m2 == m && d2 == d ? 0 : -1;
}

void spgw_calendar_format(int32_t day, char out[11])
{
	char buf[40];
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

int spgw_calendar_year_of(int32_t day)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	return y;
}

/* ---- reading the file ---- */

struct load {
	struct cfile f;
	struct spgw_diag *diag;
	int problems;
};

/* A problem at `at` (a value's place; NULL: no place), the entry's label in front. */
static void problem(struct load *ld, const struct spgw_jsonpos_at *at, const char *label,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem(struct load *ld, const struct spgw_jsonpos_at *at, const char *label,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spgw_text_utf8_cut(msg);
	spgw_config_problem(ld->diag, SPGW_E_CONFIG, ld->f.path, at, 1, "%s%s%s", label,
			    label[0] ? ": " : "", msg);
	ld->problems++;
}

/* Keys and types of one object; the shared checker's messages get `label` in front. */
static void check_keys(struct load *ld, const json_t *obj, const struct spgw_jsonpos_at *at,
		       const char *label, const char *what, const struct key_spec *spec,
		       size_t n)
{
	size_t i, n0 = ld->diag->n;

	ld->problems += (int)spgw_config_check_keys(&ld->f, obj, at, what, spec, n, ld->diag);
	for (i = n0; label[0] && i < ld->diag->n; i++) {
		struct spgw_error *it = &ld->diag->items[i];
		char text[128 + sizeof(it->text) + 2];

		snprintf(text, sizeof(text), "%s: %s", label, it->text);
		if (snprintf(it->text, sizeof(it->text), "%s", text) >= (int)sizeof(it->text))
			spgw_text_utf8_cut(it->text); /* cut mid-character: drop the rest */
	}
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A non-empty one-line text member of at most `max` characters; NULL when absent or bad. */
static const char *text_member(struct load *ld, const json_t *obj,
			       const struct spgw_jsonpos_at *at, const char *label,
			       const char *key, size_t max)
{
	const char *s = json_string_value(json_object_get(obj, key));
	const struct spgw_jsonpos_at *vat = spgw_jsonpos_child(ld->f.pos, at, key);
	const char *p;

	if (!s)
		return NULL;
	for (p = s; *p == ' '; p++)
		;
	if (!*p) {
		problem(ld, vat, label, "%s is empty", key);
		return NULL;
	}
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20) {
			problem(ld, vat, label, "%s holds a control character", key);
			return NULL;
		}
	if (max && chars(s) > max) {
		problem(ld, vat, label, "%s has %zu characters; at most %zu", key, chars(s), max);
		return NULL;
	}
	return s;
}

/* A date member that exists and lies in `year`; 0 and *day set, or -1 (reported, or absent). */
static int date_member(struct load *ld, const json_t *obj, const struct spgw_jsonpos_at *at,
		       const char *label, const char *key, int year, int32_t *day)
{
	const char *s = json_string_value(json_object_get(obj, key));
	const struct spgw_jsonpos_at *vat = spgw_jsonpos_child(ld->f.pos, at, key);
	char shown[80];

	if (!s)
		return -1;
	if (strlen(s) != 10 || spgw_calendar_day(s, day)) {
		problem(ld, vat, label, "%s \"%s\" is not a date YYYY-MM-DD that exists", key,
			spgw_config_show(s, shown));
		return -1;
	}
	if (spgw_calendar_year_of(*day) != year) {
		problem(ld, vat, label,
			"%s %s is not in %d: list each day under its own year (a holiday the "
			"notice starts in the year before, such as 元旦, is written from %d-01-01 "
			"here and its earlier days under %d)",
			key, s, year, year, year - 1);
		return -1;
	}
	return 0;
}

/* What one year says, checked. Days are offsets from its 1 January. */
struct year {
	int year;
	int verified;
	unsigned char off[366];    /* 1: inside a holiday */
	short off_by[366];        /* which holiday (index), for messages */
	unsigned char worked[366]; /* 1: a weekend day worked (调休) */
};

static const char *const weekday_zh[7] = {"星期一", "星期二", "星期三", "星期四",
					  "星期五", "星期六", "星期日"};

static void load_holidays(struct load *ld, const json_t *arr, const char *yptr,
			  struct year *y, int32_t jan1)
{
	static const struct key_spec keys[] = {
		{"name", K_STRING, 1},
		{"from", K_STRING, 1},
		{"to", K_STRING, 0},
	};
	size_t i;

	if (!json_is_array(arr))
		return;
	if (!json_array_size(arr))
		problem(ld, spgw_jsonpos_find(ld->f.pos, yptr), "",
			"year %d lists no holidays: every year has at least 元旦, 春节 and 国庆节; "
			"copy them from the notice",
			y->year);
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *h = json_array_get(arr, i);
		const struct spgw_jsonpos_at *at;
		const char *name;
		char ptr[64], label[160], shown[80];
		int32_t from, to, d;
		int bad;

		snprintf(ptr, sizeof(ptr), "%s/holidays/%zu", yptr, i);
		at = spgw_jsonpos_find(ld->f.pos, ptr);
		name = json_string_value(json_object_get(h, "name"));
		snprintf(label, sizeof(label), "years.%d.holidays[%zu]%s%s", y->year, i,
			 name ? " " : "", name ? spgw_config_show(name, shown) : "");
		spgw_text_utf8_cut(label);
		if (!json_is_object(h)) {
			problem(ld, at, label,
				"a holiday is an object {\"name\": \"春节\", \"from\": "
				"\"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}");
			continue;
		}
		check_keys(ld, h, at, label, "this holiday", keys, sizeof(keys) / sizeof(keys[0]));
		text_member(ld, h, at, label, "name", NAME_MAX_CHARS);
		bad = date_member(ld, h, at, label, "from", y->year, &from);
		if (json_object_get(h, "to"))
			bad |= date_member(ld, h, at, label, "to", y->year, &to);
		else
			to = from;
		if (bad)
			continue;
		if (to < from) {
			problem(ld, spgw_jsonpos_child(ld->f.pos, at, "to"), label,
				"to is before from: a holiday runs from its first day off to its "
				"last, both included");
			continue;
		}
		if (to - from + 1 > HOLIDAY_MAX_DAYS) {
			problem(ld, spgw_jsonpos_child(ld->f.pos, at, "to"), label,
				"%d days off in a row: no notice gives more than %d; check the dates",
				(int)(to - from + 1), HOLIDAY_MAX_DAYS);
			continue;
		}
		for (d = from; d <= to; d++) {
			char day[11];

			if (y->off[d - jan1]) {
				spgw_calendar_format(d, day);
				problem(ld, spgw_jsonpos_child(ld->f.pos, at, "from"), label,
					"%s is already inside holidays[%d]: each day off belongs to "
					"one holiday",
					day, y->off_by[d - jan1]);
				break;
			}
			y->off[d - jan1] = 1;
			y->off_by[d - jan1] = (short)i;
		}
	}
}

static void load_workdays(struct load *ld, const json_t *arr, const char *yptr,
			  struct year *y, int32_t jan1)
{
	static const struct key_spec keys[] = {
		{"date", K_STRING, 1},
		{"for", K_STRING, 0},
	};
	size_t i;

	if (!json_is_array(arr))
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *w = json_array_get(arr, i);
		const struct spgw_jsonpos_at *at, *dat;
		char ptr[64], label[80];
		int32_t d;

		snprintf(ptr, sizeof(ptr), "%s/workdays/%zu", yptr, i);
		at = spgw_jsonpos_find(ld->f.pos, ptr);
		snprintf(label, sizeof(label), "years.%d.workdays[%zu]", y->year, i);
		if (!json_is_object(w)) {
			problem(ld, at, label,
				"a working day is an object {\"date\": \"YYYY-MM-DD\", \"for\": "
				"\"春节\"}");
			continue;
		}
		check_keys(ld, w, at, label, "this working day", keys,
			   sizeof(keys) / sizeof(keys[0]));
		text_member(ld, w, at, label, "for", NAME_MAX_CHARS);
		if (date_member(ld, w, at, label, "date", y->year, &d))
			continue;
		dat = spgw_jsonpos_child(ld->f.pos, at, "date");
		if (weekday(d) < 5) {
			problem(ld, dat, label,
				"%s is a %s, a working day anyway: list only the Saturdays and "
				"Sundays worked in exchange (调休上班)",
				json_string_value(json_object_get(w, "date")), weekday_zh[weekday(d)]);
			continue;
		}
		if (y->off[d - jan1]) {
			problem(ld, dat, label, "%s is inside holidays[%d]: a day is off or worked, "
				"not both",
				json_string_value(json_object_get(w, "date")), y->off_by[d - jan1]);
			continue;
		}
		if (y->worked[d - jan1]) {
			problem(ld, dat, label, "%s is listed twice",
				json_string_value(json_object_get(w, "date")));
			continue;
		}
		y->worked[d - jan1] = 1;
	}
}

static void load_year(struct load *ld, const char *key, const json_t *obj, struct year *y)
{
	static const struct key_spec keys[] = {
		{"source", K_STRING, 1}, {"verified", K_BOOL, 1},   {"note", K_STRING, 0},
		{"holidays", K_ARRAY, 1}, {"workdays", K_ARRAY, 1},
	};
	const struct spgw_jsonpos_at *at;
	char ptr[32], label[32];
	int32_t jan1 = days_from_civil(y->year, 1, 1);

	snprintf(ptr, sizeof(ptr), "/years/%s", key);
	snprintf(label, sizeof(label), "years.%s", key);
	at = spgw_jsonpos_find(ld->f.pos, ptr);
	if (!json_is_object(obj)) {
		problem(ld, at, label,
			"a year is an object {\"source\", \"verified\", \"holidays\", "
			"\"workdays\"}");
		return;
	}
	check_keys(ld, obj, at, label, "this year", keys, sizeof(keys) / sizeof(keys[0]));
	text_member(ld, obj, at, label, "source", 0);
	text_member(ld, obj, at, label, "note", 0);
	y->verified = json_is_true(json_object_get(obj, "verified"));
	load_holidays(ld, json_object_get(obj, "holidays"), ptr, y, jan1);
	load_workdays(ld, json_object_get(obj, "workdays"), ptr, y, jan1);
}

static int cmp_year(const void *a, const void *b)
{
	const struct year *x = a, *y = b;

	return (x->year > y->year) - (x->year < y->year);
}

/* One flag and one running count per day, from the checked years (sorted, consecutive). */
static int build(struct spgw_calendar *cal, const struct year *ys, size_t n)
{
	int32_t d, i;
	size_t k;

	cal->first_year = ys[0].year;
	cal->last_year = ys[n - 1].year;
	cal->first_day = days_from_civil(cal->first_year, 1, 1);
	cal->ndays = days_from_civil(cal->last_year + 1, 1, 1) - cal->first_day;
	cal->work = spgw_malloc((size_t)cal->ndays);
	cal->count = spgw_malloc((size_t)cal->ndays * sizeof(*cal->count));
	cal->verified = spgw_malloc(n);
	if (!cal->work || !cal->count || !cal->verified)
		return -1;
	for (k = 0; k < n; k++) {
		int32_t jan1 = days_from_civil(ys[k].year, 1, 1);
		int32_t len = days_from_civil(ys[k].year + 1, 1, 1) - jan1;

		cal->verified[k] = (unsigned char)ys[k].verified;
		for (i = 0; i < len; i++) {
			d = jan1 + i;
			cal->work[d - cal->first_day] =
				(unsigned char)(ys[k].worked[i] || (weekday(d) < 5 && !ys[k].off[i]));
		}
	}
	for (i = 0; i < cal->ndays; i++)
		cal->count[i] = (i ? cal->count[i - 1] : 0) + cal->work[i];
	return 0;
}

static void load_file(struct load *ld, struct spgw_calendar *cal)
{
	static const struct key_spec keys[] = {
		{"calendar", K_STRING, 1},
		{"description", K_STRING, 0},
		{"_note", K_STRING, 0},
		{"years", K_OBJECT, 1},
	};
	const json_t *years = json_object_get(ld->f.root, "years");
	const struct spgw_jsonpos_at *yat = spgw_jsonpos_child(ld->f.pos, ld->f.root_at, "years");
	struct year *ys = NULL;
	const char *key;
	json_t *v;
	size_t n = 0, k;

	check_keys(ld, ld->f.root, ld->f.root_at, "", "the calendar file", keys,
		   sizeof(keys) / sizeof(keys[0]));
	text_member(ld, ld->f.root, ld->f.root_at, "", "calendar", 64);
	if (!json_is_object(years))
		return; /* missing or not an object: check_keys said so */
	if (!json_object_size(years)) {
		problem(ld, yat, "", "years is empty: give at least the years of the cases to "
			"count");
		return;
	}
	ys = spgw_calloc(json_object_size(years), sizeof(*ys));
	if (!ys) {
		spgw_config_nomem(ld->diag, ld->f.path, "reading the calendar");
		ld->problems++;
		return;
	}
	json_object_foreach((json_t *)years, key, v) {
		int y = strlen(key) == 4 ? digits(key, 4) : -1;
		char shown[80];

		if (y < YEAR_MIN || y > YEAR_MAX) {
			problem(ld, spgw_jsonpos_child(ld->f.pos, yat, key), "",
				"years: \"%s\" is not a year %d to %d written with four digits",
				spgw_config_show(key, shown), YEAR_MIN, YEAR_MAX);
			continue;
		}
		ys[n].year = y;
		load_year(ld, key, v, &ys[n]);
		n++;
	}
	qsort(ys, n, sizeof(*ys), cmp_year);
	/* a gap would make a count across it a guess: the years must follow one another */
	for (k = 1; k < n; k++)
		if (ys[k].year != ys[k - 1].year + 1)
			problem(ld, yat, "",
				"years %d and %d are given but not %d: a calendar covers "
				"consecutive years (a count across a missing year would be a guess)",
				ys[k - 1].year, ys[k].year, ys[k - 1].year + 1);
	if (!ld->problems && n && build(cal, ys, n)) {
		spgw_config_nomem(ld->diag, ld->f.path, "building the calendar");
		ld->problems++;
	}
	spgw_free(ys);
}

void spgw_calendar_free(struct spgw_calendar *cal)
{
	if (!cal)
		return;
	spgw_free(cal->path);
	spgw_free(cal->work);
	spgw_free(cal->count);
	spgw_free(cal->verified);
	spgw_free(cal);
}

enum spgw_rc spgw_calendar_load(const char *path, struct spgw_calendar **out,
				struct spgw_diag *diag)
{
	size_t n0 = diag->n, dropped0 = diag->dropped;
	struct spgw_calendar *cal;
	struct load ld;
	enum spgw_rc rc;

	memset(&ld, 0, sizeof(ld));
	ld.diag = diag;
	cal = spgw_calloc(1, sizeof(*cal));
	if (!cal || !(cal->path = spgw_strdup(path))) {
		spgw_config_nomem(diag, path, "reading the calendar");
		goto out;
	}
	if (spgw_config_file_load(&ld.f, cal->path, diag))
		goto out;
	load_file(&ld, cal);
out:
	spgw_config_file_free(&ld.f);
	rc = spgw_config_first_code(diag, n0, dropped0);
	if (rc == SPGW_OK && cal && cal->work) {
		*out = cal;
		cal = NULL;
	} else if (rc == SPGW_OK) {
		rc = spgw_diag_addf(diag, SPGW_E_NOMEM, path, 0, 0, "reading the calendar: out "
				    "of memory");
	}
	spgw_calendar_free(cal);
	return rc;
}

/* ---- questions ---- */

const char *spgw_calendar_path(const struct spgw_calendar *cal)
{
	return cal->path;
}

void spgw_calendar_years(const struct spgw_calendar *cal, int *first, int *last)
{
	*first = cal->first_year;
	*last = cal->last_year;
}

int spgw_calendar_year_verified(const struct spgw_calendar *cal, int year)
{
	if (year < cal->first_year || year > cal->last_year)
		return -1;
	return cal->verified[year - cal->first_year];
}

static enum spgw_rc not_covered(const struct spgw_calendar *cal, int32_t day,
				struct spgw_error *err)
{
	char d[11];

	spgw_calendar_format(day, d);
	return spgw_error_set(err, SPGW_E_NOTFOUND, cal->path, 0, 0,
			      "%s: the working-day calendar covers %d to %d, not %d: add year %d "
			      "from the State Council's notice (国务院办公厅关于%d年部分节假日安排的"
			      "通知) to the calendar file",
			      d, cal->first_year, cal->last_year, spgw_calendar_year_of(day),
			      spgw_calendar_year_of(day), spgw_calendar_year_of(day));
}

enum spgw_rc spgw_calendar_ordinal(const struct spgw_calendar *cal, int32_t day, int32_t *ord,
				   struct spgw_error *err)
{
	int32_t i = day - cal->first_day;

	if (i < 0 || i >= cal->ndays)
		return not_covered(cal, day, err);
	*ord = cal->count[i];
	return SPGW_OK;
}

static enum spgw_rc parse(const char *s, int32_t *day, struct spgw_error *err)
{
	char shown[80];

	if (!spgw_calendar_day(s, day))
		return SPGW_OK;
	return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
			      "\"%s\" is not a date YYYY-MM-DD or a time YYYY-MM-DD HH:MM:SS that "
			      "exists",
			      s ? spgw_config_show(s, shown) : "(null)");
}

int spgw_calendar_is_workday(const struct spgw_calendar *cal, const char *date,
			     struct spgw_error *err)
{
	int32_t day;

	if (parse(date, &day, err))
		return -1;
	if (day < cal->first_day || day - cal->first_day >= cal->ndays) {
		not_covered(cal, day, err);
		return -1;
	}
	return cal->work[day - cal->first_day];
}

enum spgw_rc spgw_calendar_workdays(const struct spgw_calendar *cal, const char *from,
				    const char *to, long *days, struct spgw_error *err)
{
	int32_t a = 0, b = 0, oa = 0, ob = 0;
	enum spgw_rc rc;

	if ((rc = parse(from, &a, err)) || (rc = parse(to, &b, err)) ||
	    (rc = spgw_calendar_ordinal(cal, a, &oa, err)) ||
	    (rc = spgw_calendar_ordinal(cal, b, &ob, err)))
		return rc;
	*days = (long)ob - (long)oa;
	return SPGW_OK;
}
