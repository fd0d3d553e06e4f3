/*
 * `spgw violations` and `spgw stats`: the supervision reports provincial staff read (监管):
 * violations per city and item (second returns, overruns, broken step logs) and approval
 * times per city and stage. The rules live in supervise.h; this file reads the command line,
 * loads the calendar and catalog, and prints (text with Chinese headings, --json) or writes
 * the report document (report.h) with --report.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "catalog.h"
#include "cmd.h"
#include "diag.h"
#include "mem.h"
#include "report.h"
#include "supervise.h"

/* The four stages of the 2019 national reform (国办发〔2019〕11号; codes.md DYBZSPJDXH):
 * national names, the same in every province. */
static const char *const stage_zh[SPGW_CATALOG_STAGES] = {"立项用地规划许可", "工程建设许可",
							  "施工许可", "竣工验收"};

static void violations_help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] violations --from YYYY-MM-DD --to YYYY-MM-DD [--region R]\n"
		"                                 [--report FILE.csv|.json|.html] [--json]\n"
		"\n"
		"Approval cases that break the province's rules, per city and item, from the\n"
		"newest valid version of every case and handling step in the ledger:\n"
		"  二次退件    second return: a second case of the same project (工程代码 GCDM) and\n"
		"              item (审批事项编码 SPSXBM) returned (退件: ending BLZT 4 不受理 or\n"
		"              5 不予受理); the row names it and the return before it\n"
		"  超期办结    overrun: ended (11/12/13) after more working days than its limit\n"
		"  逾期未办结  not ended, and already past its limit at the end of --to\n"
		"  办理环节异常 steps missing or out of order (the BLZT order of spgw's sequence\n"
		"              check), including steps waiting in quarantine for an earlier one\n"
		"\n"
		"A case counts when its date lies in --from..--to (Beijing dates, both included):\n"
		"the date of its acceptance (3 已受理), or for a case never accepted, of its first\n"
		"step. Working days follow the calendar the gateway file names (\"calendar\"): the\n"
		"day of acceptance does not count, the day of completion does. Used time = working\n"
		"days from the 3 to the 11/12/13, minus each 补正 (6 to 7) and 特别程序 (9 to 10)\n"
		"span; the limit is the case's 事项办理时限 SXBLSX, else the catalog item's\n"
		"promised days (承诺时限). An overrun is used > limit.\n"
		"\n"
		"  --region R   one city (six-digit code); default every city in the ledger\n"
		"  --report F   also write the report document: .csv, .json or .html by extension\n"
		"  --json       print JSON instead of text\n"
		"\n"
		"Exit status 0 when there is no violation, 1 when there are some; 2 usage, 3\n"
		"configuration (calendar, catalog), 4 ledger, 6 other errors.\n");
}

static void stats_help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] stats --from YYYY-MM-DD --to YYYY-MM-DD [--region R]\n"
		"                            [--report FILE.csv|.json|.html] [--json]\n"
		"\n"
		"Approval times in working days per city and stage (立项用地规划许可, 工程建设许可,\n"
		"施工许可, 竣工验收) and for whole projects: projects counted, median, 90th\n"
		"percentile, fastest and slowest with their 工程代码, projects complete and in\n"
		"progress.\n"
		"\n"
		"Which projects count:\n"
		"  - a project is an engineering (工程代码 GCDM); its cases go to stages by the\n"
		"    catalog's item; only main items (主线事项) open, hold and close a stage;\n"
		"  - a stage is complete when each of its main items that was accepted ended\n"
		"    approved (11 or 12) in its latest accepted case, none is open or refused (13);\n"
		"    its time runs from the first acceptance (3) of its main items to the last\n"
		"    approval; it counts when that approval lies in --from..--to;\n"
		"  - a project is complete when its four stages are; total = from the first\n"
		"    acceptance of stage 1 to the last approval of stage 4 (the time between\n"
		"    stages included: the figure the province publishes); it counts when stage 4\n"
		"    completed in --from..--to. \"Sum of stages\" adds the four stage times (time\n"
		"    between stages left out). A project whose stage 4 completed in the range but\n"
		"    an earlier stage is not complete in the ledger is counted apart;\n"
		"  - in progress: a project with an acceptance on or before --to whose stage 4\n"
		"    is not complete by --to.\n"
		"Working days by the calendar (the acceptance day does not count, the completion\n"
		"day does). Median: the middle value (the mean of the two middle ones); 90th\n"
		"percentile: nearest rank.\n"
		"\n"
		"  --region R   one city; default every city, then the whole province\n"
		"  --report F   also write the report document: .csv, .json or .html\n"
		"  --json       print JSON instead of text\n"
		"\n"
		"Exit status 0; 2 usage, 3 configuration (calendar, catalog), 4 ledger, 6 other.\n");
}

struct args {
	const char *from, *to, *region, *report;
	int json;
};

