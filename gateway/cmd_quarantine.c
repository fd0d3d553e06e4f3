/*
 * `spgw quarantine list|stats|show|replay|export`: the records mapping or validation refused, kept
 * with their raw form and every reason, for the city to fix at the source (export) or for us
 * to re-run once a mapping is fixed (replay).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "mapping.h"
#include "mem.h"
#include "pipeline.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] quarantine list [--source S] [--all]\n"
		"       spgw [-c FILE] quarantine show ID\n"
		"       spgw [-c FILE] quarantine stats [--source S] [--format text|json]\n"
		"       spgw [-c FILE] quarantine replay [--source S] [--id ID]...\n"
		"       spgw [-c FILE] quarantine export [--format csv|json] [-o FILE] [--source S]"
		" [--all]\n"
		"\n"
		"list    open entries (--all: resolved ones too), one line each with the first reason\n"
		"stats   open entries per region and table, with their reasons counted by field\n"
		"        and code, most frequent first\n"
		"show    one entry: every reason in English and Chinese, the raw record as the plugin\n"
		"        emitted it, and the mapped record\n"
		"replay  re-run mapping and validation with the current files; entries that now pass\n"
		"        go to the outbox and are resolved, the others get their reasons refreshed\n"
		"export  for the city to fix at the source: CSV in UTF-8 with a BOM (Excel opens it,\n"
		"        headers in English and Chinese) or a JSON array; to stdout or -o FILE\n"
		"\n"
		"Exit status 0; for replay 1 when entries remain quarantined.\n");
}

/* Options shared by the subcommands. */
struct qopts {
	const char *source;
	const char *format;
	const char *output;
	int all;
	int64_t *ids;
	size_t nids;
};

/* ---- helpers ---- */

static const char *table_zh(const struct spgw_schema *s, const char *table)
{
	const struct spgw_table *t = table ? spgw_schema_table(s, table) : NULL;

	return t ? spgw_table_zh(t) : "";
}

/* Write bytes as text: valid UTF-8 as is, anything else as \xNN, so output stays UTF-8. */
static void put_bytes(FILE *out, const void *p, size_t n)
{
	json_t *s = json_stringn(p, n);
	const unsigned char *b = p;
	size_t i;

	if (s) {
		fwrite(p, 1, n, out);
		json_decref(s);
		return;
	}
	for (i = 0; i < n; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			fputc(b[i], out);
		else
			fprintf(out, "\\x%02x", b[i]);
	}
}

/* The reasons JSON as "FIELD code: message / 中文" lines or one joined string. */
static void put_reasons(FILE *out, const char *reasons, const char *sep, const char *indent)
{
	json_t *arr = reasons ? json_loads(reasons, 0, NULL) : NULL;
	json_t *r;
	size_t i;

	json_array_foreach(arr, i, r) {
		const char *field = json_string_value(json_object_get(r, "field"));

		fprintf(out, "%s%s%s%s %s: %s / %s", i ? sep : "", indent, field ? field : "",
			field ? "" : "(record)",
			json_string_value(json_object_get(r, "code")),
			json_string_value(json_object_get(r, "message")),
			json_string_value(json_object_get(r, "message_zh")));
	}
	json_decref(arr);
}

struct idlist {
	int64_t *ids;
	size_t n, cap;
	const struct qopts *q;
};

static enum spgw_rc collect_id(void *ud, const struct spgw_quarantine_row *row)
{
	struct idlist *l = ud;
	size_t i;

	if (l->q->nids) {
		for (i = 0; i < l->q->nids && l->q->ids[i] != row->id; i++)
			;
		if (i == l->q->nids)
			return SPGW_OK;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		int64_t *p = spgw_realloc(l->ids, cap * sizeof(*p));

		if (!p)
			return SPGW_E_NOMEM;
		l->ids = p;
		l->cap = cap;
	}
	l->ids[l->n++] = row->id;
	return SPGW_OK;
}

/* ---- list ---- */

struct list_ctx {
	const struct spgw_schema *schema;
	size_t n;
};

