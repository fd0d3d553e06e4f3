/*
 * The national schema as data (schema.h): lookups, the compiled rules validate.c uses,
 * dates and business days, and `spgw schema show`. Loading is in schema_load.c.
 */
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

const char *spgw_schema_type_name(enum spgw_ftype t)
{
	static const char *const names[] = { "str", "int", "dec", "date", "datetime" };

	return (unsigned)t < 5 ? names[t] : "?";
}

static int cmp_code(const void *key, const void *e)
{
	return strcmp(key, ((const struct code_entry *)e)->code);
}

int spgw_schema_cmp_named(const void *a, const void *b)
{
	/* struct spgw_field and struct spgw_table both start with `const char *name` */
	return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static int cmp_key_named_ptr(const void *key, const void *b)
{
	return strcmp(key, **(const char *const *const *)b);
}

const struct spgw_table *spgw_schema_table(const struct spgw_schema *s, const char *name)
{
	struct spgw_table **t;

	if (!s->by_name || !name)
		return NULL;
	t = bsearch(name, s->by_name, s->ntables, sizeof(*t), cmp_key_named_ptr);
	return t ? *t : NULL;
}

const struct spgw_field *spgw_table_field(const struct spgw_table *t, const char *name)
{
	struct spgw_field **f;

	if (!t->by_name || !name)
		return NULL;
	f = bsearch(name, t->by_name, t->nfields, sizeof(*f), cmp_key_named_ptr);
	return f ? *f : NULL;
}

int spgw_format_match(const struct spgw_format *fm, const char *s)
{
	const struct format_impl *fi = (const struct format_impl *)fm;

	return fi->has_re && regexec(&fi->re, s, 0, NULL, 0) == 0;
}

const char *spgw_codes_name(const struct spgw_codes *c)
{
	return c->name;
}

const char *spgw_codes_zh(const struct spgw_codes *c)
{
	return c->zh;
}

int spgw_codes_find(const struct spgw_codes *c, const char *code, const char **label,
		    const char **replaced_by)
{
	const struct code_entry *e = c->n ? bsearch(code, c->e, c->n, sizeof(*e), cmp_code) : NULL;

	if (label)
		*label = e ? e->label : "";
	if (replaced_by)
		*replaced_by = e ? e->replaced_by : NULL;
	if (e)
		return e->retired ? -1 : 1;
	/* a range admits integers written plainly: "7", "-1", not "07" or "7.0" */
	if (c->has_range && code[0]) {
		const char *p = code + (code[0] == '-');
		char *end;
		long long v;

		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]) || strlen(p) > 12)
			return 0;
		v = strtoll(code, &end, 10);
		return !*end && v >= c->lo && v <= c->hi;
	}
	return 0;
}

/* ---- accessors ---- */

const char *spgw_schema_id(const struct spgw_schema *s)
{
	return s->id;
}

size_t spgw_schema_table_count(const struct spgw_schema *s)
{
	return s->ntables;
}

const struct spgw_table *spgw_schema_table_at(const struct spgw_schema *s, size_t i)
{
	return i < s->ntables ? s->order[i] : NULL;
}

const char *spgw_table_name(const struct spgw_table *t)
{
	return t->name;
}

const char *spgw_table_zh(const struct spgw_table *t)
{
	return t->zh;
}

int spgw_table_level(const struct spgw_table *t)
{
	return t->level;
}

size_t spgw_table_field_count(const struct spgw_table *t)
{
	return t->nfields;
}

const struct spgw_field *spgw_table_field_at(const struct spgw_table *t, size_t i)
{
	return i < t->nfields ? &t->fields[i] : NULL;
}

const char *spgw_field_name(const struct spgw_field *f)
{
	return f->name;
}

const char *spgw_field_zh(const struct spgw_field *f)
{
	return f->zh;
}

enum spgw_ftype spgw_field_type(const struct spgw_field *f)
{
	return f->type;
}

int spgw_field_not_sent(const struct spgw_field *f)
{
	return f->not_sent;
}

const json_t *spgw_field_def(const struct spgw_field *f)
{
	return f->def;
}

