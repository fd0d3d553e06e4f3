/*
 * `spgw outbox stats`: how delivery stands, per region and table: what waits, what is in
 * flight, what the national platform took or rejected, and how long the oldest record has
 * been waiting: the figure that says whether delivery keeps up.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "mem.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] outbox stats [--json]\n"
		"\n"
		"The outbox (待报送队列) per region and table, then totals:\n"
		"  pending    waiting to be sent, in no batch\n"
		"  held       of those, waiting for the business day of the record theirs comes\n"
		"             from (a parent or children not in the ledger yet)\n"
		"  in flight  in a batch sent, or about to be, without an answer yet\n"
		"  delivered  accepted by the national platform (or already held by it)\n"
		"  dead       rejected: dead letters (spgw dlq)\n"
		"  oldest     how long the oldest record not yet delivered has waited, e.g. 3h12m\n"
		"--json: the same as one JSON object {\"tables\": [...], \"totals\": {...}}.\n"
		"\n"
		"Exit status 0; 4 when the ledger is unusable.\n");
}

/* One line of figures. Strings owned by the row, except in the totals, which borrow. */
struct row {
	char *region, *table;
	int64_t pending, held, in_flight, delivered, dead;
	char *oldest; /* created_at of the oldest pending version, NULL when none */
};

struct stats_ctx {
	struct row *rows;
	size_t n, cap;
};

static enum spgw_rc add_row(void *ud, const struct spgw_outbox_stats *s)
{
	struct stats_ctx *sc = ud;
	struct row *r;

	/* a few rows per region (one per table): kept to print totals after them */
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 32;
		struct row *p = spgw_realloc(sc->rows, cap * sizeof(*p));

		if (!p)
			return SPGW_E_NOMEM;
		sc->rows = p;
		sc->cap = cap;
	}
	r = &sc->rows[sc->n];
	memset(r, 0, sizeof(*r));
	r->region = spgw_strdup(s->region);
	r->table = spgw_strdup(s->table);
	r->oldest = s->oldest_pending ? spgw_strdup(s->oldest_pending) : NULL;
	if (!r->region || !r->table || (s->oldest_pending && !r->oldest)) {
		spgw_free(r->region);
		spgw_free(r->table);
		spgw_free(r->oldest);
		return SPGW_E_NOMEM;
	}
	sc->n++;
	r->pending = s->pending;
	r->held = s->held;
	r->in_flight = s->in_flight;
	r->delivered = s->delivered;
	r->dead = s->dead;
	return SPGW_OK;
}

/* Seconds since `stamp` (the ledger's "YYYY-MM-DDTHH:MM:SSZ"), -1 when it is not that. */
static long long age_of(const char *stamp, time_t now)
{
	struct tm tm;
	char z = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	/* a clock set back since: the record is not from the future */
	return now > t ? (long long)(now - t) : 0;
}

/* "45s", "12m", "3h12m", "2d4h"; "-" when nothing waits, "?" for an unreadable time. */
static void format_age(long long s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "?");
	else if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

static void add_to(struct row *t, const struct row *r)
{
	t->pending += r->pending;
	t->held += r->held;
	t->in_flight += r->in_flight;
	t->delivered += r->delivered;
	t->dead += r->dead;
	/* same fixed-width UTC format: the smaller string is the older time */
	if (r->oldest && (!t->oldest || strcmp(r->oldest, t->oldest) < 0))
		t->oldest = r->oldest;
}

struct view {
	const struct spgw_schema *schema;
	time_t now;
};