static enum spgw_rc list_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct list_ctx *lc = ud;
	json_t *arr = row->reasons ? json_loads(row->reasons, 0, NULL) : NULL;
	json_t *first = json_array_get(arr, 0);
	const char *field = json_string_value(json_object_get(first, "field"));

	if (!lc->n++)
		printf("%-7s %-22s %-22s %-28s %5s  %s\n", "id", "source", "table", "key", "seen",
		       "first reason (原因)");
	printf("%-7lld %-22s %-22s %-28s %5lld  %s%s%s%s [+%zu]\n", (long long)row->id,
	       row->source, row->table ? row->table : row->source_table, row->key ? row->key : "-",
	       (long long)row->seen, row->resolved ? "(resolved) " : "", field ? field : "",
	       field ? " " : "", first ? json_string_value(json_object_get(first, "message_zh")) : "",
	       json_array_size(arr) ? json_array_size(arr) - 1 : 0);
	json_decref(arr);
	return SPGW_OK;
}

/* ---- stats ---- */

/* One (region, table, field, code) with its count; field "" and code "" count entries. */
struct tally {
	char region[8], table[72], field[48], code[16];
	int64_t n;
};

struct stats_ctx {
	struct tally *t;
	size_t n, cap;
};

static enum spgw_rc tally_add(struct stats_ctx *sc, const char *region, const char *table,
			      const char *field, const char *code)
{
	struct tally *t;
	size_t i;

	for (i = 0; i < sc->n; i++) {
		t = &sc->t[i];
		if (!strcmp(t->region, region) && !strcmp(t->table, table) &&
		    !strcmp(t->field, field) && !strcmp(t->code, code)) {
			t->n++;
			return SPGW_OK;
		}
	}
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 64;
		struct tally *p = spgw_realloc(sc->t, cap * sizeof(*p));

		if (!p)
			return SPGW_E_NOMEM;
		sc->t = p;
		sc->cap = cap;
	}
	t = &sc->t[sc->n++];
	snprintf(t->region, sizeof(t->region), "%s", region);
	snprintf(t->table, sizeof(t->table), "%s", table);
	snprintf(t->field, sizeof(t->field), "%s", field);
	snprintf(t->code, sizeof(t->code), "%s", code);
	t->n = 1;
	return SPGW_OK;
}

static enum spgw_rc stats_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct stats_ctx *sc = ud;
	const char *region = row->region ? row->region : "-";
	const char *table = row->table ? row->table : row->source_table ? row->source_table : "-";
	json_t *arr = row->reasons ? json_loads(row->reasons, 0, NULL) : NULL;
	enum spgw_rc rc = tally_add(sc, region, table, "", "");
	json_t *r;
	size_t i;

	json_array_foreach(arr, i, r) {
		const char *f = json_string_value(json_object_get(r, "field"));
		const char *c = json_string_value(json_object_get(r, "code"));

		if (!rc)
			rc = tally_add(sc, region, table, f ? f : "(record)", c ? c : "?");
	}
	json_decref(arr);
	return rc;
}

/* Region, table, then the entry count first, then reasons by count (most first). */
static int cmp_tally(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;
	int c = strcmp(x->region, y->region);

	if (!c)
		c = strcmp(x->table, y->table);
	if (!c)
		c = !x->field[0] ? (y->field[0] ? -1 : 0) : !y->field[0] ? 1 : 0;
	if (!c)
		c = x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
	if (!c)
		c = strcmp(x->field, y->field);
	return c ? c : strcmp(x->code, y->code);
}