/* Parse the options both commands share; an exit status, SPGW_EXIT_OK to go on. */
static int parse_args(int argc, char **argv, struct args *a, void (*help)(FILE *))
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"region", required_argument, NULL, 'r'}, {"report", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},	  {NULL, 0, NULL, 0},
	};
	int c;

	memset(a, 0, sizeof(*a));
	if (spgw_cmd_wants_help(argc, argv)) {
		help(stdout);
		return -1;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->from = optarg;
			break;
		case 't':
			a->to = optarg;
			break;
		case 'r':
			a->region = optarg;
			break;
		case 'o':
			a->report = optarg;
			break;
		case 'j':
			a->json = 1;
			break;
		default:
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	if (optind < argc || !a->from || !a->to) {
		fprintf(stderr, "spgw: %s\n", optind < argc ? "unexpected argument"
							     : "--from and --to are required");
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if (a->report && spgw_report_format_of(a->report) < 0) {
		fprintf(stderr, "spgw: --report %s: name a .csv, .json or .html file\n", a->report);
		return SPGW_EXIT_USAGE;
	}
	return SPGW_EXIT_OK;
}

/* Everything a report needs loaded; released by env_close(). */
struct env {
	struct spgw_config *c;
	struct spgw_schema *s;
	struct spgw_ledger *l;
	struct spgw_calendar *cal;
	struct spgw_catalog *cat;
	const struct spgw_codes *regions; /* XZQHDM code table: city names */
};

static void env_close(struct env *e)
{
	spgw_catalog_free(e->cat);
	spgw_calendar_free(e->cal);
	spgw_ledger_close(e->l);
	spgw_schema_free(e->s);
	spgw_config_free(e->c);
}

static int print_diag(struct spgw_diag *d, const char *what)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		spgw_cmd_perror(&d->items[i]);
	fprintf(stderr, "spgw: the %s has %zu problem(s); nothing was reported\n", what,
		d->n ? d->n : 1);
	return SPGW_EXIT_CONFIG;
}

static int env_open(const struct spgw_cmd_ctx *ctx, struct env *e, int need_catalog)
{
	struct spgw_diag d;
	int status;
	size_t i;

	memset(e, 0, sizeof(*e));
	status = spgw_cmd_open(ctx, &e->c, &e->s, &e->l);
	if (status)
		return status;
	if (!e->c->calendar_path) {
		fprintf(stderr,
			"spgw: %s: no working-day calendar: add \"calendar\": \"calendar/cn.json\" "
			"to the gateway file (config/calendar/README.md)\n",
			e->c->path);
		return SPGW_EXIT_CONFIG;
	}
	if (need_catalog && !e->c->catalog_path) {
		fprintf(stderr,
			"spgw: %s: no approval catalog: approval times need each item's stage; add "
			"\"catalog\": \"catalog/jilin.json\" to the gateway file\n",
			e->c->path);
		return SPGW_EXIT_CONFIG;
	}
	spgw_diag_init(&d);
	if (spgw_calendar_load(e->c->calendar_path, &e->cal, &d))
		status = print_diag(&d, "working-day calendar");
	else if (e->c->catalog_path && spgw_catalog_load(e->c->catalog_path, &e->cat, &d))
		status = print_diag(&d, "approval catalog");
	spgw_diag_free(&d);
	for (i = 0; !status && i < spgw_schema_table_count(e->s) && !e->regions; i++) {
		const struct spgw_field *f =
			spgw_table_field(spgw_schema_table_at(e->s, i), "XZQHDM");

		if (f && spgw_field_rules(f))
			e->regions = spgw_field_rules(f)->codes;
	}
	return status;
}

/* "220100 长春市", or the code alone when the schema's code table lacks it. */
static void region_title(const struct env *e, const char *region, char *out, size_t cap)
{
	const char *label = NULL;

	if (!region) {
		snprintf(out, cap, "全省 all cities");
		return;
	}
	if (e->regions && spgw_codes_find(e->regions, region, &label, NULL) == 1 && label &&
	    label[0])
		snprintf(out, cap, "%s %s", region, label);
	else
		snprintf(out, cap, "%s", region);
}

/* ---- text tables: columns as wide as their widest cell (CJK counts two) ---- */

#define TT_COLS 12

struct ttable {
	int ncol;
	int right[TT_COLS]; /* numbers right-aligned */
	char **cell;        /* rows * ncol */
	size_t nrows, cap;
	int bad;
};

static void tt_row(struct ttable *t, ...) /* ncol strings (NULL shown as "-") */
{
	va_list ap;
	int i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **p = spgw_realloc(t->cell, cap * (size_t)t->ncol * sizeof(*p));

		if (!p) {
			t->bad = 1;
			return;
		}
		t->cell = p;
		t->cap = cap;
	}
	va_start(ap, t);
	for (i = 0; i < t->ncol; i++) {
		const char *s = va_arg(ap, const char *);
		char *d = spgw_strdup(s ? s : "-");

		t->bad |= !d;
		t->cell[t->nrows * (size_t)t->ncol + (size_t)i] = d;
	}
	va_end(ap);
	t->nrows++;
}

static void tt_print(struct ttable *t, FILE *out, const char *indent)
{
	int w[TT_COLS] = {0}, i;
	size_t r;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncol; i++) {
			const char *s = t->cell[r * (size_t)t->ncol + (size_t)i];
			int cw = spgw_cmd_width(s ? s : "");

			if (cw > w[i])
				w[i] = cw;
		}
	for (r = 0; r < t->nrows; r++) {
		fputs(indent, out);
		for (i = 0; i < t->ncol; i++) {
			const char *s = t->cell[r * (size_t)t->ncol + (size_t)i];
			int pad = w[i] - spgw_cmd_width(s), last = i == t->ncol - 1;

			/* headings left, numbers right; no blanks at a line's end */
			if (t->right[i] && r)
				fprintf(out, "%*s%s", pad, "", s);
			else
				fprintf(out, "%s%*s", s, last ? 0 : pad, "");
			if (!last)
				fputc(' ', out);
		}
		fputc('\n', out);
	}
}

