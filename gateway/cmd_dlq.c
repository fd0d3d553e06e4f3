/*
 * `spgw dlq list|show|retry|export`: dead letters, the record versions the national platform
 * rejected, kept with its reasons. Staff read them (list, show), hand them to the city that
 * must fix the data (export), or send them again once the cause on the national side is gone
 * (retry), e.g. a parent record the platform did not hold yet.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "suggest.h"
#include "upload_answer.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] dlq list [--region R] [--table T] [--json]\n"
		"       spgw [-c FILE] dlq show ID\n"
		"       spgw [-c FILE] dlq retry (ID | --all [--region R] [--table T])\n"
		"       spgw [-c FILE] dlq export [--format csv|json] [-o FILE] [--region R]"
		" [--table T]\n"
		"\n"
		"Dead letters (死信): record versions the national platform rejected, with its\n"
		"reasons (原因).\n"
		"\n"
		"list    one line each: id, region, table, key, version, business day, when\n"
		"        it was rejected and the first reason; --json: a JSON array, every reason\n"
		"show    one dead letter: every reason with the field's Chinese name, the batch\n"
		"        that carried it and the record as it was sent\n"
		"retry   put dead letters back in the queue for the next upload: one by ID, or\n"
		"        every one (of --region/--table) with --all; a version that a newer\n"
		"        version of its key has replaced stays dead (sending it would undo the\n"
		"        newer one). A record the city corrects comes back as a new version by\n"
		"        itself: retry is for rejections whose cause was on the national side\n"
		"export  for the city to fix at the source: CSV in UTF-8 with a BOM (Excel opens\n"
		"        it, headers in English and Chinese), one row per reason, or a JSON array\n"
		"        with one object per dead letter; to stdout or -o FILE\n"
		"\n"
		"  --region R  only dead letters of region R (six digits)\n"
		"  --table T   only dead letters of SPGL table T\n"
		"\n"
		"Exit status 0; 2 for a wrong command line or an ID that is not a dead letter;\n"
		"for retry ID, 1 when that dead letter stays dead because a newer version\n"
		"replaced it.\n");
}

/* Which options were given, and which a subcommand takes. */
enum {
	OPT_REGION = 1 << 0,
	OPT_TABLE = 1 << 1,
	OPT_JSON = 1 << 2,
	OPT_FORMAT = 1 << 3,
	OPT_OUTPUT = 1 << 4,
	OPT_ALL = 1 << 5,
};

struct dopts {
	unsigned given;
	const char *region, *table, *format, *output;
};

/* ---- what a dead letter says ---- */

static const char *table_zh(const struct spgw_schema *s, const char *table)
{
	const struct spgw_table *t = table ? spgw_schema_table(s, table) : NULL;

	return t ? spgw_table_zh(t) : "";
}

static const char *field_zh(const struct spgw_schema *s, const char *table, const char *field)
{
	const struct spgw_table *t = table ? spgw_schema_table(s, table) : NULL;
	const struct spgw_field *f = t && field ? spgw_table_field(t, field) : NULL;

	return f ? spgw_field_zh(f) : NULL;
}

/*
 * The stored reasons as a JSON array of {field, field_zh, code, message, en[, zh]}: field_zh
 * from the schema where the field is known; en from the code when the reason has neither en
 * nor zh (national answers carry en, spgw's own reasons an English message and zh). A reason
 * text that is not such an array (written by hand, or damaged) becomes one "unknown" reason
 * holding that text, so nothing the ledger holds is hidden. New reference, NULL when out of
 * memory.
 */
