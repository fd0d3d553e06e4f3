/*
 * `spgw reconcile`: the three counts per city, table and business day (reconcile.h), printed
 * for provincial staff with the Chinese names, written as a report (report.h), kept in the
 * ledger; `--history` lists the runs kept and `--run N` shows one again without asking
 * anyone again.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "mem.h"
#include "reconcile.h"
#include "report.h"
#include "status.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] reconcile --from DATE --to DATE [--region R] [--table T]\n"
		"                                [--detail | --repair] [--report FILE] [--json]\n"
		"                                [--all-keys] [--all-days] [--no-city]\n"
		"       spgw [-c FILE] reconcile --history [--limit N]\n"
		"       spgw [-c FILE] reconcile --run N [--report FILE] [--json] [--all-days]\n"
		"\n"
		"对账 Reconciliation, per city (region), SPGL table and business day (业务日期):\n"
		"  city      what the city system holds in force: its plugin's count() (地方系统);\n"
		"            a plugin that cannot count, or whose count fails, is \"not counted\",\n"
		"            never 0\n"
		"  ledger    what the gateway holds: delivered (已上报), waiting (待上报) and dead\n"
		"            letters (死信), keys counted on the day of their newest version\n"
		"  national  what the national platform counts (国家平台, PROTOCOL.md §3)\n"
		"A day agrees when city = the ledger's records in force (valid delivered, waiting,\n"
		"dead), national = delivered (and its valid = the ledger's valid), and\n"
		"nothing of it waits or is dead. Records without a business day yet and open\n"
		"quarantine entries are given per table. Every run is kept in the ledger.\n"
		"\n"
		"  --from, --to DATE  the business days, YYYY-MM-DD, inclusive (Beijing time)\n"
		"  --region R         one region (six digits); --table T one SPGL table\n"
		"  --detail           for each differing day, which keys differ and how: missing\n"
		"                     at the national platform, never in the ledger, another\n"
		"                     version (digest), or on another day\n"
		"  --all-keys         compare the keys of every day, not only of days whose counts\n"
		"                     differ: finds the national platform holding an older\n"
		"                     version where the counts agree (one request per 5000 keys)\n"
		"  --repair           --detail, then queue again what the national platform lacks\n"
		"                     or holds in another version or day (it goes with the next\n"
		"                     upload); what is already there is never sent again, and a\n"
		"                     second repair queues nothing\n"
		"  --report FILE      also write the result: .csv (UTF-8 with BOM, for Excel), .json\n"
		"                     or .html (one self-contained page with a chart per city)\n"
		"  --json             print the report document as JSON instead of text\n"
		"  --all-days         print every day, not only those that differ\n"
		"  --no-city          do not ask the city systems (quicker; city \"not counted\")\n"
		"  --history          the runs kept, newest first; --run N shows run N again\n"
		"\n"
		"Exit status 0 when everything agrees, 1 when something differs or could not be\n"
		"known (a count that failed, a national answer not taken; a plugin that cannot\n"
		"count at all is \"not counted\" without that), 2 for a wrong command line or a run\n"
		"that does not exist, 3 for configuration problems, 6 when the run was interrupted\n"
		"or could not go on (it is kept as incomplete).\n");
}

/* A real calendar date YYYY-MM-DD. */
static int is_date(const char *s)
{
	struct tm tm;
	char back[11];
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	return !strcmp(back, s);
}

static const char *region_zh(const struct spgw_schema *s, const char *region)
{
	const json_t *codes = spgw_schema_codes(s, "XZQHDM");
	const char *name = json_string_value(json_object_get(json_object_get(codes, "values"),
							     region));

	return name ? name : "";
}

static const char *table_zh(const struct spgw_schema *s, const char *table)
{
	const struct spgw_table *t = spgw_schema_table(s, table);

	return t ? spgw_table_zh(t) : "";
}

