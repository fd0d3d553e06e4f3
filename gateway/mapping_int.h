/*
 * Private to mapping.c (apply), mapping_load.c and mapping_rule.c (load and compile): a
 * mapping file compiled into plain structs so that applying it parses no rule and compares no
 * rule name. Nothing outside those three files includes this header.
 */
#ifndef SPGW_MAPPING_INT_H
#define SPGW_MAPPING_INT_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "jsonpos.h"
#include "mapping.h"
#include "schema.h"
#include "text.h"

/* Where a value comes from. */
enum mapping_src {
	MAP_SRC_FROM,   /* a source field (path) */
	MAP_SRC_CONST,  /* a constant from the file */
	MAP_SRC_CONCAT, /* parts joined */
	MAP_SRC_REGION, /* $region */
	MAP_SRC_SOURCE, /* $source */
};

/* A dotted path: "a.b.0" from the source record, "@.a" from the element of "each". */
struct mapping_path {
	int elem;    /* nonzero: starts at the element of "each" ("@") */
	size_t n;    /* segments; 0 with elem = the element itself */
	char **seg;  /* owned, each NUL-terminated */
	long *index; /* per segment: the array index it names, or -1 */
	const char *text; /* the path as written (borrowed from the file's JSON) */
};

/* Text clean-up steps: bits, applied in this (documented) order whatever the list's order.
 * They are text.h's bits, so spgw_text_may_change() takes a rule's set as it is. */
enum {
	MAP_TX_STRIP_CONTROL = SPGW_TEXT_STRIP_CONTROL,
	MAP_TX_HALFWIDTH = SPGW_TEXT_HALFWIDTH,
	MAP_TX_COLLAPSE = SPGW_TEXT_COLLAPSE,
	MAP_TX_TRIM = SPGW_TEXT_TRIM,
	MAP_TX_UPPER = SPGW_TEXT_UPPER,
	MAP_TX_LOWER = SPGW_TEXT_LOWER,
};

enum mapping_unmapped { MAP_UNMAPPED_REJECT, MAP_UNMAPPED_KEEP, MAP_UNMAPPED_DEFAULT };

enum mapping_date { MAP_DATE_NONE, MAP_DATE_DATE, MAP_DATE_DATETIME };

struct mapping_rule {
	enum mapping_src src;
	struct mapping_path *from; /* MAP_SRC_FROM: owned; the first with a value wins */
	size_t nfrom;
	const json_t *value;       /* MAP_SRC_CONST (borrowed from the file's JSON) */
	struct mapping_rule *parts; /* MAP_SRC_CONCAT, owned */
	size_t nparts;

	int decode;       /* "decode": "gbk-bytes" */
	unsigned text;    /* MAP_TX_* bits */
	const json_t *codes; /* code table (borrowed), NULL when none */
	const char *codes_name;
	enum mapping_unmapped unmapped;
	const json_t *unmapped_value; /* MAP_UNMAPPED_DEFAULT (borrowed) */
	enum mapping_date date;
	int date_input;     /* enum spgw_text_date_input */
	unsigned date_flags; /* SPGW_TEXT_PARTIAL */
	int number;
	double scale; /* 1 when not given */
	int shift;    /* scale is 10^shift (shift_ok): scaled exactly, in decimal */
	int shift_ok;
	int round;    /* decimals, -1 when not given */
	int want_int;
	const json_t *dflt; /* "default" (borrowed), NULL when none */
	int omit_empty;

	enum spgw_ftype type; /* the target's type, for the final conversion */
	int to_string;        /* key rules: the result is always text */
	const char *field;    /* SPGL field (or "DFSJZJ" for the key) for reasons */
	const char *field_zh;
	char *where;  /* owned: "tables.projects.emit[0].fields.XMDM" */
	char *src_en; /* owned: "source field \"xmdm\"" */
	char *src_zh; /* owned: "源字段“xmdm”" */
};

enum mapping_op { MAP_OP_EQUALS, MAP_OP_NOT_EQUALS, MAP_OP_IN, MAP_OP_NOT_IN, MAP_OP_PRESENT };

struct mapping_cond {
	struct mapping_rule value;
	enum mapping_op op;
	int present;      /* MAP_OP_PRESENT: wanted presence */
	char **operands;  /* owned: the operand(s) as text, compared with the value's text */
	size_t *oplen;
	size_t nops;
};

struct mapping_field {
	const char *name; /* borrowed from the schema */
	struct mapping_rule rule;
};

