/*
 * Loading a mapping file (see mapping.h and config/mappings/README.md): read it, check its
 * tables and emits against the format and the schema, and compile them into the structs of
 * mapping_int.h (value rules and conditions: mapping_rule.c). Every problem goes to the
 * caller's diag with the file, line:column (from jsonpos) and rule path, so a city team fixes
 * them all in one round.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonpos.h"
#include "spgw_limits.h"
#include "mapping_int.h"
#include "suggest.h"
#include "mem.h"
#include "text.h"

const char *spgw_mapping_where(char *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w, MAPPING_WHERE_MAX, fmt, ap);
	va_end(ap);
	return w;
}

/* --- problems --- */

/* "tables.p.emit[0].fields.XMDM" as a JSON pointer: "/tables/p/emit/0/fields/XMDM". */
static void to_pointer(const char *where, char *out, size_t size)
{
	size_t o = 0;

	if (*where && o + 1 < size)
		out[o++] = '/';
	for (; *where && o + 2 < size; where++) {
		if (*where == '.' || *where == '[') {
			out[o++] = '/';
		} else if (*where == '~' || *where == '/') {
			out[o++] = '~';
			out[o++] = *where == '~' ? '0' : '1';
		} else if (*where != ']') {
			out[o++] = *where;
		}
	}
	out[o] = '\0';
}

/* Line and column of a rule, or of the nearest enclosing one the file shows. */
static void where_pos(const struct mapping_load *ld, const char *where, int *line, int *col)
{
	const struct spgw_jsonpos_at *at;
	char w[MAPPING_WHERE_MAX], ptr[2 * MAPPING_WHERE_MAX];
	char *cut;

	*line = *col = 0;
	snprintf(w, sizeof(w), "%s", where);
	while (ld->pos) {
		to_pointer(w, ptr, sizeof(ptr));
		at = spgw_jsonpos_find(ld->pos, ptr);
		if (at) {
			*line = at->line;
			*col = at->column;
			return;
		}
		cut = strrchr(w, '.');
		if (!cut || strrchr(w, '[') > cut)
			cut = strrchr(w, '[');
		if (!cut)
			return;
		*cut = '\0';
	}
}

void spgw_mapping_problem(struct mapping_load *ld, const char *where, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spgw_text_utf8_cut(msg);
	where_pos(ld, where, &line, &col);
	spgw_diag_addf(ld->diag, SPGW_E_MAPPING, ld->m->path, line, col, "%s%s%s", where,
		       *where ? ": " : "", msg);
	if (!ld->first)
		ld->first = SPGW_E_MAPPING;
}

void spgw_mapping_nomem(struct mapping_load *ld, const char *what)
{
	spgw_diag_addf(ld->diag, SPGW_E_NOMEM, ld->m->path, 0, 0, "out of memory while %s", what);
	if (!ld->first)
		ld->first = SPGW_E_NOMEM;
}

/* --- "did you mean" --- */

void spgw_mapping_suggest_try(struct mapping_suggest *s, const char *cand)
{
	size_t d = spgw_suggest_distance(s->key, cand);

	if (d < s->bestd) {
		s->bestd = d;
		s->best = cand;
	}
}

/* " (did you mean \"x\"?)" when a candidate is close enough, else "". */
const char *spgw_mapping_suggest_text(const struct mapping_suggest *s, char *buf, size_t size)
{
	struct spgw_suggest sg = { s->key, s->best, s->bestd };

	buf[0] = '\0';
	if (spgw_suggest_best(&sg))
		snprintf(buf, size, " (did you mean \"%s\"?)", s->best);
	return buf;
}

/* Every key of `obj` must be in `known` (NULL-terminated); keys starting with '_' are
 * comments. Returns nonzero when all are known. */
int spgw_mapping_check_keys(struct mapping_load *ld, const json_t *obj, const char *where,
			    const char *const *known, const char *const *more)
{
	const char *k;
	const json_t *v;
	const char *const *p;
	char w[MAPPING_WHERE_MAX], hint[128];
	int ok = 1;

	json_object_foreach((json_t *)obj, k, v) {
		struct mapping_suggest s = { k, NULL, (size_t)-1 };
		int found = k[0] == '_';

		for (p = known; !found && *p; p++) {
			found = !strcmp(*p, k);
			spgw_mapping_suggest_try(&s, *p);
		}
		for (p = more; !found && p && *p; p++) {
			found = !strcmp(*p, k);
			spgw_mapping_suggest_try(&s, *p);
		}
		if (found)
			continue;
		spgw_mapping_where(w, "%s%s%s", where, *where ? "." : "", k);
		spgw_mapping_problem(ld, w, "unknown key \"%s\"%s", k,
				     spgw_mapping_suggest_text(&s, hint, sizeof(hint)));
		ok = 0;
	}
	return ok;
}

