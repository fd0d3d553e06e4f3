/*
 * Reports people read (report.h): one document, checked once against the shape report.h
 * gives, then written as CSV, JSON or one self-contained HTML page with inline SVG charts.
 *
 * The whole document is checked before the first byte is written, so a command never leaves
 * half a report behind a shape error; after the check, writing can only fail on I/O.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "suggest.h"

/* A member path in messages ("sections[2].table.rows[5].records"); keys come from the
 * document, so a very long one is cut rather than allowed to grow the message. */
#define PATH_LEN 256

enum col_type { COL_TEXT, COL_INT, COL_DATE, COL_NUMBER, COL_BAD };

static const char *const col_type_names[] = {"text", "int", "date", "number", NULL};
static const char *const kinds[] = {"reconcile", "violations", "stats", NULL};
static const char *const doc_members[] = {"kind",  "title",   "generated_at", "params",
					  "notes", "summary", "sections",     NULL};
static const char *const section_members[] = {"title", "chart", "table", NULL};
static const char *const table_members[] = {"columns", "rows", NULL};
static const char *const column_members[] = {"key", "zh", "en", "type", NULL};
static const char *const chart_members[] = {"x", "series", NULL};
static const char *const series_members[] = {"name", "values", NULL};

/* ---- small helpers ---- */