static void tt_free(struct ttable *t)
{
	size_t i;

	for (i = 0; i < t->nrows * (size_t)t->ncol; i++)
		spgw_free(t->cell[i]);
	spgw_free(t->cell);
}

static const char *num(char *buf, long v)
{
	snprintf(buf, 24, "%ld", v);
	return buf;
}

/* ---- JSON helpers ---- */

static int jset(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v ? v : json_null());
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jlong(long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *column(const char *key, const char *zh, const char *en, const char *type)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "key", key, "zh", zh, "en", en, "type", type);
}

static json_t *params_of(const struct env *e, const struct args *a)
{
	json_t *p = json_pack("{s:s,s:s,s:s}", "from", a->from, "to", a->to, "calendar",
			      spgw_calendar_path(e->cal));

	if (p && a->region)
		jset(p, "region", json_string(a->region));
	if (p && e->cat)
		jset(p, "catalog", json_string(spgw_catalog_path(e->cat)));
	return p;
}

static json_t *notes_of(char **notes, size_t n, const char *const *first)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && first && first[i]; i++)
		json_array_append_new(a, json_string(first[i]));
	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(notes[i]));
	return a;
}

static int save_report(json_t *doc, const char *path)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	if (!doc) {
		fprintf(stderr, "spgw: out of memory building the report\n");
		return SPGW_EXIT_ERROR;
	}
	if (spgw_report_save(doc, path, &err)) {
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(err.code);
	}
	return SPGW_EXIT_OK;
}

static void now_utc(char out[24])
{
	spgw_cmd_utc_now(out);
}

/* ---- violations ---- */

static const char *const violation_rules[] = {
	"办件按受理日期计入统计期（未受理的按收件日期）；用时 = 受理至办结的工作日，扣除补正、特别程序；"
	"时限取事项办理时限 SXBLSX，缺省时取目录承诺时限 / Cases count by their acceptance date "
	"(never accepted: their first step); used = working days from acceptance to the end, "
	"minus 补正 and 特别程序; limit = SXBLSX, else the catalog's promised days",
	"工作日：受理当日不计，办结当日计入 / working days: the acceptance day does not count, "
	"the completion day does",
	NULL,
};

static const char *used_text(const struct spgw_violation *v, char *buf, size_t cap)
{
	if (v->elapsed < 0)
		return NULL;
	snprintf(buf, cap, "%ld/%ld", v->elapsed, v->limit);
	return buf;
}

static json_t *violation_json(const struct env *e, const struct spgw_violation *v)
{
	char title[96];
	json_t *o = json_object();

	if (!o)
		return NULL;
	region_title(e, v->region, title, sizeof(title));
	jset(o, "kind", json_string(spgw_violation_kind_name(v->kind)));
	jset(o, "kind_zh", json_string(spgw_violation_kind_zh(v->kind)));
	jset(o, "region", jstr(v->region));
	jset(o, "region_name", json_string(title));
	jset(o, "gcdm", jstr(v->gcdm));
	jset(o, "item", jstr(v->item));
	jset(o, "item_name", jstr(v->item_name));
	jset(o, "case", jstr(v->case_no));
	jset(o, "received", jstr(v->received));
	jset(o, "accepted", jstr(v->accepted));
	jset(o, "ended", jstr(v->ended));
	jset(o, "end_code", v->end_code ? json_integer(v->end_code) : json_null());
	jset(o, "prev_case", jstr(v->prev_case));
	jset(o, "prev_ended", jstr(v->prev_ended));
	jset(o, "returns", v->returns ? json_integer(v->returns) : json_null());
	jset(o, "elapsed", jlong(v->elapsed));
	jset(o, "limit", jlong(v->limit));
	jset(o, "limit_from", jstr(v->limit_from));
	jset(o, "paused", jlong(v->paused));
	jset(o, "note", jstr(v->note_en));
	jset(o, "note_zh", jstr(v->note_zh));
	return o;
}

static json_t *tally_json(const struct env *e, const struct spgw_violation_tally *t)
{
	char title[96];
	json_t *o = json_object();
	int k;

	if (!o)
		return NULL;
	region_title(e, t->region, title, sizeof(title));
	jset(o, "region", jstr(t->region));
	jset(o, "region_name", json_string(title));
	if (t->item) {
		jset(o, "item", jstr(t->item));
		jset(o, "item_name", jstr(t->item_name));
	}
	jset(o, "cases", json_integer(t->cases));
	jset(o, "accepted", json_integer(t->accepted));
	jset(o, "ended", json_integer(t->ended));
	jset(o, "returned", json_integer(t->returned));
	for (k = 0; k < SPGW_VIOL_KINDS; k++)
		jset(o, spgw_violation_kind_name((enum spgw_violation_kind)k),
		     json_integer(t->kinds[k]));
	jset(o, "not_judged", json_integer(t->not_judged));
	return o;
}

