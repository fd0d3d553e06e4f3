/* `spgw ingest`: pull every configured source once into the ledger (or a dry run). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "diag.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] ingest [--source NAME|FILE.json] [--dry-run] [--parallel N]\n"
		"\n"
		"Pulls every enabled source once: its plugin runs in its own process, records are\n"
		"mapped (config/mappings/) and validated against the schema; valid ones go to the\n"
		"outbox, refused ones to quarantine with every reason. Records and the source's\n"
		"cursor are committed together, so an interrupted ingest loses and repeats nothing.\n"
		"With a \"catalog\" in the gateway file, the catalog's definition records (flows,\n"
		"stages, items) of each region pulled go first, as source \"catalog:<region>\";\n"
		"an unchanged catalog writes nothing.\n"
		"\n"
		"  --source NAME       pull only this configured source\n"
		"  --source FILE.json  pull a source file that is not in the sources directory\n"
		"                      (to test an adapter offline; relative paths from its folder)\n"
		"  --dry-run           map and validate, print each SPGL record and its reasons as\n"
		"                      JSON lines on stdout, write nothing (not even the cursor)\n"
		"  --parallel N        at most N plugin processes at a time (default: all)\n"
		"\n"
		"Exit status 0 when every source was pulled, 1 when some failed (each is listed),\n"
		"3 for configuration problems, 4 when the ledger is unusable.\n");
}

/* Dry runs print each decision as one JSON line. */
static void print_output(void *ud, const struct spgw_pipeline_source *src, const char *table,
			 const char *key, const json_t *record, const struct spgw_reasons *reasons)
{
	FILE *out = ud;
	json_t *line, *rj = spgw_reasons_to_json(reasons);
	char *s;

	line = json_pack("{s:s,s:s?,s:s?,s:b,s:O?,s:o?}", "source", src->name, "table", table,
			 "key", key, "valid", reasons->n == 0, "record", record, "reasons", rj);
	s = line ? json_dumps(line, JSON_COMPACT) : NULL;
	if (s)
		fprintf(out, "%s\n", s);
	else
		fprintf(stderr, "spgw: out of memory printing a record of %s\n", src->name);
	free(s);
	json_decref(line);
}

static void print_results(const struct spgw_ingest_result *r, size_t n)
{
	size_t i;

	printf("%-24s %-6s %9s %9s %9s %9s %11s %7s %8s  %s\n", "source", "region", "records",
	       "new", "changed", "unchanged", "quarantined", "commits", "rec/s", "result");
	for (i = 0; i < n; i++) {
		const struct spgw_pipeline_stats *st = &r[i].stats;
		char line[1024];

		printf("%-24s %-6s %9llu %9llu %9llu %9llu %11llu %7llu %8.0f  %s\n",
		       r[i].source->name, r[i].source->region, (unsigned long long)st->records,
		       (unsigned long long)st->added, (unsigned long long)st->versions,
		       (unsigned long long)st->unchanged, (unsigned long long)st->quarantined,
		       (unsigned long long)r[i].commits,
		       r[i].seconds > 0 ? (double)st->records / r[i].seconds : 0.0,
		       r[i].rc ? "FAILED" : "ok");
		if (r[i].rc)
			printf("    %s\n", spgw_error_format(&r[i].error, line, sizeof(line)));
	}
}

static int is_file_arg(const char *s)
{
	struct stat st;
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".json") && !stat(s, &st));
}

int spgw_cmd_ingest(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_ingest_opts io;
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	char started[24];
	struct spgw_ingest_result *res = NULL;
	struct spgw_source one;
	struct spgw_diag diag;
	struct spgw_error err;
	const struct spgw_source *sources;
	const char *source_arg = NULL;
	size_t nres = 0, nsources, i;
	int opt, status;
	enum spgw_rc rc;

	memset(&io, 0, sizeof(io));
	memset(&one, 0, sizeof(one));
	memset(&err, 0, sizeof(err));
	spgw_diag_init(&diag);
	while ((opt = getopt_long(argc, argv, "s:np:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			source_arg = optarg;
			break;
		case 'n':
			io.dry_run = 1;
			break;
		case 'p': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > 256) {
				fprintf(stderr, "spgw: ingest: --parallel wants a number from 1 to "
						"256, got \"%s\"\n", optarg);
				return SPGW_EXIT_USAGE;
			}
			io.parallel = (size_t)v;
			break;
		}
		case 'h':
			help(stdout);
			return SPGW_EXIT_OK;
		default:
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open(ctx, &c, &s, io.dry_run ? NULL : &l);
	if (status)
		return status;
	sources = c->sources;
	nsources = c->nsources;
	if (source_arg && is_file_arg(source_arg)) {
		if (spgw_config_load_source(c, source_arg, &one, &diag)) {
			for (i = 0; i < diag.n; i++)
				spgw_cmd_perror(&diag.items[i]);
			status = SPGW_EXIT_CONFIG;
			goto out;
		}
		sources = &one;
		nsources = 1;
		io.only_source = one.name;
	} else {
		io.only_source = source_arg;
	}
	io.catalog = c->catalog_path;
	if (io.dry_run) {
		io.observe = print_output;
		io.observe_ud = stdout;
	}
	spgw_cmd_utc_now(started);
	rc = spgw_ingest_run(sources, nsources, s, l, &io, &res, &nres, &err);
	if (res && l && !io.dry_run)
		spgw_cmd_record_runs(l, res, nres, started);
	if (res) {
		if (io.dry_run)
			fflush(stdout);
		print_results(res, nres);
		for (i = 0; i < nres; i++)
			if (res[i].rc) {
				char line[1024];

				spgw_log(SPGW_LOG_ERROR, res[i].source->name, "pull failed: %s",
					 spgw_error_format(&res[i].error, line, sizeof(line)));
			}
	}
	if (!res && rc) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(rc);
	} else {
		status = rc ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
	}
out:
	spgw_free(res);
	spgw_config_source_clear(&one);
	spgw_diag_free(&diag);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