static json_t *reasons_json(const struct spgw_schema *s, const char *table, const char *text)
{
	json_t *in = text ? json_loads(text, 0, NULL) : NULL;
	json_t *out = json_array(), *r;
	size_t i;

	if (!out)
		goto fail;
	if (!json_is_array(in)) {
		r = json_pack("{s:n,s:s,s:s,s:s}", "field", "code", "unknown", "message",
			      text ? text : "(no reason stored)", "en",
			      "the reason stored with this dead letter is not readable");
		if (!r || json_array_append_new(out, r))
			goto fail;
		json_decref(in);
		return out;
	}
	json_array_foreach(in, i, r) {
		const char *field = json_string_value(json_object_get(r, "field"));
		const char *code = json_string_value(json_object_get(r, "code"));
		const char *msg = json_string_value(json_object_get(r, "message"));
		const char *en = json_string_value(json_object_get(r, "en"));
		const char *zh = json_string_value(json_object_get(r, "zh"));
		json_t *o = json_pack("{s:s?,s:s?,s:s,s:s,s:s?}", "field", field, "field_zh",
				      field_zh(s, table, field), "code", code ? code : "unknown",
				      "message", msg ? msg : "", "en",
				      en || zh ? en : spgw_answer_code_en(code));

		if (o && zh && json_object_set_new(o, "zh", json_string(zh))) {
			json_decref(o);
			o = NULL;
		}
		if (!o || json_array_append_new(out, o))
			goto fail;
	}
	json_decref(in);
	return out;
fail:
	json_decref(in);
	json_decref(out);
	return NULL;
}

/* A reason's text: "message", with " / zh" when there is one. New (free()), or NULL. */
static char *reason_text(const json_t *r)
{
	const char *msg = json_string_value(json_object_get(r, "message"));
	const char *zh = json_string_value(json_object_get(r, "zh"));
	char *out = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&out, &n);

	if (!m)
		return NULL;
	fprintf(m, "%s%s%s", msg ? msg : "", zh ? " / " : "", zh ? zh : "");
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

/* "XMDM 项目代码" / "XMDM" / "(record)" for one reason. */
static void reason_where(const json_t *r, char *buf, size_t n)
{
	const char *field = json_string_value(json_object_get(r, "field"));
	const char *zh = json_string_value(json_object_get(r, "field_zh"));

	if (!field)
		snprintf(buf, n, "(record 整条记录)");
	else
		snprintf(buf, n, "%s%s%s", field, zh ? " " : "", zh ? zh : "");
}

/*
 * The record as sent, indented, token for token: reading it into jansson and writing it out
 * again would print 88381.4 as 88381.399999999994, which is not what was sent.
 */
static void put_pretty(FILE *out, const char *p)
{
	int depth = 0, in_str = 0, esc = 0;

	for (; *p; p++) {
		if (in_str) {
			fputc(*p, out);
			if (esc)
				esc = 0;
			else if (*p == '\\')
				esc = 1;
			else if (*p == '"')
				in_str = 0;
			continue;
		}
		switch (*p) {
		case '"':
			in_str = 1;
			fputc('"', out);
			break;
		case '{':
		case '[':
			fputc(*p, out);
			if (p[1] == '}' || p[1] == ']') {
				fputc(*++p, out);
				break;
			}
			fprintf(out, "\n%*s", 2 * ++depth, "");
			break;
		case '}':
		case ']':
			fprintf(out, "\n%*s%c", 2 * (depth > 0 ? --depth : 0), "", *p);
			break;
		case ',':
			fprintf(out, ",\n%*s", 2 * depth, "");
			break;
		case ':':
			fputs(": ", out);
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			fputc(*p, out);
		}
	}
	fputc('\n', out);
}

/*
 * One dead letter as a JSON object; `data` adds the digest and, when the record is not valid
 * JSON (a damaged ledger), the record as a string: a valid one is spliced in as text by
 * put_dead_json(), for the same reason as put_pretty().
 */
static json_t *dead_json(const struct spgw_schema *s, const struct spgw_dead_row *r, int data)
{
	json_t *reasons = reasons_json(s, r->table, r->reason);
	json_t *o = reasons ? json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s?,s:s,s:s?,s:s?,s:o}", "id",
					(json_int_t)r->id, "region", r->region, "table",
					r->table, "table_zh", table_zh(s, r->table), "key", r->key,
					"version", (json_int_t)r->version, "day", r->day,
					"source", r->source, "batch_id", r->batch_id, "dead_at",
					r->dead_at, "reasons", reasons)
			    : NULL;

	if (o && data) {
		json_t *rec = json_loads(r->data, 0, NULL);

		if (json_object_set_new(o, "digest", json_string(r->digest)) ||
		    (!rec && json_object_set_new(o, "data", json_string(r->data)))) {
			json_decref(o);
			o = NULL;
		}
		json_decref(rec);
	}
	return o;
}

