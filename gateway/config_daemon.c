/*
 * How the daemon runs: the gateway file's "daemon" object (where the status endpoints
 * listen, how many pulls at once, how long a drain may take, when to raise alarms) and each
 * source file's "schedule" (when it is pulled, with what jitter, sharing which endpoint's
 * limit). Cron expressions are parsed here, so a bad one is a check-config problem at its
 * file:line:column, never a surprise at three in the morning.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "mem.h"
#include "schedule.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* A source without "schedule" is pulled every five minutes, as the provincial rules ask of
 * deltas, with up to 30 s of jitter so nine cities do not start in one second. */
#define DEFAULT_PULL_CRON "*/5 * * * *"
#define DEFAULT_JITTER_S 30
#define DEFAULT_LISTEN "127.0.0.1:9464"

static const struct key_spec daemon_keys[] = {
	{ "listen", K_STRING, 0 },        { "max_pulls", K_INT, 0 },
	{ "endpoints", K_OBJECT, 0 },     { "drain_seconds", K_INT, 0 },
	{ "upload_idle_seconds", K_INT, 0 }, { "halt_retry_seconds", K_INT, 0 },
	{ "alarms", K_OBJECT, 0 },        { "pull_at_start", K_BOOL, 0 },
	{ "reconcile", K_OBJECT, 0 },
};

static const struct key_spec reconcile_keys[] = {
	{ "enabled", K_BOOL, 0 }, { "schedule", K_STRING, 0 }, { "days", K_INT, 0 },
	{ "detail", K_BOOL, 0 },  { "repair", K_BOOL, 0 },
};

static const struct key_spec alarm_keys[] = {
	{ "pending_age_minutes", K_INT, 0 }, { "disk_free_mb", K_INT, 0 },
	{ "failed_runs", K_INT, 0 },         { "plugin_restarts", K_INT, 0 },
	{ "expiry_days", K_INT, 0 },         { "clock_skew_seconds", K_INT, 0 },
};

static const struct key_spec schedule_keys[] = {
	{ "pull", K_STRING, 0 },
	{ "jitter", K_INT, 0 },
	{ "endpoint", K_STRING, 0 },
};

/* An integer member of `obj` within [lo, hi], or `def`; out of range is a problem. */
static long long num(const struct cfile *f, const json_t *obj, const struct spgw_jsonpos_at *at,
		     const char *key, long long lo, long long hi, long long def, const char *unit,
		     size_t *problems, struct spgw_diag *d)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return def; /* absent, or its wrong type is already reported */
	if (json_integer_value(v) >= lo && json_integer_value(v) <= hi)
		return json_integer_value(v);
	spgw_config_problem(d, SPGW_E_CONFIG, f->path, spgw_jsonpos_child(f->pos, at, key), 1,
			    "\"%s\" is %" JSON_INTEGER_FORMAT " %s; give %lld to %lld", key,
			    json_integer_value(v), unit, lo, hi);
	(*problems)++;
	return def;
}

/* "HOST:PORT" with an IP literal (the HTTP module refuses names); "off" turns it off. */
static int listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return 0;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && end != colon + 1 && port >= 0 && port <= 65535;
}

static void endpoints(struct spgw_config *c, const struct cfile *f, const json_t *obj,
		      const struct spgw_jsonpos_at *at, struct spgw_diag *d)
{
	struct spgw_daemon_conf *dc = &c->daemon;
	const char *name;
	json_t *v;

	dc->endpoints = spgw_calloc(json_object_size(obj) + 1, sizeof(*dc->endpoints));
	if (!dc->endpoints) {
		spgw_config_nomem(d, f->path, "reading daemon.endpoints");
		return;
	}
	json_object_foreach((json_t *)obj, name, v) {
		const struct spgw_jsonpos_at *vat = spgw_jsonpos_child(f->pos, at, name);
		char k[80];

		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 64) {
			spgw_config_problem(d, SPGW_E_CONFIG, f->path, vat, 1,
					    "daemon.endpoints \"%s\" must be how many pulls of that "
					    "endpoint may run at once, 1 to 64",
					    spgw_config_show(name, k));
			continue;
		}
		dc->endpoints[dc->nendpoints].name = spgw_strdup(name);
		if (!dc->endpoints[dc->nendpoints].name) {
			spgw_config_nomem(d, f->path, "reading daemon.endpoints");
			return;
		}
		dc->endpoints[dc->nendpoints++].max = (int)json_integer_value(v);
	}
}