static const char *num(int64_t v, char out[32])
{
	char raw[32];
	size_t n, i, o = 0;

	if (v < 0) {
		snprintf(out, 32, "-");
		return out;
	}
	snprintf(raw, sizeof(raw), "%lld", (long long)v);
	n = strlen(raw);
	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = raw[i];
	}
	out[o] = '\0';
	return out;
}

/* ---- text ---- */

static void print_days_header(void)
{
	printf("    %-10s %9s %9s %9s %8s %6s %9s %13s  %s\n", "day", "city", "ledger",
	       "delivered", "waiting", "dead", "national", "valid n/l", "note");
}

static void print_day(const struct spgw_recon_row *w)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];
	char valid[40];

	snprintf(valid, sizeof(valid), "%s/%s", num(w->national_valid, g), num(w->valid, h));
	printf("    %-10s %9s %9s %9s %8s %6s %9s %13s  %s\n", w->day[0] ? w->day : "(total)",
	       num(w->city, a), num(w->delivered + w->pending + w->dead, b), num(w->delivered, c),
	       num(w->pending, d), num(w->dead, e), num(w->national, f), valid,
	       w->note ? w->note : "");
}

static void print_text(const struct spgw_schema *s, const struct spgw_recon_result *r,
		       int all_days)
{
	size_t i, j, agree = 0, differ = 0, incomplete = 0;
	char a[32], b[32], c[32], d[32];

	printf("对账 reconciliation, business days %s to %s (run %lld)\n", r->from, r->to,
	       (long long)r->run);
	printf("city = 地方系统 (the plugin's count); ledger = 网关台账 (delivered 已上报 + waiting "
	       "待上报 + dead 死信); national = 国家平台\n");
	for (i = 0; i < r->nrows; i = j) {
		const struct spgw_recon_row *t = &r->rows[i];
		int shown = 0;

		for (j = i + 1; j < r->nrows && r->rows[j].day[0]; j++)
			;
		if (!strcmp(t->status, "agree"))
			agree++;
		else if (!strcmp(t->status, "differ"))
			differ++;
		else
			incomplete++;
		printf("\n%s %s %s %s: city %s · ledger %s (%s delivered) · national %s — %s\n",
		       t->region, region_zh(s, t->region), t->table, table_zh(s, t->table),
		       t->city >= 0 ? num(t->city, a) : "not counted",
		       num(t->delivered + t->pending + t->dead, b), num(t->delivered, c),
		       t->national >= 0 ? num(t->national, d) : "not known",
		       !strcmp(t->status, "agree")	  ? "agree 一致"
		       : !strcmp(t->status, "differ") ? "DIFFERS 不一致"
						      : "INCOMPLETE 无法确认");
		if (t->city < 0 && t->city_note)
			printf("    city: %s\n", t->city_note);
		if (t->national < 0 && t->national_note)
			printf("    national: %s\n", t->national_note);
		if (t->note)
			printf("    %s\n", t->note);
		for (size_t k = i + 1; k < j; k++) {
			const struct spgw_recon_row *w = &r->rows[k];

			if (!all_days && !strcmp(w->status, "agree"))
				continue;
			if (!shown++)
				print_days_header();
			print_day(w);
		}
	}
	if (r->ndiffs) {
		printf("\n差异记录 differing records (%zu):\n", r->ndiffs);
		for (i = 0; i < r->ndiffs; i++) {
			const struct spgw_recon_diff *df = &r->diffs[i];

			printf("  %s %s %s %s: %s %s%s\n", df->region, df->table, df->day, df->key,
			       spgw_recon_kind_zh(df->kind), spgw_recon_kind_en(df->kind),
			       df->requeued ? " -> queued again (已重新排队)" : "");
		}
	}
	printf("\n%zu table(s): %zu agree, %zu differ, %zu incomplete; %lld differing day(s)\n",
	       agree + differ + incomplete, agree, differ, incomplete, (long long)r->differences);
	if (r->incomplete)
		printf("not everything could be known: %s\n", r->message);
	if (r->requeued)
		printf("queued again: %lld record(s); they go with the next upload (spgw upload, "
		       "or the daemon)\n",
		       (long long)r->requeued);
	if (r->requests)
		printf("national platform: %lld request(s), %lld tried again\n",
		       (long long)r->requests, (long long)r->retries);
}