/* Write dead_json() compact, with the record as sent after "data" when it is valid JSON. */
static enum spgw_rc put_dead_json(FILE *out, const struct spgw_schema *s,
				  const struct spgw_dead_row *r, int data, const char *sep)
{
	json_t *o = dead_json(s, r, data);
	char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int spliced = o && data && !json_object_get(o, "data");

	json_decref(o);
	if (!txt)
		return SPGW_E_NOMEM;
	if (spliced) /* txt ends with the object's closing brace */
		fprintf(out, "%s%.*s,\"data\":%s}", sep, (int)strlen(txt) - 1, txt, r->data);
	else
		fprintf(out, "%s%s", sep, txt);
	free(txt);
	return SPGW_OK;
}

/* ---- list ---- */

struct list_ctx {
	const struct spgw_schema *schema;
	int json;
	size_t n;
	int wtable, wkey; /* columns, from a first pass over the same rows */
};

/* Widen the table and key columns to the longest value, within reason. */
static enum spgw_rc measure_row(void *ud, const struct spgw_dead_row *r)
{
	struct list_ctx *lc = ud;
	int wt = spgw_cmd_width(r->table) + 1 + spgw_cmd_width(table_zh(lc->schema, r->table));
	int wk = spgw_cmd_width(r->key);

	if (wt > lc->wtable && wt <= 64)
		lc->wtable = wt;
	if (wk > lc->wkey && wk <= 64)
		lc->wkey = wk;
	return SPGW_OK;
}

static enum spgw_rc list_row(void *ud, const struct spgw_dead_row *r)
{
	struct list_ctx *lc = ud;
	json_t *reasons, *first;
	char table[160], where[160], ver[24], id[24];
	const char *code, *msg;
	size_t more;

	if (lc->json)
		return put_dead_json(stdout, lc->schema, r, 0, lc->n++ ? ",\n" : "");
	reasons = reasons_json(lc->schema, r->table, r->reason);
	if (!reasons)
		return SPGW_E_NOMEM;
	if (!lc->n++) {
		spgw_cmd_cell(stdout, "id", 8);
		spgw_cmd_cell(stdout, "region", 8);
		spgw_cmd_cell(stdout, "table", lc->wtable);
		spgw_cmd_cell(stdout, "key", lc->wkey);
		spgw_cmd_cell(stdout, "ver", 4);
		spgw_cmd_cell(stdout, "day", 10);
		spgw_cmd_cell(stdout, "rejected at", 20);
		printf("first reason\n");
		spgw_cmd_cell(stdout, "编号", 8);
		spgw_cmd_cell(stdout, "行政区划", 8);
		spgw_cmd_cell(stdout, "表名", lc->wtable);
		spgw_cmd_cell(stdout, "地方数据主键", lc->wkey);
		spgw_cmd_cell(stdout, "版本", 4);
		spgw_cmd_cell(stdout, "业务日期", 10);
		spgw_cmd_cell(stdout, "退回时间", 20);
		printf("原因\n");
	}
	first = json_array_get(reasons, 0);
	code = json_string_value(json_object_get(first, "code"));
	/* one line: the Chinese text where spgw's own reason has one */
	msg = json_string_value(json_object_get(first, "zh"));
	if (!msg)
		msg = json_string_value(json_object_get(first, "message"));
	more = json_array_size(reasons) > 1 ? json_array_size(reasons) - 1 : 0;
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	snprintf(ver, sizeof(ver), "%lld", (long long)r->version);
	snprintf(table, sizeof(table), "%s %s", r->table, table_zh(lc->schema, r->table));
	reason_where(first, where, sizeof(where));
	spgw_cmd_cell(stdout, id, 8);
	spgw_cmd_cell(stdout, r->region, 8);
	spgw_cmd_cell(stdout, table, lc->wtable);
	spgw_cmd_cell(stdout, r->key, lc->wkey);
	spgw_cmd_cell(stdout, ver, 4);
	spgw_cmd_cell(stdout, r->day ? r->day : "-", 10);
	spgw_cmd_cell(stdout, r->dead_at ? r->dead_at : "-", 20);
	printf("%s %s: %s", where, code ? code : "", msg ? msg : "");
	if (more)
		printf(" [+%zu]", more);
	putchar('\n');
	json_decref(reasons);
	return SPGW_OK;
}