/* daemon.reconcile: when the daemon reconciles, over which days, how deep. */
static void reconcile(struct spgw_config *c, const struct cfile *f, const json_t *obj,
		      const struct spgw_jsonpos_at *at, size_t *problems, struct spgw_diag *d)
{
	struct spgw_daemon_conf *dc = &c->daemon;
	const char *cron = "30 2 * * *";
	struct spgw_cron *parsed = NULL;
	struct spgw_error e;

	if (json_is_object(obj)) {
		spgw_config_check_keys(f, obj, at, "\"daemon.reconcile\"", reconcile_keys,
				       NKEYS(reconcile_keys), d);
		cron = spgw_config_str_or(obj, "schedule", cron);
	} else {
		obj = NULL;
	}
	dc->recon_enabled = !json_is_false(obj ? json_object_get(obj, "enabled") : NULL);
	dc->recon_detail = !json_is_false(obj ? json_object_get(obj, "detail") : NULL);
	dc->recon_repair = json_is_true(obj ? json_object_get(obj, "repair") : NULL);
	dc->recon_days = (int)num(f, obj, at, "days", 1, 366, 31, "days", problems, d);
	memset(&e, 0, sizeof(e));
	if (spgw_cron_parse(cron, &parsed, &e)) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, spgw_jsonpos_child(f->pos, at, "schedule"),
				    1, "daemon.reconcile.schedule: %s", e.text);
		(*problems)++;
	}
	spgw_cron_free(parsed);
	if (!(dc->recon_cron = spgw_strdup(cron)))
		spgw_config_nomem(d, f->path, "reading daemon.reconcile");
}

void spgw_config_daemon(struct spgw_config *c, const struct cfile *f, struct spgw_diag *d)
{
	struct spgw_daemon_conf *dc = &c->daemon;
	const json_t *obj = json_object_get(f->root, "daemon");
	const struct spgw_jsonpos_at *at = spgw_jsonpos_child(f->pos, f->root_at, "daemon");
	const json_t *alarms = NULL, *eps;
	const struct spgw_jsonpos_at *aat = NULL;
	const char *listen = DEFAULT_LISTEN;
	size_t problems = 0;
	char k[80];

	if (json_is_object(obj)) {
		spgw_config_check_keys(f, obj, at, "\"daemon\"", daemon_keys, NKEYS(daemon_keys), d);
		listen = spgw_config_str_or(obj, "listen", DEFAULT_LISTEN);
		alarms = json_object_get(obj, "alarms");
		aat = spgw_jsonpos_child(f->pos, at, "alarms");
		if (json_is_object(alarms))
			spgw_config_check_keys(f, alarms, aat, "\"daemon.alarms\"", alarm_keys,
					       NKEYS(alarm_keys), d);
		else
			alarms = NULL;
	} else {
		obj = NULL;
	}
	if (strcmp(listen, "off") && !listen_ok(listen))
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, spgw_jsonpos_child(f->pos, at, "listen"),
				    1,
				    "daemon.listen \"%s\" is not HOST:PORT with an IP address, e.g. "
				    "\"127.0.0.1:9464\" (or \"off\")",
				    spgw_config_show(listen, k));
	else if (strcmp(listen, "off") && !(dc->listen = spgw_strdup(listen)))
		spgw_config_nomem(d, f->path, "reading daemon.listen");
	dc->max_pulls = (int)num(f, obj, at, "max_pulls", 1, 64, 4, "pulls", &problems, d);
	dc->drain_seconds = (int)num(f, obj, at, "drain_seconds", 1, 3600, 30, "seconds",
				     &problems, d);
	dc->upload_idle_s = (int)num(f, obj, at, "upload_idle_seconds", 1, 3600, 10, "seconds",
				     &problems, d);
	dc->halt_retry_s = (int)num(f, obj, at, "halt_retry_seconds", 5, 86400, 300, "seconds",
				    &problems, d);
	dc->alarm_pending_minutes = (int)num(f, alarms, aat, "pending_age_minutes", 1, 525600, 60,
					     "minutes", &problems, d);
	dc->alarm_disk_free_mb = num(f, alarms, aat, "disk_free_mb", 0, 1LL << 30, 512, "MiB",
				     &problems, d);
	dc->alarm_failed_runs = (int)num(f, alarms, aat, "failed_runs", 1, 1000, 3, "runs",
					 &problems, d);
	dc->alarm_plugin_restarts = (int)num(f, alarms, aat, "plugin_restarts", 1, 1000, 3,
					     "restarts", &problems, d);
	dc->alarm_expiry_days = (int)num(f, alarms, aat, "expiry_days", 0, 3650, 30, "days",
					 &problems, d);
	dc->alarm_clock_skew_s = (int)num(f, alarms, aat, "clock_skew_seconds", 1, 86400, 60,
					  "seconds", &problems, d);
	dc->pull_at_start = !json_is_false(obj ? json_object_get(obj, "pull_at_start") : NULL);
	reconcile(c, f, obj ? json_object_get(obj, "reconcile") : NULL,
		  spgw_jsonpos_child(f->pos, at, "reconcile"), &problems, d);
	eps = obj ? json_object_get(obj, "endpoints") : NULL;
	if (json_is_object(eps))
		endpoints(c, f, eps, spgw_jsonpos_child(f->pos, at, "endpoints"), d);
}

