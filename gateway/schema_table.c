/*
 * Loading the schema's tables (see schema_load.c for the file itself): fields and their
 * conditions, keys, parents, business-day rules, cross-field rules. Every problem goes to
 * the loader's list with its position; nothing stops at the first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "schema_int.h"

static int good_name(const char *s)
{
	size_t i;

	if (!s || s[0] < 'A' || s[0] > 'Z')
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	/* struct spgw_reason keeps a field name in 48 bytes */
	return i < 48;
}

static void load_field(struct spgw_schema_loader *ld, const char *tpath, size_t i, const json_t *o,
		       struct spgw_field *f)
{
	static const char *const keys[] = {
		"name",		 "zh",	     "type", "max",	   "precision",
		"scale",	 "required", "when", "otherwise",  "codes",
		"format",	 "not_sent", "min",  "warn_above", "warn_outside_region",
		"source_region", "mark",     "note", NULL
	};
	struct spgw_field_rules *r = &f->rules;
	char path[256];
	const char *s;
	json_int_t n;
	size_t k;

	snprintf(path, sizeof(path), "%s.fields[%zu]", tpath, i);
	f->def = o;
	f->name = "?";
	f->zh = "?";
	if (!json_is_object(o)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "a field must be an object");
		return;
	}
	s = spgw_schema_get_str(ld, o, "name", path, 1);
	if (s && !good_name(s))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "field name \"%s\" must be A-Z, 0-9 and _, "
				    "at most 47 characters",
				    s);
	if (s) {
		f->name = s;
		snprintf(path, sizeof(path), "%s.fields.%s", tpath, s);
	}
	spgw_schema_check_keys(ld, o, path, keys);
	s = spgw_schema_get_str(ld, o, "zh", path, 1);
	f->zh = s ? s : f->name;
	s = spgw_schema_get_str(ld, o, "type", path, 1);
	for (k = 0; s && k < 5; k++)
		if (!strcmp(s, spgw_schema_type_name((enum spgw_ftype)k)))
			break;
	if (s && k == 5)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "type",
				    "unknown type \"%s\" (str, int, dec, date, datetime)", s);
	else if (s)
		f->type = (enum spgw_ftype)k;
	if (f->type == SPGW_FT_STR && spgw_schema_get_int(ld, o, "max", path, 1, 1, 1000000, &n))
		r->max = (int)n;
	else if (f->type == SPGW_FT_INT && spgw_schema_get_int(ld, o, "max", path, 0, 1, 20, &n))
		r->max = (int)n;
	else if (f->type != SPGW_FT_STR && f->type != SPGW_FT_INT && json_object_get(o, "max"))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"max\" is for str and int fields only");
	if (f->type == SPGW_FT_DEC) {
		if (spgw_schema_get_int(ld, o, "precision", path, 1, 1, 38, &n))
			r->precision = (int)n;
		if (spgw_schema_get_int(ld, o, "scale", path, 1, 0, 38, &n))
			r->scale = (int)n;
		if (r->scale > r->precision)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"scale\" is larger than \"precision\"");
	} else if (json_object_get(o, "precision") || json_object_get(o, "scale")) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"precision\" and \"scale\" are for dec fields only");
	}
	f->req = 'N';
	s = spgw_schema_get_str(ld, o, "required", path, 1);
	if (s && (strlen(s) != 1 || !strchr("YNC", s[0])))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"required\" must be \"Y\", \"N\" or \"C\"");
	else if (s)
		f->req = s[0];
	s = spgw_schema_get_str(ld, o, "otherwise", path, 0);
	if (s && strcmp(s, "empty") && strcmp(s, "optional"))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"otherwise\" must be \"empty\" or \"optional\"");
	f->otherwise_empty = s && !strcmp(s, "empty");
	if ((f->req == 'C') != (json_object_get(o, "when") != NULL))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"when\" goes with \"required\": \"C\" and only with it");
	if (s && f->req != 'C')
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"otherwise\" goes with \"required\": \"C\" only");
	f->not_sent = spgw_schema_get_bool(ld, o, "not_sent", path);
	if (f->not_sent && f->req != 'N')
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "a not_sent field cannot be required");
	r->source_region = spgw_schema_get_bool(ld, o, "source_region", path);
	r->warn_outside_region = spgw_schema_get_bool(ld, o, "warn_outside_region", path);
	if ((r->source_region || r->warn_outside_region) && f->type != SPGW_FT_STR)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "region checks are for str fields only");
	r->has_min = spgw_schema_get_number(ld, o, "min", path, &r->min);
	r->has_warn_above = spgw_schema_get_number(ld, o, "warn_above", path, &r->warn_above);
	if ((r->has_min || r->has_warn_above) && f->type != SPGW_FT_INT && f->type != SPGW_FT_DEC)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"min\" and \"warn_above\" are for int and dec fields only");
	s = spgw_schema_get_str(ld, o, "codes", path, 0);
	if (s && !(r->codes = spgw_schema_find_codes(ld->s, s)))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "codes", "unknown code table \"%s\"",
				    s);
	if (s && f->type != SPGW_FT_STR && f->type != SPGW_FT_INT)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "a code table needs a str or int field");
	s = spgw_schema_get_str(ld, o, "format", path, 0);
	if (!s && (f->type == SPGW_FT_DATE || f->type == SPGW_FT_DATETIME))
		s = spgw_schema_type_name(f->type);
	if (s && !(r->format = spgw_schema_find_format(ld->s, s)))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "format", "unknown format \"%s\"", s);
	if (json_object_get(o, "format") && f->type != SPGW_FT_STR)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "a format needs a str field (date types have theirs)");
	s = spgw_schema_get_str(ld, o, "mark", path, 0);
	if (s && strcmp(s, "C") && strcmp(s, "I") && strcmp(s, "U"))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"mark\" must be \"C\", \"I\" or \"U\"");
}