static int do_stats(const struct spgw_schema *s, struct spgw_ledger *l, const struct qopts *q)
{
	struct stats_ctx sc = { 0 };
	struct spgw_error err = { 0 };
	json_t *out = NULL, *cur = NULL, *reasons = NULL;
	size_t i;
	int status = SPGW_EXIT_OK;

	if (q->format && strcmp(q->format, "text") && strcmp(q->format, "json")) {
		fprintf(stderr, "spgw: quarantine stats: --format is text or json\n");
		return SPGW_EXIT_USAGE;
	}
	if (spgw_ledger_quarantine_each(l, q->source, 0, stats_row, &sc, &err)) {
		spgw_cmd_perror(&err);
		spgw_free(sc.t);
		return spgw_cmd_exit(err.code);
	}
	qsort(sc.t, sc.n, sizeof(*sc.t), cmp_tally);
	if (q->format && !strcmp(q->format, "json")) {
		out = json_array();
		for (i = 0; out && i < sc.n; i++) {
			const struct tally *t = &sc.t[i];
			const struct spgw_table *tb = spgw_schema_table(s, t->table);
			const struct spgw_field *f = tb ? spgw_table_field(tb, t->field) : NULL;

			if (!t->field[0]) {
				cur = json_pack("{s:s, s:s, s:s, s:I, s:[]}", "region", t->region,
						"table", t->table, "table_zh", table_zh(s, t->table),
						"entries", (json_int_t)t->n, "reasons");
				reasons = json_object_get(cur, "reasons");
				json_array_append_new(out, cur);
			} else if (reasons) {
				json_array_append_new(
					reasons, json_pack("{s:s, s:s, s:s, s:I}", "field", t->field,
							   "field_zh", f ? spgw_field_zh(f) : "", "code",
							   t->code, "count", (json_int_t)t->n));
			}
		}
		if (!out || json_dumpf(out, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15))) {
			fprintf(stderr, "spgw: out of memory writing the statistics\n");
			status = SPGW_EXIT_ERROR;
		}
		printf("\n");
		json_decref(out);
		spgw_free(sc.t);
		return status;
	}
	if (!sc.n)
		printf("quarantine is empty (no open entries)\n");
	for (i = 0; i < sc.n; i++) {
		const struct tally *t = &sc.t[i];
		const struct spgw_table *tb = spgw_schema_table(s, t->table);
		const struct spgw_field *f = tb ? spgw_table_field(tb, t->field) : NULL;

		if (!t->field[0])
			printf("%s %-22s %s: %lld open %s\n", t->region, t->table,
			       table_zh(s, t->table), (long long)t->n,
			       t->n == 1 ? "entry" : "entries");
		else
			printf("    %7lld  %s %s%s%s%s\n", (long long)t->n, t->field, t->code,
			       f ? " (" : "", f ? spgw_field_zh(f) : "", f ? ")" : "");
	}
	spgw_free(sc.t);
	return status;
}

/* ---- show ---- */

static enum spgw_rc show_row(void *ud, const struct spgw_quarantine_row *row)
{
	const struct spgw_schema *s = ud;
	json_t *mapped = row->mapped ? json_loads(row->mapped, 0, NULL) : NULL;
	/* 15 significant digits: the stored text is the shortest round trip, and jansson's
	 * default 17 would show 88381.4 as 88381.399999999994 */
	char *pretty = mapped ? json_dumps(mapped, JSON_INDENT(2) | JSON_SORT_KEYS |
							   JSON_REAL_PRECISION(15))
			      : NULL;

	printf("quarantine entry %lld (%s)\n", (long long)row->id,
	       row->resolved ? "resolved: its record went to the outbox" : "open");
	printf("  created (创建时间)     %s\n", row->created_at);
	printf("  source (数据源)        %s, region (行政区划代码) %s\n", row->source,
	       row->region ? row->region : "-");
	printf("  source table (源表)    %s\n", row->source_table ? row->source_table : "-");
	printf("  table (目标表)         %s %s\n", row->table ? row->table : "-",
	       table_zh(s, row->table));
	printf("  key (地方数据主键)     %s\n", row->key ? row->key : "-");
	printf("  seen (出现次数)        %lld\n", (long long)row->seen);
	printf("reasons (原因):\n");
	put_reasons(stdout, row->reasons, "\n", "  ");
	printf("\nraw record as emitted by the plugin (原始数据):\n  ");
	put_bytes(stdout, row->raw, row->raw_len);
	printf("\nmapped record (映射结果):\n%s\n", pretty ? pretty : "  (mapping did not get that far)");
	free(pretty);
	json_decref(mapped);
	return SPGW_OK;
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

static void csv_bytes(FILE *out, const void *p, size_t n)
{
	char *tmp = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&tmp, &len);

