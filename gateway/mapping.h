/*
 * Declarative mapping: a source system's records into SPGL records (config/mappings/ (one JSON file per source system)).
 * Renames, code tables, date normalisation, text clean-up, unit conversion, constants,
 * defaults, concatenation, derived keys, and one source record producing records for several
 * tables. The file format is documented in config/mappings/README.md.
 */
#ifndef SPGW_MAPPING_H
#define SPGW_MAPPING_H

#include <jansson.h>

#include "diag.h"
#include "error.h"
#include "reasons.h"
#include "schema.h"

struct spgw_mapping;

/*
 * Load a mapping file and check it against `schema`: every target table and field must exist
 * there, every rule must be well formed. Every problem is added to `diag`, naming the file,
 * line:column where known, and the rule ("tables.projects.emit[0].fields.XMDM"); returns the
 * first problem's code. On success *out is new, released with spgw_mapping_free(). The
 * mapping keeps a pointer to `schema`, which must outlive it.
 */
enum spgw_rc spgw_mapping_load(const char *path, const struct spgw_schema *schema,
			       struct spgw_mapping **out, struct spgw_diag *diag);
void spgw_mapping_free(struct spgw_mapping *m);

/* The file the mapping was loaded from (borrowed). */
const char *spgw_mapping_path(const struct spgw_mapping *m);

/*
 * The SPGL tables each source table's records become: `fn` once per (source table, SPGL
 * table) pair, with `one_to_one` nonzero when every source record makes exactly one record of
 * that table (no "each", no "when"), so a count of the source table is a count of the SPGL
 * table (reconciliation).
 */
typedef void (*spgw_mapping_target_fn)(void *ud, const char *source_table, const char *spgl_table,
				       int one_to_one);
void spgw_mapping_targets(const struct spgw_mapping *m, spgw_mapping_target_fn fn, void *ud);

/* What a mapping may use of the source it runs for. */
struct spgw_mapping_env {
	const char *region; /* the source's six-digit region code ("$region" in rules) */
	const char *source; /* the source's name ("$source" in rules) */
};

/*
 * Called once per SPGL record a source record produces, in emit order. `table` is the SPGL
 * table, `key` the derived 地方数据主键 (NULL when it could not be derived), `record` the
 * mapped object (stolen: the callback owns it), `reasons` the mapping problems of this output
 * record (empty when mapping succeeded; then the caller validates it). Return SPGW_OK to go
 * on; any other code stops spgw_mapping_apply(), which returns it.
 */
typedef enum spgw_rc (*spgw_mapping_emit_fn)(void *ud, const char *table, const char *key,
					     json_t *record, const struct spgw_reasons *reasons);

/*
 * Map one source record `src` (an object) of source table `source_table`. Returns SPGW_OK,
 * the callback's code, SPGW_E_NOMEM, or SPGW_E_NOTFOUND when the mapping has no rules for
 * `source_table` (err says so and names the mapping file): the caller quarantines the raw
 * record then. Per-field problems are not errors here: they travel as reasons to the callback.
 */
enum spgw_rc spgw_mapping_apply(const struct spgw_mapping *m, const char *source_table,
				const json_t *src, const struct spgw_mapping_env *env,
				spgw_mapping_emit_fn emit, void *ud, struct spgw_error *err);

#endif
