/*
 * Cron expressions in Beijing time and the job scheduler (see schedule.h).
 *
 * An expression is kept as one bit set per field; spgw_cron_next() walks the calendar from
 * the given minute and, at each level, jumps straight to the next value the field allows, so
 * a sparse expression (29 February) costs a few dozen steps, not years of minutes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "schedule.h"
#include "spgw_limits.h"

struct spgw_cron {
	uint64_t minute; /* bit n: minute n (0-59) */
	uint32_t hour;	 /* bit n: hour n (0-23) */
	uint32_t dom;	 /* bit n: day n of the month (1-31) */
	uint16_t month;	 /* bit n: month n (1-12) */
	uint8_t dow;	 /* bit n: weekday n, Sunday 0 (a 7 in the text is folded into 0) */
	/* Vixie cron's DOM_STAR/DOW_STAR: the field's text starts with '*'. Only when neither
	 * does is a day matching either field enough; otherwise a day must match both. */
	uint8_t dom_star, dow_star;
	char *text; /* as given */
};

/* ---- calendar arithmetic (proleptic Gregorian; H. Hinnant's days_from_civil) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m];
}

/* 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
	return (int)(((days % 7) + 7 + 4) % 7);
}

/* The lowest bit of `set` at or above `from`, or -1. */
static int next_bit(uint64_t set, int from)
{
	if (from >= 64)
		return -1;
	set &= ~UINT64_C(0) << from;
	return set ? __builtin_ctzll(set) : -1;
}

/* ---- parsing ---- */

struct field_def {
	const char *name;
	int min, max;
	int top;		  /* where `*` and `a/n` end: 6 for weekdays, 7 is an alias */
	const char *const *names; /* names[i] stands for min + i... see name_value() */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
					  "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const struct field_def fields[5] = {
	{"minute", 0, 59, 59, NULL},	     {"hour", 0, 23, 23, NULL},
	{"day-of-month", 1, 31, 31, NULL},   {"month", 1, 12, 12, month_names},
	{"day-of-week", 0, 7, 6, dow_names},
};

