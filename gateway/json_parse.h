/*
 * A fast, strict JSON parser for what plugins emit, building jansson values.
 *
 * Why not json_loadb: jansson lexes through a character stream, validating and appending one
 * byte at a time; on the ~1.5 KB mostly-Chinese records of real cases that was a third of
 * the whole ingest path. This parser scans strings in bulk and hands jansson finished,
 * already-validated strings. It accepts exactly RFC 8259 JSON, like json_loadb with
 * JSON_REJECT_DUPLICATES: UTF-8 only (no overlong forms, no surrogates), no \u0000, no
 * duplicate member names, integers that fit json_int_t, finite reals, and at most
 * SPGW_MAX_JSON_DEPTH levels of nesting (deep nesting is an attack, not data).
 */
#ifndef SPGW_JSON_PARSE_H
#define SPGW_JSON_PARSE_H

#include <jansson.h>
#include <stddef.h>

/* Why a parse failed: text (English) and the byte offset where it was noticed. */
struct spgw_json_error {
	char text[160];
	size_t position;
};

/*
 * Parse `len` bytes holding one JSON value (white space around it allowed). Returns a new
 * reference, or NULL with `err` filled (also on out-of-memory, said as such).
 */
json_t *spgw_json_parse(const char *text, size_t len, struct spgw_json_error *err);

#endif