/* The condition of a "C" field: its fields must exist; say it in words once, here. */
static void load_cond(struct spgw_schema_loader *ld, const char *tpath, const struct spgw_table *t,
		      struct spgw_field *f)
{
	static const char *const keys[] = { "field", "in", "ne_field", "note", NULL };
	const json_t *w = json_object_get(f->def, "when");
	const struct spgw_field *a, *b = NULL;
	char path[256], en[256], zh[384], vals[96];
	size_t i, n = 0;

	if (!w)
		return;
	snprintf(path, sizeof(path), "%s.fields.%s.when", tpath, f->name);
	if (!json_is_object(w)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "\"when\" must be an object");
		return;
	}
	spgw_schema_check_keys(ld, w, path, keys);
	f->cond_field = spgw_schema_get_str(ld, w, "field", path, 1);
	f->cond_ne = spgw_schema_get_str(ld, w, "ne_field", path, 0);
	f->cond_in = json_object_get(w, "in");
	if (!f->cond_field)
		return;
	a = spgw_table_field(t, f->cond_field);
	if (!a)
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown field \"%s\"",
				    f->cond_field);
	if (f->cond_ne && !(b = spgw_table_field(t, f->cond_ne)))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown field \"%s\"",
				    f->cond_ne);
	if (!f->cond_ne == !f->cond_in) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "give either \"in\": [values] or \"ne_field\"");
		return;
	}
	if (!a || (f->cond_ne && !b))
		return;
	vals[0] = '\0';
	for (i = 0; f->cond_in && i < json_array_size(f->cond_in); i++) {
		const json_t *v = json_array_get(f->cond_in, i);

		/* "4, 5, 13" for English; the Chinese text joins with 、 (below) */
		if (json_is_integer(v))
			n += (size_t)snprintf(vals + n, n < sizeof(vals) ? sizeof(vals) - n : 0,
					      "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
					      json_integer_value(v));
		else if (json_is_string(v))
			n += (size_t)snprintf(vals + n, n < sizeof(vals) ? sizeof(vals) - n : 0,
					      "%s%s", i ? ", " : "", json_string_value(v));
		else
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"in\" holds integers and strings only");
	}
	if (f->cond_in && (!json_is_array(f->cond_in) || !json_array_size(f->cond_in)))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"in\" must be a non-empty array");
	if (f->cond_ne) {
		snprintf(en, sizeof(en), "%s differs from %s", a->name, b->name);
		snprintf(zh, sizeof(zh), "%s（%s）与%s（%s）不同", a->zh, a->name, b->zh, b->name);
	} else {
		snprintf(en, sizeof(en), "%s is %s%s", a->name, i > 1 ? "one of " : "", vals);
		snprintf(zh, sizeof(zh), "%s（%s）为“", a->zh, a->name);
		for (n = 0; vals[n] && strlen(zh) + 4 < sizeof(zh); n++) {
			size_t z = strlen(zh);

			if (vals[n] == ',' && vals[n + 1] == ' ') {
				snprintf(zh + z, sizeof(zh) - z, "、");
				n++;
			} else {
				zh[z] = vals[n];
				zh[z + 1] = '\0';
			}
		}
		snprintf(zh + strlen(zh), sizeof(zh) - strlen(zh), "”%s", i > 1 ? "之一" : "");
	}
	f->why_en = spgw_strdup(en);
	f->why_zh = spgw_strdup(zh);
	if (!f->why_en || !f->why_zh)
		spgw_schema_nomem(ld, path);
}

