/*
 * Internal to the catalog module: the loaded catalog, shared by catalog.c (reading, checking,
 * lookups) and catalog_records.c (the SPGL definition records). Every string points into the
 * parsed file, which the catalog keeps.
 */
#ifndef SPGW_CATALOG_INT_H
#define SPGW_CATALOG_INT_H

#include <jansson.h>
#include <stddef.h>

#include "catalog.h"

struct cat_stage {
	int seq; /* 0: this slot was not given */
	const char *code, *name, *standard;
	int limit_days; /* 0: none */
};

struct cat_flow {
	const char *code, *version, *name, *effective, *retired;
	int tenths; /* version x 10 */
	int type;
};

struct cat_item {
	const char *code, *version, *name, *standard_code, *local_code, *dept, *effective, *retired;
	int tenths;
	int stage, kind, promised, legal, milestone;
};

/* An item's or flow's place in the lookup index. */
struct cat_key {
	const char *code; /* NULL for an entry whose code was bad (a failed load only) */
	int tenths;
	size_t at; /* index in items[] or flows[] */
};

struct spgw_catalog {
	char *path;
	json_t *root; /* owned: every string below points into it */
	const char *name;
	struct cat_stage stages[SPGW_CATALOG_STAGES];
	struct cat_flow *flows;
	size_t nflows;
	struct cat_item *items;
	size_t nitems;
	struct cat_key *item_keys, *flow_keys; /* sorted by (code, version) for lookups */
	const char *first_effective;	       /* the earliest flow "effective": items' default */
};

#endif
