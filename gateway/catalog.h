/*
 * The province's approval catalog (审批事项目录): its four stages, its flows and its items, read
 * from the file the gateway file names ("catalog", format: config/catalog/README.md). The
 * gateway reports the catalog itself, once per region, as the SPGL definition tables
 * (SPGL_SPLCXXB, SPGL_SPJDXXB, SPGL_SPSXJBXXB, SPGL_SPLCJBLSXXXB); the core looks items up
 * in it (stage, kind, promised days) to judge cases.
 *
 * Nothing here names a province: the counts a catalog must have are in the file ("counts").
 */
#ifndef SPGW_CATALOG_H
#define SPGW_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "error.h"

struct spgw_catalog;

/* Stages are numbered 1..SPGW_CATALOG_STAGES: the four of the 2019 national reform. */
#define SPGW_CATALOG_STAGES 4

enum spgw_catalog_kind {
	SPGW_CATALOG_MAIN = 0,	   /* "main": 主线事项 */
	SPGW_CATALOG_PARALLEL = 1, /* "parallel": 并行推进事项 */
	SPGW_CATALOG_SPECIAL = 2,  /* "special": 其他（特殊）事项 */
};

/* "main", "parallel", "special" (never NULL). */
const char *spgw_catalog_kind_name(enum spgw_catalog_kind kind);

/*
 * Read and check a catalog file. Every problem is added to `diag` (all of them, not the
 * first only) as FILE:LINE:COLUMN with the entry's path and code ("items[7] JL-SX-008:
 * standard_code ..."). Returns SPGW_OK, or the first problem's code (SPGW_E_CONFIG,
 * SPGW_E_SYNTAX, SPGW_E_TEXT, SPGW_E_IO, SPGW_E_NOMEM); *out is set only on success, new,
 * released with spgw_catalog_free().
 */
enum spgw_rc spgw_catalog_load(const char *path, struct spgw_catalog **out, struct spgw_diag *diag);
void spgw_catalog_free(struct spgw_catalog *c);

/* The file it was read from, and its "catalog" name (both borrowed). */
const char *spgw_catalog_path(const struct spgw_catalog *c);
const char *spgw_catalog_name(const struct spgw_catalog *c);
size_t spgw_catalog_flow_count(const struct spgw_catalog *c);
size_t spgw_catalog_item_count(const struct spgw_catalog *c);

/* What the core needs of an item. Strings are borrowed from the catalog. */
struct spgw_catalog_item_info {
	const char *code, *version, *name;
	int stage; /* 1..SPGW_CATALOG_STAGES */
	enum spgw_catalog_kind kind;
	const char *standard_code; /* four digits */
	int promised_days;	   /* working days; the basis of overrun */
	int legal_days;		   /* working days; 0 when the catalog gives none */
	int milestone;		   /* nonzero for milestone items */
	const char *dept;
};

struct spgw_catalog_flow_info {
	const char *code, *version, *name;
	int type;	       /* standard flow type (SPLCLX) */
	const char *effective; /* YYYY-MM-DD */
};

/*
 * Look an item or a flow up by code and version. `version` is as written in records ("1.0",
 * "1", "2.0"), compared by value; NULL means the highest version of that code. Returns
 * nonzero and fills *out when found.
 */
int spgw_catalog_item(const struct spgw_catalog *c, const char *code, const char *version,
		      struct spgw_catalog_item_info *out);
int spgw_catalog_flow(const struct spgw_catalog *c, const char *code, const char *version,
		      struct spgw_catalog_flow_info *out);

/*
 * Called for each definition record of a region, parents first: every flow (SPGL_SPLCXXB),
 * then each flow's stages (SPGL_SPJDXXB), every item (SPGL_SPSXJBXXB), then each flow's
 * item links (SPGL_SPLCJBLSXXXB). `record` is borrowed for the call; `key` is its DFSJZJ.
 * Return SPGW_OK to go on; any other code stops spgw_catalog_records(), which returns it.
 */
typedef enum spgw_rc (*spgw_catalog_record_fn)(void *ud, const char *table, const char *key,
					       const json_t *record);

/*
 * Build the SPGL definition records of the catalog as reported by `region` (six digits:
 * XZQHDM) and hand each to `fn`. Fields are those of config/schema/spgl-v3.json; versions
 * (SPLCBBH, SPSXBBH: dec) are JSON numbers, 1.0 as the integer 1 (the same canonical form).
 * Returns SPGW_OK, SPGW_E_NOMEM, or `fn`'s code.
 */
enum spgw_rc spgw_catalog_records(const struct spgw_catalog *c, const char *region,
				  spgw_catalog_record_fn fn, void *ud, struct spgw_error *err);

/* How many records spgw_catalog_records() makes per region. */
size_t spgw_catalog_record_count(const struct spgw_catalog *c);

#endif