static int index_of(const char *const *list, const char *s)
{
	int i;

	for (i = 0; s && list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

static enum col_type col_type(const json_t *col)
{
	int i = index_of(col_type_names, json_string_value(json_object_get(col, "type")));

	return i < 0 ? COL_BAD : (enum col_type)i;
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* What a JSON value is, for "got ..." in messages. */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* The start of `s` (at most ~40 bytes, cut before a character, control characters as '?')
 * for quoting document text in a one-line message. */
static const char *short_text(const char *s, char *buf, size_t size)
{
	size_t i = 0, limit = size < 44 ? size - 4 : 40;

	while (s[i] && i < limit) {
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
		i++;
	}
	if (!s[i]) {
		buf[i] = '\0';
		return buf;
	}
	while (i && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--; /* s[i] is where the cut goes: not inside a UTF-8 sequence */
	memcpy(buf + i, "...", 4);
	return buf;
}

static enum spgw_rc bad(struct spgw_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A shape error: "<path>: <what is wrong>". */
static enum spgw_rc bad(struct spgw_error *err, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0, "%s: %s", path[0] ? path : "report",
			      msg);
}

/* A cut path ends in "..." so that nobody mistakes it for a member of that name. */
static void path_cut(char *dst, int n)
{
	if (n < 0 || n >= PATH_LEN)
		memcpy(dst + PATH_LEN - 4, "...", 4);
}

static void member_path(char *dst, const char *path, const char *member)
{
	path_cut(dst, snprintf(dst, PATH_LEN, "%s%s%s", path, path[0] ? "." : "", member));
}

static void item_path(char *dst, const char *path, size_t i)
{
	path_cut(dst, snprintf(dst, PATH_LEN, "%s[%zu]", path, i));
}

/* ---- the shape check ---- */

/* Every member of `obj` must be one of `allowed`: a misspelt member would otherwise be
 * silently left out of the report. */
static enum spgw_rc check_members(const json_t *obj, const char *path, const char *const *allowed,
				  struct spgw_error *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		struct spgw_suggest sg;
		char list[200] = "", where[PATH_LEN];
		size_t i, n = 0;

		if (index_of(allowed, k) >= 0)
			continue;
		spgw_suggest_init(&sg, k);
		for (i = 0; allowed[i]; i++) {
			spgw_suggest_try(&sg, allowed[i]);
			if (n < sizeof(list))
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
						      i ? ", " : "", allowed[i]);
		}
		member_path(where, path, k);
		if (spgw_suggest_best(&sg))
			return bad(err, where, "unknown member (did you mean \"%s\"?)",
				   spgw_suggest_best(&sg));
		return bad(err, where, "unknown member; expected one of: %s", list);
	}
	return SPGW_OK;
}

/* A required (or, when `optional`, possibly absent) string member; non-empty and on one
 * line when `line` is set. */
static enum spgw_rc check_string(const json_t *obj, const char *path, const char *key,
				 bool optional, bool line, struct spgw_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char where[PATH_LEN];

	member_path(where, path, key);
	if (!v)
		return optional ? SPGW_OK : bad(err, where, "missing; give a string");
	if (!json_is_string(v))
		return bad(err, where, "expected a string, got %s", type_name(v));
	if (line && !json_string_length(v))
		return bad(err, where, "empty; give a non-empty string");
	if (line && strpbrk(json_string_value(v), "\r\n"))
		return bad(err, where, "must be one line (has a line break)");
	return SPGW_OK;
}

static int days_in(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* `n` digits at `s` as a number, -1 when they are not all digits. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (; n; n--, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* "YYYY-MM-DD" (a real calendar day), optionally followed by "THH:MM[:SS[.fff]]" and "Z" or
 * "+HH:MM": what report columns of type "date" hold (business days, last pull times). */
static bool is_date(const char *s)
{
	int y = digits(s, 4), m, d;

	if (y < 0 || s[4] != '-' || (m = digits(s + 5, 2)) < 1 || m > 12 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 1 || d > days_in(y, m))
		return false;
	s += 10;
	if (!*s)
		return true;
	if ((*s != 'T' && *s != ' ') || digits(s + 1, 2) < 0 || digits(s + 1, 2) > 23 ||
	    s[3] != ':' || digits(s + 4, 2) < 0 || digits(s + 4, 2) > 59)
		return false;
	s += 6;
	if (*s == ':') {
		if (digits(s + 1, 2) < 0 || digits(s + 1, 2) > 60)
			return false;
		s += 3;
		if (*s == '.') {
			if (digits(++s, 1) < 0)
				return false;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (!*s)
		return true;
	if (*s == 'Z')
		return !s[1];
	return (*s == '+' || *s == '-') && digits(s + 1, 2) >= 0 && digits(s + 1, 2) <= 23 &&
	       s[3] == ':' && digits(s + 4, 2) >= 0 && digits(s + 4, 2) <= 59 && !s[6];
}

/* Integral reals are accepted in "int" columns (a command may compute a count in doubles);
 * 2^53 is where doubles stop counting exactly. */
static bool is_whole(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return true;
	d = json_real_value(v);
	return json_is_real(v) && d == floor(d) && fabs(d) <= 9007199254740992.0;
}

static enum spgw_rc check_cell(const json_t *v, enum col_type type, const char *path,
			       struct spgw_error *err)
{
	char buf[48];

	if (json_is_null(v))
		return SPGW_OK;
	switch (type) {
	case COL_TEXT:
		if (json_is_string(v))
			return SPGW_OK;
		return bad(err, path, "expected a string for column type \"text\", got %s",
			   type_name(v));
	case COL_INT:
		if (is_whole(v))
			return SPGW_OK;
		if (json_is_real(v))
			return bad(err, path,
				   "expected a whole number for column type \"int\", got %.17g",
				   json_real_value(v));
		return bad(err, path, "expected a number for column type \"int\", got %s",
			   type_name(v));
	case COL_NUMBER:
		if (json_is_number(v))
			return SPGW_OK;
		return bad(err, path, "expected a number for column type \"number\", got %s",
			   type_name(v));
	case COL_DATE:
		if (json_is_string(v) && is_date(json_string_value(v)))
			return SPGW_OK;
		if (json_is_string(v))
			return bad(
				err, path,
				"expected a date YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SSZ) for column "
				"type \"date\", got \"%s\"",
				short_text(json_string_value(v), buf, sizeof(buf)));
		return bad(err, path, "expected a date string for column type \"date\", got %s",
			   type_name(v));
	case COL_BAD:
		break;
	}
	return bad(err, path, "column has no valid type");
}

static enum spgw_rc check_columns(const json_t *cols, const char *path, struct spgw_error *err)
{
	char where[PATH_LEN], at[PATH_LEN];
	enum spgw_rc rc;
	size_t i, j;

	if (!cols)
		return bad(err, path, "missing; give an array of columns (key, zh, en, type)");
	if (!json_is_array(cols))
		return bad(err, path, "expected an array of columns, got %s", type_name(cols));
	if (!json_array_size(cols))
		return bad(err, path, "empty; a table needs at least one column");
	for (i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);
		const char *key;

		item_path(where, path, i);
		if (!json_is_object(c))
			return bad(err, where, "expected an object (key, zh, en, type), got %s",
				   type_name(c));
		if ((rc = check_members(c, where, column_members, err)) ||
		    (rc = check_string(c, where, "key", false, true, err)) ||
		    (rc = check_string(c, where, "zh", false, true, err)) ||
		    (rc = check_string(c, where, "en", false, true, err)))
			return rc;
		key = str_of(c, "key");
		member_path(at, where, "key");
		if (key[0] == '_')
			return bad(err, at,
				   "\"%s\": keys starting with \"_\" are kept for _flag "
				   "and _note",
				   key);
		for (j = 0; j < i; j++)
			if (!strcmp(key, str_of(json_array_get(cols, j), "key")))
				return bad(err, at, "\"%s\" is already the key of columns[%zu]",
					   key, j);
		member_path(at, where, "type");
		if (!json_object_get(c, "type"))
			return bad(err, at,
				   "missing; give \"text\", \"int\", \"date\" or \"number\"");
		if (col_type(c) == COL_BAD)
			return bad(err, at, "expected \"text\", \"int\", \"date\" or \"number\"");
	}
	return SPGW_OK;
}

static const json_t *column_by_key(const json_t *cols, const char *key)
{
	size_t i;

	for (i = 0; i < json_array_size(cols); i++)
		if (!strcmp(key, str_of(json_array_get(cols, i), "key")))
			return json_array_get(cols, i);
	return NULL;
}

static enum spgw_rc check_row(const json_t *row, const json_t *cols, const char *path,
			      struct spgw_error *err)
{
	char where[PATH_LEN];
	enum spgw_rc rc;
	const char *k;
	json_t *v;

	if (!json_is_object(row))
		return bad(err, path, "expected an object (one member per column key), got %s",
			   type_name(row));
	json_object_foreach((json_t *)row, k, v)
	{
		const json_t *col;

		member_path(where, path, k);
		if (!strcmp(k, "_flag")) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v) || (strcmp(json_string_value(v), "differs") &&
						   strcmp(json_string_value(v), "violation")))
				return bad(err, where,
					   "expected \"differs\", \"violation\" or null");
			continue;
		}
		if (!strcmp(k, "_note")) {
			if (!json_is_null(v) && !json_is_string(v))
				return bad(err, where, "expected a string or null, got %s",
					   type_name(v));
			continue;
		}
		col = column_by_key(cols, k);
		if (!col) {
			struct spgw_suggest sg;
			size_t i;

			spgw_suggest_init(&sg, k);
			for (i = 0; i < json_array_size(cols); i++)
				spgw_suggest_try(&sg, str_of(json_array_get(cols, i), "key"));
			spgw_suggest_try(&sg, "_flag");
			spgw_suggest_try(&sg, "_note");
			if (spgw_suggest_best(&sg))
				return bad(err, where, "not a column key (did you mean \"%s\"?)",
					   spgw_suggest_best(&sg));
			return bad(err, where,
				   "not a column key; add the column or drop the "
				   "member");
		}
		if ((rc = check_cell(v, col_type(col), where, err)))
			return rc;
	}
	return SPGW_OK;
}

static enum spgw_rc check_table(const json_t *t, const char *path, struct spgw_error *err)
{
	char where[PATH_LEN], at[PATH_LEN];
	const json_t *cols, *rows;
	enum spgw_rc rc;
	size_t i;

	if (!json_is_object(t))
		return bad(err, path, "expected a table object (columns, rows), got %s",
			   type_name(t));
	if ((rc = check_members(t, path, table_members, err)))
		return rc;
	cols = json_object_get(t, "columns");
	member_path(where, path, "columns");
	if ((rc = check_columns(cols, where, err)))
		return rc;
	rows = json_object_get(t, "rows");
	member_path(where, path, "rows");
	if (!rows)
		return bad(err, where, "missing; give an array of rows ([] for none)");
	if (!json_is_array(rows))
		return bad(err, where, "expected an array of rows, got %s", type_name(rows));
	for (i = 0; i < json_array_size(rows); i++) {
		item_path(at, where, i);
		if ((rc = check_row(json_array_get(rows, i), cols, at, err)))
			return rc;
	}
	return SPGW_OK;
}

static enum spgw_rc check_chart(const json_t *c, const char *path, struct spgw_error *err)
{
	char where[PATH_LEN], at[PATH_LEN], vat[PATH_LEN];
	const json_t *x, *series;
	enum spgw_rc rc;
	size_t i, j, n;

	if (!json_is_object(c))
		return bad(err, path, "expected a chart object (x, series), got %s", type_name(c));
	if ((rc = check_members(c, path, chart_members, err)))
		return rc;
	x = json_object_get(c, "x");
	member_path(where, path, "x");
	if (!json_is_array(x) || !json_array_size(x))
		return bad(err, where, "%s; give a non-empty array of x labels (dates)",
			   x ? "not a non-empty array" : "missing");
	n = json_array_size(x);
	for (i = 0; i < n; i++)
		if (!json_is_string(json_array_get(x, i))) {
			item_path(at, where, i);
			return bad(err, at, "expected a string (an x label), got %s",
				   type_name(json_array_get(x, i)));
		}
	series = json_object_get(c, "series");
	member_path(where, path, "series");
	if (!json_is_array(series) || !json_array_size(series))
		return bad(err, where, "%s; give a non-empty array of {name, values}",
			   series ? "not a non-empty array" : "missing");
	for (i = 0; i < json_array_size(series); i++) {
		const json_t *s = json_array_get(series, i), *vals;

		item_path(at, where, i);
		if (!json_is_object(s))
			return bad(err, at, "expected an object (name, values), got %s",
				   type_name(s));
		if ((rc = check_members(s, at, series_members, err)) ||
		    (rc = check_string(s, at, "name", false, true, err)))
			return rc;
		vals = json_object_get(s, "values");
		member_path(vat, at, "values");
		if (!json_is_array(vals))
			return bad(err, vat,
				   "%s; give an array with one number (or null) per x "
				   "label",
				   vals ? "not an array" : "missing");
		if (json_array_size(vals) != n)
			return bad(err, vat,
				   "%zu values for %zu x labels; give one number (or null) "
				   "per x label",
				   json_array_size(vals), n);
		for (j = 0; j < n; j++) {
			const json_t *v = json_array_get(vals, j);

			if (!json_is_number(v) && !json_is_null(v)) {
				char vi[PATH_LEN];

				item_path(vi, vat, j);
				return bad(err, vi, "expected a number or null, got %s",
					   type_name(v));
			}
		}
	}
	return SPGW_OK;
}

/* The same column key means the same column in every section: CSV puts all sections under
 * one header line, and a reader compares sections column by column. `seen` maps a key to
 * where it was first defined. */
static enum spgw_rc check_same_columns(const json_t *sections, struct spgw_error *err)
{
	json_t *seen = json_object(), *first_at = json_object();
	enum spgw_rc rc = SPGW_OK;
	size_t i, j;

	if (!seen || !first_at) {
		rc = spgw_error_nomem(err, "checking a report's columns");
		goto out;
	}
	for (i = 0; i < json_array_size(sections); i++) {
		const json_t *cols = json_object_get(
			json_object_get(json_array_get(sections, i), "table"), "columns");

		for (j = 0; j < json_array_size(cols); j++) {
			json_t *c = json_array_get(cols, j);
			const char *key = str_of(c, "key");
			const json_t *f = json_object_get(seen, key);
			char where[PATH_LEN];

			if (f) {
				if (strcmp(str_of(c, "zh"), str_of(f, "zh")) ||
				    strcmp(str_of(c, "en"), str_of(f, "en")) ||
				    col_type(c) != col_type(f)) {
					snprintf(where, sizeof(where),
						 "sections[%zu].table.columns[%zu]", i, j);
					rc = bad(err, where,
						 "column \"%s\" differs from its definition in %s "
						 "(zh, "
						 "en or type); a key must mean the same column in "
						 "every "
						 "section",
						 key,
						 json_string_value(json_object_get(first_at, key)));
					goto out;
				}
				continue;
			}
			snprintf(where, sizeof(where), "sections[%zu].table.columns[%zu]", i, j);
			if (json_object_set(seen, key, c) ||
			    json_object_set_new(first_at, key, json_string(where))) {
				rc = spgw_error_nomem(err, "checking a report's columns");
				goto out;
			}
		}
	}
out:
	json_decref(seen);
	json_decref(first_at);
	return rc;
}

static enum spgw_rc check_doc(const json_t *doc, struct spgw_error *err)
{
	const json_t *v, *sections;
	char where[PATH_LEN], at[PATH_LEN];
	enum spgw_rc rc;
	size_t i;

	if (!json_is_object(doc))
		return bad(err, "report", "expected a document object, got %s", type_name(doc));
	if ((rc = check_members(doc, "", doc_members, err)) ||
	    (rc = check_string(doc, "", "kind", false, true, err)))
		return rc;
	if (index_of(kinds, str_of(doc, "kind")) < 0)
		return bad(err, "kind", "expected \"reconcile\", \"violations\" or \"stats\"");
	if ((rc = check_string(doc, "", "title", false, true, err)) ||
	    (rc = check_string(doc, "", "generated_at", false, true, err)))
		return rc;
	v = json_object_get(doc, "params");
	if (v && !json_is_object(v))
		return bad(err, "params", "expected an object, got %s", type_name(v));
	v = json_object_get(doc, "notes");
	if (v && !json_is_array(v))
		return bad(err, "notes", "expected an array of strings, got %s", type_name(v));
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i))) {
			item_path(at, "notes", i);
			return bad(err, at, "expected a string, got %s",
				   type_name(json_array_get(v, i)));
		}
	v = json_object_get(doc, "summary");
	if (v && (rc = check_table(v, "summary", err)))
		return rc;
	sections = json_object_get(doc, "sections");
	if (!sections)
		return SPGW_OK;
	if (!json_is_array(sections))
		return bad(err, "sections", "expected an array, got %s", type_name(sections));
	for (i = 0; i < json_array_size(sections); i++) {
		const json_t *s = json_array_get(sections, i);

		item_path(where, "sections", i);
		if (!json_is_object(s))
			return bad(err, where, "expected an object (title, chart, table), got %s",
				   type_name(s));
		if ((rc = check_members(s, where, section_members, err)) ||
		    (rc = check_string(s, where, "title", false, true, err)))
			return rc;
		if ((v = json_object_get(s, "chart"))) {
			member_path(at, where, "chart");
			if ((rc = check_chart(v, at, err)))
				return rc;
		}
		member_path(at, where, "table");
		if (!(v = json_object_get(s, "table")))
			return bad(err, at, "missing; give the section's table (columns, rows)");
		if ((rc = check_table(v, at, err)))
			return rc;
	}
	return check_same_columns(sections, err);
}

