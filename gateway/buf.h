/*
 * A growable byte buffer born with a ceiling (after curl's dynbuf). Whatever outside input can
 * grow gets a limit from limits.h at birth; reaching it is an error naming the limit, never a
 * silent truncation. The content is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef SPGW_BUF_H
#define SPGW_BUF_H

#include <stddef.h>
#include <string.h>

#include "error.h"

struct spgw_buf {
	char *data;    /* owned; NULL until the first append */
	size_t len;    /* bytes used, without the terminating NUL */
	size_t cap;    /* bytes allocated */
	size_t max;    /* the ceiling: len may never exceed it */
	const char *what; /* what the buffer holds, for the error message ("plugin frame") */
};

/* Start an empty buffer that may hold at most `max` bytes. Allocates nothing. */
void spgw_buf_init(struct spgw_buf *b, size_t max, const char *what);
/* Append bytes; SPGW_E_LIMIT (message names `what` and the limit) or SPGW_E_NOMEM. */
enum spgw_rc spgw_buf_add(struct spgw_buf *b, const void *p, size_t n, struct spgw_error *err);
enum spgw_rc spgw_buf_addstr(struct spgw_buf *b, const char *s, struct spgw_error *err);
enum spgw_rc spgw_buf_addc(struct spgw_buf *b, char c, struct spgw_error *err);
enum spgw_rc spgw_buf_printf(struct spgw_buf *b, struct spgw_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* spgw_buf_add without a function call while the allocation has room: for the paths that
 * append a few bytes per value (the canonical writer). Same results as spgw_buf_add. */
static inline enum spgw_rc spgw_buf_put(struct spgw_buf *b, const void *p, size_t n,
					struct spgw_error *err)
{
	if (n < b->cap - b->len && n <= b->max - b->len) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return SPGW_OK;
	}
	return spgw_buf_add(b, p, n, err);
}
/* Make room for `n` more bytes without changing len. */
enum spgw_rc spgw_buf_reserve(struct spgw_buf *b, size_t n, struct spgw_error *err);
/* Forget the content, keep the allocation. */
void spgw_buf_reset(struct spgw_buf *b);
/* Hand the content to the caller (release with spgw_free); the buffer is left empty. */
char *spgw_buf_take(struct spgw_buf *b);
/* Release the content; the buffer may be reused (it keeps its ceiling). */
void spgw_buf_free(struct spgw_buf *b);

#endif