/* Print the violations as one JSON object. The list can be long (a province's year holds
 * tens of thousands): it goes last and one violation at a time, so the whole is never a
 * jansson tree in memory (measured: 450 MB for 90,000 violations built at once). */
static int violations_json(const struct env *e, const struct args *a,
			   const struct spgw_violations *r, FILE *out)
{
	json_t *o = json_object(), *regs = json_array(), *items = json_array();
	char *head = NULL;
	size_t i, n;
	int bad = !o || !regs || !items;

	for (i = 0; !bad && i < r->nregions; i++)
		bad |= json_array_append_new(regs, tally_json(e, &r->regions[i]));
	for (i = 0; !bad && i < r->nitems; i++)
		bad |= json_array_append_new(items, tally_json(e, &r->items[i]));
	if (!bad) {
		bad |= jset(o, "params", params_of(e, a));
		bad |= json_object_set(o, "regions", regs);
		bad |= json_object_set(o, "items", items);
		bad |= jset(o, "notes", notes_of(r->notes, r->nnotes, NULL));
		bad |= jset(o, "violations", json_array());
	}
	json_decref(regs);
	json_decref(items);
	if (!bad)
		head = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	/* the head ends with "violations": []\n}: open the list there and fill it */
	n = head ? strlen(head) : 0;
	if (!head || n < 4 || strcmp(head + n - 4, "[]\n}")) {
		spgw_free(head);
		return -1;
	}
	head[n - 3] = '\0';
	bad = fputs(head, out) == EOF;
	spgw_free(head);
	for (i = 0; !bad && i < r->n; i++) {
		json_t *v = violation_json(e, &r->v[i]);

		bad = !v || fputs(i ? ",\n    " : "\n    ", out) == EOF ||
		      json_dumpf(v, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(v);
	}
	if (!bad)
		bad = fputs(r->n ? "\n  ]\n}\n" : "]\n}\n", out) == EOF;
	return bad ? -1 : 0;
}

/* A row's note in the report: short, the columns say the rest (the full lines are in
 * --json and the text output). */
static json_t *short_note(const struct spgw_violation *v, const char *to)
{
	const char *from = v->limit_from && !strcmp(v->limit_from, "SXBLSX") ? "事项办理时限"
									      : "承诺时限";

	switch (v->kind) {
	case SPGW_VIOL_SECOND_RETURN:
		return json_sprintf("第 %d 次退件 / return no. %d", v->returns, v->returns);
	case SPGW_VIOL_OVERRUN:
		return json_sprintf("超期 %ld 个工作日（时限取%s）/ %ld working days over",
				    v->elapsed - v->limit, from, v->elapsed - v->limit);
	case SPGW_VIOL_OPEN_OVERDUE:
		return json_sprintf("截至 %s 未办结，已超期 %ld 个工作日 / not ended, %ld working "
				    "days over",
				    to, v->elapsed - v->limit, v->elapsed - v->limit);
	default:
		return jstr(v->note_zh);
	}
}

/* The report document (report.h): the summary per city, then per city its violations and
 * its items with a violation. */
static json_t *violations_doc(const struct env *e, const struct args *a,
			      const struct spgw_violations *r)
{
	json_t *doc, *sum, *rows, *sections;
	char now[24], title[96], used[48], ititle[128];
	size_t i, j;

	now_utc(now);
	doc = json_pack("{s:s,s:s,s:s}", "kind", "violations", "title",
			"违规办件 Violations of approval rules", "generated_at", now);
	sum = json_pack("{s:[o,o,o,o,o,o,o,o,o]}", "columns",
			column("region", "地区", "city", "text"),
			column("cases", "办件数", "cases", "int"),
			column("accepted", "受理", "accepted", "int"),
			column("returned", "退件", "returned", "int"),
			column("second_return", "二次退件", "second returns", "int"),
			column("overrun", "超期办结", "overruns", "int"),
			column("open_overdue", "逾期未办结", "open past limit", "int"),
			column("sequence", "办理环节异常", "step order", "int"),
			column("not_judged", "未计用时", "time not judged", "int"));
	rows = json_array();
	sections = json_array();
	if (!doc || !sum || !rows || !sections)
		goto fail;
	for (i = 0; i < r->nregions; i++) {
		const struct spgw_violation_tally *t = &r->regions[i];
		long nv = t->kinds[0] + t->kinds[1] + t->kinds[2] + t->kinds[3];
		json_t *row, *sec, *trows, *irows;

		region_title(e, t->region, title, sizeof(title));
		row = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "region", title,
				"cases", (json_int_t)t->cases, "accepted", (json_int_t)t->accepted,
				"returned", (json_int_t)t->returned, "second_return",
				(json_int_t)t->kinds[0], "overrun", (json_int_t)t->kinds[1],
				"open_overdue", (json_int_t)t->kinds[2], "sequence",
				(json_int_t)t->kinds[3], "not_judged", (json_int_t)t->not_judged);
		if (row && nv) {
			jset(row, "_flag", json_string("violation"));
			jset(row, "_note", json_sprintf("%ld 件违规 violation(s)", nv));
		}
		json_array_append_new(rows, row);
		trows = json_array();
		for (j = 0; trows && j < r->n; j++) {
			const struct spgw_violation *v = &r->v[j];
			json_t *vr;

			if (strcmp(v->region, t->region))
				continue;
			vr = json_object();
			if (!vr)
				break;
			jset(vr, "kind", json_string(spgw_violation_kind_zh(v->kind)));
			jset(vr, "gcdm", jstr(v->gcdm));
			jset(vr, "item_name", jstr(v->item_name ? v->item_name : v->item));
			jset(vr, "case_no", jstr(v->case_no));
			jset(vr, "received", jstr(v->received));
			jset(vr, "accepted", jstr(v->accepted));
			jset(vr, "ended", jstr(v->ended));
			jset(vr, "used", jstr(used_text(v, used, sizeof(used))));
			jset(vr, "prev_case", jstr(v->prev_case));
			jset(vr, "prev_ended", jstr(v->prev_ended));
			jset(vr, "_flag", json_string("violation"));
			jset(vr, "_note", short_note(v, a->to));
			json_array_append_new(trows, vr);
		}
		sec = json_pack("{s:s,s:{s:[o,o,o,o,o,o,o,o,o,o],s:o}}", "title", title, "table",
				"columns", column("kind", "类别", "kind", "text"),
				column("gcdm", "项目代码", "project (GCDM)", "text"),
				column("item_name", "事项名称", "item", "text"),
				column("case_no", "办件编码", "case", "text"),
				column("received", "收件时间", "received", "date"),
				column("accepted", "受理时间", "accepted", "date"),
				column("ended", "办结/退件时间", "ended or returned", "date"),
				column("used", "用时/时限 工作日", "used/limit working days", "text"),
				column("prev_case", "前次退件办件", "earlier return", "text"),
				column("prev_ended", "前次退件时间", "earlier return on", "date"), "rows",
				trows);
		json_array_append_new(sections, sec);
		irows = json_array();
		for (j = 0; irows && j < r->nitems; j++) {
			const struct spgw_violation_tally *it = &r->items[j];

			if (strcmp(it->region, t->region))
				continue;
			json_array_append_new(
				irows,
				json_pack("{s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:s}", "item", it->item,
					  "item_name", it->item_name, "cases",
					  (json_int_t)it->cases, "second_return",
					  (json_int_t)it->kinds[0], "overrun",
					  (json_int_t)it->kinds[1], "open_overdue",
					  (json_int_t)it->kinds[2], "sequence",
					  (json_int_t)it->kinds[3], "_flag", "violation"));
		}
		snprintf(ititle, sizeof(ititle), "%s 按事项 by item", title);
		sec = json_pack("{s:s,s:{s:[o,o,o,o,o,o,o],s:o}}", "title", ititle, "table",
				"columns", column("item", "事项编码", "item code", "text"),
				column("item_name", "事项名称", "item", "text"),
				column("cases", "办件数", "cases", "int"),
				column("second_return", "二次退件", "second returns", "int"),
				column("overrun", "超期办结", "overruns", "int"),
				column("open_overdue", "逾期未办结", "open past limit", "int"),
				column("sequence", "办理环节异常", "step order", "int"), "rows", irows);
		json_array_append_new(sections, sec);
	}
	jset(sum, "rows", rows);
	rows = NULL;
	jset(doc, "params", params_of(e, a));
	jset(doc, "notes", notes_of(r->notes, r->nnotes, violation_rules));
	jset(doc, "summary", sum);
	jset(doc, "sections", sections);
	return doc;
fail:
	json_decref(doc);
	json_decref(sum);
	json_decref(rows);
	json_decref(sections);
	return NULL;
}

