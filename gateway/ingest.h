/*
 * Ingest: pull every configured source once, through its plugin's child process, into the
 * pipeline (mapping, validation) and the ledger. Records and the cursor that follows them are
 * committed together, one transaction per plugin commit.
 */
#ifndef SPGW_INGEST_H
#define SPGW_INGEST_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "pipeline.h"
#include "schema.h"

/* The outcome of one source's pull. */
struct spgw_ingest_result {
	const struct spgw_source *source; /* borrowed from the config */
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
};

/*
 * Pull the sources of `sources` (n of them; disabled ones are skipped). `ledger` may be NULL
 * only for a dry run. *results is a new array of *nresults entries (spgw_free). Returns
 * SPGW_OK when every pulled source succeeded, SPGW_E_PLUGIN (or the first source's code) when
 * some failed (each result says why), or an error that stopped everything (mapping files that
 * do not load, the ledger refusing, no such source).
 */
enum spgw_rc spgw_ingest_run(const struct spgw_source *sources, size_t n,
			     const struct spgw_schema *schema, struct spgw_ledger *ledger,
			     const struct spgw_ingest_opts *opts, struct spgw_ingest_result **results,
			     size_t *nresults, struct spgw_error *err);

#endif