static int do_list(const struct spgw_schema *s, struct spgw_ledger *l, const struct dopts *o)
{
	struct list_ctx lc = { s, (o->given & OPT_JSON) != 0, 0, 5, 12 };
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	if (lc.json)
		fputs("[\n", stdout);
	/* two passes rather than holding every row: a backlog of dead letters can be large */
	if ((!lc.json && spgw_ledger_dead_each(l, o->region, o->table, measure_row, &lc, &err)) ||
	    spgw_ledger_dead_each(l, o->region, o->table, list_row, &lc, &err)) {
		if (lc.json)
			fputs("\n]\n", stdout);
		if (!err.code)
			spgw_error_nomem(&err, "listing dead letters");
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(err.code);
	}
	if (lc.json)
		fputs(lc.n ? "\n]\n" : "]\n", stdout);
	else if (!lc.n)
		printf("no dead letters%s (没有死信)\n", o->region || o->table ? " here" : "");
	else
		printf("%zu dead letter%s (死信); `spgw dlq show ID` gives every reason\n", lc.n,
		       lc.n == 1 ? "" : "s");
	return SPGW_EXIT_OK;
}

/* ---- show ---- */

static enum spgw_rc show_row(void *ud, const struct spgw_dead_row *r)
{
	const struct spgw_schema *s = ud;
	json_t *reasons = reasons_json(s, r->table, r->reason);
	json_t *rec = json_loads(r->data, 0, NULL);
	char ver[24], where[160];
	json_t *x;
	size_t i;

	if (!reasons) {
		json_decref(rec);
		return SPGW_E_NOMEM;
	}
	snprintf(ver, sizeof(ver), "%lld", (long long)r->version);
	printf("dead letter (死信) %lld\n", (long long)r->id);
	spgw_cmd_cell(stdout, "  region 行政区划", 24);
	printf("%s\n", r->region);
	spgw_cmd_cell(stdout, "  table 表名", 24);
	printf("%s %s\n", r->table, table_zh(s, r->table));
	spgw_cmd_cell(stdout, "  key 地方数据主键", 24);
	printf("%s\n", r->key);
	spgw_cmd_cell(stdout, "  version 版本", 24);
	printf("%s\n", ver);
	spgw_cmd_cell(stdout, "  day 业务日期", 24);
	printf("%s\n", r->day ? r->day : "-");
	spgw_cmd_cell(stdout, "  source 数据源", 24);
	printf("%s\n", r->source);
	spgw_cmd_cell(stdout, "  digest 摘要", 24);
	printf("%s\n", r->digest);
	spgw_cmd_cell(stdout, "  batch 批次", 24);
	printf("%s\n", r->batch_id ? r->batch_id : "-");
	spgw_cmd_cell(stdout, "  rejected at 退回时间", 24);
	printf("%s\n", r->dead_at ? r->dead_at : "-");
	printf("reasons (退回原因):\n");
	json_array_foreach(reasons, i, x) {
		const char *en = json_string_value(json_object_get(x, "en"));
		char *text = reason_text(x);

		reason_where(x, where, sizeof(where));
		printf("  %s  %s: %s%s%s%s\n", where,
		       json_string_value(json_object_get(x, "code")), text ? text : "",
		       en ? " (" : "", en ? en : "", en ? ")" : "");
		free(text);
	}
	printf("record as sent (报送数据):\n");
	if (rec)
		put_pretty(stdout, r->data);
	else /* not JSON: a damaged ledger; the text as it is */
		printf("%s\n", r->data);
	printf("a corrected record from the source is sent as a new version by itself; when the\n"
	       "cause was on the national side: spgw dlq retry %lld\n", (long long)r->id);
	json_decref(rec);
	json_decref(reasons);
	return SPGW_OK;
}

