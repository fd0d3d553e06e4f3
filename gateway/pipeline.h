/*
 * One source record through the core: parse -> mapping -> validation -> canonical form and
 * digest -> outbox, or -> quarantine with every reason. Used by ingest (records from plugins)
 * and by quarantine replay (records kept in quarantine, re-run with the current files).
 * It writes inside the caller's ledger transaction and never commits itself.
 */
#ifndef SPGW_PIPELINE_H
#define SPGW_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ledger.h"
#include "mapping.h"
#include "reasons.h"
#include "schema.h"

struct spgw_pipeline;

/* What a source is to the pipeline. Borrowed for each call. */
struct spgw_pipeline_source {
	const char *name;
	const char *region;
	const struct spgw_mapping *mapping;
};

/* What happened to records, added to by each call. */
struct spgw_pipeline_stats {
	uint64_t records;     /* source records seen */
	uint64_t outputs;     /* SPGL records mapped from them */
	uint64_t added;       /* new keys in the outbox */
	uint64_t versions;    /* changed versions of known keys */
	uint64_t unchanged;   /* re-emissions identical to the newest version */
	uint64_t quarantined; /* entries written to quarantine */
};

/*
 * Told about every SPGL record the pipeline decides on (dry runs print them). `record` and
 * `reasons` are borrowed for the call; `reasons` is empty for a valid record.
 */
typedef void (*spgw_pipeline_observe_fn)(void *ud, const struct spgw_pipeline_source *src,
					 const char *table, const char *key, const json_t *record,
					 const struct spgw_reasons *reasons);

/*
 * A new pipeline over `schema`, writing to `ledger` (NULL: a dry run that writes nothing).
 * Both are borrowed and must outlive it. Release with spgw_pipeline_free().
 */
enum spgw_rc spgw_pipeline_new(const struct spgw_schema *schema, struct spgw_ledger *ledger,
			       struct spgw_pipeline **out, struct spgw_error *err);
void spgw_pipeline_free(struct spgw_pipeline *p);
void spgw_pipeline_observe(struct spgw_pipeline *p, spgw_pipeline_observe_fn fn, void *ud);

/*
 * Process one raw record (`len` bytes that should be a UTF-8 JSON object) from `source_table`.
 * Bad input of any kind ends in quarantine, not in an error: the return value is an error only
 * when the ledger refused a write or memory ran out, and then the caller must roll back.
 */
enum spgw_rc spgw_pipeline_record(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				  const char *source_table, const char *raw, size_t len,
				  struct spgw_pipeline_stats *st, struct spgw_error *err);

/*
 * Put one SPGL record the gateway made itself (the catalog's definition records: no source
 * record, no mapping) through the path of a mapped record: validation, canonical form and
 * digest, the outbox (corrections append-only, as for any record), or quarantine with every
 * reason, its raw form being the record's JSON. `record` is borrowed. Inside the caller's
 * transaction; returns an error only as spgw_pipeline_record() does.
 */
enum spgw_rc spgw_pipeline_spgl(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				const char *table, const json_t *record,
				struct spgw_pipeline_stats *st, struct spgw_error *err);

/*
 * Re-run one quarantine entry with the current mapping and schema. When every SPGL record
 * the entry stands for now passes, they go to the outbox and the entry is resolved
 * (*resolved = 1); otherwise its reasons and mapped form are refreshed (*resolved = 0).
 * Inside the caller's transaction.
 */
enum spgw_rc spgw_pipeline_replay(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				  const struct spgw_quarantine_row *row, int *resolved,
				  struct spgw_pipeline_stats *st, struct spgw_error *err);

#endif
