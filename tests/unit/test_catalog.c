/*
 * Unit tests for the approval catalog (gateway/catalog.c) and its way into the ledger
 * (gateway/ingest.c with a catalog):
 *
 *   - the real config/catalog/jilin.json loads without a problem, and the lookups answer;
 *   - each kind of broken catalog, made by changing one spot of the real file, gives its
 *     message at the line:column of that spot, and several at once are all listed;
 *   - the definition records of a region are 5/20/101/505 per table, keyed as
 *     config/catalog/README.md says, and every one passes the gateway's validation;
 *   - ingest puts them in the ledger once per region: an unchanged catalog writes nothing,
 *     a changed item is a new version, a dry run writes nothing.
 *
 * Environment: SPGW_SCHEMA (config/schema/spgl-v3.json), SPGW_FILES_PLUGIN (the files
 * plugin, a source that pulls nothing from an empty folder).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "ingest.h"
#include "ledger.h"
#include "mem.h"
#include "schema.h"
#include "scratch.h"
#include "validate.h"

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif

#define JILIN SPGW_SOURCE_ROOT "/config/catalog/jilin.json"

static char *jilin_text; /* the real file, mutated per case */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	ck_assert(s != NULL);
	ck_assert_int_eq(fread(s, 1, (size_t)n, f), n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_int_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static void setup(void)
{
	scratch_make("spgw-catalog");
	jilin_text = slurp(JILIN);
}

static void teardown(void)
{
	free(jilin_text);
	scratch_remove();
}

static struct spgw_catalog *load_ok(const char *path)
{
	struct spgw_catalog *c = NULL;
	struct spgw_diag d;
	char line[1024];

	spgw_diag_init(&d);
	if (spgw_catalog_load(path, &c, &d) != SPGW_OK || d.n)
		ck_abort_msg("%s: %zu problems, the first: %s", path, d.n,
			     d.n ? spgw_error_format(&d.items[0], line, sizeof(line)) : "-");
	spgw_diag_free(&d);
	ck_assert(c != NULL);
	return c;
}

/* --- the real file --- */

START_TEST(jilin_loads_clean)
{
	struct spgw_catalog *c = load_ok(JILIN);
	struct spgw_catalog_item_info it;
	struct spgw_catalog_flow_info fl;
	size_t i, kinds[3] = {0, 0, 0}, milestones = 0;
	char code[16];

	ck_assert_str_eq(spgw_catalog_name(c), "jilin");
	ck_assert_uint_eq(spgw_catalog_flow_count(c), 5);
	ck_assert_uint_eq(spgw_catalog_item_count(c), 101);
	ck_assert_uint_eq(spgw_catalog_record_count(c), 5 + 20 + 101 + 505);
	for (i = 1; i <= 101; i++) {
		snprintf(code, sizeof(code), "JL-SX-%03zu", i);
		ck_assert_msg(spgw_catalog_item(c, code, "1.0", &it), "%s not found", code);
		ck_assert_str_eq(it.code, code);
		ck_assert_int_ge(it.stage, 1);
		ck_assert_int_le(it.stage, 4);
		ck_assert_int_ge(it.promised_days, 1);
		ck_assert_int_le(it.promised_days, 60);
		ck_assert_int_eq(it.kind, i <= 29   ? SPGW_CATALOG_MAIN
					  : i <= 47 ? SPGW_CATALOG_PARALLEL
						    : SPGW_CATALOG_SPECIAL);
		kinds[it.kind]++;
		milestones += it.milestone != 0;
	}
	ck_assert_uint_eq(kinds[0], 29);
	ck_assert_uint_eq(kinds[1], 18);
	ck_assert_uint_eq(kinds[2], 54);
	ck_assert_uint_eq(milestones, 4);
	/* one item in detail, and versions compared by value */
	ck_assert(spgw_catalog_item(c, "JL-SX-006", "1", &it));
	ck_assert_str_eq(it.name, "建设用地规划许可证核发");
	ck_assert_int_eq(it.stage, 1);
	ck_assert(it.milestone);
	ck_assert_str_eq(it.dept, "自然资源局");
	ck_assert(spgw_catalog_item(c, "JL-SX-017", NULL, &it));
	ck_assert_str_eq(it.standard_code, "0480");
	ck_assert(!spgw_catalog_item(c, "JL-SX-017", "2.0", &it));
	ck_assert(!spgw_catalog_item(c, "JL-SX-102", NULL, &it));
	ck_assert(!spgw_catalog_item(c, "JL-SX-001", "v1", &it));
	for (i = 1; i <= 5; i++) {
		snprintf(code, sizeof(code), "JL-LC-%02zu", i);
		ck_assert(spgw_catalog_flow(c, code, "1.00", &fl));
		ck_assert_int_eq(fl.type, (int)i);
		ck_assert_str_eq(fl.effective, "2020-01-01");
	}
	ck_assert(!spgw_catalog_flow(c, "JL-LC-06", NULL, &fl));
	spgw_catalog_free(c);
}
END_TEST

/* Two versions of one code: NULL finds the highest, a version finds itself. */
START_TEST(versions_are_looked_up_by_value)
{
	struct spgw_catalog *c;
	struct spgw_catalog_item_info it;
	const char *line = "{\"code\": \"JL-SX-101\", \"version\": \"1.0\"";
	char *p = strstr(jilin_text, line), *text;
	const char *eol;
	size_t n;

	ck_assert(p != NULL);
	eol = strchr(p, '\n');
	/* a second line for JL-SX-101, version 2.0 with 7 promised days, before the first */
	n = strlen(jilin_text);
	text = malloc(n + 512);
	ck_assert(text != NULL);
	memcpy(text, jilin_text, (size_t)(p - jilin_text));
	text[p - jilin_text] = '\0';
	strcat(text, "{\"code\": \"JL-SX-101\", \"version\": \"2.0\", \"name\": "
		     "\"户外广告设施设置审批\", "
		     "\"stage\": 4, \"kind\": \"special\", \"standard_code\": \"1530\", "
		     "\"promised_days\": 7, \"dept\": \"城市管理局\"},\n\t\t");
	strncat(text, p, (size_t)(eol - p) + 1);
	strcat(text, eol + 1);
	/* the counts now say 102 items and 55 special */
	p = strstr(text, "\"counts\": {\"items\": 101");
	ck_assert(p != NULL);
	memcpy(p + strlen("\"counts\": {\"items\": 10"), "2", 1);
	p = strstr(text, "\"special\": 54");
	ck_assert(p != NULL);
	memcpy(p + strlen("\"special\": 5"), "5", 1);
	write_file(scratch_path("two.json"), text);
	c = load_ok(scratch_path("two.json"));
	ck_assert(spgw_catalog_item(c, "JL-SX-101", NULL, &it));
	ck_assert_str_eq(it.version, "2.0");
	ck_assert_int_eq(it.promised_days, 7);
	ck_assert(spgw_catalog_item(c, "JL-SX-101", "1.0", &it));
	ck_assert_int_eq(it.promised_days, 5);
	ck_assert(spgw_catalog_item(c, "JL-SX-101", "2", &it));
	ck_assert_int_eq(it.promised_days, 7);
	ck_assert_uint_eq(spgw_catalog_record_count(c), 5 + 20 + 102 + 510);
	spgw_catalog_free(c);
	free(text);
}
END_TEST

/* --- broken catalogs --- */

/*
 * One spot of the real file changed: the first `from` becomes `to` (or, with delete_line,
 * the line holding `from` goes). The problem must contain `expect` and sit at the first
 * `anchor` (default: `to`) plus `off` bytes of the changed text.
 */
struct broken {
	const char *name, *from, *to;
	int delete_line;
	const char *anchor;
	size_t off;
	const char *expect;
};

static const struct broken broken[] = {
	{"standard code not 4 digits", "\"standard_code\": \"0080\"", "\"standard_code\": \"008\"",
	 0, NULL, 17,
	 "items[0] JL-SX-001: standard_code \"008\" (对应标准审批事项编码) is not four digits"},
	{"kind counts", "\"kind\": \"parallel\"", "\"kind\": \"main\"", 0, "\"counts\": {", 10,
	 "counts: the catalog declares 101 items (29 main, 18 parallel, 54 special) but lists "
	 "101 (30 main, 17 parallel, 54 special)"},
	{"an item lost", "{\"code\": \"JL-SX-050\"", NULL, 1, "\"counts\": {", 10,
	 "but lists 100 (29 main, 18 parallel, 53 special)"},
	{"item code twice", "\"code\": \"JL-SX-002\"", "\"code\": \"JL-SX-001\"", 0,
	 "\"code\": \"JL-SX-001\", \"version\": \"1.0\", \"name\": \"政府投资项目可行性", 8,
	 "items[1] JL-SX-001: item JL-SX-001 version 1.0 is given twice (items[0])"},
	{"item stage out of range", "\"name\": \"建设工程设计方案审查\", \"stage\": 2",
	 "\"name\": \"建设工程设计方案审查\", \"stage\": 5", 0, NULL,
	 sizeof("\"name\": \"建设工程设计方案审查\", \"stage\": ") - 1,
	 "items[9] JL-SX-010: stage (审批阶段) is 5; give 1 to 4"},
	{"three stages", "\"code\": \"JL-JD-3\"", NULL, 1, "\"stages\": [", 10,
	 "stages: expected exactly 4 stages (立项用地规划许可, 工程建设许可, 施工许可, 竣工验收), "
	 "found 3"},
	{"stage of items missing", "\"code\": \"JL-JD-3\"", NULL, 1, "\"stage\": 3", 9,
	 ": stage 3 is not among the catalog's stages (nor for "},
	{"stage seq twice", "\"seq\": 4, \"code\": \"JL-JD-4\"",
	 "\"seq\": 3, \"code\": \"JL-JD-4\"", 0, NULL, 7,
	 "stages[3] JL-JD-4: seq 3 is given twice"},
	{"stage standard", "\"standard\": \"4\"", "\"standard\": \"6\"", 0, NULL, 12,
	 "stages[3] JL-JD-4: standard \"6\" (对应标准审批阶段序号) is not a standard stage"},
	{"stage standard list", "\"standard\": \"3\"", "\"standard\": \"3,\"", 0, NULL, 12,
	 "stages[2] JL-JD-3: standard \"3,\" (对应标准审批阶段序号) is not a standard stage"},
	{"flow version", "\"code\": \"JL-LC-03\", \"version\": \"1.0\"",
	 "\"code\": \"JL-LC-03\", \"version\": \"1\"", 0, NULL, 31,
	 "flows[2] JL-LC-03: version \"1\" (版本号) is not like \"1.0\""},
	{"flow type", "\"type\": 5", "\"type\": 10", 0, NULL, 8,
	 "flows[4] JL-LC-05: type (对应标准审批流程类型) is 10; give 1 to 9"},
	{"flow code twice", "\"code\": \"JL-LC-02\"", "\"code\": \"JL-LC-01\"", 0,
	 "\"code\": \"JL-LC-01\", \"version\": \"1.0\", \"name\": \"吉林省政府投资城市", 8,
	 "flows[1] JL-LC-01: flow JL-LC-01 version 1.0 is given twice (flows[0])"},
	{"flow date", "\"effective\": \"2020-01-01\"", "\"effective\": \"2020-02-30\"", 0, NULL, 13,
	 "flows[0] JL-LC-01: effective \"2020-02-30\" (生效时间) is not a date YYYY-MM-DD"},
	{"promised days range", "\"local_code\": \"JL-SX-001\", \"promised_days\": 10",
	 "\"local_code\": \"JL-SX-001\", \"promised_days\": 400", 0, NULL, 44,
	 "items[0] JL-SX-001: promised_days (承诺办结时限) is 400; give 1 to 365"},
	{"promised above legal", "\"promised_days\": 1, \"legal_days\": 3",
	 "\"promised_days\": 5, \"legal_days\": 3", 0, NULL, 17,
	 "items[3] JL-SX-004: promised_days 5 (承诺办结时限) is above legal_days 3 (法定办结时限)"},
	{"unknown key", "\"local_code\": \"JL-SX-002\", \"promised_days\"",
	 "\"local_code\": \"JL-SX-002\", \"promise_days\"", 0, NULL, 27,
	 "items[1] JL-SX-002: unknown key \"promise_days\" (did you mean \"promised_days\"?)"},
	{"wrong type", "\"local_code\": \"JL-SX-003\", \"promised_days\": 15",
	 "\"local_code\": \"JL-SX-003\", \"promised_days\": \"15\"", 0, NULL, 44,
	 "items[2] JL-SX-003: \"promised_days\": expected an integer, got a string"},
	{"missing key", "\"milestone\": false, \"dept\": \"发展和改革委员会\", \"confirmed\"",
	 "\"milestone\": false, \"confirmed\"", 0, "{\"code\": \"JL-SX-001\"", 0,
	 "items[0] JL-SX-001: missing required key \"dept\" in this item"},
	{"item code charset", "\"code\": \"JL-SX-005\"", "\"code\": \"JL SX 005\"", 0, NULL, 8,
	 "items[4] JL SX 005: code \"JL SX 005\" (审批事项编码) is not 1 to 40 of"},
	{"province", "\"province\": \"220000\"", "\"province\": \"220100\"", 0, NULL, 12,
	 "province \"220100\" is not a six-digit province code"},
	{"duplicate key", "\"kind\": \"main\", \"standard_code\": \"0080\"",
	 "\"kind\": \"main\", \"kind\": \"main\", \"standard_code\": \"0080\"", 0, NULL, 16,
	 "duplicate key \"kind\" (first at line"},
	/* jansson points at the "]" after the trailing comma */
	{"syntax", "\"confirmed\": false}\n\t]", "\"confirmed\": false},\n\t]", 0, "},\n\t]", 4,
	 "not valid JSON"},
};

/* Line and column of byte `off` of `s`, counted as the loader counts (code points). */
static void position(const char *s, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* The real text with case `b` applied (malloc). */
static char *mutate(const struct broken *b)
{
	const char *p = strstr(jilin_text, b->from), *start, *end;
	size_t n = strlen(jilin_text), to = b->to ? strlen(b->to) : 0;
	char *out = malloc(n + to + 1);

	ck_assert_msg(p != NULL, "%s: \"%s\" is not in jilin.json", b->name, b->from);
	ck_assert(out != NULL);
	start = p;
	end = p + strlen(b->from);
	if (b->delete_line) {
		while (start > jilin_text && start[-1] != '\n')
			start--;
		end = strchr(p, '\n') + 1;
	}
	memcpy(out, jilin_text, (size_t)(start - jilin_text));
	out[start - jilin_text] = '\0';
	if (b->to)
		strcat(out, b->to);
	strcat(out, end);
	return out;
}

/* Load `text` as a catalog: it must fail; the problems stay in `d`. */
static void load_broken(const char *text, struct spgw_diag *d)
{
	struct spgw_catalog *c = NULL;

	write_file(scratch_path("broken.json"), text);
	spgw_diag_init(d);
	ck_assert_int_ne(spgw_catalog_load(scratch_path("broken.json"), &c, d), SPGW_OK);
	ck_assert(c == NULL);
	ck_assert_uint_gt(d->n, 0);
}

START_TEST(broken_catalog)
{
	const struct broken *b = &broken[_i];
	char *text = mutate(b), all[16384], line[1024];
	const char *anchor = b->anchor ? b->anchor : b->to, *at;
	struct spgw_diag d;
	size_t i, used = 0;
	int want_line, want_col, found = 0;

	at = strstr(text, anchor);
	ck_assert_msg(at != NULL, "%s: anchor \"%s\" not in the changed text", b->name, anchor);
	position(text, (size_t)(at - text) + b->off, &want_line, &want_col);
	load_broken(text, &d);
	for (i = 0; i < d.n; i++) {
		const struct spgw_error *e = &d.items[i];

		spgw_error_format(e, line, sizeof(line));
		used += (size_t)snprintf(all + used, used < sizeof(all) ? sizeof(all) - used : 0,
					 "  %s\n", line);
		if (used >= sizeof(all))
			used = sizeof(all) - 1;
		if (!strstr(e->text, b->expect))
			continue;
		found = 1;
		ck_assert_str_eq(e->source, scratch_path("broken.json"));
		ck_assert_msg(e->line == want_line && e->column == want_col,
			      "%s: at %d:%d, expected %d:%d: %s", b->name, e->line, e->column,
			      want_line, want_col, line);
	}
	ck_assert_msg(found, "%s: no problem says \"%s\"; got:\n%s", b->name, b->expect, all);
	spgw_diag_free(&d);
	free(text);
}
END_TEST

/* Every problem of a file is listed in one load, not the first only. */
static const struct broken *broken_case(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		if (!strcmp(broken[i].name, name))
			return &broken[i];
	ck_abort_msg("no case %s", name);
	return NULL;
}

START_TEST(every_problem_at_once)
{
	static const char *const pick[] = {"standard code not 4 digits", "flow type", "unknown key",
					   "promised days range"};
	char *text = strdup(jilin_text), *next;
	struct spgw_diag d;
	size_t i, j;

	for (i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		char *saved = jilin_text;

		jilin_text = text;
		next = mutate(broken_case(pick[i]));
		jilin_text = saved;
		free(text);
		text = next;
	}
	load_broken(text, &d);
	for (i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		const char *expect = broken_case(pick[i])->expect;

		for (j = 0; j < d.n && !strstr(d.items[j].text, expect); j++)
			;
		ck_assert_msg(j < d.n, "\"%s\" missing among %zu problems", expect, d.n);
	}
	/* and nothing else but the missing "promised_days" the renamed key leaves */
	ck_assert_uint_eq(d.n, 5);
	spgw_diag_free(&d);
	free(text);
}
END_TEST

/* --- the definition records --- */

struct collect {
	const struct spgw_schema *schema;
	const char *region;
	json_t *keys; /* table -> {key: true} */
	size_t invalid;
	char first_invalid[512];
};

static enum spgw_rc collect(void *ud, const char *table, const char *key, const json_t *record)
{
	struct collect *c = ud;
	struct spgw_reasons r;
	json_t *t = json_object_get(c->keys, table);

	if (!t) {
		t = json_object();
		json_object_set_new(c->keys, table, t);
	}
	ck_assert_msg(!json_object_get(t, key), "%s/%s made twice", table, key);
	json_object_set_new(t, key, json_deep_copy(record));
	ck_assert_str_eq(json_string_value(json_object_get(record, "DFSJZJ")), key);
	ck_assert_str_eq(json_string_value(json_object_get(record, "XZQHDM")), c->region);
	ck_assert_int_eq(json_integer_value(json_object_get(record, "SJYXBS")), 1);
	spgw_reasons_init(&r);
	if (spgw_validate(c->schema, table, c->region, record, &r) && !c->invalid++)
		snprintf(c->first_invalid, sizeof(c->first_invalid), "%s/%s: %s %s", table, key,
			 r.items[0].field, r.items[0].en);
	spgw_reasons_free(&r);
	return SPGW_OK;
}

static struct spgw_schema *load_schema(void)
{
	struct spgw_schema *s = NULL;
	struct spgw_diag d;

	spgw_diag_init(&d);
	ck_assert_int_eq(spgw_schema_load(getenv("SPGW_SCHEMA"), &s, &d), SPGW_OK);
	spgw_diag_free(&d);
	return s;
}

static const json_t *rec(const struct collect *c, const char *table, const char *key)
{
	const json_t *r = json_object_get(json_object_get(c->keys, table), key);

	ck_assert_msg(r != NULL, "no %s/%s", table, key);
	return r;
}

START_TEST(records_pass_validation)
{
	static const char *const regions[] = {"220100", "220300", "222400"};
	struct spgw_catalog *cat = load_ok(JILIN);
	struct spgw_schema *s = load_schema();
	const json_t *r;
	size_t i;

	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		struct collect c = {s, regions[i], json_object(), 0, ""};

		ck_assert_int_eq(spgw_catalog_records(cat, regions[i], collect, &c, NULL), SPGW_OK);
		ck_assert_msg(!c.invalid, "%zu records refused, the first: %s", c.invalid,
			      c.first_invalid);
		ck_assert_uint_eq(json_object_size(json_object_get(c.keys, "SPGL_SPLCXXB")), 5);
		ck_assert_uint_eq(json_object_size(json_object_get(c.keys, "SPGL_SPJDXXB")), 20);
		ck_assert_uint_eq(json_object_size(json_object_get(c.keys, "SPGL_SPSXJBXXB")), 101);
		ck_assert_uint_eq(json_object_size(json_object_get(c.keys, "SPGL_SPLCJBLSXXXB")),
				  505);
		ck_assert_uint_eq(json_object_size(c.keys), 4);
		r = rec(&c, "SPGL_SPLCXXB", "LC-JL-LC-01-1.0");
		ck_assert(json_is_number(json_object_get(r, "SPLCBBH")));
		ck_assert(json_number_value(json_object_get(r, "SPLCBBH")) == 1.0);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "DYBZSPLCLX")), 1);
		ck_assert_str_eq(json_string_value(json_object_get(r, "SXRQ")), "2020-01-01");
		r = rec(&c, "SPGL_SPJDXXB", "JD-JL-LC-05-1.0-4");
		ck_assert_str_eq(json_string_value(json_object_get(r, "SPJDMC")), "竣工验收");
		ck_assert_str_eq(json_string_value(json_object_get(r, "DYBZSPJDXH")), "4");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "SPJDXH")), 4);
		r = rec(&c, "SPGL_SPSXJBXXB", "SX-JL-SX-001-1.0");
		ck_assert_str_eq(json_string_value(json_object_get(r, "DYBZSPSXBM")), "0080");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "CNBJSX")), 10);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "FDBJSX")), 20);
		ck_assert_str_eq(json_string_value(json_object_get(r, "SSZT")), "发展和改革委员会");
		ck_assert(json_number_value(json_object_get(r, "SPSXBBH")) == 1.0);
		r = rec(&c, "SPGL_SPLCJBLSXXXB", "LJ-JL-LC-01-1.0-JL-SX-001-1.0");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "SPJDXH")), 1);
		r = rec(&c, "SPGL_SPLCJBLSXXXB", "LJ-JL-LC-03-1.0-JL-SX-029-1.0");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "SPJDXH")), 4);
		json_decref(c.keys);
	}
	spgw_schema_free(s);
	spgw_catalog_free(cat);
}
END_TEST