/* Members of an output record beyond its fields: their values' slots are nfields plus one of
 * these. */
enum { MAP_MEMBER_KEY, MAP_MEMBER_REGION, MAP_MEMBER_VALID, MAP_MEMBER_EXTRA };

/* A member an output record may have. An emit lists them by name in byte order, the
 * canonical form's, so that records are built in that order and their canonical form needs
 * no sorting. */
struct mapping_member {
	size_t slot;      /* the field's index, or nfields + MAP_MEMBER_* */
	const char *name; /* borrowed from the schema, or static */
};

struct mapping_emit {
	const char *table; /* borrowed from the schema */
	struct mapping_rule key;
	int has_key;
	struct mapping_path each;
	int has_each;
	struct mapping_cond *when;
	size_t nwhen;
	struct mapping_field *fields; /* owned */
	size_t nfields;
	int key_field;   /* index of fields.DFSJZJ when the key comes from there, else -1 */
	int auto_region; /* write XZQHDM = $region */
	int auto_valid;  /* write SJYXBS = 1 */
	char *where;     /* owned: "tables.projects.emit[0]" */
	struct mapping_member *members; /* owned: see mapping_member */
	size_t nmembers;
};

struct mapping_source {
	const char *name; /* borrowed from the file's JSON */
	struct mapping_emit *emits; /* owned */
	size_t nemits;
};

struct spgw_mapping {
	char *path;   /* owned */
	json_t *root; /* the file's JSON: owns every borrowed string and value above */
	const struct spgw_schema *schema;
	struct mapping_source *sources; /* owned, sorted by name for bsearch */
	size_t nsources;
};

/* Release what a compiled rule owns (not the rule itself). */
void spgw_mapping_rule_clear(struct mapping_rule *r);

/* --- loading: mapping_load.c (the file, tables, emits), mapping_rule.c (value rules) --- */

/* Room for a rule path such as "tables.projects.emit[12].fields.JSGMJNR.concat[3]". */
#define MAPPING_WHERE_MAX 512

struct mapping_load {
	struct spgw_mapping *m;
	struct spgw_diag *diag;
	struct spgw_jsonpos *pos; /* where each rule is in the file; NULL: unknown */
	enum spgw_rc first;       /* the first problem's code */
	unsigned text_default;    /* top-level "text": clean-up for rules without their own */
	const json_t *code_tables;
};

/* What a rule is compiled for. */
struct mapping_rule_ctx {
	int allow_elem;                  /* the emit has "each": "@" paths are allowed */
	const struct spgw_field *target; /* NULL for key and condition rules */
	int is_part;                     /* a part of "concat" */
	int is_cond;                     /* a "when" condition: operator keys allowed */
};

/* A problem of rule `where` ("tables.p.emit[0].fields.XMDM"), with the file's line:column. */
void spgw_mapping_problem(struct mapping_load *ld, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void spgw_mapping_nomem(struct mapping_load *ld, const char *what);
/* Build a rule path into w[MAPPING_WHERE_MAX]; a long one is cut (only a message shortens). */
const char *spgw_mapping_where(char *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every key of `obj` must be in `known` or `more` (NULL-terminated lists; `more` may be
 * NULL); keys starting with '_' are comments. Returns nonzero when all are known. */
int spgw_mapping_check_keys(struct mapping_load *ld, const json_t *obj, const char *where,
			    const char *const *known, const char *const *more);

/* "did you mean": try each candidate, then ask for the hint (or ""). */
struct mapping_suggest {
	const char *key;
	const char *best;
	size_t bestd;
};
void spgw_mapping_suggest_try(struct mapping_suggest *s, const char *cand);
const char *spgw_mapping_suggest_text(const struct mapping_suggest *s, char *buf, size_t size);

/* mapping_rule.c: compile a value rule, a condition, a path, a "text" list. Problems go to
 * ld; what was compiled before a problem is released by spgw_mapping_rule_clear(). */
void spgw_mapping_compile_rule(struct mapping_load *ld, const json_t *j, const char *where,
			       const struct mapping_rule_ctx *rc, struct mapping_rule *r);
void spgw_mapping_compile_cond(struct mapping_load *ld, const json_t *j, const char *where,
			       int allow_elem, struct mapping_cond *c);
void spgw_mapping_compile_path(struct mapping_load *ld, const char *text, const char *where,
			       int allow_elem, struct mapping_path *p);
void spgw_mapping_text_ops(struct mapping_load *ld, const json_t *v, const char *where,
			   unsigned *out);

#endif