/* ---- tables ---- */

/* A NULL-terminated copy of a list of this table's field names (the strings are borrowed). */
static const char **field_list(struct spgw_schema_loader *ld, const struct spgw_table *t,
			       const json_t *a, const char *path, const char *what)
{
	const char **out;
	size_t i;

	if (!json_is_array(a) || !json_array_size(a)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, what,
				    "\"%s\" must be a non-empty array of field names", what);
		return NULL;
	}
	out = spgw_calloc(json_array_size(a) + 1, sizeof(*out));
	if (!out) {
		spgw_schema_nomem(ld, path);
		return NULL;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const char *name = json_string_value(json_array_get(a, i));

		if (!name || !spgw_table_field(t, name))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, what,
					    "\"%s\"[%zu]: %s%s%s is not a field of %s", what, i,
					    name ? "\"" : "", name ? name : "a non-string",
					    name ? "\"" : "", t->name);
		out[i] = name ? name : "?";
	}
	return out;
}

static size_t list_len(const char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

static const char **copy_list(struct spgw_schema_loader *ld, const char *const *l, const char *path)
{
	const char **out = spgw_calloc(list_len(l) + 1, sizeof(*out));

	if (!out)
		spgw_schema_nomem(ld, path);
	else if (l)
		memcpy(out, l, list_len(l) * sizeof(*out));
	return out;
}

void spgw_schema_load_table(struct spgw_schema_loader *ld, size_t idx, const json_t *o,
			    struct spgw_table *t)
{
	static const char *const keys[] = { "name",    "zh",  "level", "mark",	 "note", "key",
					    "parents", "day", "rules", "fields", "sequence", NULL };
	char path[160];
	const json_t *fields;
	json_int_t n;
	size_t i;

	snprintf(path, sizeof(path), "tables[%zu]", idx);
	t->def = o;
	t->index = idx;
	t->name = "?";
	t->zh = "?";
	if (!json_is_object(o)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "a table must be an object");
		return;
	}
	if (spgw_schema_get_str(ld, o, "name", path, 1)) {
		t->name = json_string_value(json_object_get(o, "name"));
		snprintf(path, sizeof(path), "tables.%s", t->name);
	}
	spgw_schema_check_keys(ld, o, path, keys);
	if (spgw_schema_get_str(ld, o, "zh", path, 1))
		t->zh = json_string_value(json_object_get(o, "zh"));
	if (spgw_schema_get_int(ld, o, "level", path, 1, 0, 99, &n))
		t->level = (int)n;
	fields = json_object_get(o, "fields");
	if (!json_is_array(fields) || !json_array_size(fields)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"fields\" must be a non-empty array");
		return;
	}
	t->nfields = json_array_size(fields);
	t->fields = spgw_calloc(t->nfields, sizeof(*t->fields));
	t->by_name = spgw_calloc(t->nfields, sizeof(*t->by_name));
	if (!t->fields || !t->by_name) {
		t->nfields = 0;
		spgw_schema_nomem(ld, path);
		return;
	}
	for (i = 0; i < t->nfields; i++) {
		load_field(ld, path, i, json_array_get(fields, i), &t->fields[i]);
		t->by_name[i] = &t->fields[i];
	}
	qsort(t->by_name, t->nfields, sizeof(*t->by_name), spgw_schema_cmp_named);
	for (i = 1; i < t->nfields; i++)
		if (!strcmp(t->by_name[i]->name, t->by_name[i - 1]->name))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "field \"%s\" is defined twice", t->by_name[i]->name);
	for (i = 0; i < t->nfields; i++) {
		const struct spgw_format *fm = t->fields[i].rules.format;

		load_cond(ld, path, t, &t->fields[i]);
		if (fm && fm->check == SPGW_CHECK_PREFIX && fm->base &&
		    !spgw_table_field(t, fm->base))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "field \"%s\" has format \"%s\", which needs "
					    "a field \"%s\" in the same table",
					    t->fields[i].name, fm->name, fm->base);
	}
	t->key = field_list(ld, t, json_object_get(o, "key"), path, "key");
	for (i = 0; t->key && t->key[i]; i++) {
		const struct spgw_field *f = spgw_table_field(t, t->key[i]);

		if (f && (f->not_sent || f->req != 'Y'))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "key",
					    "key field %s must be required \"Y\"", t->key[i]);
	}
}