/* The validation above can fail: a record it checks, spoilt, is refused. */
START_TEST(validation_sees_a_spoilt_record)
{
	struct spgw_catalog *cat = load_ok(JILIN);
	struct spgw_schema *s = load_schema();
	struct collect c = {s, "220100", json_object(), 0, ""};
	struct spgw_reasons r;
	json_t *x;

	ck_assert_int_eq(spgw_catalog_records(cat, "220100", collect, &c, NULL), SPGW_OK);
	x = json_deep_copy(rec(&c, "SPGL_SPSXJBXXB", "SX-JL-SX-001-1.0"));
	json_object_set_new(x, "DYBZSPSXBM", json_string("008"));
	spgw_reasons_init(&r);
	ck_assert_uint_gt(spgw_validate(s, "SPGL_SPSXJBXXB", "220100", x, &r), 0);
	ck_assert_str_eq(r.items[0].field, "DYBZSPSXBM");
	spgw_reasons_free(&r);
	/* and a record built for one region is refused for another */
	spgw_reasons_init(&r);
	ck_assert_uint_gt(spgw_validate(s, "SPGL_SPLCXXB", "220200",
					rec(&c, "SPGL_SPLCXXB", "LC-JL-LC-01-1.0"), &r),
			  0);
	spgw_reasons_free(&r);
	json_decref(x);
	json_decref(c.keys);
	spgw_schema_free(s);
	spgw_catalog_free(cat);
}
END_TEST

