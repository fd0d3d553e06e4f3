/*
 * Loading the schema file (schema.h; format in config/schema/README.md): read it, check
 * that it is consistent (every problem, with its position), and compile it so that a record
 * is checked without reading JSON definitions again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonpos.h"
#include "spgw_limits.h"
#include "mem.h"
#include "schema_int.h"
#include "suggest.h"

/* ---- problems ---- */

/* One step down from `*at`/`*v` to the member or element `k` whose value is `e`. */
static int descend(const struct spgw_schema_loader *ld, const struct spgw_jsonpos_at **at,
		   const json_t **v, const json_t *e, const char *k)
{
	const struct spgw_jsonpos_at *next = e ? spgw_jsonpos_child(ld->pos, *at, k) : NULL;

	if (!next)
		return 0;
	*at = next;
	*v = e;
	return 1;
}

/*
 * Where a problem is: `path` names it for people ("tables.SPGL_XMJBXXB.fields.GCFW.when",
 * "tables[4]", "codes.SF"; an array element by its "name"), `key` (may be NULL) a member of
 * it. jansson keeps no positions for parsed values, so the path is looked up in the jsonpos
 * index; the deepest place found is given, NULL when there is no index.
 */
static const struct spgw_jsonpos_at *locate(const struct spgw_schema_loader *ld, const char *path,
					    const char *key)
{
	const struct spgw_jsonpos_at *at, *next;
	const json_t *v = ld->s->root, *e = NULL;
	char seg[128], idx[24];
	size_t n, i;

	if (!ld->pos || !(at = spgw_jsonpos_find(ld->pos, "")))
		return NULL;
	while (*path && *path != '(') {
		n = strcspn(path, ".[");
		snprintf(seg, sizeof(seg), "%.*s", (int)n, path);
		path += n;
		if (n && json_is_array(v)) {
			/* an element named by its "name" member */
			json_array_foreach(v, i, e) {
				const char *name = json_string_value(json_object_get(e, "name"));

				if (name && !strcmp(seg, name))
					break;
			}
			snprintf(idx, sizeof(idx), "%zu", i);
			if (!descend(ld, &at, &v, json_array_get(v, i), idx))
				return at;
		} else if (n && !descend(ld, &at, &v, json_object_get(v, seg), seg)) {
			return at;
		}
		if (*path == '[') {
			i = strtoul(path + 1, NULL, 10);
			path += strcspn(path, "]");
			path += *path == ']';
			snprintf(idx, sizeof(idx), "%zu", i);
			if (!descend(ld, &at, &v, json_array_get(v, i), idx))
				return at;
		}
		path += *path == '.';
	}
	/* the member itself, once the path led all the way */
	if (key && (next = spgw_jsonpos_child(ld->pos, at, key)))
		at = next;
	return at;
}

void spgw_schema_problem(struct spgw_schema_loader *ld, enum spgw_rc code, const char *path,
			 const char *key, const char *fmt, ...)
{
	const struct spgw_jsonpos_at *at = locate(ld, path, key);
	char msg[400];
	va_list ap;

	/* never NULL from our callers; the check stops a false "null format" warning that
	 * gcc 12 gives under -fsanitize=address after inlining */
	if (!fmt)
		fmt = "(no detail)";
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spgw_diag_addf(ld->diag, code, ld->s->path, at ? at->line : 0, at ? at->column : 0,
		       "%s: %s", path, msg);
	if (!ld->rc)
		ld->rc = code;
}

void spgw_schema_nomem(struct spgw_schema_loader *ld, const char *path)
{
	spgw_schema_problem(ld, SPGW_E_NOMEM, path, NULL, "out of memory while loading the schema");
}