const json_t *spgw_schema_codes(const struct spgw_schema *s, const char *code_table)
{
	return json_object_get(json_object_get(s->root, "codes"), code_table);
}

const json_t *spgw_table_def(const struct spgw_table *t)
{
	return t->def;
}

const char *const *spgw_table_key(const struct spgw_table *t)
{
	return t->key;
}

const struct spgw_table *spgw_table_parent(const struct spgw_table *t, size_t i,
					   const char *const **fields,
					   const char *const **parent_fields)
{
	if (i >= t->nparents)
		return NULL;
	if (fields)
		*fields = t->parents[i].fields;
	if (parent_fields)
		*parent_fields = t->parents[i].pfields;
	return t->parents[i].table;
}

const struct spgw_field_rules *spgw_field_rules(const struct spgw_field *f)
{
	return &f->rules;
}

const struct spgw_rule *spgw_table_rules(const struct spgw_table *t, size_t *n)
{
	*n = t->nrules;
	return t->rules;
}

static int nonempty(const json_t *v)
{
	return v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v));
}

static int cond_holds(const struct spgw_field *f, const json_t *record)
{
	const json_t *v = json_object_get(record, f->cond_field), *w;
	size_t i;

	if (!nonempty(v))
		return 0;
	if (f->cond_ne) {
		w = json_object_get(record, f->cond_ne);
		return json_is_string(v) && json_is_string(w) &&
		       strcmp(json_string_value(v), json_string_value(w)) != 0;
	}
	json_array_foreach(f->cond_in, i, w) {
		if (json_is_string(w)
			    ? json_is_string(v) &&
				      !strcmp(json_string_value(v), json_string_value(w))
			    : json_is_number(v) && json_number_value(v) == json_number_value(w))
			return 1;
	}
	return 0;
}

enum spgw_need spgw_field_need(const struct spgw_field *f, const json_t *record,
			       const char **why_en, const char **why_zh)
{
	if (why_en)
		*why_en = f->why_en ? f->why_en : "";
	if (why_zh)
		*why_zh = f->why_zh ? f->why_zh : "";
	if (f->req == 'Y')
		return SPGW_NEED_REQUIRED;
	if (f->req != 'C' || !f->cond_field)
		return SPGW_NEED_OPTIONAL;
	if (cond_holds(f, record))
		return SPGW_NEED_REQUIRED;
	return f->otherwise_empty ? SPGW_NEED_EMPTY : SPGW_NEED_OPTIONAL;
}

/* ---- dates and the business day ---- */

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* Days since 1970-01-01 and back (H. Hinnant's civil calendar algorithms). */
static long days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

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

enum spgw_time spgw_schema_time(const char *s, char day[11])
{
	int y, mo, d, h = 0, mi = 0, se = 0, zh, zm, zone = 0, off = 0;
	enum spgw_time kind = SPGW_TIME_DATE;
	const char *p = s + 10;

	if (!s || strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo))
		return SPGW_TIME_BAD;
	if (*p) {
		if ((*p != ' ' && *p != 'T') || !digits(p + 1, 2, &h) || p[3] != ':' ||
		    !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &se) || h > 23 ||
		    mi > 59 || se > 59)
			return SPGW_TIME_BAD;
		kind = *p == ' ' && !p[9] ? SPGW_TIME_DATETIME : SPGW_TIME_OTHER;
		p += 9;
		if (*p == '.' && p[1] >= '0' && p[1] <= '9')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == 'Z') {
			zone = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, colon;

			if (!digits(p + 1, 2, &zh))
				return SPGW_TIME_BAD;
			colon = p[3] == ':';
			if (!digits(p + 3 + colon, 2, &zm) || zh > 23 || zm > 59)
				return SPGW_TIME_BAD;
			zone = 1;
			off = sign * (zh * 60 + zm);
			p += 5 + colon;
		}
		if (*p)
			return SPGW_TIME_BAD;
	}
	if (zone) {
		/* to Beijing time: UTC+8, no daylight saving */
		long mins = days_from_civil(y, mo, d) * 1440L + h * 60 + mi - off + 480;
		long days = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);

		civil_from_days(days, &y, &mo, &d);
		if (y < 1 || y > 9999)
			return SPGW_TIME_BAD;
	}
	if (day)
		snprintf(day, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)mo % 100u,
			 (unsigned)d % 100u); /* in range already: the modulo tells the compiler */
	return kind;
}

