/*
 * Business keys and references of an outbox record (see outbox_refs.h).
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "canonical.h"
#include "outbox_refs.h"

/* Append one key value; 0 when it does not fit or the field is absent. */
static int add_value(char *out, size_t *len, const json_t *v)
{
	char num[64];
	const char *s;
	size_t n;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = num;
		n = strlen(num);
	} else if (json_is_real(v)) {
		/* versions (SPLCBBH 1.0) are decimals: written as the canonical form writes them
		 * (1.0 -> "1"), so a reference by 1.0 meets a parent keyed by 1 */
		struct spgw_buf b;
		struct spgw_error e = { 0 };

		spgw_buf_init(&b, sizeof(num), "key number");
		if (spgw_canonical(v, &b, &e) != SPGW_OK || b.len >= sizeof(num)) {
			spgw_buf_free(&b);
			return 0;
		}
		memcpy(num, b.data, b.len);
		num[b.len] = '\0';
		n = b.len;
		s = num;
		spgw_buf_free(&b);
	} else {
		return 0; /* keys are strings or numbers in every SPGL table */
	}
	if (memchr(s, '\x1f', n) || *len + n + 2 > SPGW_REFS_KEY_MAX)
		return 0;
	if (*len)
		out[(*len)++] = '\x1f';
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 1;
}

/* The values of `fields` in `record`, joined; "" when any is missing. */
static void key_of(const json_t *record, const char *const *fields, char out[SPGW_REFS_KEY_MAX])
{
	size_t len = 0, i;

	out[0] = '\0';
	for (i = 0; fields && fields[i]; i++)
		if (!add_value(out, &len, json_object_get(record, fields[i]))) {
			out[0] = '\0';
			return;
		}
}

/* Whether `a` lists the same field names as `b`, in order. */
static int same_fields(const char *const *a, const char *const *b)
{
	size_t i;

	for (i = 0; a && b && a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return a && b && !a[i] && !b[i];
}

void spgw_outbox_refs(const struct spgw_table *t, const json_t *record,
		      struct spgw_outbox_refs *out)
{
	const struct spgw_table *from = NULL, *parent;
	const char *const *via = NULL, *const *fields = NULL, *const *pfields = NULL;
	char day[11];

	memset(out, 0, sizeof(*out));
	key_of(record, spgw_table_key(t), out->bkey);
	switch (spgw_schema_day(t, record, day, &from, &via)) {
	case SPGW_DAY_INHERIT:
		out->day_rule = "inherit";
		break;
	case SPGW_DAY_EARLIEST_CHILD:
		out->day_rule = "earliest_child";
		break;
	default:
		break;
	}
	if (out->day_rule && from) {
		out->day_table = spgw_table_name(from);
		key_of(record, via, out->day_ref);
		if (!out->day_ref[0])
			out->day_rule = out->day_table = NULL;
	}
	/* Only a reference by the parent's own key can be matched to the parent's bkey. */
	parent = spgw_table_parent(t, 0, &fields, &pfields);
	if (parent && same_fields(pfields, spgw_table_key(parent))) {
		key_of(record, fields, out->parent_ref);
		if (out->parent_ref[0])
			out->parent_table = spgw_table_name(parent);
	}
}
