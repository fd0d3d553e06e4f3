/*
 * A list of problems, for commands that must say everything wrong at once (check-config)
 * instead of stopping at the first. Each entry is a full struct spgw_error.
 */
#ifndef SPGW_DIAG_H
#define SPGW_DIAG_H

#include <stddef.h>

#include "error.h"

struct spgw_diag {
	struct spgw_error *items; /* owned */
	size_t n, cap;
	size_t dropped; /* problems not kept because memory ran out */
};

void spgw_diag_init(struct spgw_diag *d);
/* Append a copy of `e`. Never fails visibly: if memory runs out, `dropped` counts it. */
void spgw_diag_add(struct spgw_diag *d, const struct spgw_error *e);
/* Append a new problem; returns `code` so callers can `return spgw_diag_addf(...)`. */
enum spgw_rc spgw_diag_addf(struct spgw_diag *d, enum spgw_rc code, const char *source,
			    int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void spgw_diag_free(struct spgw_diag *d);

#endif