/* ---- retry ---- */

static enum spgw_rc noop_row(void *ud, const struct spgw_dead_row *r)
{
	(void)ud;
	(void)r;
	return SPGW_OK;
}

static int do_retry(struct spgw_ledger *l, long long id, const struct dopts *o)
{
	struct spgw_error err;
	int64_t n = 0, superseded = 0;

	memset(&err, 0, sizeof(err));
	/* an id that is no dead letter is a mistake to point out, not "0 went back" */
	if (id > 0 && spgw_ledger_dead_get(l, id, noop_row, NULL, &err)) {
		spgw_cmd_perror(&err);
		return err.code == SPGW_E_NOTFOUND ? SPGW_EXIT_USAGE : spgw_cmd_exit(err.code);
	}
	if (spgw_ledger_dead_retry(l, id > 0 ? id : 0, o->region, o->table, &n, &superseded,
				   &err)) {
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(err.code);
	}
	if (id > 0 && superseded) {
		printf("dead letter %lld stays dead (仍为死信): a newer version of its record is "
		       "in the ledger, and sending this one would undo it\n", id);
		return SPGW_EXIT_PARTIAL;
	}
	if (!n && !superseded) {
		printf("no dead letters to retry (没有死信)\n");
		return SPGW_EXIT_OK;
	}
	printf("%lld dead letter%s back in the queue (已重新排队)", (long long)n,
	       n == 1 ? "" : "s");
	if (superseded)
		printf(", %lld stay%s dead because a newer version of the record replaced %s "
		       "(已被新版本取代)", (long long)superseded, superseded == 1 ? "s" : "",
		       superseded == 1 ? "it" : "them");
	printf("\n");
	if (n)
		printf("`spgw upload` sends %s\n", n == 1 ? "it" : "them");
	return SPGW_EXIT_OK;
}

/* ---- export ---- */

struct export_ctx {
	const struct spgw_schema *schema;
	FILE *out;
	int json;
	size_t n;
};

/* One CSV field: always quoted, quotes doubled (RFC 4180). */
static void csv_field(FILE *out, const char *s, int last)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputs(last ? "\"\r\n" : "\",", out);
}

static enum spgw_rc export_row(void *ud, const struct spgw_dead_row *r)
{
	struct export_ctx *ec = ud;
	json_t *reasons, *x;
	char id[24], ver[24], *text;
	size_t i;

	if (ec->json)
		return put_dead_json(ec->out, ec->schema, r, 1, ec->n++ ? ",\n" : "");
	reasons = reasons_json(ec->schema, r->table, r->reason);
	if (!reasons)
		return SPGW_E_NOMEM;
	ec->n++;
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	snprintf(ver, sizeof(ver), "%lld", (long long)r->version);
	/* one row per reason: the city fixes field by field, and filters the sheet so */
	json_array_foreach(reasons, i, x) {
		csv_field(ec->out, id, 0);
		csv_field(ec->out, r->region, 0);
		csv_field(ec->out, r->table, 0);
		csv_field(ec->out, table_zh(ec->schema, r->table), 0);
		csv_field(ec->out, r->key, 0);
		csv_field(ec->out, ver, 0);
		csv_field(ec->out, r->day, 0);
		csv_field(ec->out, r->source, 0);
		csv_field(ec->out, r->batch_id, 0);
		csv_field(ec->out, r->dead_at, 0);
		csv_field(ec->out, json_string_value(json_object_get(x, "field")), 0);
		csv_field(ec->out, json_string_value(json_object_get(x, "field_zh")), 0);
		csv_field(ec->out, json_string_value(json_object_get(x, "code")), 0);
		text = reason_text(x);
		csv_field(ec->out, text, 0);
		csv_field(ec->out, json_string_value(json_object_get(x, "en")), 0);
		free(text);
		csv_field(ec->out, r->data, 1);
	}
	json_decref(reasons);
	return SPGW_OK;
}