/* --- emits, source tables, the file --- */

static const struct spgw_table *find_table(struct mapping_load *ld, const json_t *v,
					   const char *where)
{
	const struct spgw_schema *s = ld->m->schema;
	const struct spgw_table *t;
	const char *name = json_string_value(v);
	char hint[128];
	size_t i;

	if (!name) {
		spgw_mapping_problem(ld, where,
				     "\"table\" names an SPGL table, e.g. \"SPGL_XMJBXXB\"");
		return NULL;
	}
	t = spgw_schema_table(s, name);
	if (!t) {
		struct mapping_suggest sg = { name, NULL, (size_t)-1 };

		for (i = 0; i < spgw_schema_table_count(s); i++)
			spgw_mapping_suggest_try(&sg, spgw_table_name(spgw_schema_table_at(s, i)));
		spgw_mapping_problem(ld, where, "the schema has no table \"%s\"%s", name,
				     spgw_mapping_suggest_text(&sg, hint, sizeof(hint)));
	}
	return t;
}

static void compile_fields(struct mapping_load *ld, const struct spgw_table *t,
			   const json_t *fields, const char *where, struct mapping_emit *e)
{
	const char *k;
	json_t *v;
	char w[MAPPING_WHERE_MAX], hint[128];
	size_t i;

	e->fields = spgw_calloc(json_object_size(fields) + 1, sizeof(*e->fields));
	if (!e->fields) {
		spgw_mapping_nomem(ld, "compiling fields");
		return;
	}
	json_object_foreach((json_t *)fields, k, v) {
		const struct spgw_field *f = spgw_table_field(t, k);
		struct mapping_rule_ctx rc = { e->has_each, f, 0, 0 };

		spgw_mapping_where(w, "%s.%s", where, k);
		if (k[0] == '_')
			continue;
		if (!f) {
			struct mapping_suggest sg = { k, NULL, (size_t)-1 };

			for (i = 0; i < spgw_table_field_count(t); i++)
				spgw_mapping_suggest_try(
					&sg, spgw_field_name(spgw_table_field_at(t, i)));
			spgw_mapping_problem(ld, w, "%s (%s) has no field \"%s\"%s",
					     spgw_table_name(t), spgw_table_zh(t), k,
					     spgw_mapping_suggest_text(&sg, hint, sizeof(hint)));
			continue;
		}
		if (spgw_field_not_sent(f)) {
			spgw_mapping_problem(
				ld, w,
				"%s (%s) is written back by the national side and never sent: "
				"remove this rule",
				k, spgw_field_zh(f));
			continue;
		}
		e->fields[e->nfields].name = spgw_field_name(f);
		spgw_mapping_compile_rule(ld, v, w, &rc, &e->fields[e->nfields].rule);
		e->nfields++;
	}
}

static int has_field(const struct mapping_emit *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nfields; i++)
		if (!strcmp(e->fields[i].name, name))
			return (int)i;
	return -1;
}

/* List the members an output record of `e` may have, sorted by name (mapping_member). The
 * names are distinct: a field is named once, and the key and the automatic members are only
 * written when no field has their name. */
static void order_members(struct mapping_load *ld, struct mapping_emit *e)
{
	static const char *const extra[] = { "DFSJZJ", "XZQHDM", "SJYXBS" };
	struct mapping_member m;
	size_t n = 0, i, j;

	e->members = spgw_calloc(e->nfields + MAP_MEMBER_EXTRA, sizeof(*e->members));
	if (!e->members) {
		spgw_mapping_nomem(ld, "ordering fields");
		return;
	}
	for (i = 0; i < e->nfields + MAP_MEMBER_EXTRA; i++) {
		if ((i == e->nfields + MAP_MEMBER_KEY && !e->has_key) ||
		    (i == e->nfields + MAP_MEMBER_REGION && !e->auto_region) ||
		    (i == e->nfields + MAP_MEMBER_VALID && !e->auto_valid))
			continue;
		m.slot = i;
		m.name = i < e->nfields ? e->fields[i].name : extra[i - e->nfields];
		/* insertion: a table has a few dozen fields, and this runs once per load */
		for (j = n; j > 0 && strcmp(m.name, e->members[j - 1].name) < 0; j--)
			e->members[j] = e->members[j - 1];
		e->members[j] = m;
		n++;
	}
	e->nmembers = n;
}