/* ---- numbers ---- */

/* `raw` (digits as printf writes them) into `buf`, with thousands separators in the integer
 * part when `sep` (HTML, for reading); CSV gets plain digits so a spreadsheet reads them as
 * numbers. */
static const char *group_digits(const char *raw, bool sep, char *buf, size_t size)
{
	size_t o = 0, int_digits, i;
	const char *p = raw;

	if (!sep || strchr(raw, 'e')) {
		snprintf(buf, size, "%s", raw);
		return buf;
	}
	if (*p == '-')
		buf[o++] = *p++;
	int_digits = strspn(p, "0123456789");
	for (i = 0; i < int_digits && o + 2 < size; i++) {
		if (i && (int_digits - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = p[i];
	}
	snprintf(buf + o, size - o, "%s", p + int_digits);
	return buf;
}

/* A number as text: integers exactly, reals in their shortest form that reads back the same
 * (whole ones without a fraction). */
static const char *fmt_number(const json_t *v, bool sep, char *buf, size_t size)
{
	char raw[64];

	if (json_is_integer(v)) {
		snprintf(raw, sizeof(raw), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else {
		double d = json_real_value(v);

		if (is_whole(v) && fabs(d) < 1e15) {
			snprintf(raw, sizeof(raw), "%.0f", d == 0 ? 0.0 : d); /* no "-0" */
		} else {
			snprintf(raw, sizeof(raw), "%.15g", d);
			if (strtod(raw, NULL) != d)
				snprintf(raw, sizeof(raw), "%.17g", d);
		}
	}
	return group_digits(raw, sep, buf, size);
}

/* ---- CSV ---- */

/* Bytes of text with C0 control characters other than tab, CR and LF (and DEL) replaced by
 * U+FFFD: they have no place in a report and break viewers. */
static void put_clean(FILE *f, const char *s, size_t n, bool csv_quote)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			fputs("\xEF\xBF\xBD", f);
		else if (c == '"' && csv_quote)
			fputs("\"\"", f);
		else
			putc(c, f);
	}
}

/*
 * One CSV field: `a`, or "a b" when `b` is given (the bilingual headers). RFC 4180: quoted
 * when it holds a comma, quote, CR or LF, with quotes doubled. With `guard` (free text), a
 * field a spreadsheet would take for a formula (=, +, -, @ and more after it) gets a leading
 * apostrophe, because these files are opened in Excel and the text comes from city systems.
 */
static void csv_field(FILE *f, const char *a, size_t an, const char *b, bool guard)
{
	size_t bn = b ? strlen(b) : 0;
	bool quote = memchr(a, ',', an) || memchr(a, '"', an) || memchr(a, '\r', an) ||
		     memchr(a, '\n', an) || (b && strpbrk(b, ",\"\r\n"));

	if (quote)
		putc('"', f);
	if (guard && an > 1 && strchr("=+-@\t\r", a[0]))
		putc('\'', f);
	put_clean(f, a, an, quote);
	if (b) {
		putc(' ', f);
		put_clean(f, b, bn, quote);
	}
	if (quote)
		putc('"', f);
}

static void csv_str(FILE *f, const char *s, bool guard)
{
	csv_field(f, s, strlen(s), NULL, guard);
}

static void csv_value(FILE *f, const json_t *v, enum col_type type)
{
	char num[80];

	if (!v || json_is_null(v))
		return;
	if (type == COL_INT || type == COL_NUMBER)
		fputs(fmt_number(v, false, num, sizeof(num)), f);
	else
		csv_field(f, json_string_value(v), json_string_length(v), NULL, type == COL_TEXT);
}

static void csv_row(FILE *f, const char *section, const json_t *row, const json_t *cols)
{
	const json_t *note = json_object_get(row, "_note");
	size_t i;

	if (section) {
		csv_str(f, section, true);
		putc(',', f);
	}
	for (i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);

		csv_value(f, json_object_get(row, str_of(c, "key")), col_type(c));
		putc(',', f);
	}
	fputs(str_of(row, "_flag"), f); /* checked: "", "differs" or "violation" */
	putc(',', f);
	if (json_is_string(note))
		csv_field(f, json_string_value(note), json_string_length(note), NULL, true);
	fputs("\r\n", f);
}

static void csv_header(FILE *f, bool section, const json_t *cols)
{
	size_t i;

	if (section)
		fputs("部分 section,", f);
	for (i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);

		csv_field(f, str_of(c, "zh"), strlen(str_of(c, "zh")), str_of(c, "en"), true);
		putc(',', f);
	}
	fputs("标记 flag,备注 note\r\n", f);
}