static void violations_text(const struct env *e, const struct args *a,
			    const struct spgw_violations *r, FILE *out)
{
	struct ttable sum = {.ncol = 9, .right = {0, 1, 1, 1, 1, 1, 1, 1, 1}};
	long tot[8] = {0};
	char b[8][24], title[96], used[48];
	size_t i, j, k;

	fprintf(out, "违规办件 Violations: cases dated %s to %s%s%s\n", a->from, a->to,
		a->region ? ", city " : "", a->region ? a->region : "");
	fprintf(out, "工作日历 calendar %s%s%s\n\n", spgw_calendar_path(e->cal),
		e->cat ? "; 目录 catalog " : "", e->cat ? spgw_catalog_path(e->cat) : "");
	tt_row(&sum, "地区 city", "办件 cases", "受理 accepted", "退件 returned", "二次退件",
	       "超期办结", "逾期未办结", "环节异常", "未计用时");
	for (i = 0; i < r->nregions; i++) {
		const struct spgw_violation_tally *t = &r->regions[i];
		long v[8] = {t->cases,	  t->accepted, t->returned, t->kinds[0],
			     t->kinds[1], t->kinds[2], t->kinds[3], t->not_judged};

		region_title(e, t->region, title, sizeof(title));
		for (k = 0; k < 8; k++)
			tot[k] += v[k];
		tt_row(&sum, title, num(b[0], v[0]), num(b[1], v[1]), num(b[2], v[2]),
		       num(b[3], v[3]), num(b[4], v[4]), num(b[5], v[5]), num(b[6], v[6]),
		       num(b[7], v[7]));
	}
	tt_row(&sum, "合计 total", num(b[0], tot[0]), num(b[1], tot[1]), num(b[2], tot[2]),
	       num(b[3], tot[3]), num(b[4], tot[4]), num(b[5], tot[5]), num(b[6], tot[6]),
	       num(b[7], tot[7]));
	tt_print(&sum, out, "");
	tt_free(&sum);
	for (i = 0; i < r->nregions; i++) {
		const struct spgw_violation_tally *t = &r->regions[i];
		int kind, shown = 0;

		region_title(e, t->region, title, sizeof(title));
		for (kind = 0; kind < SPGW_VIOL_KINDS; kind++) {
			struct ttable tt = {.ncol = 7};

			if (!t->kinds[kind])
				continue;
			if (!shown++)
				fprintf(out, "\n%s\n", title);
			switch (kind) {
			case SPGW_VIOL_SECOND_RETURN:
				fprintf(out, "  二次退件 second returns (退件: BLZT 4/5)\n");
				tt.ncol = 6;
				tt_row(&tt, "项目代码", "事项名称", "前次退件办件", "前次退件时间",
				       "本次退件办件", "本次退件时间");
				break;
			case SPGW_VIOL_OVERRUN:
				fprintf(out, "  超期办结 overruns\n");
				tt.ncol = 6;
				tt.right[5] = 1;
				tt_row(&tt, "项目代码", "事项名称", "办件编码", "受理时间", "办结时间",
				       "用时/时限 工作日");
				break;
			case SPGW_VIOL_OPEN_OVERDUE:
				fprintf(out, "  逾期未办结 not ended, past the limit at %s\n", a->to);
				tt.ncol = 5;
				tt.right[4] = 1;
				tt_row(&tt, "项目代码", "事项名称", "办件编码", "受理时间",
				       "用时/时限 工作日");
				break;
			default:
				fprintf(out, "  办理环节异常 steps missing or out of order\n");
				tt.ncol = 5;
				tt_row(&tt, "项目代码", "事项名称", "办件编码", "受理（收件）时间", "说明");
				break;
			}
			for (j = 0; j < r->n; j++) {
				const struct spgw_violation *v = &r->v[j];
				const char *name = v->item_name ? v->item_name : v->item;

				if ((int)v->kind != kind || strcmp(v->region, t->region))
					continue;
				if (kind == SPGW_VIOL_SECOND_RETURN)
					tt_row(&tt, v->gcdm, name, v->prev_case, v->prev_ended,
					       v->case_no, v->ended);
				else if (kind == SPGW_VIOL_OVERRUN)
					tt_row(&tt, v->gcdm, name, v->case_no, v->accepted, v->ended,
					       used_text(v, used, sizeof(used)));
				else if (kind == SPGW_VIOL_OPEN_OVERDUE)
					tt_row(&tt, v->gcdm, name, v->case_no, v->accepted,
					       used_text(v, used, sizeof(used)));
				else
					tt_row(&tt, v->gcdm, name, v->case_no,
					       v->accepted ? v->accepted : v->received, v->note_zh);
			}
			tt_print(&tt, out, "    ");
			tt_free(&tt);
		}
		if (shown) {
			struct ttable it = {.ncol = 6, .right = {0, 1, 1, 1, 1, 1}};

			fprintf(out, "  按事项 by item\n");
			tt_row(&it, "事项名称", "办件", "二次退件", "超期办结", "逾期未办结",
			       "环节异常");
			for (j = 0; j < r->nitems; j++) {
				const struct spgw_violation_tally *x = &r->items[j];

				if (strcmp(x->region, t->region))
					continue;
				tt_row(&it, x->item_name ? x->item_name : x->item,
				       num(b[0], x->cases), num(b[1], x->kinds[0]),
				       num(b[2], x->kinds[1]), num(b[3], x->kinds[2]),
				       num(b[4], x->kinds[3]));
			}
			tt_print(&it, out, "    ");
			tt_free(&it);
		}
	}
	if (!r->n)
		fprintf(out, "\n无违规 no violations\n");
	if (r->nnotes)
		fprintf(out, "\n说明 notes:\n");
	for (i = 0; i < r->nnotes; i++)
		fprintf(out, "  - %s\n", r->notes[i]);
}