static void compile_emit(struct mapping_load *ld, const json_t *j, const char *where,
			 struct mapping_emit *e)
{
	static const char *const keys[] = { "table", "key", "each", "when", "fields", "auto",
					     "description", NULL };
	const struct spgw_table *t;
	const json_t *x, *fields;
	char w[MAPPING_WHERE_MAX];
	int auto_on = 1;
	size_t i;

	e->key_field = -1;
	e->where = spgw_strdup(where);
	if (!e->where)
		spgw_mapping_nomem(ld, "compiling an emit");
	if (!json_is_object(j)) {
		spgw_mapping_problem(ld, where,
				     "an emit is an object {\"table\", \"key\", \"fields\", ...}");
		return;
	}
	spgw_mapping_check_keys(ld, j, where, keys, NULL);
	spgw_mapping_where(w, "%s.table", where);
	t = find_table(ld, json_object_get(j, "table"), w);
	if (!t)
		return;
	e->table = spgw_table_name(t);
	if ((x = json_object_get(j, "each"))) {
		spgw_mapping_where(w, "%s.each", where);
		if (!json_is_string(x) || json_string_value(x)[0] == '@')
			spgw_mapping_problem(ld, w,
					     "\"each\" names a list field of the source record");
		else
			spgw_mapping_compile_path(ld, json_string_value(x), w, 0, &e->each);
		e->has_each = 1;
	}
	if ((x = json_object_get(j, "when"))) {
		size_t n = json_is_array(x) ? json_array_size(x) : 1;

		e->when = spgw_calloc(n, sizeof(*e->when));
		if (!e->when) {
			spgw_mapping_nomem(ld, "compiling when");
			return;
		}
		for (i = 0; i < n; i++) {
			if (json_is_array(x))
				spgw_mapping_where(w, "%s.when[%zu]", where, i);
			else
				spgw_mapping_where(w, "%s.when", where);
			e->nwhen = i + 1;
			spgw_mapping_compile_cond(ld, json_is_array(x) ? json_array_get(x, i) : x,
						  w, e->has_each, &e->when[i]);
		}
	}
	fields = json_object_get(j, "fields");
	spgw_mapping_where(w, "%s.fields", where);
	if (!json_is_object(fields) || !json_object_size(fields)) {
		spgw_mapping_problem(ld, json_is_object(fields) ? w : where,
				     "an emit needs \"fields\": {\"SPGL field\": rule, ...}");
		return;
	}
	compile_fields(ld, t, fields, w, e);
	if ((x = json_object_get(j, "key"))) {
		struct mapping_rule_ctx rc = { e->has_each, NULL, 0, 0 };

		spgw_mapping_where(w, "%s.key", where);
		spgw_mapping_compile_rule(ld, x, w, &rc, &e->key);
		e->key.field = "DFSJZJ";
		e->key.field_zh = "地方数据主键";
		e->key.to_string = 1;
		e->has_key = 1;
	}
	e->key_field = has_field(e, "DFSJZJ");
	if (e->has_key && e->key_field >= 0) {
		spgw_mapping_where(w, "%s.fields.DFSJZJ", where);
		spgw_mapping_problem(
			ld, w,
			"set the 地方数据主键 with \"key\" or with fields.DFSJZJ, not both "
			"(\"key\" also writes DFSJZJ)");
	} else if (!e->has_key && e->key_field < 0 && spgw_table_field(t, "DFSJZJ")) {
		spgw_mapping_problem(
			ld, where,
			"no \"key\": every %s record needs its 地方数据主键 (DFSJZJ); add "
			"\"key\": a rule giving a stable id of the source row",
			e->table);
	} else if (e->key_field >= 0) {
		e->fields[e->key_field].rule.to_string = 1;
	}
	if ((x = json_object_get(j, "auto"))) {
		spgw_mapping_where(w, "%s.auto", where);
		if (!json_is_boolean(x))
			spgw_mapping_problem(ld, w, "\"auto\" is true or false");
		auto_on = !json_is_false(x);
	}
	e->auto_region = auto_on && spgw_table_field(t, "XZQHDM") && has_field(e, "XZQHDM") < 0;
	e->auto_valid = auto_on && spgw_table_field(t, "SJYXBS") && has_field(e, "SJYXBS") < 0;
	order_members(ld, e);
}

static void compile_table(struct mapping_load *ld, const char *name, const json_t *j,
			  struct mapping_source *s)
{
	static const char *const keys[] = { "emit", "description", NULL };
	const json_t *emits;
	char where[MAPPING_WHERE_MAX], w[MAPPING_WHERE_MAX];
	size_t i;