static int do_export(const struct spgw_schema *s, struct spgw_ledger *l, const struct dopts *o)
{
	struct export_ctx ec;
	struct spgw_error err;
	enum spgw_rc rc;

	memset(&ec, 0, sizeof(ec));
	memset(&err, 0, sizeof(err));
	ec.schema = s;
	ec.json = o->format && !strcmp(o->format, "json");
	ec.out = o->output ? fopen(o->output, "wb") : stdout;
	if (!ec.out) {
		perror(o->output);
		return SPGW_EXIT_ERROR;
	}
	if (ec.json)
		fputs("[\n", ec.out);
	else /* the BOM makes Excel read UTF-8; the header stands even with no rows */
		fputs("\xEF\xBB\xBF"
		      "id 编号,region 行政区划代码,table 表名,table_zh 表中文名称,"
		      "key 地方数据主键,version 版本,day 业务日期,source 数据源,batch_id 批次号,"
		      "dead_at 退回时间,field 字段,field_zh 字段中文名称,code 错误代码,"
		      "reason 原因,reason_en 原因（英文）,data 报送数据\r\n",
		      ec.out);
	rc = spgw_ledger_dead_each(l, o->region, o->table, export_row, &ec, &err);
	if (ec.json)
		fputs(ec.n ? "\n]\n" : "]\n", ec.out);
	if ((o->output && fclose(ec.out)) || (!o->output && fflush(ec.out))) {
		perror(o->output ? o->output : "stdout");
		return SPGW_EXIT_ERROR;
	}
	if (rc) {
		if (!err.code)
			spgw_error_nomem(&err, "exporting dead letters");
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(err.code);
	}
	if (o->output)
		fprintf(stderr, "spgw: %zu dead letters written to %s\n", ec.n, o->output);
	return SPGW_EXIT_OK;
}

/* ---- the command line ---- */

/* A positive id, or 0 after saying what is wrong. */
static long long parse_id(const char *sub, const char *arg)
{
	char *end;
	long long id = strtoll(arg, &end, 10);

	if (*end || end == arg || id <= 0) {
		fprintf(stderr, "spgw: dlq %s wants a dead letter's id (`spgw dlq list` shows "
				"them), got \"%s\"\n", sub, arg);
		return 0;
	}
	return id;
}

/* --region and --table name something that exists, so a typo is not "no dead letters". */
static int check_filters(const struct spgw_schema *s, const struct dopts *o)
{
	struct spgw_suggest sg;
	const char *best;
	size_t i;

	if (o->region && (strlen(o->region) != 6 || strspn(o->region, "0123456789") != 6)) {
		fprintf(stderr, "spgw: dlq: --region wants a six-digit region code (行政区划代码), "
				"got \"%s\"\n", o->region);
		return SPGW_EXIT_USAGE;
	}
	if (!o->table || spgw_schema_table(s, o->table))
		return SPGW_EXIT_OK;
	spgw_suggest_init(&sg, o->table);
	for (i = 0; i < spgw_schema_table_count(s); i++)
		spgw_suggest_try(&sg, spgw_table_name(spgw_schema_table_at(s, i)));
	best = spgw_suggest_best(&sg);
	fprintf(stderr, "spgw: dlq: the schema has no table \"%s\"%s%s%s; `spgw schema list` "
			"lists them\n", o->table, best ? " (did you mean \"" : "", best ? best : "",
		best ? "\"?)" : "");
	return SPGW_EXIT_USAGE;
}

/* The options `sub` takes, and how many operands; -1 when `sub` is unknown. */
static int allowed(const char *sub, unsigned *opts)
{
	if (!strcmp(sub, "list")) {
		*opts = OPT_REGION | OPT_TABLE | OPT_JSON;
		return 0;
	}
	if (!strcmp(sub, "show")) {
		*opts = 0;
		return 1;
	}
	if (!strcmp(sub, "retry")) {
		*opts = OPT_REGION | OPT_TABLE | OPT_ALL;
		return 1; /* or none with --all: checked below */
	}
	if (!strcmp(sub, "export")) {
		*opts = OPT_REGION | OPT_TABLE | OPT_FORMAT | OPT_OUTPUT;
		return 0;
	}
	return -1;
}

