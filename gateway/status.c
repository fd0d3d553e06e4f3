/* The status document (status.h): ledger tallies, runs, schedule, heartbeat and alarms. */
#include "status.h"

#include <string.h>
#include <time.h>

#include "alarm.h"
#include "ledger_recon.h"

struct collect {
	const struct spgw_config *c;
	const struct spgw_schema *schema;
	int64_t now;
	json_t *doc, *regions, *alarms, *totals;
	json_t *runs;     /* source name -> last_run object */
	json_t *schedule; /* source name -> {schedule, next_run, running} */
};

int64_t spgw_status_utc_seconds(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

void spgw_status_beijing_date(int64_t t, char out[11])
{
	time_t bj = (time_t)t + 8 * 3600;
	struct tm tm;

	gmtime_r(&bj, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The region's entry, made on first use; regions stay in the order first seen. */
static json_t *region(struct collect *k, const char *code)
{
	size_t i;
	json_t *r;

	json_array_foreach(k->regions, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "region")), code))
			return r;
	r = json_pack("{s:s,s:[],s:[]}", "region", code, "sources", "tables");
	if (!r || json_array_append_new(k->regions, r))
		return NULL;
	return r;
}

static int add_int(json_t *o, const char *key, int64_t v)
{
	json_t *cur = json_object_get(o, key);

	return json_object_set_new(o, key, json_integer(json_integer_value(cur) + v));
}

static enum spgw_rc on_table(void *ud, const struct spgw_table_status *t)
{
	struct collect *k = ud;
	const struct spgw_table *st = k->schema ? spgw_schema_table(k->schema, t->table) : NULL;
	int64_t at = spgw_status_utc_seconds(t->oldest_pending_at);
	json_t *r = region(k, t->region[0] ? t->region : "?");
	json_t *o;