	s->name = name;
	snprintf(where, sizeof(where), "tables.%s", name);
	if (!json_is_object(j)) {
		spgw_mapping_problem(ld, where, "a source table is an object {\"emit\": [...]}");
		return;
	}
	spgw_mapping_check_keys(ld, j, where, keys, NULL);
	emits = json_object_get(j, "emit");
	if (!json_is_array(emits) || !json_array_size(emits)) {
		spgw_mapping_problem(ld, where, "\"emit\" is a non-empty list of output records");
		return;
	}
	s->emits = spgw_calloc(json_array_size(emits), sizeof(*s->emits));
	if (!s->emits) {
		spgw_mapping_nomem(ld, "compiling emits");
		return;
	}
	for (i = 0; i < json_array_size(emits); i++) {
		spgw_mapping_where(w, "%s.emit[%zu]", where, i);
		s->nemits = i + 1;
		compile_emit(ld, json_array_get(emits, i), w, &s->emits[i]);
	}
}

static void check_code_tables(struct mapping_load *ld, const json_t *ct)
{
	const char *name, *k;
	json_t *t, *v;
	char w[MAPPING_WHERE_MAX];

	if (!ct)
		return;
	if (!json_is_object(ct)) {
		spgw_mapping_problem(ld, "code_tables",
				     "\"code_tables\" is an object of named tables");
		return;
	}
	json_object_foreach((json_t *)ct, name, t) {
		if (name[0] == '_')
			continue; /* a comment; inside a table every key is a source value */
		spgw_mapping_where(w, "code_tables.%s", name);
		if (!json_is_object(t)) {
			spgw_mapping_problem(
				ld, w,
				"a code table is an object {\"source value\": national value}");
			continue;
		}
		json_object_foreach(t, k, v) {
			if (json_is_string(v) || json_is_number(v))
				continue;
			spgw_mapping_where(w, "code_tables.%s.%s", name, k);
			spgw_mapping_problem(ld, w, "a national code is a string or a number");
		}
	}
}

static int source_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mapping_source *)a)->name,
		      ((const struct mapping_source *)b)->name);
}

static void compile_file(struct mapping_load *ld)
{
	static const char *const keys[] = { "mapping", "description", "text", "tables",
					    "code_tables", NULL };
	json_t *root = ld->m->root, *x, *tables;
	const char *k;
	size_t i = 0;

	if (!json_is_object(root)) {
		spgw_mapping_problem(
			ld, "", "a mapping file is a JSON object {\"mapping\", \"tables\", ...}");
		return;
	}
	spgw_mapping_check_keys(ld, root, "", keys, NULL);
	x = json_object_get(root, "mapping");
	if (!json_is_string(x) || !json_string_length(x))
		spgw_mapping_problem(ld, x ? "mapping" : "",
				     "\"mapping\" (the mapping's name) is required");
	x = json_object_get(root, "description");
	if (x && !json_is_string(x) && !json_is_array(x))
		spgw_mapping_problem(ld, "description",
				     "\"description\" is a string or a list of strings");
	ld->code_tables = json_object_get(root, "code_tables");
	check_code_tables(ld, ld->code_tables);
	if ((x = json_object_get(root, "text")))
		spgw_mapping_text_ops(ld, x, "text", &ld->text_default);
	tables = json_object_get(root, "tables");
	if (!json_is_object(tables) || !json_object_size(tables)) {
		spgw_mapping_problem(ld, tables ? "tables" : "",
				     "\"tables\" maps each source table to its rules");
		return;
	}
	ld->m->sources = spgw_calloc(json_object_size(tables), sizeof(*ld->m->sources));
	if (!ld->m->sources) {
		spgw_mapping_nomem(ld, "compiling tables");
		return;
	}
	json_object_foreach(tables, k, x) {
		if (k[0] == '_')
			continue; /* a comment */
		ld->m->nsources = i + 1;
		compile_table(ld, k, x, &ld->m->sources[i++]);
	}
	qsort(ld->m->sources, ld->m->nsources, sizeof(*ld->m->sources), source_cmp);
}

/* --- freeing what loading built (spgw_mapping_rule_clear: mapping_rule.c too) --- */

static void path_clear(struct mapping_path *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		spgw_free(p->seg[i]);
	spgw_free(p->seg);
	spgw_free(p->index);
}