/* The sections' columns in the order they first appear (check_same_columns made sure that a
 * key means one column throughout), so every section fits under one header line. New. */
static json_t *union_columns(const json_t *sections)
{
	json_t *all = json_array();
	size_t i, j;

	for (i = 0; all && i < json_array_size(sections); i++) {
		const json_t *cols = json_object_get(
			json_object_get(json_array_get(sections, i), "table"), "columns");

		for (j = 0; j < json_array_size(cols); j++) {
			json_t *c = json_array_get(cols, j);

			if (!column_by_key(all, str_of(c, "key")) && json_array_append(all, c)) {
				json_decref(all);
				return NULL;
			}
		}
	}
	return all;
}

static enum spgw_rc write_csv(const json_t *doc, FILE *f, struct spgw_error *err)
{
	const json_t *sections = json_object_get(doc, "sections");
	const json_t *summary = json_object_get(doc, "summary");
	json_t *cols;
	size_t i, j;

	fputs("\xEF\xBB\xBF", f);
	if (json_array_size(sections)) {
		cols = union_columns(sections);
		if (!cols)
			return spgw_error_nomem(err, "writing a CSV report");
		csv_header(f, true, cols);
		for (i = 0; i < json_array_size(sections); i++) {
			const json_t *s = json_array_get(sections, i);
			const json_t *rows = json_object_get(json_object_get(s, "table"), "rows");

			for (j = 0; j < json_array_size(rows); j++)
				csv_row(f, str_of(s, "title"), json_array_get(rows, j), cols);
		}
		json_decref(cols);
	} else if (summary) {
		const json_t *rows = json_object_get(summary, "rows");

		cols = json_object_get(summary, "columns");
		csv_header(f, false, cols);
		for (j = 0; j < json_array_size(rows); j++)
			csv_row(f, NULL, json_array_get(rows, j), cols);
	}
	return SPGW_OK;
}

/* ---- HTML ---- */

/* Text for HTML (element content and quoted attribute values alike). */
static void h_n(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				fputs("\xEF\xBF\xBD", f);
			else
				putc(c, f);
		}
	}
}

static void h(FILE *f, const char *s)
{
	h_n(f, s, strlen(s));
}

static void h_json(FILE *f, const json_t *s)
{
	h_n(f, json_string_value(s), json_string_length(s));
}

