/*
 * The approval catalog (see catalog.h; format: config/catalog/README.md): read it with the
 * configuration reader (config_int.h: UTF-8, duplicate keys, positions), check every entry,
 * then answer lookups. The SPGL definition records of a region: catalog_records.c.
 *
 * Every problem is listed, not the first only, each at the line and column of the value it is
 * about, with the entry's path and code: a province's IT team fixes a 101-item file in one
 * round. The checks are those that would otherwise surface one record at a time at the
 * national platform (a five-digit standard code, a version "1") or silently (an item in a
 * stage that does not exist, two items with one code, a line lost from the list).
 */
#include "catalog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "config_int.h"
#include "mem.h"
#include "text.h"
#include "validate.h"

/* Codes become parts of 地方数据主键 (at most 100 characters): the longest key,
 * "LJ-<flow>-<version>-<item>-<version>", is 3 + 40 + 1 + 5 + 1 + 40 + 1 + 5 = 96. */
#define CODE_MAX 40
/* SPLCMC, SPJDMC, SPSXMC and SSZT are str(200) in the schema. */
#define NAME_MAX_CHARS 200
/* A time limit above a year of working days is a typing error, not a promise. */
#define DAYS_MAX 365
/* SPLCLX: 1..5 are known, the schema allows 1..9 (an "other" type exists, code unknown). */
#define FLOW_TYPE_MAX 9

/* One entry of the file while it is checked: where it is and what to call it. */
struct entry {
	const json_t *obj;
	char ptr[48];	 /* JSON pointer: "/items/7" */
	char label[112]; /* for messages: "items[7] JL-SX-008" */
	const struct spgw_jsonpos_at *at;
};

struct load {
	struct cfile f;
	struct spgw_diag *diag;
	struct spgw_catalog *c;
};

static const char *const kind_names[] = {"main", "parallel", "special"};

const char *spgw_catalog_kind_name(enum spgw_catalog_kind kind)
{
	return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

/* --- problems --- */

/* A problem with member `key` of entry `e` (its value's place; the entry's when the member
 * is absent), or with the entry itself (`key` NULL). */
static void problem(struct load *ld, const struct entry *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(struct load *ld, const struct entry *e, const char *key, const char *fmt, ...)
{
	const struct spgw_jsonpos_at *at = key ? spgw_jsonpos_child(ld->f.pos, e->at, key) : NULL;
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spgw_text_utf8_cut(msg);
	spgw_config_problem(ld->diag, SPGW_E_CONFIG, ld->f.path, at ? at : e->at, 1, "%s%s%s",
			    e->label, e->label[0] ? ": " : "", msg);
}

static void entry_at(struct load *ld, struct entry *e, const json_t *obj, const char *array,
		     size_t i)
{
	const char *code = json_string_value(json_object_get(obj, "code"));
	char shown[80];

	e->obj = obj;
	snprintf(e->ptr, sizeof(e->ptr), "/%s/%zu", array, i);
	if (code)
		snprintf(e->label, sizeof(e->label), "%s[%zu] %s", array, i,
			 spgw_config_show(code, shown));
	else
		snprintf(e->label, sizeof(e->label), "%s[%zu]", array, i);
	spgw_text_utf8_cut(e->label);
	e->at = spgw_jsonpos_find(ld->f.pos, e->ptr);
}

/* --- values --- */

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int is_code(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 0;
	return n >= 1 && n <= CODE_MAX;
}

static int is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i == n;
}

/* A version as tenths: "1.0" -> 10. Strict (the file): 1-3 digits, '.', one digit. Loose
 * (lookups, from records): also "1" and "1.00". -1 when it is neither. */
static int parse_version(const char *s, int strict)
{
	int v = 0, n = 0, frac = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++)
		v = v * 10 + (*s - '0');
	if (n < 1 || n > 3)
		return -1;
	if (!*s)
		return strict ? -1 : v * 10;
	if (*s++ != '.' || *s < '0' || *s > '9')
		return -1;
	frac = *s++ - '0';
	while (!strict && *s == '0')
		s++;
	return *s ? -1 : v * 10 + frac;
}

