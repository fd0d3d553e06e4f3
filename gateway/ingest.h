/*
 * Ingest: pull every configured source once, through its plugin's child process, into the
 * pipeline (mapping, validation) and the ledger. Records and the cursor that follows them are
 * committed together, one transaction per plugin commit.
 *
 * With a catalog (the gateway file's "catalog"), the SPGL definition records of every region
 * pulled go first (catalog.h): one pseudo-source "catalog:<region>" per region, validated and
 * stored like plugin records, in one transaction with a cursor holding the digest of what
 * was stored, so an unchanged catalog writes nothing.
 *
 * A backfill (opts->range_from) pulls one source through its plugin's pull_range() instead:
 * the records changed from one day to another, through the same pipeline, with a cursor of its
 * own in the ledger's cursors table, "backfill:<source>:<from>:<to>", so the source's regular
 * cursor is neither read nor moved, and an interrupted backfill resumes where it stopped.
 * Beside it "backfill-state:<source>:<from>:<to>" says "running", or "done <RFC 3339 UTC>"
 * once the whole range was read: a finished range is not pulled again unless restarted.
 *
 * One source is never pulled by two processes at once: each pull, regular or backfill,
 * holds an exclusive flock on <state_dir>/locks/<source>.lock (a backfill page read before a
 * change but committed after the regular pull stored that change would otherwise store the
 * old data as the newest version). A source whose lock is held is not pulled: its result is
 * SPGW_E_BUSY, naming what holds it. A dry run writes nothing and takes no lock.
 */
#ifndef SPGW_INGEST_H
#define SPGW_INGEST_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "pipeline.h"
#include "schema.h"

/* The outcome of one source's pull, or of one region's catalog records. */
struct spgw_ingest_result {
	/* borrowed from the config; for catalog records a pseudo-source "catalog:<region>"
	 * (name and region only) that lives as long as the results array */
	const struct spgw_source *source;
	enum spgw_rc rc;                  /* SPGW_OK or why the pull failed */
	struct spgw_error error;
	struct spgw_pipeline_stats stats; /* committed work only */
	uint64_t commits;
	double seconds;
	/* backfill: the range was finished before (rc SPGW_OK, nothing pulled) at done_at,
	 * RFC 3339 UTC, and opts->range_restart was not given */
	int already_done;
	char done_at[32];
};

struct spgw_ingest_opts {
	const char *only_source; /* NULL: every enabled source */
	int dry_run;             /* map and validate, write nothing */
	size_t parallel;         /* children at a time; 0: all */
	spgw_pipeline_observe_fn observe; /* told of every SPGL record decided on; may be NULL */
	void *observe_ud;
	const char *catalog;     /* the approval catalog file (spgw_config.catalog_path); NULL:
				  * none, no definition records */

	/* A backfill: with range_from, only `only_source` (required) is pulled, through its
	 * plugin's pull_range() for the days range_from..range_to (YYYY-MM-DD, Beijing time,
	 * inclusive; the caller checked they are real days in order). A range done before is
	 * skipped (result->already_done) unless range_restart, which starts it again from its
	 * beginning. A plugin without pull_range() ends with SPGW_E_NOTFOUND. */
	const char *range_from, *range_to;
	int range_restart;
	/* What the lock file says about who holds it ("spgw backfill ..."), NULL: "spgw". */
	const char *holder;
	/* Told after every source record and every commit of a plugin source: `seen` counts the
	 * source records taken so far (committed or not yet), r->stats what is committed. The
	 * result is borrowed for the call. May be NULL. */
	void (*progress)(void *ud, const struct spgw_ingest_result *r, uint64_t seen);
	void *progress_ud;
	/* Set to nonzero (from a signal handler) to stop: each plugin child is killed within
	 * 100 ms, what was committed stays committed, and its result is SPGW_E_RETRY.
	 * NULL: none. */
	const volatile sig_atomic_t *stop;
};

/*
 * Pull the sources of `sources` (n of them; disabled ones are skipped; with only_source that
 * one, enabled or not). `ledger` may be NULL
 * only for a dry run. With opts->catalog, first the catalog's definition records of each
 * region among the pulled sources, one result per region ahead of the sources' results.
 * *results is a new array of *nresults entries (spgw_free). Returns SPGW_OK when every
 * pulled source succeeded, SPGW_E_PLUGIN (or the first failed result's code, SPGW_E_BUSY for
 * a source another process is pulling) when some failed (each result says why), or an error
 * that stopped everything (mapping files or a catalog that do not load, the ledger refusing,
 * no such source, the locks directory unusable).
 */
enum spgw_rc spgw_ingest_run(const struct spgw_source *sources, size_t n,
			     const struct spgw_schema *schema, struct spgw_ledger *ledger,
			     const struct spgw_ingest_opts *opts, struct spgw_ingest_result **results,
			     size_t *nresults, struct spgw_error *err);

/*
 * Whether the backfill of `source` from `from` to `to` was finished before: *done 1 with
 * done_at (RFC 3339 UTC) filled, else 0. For a command to say so before counting anything.
 */
enum spgw_rc spgw_ingest_backfill_done(struct spgw_ledger *ledger, const char *source,
				       const char *from, const char *to, int *done,
				       char done_at[32], struct spgw_error *err);

#endif