/* A callback's error stops the records and comes back. */
static enum spgw_rc stop_at_7(void *ud, const char *table, const char *key, const json_t *r)
{
	int *n = ud;

	(void)table;
	(void)key;
	(void)r;
	return ++*n == 7 ? SPGW_E_LEDGER : SPGW_OK;
}

START_TEST(records_stop_on_callback_error)
{
	struct spgw_catalog *cat = load_ok(JILIN);
	int n = 0;

	ck_assert_int_eq(spgw_catalog_records(cat, "220100", stop_at_7, &n, NULL), SPGW_E_LEDGER);
	ck_assert_int_eq(n, 7);
	spgw_catalog_free(cat);
}
END_TEST

/* --- ingest with a catalog --- */

/* Two sources of the files plugin over empty folders: their regions get the catalog. */
static struct spgw_source sources[3];

static void make_sources(void)
{
	static const char *const regions[] = {"220100", "220300", "220300"};
	size_t i;
	char name[32];

	/* an empty folder: the catalog's files in the scratch folder are no exports */
	ck_assert_int_eq(mkdir(scratch_path("drops"), 0700), 0);
	for (i = 0; i < 3; i++) {
		struct spgw_source *s = &sources[i];

		snprintf(name, sizeof(name), "src-%zu", i);
		s->name = strdup(name);
		s->file = strdup(scratch_path("src.json"));
		s->plugin = strdup("files");
		s->plugin_path = strdup(getenv("SPGW_FILES_PLUGIN"));
		s->region = strdup(regions[i]);
		s->mapping = strdup(SPGW_SOURCE_ROOT "/config/mappings/files-demo.json");
		s->settings_json = json_pack("{s:s}", "dir", scratch_path("drops"));
		s->settings = json_dumps(s->settings_json, JSON_COMPACT);
		s->timeout_ms = 30000;
		s->memory_limit = (size_t)512 << 20;
		s->enabled = i < 2; /* the third (a second 220300 source) is disabled */
	}
}

