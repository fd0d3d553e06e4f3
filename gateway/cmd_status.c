/*
 * `spgw status`: alarms first, then per city its sources (last pull and its result, next
 * scheduled run) and its tables (waiting, in flight, delivered today and in all,
 * quarantined, dead letters, the oldest waiting record's age). The same document as the
 * daemon's /status (status.h); --json prints it as it is.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "status.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] status [--json]\n"
		"\n"
		"What the gateway is doing, from the ledger (the daemon need not run):\n"
		"  - alarms that hold now, first (the platform refusing our identity, receipts\n"
		"    failing verification, clock skew, certificates expiring, a source failing\n"
		"    runs in a row, a plugin crashing, records waiting too long, disk space);\n"
		"  - whether the daemon runs (its heartbeat);\n"
		"  - per city (region): each source's last pull and its result and the next\n"
		"    scheduled one; each SPGL table's records waiting (pending; held: waiting for\n"
		"    the record their business day comes from), in flight, delivered today\n"
		"    (Beijing date) and in all, quarantined, dead-lettered, and how long the\n"
		"    oldest waiting record has waited.\n"
		"Counts are record versions. Times are Beijing time (UTC+8).\n"
		"\n"
		"  --json  the same as one JSON document (the daemon's /status serves it too)\n"
		"\n"
		"Exit status 0, or 1 when an alarm holds.\n");
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* "2026-11-23T09:40:02Z" as Beijing "11-23 17:40:02"; "-" when absent. */
static const char *bj(const char *utc, char out[32])
{
	int64_t at = spgw_status_utc_seconds(utc);
	time_t t = (time_t)at + 8 * 3600;
	struct tm tm;

	if (at < 0) {
		snprintf(out, 32, "-");
		return out;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%m-%d %H:%M:%S", &tm);
	return out;
}

/* Seconds as "45 s", "12 min", "3.5 h", "2.1 d". */
static const char *age(const json_t *v, char out[32])
{
	double s;

	if (!json_is_integer(v)) {
		snprintf(out, 32, "-");
		return out;
	}
	s = (double)json_integer_value(v);
	if (s < 90)
		snprintf(out, 32, "%.0f s", s);
	else if (s < 5400)
		snprintf(out, 32, "%.0f min", s / 60);
	else if (s < 172800)
		snprintf(out, 32, "%.1f h", s / 3600);
	else
		snprintf(out, 32, "%.1f d", s / 86400);
	return out;
}

static void print_source(const json_t *s)
{
	const json_t *run = json_object_get(s, "last_run");
	char a[32], b[32];

	printf("  source %s (plugin %s%s), schedule \"%s\"", str(s, "source"), str(s, "plugin"),
	       json_is_true(json_object_get(s, "enabled")) ? "" : ", DISABLED",
	       str(s, "schedule"));
	if (json_is_true(json_object_get(s, "running")))
		printf(", pulling now");
	else if (json_is_string(json_object_get(s, "next_run")))
		printf(", next %s", bj(str(s, "next_run"), a));
	printf("\n");
	if (!json_is_object(run)) {
		printf("    never pulled\n");
		return;
	}
	printf("    last %s %s - %s: %s", str(run, "kind"), bj(str(run, "started_at"), a),
	       bj(str(run, "finished_at"), b), str(run, "result"));
	if (!strcmp(str(run, "result"), "ok"))
		printf(", %lld records, %lld new, %lld changed, %lld quarantined\n",
		       num(run, "records"), num(run, "added"), num(run, "changed"),
		       num(run, "quarantined"));
	else
		printf(" (%lld in a row): %s\n", num(run, "in_a_row"), str(run, "message"));
}

static void print_tables(const json_t *tables)
{
	size_t i;
	json_t *t;
	char a[32];

	if (!json_array_size(tables))
		return;
	printf("    %-22s ", "table");
	spgw_cmd_cell(stdout, "表名", 28);
	printf("%9s %7s %9s %9s %10s %11s %6s %8s\n", "pending", "held", "in-flight", "today",
	       "delivered", "quarantined", "dead", "oldest");
	json_array_foreach(tables, i, t) {
		printf("    %-22s ", str(t, "table"));
		spgw_cmd_cell(stdout, str(t, "table_zh"), 28);
		printf("%9lld %7lld %9lld %9lld %10lld %11lld %6lld %8s\n", num(t, "pending"),
		       num(t, "held"), num(t, "in_flight"), num(t, "delivered_today"),
		       num(t, "delivered"), num(t, "quarantined"), num(t, "dead"),
		       age(json_object_get(t, "oldest_pending_age_s"), a));
	}
}

static void print_text(const json_t *doc)
{
	const json_t *alarms = json_object_get(doc, "alarms"), *d = json_object_get(doc, "daemon");
	const json_t *tot = json_object_get(doc, "totals");
	size_t i, j;
	json_t *a, *r, *s;
	char t1[32], t2[32];

	if (json_array_size(alarms)) {
		printf("ALARMS (%zu)\n", json_array_size(alarms));
		json_array_foreach(alarms, i, a)
			printf("  %s%s%s since %s: %s\n", str(a, "name"),
			       str(a, "subject")[0] ? " " : "", str(a, "subject"),
			       bj(str(a, "raised_at"), t1), str(a, "message"));
		printf("\n");
	}
	if (!json_is_object(d))
		printf("daemon: never ran on this state directory (spgw run)\n");
	else if (json_is_true(json_object_get(d, "alive")))
		printf("daemon: %s, pid %lld, since %s, heartbeat %s\n", str(d, "state"),
		       num(d, "pid"), bj(str(d, "started_at"), t1), bj(str(d, "beat_at"), t2));
	else
		printf("daemon: not running (last heartbeat %s, pid %lld)\n",
		       bj(str(d, "beat_at"), t1), num(d, "pid"));
	{
		const json_t *rc = json_object_get(doc, "reconciliation");

		if (json_is_object(rc))
			printf("last reconciliation: run %lld, %s, days %s to %s: %s, %lld day(s) "
			       "differ (spgw reconcile --run %lld)\n",
			       num(rc, "run"), bj(str(rc, "started_at"), t1), str(rc, "from"),
			       str(rc, "to"), str(rc, "result"), num(rc, "differing_days"),
			       num(rc, "run"));
	}
	printf("today (Beijing): %s; times below are Beijing time\n", str(doc, "today"));
	json_array_foreach(json_object_get(doc, "regions"), i, r) {
		printf("\n%s\n", str(r, "region"));
		json_array_foreach(json_object_get(r, "sources"), j, s)
			print_source(s);
		print_tables(json_object_get(r, "tables"));
	}
	printf("\nin all: %lld pending, %lld held, %lld in flight, %lld delivered today, %lld "
	       "delivered, %lld quarantined, %lld dead letters\n",
	       num(tot, "pending"), num(tot, "held"), num(tot, "in_flight"),
	       num(tot, "delivered_today"), num(tot, "delivered"), num(tot, "quarantined"),
	       num(tot, "dead"));
}

int spgw_cmd_status(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	int as_json = argc == 2 && !strcmp(argv[1], "--json");
	json_t *doc = NULL;
	int status;

	if (spgw_cmd_wants_help(argc, argv)) {
		help(stdout);
		return SPGW_EXIT_OK;
	}
	if (argc > 1 && !as_json) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	status = spgw_cmd_open_unchecked(ctx, &c, &s, &l);
	if (status)
		return status;
	if (spgw_status_collect(l, c, s, (int64_t)time(NULL), &doc, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code ? err.code : SPGW_E_NOMEM);
		goto out;
	}
	if (as_json) {
		char *txt = json_dumps(doc, JSON_INDENT(2));

		if (!txt) {
			fprintf(stderr, "spgw: out of memory printing the status\n");
			status = SPGW_EXIT_ERROR;
			goto out;
		}
		printf("%s\n", txt);
		free(txt);
	} else {
		print_text(doc);
	}
	if (json_array_size(json_object_get(doc, "alarms")))
		status = SPGW_EXIT_PARTIAL;
out:
	json_decref(doc);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