	if (m) {
		put_bytes(m, p, n);
		fclose(m);
	}
	csv_field(out, tmp ? tmp : "", 0);
	free(tmp);
}

static enum spgw_rc export_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct export_ctx *ec = ud;
	char id[32], seen[32];
	char *reasons = NULL;
	size_t rlen = 0;
	FILE *m;

	if (ec->json) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:I,s:s}", "id",
				      (json_int_t)row->id, "created_at", row->created_at, "source",
				      row->source, "region", row->region, "source_table",
				      row->source_table, "table", row->table, "table_zh",
				      table_zh(ec->schema, row->table), "key", row->key, "seen",
				      (json_int_t)row->seen, "status",
				      row->resolved ? "resolved" : "open");
		json_t *raw = json_stringn(row->raw, row->raw_len);
		char *s;

		if (!o)
			return SPGW_E_NOMEM;
		if (raw) {
			json_object_set_new(o, "raw", raw);
		} else {
			/* not UTF-8: keep every byte, readable */
			char *tmp = NULL;
			size_t len = 0;
			FILE *mm = open_memstream(&tmp, &len);

			if (mm) {
				put_bytes(mm, row->raw, row->raw_len);
				fclose(mm);
			}
			json_object_set_new(o, "raw_escaped", json_string(tmp ? tmp : ""));
			free(tmp);
		}
		json_object_set_new(o, "reasons", row->reasons ? json_loads(row->reasons, 0, NULL)
							       : json_array());
		json_object_set_new(o, "mapped", row->mapped ? json_loads(row->mapped, 0, NULL)
							     : json_null());
		s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
		json_decref(o);
		if (!s)
			return SPGW_E_NOMEM;
		fprintf(ec->out, "%s%s", ec->n++ ? ",\n" : "", s);
		free(s);
		return SPGW_OK;
	}
	if (!ec->n++)
		fputs("id 编号,created_at 创建时间,source 数据源,region 行政区划代码,"
		      "source_table 源表,table 目标表,table_zh 目标表名称,key 地方数据主键,"
		      "seen 出现次数,status 状态,reasons 原因,raw 原始数据,mapped 映射结果\r\n",
		      ec->out);
	snprintf(id, sizeof(id), "%lld", (long long)row->id);
	snprintf(seen, sizeof(seen), "%lld", (long long)row->seen);
	m = open_memstream(&reasons, &rlen);
	if (m) {
		put_reasons(m, row->reasons, "; ", "");
		fclose(m);
	}
	csv_field(ec->out, id, 0);
	csv_field(ec->out, row->created_at, 0);
	csv_field(ec->out, row->source, 0);
	csv_field(ec->out, row->region, 0);
	csv_field(ec->out, row->source_table, 0);
	csv_field(ec->out, row->table, 0);
	csv_field(ec->out, table_zh(ec->schema, row->table), 0);
	csv_field(ec->out, row->key, 0);
	csv_field(ec->out, seen, 0);
	csv_field(ec->out, row->resolved ? "resolved 已解决" : "open 待处理", 0);
	csv_field(ec->out, reasons, 0);
	csv_bytes(ec->out, row->raw, row->raw_len);
	csv_field(ec->out, row->mapped, 1);
	free(reasons);
	return SPGW_OK;
}

static int do_export(const struct spgw_config *c, const struct spgw_schema *s,
		     struct spgw_ledger *l, const struct qopts *q)
{
	struct export_ctx ec;
	struct spgw_error err;
	enum spgw_rc rc;