static void load_parents(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	static const char *const keys[] = { "table", "fields", "parent_fields", "note", NULL };
	const json_t *a = json_object_get(t->def, "parents");
	char path[200];
	size_t i, j;

	snprintf(path, sizeof(path), "tables.%s.parents", t->name);
	if (!json_is_array(a)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"parents\" must be an array ([] for none)");
		return;
	}
	t->parents = spgw_calloc(json_array_size(a) + 1, sizeof(*t->parents));
	if (!t->parents) {
		spgw_schema_nomem(ld, path);
		return;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *p = json_array_get(a, i);
		const char *name, **pf = NULL;
		const struct spgw_table *pt;
		struct parent *par = &t->parents[t->nparents];

		snprintf(path, sizeof(path), "tables.%s.parents[%zu]", t->name, i);
		if (!json_is_object(p)) {
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "a parent is {\"table\": ..., \"fields\": [...]}");
			continue;
		}
		spgw_schema_check_keys(ld, p, path, keys);
		name = spgw_schema_get_str(ld, p, "table", path, 1);
		pt = name ? spgw_schema_table(ld->s, name) : NULL;
		if (name && !pt)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown table \"%s\"",
					    name);
		par->fields = field_list(ld, t, json_object_get(p, "fields"), path, "fields");
		if (!pt || !par->fields) {
			spgw_free(par->fields);
			par->fields = NULL;
			continue;
		}
		par->table = pt;
		t->nparents++;
		if (json_object_get(p, "parent_fields")) {
			/* a reference by part of the parent's key, by name in the parent */
			pf = field_list(ld, pt, json_object_get(p, "parent_fields"), path,
					"parent_fields");
			if (pf && list_len(pf) != list_len(par->fields))
				spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
						    "\"fields\" and \"parent_fields\" "
						    "differ in length");
		} else if (list_len(par->fields) != list_len(pt->key)) {
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "%zu fields do not form the key of %s (%zu "
					    "fields); list them in the parent's key order or give "
					    "\"parent_fields\"",
					    list_len(par->fields), pt->name, list_len(pt->key));
		} else {
			pf = copy_list(ld, pt->key, path);
		}
		par->pfields = pf;
		if (pt->level >= t->level)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "%s (level %d) must have a higher level than "
					    "its parent %s (level %d): parents are uploaded first",
					    t->name, t->level, pt->name, pt->level);
		for (j = 0; j < t->nparents - 1; j++)
			if (t->parents[j].table == pt)
				spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
						    "%s is named twice", pt->name);
	}
}

static const struct parent *parent_of(const struct spgw_table *t, const struct spgw_table *p)
{
	size_t i;

	for (i = 0; i < t->nparents; i++)
		if (t->parents[i].table == p)
			return &t->parents[i];
	return NULL;
}