static void free_sources(void)
{
	size_t i;

	for (i = 0; i < 3; i++)
		spgw_config_source_clear(&sources[i]);
}

/* One ingest; returns the results (spgw_free) and checks the catalog's two come first. */
static struct spgw_ingest_result *ingest(struct spgw_ledger *l, const struct spgw_schema *s,
					 const char *catalog, int dry_run, size_t *n)
{
	struct spgw_ingest_opts o;
	struct spgw_ingest_result *res = NULL;
	struct spgw_error err;
	char line[1024];
	enum spgw_rc rc;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	o.catalog = catalog;
	o.dry_run = dry_run;
	rc = spgw_ingest_run(sources, 3, s, l, &o, &res, n, &err);
	ck_assert_msg(rc == SPGW_OK, "ingest: %s", spgw_error_format(&err, line, sizeof(line)));
	ck_assert_uint_eq(*n, 4);
	ck_assert_str_eq(res[0].source->name, "catalog:220100");
	ck_assert_str_eq(res[0].source->region, "220100");
	ck_assert_str_eq(res[1].source->name, "catalog:220300");
	ck_assert_str_eq(res[2].source->name, "src-0");
	ck_assert_str_eq(res[3].source->name, "src-1");
	return res;
}

START_TEST(ingest_puts_each_region_once)
{
	struct spgw_schema *s = load_schema();
	struct spgw_ledger *l = NULL;
	struct spgw_ingest_result *res;
	struct spgw_error err;
	size_t n, i;
	char *changed;
	const char *p;

	memset(&err, 0, sizeof(err));
	make_sources();
	ck_assert_int_eq(spgw_ledger_open(scratch_dir, &l, &err), SPGW_OK);

	/* a dry run writes nothing, and says what it would put */
	res = ingest(l, s, JILIN, 1, &n);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(res[i].stats.records, 631);
		ck_assert_uint_eq(res[i].stats.quarantined, 0);
		ck_assert_int_eq(res[i].rc, SPGW_OK);
	}
	spgw_free(res);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox"), 0);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM cursors"), 0);

	/* the first run: 631 new records per region, with a cursor, in one commit each */
	res = ingest(l, s, JILIN, 0, &n);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(res[i].stats.added, 631);
		ck_assert_uint_eq(res[i].commits, 1);
	}
	spgw_free(res);
	ck_rows("SELECT region, spgl_table, count(*) FROM outbox GROUP BY 1, 2 ORDER BY 1, 2",
		"220100|SPGL_SPJDXXB|20;220100|SPGL_SPLCJBLSXXXB|505;220100|SPGL_SPLCXXB|5;"
		"220100|SPGL_SPSXJBXXB|101;220300|SPGL_SPJDXXB|20;220300|SPGL_SPLCJBLSXXXB|505;"
		"220300|SPGL_SPLCXXB|5;220300|SPGL_SPSXJBXXB|101;");
	ck_assert_int_eq(scratch_peek_int("SELECT count(DISTINCT source) FROM outbox"), 2);
	/* stages and links take their day from their flow: the references must be there, and
	 * resolve once the flows are in */
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox WHERE spgl_table IN "
					  "('SPGL_SPJDXXB', 'SPGL_SPLCJBLSXXXB') AND day_rule = "
					  "'inherit' AND day_ref <> ''"),
			 2 * 525);
	ck_assert_int_eq(spgw_ledger_resolve_days(l, NULL, &err), SPGW_OK);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox WHERE day IS NULL"), 0);
	ck_assert_int_eq(scratch_peek_int("SELECT count(DISTINCT day) FROM outbox"), 1);
	ck_assert_int_eq(
		scratch_peek_int("SELECT count(*) FROM cursors WHERE source LIKE 'catalog:%'"), 2);

	/* unchanged: nothing written */
	res = ingest(l, s, JILIN, 0, &n);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(res[i].stats.added + res[i].stats.versions, 0);
		ck_assert_uint_eq(res[i].stats.unchanged, 631);
		ck_assert_uint_eq(res[i].commits, 0);
	}
	spgw_free(res);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox"), 2 * 631);

	/* one item's promised days changed: a new version of that item's key only */
	changed = strdup(jilin_text);
	p = strstr(changed, "\"local_code\": \"JL-SX-001\", \"promised_days\": 10");
	ck_assert(p != NULL);
	memcpy(changed + (p - changed) +
		       strlen("\"local_code\": \"JL-SX-001\", \"promised_days\": "),
	       " 9", 2);
	write_file(scratch_path("changed.json"), changed);
	res = ingest(l, s, scratch_path("changed.json"), 0, &n);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(res[i].stats.added, 0);
		ck_assert_uint_ge(res[i].stats.versions, 1);
		ck_assert_uint_eq(res[i].stats.unchanged, 630);
	}
	spgw_free(res);
	ck_assert_int_eq(scratch_peek_int("SELECT count(DISTINCT region || spgl_table || "
					  "record_key) FROM outbox"),
			 2 * 631);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records WHERE record_key = "
					  "'SX-JL-SX-001-1.0' AND region = '220100' AND version = "
					  "(SELECT max(version) FROM outbox WHERE record_key = "
					  "'SX-JL-SX-001-1.0' AND region = '220100') AND data LIKE "
					  "'%\"CNBJSX\":9,%'"),
			 1);
	free(changed);
	spgw_ledger_close(l);
	free_sources();
	spgw_schema_free(s);
}
END_TEST

