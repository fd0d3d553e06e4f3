/*
 * `spgw upload`: deliver what is pending once; `spgw run --once`: ingest every source, then
 * upload. Both print, per region and table, what the national platform accepted and what is
 * still waiting, and exit 0 only when nothing is left to deliver.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "daemon.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"
#include "upload.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void help(FILE *out, int run)
{
	if (run)
		fprintf(out,
			"usage: spgw [-c FILE] run\n"
			"       spgw [-c FILE] run --once [--max-time SECONDS]\n"
			"\n"
			"run: the daemon. Pulls each enabled source on its cron schedule (the source\n"
			"file's \"schedule\": {\"pull\": \"*/5 * * * *\", \"jitter\": 30, \"endpoint\": ...},\n"
			"Beijing time), within daemon.max_pulls at once and daemon.endpoints per\n"
			"endpoint; uploads continuously; serves /metrics, /healthz and /status on\n"
			"daemon.listen (default 127.0.0.1:9464). SIGHUP (systemctl reload): load and\n"
			"check the new configuration; a bad one is reported and the old one keeps\n"
			"running. SIGTERM (systemctl stop): no new pulls, transfers in flight finish\n"
			"within daemon.drain_seconds, exit 0; a second SIGTERM exits at once, losing\n"
			"nothing. Under systemd: Type=notify, with the watchdog. Sources are pulled\n"
			"at once when it starts (daemon.pull_at_start); it reconciles on\n"
			"daemon.reconcile.schedule (02:30 by default, the last 31 days) and raises the\n"
			"alarm reconcile_differs when a run differs.\n"
			"\n"
			"run --once: one round of the whole path: pull every enabled source into the\n"
			"ledger (as `spgw ingest`), then deliver everything pending to the national\n"
			"platform (as `spgw upload`).\n");
	else
		fprintf(out,
			"usage: spgw [-c FILE] upload [--max-time SECONDS]\n"
			"\n"
			"Delivers what the outbox holds to the national platform (\"national\" in\n"
			"the gateway file): signed batches of one region and table, parents' tables\n"
			"first, several in flight. Batches an earlier run sent without an answer go\n"
			"first, with the same id and bytes. Transient failures back off and retry;\n"
			"rejected records become dead letters (spgw dlq); receipts are verified and\n"
			"kept (spgw receipts). On first use the gateway's key pair is generated into\n"
			"the state directory: register its public key with the national platform.\n");
	fprintf(out,
		"\n"
		"  --max-time SECONDS  stop retrying after this long (default 300; 0: no limit);\n"
		"                      what is left stays pending for the next run\n"
		"\n"
		"Ctrl-C or SIGTERM: no new sends; the answers in flight are awaited, then exit.\n"
		"Exit status 0 when nothing is left to deliver, 1 when records are still pending\n"
		"(or a source failed), 3 for configuration problems, 4 when the ledger is\n"
		"unusable, 6 for anything else.\n");
}

struct left {
	int64_t pending, in_flight, held, dead;
};

static enum spgw_rc add_left(void *ud, const struct spgw_outbox_stats *s)
{
	struct left *l = ud;

	l->pending += s->pending;
	l->in_flight += s->in_flight;
	l->held += s->held;
	l->dead += s->dead;
	return SPGW_OK;
}

static void print_delivery(const struct spgw_schema *schema, const struct spgw_upload_stats *st,
			   const struct left *left, double seconds)
{
	int64_t acc = 0, dup = 0, rej = 0, dead = 0;
	size_t i;

	printf("\n%-6s %-22s %8s %9s %9s %9s %9s  %s\n", "region", "table", "batches",
	       "accepted", "duplicate", "rejected", "refused", "表名");
	for (i = 0; i < st->ngroups; i++) {
		const struct spgw_upload_group *g = &st->groups[i];
		const struct spgw_table *t = spgw_schema_table(schema, g->table);

		printf("%-6s %-22s %8lld %9lld %9lld %9lld %9lld  %s\n", g->region, g->table,
		       (long long)g->batches, (long long)g->accepted, (long long)g->duplicate,
		       (long long)g->rejected, (long long)g->dead, t ? spgw_table_zh(t) : "");
		acc += g->accepted;
		dup += g->duplicate;
		rej += g->rejected;
		dead += g->dead;
	}
	printf("delivered %lld records (%lld accepted, %lld duplicate) in %lld batches, %.1f s",
	       (long long)(acc + dup), (long long)acc, (long long)dup,
	       (long long)st->batches_done, seconds);
	if (seconds > 0 && acc + dup)
		printf(", %.0f records/s", (double)(acc + dup) / seconds);
	printf("\n");
	if (st->bytes_sent)
		printf("sent %lld bytes of batch bodies on the wire (%.0f bytes/s)\n",
		       (long long)st->bytes_sent, seconds > 0 ? (double)st->bytes_sent / seconds : 0);
	if (rej || dead)
		printf("dead letters this run: %lld rejected by record, %lld in refused batches "
		       "(spgw dlq list)\n",
		       (long long)rej, (long long)dead);
	if (st->retries || st->receipts_bad)
		printf("retries: %lld (answers not accepted as proof: %lld)\n",
		       (long long)st->retries, (long long)st->receipts_bad);
	printf("left in the outbox: %lld pending, %lld in open batches, %lld waiting for the "
	       "record their day comes from; %lld dead letters in all\n",
	       (long long)left->pending, (long long)left->in_flight, (long long)left->held,
	       (long long)left->dead);
	if (st->halted)
		printf("SENDING STOPPED: %s\n", st->halt_reason);
	else if (st->gave_up)
		printf("gave up retrying after --max-time; run again to go on\n");
}