static void load_day(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	static const char *const keys[] = { "field", "inherit", "earliest_child",
					    "via",   "note",	NULL };
	const json_t *d = json_object_get(t->def, "day");
	const char *f = NULL, *inh = NULL, *ch = NULL;
	const struct spgw_table *other = NULL;
	const struct parent *par;
	char path[200];

	snprintf(path, sizeof(path), "tables.%s.day", t->name);
	if (!json_is_object(d)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"day\" must be {\"field\": F}, {\"inherit\": "
				    "TABLE} or {\"earliest_child\": TABLE, \"via\": [...]}");
		return;
	}
	spgw_schema_check_keys(ld, d, path, keys);
	f = spgw_schema_get_str(ld, d, "field", path, 0);
	inh = spgw_schema_get_str(ld, d, "inherit", path, 0);
	ch = spgw_schema_get_str(ld, d, "earliest_child", path, 0);
	if (!!f + !!inh + !!ch != 1) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "give exactly one of \"field\", \"inherit\", "
				    "\"earliest_child\"");
		return;
	}
	if (f) {
		struct spgw_field *fd = (struct spgw_field *)spgw_table_field(t, f);

		t->day = DAY_FIELD;
		if (!fd)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown field \"%s\"",
					    f);
		else if (fd->type != SPGW_FT_DATE && fd->type != SPGW_FT_DATETIME)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "count-date field %s must be a date or datetime", f);
		else if (fd->req != 'Y')
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "count-date field %s must be required \"Y\": "
					    "a record without it has no business day",
					    f);
		if (fd)
			fd->rules.count_date = 1;
		t->day_field = fd;
		if (json_object_get(d, "via"))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "\"via\" goes with inherit or earliest_child");
		return;
	}
	other = spgw_schema_table(ld->s, inh ? inh : ch);
	if (!other) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown table \"%s\"",
				    inh ? inh : ch);
		return;
	}
	if (other == t) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "a table cannot take its day from itself");
		return;
	}
	t->day = inh ? DAY_INHERIT : DAY_CHILD;
	t->day_table = other;
	if (json_object_get(d, "via")) {
		t->day_via = field_list(ld, t, json_object_get(d, "via"), path, "via");
	} else if (inh && (par = parent_of(t, other))) {
		t->day_via = copy_list(ld, par->fields, path);
	} else {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "\"via\" is missing: %s",
				    inh ? "the table is not "
					  "a parent, so name the fields that form its key"
					: "name the fields the child uses to reference this table");
		return;
	}
	if (!t->day_via)
		return;
	if (inh && list_len(t->day_via) != list_len(other->key))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"via\" has %zu fields; the key of %s has %zu",
				    list_len(t->day_via), other->name, list_len(other->key));
	if (ch && !(par = parent_of(other, t)))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "%s does not name %s among its parents", ch, t->name);
	else if (ch && list_len(par->fields) != list_len(t->day_via))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"via\" must match the fields %s references %s by", ch,
				    t->name);
	/* the child's own rule may not be compiled yet: read its definition */
	if (ch && !json_is_string(json_object_get(json_object_get(other->def, "day"), "field")))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "child %s must have a count-date field", ch);
}

static void load_rules(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	static const char *const keys[] = { "field", "op", "other", "note", NULL };
	static const char *const ops[] = { "<", "<=", ">", ">=", "=", "!=" };
	const json_t *a = json_object_get(t->def, "rules");
	char path[200];
	size_t i, k;

	if (!a)
		return;
	snprintf(path, sizeof(path), "tables.%s.rules", t->name);
	if (!json_is_array(a)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "\"rules\" must be an array");
		return;
	}
	t->rules = spgw_calloc(json_array_size(a) + 1, sizeof(*t->rules));
	if (!t->rules) {
		spgw_schema_nomem(ld, path);
		return;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *r = json_array_get(a, i);
		struct spgw_rule *out = &t->rules[t->nrules];
		const char *fa, *fb, *op;
		int da, db;

		snprintf(path, sizeof(path), "tables.%s.rules[%zu]", t->name, i);
		if (!json_is_object(r)) {
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "a rule is {\"field\", \"op\", \"other\"}");
			continue;
		}
		spgw_schema_check_keys(ld, r, path, keys);
		fa = spgw_schema_get_str(ld, r, "field", path, 1);
		fb = spgw_schema_get_str(ld, r, "other", path, 1);
		op = spgw_schema_get_str(ld, r, "op", path, 1);
		for (k = 0; op && k < 6; k++)
			if (!strcmp(op, ops[k]))
				break;
		if (op && k == 6)
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "unknown op \"%s\" (<, <=, >, >=, =, !=)", op);
		out->a = fa ? spgw_table_field(t, fa) : NULL;
		out->b = fb ? spgw_table_field(t, fb) : NULL;
		if ((fa && !out->a) || (fb && !out->b))
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown field \"%s\"",
					    out->a ? fb : fa);
		if (!out->a || !out->b || !op || k == 6)
			continue;
		da = out->a->type >= SPGW_FT_DATE;
		db = out->b->type >= SPGW_FT_DATE;
		if (da != db || (out->a->type == SPGW_FT_STR) != (out->b->type == SPGW_FT_STR)) {
			spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
					    "%s and %s cannot be compared", fa, fb);
			continue;
		}
		out->cmp = (enum spgw_cmp)k;
		t->nrules++;
	}
}

