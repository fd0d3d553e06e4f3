/*
 * Internal to the schema module: the compiled schema, shared by schema_load.c (reading,
 * checking and compiling the file) and schema.c (the accessors, day rules and `show`).
 * Names, labels and notes point into the parsed file, which the schema keeps.
 */
#ifndef SPGW_SCHEMA_INT_H
#define SPGW_SCHEMA_INT_H

#include <regex.h>

#include "diag.h"
#include "schema.h"

struct code_entry {
	const char *code, *label, *replaced_by;
	int retired;
};

struct spgw_codes {
	const char *name, *zh;
	struct code_entry *e; /* owned, sorted by code */
	size_t n;
	int has_range;
	json_int_t lo, hi;
};

struct format_impl {
	struct spgw_format pub; /* first member: spgw_format_match() casts back */
	regex_t re;
	int has_re;
};

struct spgw_field {
	const char *name, *zh;
	const json_t *def;
	enum spgw_ftype type;
	char req; /* 'Y', 'N' or 'C' */
	int not_sent, otherwise_empty;
	const char *cond_field, *cond_ne; /* "when": field, and "ne_field" or... */
	const json_t *cond_in;            /* ...the "in" array */
	char *why_en, *why_zh;            /* owned: the condition in words */
	struct spgw_field_rules rules;
};

struct parent {
	const struct spgw_table *table;
	const char **fields;  /* owned array, NULL-terminated: this table's fields */
	const char **pfields; /* owned array, NULL-terminated: the parent's fields they match */
};

enum day_kind { DAY_FIELD, DAY_INHERIT, DAY_CHILD };

struct spgw_table {
	const char *name, *zh;
	const json_t *def;
	int level;
	size_t index;
	const char **key; /* owned array, NULL-terminated */
	struct spgw_field *fields; /* owned, file order */
	size_t nfields;
	struct spgw_field **by_name; /* owned, sorted */
	struct parent *parents;      /* owned */
	size_t nparents;
	enum day_kind day;
	const struct spgw_field *day_field;
	const struct spgw_table *day_table;
	const char **day_via; /* owned array, NULL-terminated */
	struct spgw_rule *rules; /* owned */
	size_t nrules;
	struct spgw_sequence seq; /* valid when has_seq */
	int has_seq;
};

struct spgw_schema {
	json_t *root;
	char *path;
	const char *id;
	struct spgw_table *tables; /* file order */
	size_t ntables;
	struct spgw_table **order;   /* upload order */
	struct spgw_table **by_name; /* sorted */
	struct spgw_codes *codes;    /* sorted by name */
	size_t ncodes;
	struct format_impl *formats; /* sorted by name */
	size_t nformats;
};

/* "str", "int", "dec", "date", "datetime": the names the file uses for enum spgw_ftype. */
const char *spgw_schema_type_name(enum spgw_ftype t);

/* qsort() order of arrays of pointers to fields or tables: by name. */
int spgw_schema_cmp_named(const void *a, const void *b);

/* ---- loading: schema_load.c reads the file, schema_table.c its tables ---- */

struct spgw_jsonpos;

struct spgw_schema_loader {
	struct spgw_schema *s;    /* being built */
	struct spgw_diag *diag;   /* every problem */
	struct spgw_jsonpos *pos; /* positions in the file; NULL if memory ran short */
	enum spgw_rc rc;          /* the first problem's code */
};

/*
 * Add a problem at `path` ("tables.SPGL_XMJBXXB.fields.GCFW.when": array elements named by
 * their "name"), at its member `key` when given: the message gives file:line:column when
 * the place is found, and the path always.
 */
void spgw_schema_problem(struct spgw_schema_loader *ld, enum spgw_rc code, const char *path,
			 const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void spgw_schema_nomem(struct spgw_schema_loader *ld, const char *path);
/* Every key of `obj` must be in `allowed` (NULL-terminated); a typo gets a suggestion. */
void spgw_schema_check_keys(struct spgw_schema_loader *ld, const json_t *obj, const char *path,
			    const char *const *allowed);
/* Members of a definition: NULL / 0 when absent (a problem when required) or wrong (a
 * problem); borrowed strings. */
const char *spgw_schema_get_str(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
				const char *path, int required);
int spgw_schema_get_int(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			const char *path, int required, json_int_t lo, json_int_t hi,
			json_int_t *out);
int spgw_schema_get_pair(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			 const char *path, json_int_t lo, json_int_t hi, json_int_t pair[2]);
int spgw_schema_get_number(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			   const char *path, double *out);
int spgw_schema_get_bool(struct spgw_schema_loader *ld, const json_t *obj, const char *key,
			 const char *path);
const struct spgw_codes *spgw_schema_find_codes(const struct spgw_schema *s, const char *name);
const struct spgw_format *spgw_schema_find_format(const struct spgw_schema *s, const char *name);

/* The passes over the tables, in this order: each table alone (fields, conditions, key);
 * then its parents and rules (all tables known); then its day rule and parent cycles. */
void spgw_schema_load_table(struct spgw_schema_loader *ld, size_t idx, const json_t *o,
			    struct spgw_table *t);
void spgw_schema_link_table(struct spgw_schema_loader *ld, struct spgw_table *t);
void spgw_schema_link_day(struct spgw_schema_loader *ld, struct spgw_table *t);

#endif