/* Upload with an open configuration; prints the summary; returns an exit status. */
static int upload(struct spgw_config *c, struct spgw_schema *s, struct spgw_ledger *l,
		  int max_seconds)
{
	struct spgw_upload_opts o;
	struct spgw_upload_stats st;
	struct spgw_error err;
	struct left left;
	struct timespec t0, t1;
	enum spgw_rc rc;
	int status;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	memset(&left, 0, sizeof(left));
	o.config = c;
	o.schema = s;
	o.ledger = l;
	o.max_seconds = max_seconds;
	o.stop = &stop_flag;
	catch_signals();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = spgw_upload_run(&o, &st, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(rc);
		if (status == SPGW_EXIT_OK)
			status = SPGW_EXIT_ERROR;
	}
	memset(&err, 0, sizeof(err));
	if (spgw_ledger_outbox_stats(l, add_left, &left, &err)) {
		spgw_cmd_perror(&err);
		spgw_upload_stats_clear(&st);
		return SPGW_EXIT_STATE;
	}
	print_delivery(s, &st, &left,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (!rc)
		status = left.pending || left.in_flight || left.held || st.halted
				 ? SPGW_EXIT_PARTIAL
				 : SPGW_EXIT_OK;
	spgw_upload_stats_clear(&st);
	return status;
}

static int parse(int argc, char **argv, int run, int *max_seconds)
{
	static const struct option opts[] = {
		{ "max-time", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, once = 0;

	*max_seconds = 300;
	while ((opt = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 86400 * 365) {
				fprintf(stderr, "spgw: --max-time wants seconds (0 for no limit), "
						"got \"%s\"\n", optarg);
				return SPGW_EXIT_USAGE;
			}
			*max_seconds = (int)v;
			break;
		}
		case 'o':
			if (!run) {
				help(stderr, run);
				return SPGW_EXIT_USAGE;
			}
			once = 1;
			break;
		case 'h':
			help(stdout, run);
			return -1;
		default:
			help(stderr, run);
			return SPGW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		help(stderr, run);
		return SPGW_EXIT_USAGE;
	}
	return run && !once ? 1000 : SPGW_EXIT_OK;
}

int spgw_cmd_upload(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	int max_seconds, status = parse(argc, argv, 0, &max_seconds);

	if (status)
		return status < 0 ? SPGW_EXIT_OK : status;
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		return status;
	status = upload(c, s, l, max_seconds);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}

int spgw_cmd_run(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_ingest_opts io;
	struct spgw_ingest_result *res = NULL;
	struct spgw_error err;
	size_t nres = 0, i;
	int max_seconds, failed = 0, status = parse(argc, argv, 1, &max_seconds);
	char started[24];
	enum spgw_rc rc;

	if (status == 1000)
		return spgw_daemon_run(ctx);
	if (status)
		return status < 0 ? SPGW_EXIT_OK : status;
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		return status;
	memset(&io, 0, sizeof(io));
	memset(&err, 0, sizeof(err));
	io.catalog = c->catalog_path;
	spgw_cmd_utc_now(started);
	rc = spgw_ingest_run(c->sources, c->nsources, s, l, &io, &res, &nres, &err);
	spgw_cmd_record_runs(l, res, nres, started);
	if (!res && rc) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(rc);
		goto out;
	}
	printf("%-24s %-6s %9s %9s %9s %11s  %s\n", "source", "region", "records", "new",
	       "changed", "quarantined", "result");
	for (i = 0; i < nres; i++) {
		const struct spgw_pipeline_stats *st = &res[i].stats;
		char line[1024];

		printf("%-24s %-6s %9llu %9llu %9llu %11llu  %s\n", res[i].source->name,
		       res[i].source->region, (unsigned long long)st->records,
		       (unsigned long long)st->added, (unsigned long long)st->versions,
		       (unsigned long long)st->quarantined, res[i].rc ? "FAILED" : "ok");
		if (res[i].rc) {
			failed = 1;
			printf("    %s\n", spgw_error_format(&res[i].error, line, sizeof(line)));
		}
	}
	status = upload(c, s, l, max_seconds);
	if (status == SPGW_EXIT_OK && failed)
		status = SPGW_EXIT_PARTIAL;
out:
	spgw_free(res);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