/* Typos in a key would silently drop a rule: every key must be a known one. */
void spgw_schema_check_keys(struct spgw_schema_loader *ld, const json_t *obj, const char *path,
			    const char *const *allowed)
{
	const char *k;
	const json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, k, v) {
		struct spgw_suggest sg;
		const char *best;

		for (i = 0; allowed[i] && strcmp(k, allowed[i]); i++)
			;
		if (allowed[i])
			continue;
		spgw_suggest_init(&sg, k);
		for (i = 0; allowed[i]; i++)
			spgw_suggest_try(&sg, allowed[i]);
		best = spgw_suggest_best(&sg);
		if (best)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, k,
					    "unknown key \"%s\" (did you mean \"%s\"?)", k, best);
		else
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, k, "unknown key \"%s\"", k);
	}
}

const char *spgw_schema_get_str(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
				const char *path, int required)
{
	const json_t *v = json_object_get(obj, key);

	if (!v && !required)
		return NULL;
	if (!json_is_string(v) || !json_string_length(v)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, key,
				    "\"%s\" must be a non-empty string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* 1 and *out set when present and within [lo, hi]; 0 when absent or wrong (a problem then). */
int spgw_schema_get_int(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			const char *path, int required, json_int_t lo, json_int_t hi,
			json_int_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!v && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, key,
				    "\"%s\" must be an integer from %" JSON_INTEGER_FORMAT
				    " to %" JSON_INTEGER_FORMAT,
				    key, lo, hi);
		return 0;
	}
	*out = json_integer_value(v);
	return 1;
}

int spgw_schema_get_pair(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			 const char *path, json_int_t lo, json_int_t hi, json_int_t pair[2])
{
	const json_t *v = json_object_get(obj, key);
	const json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);

	if (!v)
		return 0;
	if (json_array_size(v) != 2 || !json_is_integer(a) || !json_is_integer(b) ||
	    json_integer_value(a) > json_integer_value(b) || json_integer_value(a) < lo ||
	    json_integer_value(b) > hi) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, key,
				    "\"%s\" must be [low, high], integers from "
				    "%" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT,
				    key, lo, hi);
		return 0;
	}
	pair[0] = json_integer_value(a);
	pair[1] = json_integer_value(b);
	return 1;
}

int spgw_schema_get_number(struct spgw_schema_loader *ld, const json_t *o, const char *key,
			   const char *path, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_number(v)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, key, "\"%s\" must be a number", key);
		return 0;
	}
	*out = json_number_value(v);
	return 1;
}

int spgw_schema_get_bool(struct spgw_schema_loader *ld, const json_t *o, const char *key,
			 const char *path)
{
	const json_t *v = json_object_get(o, key);

	if (v && !json_is_boolean(v))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, key, "\"%s\" must be true or false",
				    key);
	return json_is_true(v);
}

/* ---- lookups (every sorted array starts with its name) ---- */

static int cmp_codes(const void *a, const void *b)
{
	return strcmp(((const struct spgw_codes *)a)->name, ((const struct spgw_codes *)b)->name);
}

static int cmp_format(const void *a, const void *b)
{
	return strcmp(((const struct format_impl *)a)->pub.name,
		      ((const struct format_impl *)b)->pub.name);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct code_entry *)a)->code, ((const struct code_entry *)b)->code);
}

const struct spgw_codes *spgw_schema_find_codes(const struct spgw_schema *s, const char *name)
{
	struct spgw_codes k = { .name = name };

	return s->ncodes ? bsearch(&k, s->codes, s->ncodes, sizeof(k), cmp_codes) : NULL;
}

const struct spgw_format *spgw_schema_find_format(const struct spgw_schema *s, const char *name)
{
	struct format_impl k;
	const struct format_impl *f;

	k.pub.name = name;
	f = s->nformats ? bsearch(&k, s->formats, s->nformats, sizeof(k), cmp_format) : NULL;
	return f ? &f->pub : NULL;
}

/* ---- formats ---- */