	(void)c;
	memset(&ec, 0, sizeof(ec));
	memset(&err, 0, sizeof(err));
	ec.schema = s;
	ec.json = q->format && !strcmp(q->format, "json");
	if (q->format && !ec.json && strcmp(q->format, "csv")) {
		fprintf(stderr, "spgw: quarantine export: unknown format \"%s\" (csv or json)\n",
			q->format);
		return SPGW_EXIT_USAGE;
	}
	ec.out = q->output ? fopen(q->output, "wb") : stdout;
	if (!ec.out) {
		perror(q->output);
		return SPGW_EXIT_ERROR;
	}
	if (ec.json)
		fputs("[\n", ec.out);
	else
		fputs("\xEF\xBB\xBF", ec.out); /* the BOM that makes Excel read UTF-8 */
	rc = spgw_ledger_quarantine_each(l, q->source, q->all, export_row, &ec, &err);
	if (ec.json)
		fputs(ec.n ? "\n]\n" : "]\n", ec.out);
	if ((q->output && fclose(ec.out)) || (!q->output && fflush(ec.out))) {
		perror(q->output ? q->output : "stdout");
		return SPGW_EXIT_ERROR;
	}
	if (rc) {
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(rc);
	}
	if (q->output)
		fprintf(stderr, "spgw: %zu quarantine entries written to %s\n", ec.n, q->output);
	return SPGW_EXIT_OK;
}

/* ---- replay ---- */

struct replay_ctx {
	const struct spgw_config *config;
	struct spgw_pipeline *pipeline;
	const struct spgw_schema *schema;
	struct spgw_mapping **maps; /* one per config source, loaded on first use */
	struct spgw_pipeline_stats st;
	size_t resolved, failing, skipped;
	struct spgw_error err;
};

static enum spgw_rc replay_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct replay_ctx *rc = ud;
	struct spgw_pipeline_source ps;
	size_t i;
	int resolved = 0;
	enum spgw_rc r;

	for (i = 0; i < rc->config->nsources; i++)
		if (!strcmp(rc->config->sources[i].name, row->source))
			break;
	if (i == rc->config->nsources) {
		fprintf(stderr, "spgw: quarantine %lld: source \"%s\" is no longer configured; "
				"left as it is\n", (long long)row->id, row->source);
		rc->skipped++;
		return SPGW_OK;
	}
	if (!rc->maps[i]) {
		struct spgw_diag d;

		spgw_diag_init(&d);
		r = spgw_mapping_load(rc->config->sources[i].mapping, rc->schema, &rc->maps[i], &d);
		if (r) {
			if (d.n)
				rc->err = d.items[0];
			spgw_diag_free(&d);
			return r;
		}
		spgw_diag_free(&d);
	}
	ps.name = rc->config->sources[i].name;
	ps.region = rc->config->sources[i].region;
	ps.mapping = rc->maps[i];
	r = spgw_pipeline_replay(rc->pipeline, &ps, row, &resolved, &rc->st, &rc->err);
	if (r)
		return r;
	if (resolved)
		rc->resolved++;
	else
		rc->failing++;
	return SPGW_OK;
}

static int do_replay(const struct spgw_config *c, const struct spgw_schema *s,
		     struct spgw_ledger *l, const struct qopts *q)
{
	struct replay_ctx rc;
	struct idlist ids;
	size_t i;
	int status = SPGW_EXIT_OK;
	enum spgw_rc r;