/* Check the command line once it is parsed; SPGW_EXIT_OK or SPGW_EXIT_USAGE. */
static int check_usage(const char *sub, const struct dopts *o, int operands)
{
	unsigned ok = 0;
	int want = allowed(sub, &ok);

	if (want < 0) {
		fprintf(stderr, "spgw: dlq: unknown subcommand \"%s\"\n", sub);
		return SPGW_EXIT_USAGE;
	}
	if (o->given & ~ok) {
		static const char *const names[] = { "--region", "--table", "--json", "--format",
						     "--output", "--all" };
		unsigned bad = o->given & ~ok;
		int i;

		for (i = 0; !(bad & 1u << i); i++)
			;
		fprintf(stderr, "spgw: dlq %s does not take %s (spgw dlq --help)\n", sub,
			names[i]);
		return SPGW_EXIT_USAGE;
	}
	if (!strcmp(sub, "retry")) {
		/* --all is spelled out so that a missing id never re-queues everything */
		if ((o->given & OPT_ALL) ? operands != 0 : operands != 1) {
			fprintf(stderr, "spgw: dlq retry wants one id, or --all for every dead "
					"letter (of --region/--table)\n");
			return SPGW_EXIT_USAGE;
		}
		if (!(o->given & OPT_ALL) && (o->given & (OPT_REGION | OPT_TABLE))) {
			fprintf(stderr, "spgw: dlq retry: --region and --table choose among all "
					"dead letters: give them with --all, not with an id\n");
			return SPGW_EXIT_USAGE;
		}
		return SPGW_EXIT_OK;
	}
	if (operands != want) {
		fprintf(stderr, "spgw: dlq %s: %s\n", sub,
			want ? "give one dead letter's id" : "takes no operands");
		return SPGW_EXIT_USAGE;
	}
	if (o->format && strcmp(o->format, "csv") && strcmp(o->format, "json")) {
		fprintf(stderr, "spgw: dlq export: unknown format \"%s\" (csv or json)\n",
			o->format);
		return SPGW_EXIT_USAGE;
	}
	return SPGW_EXIT_OK;
}

int spgw_cmd_dlq(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "table", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	struct dopts o;
	const char *sub;
	long long id = 0;
	int opt, status;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	if (argc < 2 || spgw_cmd_wants_help(argc, argv)) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? SPGW_EXIT_USAGE : SPGW_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "r:t:f:o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o.region = optarg;
			o.given |= OPT_REGION;
			break;
		case 't':
			o.table = optarg;
			o.given |= OPT_TABLE;
			break;
		case 'j':
			o.given |= OPT_JSON;
			break;
		case 'f':
			o.format = optarg;
			o.given |= OPT_FORMAT;
			break;
		case 'o':
			o.output = optarg;
			o.given |= OPT_OUTPUT;
			break;
		case 'a':
			o.given |= OPT_ALL;
			break;
		default:
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	status = check_usage(sub, &o, argc - optind);
	if (status)
		return status;
	if (argc - optind == 1) {
		id = parse_id(sub, argv[optind]);
		if (!id)
			return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		goto out;
	status = check_filters(s, &o);
	if (status)
		goto out;
	if (!strcmp(sub, "list")) {
		status = do_list(s, l, &o);
	} else if (!strcmp(sub, "show")) {
		if (spgw_ledger_dead_get(l, id, show_row, s, &err)) {
			if (!err.code)
				spgw_error_nomem(&err, "showing a dead letter");
			spgw_cmd_perror(&err);
			status = err.code == SPGW_E_NOTFOUND ? SPGW_EXIT_USAGE
							     : spgw_cmd_exit(err.code);
		}
	} else if (!strcmp(sub, "retry")) {
		status = do_retry(l, id, &o);
	} else {
		status = do_export(s, l, &o);
	}
out:
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