static const char *const check_names[] = {
	[SPGW_CHECK_NONE] = "none",	      [SPGW_CHECK_DIGITS] = "digits",
	[SPGW_CHECK_PATTERN] = "pattern",     [SPGW_CHECK_XMDM] = "xmdm",
	[SPGW_CHECK_PREFIX] = "prefix_field", [SPGW_CHECK_USCC] = "uscc",
	[SPGW_CHECK_GBHY] = "gbhy",	      [SPGW_CHECK_DATE] = "date",
	[SPGW_CHECK_DATETIME] = "datetime",
};

static void load_format(struct spgw_schema_loader *ld, const char *name, const json_t *o,
			struct format_impl *fi)
{
	static const char *const keys[] = { "zh",	"check", "hint",
					    "hint_zh",	"list",	 "digits",
					    "pattern",	"field", "suffix_digits",
					    "sections", "note",	 NULL };
	struct spgw_format *f = &fi->pub;
	char path[160];
	const char *check, *list, *pattern, *k;
	const json_t *v, *range;
	json_int_t n, pair[2];
	size_t i;

	snprintf(path, sizeof(path), "formats.%s", name);
	f->name = name;
	f->hint = "";
	if (!json_is_object(o)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "a format must be an object");
		return;
	}
	spgw_schema_check_keys(ld, o, path, keys);
	f->zh = spgw_schema_get_str(ld, o, "zh", path, 1);
	if (!f->zh)
		f->zh = name;
	f->hint = spgw_schema_get_str(ld, o, "hint", path, 0);
	if (!f->hint)
		f->hint = "";
	f->hint_zh = spgw_schema_get_str(ld, o, "hint_zh", path, 0);
	if (!f->hint_zh)
		f->hint_zh = f->hint;
	check = spgw_schema_get_str(ld, o, "check", path, 1);
	for (i = 0; check && i < sizeof(check_names) / sizeof(*check_names); i++)
		if (!strcmp(check, check_names[i]))
			break;
	if (check && i == sizeof(check_names) / sizeof(*check_names))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "unknown check \"%s\" (known: none, digits, "
				    "pattern, xmdm, prefix_field, uscc, gbhy, date, datetime)",
				    check);
	else if (check)
		f->check = (enum spgw_check)i;
	list = spgw_schema_get_str(ld, o, "list", path, 0);
	if (list && (strlen(list) != 1 || (list[0] >= '0' && list[0] <= '9') ||
		     (list[0] >= 'A' && list[0] <= 'Z')))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"list\" must be one separator character, e.g. \",\"");
	else if (list)
		f->list = list[0];
	if (f->check == SPGW_CHECK_DIGITS &&
	    spgw_schema_get_int(ld, o, "digits", path, 1, 1, 64, &n))
		f->digits = (int)n;
	pattern = f->check == SPGW_CHECK_PATTERN ? spgw_schema_get_str(ld, o, "pattern", path, 1)
						 : NULL;
	if (pattern) {
		int e = regcomp(&fi->re, pattern, REG_EXTENDED | REG_NOSUB);
		char why[160];

		if (e) {
			regerror(e, &fi->re, why, sizeof(why));
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"pattern\" is not a POSIX extended "
					    "regular expression: %s",
					    why);
		} else {
			fi->has_re = 1;
		}
	}
	if (f->check == SPGW_CHECK_PREFIX) {
		f->base = spgw_schema_get_str(ld, o, "field", path, 1);
		if (spgw_schema_get_pair(ld, o, "suffix_digits", path, 1, 32, pair)) {
			f->suffix_min = (int)pair[0];
			f->suffix_max = (int)pair[1];
		}
	}
	if (f->check == SPGW_CHECK_GBHY) {
		v = json_object_get(o, "sections");
		if (!json_is_object(v) || !json_object_size(v))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"sections\" must map letters to [low, high]");
		json_object_foreach((json_t *)v, k, range) {
			(void)range; /* spgw_schema_get_pair() reads and checks it */
			if (strlen(k) != 1 || k[0] < 'A' || k[0] > 'Z')
				spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
						    "section \"%s\" is not a letter A-Z", k);
			else if (spgw_schema_get_pair(ld, v, k, path, 1, 99, pair)) {
				f->section_lo[k[0] - 'A'] = (int)pair[0];
				f->section_hi[k[0] - 'A'] = (int)pair[1];
			}
		}
	}
}