/* The string member `key`, checked to be non-empty text of at most `max` characters; NULL
 * when absent or of another type (spgw_config_check_keys reported that) or when bad. */
static const char *text_member(struct load *ld, const struct entry *e, const char *key, size_t max,
			       const char *zh)
{
	const char *s = json_string_value(json_object_get(e->obj, key));
	const char *p;

	if (!s)
		return NULL;
	for (p = s; *p == ' '; p++)
		;
	if (!*p) {
		problem(ld, e, key, "%s (%s) is empty", key, zh);
		return NULL;
	}
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20) {
			problem(ld, e, key, "%s (%s) holds a control character", key, zh);
			return NULL;
		}
	if (chars(s) > max) {
		problem(ld, e, key, "%s (%s) has %zu characters; at most %zu fit", key, zh,
			chars(s), max);
		return NULL;
	}
	return s;
}

static const char *code_member(struct load *ld, const struct entry *e, const char *key,
			       const char *zh)
{
	const char *s = json_string_value(json_object_get(e->obj, key));
	char shown[80];

	if (s && !is_code(s)) {
		problem(ld, e, key,
			"%s \"%s\" (%s) is not 1 to %d of A-Z a-z 0-9 . _ - (it becomes part of "
			"地方数据主键)",
			key, spgw_config_show(s, shown), zh, CODE_MAX);
		return NULL;
	}
	return s;
}

/* An integer member within [lo, hi]; `def` when absent (or of another type: reported). */
static int int_member(struct load *ld, const struct entry *e, const char *key, int lo, int hi,
		      int def, const char *zh)
{
	const json_t *v = json_object_get(e->obj, key);

	if (!json_is_integer(v))
		return def;
	if (json_integer_value(v) >= lo && json_integer_value(v) <= hi)
		return (int)json_integer_value(v);
	problem(ld, e, key, "%s (%s) is %" JSON_INTEGER_FORMAT "; give %d to %d", key, zh,
		json_integer_value(v), lo, hi);
	return def;
}

static const char *date_member(struct load *ld, const struct entry *e, const char *key,
			       const char *zh)
{
	const char *s = json_string_value(json_object_get(e->obj, key));
	char shown[80];

	if (s && !spgw_validate_date(s)) {
		problem(ld, e, key, "%s \"%s\" (%s) is not a date YYYY-MM-DD that exists", key,
			spgw_config_show(s, shown), zh);
		return NULL;
	}
	return s;
}

static int version_member(struct load *ld, const struct entry *e, const char **out)
{
	const char *s = json_string_value(json_object_get(e->obj, "version"));
	char shown[80];
	int t;

	*out = s;
	if (!s)
		return -1;
	t = parse_version(s, 1);
	if (t < 0)
		problem(ld, e, "version",
			"version \"%s\" (版本号) is not like \"1.0\": 1 to 3 digits, a dot, one "
			"digit (SPLCBBH/SPSXBBH are dec(4,1))",
			spgw_config_show(s, shown));
	return t;
}

/* Keys and types of one entry (unknown keys with "did you mean", wrong types, missing
 * required keys); the values are checked by the callers. The shared checker does not know
 * which entry it looks at: its messages get the entry's label in front. */
static void check_keys(struct load *ld, const struct entry *e, const char *what,
		       const struct key_spec *spec, size_t n)
{
	size_t i, n0 = ld->diag->n;

	spgw_config_check_keys(&ld->f, e->obj, e->at, what, spec, n, ld->diag);
	for (i = n0; e->label[0] && i < ld->diag->n; i++) {
		struct spgw_error *it = &ld->diag->items[i];
		char text[sizeof(e->label) + sizeof(it->text) + 2];

		snprintf(text, sizeof(text), "%s: %s", e->label, it->text);
		if (snprintf(it->text, sizeof(it->text), "%s", text) >= (int)sizeof(it->text))
			spgw_text_utf8_cut(it->text); /* cut mid-character: drop the rest */
	}
}

/* --- stages --- */