int spgw_cmd_violations(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_supervise_query q;
	struct spgw_violations *r = NULL;
	struct spgw_error err;
	struct args a;
	struct env e;
	int status;

	status = parse_args(argc, argv, &a, violations_help);
	if (status)
		return status < 0 ? SPGW_EXIT_OK : status;
	status = env_open(ctx, &e, 0);
	if (status)
		goto out;
	memset(&err, 0, sizeof(err));
	q.from = a.from;
	q.to = a.to;
	q.region = a.region;
	if (spgw_supervise_violations(e.l, e.s, e.cal, e.cat, &q, &r, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	if (a.json) {
		if (violations_json(&e, &a, r, stdout)) {
			fprintf(stderr, "spgw: cannot print the violations as JSON\n");
			status = SPGW_EXIT_ERROR;
		}
	} else {
		violations_text(&e, &a, r, stdout);
	}
	if (!status && a.report) {
		json_t *doc = violations_doc(&e, &a, r);

		status = save_report(doc, a.report);
		json_decref(doc);
	}
	if (!status)
		status = r->n ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
out:
	spgw_violations_free(r);
	env_close(&e);
	return status;
}

/* ---- stats ---- */

static const char *const figure_key[SPGW_STATS_FIGURES] = {"stage1", "stage2", "stage3",
							   "stage4", "total", "stages_sum"};

static void figure_name(int k, char *out, size_t cap)
{
	if (k < SPGW_CATALOG_STAGES)
		snprintf(out, cap, "%d %s", k + 1, stage_zh[k]);
	else if (k == SPGW_STATS_TOTAL)
		snprintf(out, cap, "全流程 total");
	else
		snprintf(out, cap, "四阶段合计 sum of stages");
}

static const char *median_text(const struct spgw_stats_figure *f, char *buf, size_t cap)
{
	if (!f->n)
		return NULL;
	if (f->median == (double)(long)f->median)
		snprintf(buf, cap, "%ld", (long)f->median);
	else
		snprintf(buf, cap, "%.1f", f->median);
	return buf;
}

static const char *extreme_text(long v, const char *code, long n, char *buf, size_t cap)
{
	if (!n)
		return NULL;
	snprintf(buf, cap, "%ld %s", v, code ? code : "");
	return buf;
}

static const char *const stats_rules[] = {
	"项目按工程代码计；阶段用时 = 该阶段主线事项首次受理至最后办结的工作日；全流程 = 第一阶段首次受理至"
	"第四阶段最后办结（含阶段间隔）/ A project is an engineering (GCDM); a stage runs from "
	"the first acceptance of its main items to the last approval; total runs from the first "
	"acceptance of stage 1 to the last approval of stage 4 (time between stages included)",
	"阶段或项目以办结日期计入统计期；中位数、90% 分位（最近秩）/ stages and projects count by "
	"their completion date; median, 90th percentile (nearest rank)",
	NULL,
};

static json_t *figure_json(const struct spgw_stats_figure *f, int k)
{
	char name[64];

	figure_name(k, name, sizeof(name));
	return json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:s?,s:s?}", "figure", figure_key[k],
			 "name", name, "n", (json_int_t)f->n, "median",
			 f->n ? json_real(f->median) : json_null(), "p90",
			 f->n ? json_integer(f->p90) : json_null(), "min",
			 f->n ? json_integer(f->min) : json_null(), "max",
			 f->n ? json_integer(f->max) : json_null(), "fastest", f->fastest,
			 "slowest", f->slowest);
}

