/*
 * count(): GET /api/v2/stats/daily?entity=E&from=F&to=T gives the live records (is_deleted 0)
 * of an entity per business day, counted by Changchun's own system, so reconciliation compares
 * the gateway with the city rather than with what the plugin happened to read. The API's
 * business day of each entity is the one the gateway gives the SPGL records made from it
 * (README.md lists them); records whose day the API cannot read are reported as "undated" and
 * logged, never counted on a made-up day.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_int.h"

struct stats {
	const char *from, *to;
	json_t *days; /* the validated answer's data.days, owned */
	json_int_t undated;
};

static enum cc_verdict parse_stats(struct cc_source *src, void *ud, char *why, size_t cap)
{
	struct stats *st = ud;
	json_error_t je;
	json_t *o = json_loadb(src->body.p, src->body.len, 0, &je), *days, *d, *c;
	const char *day;
	char desc[100], msg[240];
	long code;
	size_t i;
	enum cc_verdict v = CC_AGAIN;

	if (!json_is_object(o)) {
		cc_describe(src, src->body.p, src->body.len, desc, sizeof(desc));
		snprintf(why, cap, "an answer that is not JSON (%s): \"%s\"", je.text, desc);
		goto out;
	}
	cc_answer_code(src, &code, msg, sizeof(msg));
	if (code != 0) {
		snprintf(why, cap, "code %ld: %s", code, msg);
		v = code >= 40101 && code <= 40103 ? CC_REAUTH : CC_FATAL;
		goto out;
	}
	days = json_object_get(json_object_get(o, "data"), "days");
	if (!json_is_array(days)) {
		snprintf(why, cap, "an answer without data.days");
		goto out;
	}
	json_array_foreach(days, i, d) {
		day = json_string_value(json_object_get(d, "day"));
		c = json_object_get(d, "count");
		if (!cc_day_ok(day) || strcmp(day, st->from) < 0 || strcmp(day, st->to) > 0 ||
		    !json_is_integer(c) || json_integer_value(c) < 0) {
			snprintf(why, cap, "data.days[%zu] is not {\"day\": a day from %s to %s, "
				 "\"count\": a whole number}", i, st->from, st->to);
			goto out;
		}
	}
	json_decref(st->days);
	st->days = json_incref(days);
	c = json_object_get(json_object_get(o, "data"), "undated");
	st->undated = json_is_integer(c) ? json_integer_value(c) : 0;
	v = CC_OK;
out:
	json_decref(o);
	return v;
}

static int count_entity(struct cc_source *src, int e, const char *from, const char *to,
			struct spgw_plugin_error *err)
{
	const struct spgw_host *host = src->host;
	struct stats st = { from, to, NULL, 0 };
	char path[256], where[64];
	json_t *d;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "stats/daily?entity=%s&from=%s&to=%s", cc_entity_names[e],
		 from, to);
	snprintf(where, sizeof(where), "counts from %s to %s", from, to);
	rc = cc_request(src, cc_entity_names[e], where, path, NULL, parse_stats, &st, err);
	if (rc)
		goto out;
	json_array_foreach(st.days, i, d) {
		if (!json_integer_value(json_object_get(d, "count")))
			continue;
		if (host->count(host->ctx, cc_entity_names[e],
				json_string_value(json_object_get(d, "day")),
				(uint64_t)json_integer_value(json_object_get(d, "count"))) !=
		    SPGW_PLUGIN_OK) {
			rc = cc_fail(src, err, SPGW_PLUGIN_RETRY,
				     "%s: the gateway took no more counts", cc_entity_names[e]);
			goto out;
		}
	}
	if (st.undated)
		cc_log(src, SPGW_LOG_WARNING,
		       "%s: %lld live records have no business day the API can read; they are "
		       "not in the counts (their dates need correcting in the city's system)",
		       cc_entity_names[e], (long long)st.undated);
out:
	json_decref(st.days);
	return rc;
}

int cc_count(void *ctx, const char *table, const char *from, const char *to,
	     const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct cc_source *src = ctx;
	int e, rc = SPGW_PLUGIN_OK;

	src->host = host;
	if (!cc_day_ok(from) || !cc_day_ok(to) || strcmp(from, to) > 0)
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "count: from and to must be days YYYY-MM-DD with from <= to");
	if (table) {
		e = cc_entity_find(table, strlen(table));
		if (e < 0)
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "count: \"%.64s\" is not an entity of the Changchun API",
				       table);
		return count_entity(src, e, from, to, err);
	}
	for (e = 0; !rc && e < CC_ENTITIES; e++)
		if (src->s.want[e])
			rc = count_entity(src, e, from, to, err);
	return rc;
}