/* ---- code tables ---- */

static int add_entries(struct spgw_schema_loader *ld, struct spgw_codes *c, const json_t *o,
		       const char *path, int retired)
{
	const char *k;
	const json_t *v;
	size_t cap = c->n + json_object_size(o);
	struct code_entry *e = spgw_realloc(c->e, (cap ? cap : 1) * sizeof(*e));

	if (!e) {
		spgw_schema_nomem(ld, path);
		return -1;
	}
	c->e = e;
	json_object_foreach((json_t *)o, k, v) {
		struct code_entry *it = &c->e[c->n];

		memset(it, 0, sizeof(*it));
		it->code = k;
		it->retired = retired;
		if (!retired && json_is_string(v)) {
			it->label = json_string_value(v);
		} else if (retired && json_is_object(v)) {
			static const char *const keys[] = { "zh", "replaced_by", "note", NULL };

			spgw_schema_check_keys(ld, v, path, keys);
			it->label = spgw_schema_get_str(ld, v, "zh", path, 1);
			it->replaced_by = spgw_schema_get_str(ld, v, "replaced_by", path, 0);
		} else {
			spgw_schema_problem(
				ld, SPGW_E_SCHEMA, path, NULL, "code \"%s\": %s", k,
				retired ? "a retired code is {\"zh\": ..., \"replaced_by\": ...}"
					: "its label must be a string (\"\" when unknown)");
			continue;
		}
		if (!it->label)
			it->label = "";
		c->n++;
	}
	return 0;
}

static void load_codes(struct spgw_schema_loader *ld, const char *name, const json_t *o,
		       struct spgw_codes *c)
{
	static const char *const keys[] = { "zh",	    "mark",    "values",
					    "values_added", "retired", "range",
					    "seen",	    "note",    NULL };
	static const char *const groups[] = { "values", "values_added", "retired" };
	char path[160];
	json_int_t pair[2];
	size_t i;

	snprintf(path, sizeof(path), "codes.%s", name);
	c->name = name;
	if (!json_is_object(o)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "a code table must be an object");
		return;
	}
	spgw_schema_check_keys(ld, o, path, keys);
	c->zh = spgw_schema_get_str(ld, o, "zh", path, 1);
	if (!c->zh)
		c->zh = name;
	for (i = 0; i < 3; i++) {
		const json_t *g = json_object_get(o, groups[i]);

		if (!g)
			continue;
		if (!json_is_object(g))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"%s\" must be an object", groups[i]);
		else if (add_entries(ld, c, g, path, i == 2))
			return;
	}
	if (!json_object_get(o, "values"))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"values\" is missing ({} when no label is known)");
	if (spgw_schema_get_pair(ld, o, "range", path, -999999999, 999999999, pair)) {
		c->has_range = 1;
		c->lo = pair[0];
		c->hi = pair[1];
	}
	if (c->n)
		qsort(c->e, c->n, sizeof(*c->e), cmp_entry);
	for (i = 1; i < c->n; i++)
		if (!strcmp(c->e[i].code, c->e[i - 1].code))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "code \"%s\" is listed twice", c->e[i].code);
	for (i = 0; i < c->n; i++) {
		const char *r = c->e[i].replaced_by;

		if (r && spgw_codes_find(c, r, NULL, NULL) != 1)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "retired code \"%s\" is replaced by \"%s\", "
					    "which is not a current code of the table",
					    c->e[i].code, r);
	}
}