/* ---- the report document (report.h) ---- */

static json_t *column(const char *key, const char *zh, const char *en, const char *type)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "key", key, "zh", zh, "en", en, "type", type);
}

static json_t *count_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *days_table(void)
{
	json_t *cols = json_array();

	json_array_append_new(cols, column("table", "表", "table", "text"));
	json_array_append_new(cols, column("table_zh", "表名", "table name", "text"));
	/* text, not date: the table's total row says 合计 there */
	json_array_append_new(cols, column("day", "业务日期", "business day", "text"));
	json_array_append_new(cols, column("city", "地方系统", "city system", "int"));
	json_array_append_new(cols, column("ledger", "网关台账", "gateway ledger", "int"));
	json_array_append_new(cols, column("delivered", "已上报", "delivered", "int"));
	json_array_append_new(cols, column("waiting", "待上报", "waiting", "int"));
	json_array_append_new(cols, column("dead", "死信", "dead letters", "int"));
	json_array_append_new(cols, column("national", "国家平台", "national platform", "int"));
	json_array_append_new(cols, column("national_valid", "国家平台有效", "national valid",
					   "int"));
	json_array_append_new(cols, column("valid", "台账有效", "ledger valid", "int"));
	json_array_append_new(cols, column("status", "结果", "result", "text"));
	return json_pack("{s:o,s:[]}", "columns", cols, "rows");
}

static json_t *day_row(const struct spgw_schema *s, const struct spgw_recon_row *w)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:I,s:s}", "table",
			      w->table, "table_zh", table_zh(s, w->table), "day",
			      w->day[0] ? w->day : "合计 total", "city", count_or_null(w->city),
			      "ledger", (json_int_t)(w->delivered + w->pending + w->dead),
			      "delivered", (json_int_t)w->delivered, "waiting",
			      (json_int_t)w->pending, "dead", (json_int_t)w->dead, "national",
			      count_or_null(w->national), "national_valid",
			      count_or_null(w->national < 0 ? -1 : w->national_valid), "valid",
			      (json_int_t)w->valid, "status",
			      !strcmp(w->status, "agree")    ? "一致 agree"
			      : !strcmp(w->status, "differ") ? "不一致 differs"
							     : "无法确认 incomplete");
	char note[900];

	if (!o)
		return NULL;
	note[0] = '\0';
	snprintf(note, sizeof(note), "%s%s%s%s%s", w->note ? w->note : "",
		 w->city < 0 && w->city_note && !w->day[0] ? (w->note ? "; city " : "city ") : "",
		 w->city < 0 && w->city_note && !w->day[0] ? w->city_note : "",
		 w->national < 0 && w->national_note ? (w->note || (w->city < 0 && !w->day[0])
								? "; national "
								: "national ")
						     : "",
		 w->national < 0 && w->national_note ? w->national_note : "");
	json_object_set_new(o, "_flag", strcmp(w->status, "agree") ? json_string("differs")
								    : json_null());
	json_object_set_new(o, "_note", note[0] ? json_string(note) : json_null());
	return o;
}