/* Kept free of anything that loads: only local font names, no url(), no @import. */
static const char css[] =
	"*{box-sizing:border-box}\n"
	"body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"WenQuanYi Micro Hei\","
	"\"Microsoft YaHei\",\"PingFang SC\",\"Helvetica Neue\",Arial,sans-serif;color:#1b1f24;"
	"background:#fff;margin:0 auto;padding:24px 28px;max-width:1240px;font-size:14px;"
	"line-height:1.45}\n"
	"h1{font-size:23px;margin:0 0 6px}\n"
	"h2{font-size:18px;margin:30px 0 8px;padding-bottom:3px;border-bottom:2px solid #2f3b4a;"
	"break-after:avoid}\n"
	".en{color:#57606a;font-weight:normal}\n"
	".meta{color:#3d4650;margin:2px 0 10px}\n"
	"table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}\n"
	"th,td{border:1px solid #c4cad1;padding:3px 8px;vertical-align:top;text-align:left}\n"
	"thead th{background:#eef2f6;font-weight:600}\n"
	"thead th .en{display:block;font-size:11px}\n"
	"th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.date{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
	"td.text,td.note{white-space:pre-line}\n"
	"table.params th{background:#f6f8fa;font-weight:600}\n"
	"ul.notes{margin:6px 0 10px;padding-left:20px}\n"
	"tr.flagged td{background:#fde3e1}\n"
	"tr.flagged td:first-child{box-shadow:inset 4px 0 #c62828}\n"
	".badge{font-weight:700;color:#b71c1c;white-space:nowrap}\n"
	"td.flagcount.some{font-weight:700;color:#b71c1c}\n"
	"td.empty{color:#6a737d;font-style:italic}\n"
	".count{color:#3d4650;margin:0 0 6px}\n"
	"svg.chart{display:block;width:100%;max-width:980px;height:auto;margin:4px 0 6px}\n"
	"svg.chart text{font-size:12px;fill:#24292f}\n"
	"svg.chart .grid{stroke:#e1e4e8;stroke-width:1}\n"
	"svg.chart .axis{stroke:#57606a;stroke-width:1}\n"
	"a{color:#0b4f8a;text-decoration:none}\n"
	"footer{margin-top:28px;color:#6a737d;font-size:12px;border-top:1px solid #d0d7de;"
	"padding-top:6px}\n"
	"@page{size:A4;margin:12mm}\n"
	"@media print{body{padding:0;max-width:none;font-size:11px}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	"thead{display:table-header-group}tr,svg.chart{break-inside:avoid}"
	"section.part{break-before:auto}a{color:inherit}}\n";

static const char *flag_label(const char *flag)
{
	if (!strcmp(flag, "differs"))
		return "不一致 differs";
	if (!strcmp(flag, "violation"))
		return "违规 violation";
	return flag;
}

static const char *kind_label(const char *kind)
{
	if (!strcmp(kind, "reconcile"))
		return "对账 reconciliation";
	if (!strcmp(kind, "violations"))
		return "违规 violations";
	return "统计 statistics";
}

static size_t count_flagged(const json_t *table)
{
	const json_t *rows = json_object_get(table, "rows");
	size_t i, n = 0;

	for (i = 0; i < json_array_size(rows); i++)
		if (json_is_string(json_object_get(json_array_get(rows, i), "_flag")))
			n++;
	return n;
}

static bool has_flag_or_note(const json_t *table)
{
	const json_t *rows = json_object_get(table, "rows");
	size_t i;

	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *r = json_array_get(rows, i);

		if (json_is_string(json_object_get(r, "_flag")) ||
		    json_is_string(json_object_get(r, "_note")))
			return true;
	}
	return false;
}

static const char *cell_class(enum col_type t)
{
	return t == COL_INT || t == COL_NUMBER ? "num" : t == COL_DATE ? "date" : "text";
}

/* A table; the flag and note columns only when some row has a flag or a note. */
static void html_table(FILE *f, const json_t *t, const char *cls)
{
	const json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
	bool marks = has_flag_or_note(t);
	size_t i, j, ncols = json_array_size(cols) + (marks ? 2 : 0);
	char num[80];

	fprintf(f, "<table class=\"%s\">\n<thead><tr>", cls);
	for (i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);

		fprintf(f, "<th class=\"%s\" data-key=\"", cell_class(col_type(c)));
		h(f, str_of(c, "key"));
		fputs("\">", f);
		h(f, str_of(c, "zh"));
		fputs(" <span class=\"en\">", f);
		h(f, str_of(c, "en"));
		fputs("</span></th>", f);
	}
	if (marks)
		fputs("<th>标记 <span class=\"en\">Flag</span></th>"
		      "<th>备注 <span class=\"en\">Note</span></th>",
		      f);
	fputs("</tr></thead>\n<tbody>\n", f);
	if (!json_array_size(rows))
		fprintf(f, "<tr><td class=\"empty\" colspan=\"%zu\">（无记录）no rows</td></tr>\n",
			ncols);
	for (j = 0; j < json_array_size(rows); j++) {
		const json_t *r = json_array_get(rows, j);
		const json_t *flag = json_object_get(r, "_flag"),
			     *note = json_object_get(r, "_note");

		if (json_is_string(flag)) {
			fputs("<tr class=\"flagged flag-", f);
			h_json(f, flag);
			fputc('"', f);
			if (json_is_string(note)) {
				fputs(" title=\"", f);
				h_json(f, note);
				fputc('"', f);
			}
			fputc('>', f);
		} else {
			fputs("<tr>", f);
		}
		for (i = 0; i < json_array_size(cols); i++) {
			const json_t *c = json_array_get(cols, i);
			const json_t *v = json_object_get(r, str_of(c, "key"));
			enum col_type type = col_type(c);

			fprintf(f, "<td class=\"%s\">", cell_class(type));
			if (v && !json_is_null(v)) {
				if (type == COL_INT || type == COL_NUMBER)
					fputs(fmt_number(v, true, num, sizeof(num)), f);
				else
					h_json(f, v);
			}
			fputs("</td>", f);
		}
		if (marks) {
			fputs("<td class=\"flag\">", f);
			if (json_is_string(flag)) {
				fputs("<span class=\"badge\">", f);
				h(f, flag_label(json_string_value(flag)));
				fputs("</span>", f);
			}
			fputs("</td><td class=\"note\">", f);
			if (json_is_string(note))
				h_json(f, note);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

/* ---- SVG line chart ---- */

#define CHART_W 960.0
#define CHART_PLOT_H 240.0
#define CHART_RIGHT 44.0
#define CHART_BOTTOM 34.0
#define CHART_FONT_ASCII 6.8   /* px per ASCII character at 12px: layout estimates only */
#define CHART_FONT_WIDE 12.0   /* px per CJK character at 12px */
#define CHART_MARKERS_UP_TO 40 /* points per series; beyond, markers only blur the lines */

/* Okabe-Ito colours (told apart with colour-blindness) and dash patterns (told apart in black
 * and white); series i takes colour i % 7 and dash i % 6, so no two of the first 42 look the
 * same. */
static const char *const series_colour[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
					    "#E69F00", "#56B4E9", "#000000"};
static const char *const series_dash[] = {"", "9 4", "2 3", "12 4 3 4", "5 5", "1 5"};

static double text_px(const char *s)
{
	double w = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			w += CHART_FONT_ASCII;
		else if ((c & 0xC0) != 0x80)
			w += CHART_FONT_WIDE;
	}
	return w;
}

/* An x label as shown under a tick: at most 12 characters, so neighbours do not collide. */
static void put_label(FILE *f, const char *s)
{
	size_t i = 0, chars = 0;

	while (s[i] && chars < 12) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	h_n(f, s, i);
	if (s[i])
		fputs("…", f);
}

static void dash_attr(FILE *f, size_t i)
{
	const char *d = series_dash[i % (sizeof(series_dash) / sizeof(series_dash[0]))];

	if (d[0])
		fprintf(f, " stroke-dasharray=\"%s\"", d);
}

static const char *colour_of(size_t i)
{
	return series_colour[i % (sizeof(series_colour) / sizeof(series_colour[0]))];
}

/* Later series are drawn thinner, on top: where the counts agree (most days in a
 * reconciliation) the lines lie on each other, and each one still shows around the next. */
static double line_width(size_t i)
{
	return i < 3 ? 3.5 - 0.75 * (double)i : 1.5;
}

/* A marker of series i at (x, y): circle, square, triangle or diamond, so that series are told
 * apart by shape too. */
static void marker(FILE *f, size_t i, double x, double y)
{
	const char *c = colour_of(i);

	switch (i % 4) {
	case 0:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", x, y, c);
		break;
	case 1:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\" fill=\"%s\"/>",
			x - 3, y - 3, c);
		break;
	case 2:
		fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - 4,
			x + 3.5, y + 2.5, x - 3.5, y + 2.5, c);
		break;
	default:
		fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x,
			y - 4, x + 4, y, x, y + 4, x - 4, y, c);
	}
}