static int cmp_order(const void *a, const void *b)
{
	const struct spgw_table *x = *(const struct spgw_table *const *)a;
	const struct spgw_table *y = *(const struct spgw_table *const *)b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void load_all(struct spgw_schema_loader *ld)
{
	static const char *const keys[] = { "schema", "title",	"note", "formats",
					    "codes",  "tables", NULL };
	struct spgw_schema *s = ld->s;
	const json_t *formats, *codes, *tables, *v;
	const char *k;
	size_t i;

	if (!json_is_object(s->root)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, "(top)", NULL,
				    "the schema file must hold one JSON object");
		return;
	}
	spgw_schema_check_keys(ld, s->root, "(top)", keys);
	s->id = spgw_schema_get_str(ld, s->root, "schema", "(top)", 1);
	formats = json_object_get(s->root, "formats");
	codes = json_object_get(s->root, "codes");
	tables = json_object_get(s->root, "tables");
	if (!json_is_object(formats) || !json_is_object(codes) || !json_is_array(tables) ||
	    !json_array_size(tables)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, "(top)", NULL,
				    "\"formats\" and \"codes\" must be objects and "
				    "\"tables\" a non-empty array");
		return;
	}
	s->formats = spgw_calloc(json_object_size(formats) + 1, sizeof(*s->formats));
	s->codes = spgw_calloc(json_object_size(codes) + 1, sizeof(*s->codes));
	s->ntables = json_array_size(tables);
	s->tables = spgw_calloc(s->ntables, sizeof(*s->tables));
	s->order = spgw_calloc(s->ntables, sizeof(*s->order));
	if (!s->formats || !s->codes || !s->tables || !s->order) {
		s->ntables = 0;
		spgw_schema_nomem(ld, "(top)");
		return;
	}
	json_object_foreach((json_t *)formats, k, v)
		load_format(ld, k, v, &s->formats[s->nformats++]);
	qsort(s->formats, s->nformats, sizeof(*s->formats), cmp_format);
	for (i = 0; i < 2; i++) {
		const struct spgw_format *d = spgw_schema_find_format(
			s, spgw_schema_type_name((enum spgw_ftype)(SPGW_FT_DATE + i)));

		if (!d || d->check != (i ? SPGW_CHECK_DATETIME : SPGW_CHECK_DATE))
			spgw_schema_problem(
				ld, SPGW_E_SCHEMA, "formats", NULL,
				"format \"%s\" with check \"%s\" is required: date fields use it",
				spgw_schema_type_name((enum spgw_ftype)(SPGW_FT_DATE + i)),
				spgw_schema_type_name((enum spgw_ftype)(SPGW_FT_DATE + i)));
	}
	json_object_foreach((json_t *)codes, k, v)
		load_codes(ld, k, v, &s->codes[s->ncodes++]);
	qsort(s->codes, s->ncodes, sizeof(*s->codes), cmp_codes);
	for (i = 0; i < s->ntables; i++) {
		spgw_schema_load_table(ld, i, json_array_get(tables, i), &s->tables[i]);
		s->order[i] = &s->tables[i];
	}
	if (ld->rc == SPGW_E_NOMEM)
		return;
	s->by_name = spgw_calloc(s->ntables, sizeof(*s->by_name));
	if (!s->by_name) {
		spgw_schema_nomem(ld, "tables");
		return;
	}
	memcpy(s->by_name, s->order, s->ntables * sizeof(*s->by_name));
	qsort(s->by_name, s->ntables, sizeof(*s->by_name), spgw_schema_cmp_named);
	for (i = 1; i < s->ntables; i++)
		if (!strcmp(s->by_name[i]->name, s->by_name[i - 1]->name))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, "tables", NULL,
					    "table \"%s\" is defined twice", s->by_name[i]->name);
	/* parents, rules and days name other tables: all of them are known from here on */
	for (i = 0; i < s->ntables; i++)
		spgw_schema_link_table(ld, &s->tables[i]);
	for (i = 0; i < s->ntables; i++)
		spgw_schema_link_day(ld, &s->tables[i]);
	qsort(s->order, s->ntables, sizeof(*s->order), cmp_order);
}

