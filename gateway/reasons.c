/* The list of reasons a record is refused (see reasons.h). */
#include "reasons.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spgw_limits.h"
#include "mem.h"

void spgw_reasons_init(struct spgw_reasons *r)
{
	memset(r, 0, sizeof(*r));
}

void spgw_reasons_clear(struct spgw_reasons *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		spgw_free(r->items[i].en);
		spgw_free(r->items[i].zh);
	}
	r->n = 0;
	r->truncated = 0;
}

void spgw_reasons_free(struct spgw_reasons *r)
{
	spgw_reasons_clear(r);
	spgw_free(r->items);
	memset(r, 0, sizeof(*r));
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *s;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	s = spgw_malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static enum spgw_rc add_owned(struct spgw_reasons *r, const char *field, const char *code,
			      char *en, char *zh)
{
	struct spgw_reason *it;

	if (!en || !zh)
		goto nomem;
	if (r->n >= SPGW_MAX_REASONS) {
		r->truncated++;
		spgw_free(en);
		spgw_free(zh);
		return SPGW_OK;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct spgw_reason *p = spgw_realloc(r->items, cap * sizeof(*p));

		if (!p)
			goto nomem;
		r->items = p;
		r->cap = cap;
	}
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->field, sizeof(it->field), "%s", field ? field : "");
	snprintf(it->code, sizeof(it->code), "%s", code ? code : "");
	it->en = en;
	it->zh = zh;
	return SPGW_OK;
nomem:
	spgw_free(en);
	spgw_free(zh);
	return SPGW_E_NOMEM;
}

enum spgw_rc spgw_reasons_add(struct spgw_reasons *r, const char *field, const char *code,
			      const char *en_fmt, const char *zh_fmt, ...)
{
	va_list ap;
	char *en, *zh;

	va_start(ap, zh_fmt);
	en = vformat(en_fmt, ap);
	va_end(ap);
	va_start(ap, zh_fmt);
	zh = vformat(zh_fmt, ap);
	va_end(ap);
	return add_owned(r, field, code, en, zh);
}

enum spgw_rc spgw_reasons_merge(struct spgw_reasons *dst, const struct spgw_reasons *src)
{
	size_t i;
	enum spgw_rc rc;

	for (i = 0; i < src->n; i++) {
		const struct spgw_reason *s = &src->items[i];

		rc = add_owned(dst, s->field, s->code, spgw_strdup(s->en), spgw_strdup(s->zh));
		if (rc)
			return rc;
	}
	dst->truncated += src->truncated;
	return SPGW_OK;
}

json_t *spgw_reasons_to_json(const struct spgw_reasons *r)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < r->n; i++) {
		const struct spgw_reason *it = &r->items[i];
		json_t *o = json_pack("{s:o,s:s,s:s,s:s}", "field",
				      it->field[0] ? json_string(it->field) : json_null(), "code",
				      it->code, "message", it->en, "message_zh", it->zh);

		if (!o || json_array_append_new(arr, o))
			goto fail;
	}
	if (r->truncated) {
		char en[128], zh[128];
		json_t *o;

		snprintf(en, sizeof(en), "%zu more reasons not listed", r->truncated);
		snprintf(zh, sizeof(zh), "另有 %zu 条原因未列出", r->truncated);
		o = json_pack("{s:n,s:s,s:s,s:s}", "field", "code", "truncated", "message", en,
			      "message_zh", zh);
		if (!o || json_array_append_new(arr, o))
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}