/* DYBZSPJDXH: one standard stage "1".."5" (5: parallel items), or a comma list of them. */
static int is_stage_list(const char *s)
{
	for (;;) {
		if (*s < '1' || *s > '5')
			return 0;
		if (!*++s)
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

static void load_stages(struct load *ld, const json_t *arr, const struct entry *top)
{
	static const struct key_spec keys[] = {
		{"seq", K_INT, 1},	   {"code", K_STRING, 1},    {"name", K_STRING, 1},
		{"standard", K_STRING, 1}, {"limit_days", K_INT, 0},
	};
	struct spgw_catalog *c = ld->c;
	const char *codes[SPGW_CATALOG_STAGES] = {NULL};
	size_t i, j;

	if (!json_is_array(arr))
		return; /* missing or not a list: check_keys said so */
	if (json_array_size(arr) != SPGW_CATALOG_STAGES)
		problem(ld, top, "stages",
			"stages: expected exactly %d stages (立项用地规划许可, 工程建设许可, "
			"施工许可, "
			"竣工验收), found %zu",
			SPGW_CATALOG_STAGES, json_array_size(arr));
	for (i = 0; i < json_array_size(arr); i++) {
		struct entry e;
		struct cat_stage st;
		const char *s;
		char shown[80];

		entry_at(ld, &e, json_array_get(arr, i), "stages", i);
		if (!json_is_object(e.obj)) {
			problem(ld, &e, NULL, "a stage is an object {\"seq\", \"code\", ...}");
			continue;
		}
		check_keys(ld, &e, "this stage", keys, sizeof(keys) / sizeof(keys[0]));
		memset(&st, 0, sizeof(st));
		st.seq = int_member(ld, &e, "seq", 1, SPGW_CATALOG_STAGES, 0, "审批阶段序号");
		st.code = code_member(ld, &e, "code", "审批阶段编码");
		st.name = text_member(ld, &e, "name", NAME_MAX_CHARS, "审批阶段名称");
		st.limit_days = int_member(ld, &e, "limit_days", 1, DAYS_MAX, 0, "审批阶段时限");
		s = json_string_value(json_object_get(e.obj, "standard"));
		if (s && !is_stage_list(s))
			problem(ld, &e, "standard",
				"standard \"%s\" (对应标准审批阶段序号) is not a standard stage "
				"\"1\" to "
				"\"5\" or a comma list of them",
				spgw_config_show(s, shown));
		else
			st.standard = s;
		for (j = 0; st.code && j < SPGW_CATALOG_STAGES; j++)
			if (codes[j] && !strcmp(codes[j], st.code)) {
				problem(ld, &e, "code", "stage code \"%s\" is used twice",
					spgw_config_show(st.code, shown));
				st.code = NULL;
			}
		if (!st.seq)
			continue;
		if (c->stages[st.seq - 1].seq) {
			problem(ld, &e, "seq", "seq %d is given twice: each stage 1 to %d once",
				st.seq, SPGW_CATALOG_STAGES);
			continue;
		}
		codes[st.seq - 1] = st.code;
		c->stages[st.seq - 1] = st;
	}
	for (i = 0; json_array_size(arr) == SPGW_CATALOG_STAGES && i < SPGW_CATALOG_STAGES; i++)
		if (!c->stages[i].seq)
			problem(ld, top, "stages", "stages: no stage has seq %zu", i + 1);
}

/* --- flows --- */

static void load_flows(struct load *ld, const json_t *arr, const struct entry *top)
{
	static const struct key_spec keys[] = {
		{"code", K_STRING, 1},	      {"version", K_STRING, 1},	  {"name", K_STRING, 1},
		{"type", K_INT, 1},	      {"effective", K_STRING, 1}, {"retired", K_STRING, 0},
		{"description", K_STRING, 0},
	};
	struct spgw_catalog *c = ld->c;
	size_t i, j;

	if (!json_is_array(arr))
		return; /* missing or not a list: check_keys said so */
	if (!json_array_size(arr)) {
		problem(ld, top, "flows", "flows: at least one flow (审批流程) is needed");
		return;
	}
	c->flows = spgw_calloc(json_array_size(arr), sizeof(*c->flows));
	if (!c->flows) {
		spgw_config_nomem(ld->diag, ld->f.path, "reading the flows");
		return;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		struct cat_flow *fl = &c->flows[c->nflows];
		struct entry e;
		char shown[80];

		entry_at(ld, &e, json_array_get(arr, i), "flows", i);
		if (!json_is_object(e.obj)) {
			problem(ld, &e, NULL, "a flow is an object {\"code\", \"version\", ...}");
			continue;
		}
		check_keys(ld, &e, "this flow", keys, sizeof(keys) / sizeof(keys[0]));
		fl->code = code_member(ld, &e, "code", "审批流程编码");
		fl->tenths = version_member(ld, &e, &fl->version);
		fl->name = text_member(ld, &e, "name", NAME_MAX_CHARS, "审批流程名称");
		fl->type = int_member(ld, &e, "type", 1, FLOW_TYPE_MAX, 0, "对应标准审批流程类型");
		fl->effective = date_member(ld, &e, "effective", "生效时间");
		fl->retired = date_member(ld, &e, "retired", "停用日期");
		if (fl->effective && fl->retired && strcmp(fl->retired, fl->effective) < 0)
			problem(ld, &e, "retired", "retired %s (停用日期) is before effective %s",
				fl->retired, fl->effective);
		for (j = 0; fl->code && fl->tenths >= 0 && j < c->nflows; j++)
			if (c->flows[j].code && !strcmp(c->flows[j].code, fl->code) &&
			    c->flows[j].tenths == fl->tenths)
				problem(ld, &e, "code",
					"flow %s version %s is given twice (flows[%zu])",
					spgw_config_show(fl->code, shown), fl->version, j);
		if (fl->effective &&
		    (!c->first_effective || strcmp(fl->effective, c->first_effective) < 0))
			c->first_effective = fl->effective;
		c->nflows++;
	}
}

/* --- items --- */

static int kind_of(const char *s)
{
	int k;

	for (k = 0; s && k < 3; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

static void load_item(struct load *ld, struct entry *e, struct cat_item *it)
{
	static const struct key_spec keys[] = {
		{"code", K_STRING, 1},	      {"version", K_STRING, 1},
		{"name", K_STRING, 1},	      {"stage", K_INT, 1},
		{"kind", K_STRING, 1},	      {"standard_code", K_STRING, 1},
		{"local_code", K_STRING, 0},  {"promised_days", K_INT, 1},
		{"legal_days", K_INT, 0},     {"milestone", K_BOOL, 0},
		{"dept", K_STRING, 1},	      {"confirmed", K_BOOL, 0},
		{"effective", K_STRING, 0},   {"retired", K_STRING, 0},
		{"description", K_STRING, 0},
	};
	const char *s;
	char shown[80];

	check_keys(ld, e, "this item", keys, sizeof(keys) / sizeof(keys[0]));
	it->code = code_member(ld, e, "code", "审批事项编码");
	it->tenths = version_member(ld, e, &it->version);
	it->name = text_member(ld, e, "name", NAME_MAX_CHARS, "审批事项名称");
	it->dept = text_member(ld, e, "dept", NAME_MAX_CHARS, "实施主体");
	it->local_code = text_member(ld, e, "local_code", 64, "实施编码");
	it->effective = date_member(ld, e, "effective", "生效时间");
	it->retired = date_member(ld, e, "retired", "停用日期");
	s = it->effective ? it->effective : ld->c->first_effective; /* SXRQ */
	if (it->retired && s && strcmp(it->retired, s) < 0)
		problem(ld, e, "retired", "retired %s (停用日期) is before effective %s",
			it->retired, s);
	it->milestone = json_is_true(json_object_get(e->obj, "milestone"));
	it->stage = int_member(ld, e, "stage", 1, SPGW_CATALOG_STAGES, 0, "审批阶段");
	s = json_string_value(json_object_get(e->obj, "kind"));
	it->kind = kind_of(s);
	if (s && it->kind < 0)
		problem(ld, e, "kind", "kind \"%s\" is not one of main, parallel, special",
			spgw_config_show(s, shown));
	s = json_string_value(json_object_get(e->obj, "standard_code"));
	if (s && !is_digits(s, 4))
		problem(ld, e, "standard_code",
			"standard_code \"%s\" (对应标准审批事项编码) is not four digits, e.g. "
			"\"0080\"",
			spgw_config_show(s, shown));
	else
		it->standard_code = s;
	it->promised = int_member(ld, e, "promised_days", 1, DAYS_MAX, 0, "承诺办结时限");
	it->legal = int_member(ld, e, "legal_days", 1, DAYS_MAX, 0, "法定办结时限");
	/* 承诺时限 is a promise to do better than the law: above it, one of the two is a typo */
	if (it->promised && it->legal && it->promised > it->legal)
		problem(ld, e, "promised_days",
			"promised_days %d (承诺办结时限) is above legal_days %d (法定办结时限)",
			it->promised, it->legal);
}

/* (code, version) order; a NULL code (a bad entry) sorts first. */
static int key_cmp(const void *a, const void *b)
{
	const struct cat_key *x = a, *y = b;
	int r = strcmp(x->code ? x->code : "", y->code ? y->code : "");

	return r ? r : (x->tenths > y->tenths) - (x->tenths < y->tenths);
}

/* Index items and flows by (code, version); report items given twice (flows are checked
 * as they are read). */
static void index_catalog(struct load *ld, const json_t *items)
{
	struct spgw_catalog *c = ld->c;
	size_t i;

	c->item_keys = spgw_calloc(c->nitems ? c->nitems : 1, sizeof(*c->item_keys));
	c->flow_keys = spgw_calloc(c->nflows ? c->nflows : 1, sizeof(*c->flow_keys));
	if (!c->item_keys || !c->flow_keys) {
		spgw_config_nomem(ld->diag, ld->f.path, "indexing the catalog");
		return;
	}
	for (i = 0; i < c->nitems; i++)
		c->item_keys[i] = (struct cat_key){c->items[i].code, c->items[i].tenths, i};
	for (i = 0; i < c->nflows; i++)
		c->flow_keys[i] = (struct cat_key){c->flows[i].code, c->flows[i].tenths, i};
	qsort(c->item_keys, c->nitems, sizeof(*c->item_keys), key_cmp);
	qsort(c->flow_keys, c->nflows, sizeof(*c->flow_keys), key_cmp);
	for (i = 1; i < c->nitems; i++) {
		const struct cat_key *a = &c->item_keys[i - 1], *b = &c->item_keys[i];
		size_t later = a->at > b->at ? a->at : b->at;
		struct entry e;
		char shown[80];

		if (!a->code || a->tenths < 0 || key_cmp(a, b))
			continue;
		entry_at(ld, &e, json_array_get(items, later), "items", later);
		problem(ld, &e, "code", "item %s version %s is given twice (items[%zu])",
			spgw_config_show(b->code, shown), c->items[b->at].version,
			a->at < b->at ? a->at : b->at);
	}
}

/* Each item's stage must be a stage of the catalog. When a stage is missing, every item in
 * it would say so: one message per missing stage, at its first item, with the count. */
static void check_stage_refs(struct load *ld, const json_t *arr)
{
	struct spgw_catalog *c = ld->c;
	size_t first[SPGW_CATALOG_STAGES], count[SPGW_CATALOG_STAGES] = {0}, i;
	int s;

	for (i = 0; i < c->nitems; i++) {
		s = c->items[i].stage;
		if (!s || c->stages[s - 1].seq)
			continue;
		if (!count[s - 1]++)
			first[s - 1] = i;
		c->items[i].stage = 0;
	}
	for (s = 0; s < SPGW_CATALOG_STAGES; s++) {
		struct entry e;

		if (!count[s])
			continue;
		entry_at(ld, &e, json_array_get(arr, first[s]), "items", first[s]);
		if (count[s] == 1)
			problem(ld, &e, "stage", "stage %d is not among the catalog's stages",
				s + 1);
		else
			problem(ld, &e, "stage",
				"stage %d is not among the catalog's stages (nor for %zu more "
				"items)",
				s + 1, count[s] - 1);
	}
}

static void load_items(struct load *ld, const json_t *arr, const struct entry *top)
{
	struct spgw_catalog *c = ld->c;
	size_t i, found[3] = {0, 0, 0};
	const json_t *counts = json_object_get(top->obj, "counts");

	if (!json_is_array(arr))
		return; /* missing or not a list: check_keys said so */
	if (!json_array_size(arr)) {
		problem(ld, top, "items", "items: at least one item (审批事项) is needed");
		return;
	}
	c->items = spgw_calloc(json_array_size(arr), sizeof(*c->items));
	if (!c->items) {
		spgw_config_nomem(ld->diag, ld->f.path, "reading the items");
		return;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		struct entry e;

		entry_at(ld, &e, json_array_get(arr, i), "items", i);
		if (!json_is_object(e.obj)) {
			problem(ld, &e, NULL, "an item is an object {\"code\", \"version\", ...}");
			continue;
		}
		load_item(ld, &e, &c->items[c->nitems]);
		if (c->items[c->nitems].kind >= 0)
			found[c->items[c->nitems].kind]++;
		c->nitems++;
	}
	check_stage_refs(ld, arr);
	if (json_is_object(counts)) {
		static const struct key_spec keys[] = {
			{"items", K_INT, 0},
			{"main", K_INT, 0},
			{"parallel", K_INT, 0},
			{"special", K_INT, 0},
		};
		struct entry e;
		size_t have[4] = {c->nitems, found[0], found[1], found[2]}, k;
		char want[4][24];
		int wrong = 0;

		memset(&e, 0, sizeof(e));
		e.obj = counts;
		snprintf(e.ptr, sizeof(e.ptr), "/counts");
		snprintf(e.label, sizeof(e.label), "counts");
		e.at = spgw_jsonpos_find(ld->f.pos, e.ptr);
		check_keys(ld, &e, "counts", keys, 4);
		for (k = 0; k < 4; k++) {
			const json_t *v = json_object_get(counts, keys[k].name);

			snprintf(want[k], sizeof(want[k]), "?");
			if (!json_is_integer(v))
				continue;
			snprintf(want[k], sizeof(want[k]), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
			wrong |= json_integer_value(v) != (json_int_t)have[k];
		}
		if (wrong)
			problem(ld, &e, NULL,
				"the catalog declares %s items (%s main, %s parallel, %s special) "
				"but lists %zu (%zu main, %zu parallel, %zu special): an item was "
				"lost, doubled or given the wrong kind",
				want[0], want[1], want[2], want[3], have[0], have[1], have[2],
				have[3]);
	}
}

/* --- the file --- */

static void load_file(struct load *ld)
{
	static const struct key_spec keys[] = {
		{"catalog", K_STRING, 1}, {"province", K_STRING, 1}, {"description", K_STRING, 0},
		{"_note", K_STRING, 0},	  {"counts", K_OBJECT, 0},   {"stages", K_ARRAY, 1},
		{"flows", K_ARRAY, 1},	  {"items", K_ARRAY, 1},
	};
	struct spgw_catalog *c = ld->c;
	struct entry top;
	const char *s;
	char shown[80];

	memset(&top, 0, sizeof(top));
	top.obj = ld->f.root;
	top.at = ld->f.root_at;
	check_keys(ld, &top, "the catalog file", keys, sizeof(keys) / sizeof(keys[0]));
	c->name = text_member(ld, &top, "catalog", 64, "目录名称");
	s = json_string_value(json_object_get(top.obj, "province"));
	if (s && (!is_digits(s, 6) || strcmp(s + 2, "0000")))
		problem(ld, &top, "province",
			"province \"%s\" is not a six-digit province code (行政区划代码) ending in "
			"0000, e.g. \"220000\"",
			spgw_config_show(s, shown));
	load_stages(ld, json_object_get(top.obj, "stages"), &top);
	load_flows(ld, json_object_get(top.obj, "flows"), &top);
	load_items(ld, json_object_get(top.obj, "items"), &top);
	if (c->nitems || c->nflows)
		index_catalog(ld, json_object_get(top.obj, "items"));
}

void spgw_catalog_free(struct spgw_catalog *c)
{
	if (!c)
		return;
	spgw_free(c->flows);
	spgw_free(c->items);
	spgw_free(c->item_keys);
	spgw_free(c->flow_keys);
	json_decref(c->root);
	spgw_free(c->path);
	spgw_free(c);
}

enum spgw_rc spgw_catalog_load(const char *path, struct spgw_catalog **out, struct spgw_diag *diag)
{
	size_t n0 = diag->n, dropped0 = diag->dropped;
	struct load ld;
	enum spgw_rc rc;

	memset(&ld, 0, sizeof(ld));
	ld.diag = diag;
	ld.c = spgw_calloc(1, sizeof(*ld.c));
	if (!ld.c || !(ld.c->path = spgw_strdup(path))) {
		spgw_config_nomem(diag, path, "reading the catalog");
		goto out;
	}
	if (spgw_config_file_load(&ld.f, ld.c->path, diag))
		goto out;
	ld.c->root = json_incref(ld.f.root);
	load_file(&ld);
out:
	spgw_config_file_free(&ld.f);
	rc = spgw_config_first_code(diag, n0, dropped0);
	if (rc == SPGW_OK) {
		*out = ld.c;
		ld.c = NULL;
	}
	spgw_catalog_free(ld.c);
	return rc;
}

/* --- lookups --- */

const char *spgw_catalog_path(const struct spgw_catalog *c)
{
	return c->path;
}

const char *spgw_catalog_name(const struct spgw_catalog *c)
{
	return c->name;
}

size_t spgw_catalog_flow_count(const struct spgw_catalog *c)
{
	return c->nflows;
}

size_t spgw_catalog_item_count(const struct spgw_catalog *c)
{
	return c->nitems;
}

size_t spgw_catalog_record_count(const struct spgw_catalog *c)
{
	return c->nflows * (1 + SPGW_CATALOG_STAGES + c->nitems) + c->nitems;
}

/* The key of `code` with version `tenths` in `keys` (n, sorted), or of its highest version
 * when tenths < 0; NULL when there is none. */
static const struct cat_key *find(const struct cat_key *keys, size_t n, const char *code,
				  int tenths)
{
	size_t lo = 0, hi = n;

	/* the first key not below (code, tenths); with tenths < 0, past every version */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(keys[mid].code ? keys[mid].code : "", code);

		if (!r)
			r = tenths < 0 ? -1
				       : (keys[mid].tenths > tenths) - (keys[mid].tenths < tenths);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (tenths < 0)
		return lo && !strcmp(keys[lo - 1].code, code) ? &keys[lo - 1] : NULL;
	return lo < n && !strcmp(keys[lo].code, code) && keys[lo].tenths == tenths ? &keys[lo]
										   : NULL;
}

int spgw_catalog_item(const struct spgw_catalog *c, const char *code, const char *version,
		      struct spgw_catalog_item_info *out)
{
	int tenths = version ? parse_version(version, 0) : -1;
	const struct cat_key *k;
	const struct cat_item *it;

	if (!c || !code || (version && tenths < 0))
		return 0;
	k = find(c->item_keys, c->nitems, code, tenths);
	if (!k)
		return 0;
	it = &c->items[k->at];
	out->code = it->code;
	out->version = it->version;
	out->name = it->name;
	out->stage = it->stage;
	out->kind = (enum spgw_catalog_kind)it->kind;
	out->standard_code = it->standard_code;
	out->promised_days = it->promised;
	out->legal_days = it->legal;
	out->milestone = it->milestone;
	out->dept = it->dept;
	return 1;
}

int spgw_catalog_flow(const struct spgw_catalog *c, const char *code, const char *version,
		      struct spgw_catalog_flow_info *out)
{
	int tenths = version ? parse_version(version, 0) : -1;
	const struct cat_key *k;
	const struct cat_flow *fl;

	if (!c || !code || (version && tenths < 0))
		return 0;
	k = find(c->flow_keys, c->nflows, code, tenths);
	if (!k)
		return 0;
	fl = &c->flows[k->at];
	out->code = fl->code;
	out->version = fl->version;
	out->name = fl->name;
	out->type = fl->type;
	out->effective = fl->effective;
	return 1;
}