static json_t *build_doc(const struct spgw_schema *s, const struct spgw_recon_result *r,
			 int all_days)
{
	json_t *doc, *summary, *scols, *sections, *diffs = NULL;
	char now[24];
	size_t i, j;

	spgw_cmd_utc_now(now);
	scols = json_array();
	json_array_append_new(scols, column("region", "行政区划", "region", "text"));
	json_array_append_new(scols, column("name", "地区", "city", "text"));
	json_array_append_new(scols, column("tables", "表数", "tables", "int"));
	json_array_append_new(scols, column("differ", "不一致的表", "tables that differ", "int"));
	json_array_append_new(scols, column("days", "不一致的天数", "differing days", "int"));
	json_array_append_new(scols, column("city", "地方系统", "city system", "int"));
	json_array_append_new(scols, column("ledger", "网关台账", "gateway ledger", "int"));
	json_array_append_new(scols, column("national", "国家平台", "national platform", "int"));
	summary = json_pack("{s:o,s:[]}", "columns", scols, "rows");
	sections = json_array();
	doc = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:I},s:[s],s:o,s:o}", "kind", "reconcile",
			"title", "对账报告 Reconciliation report", "generated_at", now, "params",
			"from", r->from, "to", r->to, "run", (json_int_t)r->run, "notes",
			"地方系统 = the city system's own count; 网关台账 = delivered + waiting + dead "
			"letters; 国家平台 = the national platform's count. A day agrees when all "
			"three match and nothing of it waits.",
			"summary", summary, "sections", sections);
	if (!doc)
		return NULL;
	if (r->incomplete)
		json_array_append_new(json_object_get(doc, "notes"),
				      json_sprintf("无法确认 not everything could be known: %s",
						   r->message));
	for (i = 0; i < r->nrows;) {
		const char *region = r->rows[i].region;
		json_t *x = json_array(), *city = json_array(), *led = json_array(),
		       *nat = json_array(), *table = days_table(), *dates = json_object();
		int64_t tables = 0, differ = 0, days = 0, sc = 0, sl = 0, sn = 0;
		int city_known = 1, nat_known = 1;
		char title[64];

		/* the chart: per day, the sums over the region's tables */
		for (j = i; j < r->nrows && !strcmp(r->rows[j].region, region); j++) {
			const struct spgw_recon_row *w = &r->rows[j];

			if (!w->day[0]) {
				tables++;
				differ += !!strcmp(w->status, "agree");
				if (w->city >= 0)
					sc += w->city;
				else
					city_known = 0;
				sl += w->delivered + w->pending + w->dead;
				if (w->national >= 0)
					sn += w->national;
				else
					nat_known = 0;
			} else {
				json_object_set_new(dates, w->day, json_true());
				days += !!strcmp(w->status, "agree");
			}
		}
		{
			const char *day;
			json_t *v;
			json_t *sorted = json_array();

			json_object_foreach(dates, day, v)
				json_array_append_new(sorted, json_string(day));
			/* object keys come in insertion order; days are inserted table by table */
			for (size_t p = 1; p < json_array_size(sorted); p++)
				for (size_t q = p; q > 0 && strcmp(json_string_value(json_array_get(sorted, q - 1)),
								   json_string_value(json_array_get(sorted, q))) > 0; q--) {
					json_t *t1 = json_incref(json_array_get(sorted, q - 1));

					json_array_set(sorted, q - 1, json_array_get(sorted, q));
					json_array_set_new(sorted, q, t1);
				}
			json_decref(x);
			x = sorted;
		}
		{
			size_t p;
			json_t *d;

			json_array_foreach(x, p, d) {
				int64_t c = 0, l = 0, n = 0;
				int cu = 1, nu = 1;

				for (size_t q = i; q < j; q++) {
					const struct spgw_recon_row *w = &r->rows[q];

					if (strcmp(w->day, json_string_value(d)))
						continue;
					if (w->city >= 0)
						c += w->city;
					else
						cu = 0;
					l += w->delivered + w->pending + w->dead;
					if (w->national >= 0)
						n += w->national;
					else
						nu = 0;
				}
				json_array_append_new(city, cu ? json_integer(c) : json_null());
				json_array_append_new(led, json_integer(l));
				json_array_append_new(nat, nu ? json_integer(n) : json_null());
			}
		}
		for (size_t q = i; q < j; q++) {
			const struct spgw_recon_row *w = &r->rows[q];

			if (w->day[0] && !all_days && !strcmp(w->status, "agree"))
				continue;
			json_array_append_new(json_object_get(table, "rows"), day_row(s, w));
		}
		snprintf(title, sizeof(title), "%s %s", region, region_zh(s, region));
		json_array_append_new(json_object_get(summary, "rows"),
				      json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:I,s:o,s:o,s:o}",
						"region", region, "name", region_zh(s, region),
						"tables", (json_int_t)tables, "differ",
						(json_int_t)differ, "days", (json_int_t)days, "city",
						city_known ? json_integer(sc) : json_null(), "ledger",
						(json_int_t)sl, "national",
						nat_known ? json_integer(sn) : json_null(), "_flag",
						differ ? json_string("differs") : json_null(), "_note",
						json_null()));
		json_array_append_new(
			sections,
			json_pack("{s:s,s:{s:o,s:[{s:s,s:o},{s:s,s:o},{s:s,s:o}]},s:o}", "title",
				  title, "chart", "x", x, "series", "name", "地方系统 city system",
				  "values", city, "name", "网关台账 gateway ledger", "values", led,
				  "name", "国家平台 national platform", "values", nat, "table",
				  table));
		json_decref(dates);
		i = j;
	}
	if (r->ndiffs) {
		json_t *cols = json_array(), *rows = json_array();

		json_array_append_new(cols, column("region", "行政区划", "region", "text"));
		json_array_append_new(cols, column("table", "表", "table", "text"));
		json_array_append_new(cols, column("day", "业务日期", "business day", "text"));
		json_array_append_new(cols, column("key", "地方数据主键", "record key", "text"));
		json_array_append_new(cols, column("kind", "差异", "difference", "text"));
		json_array_append_new(cols, column("ledger_digest", "台账摘要", "ledger digest",
						   "text"));
		json_array_append_new(cols, column("national_digest", "国家平台摘要",
						   "national digest", "text"));
		json_array_append_new(cols, column("action", "处理", "action", "text"));
		for (i = 0; i < r->ndiffs; i++) {
			const struct spgw_recon_diff *d = &r->diffs[i];
			char kind[200];

			snprintf(kind, sizeof(kind), "%s %s", spgw_recon_kind_zh(d->kind),
				 spgw_recon_kind_en(d->kind));
			json_array_append_new(rows,
					      json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:s,s:n}",
							"region", d->region, "table", d->table, "day",
							d->day, "key", d->key, "kind", kind,
							"ledger_digest", d->ledger_digest,
							"national_digest", d->national_digest,
							"action",
							d->requeued ? "已重新排队 queued again" : "",
							"_flag", "differs", "_note"));
		}
		diffs = json_pack("{s:s,s:{s:o,s:o}}", "title", "差异记录 differing records", "table",
				  "columns", cols, "rows", rows);
		json_array_append_new(sections, diffs);
	}
	return doc;
}

