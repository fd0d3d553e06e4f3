/*
 * Where things are in a JSON text. jansson gives a line and column only for syntax errors;
 * a configuration or mapping message about a well-formed file ("unknown key", "expected a
 * string") needs the position of the member it is about. spgw_jsonpos_new() scans the text
 * once and records, for every object member and array element, its JSON pointer (RFC 6901:
 * "/settings/dir", "/sources/0", "/a~1b" for the key "a/b", "/a~0b" for "a~b") with two
 * positions:
 *
 *   line, column              the key's opening quote (a member) or the value (an element)
 *   value_line, value_column  the value's first character
 *
 * The root has the pointer "" and both positions at its first character.
 *
 * Lines and columns start at 1 and are counted as jansson counts them in json_error_t, so
 * a syntax error and a later "unknown key" point the same way: a line ends at "\n" (a "\r"
 * before it is the last character of its line), and a column counts Unicode code points, not
 * bytes (a Chinese character is one column, as in an editor). Byte offsets are given too.
 *
 * A key that occurs twice in one object keeps its first position; the second occurrence is
 * reported by spgw_jsonpos_duplicate() (jansson's JSON_REJECT_DUPLICATES says only "near").
 */
#ifndef SPGW_JSONPOS_H
#define SPGW_JSONPOS_H

#include <stddef.h>

#include "error.h"

struct spgw_jsonpos;

struct spgw_jsonpos_at {
	int line, column;             /* a member's key, or an element's value */
	int value_line, value_column; /* the value */
	size_t offset, value_offset;  /* the same two places as byte offsets into the text */
};

/*
 * Scan `len` bytes of JSON text (a NUL is not needed). On success *out is a new index,
 * released with spgw_jsonpos_free(); it does not keep `text`. SPGW_E_SYNTAX at line:column
 * when the text is not JSON (or has more than SPGW_MAX_JSON_DEPTH arrays and objects one in
 * another), SPGW_E_NOMEM. The grammar is checked, not the UTF-8: check that first (as
 * jansson does) or the columns count garbage. `source` (may be NULL) names the text in `err`.
 */
enum spgw_rc spgw_jsonpos_new(const char *text, size_t len, const char *source,
			      struct spgw_jsonpos **out, struct spgw_error *err);
void spgw_jsonpos_free(struct spgw_jsonpos *pos);

/* The place named by a JSON pointer ("" is the root); NULL when there is none. Borrowed:
 * valid until spgw_jsonpos_free(). */
const struct spgw_jsonpos_at *spgw_jsonpos_find(const struct spgw_jsonpos *pos,
						const char *pointer);

/* The member `key` (plain, not pointer-escaped) of the object at `parent`, or the element of
 * the array at `parent` whose index `key` spells in decimal; NULL when there is none. */
const struct spgw_jsonpos_at *spgw_jsonpos_child(const struct spgw_jsonpos *pos,
						 const struct spgw_jsonpos_at *parent,
						 const char *key);

/* The first key seen twice in one object, at its second occurrence, with the first one in
 * *first; NULL when every object's keys are distinct. */
const struct spgw_jsonpos_at *spgw_jsonpos_duplicate(const struct spgw_jsonpos *pos,
						     const struct spgw_jsonpos_at **first,
						     const char **key);

#endif
