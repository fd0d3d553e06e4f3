/* Growable buffer with a ceiling (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

void spgw_buf_init(struct spgw_buf *b, size_t max, const char *what)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->what = what ? what : "buffer";
}

enum spgw_rc spgw_buf_reserve(struct spgw_buf *b, size_t n, struct spgw_error *err)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return spgw_error_set(err, SPGW_E_LIMIT, NULL, 0, 0,
				      "%s exceeds its limit of %zu bytes", b->what, b->max);
	need = b->len + n + 1;
	if (need <= b->cap)
		return SPGW_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = spgw_realloc(b->data, cap);
	if (!p)
		return spgw_error_nomem(err, b->what);
	b->data = p;
	b->cap = cap;
	return SPGW_OK;
}

enum spgw_rc spgw_buf_add(struct spgw_buf *b, const void *p, size_t n, struct spgw_error *err)
{
	enum spgw_rc rc = spgw_buf_reserve(b, n, err);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SPGW_OK;
}

enum spgw_rc spgw_buf_addstr(struct spgw_buf *b, const char *s, struct spgw_error *err)
{
	return spgw_buf_add(b, s, strlen(s), err);
}

enum spgw_rc spgw_buf_addc(struct spgw_buf *b, char c, struct spgw_error *err)
{
	if (b->len + 1 < b->cap && b->len < b->max) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return SPGW_OK;
	}
	return spgw_buf_add(b, &c, 1, err);
}

enum spgw_rc spgw_buf_printf(struct spgw_buf *b, struct spgw_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum spgw_rc rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "cannot format %s", b->what);
	rc = spgw_buf_reserve(b, (size_t)n, err);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return SPGW_OK;
}

void spgw_buf_reset(struct spgw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *spgw_buf_take(struct spgw_buf *b)
{
	char *p = b->data;

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void spgw_buf_free(struct spgw_buf *b)
{
	spgw_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