void spgw_mapping_rule_clear(struct mapping_rule *r)
{
	size_t i;

	for (i = 0; i < r->nfrom; i++)
		path_clear(&r->from[i]);
	spgw_free(r->from);
	for (i = 0; i < r->nparts; i++)
		spgw_mapping_rule_clear(&r->parts[i]);
	spgw_free(r->parts);
	spgw_free(r->where);
	spgw_free(r->src_en);
	spgw_free(r->src_zh);
}

static void emit_clear(struct mapping_emit *e)
{
	size_t i, j;

	spgw_mapping_rule_clear(&e->key);
	path_clear(&e->each);
	for (i = 0; i < e->nwhen; i++) {
		spgw_mapping_rule_clear(&e->when[i].value);
		for (j = 0; j < e->when[i].nops; j++)
			spgw_free(e->when[i].operands[j]);
		spgw_free(e->when[i].operands);
		spgw_free(e->when[i].oplen);
	}
	spgw_free(e->when);
	for (i = 0; i < e->nfields; i++)
		spgw_mapping_rule_clear(&e->fields[i].rule);
	spgw_free(e->fields);
	spgw_free(e->members);
	spgw_free(e->where);
}

void spgw_mapping_free(struct spgw_mapping *m)
{
	size_t i, j;

	if (!m)
		return;
	for (i = 0; i < m->nsources; i++) {
		for (j = 0; j < m->sources[i].nemits; j++)
			emit_clear(&m->sources[i].emits[j]);
		spgw_free(m->sources[i].emits);
	}
	spgw_free(m->sources);
	json_decref(m->root);
	spgw_free(m->path);
	spgw_free(m);
}

const char *spgw_mapping_path(const struct spgw_mapping *m)
{
	return m->path;
}

/* Read the whole file, refusing one beyond SPGW_MAX_CONFIG_FILE. */
static enum spgw_rc read_file(const char *path, struct spgw_buf *b, struct spgw_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;
	struct spgw_error e;
	enum spgw_rc rc = SPGW_OK;

	if (!f)
		return spgw_diag_addf(diag, SPGW_E_IO, path, 0, 0,
				      "cannot open the mapping file: %s", strerror(errno));
	memset(&e, 0, sizeof(e));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = spgw_buf_add(b, chunk, n, &e);
		if (rc) {
			spgw_diag_addf(diag, rc, path, 0, 0, "%s", e.text);
			goto out;
		}
	}
	if (ferror(f))
		rc = spgw_diag_addf(diag, SPGW_E_IO, path, 0, 0, "cannot read the mapping file: %s",
				    strerror(errno));
out:
	fclose(f);
	return rc;
}

enum spgw_rc spgw_mapping_load(const char *path, const struct spgw_schema *schema,
			       struct spgw_mapping **out, struct spgw_diag *diag)
{
	struct mapping_load ld;
	struct spgw_buf text;
	json_error_t jerr;
	enum spgw_rc rc;

	memset(&ld, 0, sizeof(ld));
	/* jansson leaves it unset on some out-of-memory paths, and its code is read below */
	memset(&jerr, 0, sizeof(jerr));
	ld.diag = diag;
	spgw_buf_init(&text, SPGW_MAX_CONFIG_FILE, "mapping file");
	ld.m = spgw_calloc(1, sizeof(*ld.m));
	if (!ld.m || !(ld.m->path = spgw_strdup(path))) {
		rc = spgw_diag_addf(diag, SPGW_E_NOMEM, path, 0, 0, "out of memory loading it");
		goto out;
	}
	ld.m->schema = schema;
	rc = read_file(path, &text, diag);
	if (rc)
		goto out;
	ld.m->root = json_loadb(text.data ? text.data : "", text.len, JSON_REJECT_DUPLICATES,
				&jerr);
	if (!ld.m->root && json_error_code(&jerr) == json_error_out_of_memory) {
		rc = spgw_diag_addf(diag, SPGW_E_NOMEM, path, 0, 0, "out of memory parsing it");
		goto out;
	}
	if (!ld.m->root) {
		rc = spgw_diag_addf(diag, SPGW_E_SYNTAX, path, jerr.line, jerr.column,
				    "not valid JSON: %s", jerr.text);
		goto out;
	}
	/* positions are a courtesy: without them (out of memory) messages lack line:column */
	spgw_jsonpos_new(text.data, text.len, path, &ld.pos, NULL);
	compile_file(&ld);
	rc = ld.first;
	if (rc)
		goto out;
	*out = ld.m;
	ld.m = NULL;
out:
	spgw_jsonpos_free(ld.pos);
	spgw_buf_free(&text);
	spgw_mapping_free(ld.m);
	return rc;
}