enum spgw_day_rule spgw_schema_day(const struct spgw_table *t, const json_t *record, char day[11],
				   const struct spgw_table **parent,
				   const char *const **parent_fields)
{
	const json_t *v;

	switch (t->day) {
	case DAY_FIELD:
		v = json_object_get(record, t->day_field->name);
		if (!json_is_string(v) || !spgw_schema_time(json_string_value(v), day))
			return SPGW_DAY_MISSING;
		return SPGW_DAY_OK;
	case DAY_INHERIT:
	case DAY_CHILD:
		if (parent)
			*parent = t->day_table;
		if (parent_fields)
			*parent_fields = t->day_via;
		return t->day == DAY_INHERIT ? SPGW_DAY_INHERIT : SPGW_DAY_EARLIEST_CHILD;
	}
	return SPGW_DAY_MISSING;
}

/* ---- spgw schema show ---- */

/* Terminal columns of UTF-8 text: East Asian wide characters take two. */
static size_t width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned cp = *p;
		int n = cp < 0x80 ? 0 : cp < 0xE0 ? 1 : cp < 0xF0 ? 2 : 3, i;

		if (n)
			cp &= 0x3F >> n;
		for (i = 0, p++; i < n && (*p & 0xC0) == 0x80; i++, p++)
			cp = (cp << 6) | (*p & 0x3F);
		w += (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
				     (cp >= 0xAC00 && cp <= 0xD7A3) ||
				     (cp >= 0xF900 && cp <= 0xFAFF) ||
				     (cp >= 0xFE30 && cp <= 0xFE4F) ||
				     (cp >= 0xFF00 && cp <= 0xFF60) ||
				     (cp >= 0xFFE0 && cp <= 0xFFE6) ||
				     (cp >= 0x20000 && cp <= 0x3FFFD)
			     ? 2
			     : 1;
	}
	return w;
}

/* Append `s` to the line and pad it to `w` columns. */
static void cell(char *line, size_t size, const char *s, size_t w)
{
	size_t n = strlen(line), have = width(s);

	snprintf(line + n, size - n, "%s", s);
	for (n = strlen(line); have++ < w && n + 1 < size; n++)
		line[n] = ' ';
	line[n] = '\0';
}

static void note(char *notes, size_t size, const char *s)
{
	size_t n = strlen(notes);

	snprintf(notes + n, size - n, "%s%s", n ? "; " : "", s);
}

static void show_list(FILE *out, const char *const *l)
{
	size_t i;

	for (i = 0; l && l[i]; i++)
		fprintf(out, "%s%s", i ? ", " : "", l[i]);
}

static void show_field(FILE *out, const struct spgw_field *f, size_t wname, size_t wzh)
{
	const struct spgw_field_rules *r = &f->rules;
	char type[32], req[2] = { f->not_sent ? '-' : f->req, 0 }, notes[512] = "", line[1024];
	char tmp[300];
	size_t n;

	if (f->type == SPGW_FT_DEC)
		snprintf(type, sizeof(type), "dec(%d,%d)", r->precision, r->scale);
	else if (r->max)
		snprintf(type, sizeof(type), "%s(%d)", spgw_schema_type_name(f->type), r->max);
	else
		snprintf(type, sizeof(type), "%s", spgw_schema_type_name(f->type));
	if (f->not_sent)
		note(notes, sizeof(notes), "not sent (national write-back)");
	if (f->req == 'C') {
		snprintf(tmp, sizeof(tmp), "required when %s%s", f->why_en ? f->why_en : "?",
			 f->otherwise_empty ? ", else empty" : "");
		note(notes, sizeof(notes), tmp);
	}
	if (r->has_min) {
		snprintf(tmp, sizeof(tmp), ">= %g", r->min);
		note(notes, sizeof(notes), tmp);
	}
	if (r->has_warn_above) {
		snprintf(tmp, sizeof(tmp), "warning above %.0f", r->warn_above);
		note(notes, sizeof(notes), tmp);
	}
	if (r->source_region)
		note(notes, sizeof(notes), "= the source's region");
	if (r->warn_outside_region)
		note(notes, sizeof(notes), "warning outside the source's region");
	if (r->count_date)
		note(notes, sizeof(notes), "count date");
	line[0] = '\0';
	cell(line, sizeof(line), "  ", 2);
	cell(line, sizeof(line), f->name, wname + 2);
	cell(line, sizeof(line), f->zh, wzh + 2);
	cell(line, sizeof(line), type, 12);
	cell(line, sizeof(line), req, 5);
	cell(line, sizeof(line), r->codes ? r->codes->name : "", 12);
	cell(line, sizeof(line), r->format && f->type < SPGW_FT_DATE ? r->format->name : "", 13);
	cell(line, sizeof(line), notes, 0);
	for (n = strlen(line); n && line[n - 1] == ' '; n--)
		line[n - 1] = '\0';
	fprintf(out, "%s\n", line);
}

