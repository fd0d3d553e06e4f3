/*
 * Why a record cannot go to the national platform: every reason found by mapping and
 * validation, each with the SPGL field, a PROTOCOL.md §4 error code (required, type, length,
 * code, format, checkdigit, reference, sequence, day, canonical, or "mapping" for a mapping
 * rule that could not be applied) and a message in English and in Chinese, because provincial
 * staff and city IT teams read them. At most SPGW_MAX_REASONS are kept; `truncated` says so.
 */
#ifndef SPGW_REASONS_H
#define SPGW_REASONS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

struct spgw_reason {
	char field[48]; /* SPGL field (or source field for mapping reasons); "" for the record */
	char code[16];  /* see above */
	char *en;       /* owned: "XMDM \"2026-2201\" does not match the 项目代码 format ..." */
	char *zh;       /* owned: "项目代码（XMDM）格式错误：..." */
};

struct spgw_reasons {
	struct spgw_reason *items; /* owned */
	size_t n, cap;
	size_t truncated; /* reasons found beyond SPGW_MAX_REASONS */
};

void spgw_reasons_init(struct spgw_reasons *r);
/* Forget every reason, keep the allocation. */
void spgw_reasons_clear(struct spgw_reasons *r);
void spgw_reasons_free(struct spgw_reasons *r);

/*
 * Add a reason. `field` may be NULL (the whole record). `zh_fmt` takes the same arguments as
 * `en_fmt`, in the same order (so both can name the value). Returns SPGW_OK or SPGW_E_NOMEM.
 */
enum spgw_rc spgw_reasons_add(struct spgw_reasons *r, const char *field, const char *code,
			      const char *en_fmt, const char *zh_fmt, ...);

/* Append every reason of `src` to `dst`. */
enum spgw_rc spgw_reasons_merge(struct spgw_reasons *dst, const struct spgw_reasons *src);

/*
 * The reasons as a JSON array (new reference, NULL on NOMEM):
 *   [ { "field": "XMDM" | null, "code": "format", "message": "...", "message_zh": "..." } ]
 * plus a last { "field": null, "code": "truncated", ... } entry when reasons were dropped.
 */
json_t *spgw_reasons_to_json(const struct spgw_reasons *r);

#endif
