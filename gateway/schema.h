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
/* The unique key's field names, NULL-terminated (borrowed). */
const char *const *spgw_table_key(const struct spgw_table *t);
/*
 * The i-th parent reference (parents are uploaded first), NULL past the last: `fields` gets
 * this table's referencing fields and `parent_fields` the parent's fields they match, in the
 * same order (the parent's key unless the file says otherwise); both NULL-terminated,
 * borrowed, either pointer may be NULL.
 */
const struct spgw_table *spgw_table_parent(const struct spgw_table *t, size_t i,
					   const char *const **fields,
					   const char *const **parent_fields);
/*
 * An event log kept in a table (schema "sequence"): the records sharing the table's first
 * parent, ordered by `time`, carry codes in `field` that must follow `rule` (sequence.h).
 * Both are key fields, at positions field_pos and time_pos of spgw_table_key().
 */
struct spgw_sequence {
	const char *rule, *field, *time;
	size_t field_pos, time_pos;
};
/* NULL when the table keeps no event log. */
const struct spgw_sequence *spgw_table_sequence(const struct spgw_table *t);
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

/*
 * Parse a date or time and give its Beijing-time calendar date in `day` (may be NULL).
 * Returns SPGW_TIME_DATE for exactly "YYYY-MM-DD", SPGW_TIME_DATETIME for exactly
 * "YYYY-MM-DD HH:MM:SS" (Beijing time), SPGW_TIME_OTHER for ISO 8601 forms with 'T', a
 * fraction or a zone ("2026-11-03T16:00:00Z" is Beijing 2026-11-04), and SPGW_TIME_BAD when
 * it does not parse or names a day that does not exist (2026-02-30).
 */
enum spgw_time { SPGW_TIME_BAD = 0, SPGW_TIME_DATE, SPGW_TIME_DATETIME, SPGW_TIME_OTHER };
enum spgw_time spgw_schema_time(const char *s, char day[11]);

/* Write a readable description of one table (fields with Chinese names, types, lengths,
 * required, codes, formats, key, day rule, parents) to `out`. SPGW_E_NOTFOUND when no such
 * table (message lists the tables). */
enum spgw_rc spgw_schema_show(const struct spgw_schema *s, const char *table, FILE *out,
			      struct spgw_error *err);

/* Internal to validate.c: the raw definition of a field, a code table and a table. */
const json_t *spgw_field_def(const struct spgw_field *f);
const json_t *spgw_schema_codes(const struct spgw_schema *s, const char *code_table);
const json_t *spgw_table_def(const struct spgw_table *t);

/*
 * Compiled rules, for validate.c and the mapping engine: built once at load so that a record
 * is checked without reading JSON definitions again. Plain read-only data, like config.h's
 * structs: only the loader fills them; every pointer is borrowed and lives with the schema. The
 * meaning of each member is the file format, config/schema/README.md.
 */
struct spgw_codes; /* a code table: spgw_codes_find() */

enum spgw_check {          /* what a format checks ("check" in the file) */
	SPGW_CHECK_NONE = 0,   /* nothing beyond the list split and the code table */
	SPGW_CHECK_DIGITS,     /* exactly `digits` ASCII digits */
	SPGW_CHECK_PATTERN,    /* a POSIX extended regex: spgw_format_match() */
	SPGW_CHECK_XMDM,       /* spgw_validate_xmdm() */
	SPGW_CHECK_PREFIX,     /* the record's field `base`, then optionally "-" + suffix digits */
	SPGW_CHECK_USCC,       /* spgw_validate_uscc() */
	SPGW_CHECK_GBHY,       /* GB/T 4754: [A-T]?[0-9]{2,4}, division within the section */
	SPGW_CHECK_DATE,       /* spgw_validate_date() */
	SPGW_CHECK_DATETIME,   /* spgw_validate_datetime() */
};

struct spgw_format {
	const char *name;     /* "uscc" */
	const char *zh;       /* "统一社会信用代码" */
	const char *hint;     /* the expected shape, for messages; "" when none */
	const char *hint_zh;  /* the same in Chinese ("hint_zh"; `hint` when not given) */
	enum spgw_check check;
	char list;            /* item separator of a list value (',' for region_list), or 0 */
	int digits;           /* SPGW_CHECK_DIGITS */
	const char *base;     /* SPGW_CHECK_PREFIX: the field the value starts with */
	int suffix_min, suffix_max; /* SPGW_CHECK_PREFIX */
	int section_lo[26], section_hi[26]; /* SPGW_CHECK_GBHY: divisions of sections A-Z */
};

enum spgw_need { SPGW_NEED_OPTIONAL = 0, SPGW_NEED_REQUIRED = 1, SPGW_NEED_EMPTY = 2 };

struct spgw_field_rules {
	int max;                 /* str: code points; int: digits; 0: no limit */
	int precision, scale;    /* dec */
	int has_min;
	double min;              /* int and dec: smallest value allowed */
	int has_warn_above;
	double warn_above;       /* a warning (spgw_validate_warnings), never a refusal */
	int warn_outside_region; /* a list item outside the source's region is a warning */
	int source_region;       /* the value must equal the source's region */
	int count_date;          /* the table's count-date field: its problems have code "day" */
	const struct spgw_codes *codes;   /* NULL: no code table */
	const struct spgw_format *format; /* NULL: none (date types get "date"/"datetime") */
};

const struct spgw_field_rules *spgw_field_rules(const struct spgw_field *f);
/*
 * Whether `record` must carry the field, may, or must leave it empty. For a conditional
 * field (required "C") the condition is evaluated on `record`; *why_en and *why_zh (may be
 * NULL) then describe it, e.g. "SJYXBS is 0" / "数据有效标识（SJYXBS）为 0".
 */
enum spgw_need spgw_field_need(const struct spgw_field *f, const json_t *record,
			       const char **why_en, const char **why_zh);

const char *spgw_codes_name(const struct spgw_codes *c);
const char *spgw_codes_zh(const struct spgw_codes *c);
/* 1 when `code` is in the table (*label: its label, "" when unknown), 0 when not, -1 when it
 * is a retired code (*replaced_by: its successor, or NULL). `label`, `replaced_by` may be NULL. */
int spgw_codes_find(const struct spgw_codes *c, const char *code, const char **label,
		    const char **replaced_by);
/* SPGW_CHECK_PATTERN: nonzero when `s` matches. */
int spgw_format_match(const struct spgw_format *fm, const char *s);

/* A cross-field rule of a table: a's value compared with b's ("rules" in the file). */
enum spgw_cmp { SPGW_CMP_LT, SPGW_CMP_LE, SPGW_CMP_GT, SPGW_CMP_GE, SPGW_CMP_EQ, SPGW_CMP_NE };
struct spgw_rule {
	const struct spgw_field *a, *b;
	enum spgw_cmp cmp;
};
const struct spgw_rule *spgw_table_rules(const struct spgw_table *t, size_t *n);

#endif