	if (!r)
		return SPGW_E_NOMEM;
	o = json_pack("{s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s?,s:o}", "table", t->table,
		      "table_zh", st ? spgw_table_zh(st) : NULL, "pending", (json_int_t)t->pending,
		      "held", (json_int_t)t->held, "in_flight", (json_int_t)t->in_flight,
		      "delivered", (json_int_t)t->delivered, "delivered_today",
		      (json_int_t)t->delivered_today, "quarantined", (json_int_t)t->quarantined,
		      "dead", (json_int_t)t->dead, "oldest_pending_at", t->oldest_pending_at,
		      "oldest_pending_age_s",
		      at >= 0 ? json_integer(k->now - at > 0 ? k->now - at : 0) : json_null());
	if (!o || json_array_append_new(json_object_get(r, "tables"), o))
		return SPGW_E_NOMEM;
	if (add_int(k->totals, "pending", t->pending) || add_int(k->totals, "held", t->held) ||
	    add_int(k->totals, "in_flight", t->in_flight) ||
	    add_int(k->totals, "delivered", t->delivered) ||
	    add_int(k->totals, "delivered_today", t->delivered_today) ||
	    add_int(k->totals, "quarantined", t->quarantined) || add_int(k->totals, "dead", t->dead))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc on_run(void *ud, const struct spgw_run_row *r, int64_t streak)
{
	struct collect *k = ud;
	json_t *o = json_pack("{s:s,s:s?,s:s?,s:s,s:I,s:I,s:I,s:I,s:s?,s:I}", "kind", r->kind,
			      "started_at", r->started_at, "finished_at", r->finished_at, "result",
			      r->result, "records", (json_int_t)r->records, "added",
			      (json_int_t)r->added, "changed", (json_int_t)r->changed,
			      "quarantined", (json_int_t)r->quarantined, "message", r->message,
			      "in_a_row", (json_int_t)streak);

	if (!o || json_object_set_new(k->runs, r->source, o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc on_schedule(void *ud, const struct spgw_schedule_row *r)
{
	struct collect *k = ud;
	json_t *o = json_pack("{s:s,s:s?,s:b}", "schedule", r->cron, "next_run", r->next_at,
			      "running", r->running);

	if (!o || json_object_set_new(k->schedule, r->source, o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc on_recon(void *ud, const struct spgw_recon_run *r)
{
	struct collect *k = ud;
	json_t *o = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:s,s:I,s:s?}", "run", (json_int_t)r->id,
			      "started_at", r->started_at, "finished_at", r->finished_at, "from",
			      r->from, "to", r->to, "result", r->result, "differing_days",
			      (json_int_t)r->differences, "message", r->message);

	if (!o || json_object_set_new(k->doc, "reconciliation", o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc on_daemon(void *ud, const struct spgw_daemon_row *d)
{
	struct collect *k = ud;
	int64_t beat = spgw_status_utc_seconds(d->beat_at);
	int alive = !strcmp(d->state, "stopped") ? 0
		    : beat >= 0 && k->now - beat <= SPGW_STATUS_BEAT_STALE_S;
	json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:b}", "state", alive ? d->state : "stopped",
			      "pid", (json_int_t)d->pid, "started_at", d->started_at, "beat_at",
			      d->beat_at, "config", d->config, "alive", alive);

	if (!o || json_object_set_new(k->doc, "daemon", o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc on_stored_alarm(void *ud, const struct spgw_alarm_row *a)
{
	struct collect *k = ud;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", a->name, "subject", a->subject,
			      "message", a->message, "raised_at", a->raised_at, "seen_at",
			      a->seen_at);

	if (!o || json_array_append_new(k->alarms, o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

/* A condition that holds now: shown even when no daemon stored it; once when it did. */
static enum spgw_rc on_live_alarm(void *ud, const char *name, const char *subject,
				  const char *message)
{
	struct collect *k = ud;
	char now[24];
	time_t t = (time_t)k->now;
	struct tm tm;
	size_t i;
	json_t *a;

	json_array_foreach(k->alarms, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "name")), name) &&
		    !strcmp(json_string_value(json_object_get(a, "subject")), subject ? subject : ""))
			return json_object_set_new(a, "message", json_string(message)) ||
					       json_object_set_new(a, "live", json_true())
				       ? SPGW_E_NOMEM
				       : SPGW_OK;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", name, "subject", subject ? subject : "",
		      "message", message, "raised_at", now, "seen_at", now, "live", 1);
	if (!a || json_array_append_new(k->alarms, a))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

/* A stored alarm of a checked condition that no longer holds was left by a daemon that did
 * not live to clear it: not shown. */
static void drop_stale(struct collect *k)
{
	size_t i = 0;
	json_t *a;

	while (i < json_array_size(k->alarms)) {
		a = json_array_get(k->alarms, i);
		if (spgw_alarm_is_checked(json_string_value(json_object_get(a, "name"))) &&
		    !json_is_true(json_object_get(a, "live"))) {
			json_array_remove(k->alarms, i);
			continue;
		}
		json_object_del(a, "live");
		i++;
	}
}

/* Every configured source under its region, with its schedule and last run. */
static enum spgw_rc sources(struct collect *k)
{
	size_t i;

	for (i = 0; i < k->c->nsources; i++) {
		const struct spgw_source *s = &k->c->sources[i];
		json_t *r = region(k, s->region), *o, *sch = json_object_get(k->schedule, s->name);
		json_t *run = json_object_get(k->runs, s->name);

		if (!r)
			return SPGW_E_NOMEM;
		o = json_pack("{s:s,s:s,s:b,s:s,s:O?,s:b,s:O?}", "source", s->name, "plugin",
			      s->plugin, "enabled", s->enabled, "schedule", s->pull_cron,
			      "next_run", sch ? json_object_get(sch, "next_run") : NULL, "running",
			      sch ? json_is_true(json_object_get(sch, "running")) : 0, "last_run",
			      run);
		if (!o || json_array_append_new(json_object_get(r, "sources"), o))
			return SPGW_E_NOMEM;
	}
	return SPGW_OK;
}

enum spgw_rc spgw_status_collect(struct spgw_ledger *l, const struct spgw_config *c,
				 const struct spgw_schema *schema, int64_t now, json_t **out,
				 struct spgw_error *err)
{
	struct collect k;
	char today[11], gen[24];
	time_t t = (time_t)now;
	struct tm tm;
	enum spgw_rc rc;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.c = c;
	k.schema = schema;
	k.now = now;
	spgw_status_beijing_date(now, today);
	gmtime_r(&t, &tm);
	strftime(gen, sizeof(gen), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k.doc = json_pack("{s:s,s:s,s:n,s:n,s:[],s:[],s:{}}", "generated_at", gen, "today",
			  today, "daemon", "reconciliation", "alarms", "regions", "totals");
	k.runs = json_object();
	k.schedule = json_object();
	if (!k.doc || !k.runs || !k.schedule) {
		rc = spgw_error_nomem(err, "building the status");
		goto out;
	}
	k.alarms = json_object_get(k.doc, "alarms");
	k.regions = json_object_get(k.doc, "regions");
	k.totals = json_object_get(k.doc, "totals");
	static const char *const zero[] = { "pending", "held", "in_flight", "delivered",
					    "delivered_today", "quarantined", "dead" };
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		add_int(k.totals, zero[i], 0);
	rc = spgw_ledger_daemon_get(l, on_daemon, &k, err);
	if (!rc)
		rc = spgw_ledger_recon_runs(l, 1, on_recon, &k, err);
	if (!rc)
		rc = spgw_ledger_alarm_each(l, on_stored_alarm, &k, err);
	if (!rc)
		rc = spgw_alarm_check(l, c, now, on_live_alarm, &k, err);
	if (!rc)
		drop_stale(&k);
	if (!rc)
		rc = spgw_ledger_last_runs(l, on_run, &k, err);
	if (!rc)
		rc = spgw_ledger_schedule_each(l, on_schedule, &k, err);
	if (!rc)
		rc = sources(&k);
	if (!rc)
		rc = spgw_ledger_table_status(l, today, on_table, &k, err);
	if (rc == SPGW_E_NOMEM)
		spgw_error_nomem(err, "building the status");
out:
	json_decref(k.runs);
	json_decref(k.schedule);
	if (rc) {
		json_decref(k.doc);
		return rc;
	}
	*out = k.doc;
	return SPGW_OK;
}
