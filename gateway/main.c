/*
 * spgw: report construction-project approval cases to the national platform.
 * Parses the global options and hands over to one of the cmd_*.c commands.
 */
#include <getopt.h>
#include <jansson.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "mem.h"

#ifndef SPGW_VERSION
#define SPGW_VERSION "0.0.0-dev"
#endif
#ifndef SPGW_SYSCONFDIR
#define SPGW_SYSCONFDIR "/etc"
#endif

struct command {
	const char *name;
	int (*run)(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "check-config", spgw_cmd_check_config,
	  "check every configuration file, mapping and plugin; list all problems" },
	{ "ingest", spgw_cmd_ingest, "pull every configured source once into the ledger" },
	{ "backfill", spgw_cmd_backfill,
	  "pull one source's records of a date range again (a late city, a lost month)" },
	{ "quarantine", spgw_cmd_quarantine,
	  "list, show, replay or export records refused by mapping or validation" },
	{ "upload", spgw_cmd_upload, "deliver what is pending to the national platform once" },
	{ "run", spgw_cmd_run,
	  "the daemon: pull on schedule, upload, serve /metrics; run --once: one round" },
	{ "reconcile", spgw_cmd_reconcile,
	  "city system vs gateway vs national platform, per city, table and day" },
	{ "keygen", spgw_cmd_keygen,
	  "make the gateway's signing key pair; print the public key to register" },
	{ "dlq", spgw_cmd_dlq,
	  "list, show, retry or export records the national platform rejected" },
	{ "receipts", spgw_cmd_receipts,
	  "list the national platform's receipts, or verify their signatures again" },
	{ "outbox", spgw_cmd_outbox,
	  "stats: what waits, is in flight, delivered or dead, per region and table" },
	{ "status", spgw_cmd_status,
	  "alarms, the daemon, and per city and table: last pull, waiting, delivered" },
	{ "plugin-check", spgw_cmd_plugin_check,
	  "load a plugin in isolation and report what it declares" },
	{ "violations", spgw_cmd_violations,
	  "second returns, overruns and broken step logs per city and item (监管)" },
	{ "stats", spgw_cmd_stats,
	  "approval times in working days per city and stage: median, p90, extremes" },
	{ "schema", spgw_cmd_schema, "show the national schema's tables and fields" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: spgw [-c FILE] [-v | -q] <command> [<args>]\n"
		"       spgw --version | --help | <command> --help\n"
		"\n"
		"Reports construction-project approval cases (工程建设项目审批) from city systems\n"
		"to the national platform in the SPGL schema.\n"
		"\n"
		"commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"options:\n"
		"  -c, --config FILE  the gateway file (default: $SPGW_CONFIG, else "
		SPGW_SYSCONFDIR "/spgw/spgw.json)\n"
		"  -v, --verbose      more log lines (repeat for debug)\n"
		"  -q, --quiet        errors only\n"
		"  -V, --version      print the version\n"
		"  -h, --help         this text\n"
		"\n"
		"exit status:\n"
		"  0  done, nothing failed\n"
		"  1  done, but some part failed (a source's pull, a replayed entry) or records\n"
		"     are left undelivered (upload, run --once); something differs or could not\n"
		"     be known (reconcile); violations were found (violations); an alarm holds\n"
		"     (status); a receipt does not verify (receipts verify); a backfill was\n"
		"     interrupted\n"
		"  2  the command line was wrong\n"
		"  3  the configuration has problems (spgw check-config lists them)\n"
		"  4  the state directory or ledger is unusable\n"
		"  5  a plugin could not be loaded or described\n"
		"  6  any other error (out of memory, I/O)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_cmd_ctx ctx;
	const char *env;
	size_t i;
	int c;

	setlocale(LC_CTYPE, "C.UTF-8");
	/* A peer closing a socket must be an error we handle, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* jansson allocates through our wrappers so the failure seam reaches it too */
	json_set_alloc_funcs(spgw_malloc, spgw_free);
	memset(&ctx, 0, sizeof(ctx));
	env = getenv("SPGW_CONFIG");
	ctx.config_path = env && *env ? env : SPGW_SYSCONFDIR "/spgw/spgw.json";
	/* '+': stop at the command name, its options are its own */
	while ((c = getopt_long(argc, argv, "+c:vqVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'v':
			ctx.verbose++;
			break;
		case 'q':
			ctx.quiet = 1;
			break;
		case 'V':
			printf("spgw %s (plugin ABI %d)\n", SPGW_VERSION, SPGW_PLUGIN_ABI);
			return SPGW_EXIT_OK;
		case 'h':
			usage(stdout);
			return SPGW_EXIT_OK;
		default:
			usage(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	spgw_log_setup(ctx.quiet ? SPGW_LOG_ERROR
				 : ctx.verbose > 1 ? SPGW_LOG_DEBUG : SPGW_LOG_INFO,
		       SPGW_LOG_PLAIN);
	if (optind >= argc) {
		usage(stderr);
		return SPGW_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			int first = optind;

			/* the command sees its own name as argv[0], like a program; optind 0
			 * makes glibc's getopt start afresh for it */
			optind = 0;
			return commands[i].run(&ctx, argc - first, argv + first);
		}
	}
	fprintf(stderr, "spgw: unknown command \"%s\" (spgw --help lists them)\n", argv[optind]);
	return SPGW_EXIT_USAGE;
}
