/*
 * pull(): each configured entity in parent-before-child order, page after page from where the
 * cursor stands, a commit every few thousand records and after the last page.
 *
 * The cursor holds (update_time, id) per entity, never the time alone: many records share one
 * update_time (a whole second; a batch import writes thousands in it), and a page boundary
 * falls among them. With the time alone the next page would either repeat them or, asked for
 * "after" that second, lose the rest. The API orders by (update_time, id) and answers what
 * comes after the pair, so nothing is read twice and nothing is skipped.
 *
 * {"v":1,"projects":{"t":"2026-11-01 08:00:00","id":"CCP00000003"},"units":{...},...}
 *
 * A page is checked before any of it is emitted: its records must come after the cursor and
 * in strictly increasing order. A server that repeats a page or goes back would otherwise keep
 * a pull busy forever (or feed it old versions): the pull stops with RETRY, keeping what was
 * committed, and says so.
 *
 * pull_range() is the same walk inside a window of days: every page asks for
 * updated_from=F&updated_to=T as well, so the API answers only records whose update_time falls
 * on those days, still in (update_time, id) order from where the cursor stands. Its cursor
 * names the range, {"v":1,"range":["2026-02-01","2026-02-28"],"projects":{...},...}, so a
 * cursor of another range (or of pull()) is refused instead of silently skipping records. A
 * record outside the window means the server ignores the parameters (an older API): the
 * range is refused with ERROR rather than read as the whole history.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_int.h"

/* ---- the cursor ---- */

static int cursor_parse(struct cc_source *src, const char *text, struct spgw_plugin_error *err)
{
	json_error_t je;
	json_t *o, *v, *t, *id;
	const char *k;
	int e, rc = SPGW_PLUGIN_OK, ranged = 0, has_range = 0;

	memset(src->pos, 0, sizeof(src->pos));
	if (!text)
		return SPGW_PLUGIN_OK;
	o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "v")) ||
	    json_integer_value(json_object_get(o, "v")) != 1) {
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "the cursor was not written by this version of the changchun plugin "
			     "(it is not {\"v\":1,...}): reset the source's cursor to read "
			     "everything again");
		goto out;
	}
	json_object_foreach(o, k, v) {
		if (strcmp(k, "v") == 0)
			continue;
		if (strcmp(k, "range") == 0) {
			const char *f = json_string_value(json_array_get(v, 0));
			const char *l = json_string_value(json_array_get(v, 1));

			has_range = 1;
			ranged = json_array_size(v) == 2 && f && l && src->range_from[0] &&
				 !strcmp(f, src->range_from) && !strcmp(l, src->range_to);
			continue;
		}
		e = cc_entity_find(k, strlen(k));
		t = json_object_get(v, "t");
		id = json_object_get(v, "id");
		if (e < 0 || !json_is_string(t) || json_string_length(t) != 19 ||
		    !json_is_string(id) || !json_string_length(id) ||
		    json_string_length(id) > CC_MAX_ID || strpbrk(json_string_value(id), "\"\\")) {
			rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
				     "the cursor's entry \"%.32s\" is not an entity's (t, id): "
				     "reset the source's cursor to read everything again", k);
			goto out;
		}
		src->pos[e].set = 1;
		memcpy(src->pos[e].t, json_string_value(t), 20);
		memcpy(src->pos[e].id, json_string_value(id), json_string_length(id) + 1);
	}
	/* a range's cursor in pull(), pull()'s or another range's in pull_range(): following it
	 * would skip records, so say whose it is */
	if (src->range_from[0] && !ranged)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "the cursor is not one of the days %s..%s (it is the regular pull's "
			     "or another range's): restart the backfill of the range",
			     src->range_from, src->range_to);
	else if (!src->range_from[0] && has_range)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "the cursor is a backfill's, not the regular pull's: reset the "
			     "source's cursor to read everything again");
out:
	if (rc)
		memset(src->pos, 0, sizeof(src->pos));
	json_decref(o);
	return rc;
}

/* The cursor as text in src->cursor: every entity with a position, configured or not (an
 * entity taken out of "entities" and put back later goes on where it stood). */