/*
 * A "nice" axis: steps of 1, 2 or 5 times a power of ten, about five of them, covering
 * [lo, hi]; whole steps when every value is whole (counts). The axis reaches zero unless the
 * values stay far from it (all above half their maximum): a city's daily counts around 1,800
 * drawn from zero would flatten the difference of a few records that a reconciliation is
 * read for. The value labels say where the axis starts.
 */
static void nice_axis(double lo, double hi, bool whole, double *step, double *a, double *b)
{
	double raw, mag, norm, s;

	if ((lo > 0 && lo <= hi / 2) || hi - lo < 1e-9)
		lo = lo < 0 ? lo : 0;
	if ((hi < 0 && hi >= lo / 2) || hi - lo < 1e-9)
		hi = hi > 0 ? hi : 0;
	if (hi - lo < 1e-9)
		hi = lo + 1;
	raw = (hi - lo) / 5;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	s = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
	if (whole && s < 1)
		s = 1;
	*step = s;
	*a = floor(lo / s + 1e-9) * s;
	*b = ceil(hi / s - 1e-9) * s;
}

/* A value axis label: as many decimals as the step needs, thousands separated. */
static const char *tick_text(double v, double step, char *buf, size_t size)
{
	int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	char raw[64];

	if (fabs(v) < step * 1e-6)
		v = 0; /* no "-0" from rounding */
	snprintf(raw, sizeof(raw), "%.*f", decimals, v);
	return group_digits(raw, true, buf, size);
}