static json_t *row_json(const struct view *x, const struct row *r, int total)
{
	const struct spgw_table *t = total ? NULL : spgw_schema_table(x->schema, r->table);
	long long age = r->oldest ? age_of(r->oldest, x->now) : -1;
	json_t *o = total ? json_object()
			  : json_pack("{s:s,s:s,s:s}", "region", r->region, "table", r->table,
				      "table_zh", t ? spgw_table_zh(t) : "");
	int bad = !o;

	if (o) {
		bad |= json_object_set_new(o, "pending", json_integer(r->pending));
		bad |= json_object_set_new(o, "held", json_integer(r->held));
		bad |= json_object_set_new(o, "in_flight", json_integer(r->in_flight));
		bad |= json_object_set_new(o, "delivered", json_integer(r->delivered));
		bad |= json_object_set_new(o, "dead", json_integer(r->dead));
		bad |= json_object_set_new(o, "oldest_pending",
					   r->oldest ? json_string(r->oldest) : json_null());
		bad |= json_object_set_new(o, "oldest_pending_age_s",
					   age < 0 ? json_null() : json_integer(age));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct view *x, const struct stats_ctx *sc,
		      const struct row *total)
{
	json_t *top = json_object(), *tables = json_array(), *o;
	char *txt = NULL;
	size_t i;
	int bad = !top || !tables;

	for (i = 0; !bad && i < sc->n; i++) {
		o = row_json(x, &sc->rows[i], 0);
		bad = !o || json_array_append_new(tables, o);
	}
	if (!bad) {
		bad = json_object_set(top, "tables", tables) ||
		      json_object_set_new(top, "totals", row_json(x, total, 1));
	}
	if (!bad)
		txt = json_dumps(top, JSON_INDENT(2));
	json_decref(tables);
	json_decref(top);
	if (!txt) {
		fprintf(stderr, "spgw: out of memory while writing the outbox figures\n");
		return SPGW_EXIT_ERROR;
	}
	printf("%s\n", txt);
	free(txt);
	return SPGW_EXIT_OK;
}

static void print_line(const struct view *x, const struct row *r, const char *region,
		       const char *table, const char *zh)
{
	char num[6][24];

	snprintf(num[0], sizeof(num[0]), "%lld", (long long)r->pending);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)r->held);
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)r->in_flight);
	snprintf(num[3], sizeof(num[3]), "%lld", (long long)r->delivered);
	snprintf(num[4], sizeof(num[4]), "%lld", (long long)r->dead);
	if (r->oldest)
		format_age(age_of(r->oldest, x->now), num[5], sizeof(num[5]));
	else
		snprintf(num[5], sizeof(num[5]), "-");
	spgw_cmd_cell(stdout, region, 8);
	spgw_cmd_cell(stdout, table, 18);
	spgw_cmd_cell_right(stdout, num[0], 9);
	spgw_cmd_cell_right(stdout, num[1], 9);
	spgw_cmd_cell_right(stdout, num[2], 9);
	spgw_cmd_cell_right(stdout, num[3], 9);
	spgw_cmd_cell_right(stdout, num[4], 9);
	spgw_cmd_cell_right(stdout, num[5], 8);
	printf("%s\n", zh);
}

static void print_text(const struct view *x, const struct stats_ctx *sc,
		       const struct row *total)
{
	static const char *const head[2][9] = {
		{ "region", "table", "pending", "held", "in flight", "delivered", "dead",
		  "oldest", "table name" },
		{ "行政区划", "表名", "待报送", "待定日期", "报送中", "已报送", "死信", "最久等待",
		  "表中文名称" },
	};
	static const int width[8] = { 8, 18, 9, 9, 9, 9, 9, 8 };
	size_t i;
	int k;

	if (!sc->n) {
		printf("the outbox is empty (待报送队列为空): run spgw ingest\n");
		return;
	}
	for (i = 0; i < 2; i++) {
		for (k = 0; k < 8; k++) {
			if (k < 2)
				spgw_cmd_cell(stdout, head[i][k], width[k]);
			else
				spgw_cmd_cell_right(stdout, head[i][k], width[k]);
		}
		printf("%s\n", head[i][8]);
	}
	for (i = 0; i < sc->n; i++) {
		const struct spgw_table *t = spgw_schema_table(x->schema, sc->rows[i].table);

		print_line(x, &sc->rows[i], sc->rows[i].region, sc->rows[i].table,
			   t ? spgw_table_zh(t) : "");
	}
	print_line(x, total, "total", "", "合计");
}

int spgw_cmd_outbox(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	struct stats_ctx sc;
	struct view x;
	struct row total;
	int json, status;
	size_t i;

	if (argc < 2 || spgw_cmd_wants_help(argc, argv)) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? SPGW_EXIT_USAGE : SPGW_EXIT_OK;
	}
	json = argc == 3 && !strcmp(argv[2], "--json");
	if (strcmp(argv[1], "stats")) {
		fprintf(stderr, "spgw: outbox: unknown subcommand \"%s\"\n", argv[1]);
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if (argc > 2 + json) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	memset(&sc, 0, sizeof(sc));
	memset(&total, 0, sizeof(total));
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		goto out;
	if (spgw_ledger_outbox_stats(l, add_row, &sc, &err)) {
		if (!err.code)
			spgw_error_nomem(&err, "reading the outbox figures");
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	for (i = 0; i < sc.n; i++)
		add_to(&total, &sc.rows[i]);
	x.schema = s;
	x.now = time(NULL);
	if (json)
		status = print_json(&x, &sc, &total);
	else
		print_text(&x, &sc, &total);
out:
	for (i = 0; i < sc.n; i++) {
		spgw_free(sc.rows[i].region);
		spgw_free(sc.rows[i].table);
		spgw_free(sc.rows[i].oldest);
	}
	spgw_free(sc.rows);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