static json_t *stats_json(const struct env *e, const struct args *a, const struct spgw_stats *st)
{
	json_t *o = json_object(), *regs = json_array();
	size_t i;
	int k;

	if (!o || !regs) {
		json_decref(o);
		json_decref(regs);
		return NULL;
	}
	for (i = 0; i < st->nregions; i++) {
		const struct spgw_stats_region *r = &st->regions[i];
		json_t *figs = json_array(), *ro;
		char title[96];

		region_title(e, r->region, title, sizeof(title));
		for (k = 0; figs && k < SPGW_STATS_FIGURES; k++)
			json_array_append_new(figs, figure_json(&r->fig[k], k));
		ro = json_pack("{s:s?,s:s,s:I,s:I,s:I,s:o}", "region", r->region, "region_name",
			       title, "complete", (json_int_t)r->complete, "in_progress",
			       (json_int_t)r->in_progress, "incomplete_history",
			       (json_int_t)r->incomplete_history, "figures",
			       figs ? figs : json_null());
		json_array_append_new(regs, ro);
	}
	jset(o, "params", params_of(e, a));
	jset(o, "regions", regs);
	jset(o, "notes", notes_of(st->notes, st->nnotes, NULL));
	return o;
}

static json_t *stats_doc(const struct env *e, const struct args *a, const struct spgw_stats *st)
{
	json_t *doc, *sum, *rows, *sections;
	char now[24], title[96], b[4][96];
	size_t i;
	int k;

	now_utc(now);
	doc = json_pack("{s:s,s:s,s:s}", "kind", "stats", "title",
			"审批用时统计 Approval times (working days)", "generated_at", now);
	sum = json_pack("{s:[o,o,o,o,o,o,o,o]}", "columns",
			column("region", "地区", "city", "text"),
			column("complete", "办结项目", "projects complete", "int"),
			column("in_progress", "在办项目", "in progress", "int"),
			column("incomplete_history", "阶段记录不全", "incomplete history", "int"),
			column("total_median", "全流程中位数", "total median", "number"),
			column("total_p90", "全流程90%分位", "total p90", "int"),
			column("total_fastest", "全流程最快", "total fastest", "text"),
			column("total_slowest", "全流程最慢", "total slowest", "text"));
	rows = json_array();
	sections = json_array();
	if (!doc || !sum || !rows || !sections)
		goto fail;
	for (i = 0; i < st->nregions; i++) {
		const struct spgw_stats_region *r = &st->regions[i];
		const struct spgw_stats_figure *t = &r->fig[SPGW_STATS_TOTAL];
		json_t *frows = json_array();

		region_title(e, r->region, title, sizeof(title));
		json_array_append_new(
			rows, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:s?,s:s?}", "region", title,
					"complete", (json_int_t)r->complete, "in_progress",
					(json_int_t)r->in_progress, "incomplete_history",
					(json_int_t)r->incomplete_history, "total_median",
					t->n ? json_real(t->median) : json_null(), "total_p90",
					t->n ? json_integer(t->p90) : json_null(), "total_fastest",
					extreme_text(t->min, t->fastest, t->n, b[0], sizeof(b[0])),
					"total_slowest",
					extreme_text(t->max, t->slowest, t->n, b[1], sizeof(b[1]))));
		for (k = 0; frows && k < SPGW_STATS_FIGURES; k++) {
			const struct spgw_stats_figure *f = &r->fig[k];

			figure_name(k, b[0], sizeof(b[0]));
			json_array_append_new(
				frows,
				json_pack("{s:s,s:I,s:o,s:o,s:o,s:s?,s:o,s:s?}", "figure", b[0], "n",
					  (json_int_t)f->n, "median",
					  f->n ? json_real(f->median) : json_null(), "p90",
					  f->n ? json_integer(f->p90) : json_null(), "min",
					  f->n ? json_integer(f->min) : json_null(), "fastest",
					  f->fastest, "max", f->n ? json_integer(f->max) : json_null(),
					  "slowest", f->slowest));
		}
		json_array_append_new(
			sections,
			json_pack("{s:s,s:{s:[o,o,o,o,o,o,o,o],s:o}}", "title", title, "table",
				  "columns", column("figure", "环节", "stage", "text"),
				  column("n", "项目数", "projects", "int"),
				  column("median", "中位数", "median", "number"),
				  column("p90", "90%分位", "90th percentile", "int"),
				  column("min", "最快", "fastest", "int"),
				  column("fastest", "最快项目", "fastest project", "text"),
				  column("max", "最慢", "slowest", "int"),
				  column("slowest", "最慢项目", "slowest project", "text"), "rows",
				  frows ? frows : json_array()));
	}
	jset(sum, "rows", rows);
	rows = NULL;
	jset(doc, "params", params_of(e, a));
	jset(doc, "notes", notes_of(st->notes, st->nnotes, stats_rules));
	jset(doc, "summary", sum);
	jset(doc, "sections", sections);
	return doc;
