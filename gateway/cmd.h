/*
 * The commands behind `spgw <command>`. Each takes the arguments after its name and returns a
 * process exit status (SPGW_EXIT_*). Commands are the edge: they print and log; the stages
 * they call only return errors.
 */
#ifndef SPGW_CMD_H
#define SPGW_CMD_H

#include <stdio.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "schema.h"

/* Exit statuses, documented in `spgw --help` and README.md. Never renumbered. */
enum spgw_exit {
	SPGW_EXIT_OK = 0,      /* done, nothing failed */
	SPGW_EXIT_PARTIAL = 1, /* done, but some part failed (a source, a replayed entry) */
	SPGW_EXIT_USAGE = 2,   /* the command line was wrong */
	SPGW_EXIT_CONFIG = 3,  /* the configuration has problems */
	SPGW_EXIT_STATE = 4,   /* the state directory or ledger is unusable */
	SPGW_EXIT_PLUGIN = 5,  /* a plugin could not be loaded or described */
	SPGW_EXIT_ERROR = 6,   /* anything else (out of memory, I/O) */
};

/* What every command gets from the global options. */
struct spgw_cmd_ctx {
	const char *config_path; /* -c FILE, $SPGW_CONFIG, or the installed default */
	int verbose;             /* -v count */
	int quiet;               /* -q */
};

/* Map a result code to the exit status a command returns for it. */
int spgw_cmd_exit(enum spgw_rc rc);
/* Print an error as one line on stderr: "spgw: file:line:col: text [key]". */
void spgw_cmd_perror(const struct spgw_error *err);

/*
 * Load what most commands need: the configuration (problems printed; any problem stops),
 * the schema, and, when `ledger` is not NULL, the ledger. Returns an exit status; on
 * SPGW_EXIT_OK the out-parameters are set and owned by the caller.
 */
int spgw_cmd_open(const struct spgw_cmd_ctx *ctx, struct spgw_config **config,
		  struct spgw_schema **schema, struct spgw_ledger **ledger);

/* The current time as RFC 3339 UTC, "2026-11-23T09:00:00Z", into out[24]. */
void spgw_cmd_utc_now(char out[24]);
/*
 * Keep each result of an ingest (spgw_ingest_run) as a run in the ledger, for `spgw status`:
 * kind "catalog" for a region's definition records ("catalog:<region>"), else "pull". A
 * failure to store one is printed, not returned: the pull itself is done.
 */
struct spgw_ingest_result;
void spgw_cmd_record_runs(struct spgw_ledger *l, const struct spgw_ingest_result *res, size_t n,
			  const char *started_at);
/* The same without the ledger's integrity check (spgw_ledger_open_unchecked): for commands
 * that must answer at once whatever the ledger's size (status) or read far more than they
 * write (reconcile). */
int spgw_cmd_open_unchecked(const struct spgw_cmd_ctx *ctx, struct spgw_config **config,
			    struct spgw_schema **schema, struct spgw_ledger **ledger);
/* True when argv[i] is -h or --help. */
int spgw_cmd_wants_help(int argc, char **argv);

/*
 * Table output that lines up with Chinese in it: printf's %-20s counts bytes, a terminal
 * shows a CJK character in two columns. spgw_cmd_width() is how many columns UTF-8 `s`
 * takes; spgw_cmd_cell() prints `s` left-aligned in `width` columns then a space,
 * spgw_cmd_cell_right() right-aligned (numbers). A longer `s` is printed whole.
 */
int spgw_cmd_width(const char *s);
void spgw_cmd_cell(FILE *out, const char *s, int width);
void spgw_cmd_cell_right(FILE *out, const char *s, int width);

/*
 * Everything `spgw check-config` checks, without printing: the gateway file and every source
 * file, the schema, every mapping against it, every plugin's settings (each plugin loaded in
 * its own process) and the catalog. Problems go to `diag`. *config, *schema and *catalog
 * (catalog may be NULL: not wanted) are set to what could be loaded, owned by the caller,
 * NULL where nothing could. Returns how many mapping files were checked.
 */
struct spgw_catalog;
struct spgw_diag;
size_t spgw_cmd_check(const char *path, struct spgw_config **config, struct spgw_schema **schema,
		      struct spgw_catalog **catalog, struct spgw_diag *diag);
int spgw_cmd_check_config(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_schema(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_ingest(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_backfill(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_quarantine(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_plugin_check(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_reconcile(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_violations(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_stats(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_status(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_upload(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_dlq(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_receipts(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_outbox(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_run(const struct spgw_cmd_ctx *ctx, int argc, char **argv);
int spgw_cmd_keygen(const struct spgw_cmd_ctx *ctx, int argc, char **argv);

#endif