/* ---- history ---- */

static enum spgw_rc print_run(void *ud, const struct spgw_recon_run *r)
{
	(void)ud;
	printf("%6lld  %-20s  %s..%s  %-10s %6lld  %s%s%s%s\n", (long long)r->id, r->started_at,
	       r->from, r->to, r->result, (long long)r->differences, r->regions ? r->regions : "",
	       r->tables ? " " : "", r->tables ? r->tables : "",
	       r->repair ? " repair" : r->detail ? " detail" : "");
	return SPGW_OK;
}

int spgw_cmd_reconcile(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },   { "to", required_argument, NULL, 't' },
		{ "region", required_argument, NULL, 'r' }, { "table", required_argument, NULL, 'T' },
		{ "detail", no_argument, NULL, 'd' },       { "repair", no_argument, NULL, 'R' },
		{ "report", required_argument, NULL, 'o' }, { "json", no_argument, NULL, 'j' },
		{ "all-days", no_argument, NULL, 'a' },     { "no-city", no_argument, NULL, 'n' },
		{ "history", no_argument, NULL, 'H' },      { "limit", required_argument, NULL, 'l' },
		{ "run", required_argument, NULL, 'u' },    { "help", no_argument, NULL, 'h' },
		{ "all-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_recon_opts o;
	struct spgw_recon_result res;
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	const char *report = NULL;
	int json = 0, all_days = 0, history = 0, limit = 30, opt, status;
	long long run = 0;
	enum spgw_rc rc;
	json_t *doc = NULL;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 'r': o.region = optarg; break;
		case 'T': o.table = optarg; break;
		case 'd': o.detail = 1; break;
		case 'R': o.repair = 1; break;
		case 'o': report = optarg; break;
		case 'j': json = 1; break;
		case 'a': all_days = 1; break;
		case 'n': o.skip_city = 1; break;
		case 'K': o.all_keys = 1; break;
		case 'H': history = 1; break;
		case 'l': limit = atoi(optarg); break;
		case 'u': run = atoll(optarg); break;
		case 'h': help(stdout); return SPGW_EXIT_OK;
		default: help(stderr); return SPGW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if (!history && !run) {
		if (!is_date(o.from) || !is_date(o.to)) {
			fprintf(stderr, "spgw: reconcile: --from and --to must be real dates, "
					"YYYY-MM-DD (got %s and %s)\n",
				o.from ? o.from : "nothing", o.to ? o.to : "nothing");
			return SPGW_EXIT_USAGE;
		}
		if (strcmp(o.from, o.to) > 0) {
			fprintf(stderr, "spgw: reconcile: --from %s is after --to %s\n", o.from,
				o.to);
			return SPGW_EXIT_USAGE;
		}
	}
	if (report && spgw_report_format_of(report) < 0) {
		fprintf(stderr, "spgw: reconcile: --report %s: name a .csv, .json or .html file\n",
			report);
		return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open_unchecked(ctx, &c, &s, &l);
	if (status)
		return status;
	if (o.region && (strlen(o.region) != 6 || strspn(o.region, "0123456789") != 6)) {
		fprintf(stderr, "spgw: reconcile: --region %s is not a six-digit region code "
				"(行政区划代码)\n",
			o.region);
		status = SPGW_EXIT_USAGE;
		goto out;
	}
	if (o.table && !spgw_schema_table(s, o.table)) {
		fprintf(stderr, "spgw: reconcile: --table %s is not a table of the schema (spgw "
				"schema list)\n",
			o.table);
		status = SPGW_EXIT_USAGE;
		goto out;
	}
	if (history) {
		printf("%6s  %-20s  %-22s  %-10s %6s  %s\n", "run", "started", "days", "result",
		       "days≠", "filters");
		rc = spgw_ledger_recon_runs(l, limit, print_run, NULL, &err);
		status = rc ? spgw_cmd_exit(rc) : SPGW_EXIT_OK;
		if (rc)
			spgw_cmd_perror(&err);
		goto out;
	}
	if (run) {
		rc = spgw_recon_load(l, run, &res, &err);
	} else {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		o.config = c;
		o.schema = s;
		o.ledger = l;
		o.stop = &stop_flag;
		rc = spgw_reconcile(&o, &res, &err);
	}
	if (rc) {
		spgw_cmd_perror(&err);
		status = run && rc == SPGW_E_NOTFOUND ? SPGW_EXIT_USAGE : spgw_cmd_exit(rc);
		if (status == SPGW_EXIT_OK)
			status = SPGW_EXIT_ERROR;
		if (stop_flag)
			fprintf(stderr, "spgw: interrupted; the run is kept as incomplete\n");
		goto out;
	}
	if (report || json) {
		doc = build_doc(s, &res, all_days);
		if (!doc) {
			fprintf(stderr, "spgw: out of memory building the report\n");
			status = SPGW_EXIT_ERROR;
			goto out;
		}
	}
	if (json) {
		rc = spgw_report_write(doc, SPGW_REPORT_JSON, stdout, &err);
	} else {
		print_text(s, &res, all_days);
		rc = SPGW_OK;
	}
	if (!rc && report) {
		rc = spgw_report_save(doc, report, &err);
		if (!rc && !json)
			printf("report written to %s\n", report);
	}
	if (rc) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(rc);
		goto out;
	}
	status = res.differences || res.incomplete ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
out:
	json_decref(doc);
	spgw_recon_result_clear(&res);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