static void html_chart(FILE *f, const json_t *chart, const char *title, size_t idx)
{
	const json_t *x = json_object_get(chart, "x"), *series = json_object_get(chart, "series");
	size_t n = json_array_size(x), ns = json_array_size(series), i, j, k, ticks;
	double lo = INFINITY, hi = -INFINITY, step, a, b, left, top, plot_w, legend_x, legend_y;
	double height, longest = 0;
	bool whole = true, any = false;
	char num[96];

	for (i = 0; i < ns; i++) {
		const json_t *vals = json_object_get(json_array_get(series, i), "values");

		for (j = 0; j < n; j++) {
			const json_t *v = json_array_get(vals, j);
			double d;

			if (!json_is_number(v))
				continue;
			d = json_number_value(v);
			any = true;
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			whole = whole && is_whole(v);
		}
	}
	if (!any)
		lo = hi = 0;
	nice_axis(lo, hi, whole, &step, &a, &b);

	/* the left margin fits the longest value label */
	for (k = 0; a + (double)k * step <= b + step * 1e-6; k++) {
		char buf[96];
		double w = text_px(tick_text(a + (double)k * step, step, buf, sizeof(buf)));

		longest = w > longest ? w : longest;
	}
	left = longest + 16 < 44 ? 44 : longest + 16;
	plot_w = CHART_W - left - CHART_RIGHT;

	/* the legend, wrapped into rows across the top */
	legend_x = left;
	legend_y = 16;
	for (i = 0; i < ns; i++) {
		double w = 34 + text_px(str_of(json_array_get(series, i), "name")) + 22;

		if (legend_x > left && legend_x + w > CHART_W - CHART_RIGHT) {
			legend_x = left;
			legend_y += 20;
		}
		legend_x += w;
	}
	top = legend_y + 18;
	height = top + CHART_PLOT_H + CHART_BOTTOM;

	fprintf(f,
		"<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
		"role=\"img\" aria-labelledby=\"chart%zu-title\">\n<title id=\"chart%zu-title\">",
		CHART_W, height, CHART_W, height, idx, idx);
	h(f, title);
	fputs(" 折线图 line chart</title>\n", f);

	/* legend */
	legend_x = left;
	legend_y = 16;
	for (i = 0; i < ns; i++) {
		const char *name = str_of(json_array_get(series, i), "name");
		double w = 34 + text_px(name) + 22;

		if (legend_x > left && legend_x + w > CHART_W - CHART_RIGHT) {
			legend_x = left;
			legend_y += 20;
		}
		fprintf(f,
			"<g class=\"legend\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"%s\" stroke-width=\"%.2f\"",
			legend_x, legend_y - 4, legend_x + 28, legend_y - 4, colour_of(i),
			line_width(i));
		dash_attr(f, i);
		fputs("/>", f);
		marker(f, i, legend_x + 14, legend_y - 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", legend_x + 34, legend_y);
		h(f, name);
		fputs("</text></g>\n", f);
		legend_x += w;
	}

	/* value grid and ticks */
	for (k = 0; a + (double)k * step <= b + step * 1e-6; k++) {
		double v = a + (double)k * step;
		double y = top + CHART_PLOT_H - (v - a) / (b - a) * CHART_PLOT_H;

		fprintf(f,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
			left, y, left + plot_w, y, left - 6, y + 4);
		fputs(tick_text(v, step, num, sizeof(num)), f);
		fputs("</text>\n", f);
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		left, top, left, top + CHART_PLOT_H, left, top + CHART_PLOT_H, left + plot_w,
		top + CHART_PLOT_H);

	/* x ticks: at most seven, evenly spread, the first and last label always shown */
	ticks = n < 7 ? n : 7;
	for (k = 0; k < ticks; k++) {
		size_t xi = ticks == 1 ? 0
				       : (size_t)llround((double)k * (double)(n - 1) /
							 (double)(ticks - 1));
		double px =
			n == 1 ? left + plot_w / 2 : left + plot_w * (double)xi / (double)(n - 1);

		fprintf(f,
			"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
			px, top + CHART_PLOT_H, px, top + CHART_PLOT_H + 5, px,
			top + CHART_PLOT_H + 20);
		put_label(f, json_string_value(json_array_get(x, xi)));
		fputs("</text>\n", f);
	}

	/* the lines: a null ends a segment (a gap), a point with no neighbour gets a marker */
	for (i = 0; i < ns; i++) {
		const json_t *s = json_array_get(series, i), *vals = json_object_get(s, "values");
		bool pen = false, started = false;

		for (j = 0; j < n; j++) {
			const json_t *v = json_array_get(vals, j);
			double px = n == 1 ? left + plot_w / 2
					   : left + plot_w * (double)j / (double)(n - 1);
			double py;

			if (!json_is_number(v)) {
				pen = false;
				continue;
			}
			py = top + CHART_PLOT_H -
			     (json_number_value(v) - a) / (b - a) * CHART_PLOT_H;
			if (!started) {
				fputs("<path class=\"series\" fill=\"none\" d=\"", f);
				started = true;
			}
			fprintf(f, "%s%.1f %.1f", pen ? "L" : "M", px, py);
			pen = true;
		}
		if (started) {
			fprintf(f,
				"\" stroke=\"%s\" stroke-width=\"%.2f\" stroke-linejoin=\"round\" "
				"stroke-linecap=\"round\"",
				colour_of(i), line_width(i));
			dash_attr(f, i);
			fputs("/>\n", f);
		}
		for (j = 0; j < n; j++) {
			const json_t *v = json_array_get(vals, j);
			bool alone = (j == 0 || !json_is_number(json_array_get(vals, j - 1))) &&
				     (j + 1 == n || !json_is_number(json_array_get(vals, j + 1)));
			double px = n == 1 ? left + plot_w / 2
					   : left + plot_w * (double)j / (double)(n - 1);

			if (!json_is_number(v) || (n > CHART_MARKERS_UP_TO && !alone))
				continue;
			fputs("<g>", f);
			marker(f, i, px,
			       top + CHART_PLOT_H -
				       (json_number_value(v) - a) / (b - a) * CHART_PLOT_H);
			fputs("<title>", f);
			h(f, str_of(s, "name"));
			fputs(" ", f);
			h_json(f, json_array_get(x, j));
			fprintf(f, ": %s</title></g>", fmt_number(v, true, num, sizeof(num)));
		}
		fputs("\n", f);
	}
	fputs("</svg>\n", f);
}

static void html_param_value(FILE *f, const json_t *v)
{
	char num[80];
	char *s;

	if (json_is_string(v))
		h_json(f, v);
	else if (json_is_number(v))
		fputs(fmt_number(v, false, num, sizeof(num)), f);
	else if (json_is_true(v) || json_is_false(v))
		fputs(json_is_true(v) ? "true" : "false", f);
	else if (!json_is_null(v) && (s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY))) {
		h(f, s); /* arrays and objects: shown as given, in compact JSON */
		free(s);
	}
}

