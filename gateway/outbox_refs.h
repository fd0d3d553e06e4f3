/*
 * Where an outbox record stands among its relatives, worked out once at ingest so the uploader
 * can order and date records with plain index lookups: its business key (the schema key's
 * values), where its business day comes from when it has no count-date field of its own
 * (PROTOCOL.md §2–3), and its first parent, which must be delivered before it.
 */
#ifndef SPGW_OUTBOX_REFS_H
#define SPGW_OUTBOX_REFS_H

#include <jansson.h>

#include "schema.h"

/* A key longer than this is not tracked (the record is still sent, unordered). */
#define SPGW_REFS_KEY_MAX 512

struct spgw_outbox_refs {
	char bkey[SPGW_REFS_KEY_MAX];   /* this record's schema key; "" when not known */
	const char *day_rule;           /* NULL, "inherit" or "earliest_child" (static) */
	const char *day_table;          /* where the day comes from (borrowed from the schema) */
	char day_ref[SPGW_REFS_KEY_MAX]; /* that record's key ("inherit"), or this one's */
	const char *parent_table;       /* first parent table, or NULL (borrowed) */
	char parent_ref[SPGW_REFS_KEY_MAX]; /* the parent's key as this record names it */
};

/*
 * Fill `out` for `record` of table `t`. Key values are joined with U+001F, strings as they
 * are and other values as compact JSON, in the order of the referenced table's key, so a
 * child's parent_ref equals its parent's bkey byte for byte. A part that cannot be built (a
 * key field absent, a key too long) is left empty: the record is then neither held for its
 * parent nor given an inherited day, which the uploader reports.
 */
void spgw_outbox_refs(const struct spgw_table *t, const json_t *record,
		      struct spgw_outbox_refs *out);

#endif