/* A catalog that does not load stops the ingest before anything is pulled or written. */
START_TEST(ingest_refuses_a_broken_catalog)
{
	struct spgw_schema *s = load_schema();
	struct spgw_ledger *l = NULL;
	struct spgw_ingest_opts o;
	struct spgw_ingest_result *res = NULL;
	struct spgw_error err;
	char *text = mutate(broken_case("standard code not 4 digits"));
	size_t n = 0;

	memset(&err, 0, sizeof(err));
	memset(&o, 0, sizeof(o));
	make_sources();
	write_file(scratch_path("broken.json"), text);
	ck_assert_int_eq(spgw_ledger_open(scratch_dir, &l, &err), SPGW_OK);
	o.catalog = scratch_path("broken.json");
	ck_assert_int_eq(spgw_ingest_run(sources, 3, s, l, &o, &res, &n, &err), SPGW_E_CONFIG);
	ck_assert(res == NULL);
	ck_assert_msg(strstr(err.text, "standard_code \"008\"") != NULL, "%s", err.text);
	ck_assert_int_gt(err.line, 0);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox"), 0);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM cursors"), 0);
	spgw_ledger_close(l);
	free_sources();
	spgw_schema_free(s);
	free(text);
}
END_TEST

static Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, jilin_loads_clean);
	tcase_add_test(tc, versions_are_looked_up_by_value);
	tcase_add_loop_test(tc, broken_catalog, 0, (int)(sizeof(broken) / sizeof(broken[0])));
	tcase_add_test(tc, every_problem_at_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, records_pass_validation);
	tcase_add_test(tc, validation_sees_a_spoilt_record);
	tcase_add_test(tc, records_stop_on_callback_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("ingest");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ingest_puts_each_region_once);
	tcase_add_test(tc, ingest_refuses_a_broken_catalog);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(catalog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