static void html_head(FILE *f, const json_t *doc)
{
	const json_t *params = json_object_get(doc, "params"),
		     *notes = json_object_get(doc, "notes");
	const char *k;
	json_t *v;
	size_t i;

	/* The policy makes the browser itself refuse anything from elsewhere, should text ever
	 * slip through that looks like a reference. */
	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"spgw " SPGW_VERSION "\">\n<title>",
	      f);
	h(f, str_of(doc, "title"));
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body class=\"report kind-%s\">\n", css,
		str_of(doc, "kind"));
	fputs("<header>\n<h1>", f);
	h(f, str_of(doc, "title"));
	fputs("</h1>\n<p class=\"meta\">报告类型 <span class=\"en\">Kind</span>：", f);
	h(f, kind_label(str_of(doc, "kind")));
	fputs(" · 生成时间 <span class=\"en\">Generated</span>：<time>", f);
	h(f, str_of(doc, "generated_at"));
	fputs("</time></p>\n", f);
	if (json_object_size(params)) {
		fputs("<table class=\"params\">\n<thead><tr><th colspan=\"2\">参数 "
		      "<span class=\"en\">Parameters</span></th></tr></thead>\n<tbody>\n",
		      f);
		json_object_foreach((json_t *)params, k, v)
		{
			fputs("<tr><th>", f);
			h(f, k);
			fputs("</th><td>", f);
			html_param_value(f, v);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	if (json_array_size(notes)) {
		fputs("<ul class=\"notes\">\n", f);
		for (i = 0; i < json_array_size(notes); i++) {
			fputs("<li>", f);
			h_json(f, json_array_get(notes, i));
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	fputs("</header>\n<main>\n", f);
}

/* The summary: totals, one line per section with its rows and flagged rows, then the
 * document's own summary table. */
static void html_summary(FILE *f, const json_t *doc)
{
	const json_t *sections = json_object_get(doc, "sections");
	const json_t *summary = json_object_get(doc, "summary");
	size_t i, ns = json_array_size(sections), rows = 0, flagged = 0;

	if (!ns && !summary)
		return;
	for (i = 0; i < ns; i++) {
		const json_t *t = json_object_get(json_array_get(sections, i), "table");

		rows += json_array_size(json_object_get(t, "rows"));
		flagged += count_flagged(t);
	}
	if (!ns) {
		rows = json_array_size(json_object_get(summary, "rows"));
		flagged = count_flagged(summary);
	}
	fputs("<section class=\"summary\" id=\"summary\">\n<h2>汇总 <span class=\"en\">Summary"
	      "</span></h2>\n",
	      f);
	if (ns)
		fprintf(f,
			"<p class=\"count\">共 %zu 个部分、%zu 行，其中 <strong>%zu</strong> "
			"行已标记 <span class=\"en\">%zu sections, %zu rows, %zu flagged</span>"
			"</p>\n",
			ns, rows, flagged, ns, rows, flagged);
	else
		fprintf(f,
			"<p class=\"count\">共 %zu 行，其中 <strong>%zu</strong> 行已标记 "
			"<span class=\"en\">%zu rows, %zu flagged</span></p>\n",
			rows, flagged, rows, flagged);
	if (ns) {
		fputs("<table class=\"overview\">\n<thead><tr><th>部分 <span class=\"en\">Section"
		      "</span></th><th class=\"num\">行数 <span class=\"en\">Rows</span></th>"
		      "<th class=\"num\">标记行数 <span class=\"en\">Flagged rows</span></th>"
		      "</tr></thead>\n<tbody>\n",
		      f);
		for (i = 0; i < ns; i++) {
			const json_t *s = json_array_get(sections, i),
				     *t = json_object_get(s, "table");
			size_t nf = count_flagged(t);

			fprintf(f, "<tr%s><td><a href=\"#s%zu\">", nf ? " class=\"has-flags\"" : "",
				i + 1);
			h(f, str_of(s, "title"));
			fprintf(f,
				"</a></td><td class=\"num\">%zu</td>"
				"<td class=\"num flagcount%s\">%zu</td></tr>\n",
				json_array_size(json_object_get(t, "rows")), nf ? " some" : "", nf);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	if (summary)
		html_table(f, summary, "data summary-table");
	fputs("</section>\n", f);
}

static enum spgw_rc write_html(const json_t *doc, FILE *f)
{
	const json_t *sections = json_object_get(doc, "sections");
	size_t i;

	html_head(f, doc);
	html_summary(f, doc);
	for (i = 0; i < json_array_size(sections); i++) {
		const json_t *s = json_array_get(sections, i), *t = json_object_get(s, "table");
		const json_t *chart = json_object_get(s, "chart");
		size_t nf = count_flagged(t);

		fprintf(f, "<section class=\"part\" id=\"s%zu\">\n<h2>", i + 1);
		h(f, str_of(s, "title"));
		fprintf(f,
			"</h2>\n<p class=\"count\">%zu 行，%zu 行已标记 <span class=\"en\">%zu "
			"rows, %zu flagged</span></p>\n",
			json_array_size(json_object_get(t, "rows")), nf,
			json_array_size(json_object_get(t, "rows")), nf);
		if (chart)
			html_chart(f, chart, str_of(s, "title"), i + 1);
		html_table(f, t, "data");
		fputs("</section>\n", f);
	}
	fputs("</main>\n<footer>由 spgw " SPGW_VERSION " 生成 · Generated by spgw " SPGW_VERSION
	      "</footer>\n</body>\n</html>\n",
	      f);
	return SPGW_OK;
}

/* ---- the interface ---- */

int spgw_report_format_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "csv"))
		return SPGW_REPORT_CSV;
	if (!strcasecmp(name, "json"))
		return SPGW_REPORT_JSON;
	if (!strcasecmp(name, "html"))
		return SPGW_REPORT_HTML;
	return -1;
}

int spgw_report_format_of(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	if (!dot || strchr(dot, '/'))
		return -1;
	if (!strcasecmp(dot, ".htm"))
		return SPGW_REPORT_HTML;
	return spgw_report_format_parse(dot + 1);
}

enum spgw_rc spgw_report_write(const json_t *doc, enum spgw_report_format format, FILE *out,
			       struct spgw_error *err)
{
	enum spgw_rc rc;

	if ((rc = check_doc(doc, err)))
		return rc;
	switch (format) {
	case SPGW_REPORT_CSV:
		rc = write_csv(doc, out, err);
		break;
	case SPGW_REPORT_JSON:
		if (json_dumpf(doc, out, JSON_INDENT(2)) == 0)
			fputc('\n', out);
		else
			rc = spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
					    "cannot write the JSON report: %s", strerror(errno));
		break;
	case SPGW_REPORT_HTML:
		rc = write_html(doc, out);
		break;
	default:
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "unknown report format %d; use csv, json or html",
				      (int)format);
	}
	if (rc)
		return rc;
	if (fflush(out) || ferror(out))
		return spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				      "cannot write the report: %s; check the disk space and the "
				      "output",
				      errno ? strerror(errno) : "write error");
	return SPGW_OK;
}

/* A new file beside `path` that nobody else opened, created with mode 0666 so the umask
 * decides its permissions as for any file the user writes. *tmp is its name, new (spgw_free). */
static int open_temp(const char *path, char **tmp)
{
	size_t n = strlen(path) + 32;
	unsigned attempt;
	struct timespec ts;
	int fd = -1;

	*tmp = spgw_malloc(n);
	if (!*tmp) {
		errno = ENOMEM;
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (attempt = 0; attempt < 100; attempt++) {
		snprintf(*tmp, n, "%s.tmp-%ld-%lx", path, (long)getpid(),
			 (unsigned long)ts.tv_nsec + attempt);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		spgw_free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

/* fsync the directory holding `path`, so that the rename survives a crash. */
static void sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? spgw_strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : spgw_strdup(".");
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	spgw_free(dir);
	if (fd < 0)
		return;
	(void)fsync(fd); /* the report is complete under its name either way */
	close(fd);
}

enum spgw_rc spgw_report_save(const json_t *doc, const char *path, struct spgw_error *err)
{
	int format = spgw_report_format_of(path);
	char *tmp = NULL;
	FILE *f = NULL;
	enum spgw_rc rc;
	int fd;

	if (format < 0)
		return spgw_error_set(err, SPGW_E_USAGE, path, 0, 0,
				      "the file name says no report format; end it in .csv, .json "
				      "or .html");
	/* checked before any file exists: a shape error leaves nothing behind */
	if ((rc = check_doc(doc, err)))
		return rc;
	fd = open_temp(path, &tmp);
	if (fd < 0)
		return errno == ENOMEM
			       ? spgw_error_nomem(err, "naming a report's temporary file")
			       : spgw_error_set(
					 err, SPGW_E_IO, path, 0, 0,
					 "cannot create a file beside it: %s; check that the "
					 "directory exists and is writable",
					 strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot write: %s",
				    strerror(errno));
		goto out;
	}
	errno = 0;
	if ((rc = spgw_report_write(doc, (enum spgw_report_format)format, f, err)))
		goto out;
	if (fsync(fileno(f))) {
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot write the report: %s",
				    strerror(errno));
		goto out;
	}
	if (fclose(f)) {
		f = NULL;
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot write the report: %s",
				    strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0,
				    "cannot put the report in place: %s", strerror(errno));
		goto out;
	}
	spgw_free(tmp);
	tmp = NULL;
	sync_dir_of(path);
out:
	if (f)
		fclose(f);
	if (tmp) {
		unlink(tmp);
		spgw_free(tmp);
	}
	if (rc && err && !err->source[0])
		snprintf(err->source, sizeof(err->source), "%s", path);
	return rc;
}