static int cursor_format(struct cc_source *src)
{
	int e;

	src->cursor.len = 0;
	if (cc_buf_addf(&src->cursor, 4096, "{\"v\":1"))
		return -1;
	if (src->range_from[0] && cc_buf_addf(&src->cursor, 4096, ",\"range\":[\"%s\",\"%s\"]",
					      src->range_from, src->range_to))
		return -1;
	for (e = 0; e < CC_ENTITIES; e++) {
		if (!src->pos[e].set)
			continue;
		if (cc_buf_addf(&src->cursor, 4096, ",\"%s\":{\"t\":\"%s\",\"id\":\"%s\"}",
				cc_entity_names[e], src->pos[e].t, src->pos[e].id))
			return -1;
	}
	return cc_buf_add(&src->cursor, "}", 1, 4096) ? -1 : 0;
}

/* ---- pages ---- */

static int cmp_pos(const char *t1, const char *id1, const char *t2, const char *id2)
{
	int c = strcmp(t1, t2);

	return c ? c : strcmp(id1, id2);
}

static enum cc_verdict parse_page(struct cc_source *src, void *ud, char *why, size_t cap)
{
	return cc_page_parse(src, *(const int *)ud, cc_charset_gbk(src->content_type), why, cap);
}

static void where_text(const struct cc_pos *p, char *out, size_t cap)
{
	if (p->set)
		snprintf(out, cap, "after (%s, %s)", p->t, p->id);
	else
		snprintf(out, cap, "from the start");
}

/* Check the page against the cursor before anything of it is emitted. */
static int check_order(struct cc_source *src, int e, const char *where,
		       struct spgw_plugin_error *err)
{
	const struct cc_page *pg = &src->page;
	const char *pt = src->pos[e].set ? src->pos[e].t : NULL, *pid = src->pos[e].id;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		const struct cc_item *it = &pg->v[i];

		if (src->range_from[0] && (strncmp(it->t, src->range_from, 10) < 0 ||
					   strncmp(it->t, src->range_to, 10) > 0))
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "%s %s: the API answered record %s of %s, outside the days "
				       "%s..%s asked for (updated_from, updated_to): it does not "
				       "support re-reading a date range. Nothing of the page was "
				       "taken; the source's regular pull reads everything anyway",
				       cc_entity_names[e], where, it->id, it->t, src->range_from,
				       src->range_to);
		if (pt && cmp_pos(it->t, it->id, pt, pid) <= 0) {
			if (i == 0)
				return cc_fail(src, err, SPGW_PLUGIN_RETRY,
					       "%s %s: the API answered a page whose first record "
					       "(%s, %s) is not after the cursor: it repeated a page or "
					       "went back. Nothing of the page was taken (following it "
					       "could loop forever); the next run asks again from the "
					       "cursor",
					       cc_entity_names[e], where, it->t, it->id);
			return cc_fail(src, err, SPGW_PLUGIN_RETRY,
				       "%s %s: the page is not in (update_time, id) order: record %zu "
				       "(%s, %s) does not come after record %zu (%s, %s). Nothing of "
				       "the page was taken; the next run asks again from the cursor",
				       cc_entity_names[e], where, i + 1, it->t, it->id, i, pt, pid);
		}
		pt = it->t;
		pid = it->id;
	}
	return SPGW_PLUGIN_OK;
}

