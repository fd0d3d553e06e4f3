/*
 * Ingest: pull every configured source once, through its plugin's child process, into the
 * pipeline (mapping, validation) and the ledger. Records and the cursor that follows them are
 * committed together, one transaction per plugin commit.
 *
 * With a catalog (the gateway file's "catalog"), the SPGL definition records of every region
 * pulled go first (catalog.h): one pseudo-source "catalog:<region>" per region, validated and
 * stored like plugin records, in one transaction with a cursor holding the digest of what
 * was stored, so an unchanged catalog writes nothing.
 */
#ifndef SPGW_INGEST_H
#define SPGW_INGEST_H

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
};

struct spgw_ingest_opts {
	const char *only_source; /* NULL: every enabled source */
	int dry_run;             /* map and validate, write nothing */
	size_t parallel;         /* children at a time; 0: all */
	spgw_pipeline_observe_fn observe; /* told of every SPGL record decided on; may be NULL */
	void *observe_ud;
	const char *catalog;     /* the approval catalog file (spgw_config.catalog_path); NULL:
				  * none, no definition records */
};

/*
 * Pull the sources of `sources` (n of them; disabled ones are skipped). `ledger` may be NULL
 * only for a dry run. With opts->catalog, first the catalog's definition records of each
 * region among the pulled sources, one result per region ahead of the sources' results.
 * *results is a new array of *nresults entries (spgw_free). Returns SPGW_OK when every
 * pulled source succeeded, SPGW_E_PLUGIN (or the first failed result's code) when some
 * failed (each result says why), or an error that stopped everything (mapping files or a
 * catalog that do not load, the ledger refusing, no such source).
 */
enum spgw_rc spgw_ingest_run(const struct spgw_source *sources, size_t n,
			     const struct spgw_schema *schema, struct spgw_ledger *ledger,
			     const struct spgw_ingest_opts *opts, struct spgw_ingest_result **results,
			     size_t *nresults, struct spgw_error *err);

#endif
