/*
 * The national schema as data (config/schema/spgl-v3.json): tables, fields, code tables,
 * formats, keys, business-day rules, parents and upload order. The core reads it; adding a
 * field or a table is editing that file, not this code.
 *
 * Objects returned by the accessors are borrowed from the schema and live until
 * spgw_schema_free().
 */
#ifndef SPGW_SCHEMA_H
#define SPGW_SCHEMA_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "error.h"

struct spgw_schema;
struct spgw_table;
struct spgw_field;

enum spgw_ftype {
	SPGW_FT_STR = 0,
	SPGW_FT_INT = 1,
	SPGW_FT_DEC = 2,      /* a JSON number with at most `scale` decimals */
	SPGW_FT_DATE = 3,     /* "YYYY-MM-DD" */
	SPGW_FT_DATETIME = 4, /* "YYYY-MM-DD HH:MM:SS", Beijing time, no zone */
};

/*
 * Load and check a schema file. Every inconsistency (unknown code table, a parent naming a
 * missing table or field, a day rule naming a missing field, a cycle in parents) is added to
 * `diag` with file:line:column where known; returns the first problem's code, SPGW_OK when
 * none. On success *out is a new schema, released with spgw_schema_free().
 */
enum spgw_rc spgw_schema_load(const char *path, struct spgw_schema **out, struct spgw_diag *diag);
void spgw_schema_free(struct spgw_schema *s);

/* "spgl-v3" */
const char *spgw_schema_id(const struct spgw_schema *s);

/* Tables in upload order (parents before children). */
size_t spgw_schema_table_count(const struct spgw_schema *s);
const struct spgw_table *spgw_schema_table_at(const struct spgw_schema *s, size_t i);
/* NULL when the schema has no table of that name. */
const struct spgw_table *spgw_schema_table(const struct spgw_schema *s, const char *name);

const char *spgw_table_name(const struct spgw_table *t); /* "SPGL_XMJBXXB" */
const char *spgw_table_zh(const struct spgw_table *t);   /* "项目基本信息表" */
int spgw_table_level(const struct spgw_table *t);        /* upload level, 0 first */
size_t spgw_table_field_count(const struct spgw_table *t);
const struct spgw_field *spgw_table_field_at(const struct spgw_table *t, size_t i);
/* NULL when the table has no field of that name. */
const struct spgw_field *spgw_table_field(const struct spgw_table *t, const char *name);

const char *spgw_field_name(const struct spgw_field *f);
const char *spgw_field_zh(const struct spgw_field *f);
enum spgw_ftype spgw_field_type(const struct spgw_field *f);
/* Nonzero when the gateway must never send this field (SJSCZT, SBYY, LSH, GXSJ, SCSJ). */
int spgw_field_not_sent(const struct spgw_field *f);

/*
 * A record's business day (PROTOCOL.md §3, spgl/README.md "Business day for counting").
 *   SPGW_DAY_OK       `day` holds "YYYY-MM-DD": the Beijing-time date of the table's
 *                     count-date field.
 *   SPGW_DAY_INHERIT  the table has no count-date field; its day is its parent's. `parent`
 *                     is set to the parent table and `parent_fields` to the NULL-terminated
 *                     list of this record's fields that form the parent's key (borrowed).
 *   SPGW_DAY_EARLIEST_CHILD  the day is the earliest count date among the records of
 *                     `parent` (here: a child table) that reference this one
 *                     (SPGL_XMSPSXBLXXB: the earliest BLSJ of its handling steps).
 *   SPGW_DAY_MISSING  the count-date field is absent or unparseable.
 */
enum spgw_day_rule {
	SPGW_DAY_OK = 0,
	SPGW_DAY_INHERIT = 1,
	SPGW_DAY_EARLIEST_CHILD = 2,
	SPGW_DAY_MISSING = 3,
};
enum spgw_day_rule spgw_schema_day(const struct spgw_table *t, const json_t *record,
				   char day[11], const struct spgw_table **parent,
				   const char *const **parent_fields);

/* Write a readable description of one table (fields with Chinese names, types, lengths,
 * required, codes, formats, key, day rule, parents) to `out`. SPGW_E_NOTFOUND when no such
 * table (message lists the tables). */
enum spgw_rc spgw_schema_show(const struct spgw_schema *s, const char *table, FILE *out,
			      struct spgw_error *err);

/* Internal to validate.c: the raw definition of a field, a code table and a table. */
const json_t *spgw_field_def(const struct spgw_field *f);
const json_t *spgw_schema_codes(const struct spgw_schema *s, const char *code_table);
const json_t *spgw_table_def(const struct spgw_table *t);

#endif