/* Levels already order parents first; a cycle is still named as such, it reads better. */
static int find_cycle(const struct spgw_table *t, const struct spgw_table *start, int depth)
{
	size_t i;

	if (depth > 64)
		return 0;
	for (i = 0; i < t->nparents; i++)
		if (t->parents[i].table == start ||
		    find_cycle(t->parents[i].table, start, depth + 1))
			return 1;
	return 0;
}

/* Position of `name` in the table's key, or -1. */
static int key_pos(const struct spgw_table *t, const char *name)
{
	int i;

	for (i = 0; name && t->key && t->key[i]; i++)
		if (!strcmp(t->key[i], name))
			return i;
	return -1;
}

/*
 * "sequence": {"rule": "blzt", "field": "BLZT", "time": "BLSJ"}: the records sharing this
 * table's first parent form an event log whose codes must follow `rule` in time order.
 * Both fields must be in the unique key: siblings are then read from their keys alone.
 */
static void load_sequence(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	static const char *const keys[] = { "rule", "field", "time", "note", NULL };
	const json_t *q = json_object_get(t->def, "sequence");
	const char *rule, *f, *tm;
	const struct spgw_field *fd, *td;
	char path[200];

	if (!q)
		return;
	snprintf(path, sizeof(path), "tables.%s.sequence", t->name);
	if (!json_is_object(q)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "\"sequence\" must be {\"rule\": ..., \"field\": F, "
				    "\"time\": T}");
		return;
	}
	spgw_schema_check_keys(ld, q, path, keys);
	rule = spgw_schema_get_str(ld, q, "rule", path, 1);
	f = spgw_schema_get_str(ld, q, "field", path, 1);
	tm = spgw_schema_get_str(ld, q, "time", path, 1);
	if (!rule || !f || !tm)
		return;
	if (strcmp(rule, "blzt")) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "rule",
				    "unknown sequence rule \"%s\" (known: blzt)", rule);
		return;
	}
	fd = spgw_table_field(t, f);
	td = spgw_table_field(t, tm);
	if (!fd || !td) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL, "unknown field \"%s\"",
				    fd ? tm : f);
		return;
	}
	if (fd->type != SPGW_FT_INT || (td->type != SPGW_FT_DATETIME && td->type != SPGW_FT_DATE)) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "%s must be an int field and %s a date or datetime field", f, tm);
		return;
	}
	if (key_pos(t, f) < 0 || key_pos(t, tm) < 0 || !t->nparents) {
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, NULL,
				    "%s and %s must be in the table's key, and the table must have a "
				    "parent (the log's owner)", f, tm);
		return;
	}
	t->seq.rule = rule;
	t->seq.field = f;
	t->seq.time = tm;
	t->seq.field_pos = (size_t)key_pos(t, f);
	t->seq.time_pos = (size_t)key_pos(t, tm);
	t->has_seq = 1;
}

void spgw_schema_link_table(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	load_parents(ld, t);
	load_rules(ld, t);
	load_sequence(ld, t);
}

const struct spgw_sequence *spgw_table_sequence(const struct spgw_table *t)
{
	return t->has_seq ? &t->seq : NULL;
}

void spgw_schema_link_day(struct spgw_schema_loader *ld, struct spgw_table *t)
{
	char path[160];

	snprintf(path, sizeof(path), "tables.%s", t->name);
	load_day(ld, t);
	if (find_cycle(t, t, 0))
		spgw_schema_problem(ld, SPGW_E_SCHEMA, path, "parents",
				    "parents form a cycle back to %s", t->name);
}