void spgw_config_daemon_clear(struct spgw_daemon_conf *dc)
{
	size_t i;

	for (i = 0; i < dc->nendpoints; i++)
		spgw_free(dc->endpoints[i].name);
	spgw_free(dc->endpoints);
	spgw_free(dc->listen);
	spgw_free(dc->recon_cron);
	memset(dc, 0, sizeof(*dc));
}

size_t spgw_config_schedule(struct spgw_source *s, const struct cfile *f, struct spgw_diag *d)
{
	const json_t *obj = json_object_get(f->root, "schedule");
	const struct spgw_jsonpos_at *at = spgw_jsonpos_child(f->pos, f->root_at, "schedule");
	const char *cron = DEFAULT_PULL_CRON, *endpoint = s->plugin;
	size_t problems = 0;

	if (json_is_object(obj)) {
		problems += spgw_config_check_keys(f, obj, at, "\"schedule\"", schedule_keys,
						   NKEYS(schedule_keys), d);
		cron = spgw_config_str_or(obj, "pull", DEFAULT_PULL_CRON);
		endpoint = spgw_config_str_or(obj, "endpoint", s->plugin);
	} else {
		obj = NULL;
	}
	s->jitter_s = (int)num(f, obj, at, "jitter", 0, 3600, DEFAULT_JITTER_S, "seconds",
			       &problems, d);
	{
		struct spgw_cron *parsed = NULL;
		struct spgw_error e;

		memset(&e, 0, sizeof(e));
		if (spgw_cron_parse(cron, &parsed, &e)) {
			const struct spgw_jsonpos_at *pat = spgw_jsonpos_child(f->pos, at, "pull");

			spgw_config_problem(d, SPGW_E_CONFIG, f->path, pat, 1,
					    "schedule.pull: %s", e.text);
			problems++;
		}
		spgw_cron_free(parsed);
	}
	s->pull_cron = spgw_strdup(cron);
	s->endpoint = spgw_strdup(endpoint ? endpoint : "");
	if (!s->pull_cron || !s->endpoint)
		problems += (size_t)spgw_config_nomem(d, f->path, "reading a source's schedule");
	return problems;
}