static int pull_entity(struct cc_source *src, int e, struct spgw_plugin_error *err)
{
	const struct spgw_host *host = src->host;
	struct cc_pos *pos = &src->pos[e];
	char path[512], t[64], id[3 * CC_MAX_ID + 1], where[200], window[64] = "";
	unsigned long records = 0, pages = 0, pending = 0;
	size_t i;
	int rc;

	/* days are digits and '-': nothing to escape */
	if (src->range_from[0])
		snprintf(window, sizeof(window), "&updated_from=%s&updated_to=%s", src->range_from,
			 src->range_to);
	for (;;) {
		where_text(pos, where, sizeof(where));
		if (!pos->set) {
			snprintf(path, sizeof(path), "%s?page_size=%ld%s", cc_entity_names[e],
				 src->s.page_size, window);
		} else {
			if (cc_escape(src, pos->t, t, sizeof(t)) ||
			    cc_escape(src, pos->id, id, sizeof(id)))
				return cc_fail(src, err, SPGW_PLUGIN_RETRY, "out of memory");
			snprintf(path, sizeof(path),
				 "%s?updated_after=%s&after_id=%s&page_size=%ld%s",
				 cc_entity_names[e], t, id, src->s.page_size, window);
		}
		rc = cc_request(src, cc_entity_names[e], where, path, NULL, parse_page, &e, err);
		if (!rc)
			rc = check_order(src, e, where, err);
		if (!rc && !src->page.n && src->page.has_more)
			rc = cc_fail(src, err, SPGW_PLUGIN_RETRY,
				     "%s %s: the API says there is more (has_more) but sent no "
				     "records; the next run asks again",
				     cc_entity_names[e], where);
		if (rc) {
			/* keep the whole pages read so far: a fault every few pages must not
			 * undo the pages before it, run after run */
			if (pending && !cursor_format(src))
				host->commit(host->ctx, src->cursor.p);
			return rc;
		}
		for (i = 0; i < src->page.n; i++) {
			const struct cc_item *it = &src->page.v[i];

			if (host->emit(host->ctx, cc_entity_names[e], cc_item_json(src, it),
				       it->len) != SPGW_PLUGIN_OK)
				return cc_fail(src, err, SPGW_PLUGIN_RETRY,
					       "%s %s: the gateway took no more records (at %s); the "
					       "next run resumes from the last commit",
					       cc_entity_names[e], where, it->id);
		}
		if (src->page.n) {
			const struct cc_item *last = &src->page.v[src->page.n - 1];

			pos->set = 1;
			memcpy(pos->t, last->t, sizeof(pos->t));
			memcpy(pos->id, last->id, sizeof(pos->id));
			records += src->page.n;
			pending += src->page.n;
			pages++;
		}
		/* Commit after the last page, and before the pages since the last commit could
		 * reach the host's limit of uncommitted records (include/spgw/plugin.h): one
		 * ledger transaction per few thousand records instead of per page, as each
		 * writes back every index page its scattered keys touched (at a million steps,
		 * per-page commits spent a third of the gateway's time in write and fsync). */
		if (pending && (!src->page.has_more ||
				pending >= (unsigned long)src->s.commit_records ||
				pending + (unsigned long)src->s.page_size > CC_COMMIT_RECORDS)) {
			if (cursor_format(src))
				return cc_fail(src, err, SPGW_PLUGIN_RETRY, "out of memory");
			if (host->commit(host->ctx, src->cursor.p) != SPGW_PLUGIN_OK)
				return cc_fail(src, err, SPGW_PLUGIN_RETRY,
					       "%s: the gateway could not store the pages up to "
					       "(%s, %s); the next run resumes from the last commit",
					       cc_entity_names[e], pos->t, pos->id);
			pending = 0;
		}
		if (!src->page.has_more)
			break;
	}
	if (records)
		cc_log(src, SPGW_LOG_INFO, "%s: %lu records in %lu pages, now at (%s, %s)",
		       cc_entity_names[e], records, pages, pos->t, pos->id);
	return SPGW_PLUGIN_OK;
}

int cc_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	    struct spgw_plugin_error *err)
{
	struct cc_source *src = ctx;
	int e, rc;

	src->host = host;
	src->range_from[0] = src->range_to[0] = '\0';
	rc = cursor_parse(src, cursor, err);
	for (e = 0; !rc && e < CC_ENTITIES; e++)
		if (src->s.want[e])
			rc = pull_entity(src, e, err);
	return rc;
}

int cc_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		  const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct cc_source *src = ctx;
	int e, rc;

	src->host = host;
	if (!cc_day_ok(from) || !cc_day_ok(to) || strcmp(from, to) > 0)
		return cc_fail(src, err, SPGW_PLUGIN_ERROR, "pull_range: from and to must be days "
			       "YYYY-MM-DD with from <= to");
	memcpy(src->range_from, from, 11);
	memcpy(src->range_to, to, 11);
	rc = cursor_parse(src, cursor, err);
	for (e = 0; !rc && e < CC_ENTITIES; e++)
		if (src->s.want[e])
			rc = pull_entity(src, e, err);
	if (!rc)
		cc_log(src, SPGW_LOG_INFO, "the days %s..%s were read to their end", from, to);
	return rc;
}
