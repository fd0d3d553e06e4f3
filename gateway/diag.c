/* A list of problems (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <string.h>

#include "mem.h"

void spgw_diag_init(struct spgw_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void spgw_diag_add(struct spgw_diag *d, const struct spgw_error *e)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct spgw_error *p = spgw_realloc(d->items, cap * sizeof(*p));

		if (!p) {
			d->dropped++;
			return;
		}
		d->items = p;
		d->cap = cap;
	}
	d->items[d->n++] = *e;
}

enum spgw_rc spgw_diag_addf(struct spgw_diag *d, enum spgw_rc code, const char *source,
			    int line, int column, const char *fmt, ...)
{
	struct spgw_error e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	va_start(ap, fmt);
	spgw_error_vset(&e, code, source, line, column, fmt, ap);
	va_end(ap);
	spgw_diag_add(d, &e);
	return code;
}

void spgw_diag_free(struct spgw_diag *d)
{
	spgw_free(d->items);
	memset(d, 0, sizeof(*d));
}