static const struct {
	const char *name;
	const char *expr;
} shorthands[] = {
	{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

struct parse {
	const char *expr; /* the text as given: messages quote it, columns count in it */
	int field;	  /* 0-4 while in a field, -1 outside */
	struct spgw_error *err;
};

/*
 * Report an error at `at` (a pointer into p->expr). The expression is quoted with control
 * characters shown as '?' so a message stays one line.
 */
static enum spgw_rc __attribute__((format(printf, 3, 4)))
bad(const struct parse *p, const char *at, const char *fmt, ...)
{
	char quoted[SPGW_CRON_MAX_TEXT + 1], where[96], what[256];
	size_t i;
	va_list ap;

	for (i = 0; p->expr[i] && i < SPGW_CRON_MAX_TEXT; i++)
		quoted[i] =
			(unsigned char)p->expr[i] < 0x20 || p->expr[i] == 0x7f ? '?' : p->expr[i];
	quoted[i] = '\0';
	if (p->field >= 0)
		snprintf(where, sizeof(where), "field %d (%s), column %d", p->field + 1,
			 fields[p->field].name, (int)(at - p->expr) + 1);
	else
		snprintf(where, sizeof(where), "column %d", (int)(at - p->expr) + 1);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return spgw_error_set(p->err, SPGW_E_CONFIG, NULL, 0, 0, "cron \"%s\": %s: %s", quoted,
			      where, what);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int field_end(char c)
{
	return c == '\0' || is_blank(c);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A byte for a message: itself when printable ASCII, else its code. */
static const char *show(char c, char buf[8])
{
	if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f)
		snprintf(buf, 8, "\"%c\"", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

/* Where a value was expected at `s` but none is: say what is there instead. */
static enum spgw_rc missing(const struct parse *p, const char *s, const char *what)
{
	const struct field_def *f = &fields[p->field];
	char c[8];

	if (field_end(*s))
		return bad(p, s, "%s is missing", what);
	if (*s == ',')
		return bad(p, s, "empty item in the list (two commas, or a comma at the start)");
	if (*s == '?' || *s == 'L' || *s == 'W' || *s == '#')
		return bad(p, s, "%s is not supported (Quartz's ?, L, W and # are not cron)",
			   show(*s, c));
	return bad(p, s, "%s where %s should be (a number %d-%d%s)", show(*s, c), what, f->min,
		   f->max, f->names ? ", a name" : "");
}

/* A number or name at *sp into *v, checked against the field's range; advances *sp. */
static enum spgw_rc value(const struct parse *p, const char **sp, const char *what, int *v)
{
	const struct field_def *f = &fields[p->field];
	const char *s = *sp, *e = s;
	int n = 0, i;

	if (is_digit(*s)) {
		while (is_digit(*e))
			e++;
		if (e - s > 4)
			return bad(p, s, "%.*s is out of range for %s (%d-%d)", (int)(e - s), s,
				   f->name, f->min, f->max);
		for (; s < e; s++)
			n = n * 10 + (*s - '0');
		if (n < f->min || n > f->max)
			return bad(p, *sp, "%d is out of range for %s (%d-%d%s)", n, f->name,
				   f->min, f->max, p->field == 4 ? ", 0 and 7 are Sunday" : "");
		*v = n;
		*sp = e;
		return SPGW_OK;
	}
	if (!is_alpha(*s))
		return missing(p, s, what);
	while (is_alpha(*e))
		e++;
	if ((e - s == 1 && (*s == 'L' || *s == 'W')) || (e - s == 2 && strncmp(s, "LW", 2) == 0))
		return missing(p, s, what);
	if (!f->names)
		return bad(p, s,
			   "\"%.*s\" is not a number (names are only for month and "
			   "day-of-week)",
			   (int)(e - s), s);
	for (i = 0; e - s == 3 && f->names[i]; i++)
		if (strncasecmp(s, f->names[i], 3) == 0) {
			/* months are named from 1, weekdays from 0 */
			*v = f->min + i;
			*sp = e;
			return SPGW_OK;
		}
	return bad(p, s, "unknown %s name \"%.*s\" (use %s or numbers %d-%d)", f->name,
		   (int)(e - s), s, p->field == 3 ? "JAN-DEC" : "SUN-SAT", f->min, f->max);
}

/* "a" when a range has one value, else "a-b": for the suggestion in a backwards range. */
static int span_text(char *buf, size_t cap, int lo, int hi)
{
	return lo == hi ? snprintf(buf, cap, "%d", lo) : snprintf(buf, cap, "%d-%d", lo, hi);
}

/* One list item at *sp: `*`, a value or range, with an optional step. Sets its bits. */
static enum spgw_rc item(const struct parse *p, const char **sp, uint64_t *bits)
{
	const struct field_def *f = &fields[p->field];
	const char *s = *sp, *lo_at = s, *step_at;
	int lo, hi, step = 1, v, star = 0, range = 0;
	enum spgw_rc rc;
	char c[8];

	if (*s == '*') {
		star = 1;
		lo = f->min;
		hi = f->top;
		s++;
	} else {
		rc = value(p, &s, "a value", &lo);
		if (rc)
			return rc;
		hi = lo;
		if (*s == '-') {
			s++;
			rc = value(p, &s, "the end of the range", &hi);
			if (rc)
				return rc;
			range = 1;
			/* Sunday is 0 and 7 at once: 7-2 means 0-2, and FRI-SUN (5-0) 5-7 */
			if (p->field == 4 && lo == 7 && hi < 7)
				lo = 0;
			else if (p->field == 4 && hi == 0 && lo > 0)
				hi = 7;
			if (hi < lo) {
				char a[24], b[24];

				span_text(a, sizeof(a), lo, f->top);
				span_text(b, sizeof(b), f->min, hi);
				return bad(p, lo_at,
					   "range %d-%d runs backwards (the low end comes "
					   "first; across the end write a list: %s,%s)",
					   lo, hi, a, b);
			}
		}
	}
	if (*s == '/') {
		s++;
		step_at = s;
		if (field_end(*s) || *s == ',')
			return bad(p, s, "the step after \"/\" is missing");
		if (!is_digit(*s))
			return bad(p, s, "the step after \"/\" must be a number, not %s",
				   show(*s, c));
		step = 0;
		while (is_digit(*s) && step <= f->max)
			step = step * 10 + (*s++ - '0');
		if (step == 0)
			return bad(p, step_at, "step 0 is not allowed (use */1 or *)");
		if (is_digit(*s) || step > f->top - f->min)
			return bad(p, step_at,
				   "step %.*s is too large for %s: at most %d (a bigger "
				   "one would only ever give the first value)",
				   (int)strspn(step_at, "0123456789"), step_at, f->name,
				   f->top - f->min);
		if (!star && !range)
			hi = f->top; /* a/n: from a to the field's end */
	}
	if (*s != ',' && !field_end(*s)) {
		if (*s == '-' && star)
			return bad(p, s, "\"*\" is already the whole range; write a range as a-b");
		if (*s == '-' && range)
			return bad(p, s, "a range has one \"-\" (write a-b, or a list a-b,c-d)");
		if (*s == '?' || *s == 'L' || *s == 'W' || *s == '#')
			return missing(p, s, "");
		return bad(p, s,
			   "unexpected %s after \"%.*s\" (an item is *, a number%s, a range "
			   "a-b, each with an optional /step, items separated by commas)",
			   show(*s, c), (int)(s - lo_at), lo_at, f->names ? " or name" : "");
	}
	for (v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << v;
	*sp = s;
	return SPGW_OK;
}

/* The field at s (up to the next blank) into *bits. */
static enum spgw_rc field(const struct parse *p, const char *s, uint64_t *bits)
{
	enum spgw_rc rc;

	*bits = 0;
	for (;;) {
		rc = item(p, &s, bits);
		if (rc)
			return rc;
		if (*s != ',')
			return SPGW_OK;
		s++;
		if (*s == ',' || field_end(*s))
			return bad(p, s, "empty item in the list (%s)",
				   *s == ',' ? "two commas in a row" : "a comma at the end");
	}
}

/* Could the day-of-month field ever meet the month field? (30 February cannot.) */
static int dates_exist(const struct spgw_cron *c)
{
	static const int most[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int m;

	for (m = 1; m <= 12; m++)
		if ((c->month >> m & 1) && next_bit(c->dom, 1) <= most[m])
			return 1;
	return 0;
}

/* The five fields of `text` (a 5-field expression; `p->expr` may be a shorthand) into c. */
static enum spgw_rc fields_parse(struct parse *p, const char *text, struct spgw_cron *c)
{
	const char *start[6], *s = text;
	uint64_t bits[5];
	int n = 0, i;
	enum spgw_rc rc;

	while (n < 6) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		start[n++] = s;
		while (!field_end(*s))
			s++;
	}
	p->field = -1;
	if (n != 5)
		return bad(p, n == 6 ? start[5] : s,
			   "%s %d fields, expected 5: minute hour day-of-month month day-of-week%s",
			   n == 6 ? "more than" : "found", n == 6 ? 5 : n,
			   n == 6 ? " (no seconds or year field)" : "");
	for (i = 0; i < 5; i++) {
		p->field = i;
		rc = field(p, start[i], &bits[i]);
		if (rc)
			return rc;
	}
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
	c->dom_star = *start[2] == '*';
	c->dow_star = *start[4] == '*';
	/* When the weekday alone can pick a day (it starts with '*' on neither field, or the
	 * day-of-month is '*'), every month has one. Else a day of the month must exist, and
	 * every real date falls on every weekday within 28 years. */
	if (!c->dom_star && c->dow_star && !dates_exist(c)) {
		p->field = 2;
		return bad(p, start[2],
			   "none of these days exists in the months of field 4 (month), "
			   "so it would never fire (February has 29 days at most; "
			   "April, June, September and November 30)");
	}
	return SPGW_OK;
}

enum spgw_rc spgw_cron_parse(const char *expr, struct spgw_cron **out, struct spgw_error *err)
{
	struct parse p = {.expr = expr, .field = -1, .err = err};
	struct spgw_cron *c = NULL;
	const char *s = expr, *e, *text = expr;
	size_t i;
	enum spgw_rc rc;

	if (strlen(expr) > SPGW_CRON_MAX_TEXT) {
		rc = bad(&p, expr + SPGW_CRON_MAX_TEXT, "longer than %d characters",
			 SPGW_CRON_MAX_TEXT);
		goto out;
	}
	while (is_blank(*s))
		s++;
	if (*s == '@') {
		for (e = s; !field_end(*e); e++)
			;
		for (i = 0; i < sizeof(shorthands) / sizeof(shorthands[0]); i++)
			if ((size_t)(e - s) == strlen(shorthands[i].name) &&
			    strncasecmp(s, shorthands[i].name, (size_t)(e - s)) == 0)
				break;
		if (i == sizeof(shorthands) / sizeof(shorthands[0])) {
			rc = bad(&p, s,
				 "unknown shorthand \"%.*s\" (use @hourly, @daily, @midnight, "
				 "@weekly, @monthly, @yearly or @annually)",
				 (int)(e - s), s);
			goto out;
		}
		while (is_blank(*e))
			e++;
		if (*e) {
			rc = bad(&p, e, "unexpected text after %s (a shorthand stands alone)",
				 shorthands[i].name);
			goto out;
		}
		text = shorthands[i].expr;
	}
	c = spgw_calloc(1, sizeof(*c));
	if (!c) {
		rc = spgw_error_nomem(err, "parsing a cron expression");
		goto out;
	}
	rc = fields_parse(&p, text, c);
	if (rc)
		goto out;
	c->text = spgw_strdup(expr);
	if (!c->text) {
		rc = spgw_error_nomem(err, "parsing a cron expression");
		goto out;
	}
	*out = c;
	c = NULL;
out:
	spgw_cron_free(c);
	return rc;
}

void spgw_cron_free(struct spgw_cron *c)
{
	if (!c)
		return;
	spgw_free(c->text);
	spgw_free(c);
}

const char *spgw_cron_text(const struct spgw_cron *c)
{
	return c->text;
}

/* A new copy of `c` (NULL when memory is short). */
static struct spgw_cron *cron_dup(const struct spgw_cron *c)
{
	struct spgw_cron *d = spgw_malloc(sizeof(*d));

	if (!d)
		return NULL;
	*d = *c;
	d->text = spgw_strdup(c->text);
	if (!d->text) {
		spgw_free(d);
		return NULL;
	}
	return d;
}

/* ---- evaluation ---- */

static int day_matches(const struct spgw_cron *c, int64_t days, int d)
{
	int dom = c->dom >> d & 1, dow = c->dow >> weekday(days) & 1;

	return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

/* About ±30000 years: far beyond any clock, and the day arithmetic stays in range. */
#define CRON_TIME_LIMIT (INT64_C(1) << 50)

int64_t spgw_cron_next(const struct spgw_cron *c, int64_t after)
{
	int64_t minute, days, y, end_year;
	int m, d, h, mi, rem, v;

	if (after < -CRON_TIME_LIMIT || after > CRON_TIME_LIMIT)
		return -1;
	/* Work in Beijing civil time; the first candidate is the minute after `after`. */
	minute = floor_div(after + SPGW_CRON_UTC_OFFSET, 60) + 1;
	days = floor_div(minute, 1440);
	rem = (int)(minute - days * 1440);
	h = rem / 60;
	mi = rem % 60;
	civil_from_days(days, &y, &m, &d);
	end_year = y + SPGW_CRON_HORIZON_YEARS;
	for (;;) {
		if (y > end_year)
			return -1;
		if (!(c->month >> m & 1) || d > month_days(y, m)) {
			/* the next allowed month, day 1, 00:00 */
			v = next_bit(c->month, m + 1);
			if (v < 0) {
				y++;
				v = next_bit(c->month, 1);
			}
			m = v;
			d = 1;
			h = mi = 0;
			days = days_from_civil(y, m, d);
			continue;
		}
		if (!day_matches(c, days, d)) {
			/* With the weekday field starting with '*', the day must be in the
			 * day-of-month set: jump to its next member. Else try the next day. */
			v = c->dow_star ? next_bit(c->dom, d + 1) : d + 1;
			v = v < 0 ? 32 : v;
			days += v - d;
			d = v;
			h = mi = 0;
			continue;
		}
		v = next_bit(c->hour, h);
		if (v < 0) {
			days++;
			d++;
			h = mi = 0;
			continue;
		}
		if (v != h) {
			h = v;
			mi = 0;
		}
		v = next_bit(c->minute, mi);
		if (v < 0) {
			h++;
			mi = 0;
			if (h == 24) {
				days++;
				d++;
				h = 0;
			}
			continue;
		}
		return (days * 1440 + h * 60 + v) * 60 - SPGW_CRON_UTC_OFFSET;
	}
}

/* ---- the scheduler ---- */

#define NO_ENDPOINT ((size_t)-1)

struct endpoint {
	char *name;
	size_t limit; /* 0: none */
	size_t running;
};

struct job {
	char *name;
	size_t ep; /* index into spgw_sched.eps, or NO_ENDPOINT */
	struct spgw_cron *cron;
	unsigned jitter;
	int64_t next; /* when it is due (jitter included), -1: never */
	int64_t base; /* the `now` next was computed from: a clock behind it went back */
	int running;
	int removed; /* drop when done */
	int forced;  /* run_now: due at once even if the clock goes back before it starts */
};

struct spgw_sched {
	size_t max_running, running;
	struct job **jobs; /* sorted by name: ties go in name order */
	size_t njobs, capjobs;
	struct endpoint *eps;
	size_t neps, capeps;
};

/*
 * The jitter of a run of `name` at cron time `fire`, in [0, max]: FNV-1a over both, then
 * MurmurHash3's finalizer so every bit of the result depends on every input bit (a plain FNV
 * modulo a power of two would see only the low bits).
 */
static unsigned jitter_of(const char *name, int64_t fire, unsigned max)
{
	uint64_t h = UINT64_C(14695981039346656037), f = (uint64_t)fire;
	const unsigned char *p;
	int i;

	if (!max)
		return 0;
	for (p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	for (i = 0; i < 8; i++) {
		h ^= (f >> (8 * i)) & 0xff;
		h *= UINT64_C(1099511628211);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (unsigned)(h % ((uint64_t)max + 1));
}

/* The job's next run after `now`, and remember `now` as its base. */
static void plan(struct job *j, int64_t now)
{
	int64_t t = spgw_cron_next(j->cron, now);

	j->next = t < 0 ? -1 : t + jitter_of(j->name, t, j->jitter);
	j->base = now;
}

/* The index of `name` in s->jobs, or where it would go; *found says which. */
static size_t find(const struct spgw_sched *s, const char *name, int *found)
{
	size_t lo = 0, hi = s->njobs, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(s->jobs[mid]->name, name);
		if (cmp == 0) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static struct job *lookup(const struct spgw_sched *s, const char *name)
{
	int found;
	size_t i = find(s, name, &found);

	return found ? s->jobs[i] : NULL;
}

/* The index of endpoint `name`, created with no limit if new; NO_ENDPOINT for none. Sets
 * *nomem when it had to be created and memory was short. */
static size_t endpoint_get(struct spgw_sched *s, const char *name, int *nomem)
{
	struct endpoint *eps;
	size_t i;

	*nomem = 0;
	if (!name || !*name)
		return NO_ENDPOINT;
	for (i = 0; i < s->neps; i++)
		if (strcmp(s->eps[i].name, name) == 0)
			return i;
	if (s->neps == s->capeps) {
		eps = spgw_realloc(s->eps, (s->capeps ? s->capeps * 2 : 4) * sizeof(*eps));
		if (!eps)
			goto nomem;
		s->eps = eps;
		s->capeps = s->capeps ? s->capeps * 2 : 4;
	}
	s->eps[s->neps].name = spgw_strdup(name);
	if (!s->eps[s->neps].name)
		goto nomem;
	s->eps[s->neps].limit = 0;
	s->eps[s->neps].running = 0;
	return s->neps++;
nomem:
	*nomem = 1;
	return NO_ENDPOINT;
}

/* May job j start now, as far as the limits go? */
static int within_limits(const struct spgw_sched *s, const struct job *j)
{
	const struct endpoint *e;

	if (s->max_running && s->running >= s->max_running)
		return 0;
	if (j->ep == NO_ENDPOINT)
		return 1;
	e = &s->eps[j->ep];
	return !e->limit || e->running < e->limit;
}

static void set_running(struct spgw_sched *s, struct job *j, int on)
{
	j->running = on;
	if (on)
		s->running++;
	else
		s->running--;
	if (j->ep != NO_ENDPOINT) {
		if (on)
			s->eps[j->ep].running++;
		else
			s->eps[j->ep].running--;
	}
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	spgw_free(j->name);
	spgw_cron_free(j->cron);
	spgw_free(j);
}

/* Remove the job at index i from the list and free it. */
static void job_drop(struct spgw_sched *s, size_t i)
{
	job_free(s->jobs[i]);
	memmove(&s->jobs[i], &s->jobs[i + 1], (s->njobs - i - 1) * sizeof(s->jobs[0]));
	s->njobs--;
}

/* A clock that went back by more than the tolerance: plan waiting jobs again from now. */
static void settle(struct spgw_sched *s, int64_t now)
{
	struct job *j;
	size_t i;

	for (i = 0; i < s->njobs; i++) {
		j = s->jobs[i];
		if (j->running || j->removed || now >= j->base - SPGW_SCHED_CLOCK_BACK)
			continue;
		if (j->forced) {
			j->next = now;
			j->base = now;
		} else {
			plan(j, now);
		}
	}
}

struct spgw_sched *spgw_sched_new(size_t max_running)
{
	struct spgw_sched *s = spgw_calloc(1, sizeof(*s));

	if (s)
		s->max_running = max_running;
	return s;
}

void spgw_sched_free(struct spgw_sched *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->njobs; i++)
		job_free(s->jobs[i]);
	for (i = 0; i < s->neps; i++)
		spgw_free(s->eps[i].name);
	spgw_free(s->jobs);
	spgw_free(s->eps);
	spgw_free(s);
}

enum spgw_rc spgw_sched_limit(struct spgw_sched *s, const char *endpoint, size_t n)
{
	int nomem;
	size_t i = endpoint_get(s, endpoint, &nomem);

	if (nomem)
		return SPGW_E_NOMEM;
	if (i != NO_ENDPOINT)
		s->eps[i].limit = n;
	return SPGW_OK;
}

/* Take back a job removed while running: new settings, and it is no longer dropped. */
static enum spgw_rc revive(struct spgw_sched *s, struct job *j, const char *endpoint,
			   const struct spgw_cron *cron, unsigned jitter_s, int64_t now,
			   struct spgw_error *err)
{
	struct spgw_cron *c = cron_dup(cron);
	size_t ep;
	int nomem;

	if (!c)
		return spgw_error_nomem(err, "scheduling a source");
	ep = endpoint_get(s, endpoint, &nomem);
	if (nomem) {
		spgw_cron_free(c);
		return spgw_error_nomem(err, "scheduling a source");
	}
	/* it keeps running, now counted against its new endpoint */
	set_running(s, j, 0);
	j->ep = ep;
	set_running(s, j, 1);
	spgw_cron_free(j->cron);
	j->cron = c;
	j->jitter = jitter_s;
	j->removed = 0;
	j->forced = 0;
	plan(j, now);
	return SPGW_OK;
}

enum spgw_rc spgw_sched_add(struct spgw_sched *s, const char *name, const char *endpoint,
			    const struct spgw_cron *cron, unsigned jitter_s, int64_t now,
			    struct spgw_error *err)
{
	struct job *j = NULL, **jobs;
	size_t at, cap;
	int found, nomem;
	enum spgw_rc rc;

	if (jitter_s > SPGW_SCHED_MAX_JITTER) {
		rc = spgw_error_set(err, SPGW_E_LIMIT, name, 0, 0,
				    "jitter of %u s is more than a day (%u s); use a smaller one",
				    jitter_s, SPGW_SCHED_MAX_JITTER);
		goto out;
	}
	at = find(s, name, &found);
	if (found) {
		if (!s->jobs[at]->removed) {
			rc = spgw_error_set(err, SPGW_E_CONFIG, name, 0, 0,
					    "source \"%s\" is scheduled twice; source names must "
					    "be unique",
					    name);
			goto out;
		}
		rc = revive(s, s->jobs[at], endpoint, cron, jitter_s, now, err);
		goto out;
	}
	if (s->njobs >= SPGW_MAX_SOURCES) {
		rc = spgw_error_set(err, SPGW_E_LIMIT, name, 0, 0,
				    "more than %d sources to schedule (SPGW_MAX_SOURCES)",
				    SPGW_MAX_SOURCES);
		goto out;
	}
	j = spgw_calloc(1, sizeof(*j));
	if (j) {
		j->name = spgw_strdup(name);
		j->cron = cron_dup(cron);
	}
	if (!j || !j->name || !j->cron) {
		rc = spgw_error_nomem(err, "scheduling a source");
		goto out;
	}
	if (s->njobs == s->capjobs) {
		cap = s->capjobs ? s->capjobs * 2 : 16;
		jobs = spgw_realloc(s->jobs, cap * sizeof(*jobs));
		if (!jobs) {
			rc = spgw_error_nomem(err, "scheduling a source");
			goto out;
		}
		s->jobs = jobs;
		s->capjobs = cap;
	}
	/* last: an endpoint is only ever created for a job that is then added */
	j->ep = endpoint_get(s, endpoint, &nomem);
	if (nomem) {
		rc = spgw_error_nomem(err, "scheduling a source");
		goto out;
	}
	j->jitter = jitter_s;
	plan(j, now);
	memmove(&s->jobs[at + 1], &s->jobs[at], (s->njobs - at) * sizeof(s->jobs[0]));
	s->jobs[at] = j;
	s->njobs++;
	j = NULL;
	rc = SPGW_OK;
out:
	job_free(j);
	return rc;
}

enum spgw_rc spgw_sched_remove(struct spgw_sched *s, const char *name)
{
	int found;
	size_t i = find(s, name, &found);

	if (!found || s->jobs[i]->removed)
		return SPGW_E_NOTFOUND;
	if (s->jobs[i]->running)
		s->jobs[i]->removed = 1;
	else
		job_drop(s, i);
	return SPGW_OK;
}

int spgw_sched_take(struct spgw_sched *s, int64_t now, const char **name)
{
	struct job *j, *best = NULL;
	size_t i;

	settle(s, now);
	for (i = 0; i < s->njobs; i++) {
		j = s->jobs[i];
		if (j->running || j->removed || j->next < 0 || j->next > now)
			continue;
		/* strictly earlier: among equals the first in name order wins */
		if ((!best || j->next < best->next) && within_limits(s, j))
			best = j;
	}
	if (!best)
		return 0;
	set_running(s, best, 1);
	best->forced = 0;
	*name = best->name;
	return 1;
}

enum spgw_rc spgw_sched_done(struct spgw_sched *s, const char *name, int64_t now)
{
	int found;
	size_t i = find(s, name, &found);
	struct job *j;

	if (!found || !s->jobs[i]->running)
		return SPGW_E_NOTFOUND;
	j = s->jobs[i];
	set_running(s, j, 0);
	if (j->removed)
		job_drop(s, i); /* `name` may be j->name: not used past here */
	else
		plan(j, now);
	return SPGW_OK;
}

enum spgw_rc spgw_sched_run_now(struct spgw_sched *s, const char *name, int64_t now)
{
	struct job *j = lookup(s, name);

	if (!j || j->removed)
		return SPGW_E_NOTFOUND;
	if (j->running)
		return SPGW_E_BUSY;
	j->next = now;
	j->base = now;
	j->forced = 1;
	return SPGW_OK;
}

int64_t spgw_sched_next(const struct spgw_sched *s, const char *name)
{
	const struct job *j = lookup(s, name);

	return !j || j->removed || j->running ? -1 : j->next;
}

int spgw_sched_running(const struct spgw_sched *s, const char *name)
{
	const struct job *j = lookup(s, name);

	return j ? j->running : -1;
}

int64_t spgw_sched_wake(struct spgw_sched *s, int64_t now)
{
	const struct job *j;
	int64_t wake = -1;
	size_t i;

	settle(s, now);
	for (i = 0; i < s->njobs; i++) {
		j = s->jobs[i];
		if (j->running || j->removed || j->next < 0 || !within_limits(s, j))
			continue;
		if (wake < 0 || j->next < wake)
			wake = j->next;
	}
	return wake;
}
