/*
 * The cursor: for each table, the (upd_time, row_id) of the last row committed, e.g.
 *
 *   {"v":1,"area":"220200","t_project":["2026-03-01 10:00:00.123",1042],"t_step":[...]}
 *
 * upd_time is kept as the text the server wrote (ISO, Beijing time) and handed back to it as
 * a parameter, so the position is exact to the millisecond with no conversion in between.
 * Many rows share one upd_time, which is why row_id is part of every position: a page that
 * ends inside such a run resumes at the next row_id, and none is read twice or skipped.
 * Eight tables stay far under plugin.h's 4096 bytes.
 *
 * pull_range()'s cursor names its days as well, "range":["2026-02-01","2026-02-28"], and is
 * accepted only for that range: a cursor of another range, or of pull(), would skip rows.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provincial_int.h"

const char *prov_pos_text(const struct prov_pos *p, char *out, size_t len)
{
	if (!p->set)
		snprintf(out, len, "from its first row");
	else
		snprintf(out, len, "after (%s, %lld)", p->upd_time, p->row_id);
	return out;
}

/* A timestamp as PostgreSQL writes one in ISO style: digits, '-', ':', '.', ' ', '+', and the
 * words infinity / BC. Anything else did not come from us. */
int prov_time_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > PROV_MAX_TIME)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789-:. +BCinfty", s[i]))
			return 0;
	return 1;
}

int prov_cursor_parse(struct prov_source *src, const char *text, char *why, size_t whylen)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je), *v, *t, *r;
	const char *key, *f, *l;
	int rc = -1, k, ranged = 0;

	memset(src->pos, 0, sizeof(src->pos));
	if (!json_is_object(o)) {
		snprintf(why, whylen, "it is not a JSON object");
		goto out;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(why, whylen, "its version is not 1");
		goto out;
	}
	v = json_object_get(o, "area");
	if (!json_is_string(v) || strcmp(json_string_value(v), src->s.area)) {
		snprintf(why, whylen, "it was written for area_code %.16s, not %s",
			 json_is_string(v) ? json_string_value(v) : "(none)", src->s.area);
		goto out;
	}
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "v") || !strcmp(key, "area"))
			continue;
		if (!strcmp(key, "range")) {
			f = json_string_value(json_array_get(v, 0));
			l = json_string_value(json_array_get(v, 1));
			if (!src->range_from[0]) {
				snprintf(why, whylen, "it is a backfill's (of a date range), not "
					 "the regular pull's");
				goto out;
			}
			if (json_array_size(v) != 2 || !f || !l || strcmp(f, src->range_from) ||
			    strcmp(l, src->range_to)) {
				snprintf(why, whylen, "it was written for another range "
					 "than %s..%s", src->range_from, src->range_to);
				goto out;
			}
			ranged = 1;
			continue;
		}
		k = prov_table_index(key);
		if (k < 0) {
			snprintf(why, whylen, "it names \"%.64s\", which is not a table of the "
				 "platform", key);
			goto out;
		}
		t = json_array_get(v, 0);
		r = json_array_get(v, 1);
		if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(t) ||
		    !prov_time_ok(json_string_value(t)) || !json_is_integer(r)) {
			snprintf(why, whylen, "its position of %s is not [\"upd_time\", row_id]",
				 key);
			goto out;
		}
		src->pos[k].set = 1;
		strcpy(src->pos[k].upd_time, json_string_value(t));
		src->pos[k].row_id = (long long)json_integer_value(r);
	}
	if (src->range_from[0] && !ranged) {
		snprintf(why, whylen, "it is not a cursor of the range %s..%s", src->range_from,
			 src->range_to);
		goto out;
	}
	rc = 0;
out:
	if (rc)
		memset(src->pos, 0, sizeof(src->pos));
	json_decref(o);
	return rc;
}

int prov_cursor_format(struct prov_source *src)
{
	char part[PROV_MAX_TIME + 64];
	struct pbuf *b = &src->cursor;
	int k;

	b->len = 0;
	snprintf(part, sizeof(part), "{\"v\":1,\"area\":\"%s\"", src->s.area);
	if (prov_buf_str(b, part, 4096))
		return -1;
	if (src->range_from[0]) {
		snprintf(part, sizeof(part), ",\"range\":[\"%s\",\"%s\"]", src->range_from,
			 src->range_to);
		if (prov_buf_str(b, part, 4096))
			return -1;
	}
	/* every table's position, read in this pull or not (a table taken out of "tables" and
	 * put back later goes on where it stopped) */
	for (k = 0; k < PROV_NTABLES; k++) {
		if (!src->pos[k].set)
			continue;
		/* prov_time_ok() characters need no JSON escaping */
		snprintf(part, sizeof(part), ",\"%s\":[\"%s\",%lld]", prov_tables[k].name,
			 src->pos[k].upd_time, src->pos[k].row_id);
		if (prov_buf_str(b, part, 4096))
			return -1;
	}
	return prov_buf_str(b, "}", 4096) ? -1 : 0;
}