/* Read the whole file, refusing one beyond SPGW_MAX_CONFIG_FILE (as mapping_load.c does). */
static enum spgw_rc read_file(const char *path, struct spgw_buf *b, struct spgw_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	struct spgw_error e = { 0 };
	enum spgw_rc rc = SPGW_OK;
	size_t n;

	if (!f)
		return spgw_diag_addf(diag, SPGW_E_IO, path, 0, 0,
				      "cannot open the schema file: "
				      "%s; check \"schema\" in the gateway config",
				      strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = spgw_buf_add(b, chunk, n, &e);
		if (rc) {
			spgw_diag_addf(diag, rc, path, 0, 0, "%s", e.text);
			goto out;
		}
	}
	if (ferror(f))
		rc = spgw_diag_addf(diag, SPGW_E_IO, path, 0, 0, "cannot read the schema file: %s",
				    strerror(errno));
out:
	fclose(f);
	return rc;
}

enum spgw_rc spgw_schema_load(const char *path, struct spgw_schema **out, struct spgw_diag *diag)
{
	struct spgw_schema_loader ld = { 0 };
	struct spgw_buf text;
	json_error_t je;

	spgw_buf_init(&text, SPGW_MAX_CONFIG_FILE, "schema file");
	ld.diag = diag;
	ld.s = spgw_calloc(1, sizeof(*ld.s));
	if (!ld.s || !(ld.s->path = spgw_strdup(path))) {
		ld.rc = spgw_diag_addf(diag, SPGW_E_NOMEM, path, 0, 0, "out of memory loading it");
		goto out;
	}
	ld.rc = read_file(path, &text, diag);
	if (ld.rc)
		goto out;
	ld.s->root = json_loadb(text.data ? text.data : "", text.len, JSON_REJECT_DUPLICATES, &je);
	if (!ld.s->root) {
		ld.rc = spgw_diag_addf(diag,
				       json_error_code(&je) == json_error_out_of_memory
					       ? SPGW_E_NOMEM
					       : SPGW_E_SYNTAX,
				       path, je.line, je.column, "not valid JSON: %s", je.text);
		goto out;
	}
	/* positions are a courtesy: without them (out of memory) problems give the path only */
	spgw_jsonpos_new(text.data, text.len, path, &ld.pos, NULL);
	load_all(&ld);
	if (!ld.rc) {
		*out = ld.s;
		ld.s = NULL;
	}
out:
	spgw_jsonpos_free(ld.pos);
	spgw_buf_free(&text);
	spgw_schema_free(ld.s);
	return ld.rc;
}

void spgw_schema_free(struct spgw_schema *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->ntables; i++) {
		struct spgw_table *t = &s->tables[i];

		for (j = 0; j < t->nfields; j++) {
			spgw_free(t->fields[j].why_en);
			spgw_free(t->fields[j].why_zh);
		}
		for (j = 0; j < t->nparents; j++) {
			spgw_free(t->parents[j].fields);
			spgw_free(t->parents[j].pfields);
		}
		spgw_free(t->key);
		spgw_free(t->fields);
		spgw_free(t->by_name);
		spgw_free(t->parents);
		spgw_free(t->day_via);
		spgw_free(t->rules);
	}
	for (i = 0; i < s->nformats; i++)
		if (s->formats[i].has_re)
			regfree(&s->formats[i].re);
	for (i = 0; i < s->ncodes; i++)
		spgw_free(s->codes[i].e);
	spgw_free(s->formats);
	spgw_free(s->codes);
	spgw_free(s->tables);
	spgw_free(s->order);
	spgw_free(s->by_name);
	spgw_free(s->path);
	json_decref(s->root);
	spgw_free(s);
}