	memset(&rc, 0, sizeof(rc));
	memset(&ids, 0, sizeof(ids));
	ids.q = q;
	rc.config = c;
	rc.schema = s;
	rc.maps = spgw_calloc(c->nsources ? c->nsources : 1, sizeof(*rc.maps));
	if (!rc.maps || spgw_pipeline_new(s, l, &rc.pipeline, &rc.err))
		goto fail;
	/* ids first: the loop below writes to the table a live cursor would be reading */
	if (spgw_ledger_quarantine_each(l, q->source, 0, collect_id, &ids, &rc.err))
		goto fail;
	for (i = 0; i < ids.n; i++) {
		/* one transaction per 500 entries: bounded work lost to a crash, few fsyncs */
		if (i % 500 == 0 && spgw_ledger_begin(l, &rc.err))
			goto fail;
		r = spgw_ledger_quarantine_get(l, ids.ids[i], replay_row, &rc, &rc.err);
		if (r) {
			spgw_ledger_rollback(l);
			goto fail;
		}
		if ((i % 500 == 499 || i + 1 == ids.n) && spgw_ledger_commit(l, &rc.err)) {
			spgw_ledger_rollback(l);
			goto fail;
		}
	}
	printf("replayed %zu quarantine entries: %zu resolved (now in the outbox: %llu new, "
	       "%llu changed, %llu unchanged), %zu still failing, %zu skipped\n",
	       ids.n, rc.resolved, (unsigned long long)rc.st.added,
	       (unsigned long long)rc.st.versions, (unsigned long long)rc.st.unchanged,
	       rc.failing, rc.skipped);
	status = rc.failing || rc.skipped ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
	goto out;
fail:
	if (!rc.err.code)
		spgw_error_nomem(&rc.err, "replaying quarantine");
	spgw_cmd_perror(&rc.err);
	status = spgw_cmd_exit(rc.err.code);
out:
	for (i = 0; rc.maps && i < c->nsources; i++)
		spgw_mapping_free(rc.maps[i]);
	spgw_free(rc.maps);
	spgw_free(ids.ids);
	spgw_pipeline_free(rc.pipeline);
	return status;
}

int spgw_cmd_quarantine(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	struct qopts q;
	const char *sub;
	int opt, status;
	char *end;

	memset(&q, 0, sizeof(q));
	memset(&err, 0, sizeof(err));
	if (argc < 2 || spgw_cmd_wants_help(argc, argv)) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? SPGW_EXIT_USAGE : SPGW_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "s:f:o:i:a", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			q.source = optarg;
			break;
		case 'f':
			q.format = optarg;
			break;
		case 'o':
			q.output = optarg;
			break;
		case 'a':
			q.all = 1;
			break;
		case 'i': {
			int64_t *p = spgw_realloc(q.ids, (q.nids + 1) * sizeof(*p));

			if (!p) {
				spgw_free(q.ids);
				return SPGW_EXIT_ERROR;
			}
			q.ids = p;
			q.ids[q.nids++] = strtoll(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr, "spgw: --id wants a number, got \"%s\"\n", optarg);
				spgw_free(q.ids);
				return SPGW_EXIT_USAGE;
			}
			break;
		}
		default:
			help(stderr);
			spgw_free(q.ids);
			return SPGW_EXIT_USAGE;
		}
	}
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "replay") &&
	    strcmp(sub, "export") && strcmp(sub, "stats")) {
		fprintf(stderr, "spgw: quarantine: unknown subcommand \"%s\"\n", sub);
		help(stderr);
		spgw_free(q.ids);
		return SPGW_EXIT_USAGE;
	}
	if ((!strcmp(sub, "show") && optind + 1 != argc) ||
	    (strcmp(sub, "show") && optind != argc)) {
		help(stderr);
		spgw_free(q.ids);
		return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		goto out;
	if (!strcmp(sub, "list")) {
		struct list_ctx lc = { s, 0 };

		if (spgw_ledger_quarantine_each(l, q.source, q.all, list_row, &lc, &err)) {
			spgw_cmd_perror(&err);
			status = spgw_cmd_exit(err.code);
		} else if (!lc.n) {
			printf("quarantine is empty%s\n", q.all ? "" : " (no open entries)");
		}
	} else if (!strcmp(sub, "show")) {
		long long id = strtoll(argv[optind], &end, 10);

		if (*end || end == argv[optind]) {
			fprintf(stderr, "spgw: quarantine show wants an id, got \"%s\"\n",
				argv[optind]);
			status = SPGW_EXIT_USAGE;
		} else if (spgw_ledger_quarantine_get(l, id, show_row, s, &err)) {
			spgw_cmd_perror(&err);
			status = err.code == SPGW_E_NOTFOUND ? SPGW_EXIT_USAGE
							     : spgw_cmd_exit(err.code);
		}
	} else if (!strcmp(sub, "replay")) {
		status = do_replay(c, s, l, &q);
	} else if (!strcmp(sub, "stats")) {
		status = do_stats(s, l, &q);
	} else {
		status = do_export(c, s, l, &q);
	}
out:
	spgw_free(q.ids);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
