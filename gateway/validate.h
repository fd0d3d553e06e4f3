/*
 * Check one mapped SPGL record against the schema definition. Every reason is collected, not
 * the first only, each with field, code and a message in English and Chinese.
 */
#ifndef SPGW_VALIDATE_H
#define SPGW_VALIDATE_H

#include <jansson.h>

#include "reasons.h"
#include "schema.h"

/*
 * Validate `record` (an object) as a row of `table` reported by region `region` (six digits,
 * the source's region: XZQHDM must equal it). Appends every problem to `out` and returns how
 * many were appended (0: valid). A table the schema does not know is one reason.
 * Checks: unknown fields, not-sent fields present, required and conditionally required
 * fields, types, lengths in code points, code tables, formats (项目代码, 工程代码,
 * 统一社会信用代码 with its check character, region codes, GB/T 4754 industry codes, dates and
 * datetimes that exist on the calendar), numeric ranges and scales, and the canonical-number
 * range of PROTOCOL.md §2. The count includes reasons that could not be stored because memory
 * ran out, so a record is never taken as valid for lack of memory. Codes chosen where
 * PROTOCOL.md §4 has no exact one (config/schema/README.md lists them all): an unknown or
 * not-sent field, a field that must be empty, a broken cross-field rule or minimum: "format";
 * XZQHDM other than the source's region: "code"; any problem with the table's count-date
 * field: "day"; an unknown table: "format" for the record (field "").
 */
size_t spgw_validate(const struct spgw_schema *s, const char *table, const char *region,
		     const json_t *record, struct spgw_reasons *out);

/*
 * Warnings about a record that is sent anyway (the caller logs them; they never quarantine):
 * a value above its field's "warn_above" (ZTZE over 10,000,000 万元: a probable 元/万元
 * mix-up) and a region-list item outside the source's region (works cross borders). Appends
 * to `out` with code "warning"; returns how many.
 */
size_t spgw_validate_warnings(const struct spgw_schema *s, const char *table, const char *region,
			      const json_t *record, struct spgw_reasons *out);

/* Format checks, exposed for the mapping engine and tests. Each returns nonzero when valid. */
int spgw_validate_uscc(const char *s); /* 统一社会信用代码, GB 32100 with check character */
/* The check character a 17-character USCC prefix needs, or 0 when the prefix is invalid. */
char spgw_validate_uscc_check(const char *prefix17);
int spgw_validate_xmdm(const char *s); /* 项目代码 shape */
int spgw_validate_date(const char *s);     /* YYYY-MM-DD that exists */
int spgw_validate_datetime(const char *s); /* YYYY-MM-DD HH:MM:SS that exists */

#endif