enum spgw_rc spgw_schema_show(const struct spgw_schema *s, const char *table, FILE *out,
			      struct spgw_error *err)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "=", "!=" };
	const struct spgw_table *t = spgw_schema_table(s, table);
	size_t i, wname = 5, wzh = 4;
	char list[1024], line[256];
	int n = 0;

	if (!t) {
		for (i = 0; i < s->ntables && n >= 0 && (size_t)n < sizeof(list); i++)
			n += snprintf(list + n, sizeof(list) - (size_t)n, "%s%s", i ? ", " : "",
				      s->order[i]->name);
		return spgw_error_set(err, SPGW_E_NOTFOUND, s->path, 0, 0,
				      "schema %s has no table \"%s\"; its tables are: %s", s->id,
				      table ? table : "", s->ntables ? list : "(none)");
	}
	fprintf(out, "%s %s\n", t->name, t->zh);
	fprintf(out, "  schema %s, upload level %d\n  key: ", s->id, t->level);
	show_list(out, t->key);
	fputs("\n  parents:", out);
	for (i = 0; i < t->nparents; i++) {
		fprintf(out, "%s %s %s by ", i ? ";" : "", t->parents[i].table->name,
			t->parents[i].table->zh);
		show_list(out, t->parents[i].fields);
	}
	fputs(t->nparents ? "\n" : " none\n", out);
	if (t->day == DAY_FIELD) {
		fprintf(out, "  business day: the Beijing date of %s %s\n", t->day_field->name,
			t->day_field->zh);
	} else {
		fprintf(out, "  business day: %s %s %s, found by ",
			t->day == DAY_INHERIT ? "that of"
					      : "the earliest count date among its records in",
			t->day_table->name, t->day_table->zh);
		show_list(out, t->day_via);
		fputc('\n', out);
	}
	for (i = 0; i < t->nrules; i++)
		fprintf(out, "  rule: %s %s %s\n", t->rules[i].a->name, ops[t->rules[i].cmp],
			t->rules[i].b->name);
	for (i = 0; i < t->nfields; i++) {
		if (width(t->fields[i].name) > wname)
			wname = width(t->fields[i].name);
		if (width(t->fields[i].zh) > wzh)
			wzh = width(t->fields[i].zh);
	}
	line[0] = '\0';
	cell(line, sizeof(line), "  ", 2);
	cell(line, sizeof(line), "field", wname + 2);
	cell(line, sizeof(line), "中文名", wzh + 2);
	cell(line, sizeof(line), "type", 12);
	cell(line, sizeof(line), "req", 5);
	cell(line, sizeof(line), "codes", 12);
	cell(line, sizeof(line), "format", 13);
	fprintf(out, "\n%snotes\n", line);
	for (i = 0; i < t->nfields; i++)
		show_field(out, &t->fields[i], wname, wzh);
	return ferror(out) ? spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
					    "could not write the description of %s", t->name)
			   : SPGW_OK;
}