fail:
	json_decref(doc);
	json_decref(sum);
	json_decref(rows);
	json_decref(sections);
	return NULL;
}

static void stats_text(const struct env *e, const struct args *a, const struct spgw_stats *st,
		       FILE *out)
{
	char title[96], b[6][96];
	size_t i;
	int k;

	fprintf(out, "审批用时 Approval times in working days: completed %s to %s%s%s\n", a->from,
		a->to, a->region ? ", city " : "", a->region ? a->region : "");
	fprintf(out, "工作日历 calendar %s; 目录 catalog %s\n", spgw_calendar_path(e->cal),
		spgw_catalog_path(e->cat));
	for (i = 0; i < st->nregions; i++) {
		const struct spgw_stats_region *r = &st->regions[i];
		struct ttable tt = {.ncol = 6, .right = {0, 1, 1, 1, 0, 0}};

		/* with one city, the whole is the city again */
		if (!r->region && st->nregions == 2)
			break;
		region_title(e, r->region, title, sizeof(title));
		fprintf(out, "\n%s: 办结项目 complete %ld, 在办 in progress at %s %ld", title,
			r->complete, a->to, r->in_progress);
		if (r->incomplete_history)
			fprintf(out, ", 阶段记录不全 incomplete history %ld", r->incomplete_history);
		fputc('\n', out);
		tt_row(&tt, "环节 stage", "项目数 n", "中位数 median", "90%分位 p90",
		       "最快 fastest", "最慢 slowest");
		for (k = 0; k < SPGW_STATS_FIGURES; k++) {
			const struct spgw_stats_figure *f = &r->fig[k];

			figure_name(k, b[0], sizeof(b[0]));
			tt_row(&tt, b[0], num(b[1], f->n), median_text(f, b[2], sizeof(b[2])),
			       f->n ? num(b[3], f->p90) : NULL,
			       extreme_text(f->min, f->fastest, f->n, b[4], sizeof(b[4])),
			       extreme_text(f->max, f->slowest, f->n, b[5], sizeof(b[5])));
		}
		tt_print(&tt, out, "  ");
		tt_free(&tt);
	}
	if (st->nnotes)
		fprintf(out, "\n说明 notes:\n");
	for (i = 0; i < st->nnotes; i++)
		fprintf(out, "  - %s\n", st->notes[i]);
}

int spgw_cmd_stats(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_supervise_query q;
	struct spgw_stats *st = NULL;
	struct spgw_error err;
	struct args a;
	struct env e;
	int status;

	status = parse_args(argc, argv, &a, stats_help);
	if (status)
		return status < 0 ? SPGW_EXIT_OK : status;
	status = env_open(ctx, &e, 1);
	if (status)
		goto out;
	memset(&err, 0, sizeof(err));
	q.from = a.from;
	q.to = a.to;
	q.region = a.region;
	if (spgw_supervise_stats(e.l, e.s, e.cal, e.cat, &q, &st, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	if (a.json) {
		json_t *j = stats_json(&e, &a, st);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF) {
			fprintf(stderr, "spgw: cannot print the statistics as JSON\n");
			status = SPGW_EXIT_ERROR;
		}
		json_decref(j);
	} else {
		stats_text(&e, &a, st, stdout);
	}
	if (!status && a.report) {
		json_t *doc = stats_doc(&e, &a, st);

		status = save_report(doc, a.report);
		json_decref(doc);
	}
out:
	spgw_stats_free(st);
	env_close(&e);
	return status;
}
