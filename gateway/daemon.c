/*
 * The daemon (daemon.h). Threads and who owns what:
 *
 *   main      the schedule, signals (sigtimedwait: every signal the daemon handles is blocked
 *             in all threads and taken here, so no handler runs in the middle of anything),
 *             reloads, the heartbeat, alarms and systemd; its own ledger connection;
 *   pull      one per running pull: spgw_ingest_run() of one source with its own ledger
 *             connection, on the configuration it started with (a reference on it);
 *   upload    spgw_upload_run() over and over with its own connection, waking when a pull
 *             stored something or every daemon.upload_idle_seconds;
 *   http      libmicrohttpd's thread: /metrics, /healthz, /status, with its own connection.
 *
 * `mu` guards the current configuration, the list of pulls, and what the uploader reports
 * (events) for the main thread to turn into alarms; SQLite's own locking, WAL and the busy
 * timeout keep the four connections apart on disk.
 */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "alarm.h"
#include "catalog.h"
#include "diag.h"
#include "http_status.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "reconcile.h"
#include "schedule.h"
#include "status.h"
#include "upload.h"

/* The loop turns at least this often (seconds): the watchdog, the drain deadline and a
 * clock that jumped are noticed within it. */
#define TICK_S 5
/* Heartbeat, schedule and alarms in the ledger this often (seconds). */
#define HOUSEKEEP_S 15
/* /healthz fails when the loop has not turned for this long. */
#define STUCK_S 60

/* One loaded and checked configuration. Pulls and the uploader hold references. */
struct gen {
	struct spgw_config *c;
	struct spgw_schema *s;
	struct spgw_cron **crons; /* per source of c, parsed pull schedules */
	struct spgw_cron *recon_cron; /* daemon.reconcile.schedule */
	int refs;                 /* under daemon.mu */
};

struct pull {
	struct daemon *d;
	struct gen *g;
	char *name; /* the source's name (owned) */
	pthread_t th;
	int done;   /* under daemon.mu */
	enum spgw_rc rc;
	struct spgw_error err;
	struct spgw_ingest_result *res;
	size_t nres;
	char started_at[24];
	int recon;                         /* the daemon's reconciliation, not a pull */
	struct spgw_recon_result rr;       /* its result */
	struct pull *next;
};

/* The scheduler's name of the daemon's own reconciliation: no source name starts with '@'. */
#define RECON_JOB "@reconcile"

/* What the uploader saw that the main thread turns into alarms (under daemon.mu). */
struct upload_seen {
	long halt_status;     /* 401/403...: sending stopped; 0 when not */
	char halt_text[320];
	int receipt_bad;      /* an answer not accepted as proof since the last delivery */
	char receipt_text[320];
	int have_skew;
	double skew;
	int running;          /* inside spgw_upload_run */
};

struct daemon {
	const struct spgw_cmd_ctx *ctx;
	pthread_t main_th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the uploader waits on it */
	struct gen *gen;
	unsigned generation;
	struct spgw_ledger *ledger;
	struct spgw_sched *sched;
	struct pull *pulls;
	size_t npulls;
	struct spgw_metrics *metrics;
	struct spgw_http *http;
	pthread_mutex_t status_mu; /* the HTTP thread's connection */
	struct spgw_ledger *status_ledger;
	/* uploader */
	pthread_t up_th;
	int up_started;
	volatile sig_atomic_t up_stop; /* end the current upload run (reload, drain) */
	volatile sig_atomic_t pull_stop; /* end the running pulls (a drain running out of time) */
	int up_quit, up_kick;          /* under mu */
	struct upload_seen seen;       /* under mu */
	/* the loop */
	int draining;
	int64_t drain_deadline;
	int64_t loop_beat; /* monotonic seconds, under mu */
	int ledger_ok;     /* under mu */
	int disk_paused;
	int schedule_dirty;
	char started_at[24];
	int64_t last_housekeep;
};

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void utc_text(int64_t t, char out[24])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- configurations ---- */

static void gen_free(struct gen *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; g->crons && g->c && i < g->c->nsources; i++)
		spgw_cron_free(g->crons[i]);
	spgw_cron_free(g->recon_cron);
	spgw_free(g->crons);
	spgw_schema_free(g->s);
	spgw_config_free(g->c);
	spgw_free(g);
}

/* Drop a reference (under d->mu). */
static void gen_unref(struct gen *g)
{
	if (g && --g->refs == 0)
		gen_free(g);
}

/*
 * Load and check the configuration at `path` completely (as check-config: files, schema,
 * mappings, plugins' settings, catalog). NULL when anything is wrong; every problem is logged
 * as file:line:col and the first is kept in *first for the alarm.
 */
static struct gen *gen_load(const char *path, char *first, size_t firstlen)
{
	struct spgw_diag diag;
	struct gen *g = spgw_calloc(1, sizeof(*g));
	size_t i;

	first[0] = '\0';
	if (!g) {
		snprintf(first, firstlen, "out of memory loading %s", path);
		return NULL;
	}
	spgw_diag_init(&diag);
	spgw_cmd_check(path, &g->c, &g->s, NULL, &diag);
	if (g->c && !diag.n) {
		g->crons = spgw_calloc(g->c->nsources + 1, sizeof(*g->crons));
		for (i = 0; g->crons && i < g->c->nsources; i++) {
			struct spgw_error e;

			memset(&e, 0, sizeof(e));
			if (spgw_cron_parse(g->c->sources[i].pull_cron, &g->crons[i], &e))
				spgw_diag_add(&diag, &e);
		}
		if (!g->crons)
			snprintf(first, firstlen, "out of memory loading %s", path);
		if (g->c->daemon.recon_enabled) {
			struct spgw_error e;

			memset(&e, 0, sizeof(e));
			if (spgw_cron_parse(g->c->daemon.recon_cron, &g->recon_cron, &e))
				spgw_diag_add(&diag, &e);
		}
	}
	for (i = 0; i < diag.n; i++) {
		char line[1024];

		spgw_error_format(&diag.items[i], line, sizeof(line));
		spgw_log(SPGW_LOG_ERROR, NULL, "configuration: %s", line);
		if (i == 0)
			snprintf(first, firstlen, "%.500s", line);
	}
	if (diag.n || diag.dropped || !g->c || !g->s || !g->crons) {
		if (!first[0])
			snprintf(first, firstlen, "%s cannot be read", path);
		spgw_diag_free(&diag);
		gen_free(g);
		return NULL;
	}
	spgw_diag_free(&diag);
	g->refs = 1;
	return g;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether a source's pull would differ: its file's every setting that reaches a pull. */
static int source_changed(const struct spgw_source *a, const struct spgw_source *b)
{
	return !same_str(a->plugin_path, b->plugin_path) || !same_str(a->region, b->region) ||
	       !same_str(a->mapping, b->mapping) || !same_str(a->settings, b->settings) ||
	       a->timeout_ms != b->timeout_ms || a->memory_limit != b->memory_limit ||
	       a->enabled != b->enabled || !same_str(a->pull_cron, b->pull_cron) ||
	       a->jitter_s != b->jitter_s || !same_str(a->endpoint, b->endpoint);
}

/* Put generation g's enabled sources and endpoint limits into the scheduler. */
static void schedule_gen(struct daemon *d, const struct gen *g, const struct gen *old,
			 int64_t now)
{
	size_t i;

	for (i = 0; old && i < old->c->daemon.nendpoints; i++)
		spgw_sched_limit(d->sched, old->c->daemon.endpoints[i].name, 0);
	for (i = 0; i < g->c->daemon.nendpoints; i++)
		spgw_sched_limit(d->sched, g->c->daemon.endpoints[i].name,
				 (size_t)g->c->daemon.endpoints[i].max);
	for (i = 0; i < g->c->nsources; i++) {
		const struct spgw_source *s = &g->c->sources[i];
		const struct spgw_source *was = old ? spgw_config_source(old->c, s->name) : NULL;
		struct spgw_error e;

		if (was && !source_changed(was, s))
			continue;
		if (was)
			spgw_sched_remove(d->sched, s->name);
		if (!s->enabled)
			continue;
		memset(&e, 0, sizeof(e));
		if (spgw_sched_add(d->sched, s->name, s->endpoint, g->crons[i],
				   (unsigned)s->jitter_s, now, &e))
			spgw_log(SPGW_LOG_ERROR, s->name, "cannot be scheduled: %s", e.text);
		else if (!was && g->c->daemon.pull_at_start)
			/* a source just started or added catches up now, not at its next slot */
			spgw_sched_run_now(d->sched, s->name, now);
	}
	for (i = 0; old && i < old->c->nsources; i++)
		if (!spgw_config_source(g->c, old->c->sources[i].name))
			spgw_sched_remove(d->sched, old->c->sources[i].name);
	{
		const struct spgw_daemon_conf *n = &g->c->daemon, *o = old ? &old->c->daemon : NULL;
		int was = o && o->recon_enabled;

		if (was && (!n->recon_enabled || strcmp(o->recon_cron, n->recon_cron)))
			spgw_sched_remove(d->sched, RECON_JOB);
		if (n->recon_enabled && (!was || strcmp(o->recon_cron, n->recon_cron))) {
			struct spgw_error e;

			memset(&e, 0, sizeof(e));
			if (spgw_sched_add(d->sched, RECON_JOB, "reconcile", g->recon_cron, 60, now,
					   &e))
				spgw_log(SPGW_LOG_ERROR, NULL, "the reconciliation cannot be "
					 "scheduled: %s", e.text);
		}
	}
	d->schedule_dirty = 1;
}

/* ---- metrics ---- */

static const double latency_buckets[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					  1, 2.5, 5, 10, 30, 60 };

static void count(struct daemon *d, const char *name, const char *help,
		  const char *const *labels, double v)
{
	spgw_metrics_counter_add(d->metrics, name, help, labels, v);
}

static enum spgw_rc scrape_table(void *ud, const struct spgw_table_status *t)
{
	struct spgw_metrics *m = ud;
	static const char *const phases[] = { "pending", "held", "in_flight", "delivered",
					      "dead" };
	const int64_t v[] = { t->pending, t->held, t->in_flight, t->delivered, t->dead };
	size_t i;

	for (i = 0; i < 5; i++) {
		const char *labels[] = { "region", t->region, "table", t->table, "phase",
					 phases[i], NULL };

		spgw_metrics_gauge_set(m, "spgw_outbox_records",
				       "record versions in the outbox by region, table and phase "
				       "(pending, held, in_flight, delivered, dead)",
				       labels, (double)v[i]);
	}
	{
		const char *labels[] = { "region", t->region, "table", t->table, NULL };

		spgw_metrics_gauge_set(m, "spgw_quarantine_open",
				       "open quarantine entries by region and table", labels,
				       (double)t->quarantined);
		spgw_metrics_gauge_set(m, "spgw_delivered_today",
				       "versions delivered on today's Beijing date", labels,
				       (double)t->delivered_today);
	}
	return SPGW_OK;
}

static enum spgw_rc scrape_alarm(void *ud, const struct spgw_alarm_row *a)
{
	const char *labels[] = { "name", a->name, "subject", a->subject, NULL };

	spgw_metrics_gauge_set(ud, "spgw_alarm", "1 for every alarm that holds", labels, 1);
	return SPGW_OK;
}

static void cert_gauge(struct spgw_metrics *m, const char *file, int64_t now)
{
	const char *labels[] = { "file", file, NULL };
	double days;

	if (file && !spgw_alarm_cert_days(file, now, &days))
		spgw_metrics_gauge_set(m, "spgw_certificate_days_left",
				       "days until the certificate in the file expires", labels,
				       days);
}

/* At each scrape: the gauges that come from the ledger and the files. */
static void on_scrape(void *ud, struct spgw_metrics *m)
{
	struct daemon *d = ud;
	struct spgw_error err;
	struct gen *g;
	char today[11];
	int64_t now = (int64_t)time(NULL), free_b;

	pthread_mutex_lock(&d->mu);
	g = d->gen;
	g->refs++;
	pthread_mutex_unlock(&d->mu);
	spgw_status_beijing_date(now, today);
	spgw_metrics_gauge_clear(m, "spgw_outbox_records");
	spgw_metrics_gauge_clear(m, "spgw_quarantine_open");
	spgw_metrics_gauge_clear(m, "spgw_delivered_today");
	spgw_metrics_gauge_clear(m, "spgw_alarm");
	spgw_metrics_gauge_clear(m, "spgw_certificate_days_left");
	memset(&err, 0, sizeof(err));
	pthread_mutex_lock(&d->status_mu);
	if (d->status_ledger) {
		spgw_ledger_table_status(d->status_ledger, today, scrape_table, m, &err);
		spgw_ledger_alarm_each(d->status_ledger, scrape_alarm, m, &err);
		spgw_metrics_gauge_set(m, "spgw_ledger_size_bytes",
				       "the ledger's database and write-ahead log", NULL,
				       (double)spgw_ledger_size(d->status_ledger));
	}
	pthread_mutex_unlock(&d->status_mu);
	free_b = spgw_alarm_disk_free(g->c->state_dir);
	if (free_b >= 0)
		spgw_metrics_gauge_set(m, "spgw_state_dir_free_bytes",
				       "free space of the state directory's file system", NULL,
				       (double)free_b);
	cert_gauge(m, g->c->national.client_cert, now);
	cert_gauge(m, g->c->national.ca_file, now);
	cert_gauge(m, g->c->national.national_public_key, now);
	pthread_mutex_lock(&d->mu);
	gen_unref(g);
	pthread_mutex_unlock(&d->mu);
}

/* ---- the HTTP endpoints' handlers (the HTTP thread) ---- */

static int healthz(void *ud, char *why, size_t whylen)
{
	struct daemon *d = ud;
	int64_t beat, now = mono_s();
	int ok;

	pthread_mutex_lock(&d->mu);
	beat = d->loop_beat;
	ok = d->ledger_ok;
	pthread_mutex_unlock(&d->mu);
	if (now - beat > STUCK_S) {
		snprintf(why, whylen, "the main loop has not turned for %lld s\n",
			 (long long)(now - beat));
		return 0;
	}
	if (!ok) {
		snprintf(why, whylen, "the ledger does not answer (see the log)\n");
		return 0;
	}
	return 1;
}

static char *status_json(void *ud)
{
	struct daemon *d = ud;
	struct spgw_error err;
	struct gen *g;
	json_t *doc = NULL;
	char *txt = NULL;

	pthread_mutex_lock(&d->mu);
	g = d->gen;
	g->refs++;
	pthread_mutex_unlock(&d->mu);
	memset(&err, 0, sizeof(err));
	pthread_mutex_lock(&d->status_mu);
	if (d->status_ledger &&
	    !spgw_status_collect(d->status_ledger, g->c, g->s, (int64_t)time(NULL), &doc, &err))
		txt = json_dumps(doc, JSON_INDENT(2));
	pthread_mutex_unlock(&d->status_mu);
	json_decref(doc);
	pthread_mutex_lock(&d->mu);
	gen_unref(g);
	pthread_mutex_unlock(&d->mu);
	return txt; /* jansson allocates with spgw_malloc (main.c) */
}

/* ---- the uploader's thread ---- */

static void on_upload_event(void *ud, const struct spgw_upload_event *ev)
{
	struct daemon *d = ud;
	char code[16];

	switch (ev->kind) {
	case SPGW_UPLOAD_ANSWERED: {
		const char *labels[] = { "code", code, NULL };

		snprintf(code, sizeof(code), "%ld", ev->status);
		count(d, "spgw_upload_requests_total", "batch requests by HTTP status (0: no answer)",
		      labels, 1);
		spgw_metrics_histogram_observe(d->metrics, "spgw_upload_request_seconds",
					       "time from sending a batch to its whole answer", NULL,
					       latency_buckets,
					       sizeof(latency_buckets) / sizeof(latency_buckets[0]),
					       ev->seconds);
		count(d, "spgw_upload_bytes_sent_total", "batch bodies sent, bytes on the wire",
		      NULL, (double)ev->bytes);
		break;
	}
	case SPGW_UPLOAD_DELIVERED: {
		const char *acc[] = { "region", ev->region, "table", ev->table, "result",
				      "accepted", NULL };
		const char *dup[] = { "region", ev->region, "table", ev->table, "result",
				      "duplicate", NULL };
		const char *rej[] = { "region", ev->region, "table", ev->table, "result",
				      "rejected", NULL };
		static const char help[] = "records the national platform answered, by region, "
					   "table and result";

		count(d, "spgw_delivered_records_total", help, acc, (double)ev->accepted);
		count(d, "spgw_delivered_records_total", help, dup, (double)ev->duplicate);
		count(d, "spgw_delivered_records_total", help, rej, (double)ev->rejected);
		pthread_mutex_lock(&d->mu);
		d->seen.halt_status = 0;
		d->seen.receipt_bad = 0;
		pthread_mutex_unlock(&d->mu);
		break;
	}
	case SPGW_UPLOAD_RETRY: {
		const char *labels[] = { "cause", ev->cause, NULL };

		count(d, "spgw_upload_retries_total", "batches sent again after a backoff, by cause",
		      labels, 1);
		break;
	}
	case SPGW_UPLOAD_HALTED:
		pthread_mutex_lock(&d->mu);
		d->seen.halt_status = ev->status ? ev->status : -1;
		snprintf(d->seen.halt_text, sizeof(d->seen.halt_text), "%s", ev->text);
		pthread_mutex_unlock(&d->mu);
		break;
	case SPGW_UPLOAD_RECEIPT_BAD:
		count(d, "spgw_receipts_unverified_total",
		      "answers not accepted as proof of delivery", NULL, 1);
		pthread_mutex_lock(&d->mu);
		d->seen.receipt_bad = 1;
		snprintf(d->seen.receipt_text, sizeof(d->seen.receipt_text), "%s", ev->text);
		pthread_mutex_unlock(&d->mu);
		break;
	case SPGW_UPLOAD_CLOCK:
		spgw_metrics_gauge_set(d->metrics, "spgw_clock_skew_seconds",
				       "the national platform's clock (Date header) minus ours",
				       NULL, ev->skew);
		pthread_mutex_lock(&d->mu);
		d->seen.have_skew = 1;
		d->seen.skew = ev->skew;
		pthread_mutex_unlock(&d->mu);
		break;
	}
}

static void *upload_main(void *arg)
{
	struct daemon *d = arg;
	struct spgw_ledger *l = NULL;

	pthread_mutex_lock(&d->mu);
	while (!d->up_quit) {
		struct gen *g = d->gen;
		unsigned generation = d->generation;
		struct spgw_upload_opts o;
		struct spgw_upload_stats st;
		struct spgw_error err;
		struct timespec until;
		int wait_s;
		enum spgw_rc rc = SPGW_OK;

		g->refs++;
		d->up_kick = 0;
		d->up_stop = 0;
		d->seen.running = 1;
		pthread_mutex_unlock(&d->mu);
		memset(&err, 0, sizeof(err));
		memset(&st, 0, sizeof(st));
		wait_s = g->c->daemon.upload_idle_s;
		if (!l)
			rc = spgw_ledger_open_unchecked(g->c->state_dir, &l, &err);
		if (!rc && g->c->national.url) {
			memset(&o, 0, sizeof(o));
			o.config = g->c;
			o.schema = g->s;
			o.ledger = l;
			o.stop = &d->up_stop;
			o.on_event = on_upload_event;
			o.event_ud = d;
			rc = spgw_upload_run(&o, &st, &err);
			if (!rc && st.halted)
				wait_s = g->c->daemon.halt_retry_s;
		}
		if (rc) {
			char line[1024];

			spgw_log(SPGW_LOG_ERROR, NULL, "upload: %s; trying again in %d s",
				 spgw_error_format(&err, line, sizeof(line)),
				 g->c->daemon.halt_retry_s);
			wait_s = g->c->daemon.halt_retry_s;
			if (rc == SPGW_E_LEDGER || rc == SPGW_E_STATE) {
				spgw_ledger_close(l);
				l = NULL;
			}
		}
		spgw_upload_stats_clear(&st);
		/* idle now: the cache's pages go back (an idle daemon stays small) */
		spgw_ledger_shrink(l);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_s;
		pthread_mutex_lock(&d->mu);
		d->seen.running = 0;
		gen_unref(g);
		/* a kick during the run (new records) means look again at once */
		while (!d->up_quit && !d->up_kick && d->generation == generation)
			if (pthread_cond_timedwait(&d->cv, &d->mu, &until) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&d->mu);
	spgw_ledger_close(l);
	return NULL;
}

static void kick_uploader(struct daemon *d)
{
	pthread_mutex_lock(&d->mu);
	d->up_kick = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* ---- pulls ---- */

/* The reconciliation of the last daemon.reconcile.days business days, today included. */
static void recon_run(struct pull *p, struct spgw_ledger *l)
{
	struct spgw_recon_opts o;
	const struct spgw_daemon_conf *dc = &p->g->c->daemon;
	char from[11], to[11];
	int64_t now = (int64_t)time(NULL);

	spgw_status_beijing_date(now, to);
	spgw_status_beijing_date(now - (int64_t)(dc->recon_days - 1) * 86400, from);
	memset(&o, 0, sizeof(o));
	o.config = p->g->c;
	o.schema = p->g->s;
	o.ledger = l;
	o.from = from;
	o.to = to;
	o.detail = dc->recon_detail;
	o.repair = dc->recon_repair;
	o.stop = &p->d->pull_stop;
	p->rc = spgw_reconcile(&o, &p->rr, &p->err);
}

static void *pull_main(void *arg)
{
	struct pull *p = arg;
	struct daemon *d = p->d;
	struct spgw_ledger *l = NULL;
	struct spgw_ingest_opts io;

	if (p->recon) {
		p->rc = spgw_ledger_open_unchecked(p->g->c->state_dir, &l, &p->err);
		if (!p->rc)
			recon_run(p, l);
		spgw_ledger_close(l);
		pthread_mutex_lock(&d->mu);
		p->done = 1;
		pthread_mutex_unlock(&d->mu);
		pthread_kill(d->main_th, SIGUSR1);
		return NULL;
	}

	memset(&io, 0, sizeof(io));
	io.only_source = p->name;
	io.catalog = p->g->c->catalog_path;
	io.holder = "spgw run (the daemon)";
	io.stop = &d->pull_stop;
	/* the main connection checked the ledger when the daemon started */
	p->rc = spgw_ledger_open_unchecked(p->g->c->state_dir, &l, &p->err);
	if (!p->rc)
		p->rc = spgw_ingest_run(p->g->c->sources, p->g->c->nsources, p->g->s, l, &io,
					&p->res, &p->nres, &p->err);
	spgw_ledger_close(l);
	pthread_mutex_lock(&d->mu);
	p->done = 1;
	pthread_mutex_unlock(&d->mu);
	pthread_kill(d->main_th, SIGUSR1); /* wake the loop to reap it */
	return NULL;
}

static int start_pull(struct daemon *d, const char *name)
{
	struct pull *p = spgw_calloc(1, sizeof(*p));
	sigset_t all, old;
	int e;

	if (!p || !(p->name = spgw_strdup(name))) {
		spgw_free(p);
		return -1;
	}
	p->d = d;
	p->recon = !strcmp(name, RECON_JOB);
	utc_text((int64_t)time(NULL), p->started_at);
	pthread_mutex_lock(&d->mu);
	p->g = d->gen;
	p->g->refs++;
	pthread_mutex_unlock(&d->mu);
	/* the thread inherits a mask with every signal blocked: only the main thread takes them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&p->th, NULL, pull_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		spgw_log(SPGW_LOG_ERROR, name, "cannot start a thread for the pull: %s",
			 strerror(e));
		pthread_mutex_lock(&d->mu);
		gen_unref(p->g);
		pthread_mutex_unlock(&d->mu);
		spgw_free(p->name);
		spgw_free(p);
		return -1;
	}
	p->next = d->pulls;
	d->pulls = p;
	d->npulls++;
	d->schedule_dirty = 1;
	spgw_log(SPGW_LOG_DEBUG, name, "pull started");
	return 0;
}

static const char *result_name(const struct daemon *d, enum spgw_rc rc)
{
	if (rc == SPGW_E_RETRY && d->pull_stop)
		return "stopped";
	return rc == SPGW_OK ? "ok" : rc == SPGW_E_BUSY ? "busy" : "failed";
}

static void raise_alarm(struct daemon *d, const char *name, const char *subject,
			const char *message);
static void clear_alarm(struct daemon *d, const char *name, const char *subject);

/* A finished reconciliation: its outcome to the log, an alarm and the metrics. */
static void record_recon(struct daemon *d, struct pull *p)
{
	char line[1024], msg[900];

	if (p->rc) {
		spgw_log(SPGW_LOG_ERROR, NULL, "reconciliation failed: %s",
			 spgw_error_format(&p->err, line, sizeof(line)));
		snprintf(msg, sizeof(msg), "the scheduled reconciliation failed: %.800s", line);
		raise_alarm(d, SPGW_ALARM_RECON, "", msg);
		return;
	}
	spgw_metrics_gauge_set(d->metrics, "spgw_reconcile_differing_days",
			       "days that differed in the last reconciliation", NULL,
			       (double)p->rr.differences);
	spgw_metrics_gauge_set(d->metrics, "spgw_reconcile_incomplete",
			       "1 when the last reconciliation could not know everything", NULL,
			       p->rr.incomplete);
	spgw_metrics_gauge_set(d->metrics, "spgw_reconcile_time_seconds",
			       "when the last reconciliation ended (Unix time)", NULL,
			       (double)time(NULL));
	if (p->rr.differences || p->rr.incomplete) {
		snprintf(msg, sizeof(msg), "reconciliation %lld of %s to %s: %lld day(s) differ%s%s%s;"
			 " spgw reconcile --run %lld shows them",
			 (long long)p->rr.run, p->rr.from, p->rr.to, (long long)p->rr.differences,
			 p->rr.incomplete ? ", not everything could be known (" : "",
			 p->rr.incomplete ? p->rr.message : "", p->rr.incomplete ? ")" : "",
			 (long long)p->rr.run);
		spgw_log(SPGW_LOG_WARNING, NULL, "%s", msg);
		raise_alarm(d, SPGW_ALARM_RECON, "", msg);
	} else {
		spgw_log(SPGW_LOG_INFO, NULL, "reconciliation %lld of %s to %s: everything agrees",
			 (long long)p->rr.run, p->rr.from, p->rr.to);
		clear_alarm(d, SPGW_ALARM_RECON, NULL);
	}
	if (p->rr.requeued)
		kick_uploader(d);
}

/* A finished pull: its outcome to the log, the ledger's runs and the metrics. */
static void record_pull(struct daemon *d, struct pull *p)
{
	char finished[24], line[1024];
	size_t i;

	if (p->recon) {
		record_recon(d, p);
		return;
	}

	utc_text((int64_t)time(NULL), finished);
	if (p->rc && !p->nres) {
		/* nothing ran: the ledger or the mappings refused before any source */
		struct spgw_run_row r;
		struct spgw_error e;

		memset(&r, 0, sizeof(r));
		memset(&e, 0, sizeof(e));
		spgw_error_format(&p->err, line, sizeof(line));
		spgw_log(SPGW_LOG_ERROR, p->name, "pull failed: %s", line);
		r.source = p->name;
		r.kind = "pull";
		r.started_at = p->started_at;
		r.finished_at = finished;
		r.result = "failed";
		r.error_code = p->rc;
		r.message = line;
		if (spgw_ledger_run_add(d->ledger, &r, &e))
			spgw_log(SPGW_LOG_ERROR, p->name, "cannot record the pull: %s", e.text);
		{
			const char *labels[] = { "source", p->name, "result", "failed", NULL };

			count(d, "spgw_pulls_total", "pulls by source and result", labels, 1);
		}
		return;
	}
	for (i = 0; i < p->nres; i++) {
		const struct spgw_ingest_result *res = &p->res[i];
		const struct spgw_pipeline_stats *st = &res->stats;
		int catalog = !strncmp(res->source->name, "catalog:", 8);
		struct spgw_run_row r;
		struct spgw_error e;

		memset(&r, 0, sizeof(r));
		memset(&e, 0, sizeof(e));
		line[0] = '\0';
		if (res->rc)
			spgw_error_format(&res->error, line, sizeof(line));
		r.source = res->source->name;
		r.kind = catalog ? "catalog" : "pull";
		r.started_at = p->started_at;
		r.finished_at = finished;
		r.result = result_name(d, res->rc);
		r.error_code = res->rc;
		r.records = (int64_t)st->records;
		r.added = (int64_t)st->added;
		r.changed = (int64_t)st->versions;
		r.quarantined = (int64_t)st->quarantined;
		r.message = res->rc ? line : NULL;
		if (res->rc == SPGW_E_BUSY)
			spgw_log(SPGW_LOG_WARNING, res->source->name, "not pulled: %s", line);
		else if (res->rc)
			spgw_log(SPGW_LOG_ERROR, res->source->name, "pull failed after %.1f s: %s",
				 res->seconds, line);
		else if (st->records || st->added || st->versions || st->quarantined)
			spgw_log(SPGW_LOG_INFO, res->source->name,
				 "pulled %llu records in %.1f s: %llu new, %llu changed, %llu "
				 "quarantined",
				 (unsigned long long)st->records, res->seconds,
				 (unsigned long long)st->added, (unsigned long long)st->versions,
				 (unsigned long long)st->quarantined);
		if (spgw_ledger_run_add(d->ledger, &r, &e))
			spgw_log(SPGW_LOG_ERROR, res->source->name, "cannot record the pull: %s",
				 e.text);
		{
			const char *src[] = { "source", res->source->name, "region",
					      res->source->region, NULL };
			const char *res_l[] = { "source", res->source->name, "result", r.result,
						NULL };

			count(d, "spgw_pulls_total", "pulls by source and result", res_l, 1);
			count(d, "spgw_source_records_total", "source records read (committed)", src,
			      (double)st->records);
			count(d, "spgw_source_new_total", "new keys stored", src, (double)st->added);
			count(d, "spgw_source_changed_total", "new versions of known keys", src,
			      (double)st->versions);
			count(d, "spgw_source_quarantined_total", "records put in quarantine", src,
			      (double)st->quarantined);
			if (res->rc == SPGW_E_PLUGIN)
				count(d, "spgw_plugin_restarts_total",
				      "plugin processes that crashed, hung or were stopped; the next "
				      "run starts a new one",
				      src, 1);
		}
	}
}

/* Join the pulls that ended; returns how many. */
static size_t reap(struct daemon *d)
{
	struct pull **pp = &d->pulls, *p;
	size_t n = 0;
	int stored = 0;

	while ((p = *pp)) {
		int done;

		pthread_mutex_lock(&d->mu);
		done = p->done;
		pthread_mutex_unlock(&d->mu);
		if (!done) {
			pp = &p->next;
			continue;
		}
		pthread_join(p->th, NULL);
		*pp = p->next;
		d->npulls--;
		record_pull(d, p);
		for (size_t i = 0; i < p->nres; i++)
			stored |= p->res[i].stats.added || p->res[i].stats.versions;
		spgw_sched_done(d->sched, p->name, (int64_t)time(NULL));
		pthread_mutex_lock(&d->mu);
		gen_unref(p->g);
		pthread_mutex_unlock(&d->mu);
		spgw_free(p->res);
		spgw_recon_result_clear(&p->rr);
		spgw_free(p->name);
		spgw_free(p);
		n++;
	}
	if (n)
		d->schedule_dirty = 1;
	if (stored)
		kick_uploader(d);
	return n;
}

/* ---- alarms and the heartbeat ---- */

struct sync {
	struct daemon *d;
	json_t *seen; /* "name\tsubject" -> true */
};

static void raise_alarm(struct daemon *d, const char *name, const char *subject,
			const char *message)
{
	struct spgw_error e;
	int is_new = 0;

	memset(&e, 0, sizeof(e));
	if (spgw_ledger_alarm_raise(d->ledger, name, subject, message, &is_new, &e))
		spgw_log(SPGW_LOG_ERROR, NULL, "cannot store alarm %s: %s", name, e.text);
	else if (is_new)
		spgw_log(SPGW_LOG_ERROR, subject && subject[0] ? subject : NULL, "ALARM %s: %s", name,
			 message);
}

static void clear_alarm(struct daemon *d, const char *name, const char *subject)
{
	struct spgw_error e;
	int n = 0;

	memset(&e, 0, sizeof(e));
	if (!spgw_ledger_alarm_clear(d->ledger, name, subject, &n, &e) && n)
		spgw_log(SPGW_LOG_INFO, subject && subject[0] ? subject : NULL, "alarm %s cleared",
			 name);
}

static enum spgw_rc sync_live(void *ud, const char *name, const char *subject,
			      const char *message)
{
	struct sync *s = ud;
	char key[600];

	snprintf(key, sizeof(key), "%s\t%s", name, subject ? subject : "");
	json_object_set_new(s->seen, key, json_true());
	raise_alarm(s->d, name, subject, message);
	return SPGW_OK;
}

static enum spgw_rc clear_gone(void *ud, const struct spgw_alarm_row *a)
{
	struct sync *s = ud;
	char key[600];

	if (!spgw_alarm_is_checked(a->name))
		return SPGW_OK;
	snprintf(key, sizeof(key), "%s\t%s", a->name, a->subject);
	if (!json_object_get(s->seen, key)) {
		/* collected here, cleared after the walk (no writes while reading) */
		json_t *gone = json_object_get(s->seen, "\n");

		json_array_append_new(gone, json_pack("[s,s]", a->name, a->subject));
	}
	return SPGW_OK;
}

/* The alarms the uploader's reports stand for, and the conditions read from the state. */
static void sync_alarms(struct daemon *d, const struct gen *g, int64_t now)
{
	struct upload_seen seen;
	struct sync s = { d, json_object() };
	struct spgw_error e;
	size_t i;
	json_t *gone = json_array(), *v;
	char msg[700];

	pthread_mutex_lock(&d->mu);
	seen = d->seen;
	pthread_mutex_unlock(&d->mu);
	if (seen.halt_status) {
		snprintf(msg, sizeof(msg), "the national platform stopped our sending: %s; it is "
			 "tried again every %d s and after a reload",
			 seen.halt_text, g->c->daemon.halt_retry_s);
		raise_alarm(d, SPGW_ALARM_IDENTITY, g->c->national.url, msg);
	} else {
		clear_alarm(d, SPGW_ALARM_IDENTITY, NULL);
	}
	if (seen.receipt_bad) {
		snprintf(msg, sizeof(msg), "an answer of the national platform was not accepted as "
			 "proof of delivery, its records stay pending: %s; check "
			 "national_public_key",
			 seen.receipt_text);
		raise_alarm(d, SPGW_ALARM_RECEIPT, g->c->national.url, msg);
	} else {
		clear_alarm(d, SPGW_ALARM_RECEIPT, NULL);
	}
	if (seen.have_skew && (seen.skew > g->c->daemon.alarm_clock_skew_s ||
			       seen.skew < -g->c->daemon.alarm_clock_skew_s)) {
		snprintf(msg, sizeof(msg), "our clock is %.0f s %s the national platform's (alarm "
			 "beyond %d s; it refuses signatures more than 300 s off): fix NTP",
			 seen.skew > 0 ? seen.skew : -seen.skew, seen.skew > 0 ? "behind" : "ahead of",
			 g->c->daemon.alarm_clock_skew_s);
		raise_alarm(d, SPGW_ALARM_CLOCK, g->c->national.url, msg);
	} else if (seen.have_skew) {
		clear_alarm(d, SPGW_ALARM_CLOCK, NULL);
	}
	memset(&e, 0, sizeof(e));
	if (!s.seen || !gone || json_object_set(s.seen, "\n", gone)) {
		json_decref(s.seen);
		json_decref(gone);
		return;
	}
	if (!spgw_alarm_check(d->ledger, g->c, now, sync_live, &s, &e) &&
	    !spgw_ledger_alarm_each(d->ledger, clear_gone, &s, &e))
		json_array_foreach(gone, i, v)
			clear_alarm(d, json_string_value(json_array_get(v, 0)),
				    json_string_value(json_array_get(v, 1)));
	json_decref(gone);
	json_decref(s.seen);
}

static void store_schedule(struct daemon *d, const struct gen *g)
{
	struct spgw_schedule_row *rows = spgw_calloc(g->c->nsources + 1, sizeof(*rows));
	char (*next)[24] = spgw_calloc(g->c->nsources + 1, sizeof(*next));
	struct spgw_error e;
	size_t i, n = 0;

	if (!rows || !next)
		goto out;
	for (i = 0; i < g->c->nsources; i++) {
		const struct spgw_source *s = &g->c->sources[i];
		int64_t t = spgw_sched_next(d->sched, s->name);

		if (!s->enabled)
			continue;
		rows[n].source = s->name;
		rows[n].cron = s->pull_cron;
		rows[n].running = spgw_sched_running(d->sched, s->name) == 1;
		if (t >= 0) {
			utc_text(t, next[n]);
			rows[n].next_at = next[n];
		}
		n++;
	}
	memset(&e, 0, sizeof(e));
	if (spgw_ledger_schedule_replace(d->ledger, rows, n, &e))
		spgw_log(SPGW_LOG_ERROR, NULL, "cannot store the schedule: %s", e.text);
	else
		d->schedule_dirty = 0;
out:
	spgw_free(rows);
	spgw_free(next);
}

/* Heartbeat, schedule, alarms, the disk pause; whether the ledger answered. */
static void housekeep(struct daemon *d, const char *state)
{
	struct spgw_daemon_row row;
	struct spgw_error e;
	struct gen *g = d->gen;
	int64_t now = (int64_t)time(NULL), free_b;
	int ok;

	memset(&row, 0, sizeof(row));
	memset(&e, 0, sizeof(e));
	row.pid = (int64_t)getpid();
	row.started_at = d->started_at;
	row.config = g->c->path;
	row.state = state;
	ok = spgw_ledger_daemon_beat(d->ledger, &row, &e) == SPGW_OK;
	if (!ok)
		spgw_log(SPGW_LOG_ERROR, NULL, "the ledger refused the heartbeat: %s", e.text);
	pthread_mutex_lock(&d->mu);
	d->ledger_ok = ok;
	pthread_mutex_unlock(&d->mu);
	if (!ok)
		return;
	store_schedule(d, g);
	sync_alarms(d, g, now);
	free_b = spgw_alarm_disk_free(g->c->state_dir);
	if (free_b >= 0 && free_b < g->c->daemon.alarm_disk_free_mb * 1024 * 1024) {
		if (!d->disk_paused)
			spgw_log(SPGW_LOG_ERROR, g->c->state_dir, "pulls paused: %lld MiB free, "
				 "below daemon.alarms.disk_free_mb %lld; they go on when there is "
				 "room",
				 (long long)(free_b >> 20), g->c->daemon.alarm_disk_free_mb);
		d->disk_paused = 1;
	} else if (d->disk_paused) {
		spgw_log(SPGW_LOG_INFO, g->c->state_dir, "pulls resumed: %lld MiB free",
			 (long long)(free_b >> 20));
		d->disk_paused = 0;
	}
	d->last_housekeep = mono_s();
	/* between rounds the daemon holds little: give the page caches and the freed heap back
	 * to the system, so an idle gateway is as small as it looks (glibc's malloc_trim) */
	spgw_ledger_shrink(d->ledger);
	pthread_mutex_lock(&d->status_mu);
	spgw_ledger_shrink(d->status_ledger);
	pthread_mutex_unlock(&d->status_mu);
	if (!d->npulls)
		malloc_trim(0);
}

static void notify_status(struct daemon *d)
{
	sd_notifyf(0, "STATUS=%s; %zu source(s) pulling%s", d->draining ? "draining" : "running",
		   d->npulls, d->disk_paused ? "; pulls paused: disk low" : "");
}

/* ---- reload ---- */

static void reload(struct daemon *d)
{
	struct gen *g, *old = d->gen;
	char first[600];
	size_t i, added = 0, removed = 0, changed = 0;

	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
	spgw_log(SPGW_LOG_INFO, NULL, "reload: reading %s", d->ctx->config_path);
	g = gen_load(d->ctx->config_path, first, sizeof(first));
	if (g && strcmp(g->c->state_dir, old->c->state_dir)) {
		snprintf(first, sizeof(first), "state_dir changed from %s to %s: that needs a "
			 "restart, not a reload", old->c->state_dir, g->c->state_dir);
		spgw_log(SPGW_LOG_ERROR, NULL, "reload: %s", first);
		gen_free(g);
		g = NULL;
	}
	if (!g) {
		char msg[800];

		snprintf(msg, sizeof(msg), "the new configuration was refused, the old one keeps "
			 "running: %s", first);
		spgw_log(SPGW_LOG_ERROR, NULL, "reload refused; still running the configuration "
			 "loaded before (spgw check-config lists every problem)");
		raise_alarm(d, SPGW_ALARM_RELOAD, d->ctx->config_path, msg);
		count(d, "spgw_config_reloads_total", "reloads by result",
		      (const char *const[]){ "result", "refused", NULL }, 1);
		sd_notify(0, "READY=1");
		notify_status(d);
		return;
	}
	clear_alarm(d, SPGW_ALARM_RELOAD, NULL);
	for (i = 0; i < g->c->nsources; i++) {
		const struct spgw_source *was = spgw_config_source(old->c, g->c->sources[i].name);

		if (!was) {
			spgw_log(SPGW_LOG_INFO, g->c->sources[i].name, "reload: source added");
			added++;
		} else if (source_changed(was, &g->c->sources[i])) {
			spgw_log(SPGW_LOG_INFO, g->c->sources[i].name, "reload: source changed%s",
				 spgw_sched_running(d->sched, was->name) == 1
					 ? " (its running pull finishes with the old settings)"
					 : "");
			changed++;
		}
	}
	for (i = 0; i < old->c->nsources; i++)
		if (!spgw_config_source(g->c, old->c->sources[i].name)) {
			spgw_log(SPGW_LOG_INFO, old->c->sources[i].name, "reload: source removed%s",
				 spgw_sched_running(d->sched, old->c->sources[i].name) == 1
					 ? " (its running pull finishes first)"
					 : "");
			removed++;
		}
	schedule_gen(d, g, old, (int64_t)time(NULL));
	pthread_mutex_lock(&d->mu);
	d->gen = g;
	d->generation++;
	gen_unref(old);
	/* the uploader finishes the answers in flight and starts again on the new settings
	 * (keys, certificates, limits are read afresh) */
	d->up_stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	spgw_log_setup_auto(d->ctx->quiet ? SPGW_LOG_ERROR : g->c->log_level, g->c->log_format);
	spgw_log(SPGW_LOG_INFO, NULL, "reload: applied; %zu source(s) added, %zu removed, %zu "
		 "changed, %zu unchanged; the uploader restarts with the new national settings "
		 "and keys",
		 added, removed, changed, g->c->nsources - added - changed);
	count(d, "spgw_config_reloads_total", "reloads by result",
	      (const char *const[]){ "result", "applied", NULL }, 1);
	sd_notify(0, "READY=1");
	notify_status(d);
}

/* ---- the loop ---- */

static int start_due(struct daemon *d, int64_t now)
{
	const char *name;
	int started = 0;

	while ((size_t)d->gen->c->daemon.max_pulls > d->npulls &&
	       spgw_sched_take(d->sched, now, &name)) {
		if (start_pull(d, name)) {
			spgw_sched_done(d->sched, name, now);
			break;
		}
		started++;
	}
	return started;
}

/* Seconds to wait for a signal before the loop turns again. */
static int wait_for(struct daemon *d, int64_t now)
{
	int64_t wake = d->draining || d->disk_paused ? -1 : spgw_sched_wake(d->sched, now);
	int64_t w = TICK_S;

	if (wake >= 0 && wake - now < w)
		w = wake - now;
	if ((size_t)d->gen->c->daemon.max_pulls <= d->npulls)
		w = TICK_S; /* a finishing pull wakes us anyway */
	return w < 0 ? 0 : (int)w;
}

static int drained(struct daemon *d)
{
	int up;

	pthread_mutex_lock(&d->mu);
	up = d->seen.running;
	pthread_mutex_unlock(&d->mu);
	return !d->pulls && !up;
}

static void start_drain(struct daemon *d)
{
	d->draining = 1;
	d->drain_deadline = mono_s() + d->gen->c->daemon.drain_seconds;
	sd_notify(0, "STOPPING=1\nSTATUS=draining: no new pulls; finishing transfers in flight");
	spgw_log(SPGW_LOG_INFO, NULL, "stopping: no new pulls; %zu pull(s) and the transfers "
		 "in flight may finish within %d s (a second SIGTERM exits at once)",
		 d->npulls, d->gen->c->daemon.drain_seconds);
	pthread_mutex_lock(&d->mu);
	d->up_quit = 1;
	d->up_stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static int loop(struct daemon *d)
{
	sigset_t set;
	uint64_t wd_usec = 0;
	int64_t last_wd = 0;
	int watchdog = sd_watchdog_enabled(0, &wd_usec) > 0;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		int64_t now = (int64_t)time(NULL);
		struct timespec ts;
		siginfo_t si;
		int sig, ledger_ok;

		reap(d);
		if (!d->draining && !d->disk_paused)
			start_due(d, now);
		if (d->schedule_dirty || mono_s() - d->last_housekeep >= HOUSEKEEP_S) {
			housekeep(d, d->draining ? "draining" : "running");
			notify_status(d);
			spgw_log_flush();
		}
		pthread_mutex_lock(&d->mu);
		d->loop_beat = mono_s();
		ledger_ok = d->ledger_ok;
		pthread_mutex_unlock(&d->mu);
		/* the watchdog is fed only by a loop that turns and a ledger that answers:
		 * otherwise systemd restarts us, which is what a stuck gateway needs */
		if (watchdog && ledger_ok &&
		    (uint64_t)(mono_s() - last_wd) * 1000000 >= wd_usec / 2) {
			sd_notify(0, "WATCHDOG=1");
			last_wd = mono_s();
		}
		/* pulls may finish while the drain lasts; two seconds before its end the rest
		 * are stopped: their committed pages stay, the rest is read again next time */
		if (d->draining && !d->pull_stop && d->pulls &&
		    mono_s() >= d->drain_deadline - 2) {
			spgw_log(SPGW_LOG_WARNING, NULL, "stopping %zu pull(s) still running at the "
				 "end of the drain", d->npulls);
			d->pull_stop = 1;
		}
		if (d->draining && (drained(d) || mono_s() >= d->drain_deadline)) {
			if (!drained(d))
				spgw_log(SPGW_LOG_WARNING, NULL, "drain took longer than %d s: exiting; "
					 "%zu pull(s) are abandoned (their uncommitted records are "
					 "read again next time) and open batches go again with the "
					 "same id and bytes",
					 d->gen->c->daemon.drain_seconds, d->npulls);
			return drained(d) ? 0 : 1;
		}
		ts.tv_sec = wait_for(d, now);
		if (watchdog && wd_usec / 2000000 < (uint64_t)ts.tv_sec)
			ts.tv_sec = (time_t)(wd_usec / 2000000);
		if (d->draining && ts.tv_sec > 1)
			ts.tv_sec = 1;
		ts.tv_nsec = ts.tv_sec == 0 ? 100000000 : 0;
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGHUP && !d->draining)
			reload(d);
		else if (sig == SIGTERM || sig == SIGINT) {
			if (d->draining) {
				spgw_log(SPGW_LOG_WARNING, NULL, "second stop signal: exiting now; "
					 "nothing is lost (uncommitted pulls are read again, open "
					 "batches go again with the same bytes)");
				spgw_log_flush();
				_exit(0);
			}
			start_drain(d);
		}
	}
}

int spgw_daemon_run(const struct spgw_cmd_ctx *ctx)
{
	struct daemon d;
	struct spgw_error err;
	struct spgw_http_handlers h;
	sigset_t set;
	char first[600];
	int status = SPGW_EXIT_OK, e;

	memset(&d, 0, sizeof(d));
	memset(&err, 0, sizeof(err));
	d.ctx = ctx;
	d.main_th = pthread_self();
	pthread_mutex_init(&d.mu, NULL);
	pthread_mutex_init(&d.status_mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	/* Block the signals the loop takes before any thread exists: threads inherit the mask,
	 * so each of these is delivered to sigtimedwait() and nowhere else. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d.gen = gen_load(ctx->config_path, first, sizeof(first));
	if (!d.gen) {
		fprintf(stderr, "spgw: the configuration has problems (above); nothing was started\n");
		return SPGW_EXIT_CONFIG;
	}
	spgw_log_setup_auto(ctx->quiet ? SPGW_LOG_ERROR
				       : ctx->verbose > 1 ? SPGW_LOG_DEBUG
				       : d.gen->c->log_level,
			    d.gen->c->log_format);
	if (d.gen->c->national.url && d.gen->c->national.insecure)
		spgw_log_banner("INSECURE: TLS verification is off");
	if (spgw_ledger_open(d.gen->c->state_dir, &d.ledger, &err) ||
	    spgw_ledger_open_unchecked(d.gen->c->state_dir, &d.status_ledger, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	d.sched = spgw_sched_new(0);
	d.metrics = spgw_metrics_new();
	if (!d.sched || !d.metrics) {
		fprintf(stderr, "spgw: out of memory starting the daemon\n");
		status = SPGW_EXIT_ERROR;
		goto out;
	}
	utc_text((int64_t)time(NULL), d.started_at);
	schedule_gen(&d, d.gen, NULL, (int64_t)time(NULL));
	spgw_metrics_on_scrape(d.metrics, on_scrape, &d);
	spgw_metrics_gauge_set(d.metrics, "spgw_start_time_seconds",
			       "when the daemon started (Unix time)", NULL, (double)time(NULL));
	if (d.gen->c->daemon.listen) {
		memset(&h, 0, sizeof(h));
		h.metrics = d.metrics;
		h.healthz = healthz;
		h.status_json = status_json;
		h.ud = &d;
		if (spgw_http_start(d.gen->c->daemon.listen, &h, &d.http, &err)) {
			spgw_cmd_perror(&err);
			status = SPGW_EXIT_CONFIG;
			goto out;
		}
		spgw_log(SPGW_LOG_INFO, NULL, "serving /metrics, /healthz and /status on http://%s",
			 d.gen->c->daemon.listen);
	}
	pthread_mutex_lock(&d.mu);
	d.ledger_ok = 1;
	d.loop_beat = mono_s();
	pthread_mutex_unlock(&d.mu);
	{
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		e = pthread_create(&d.up_th, NULL, upload_main, &d);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (e) {
		fprintf(stderr, "spgw: cannot start the uploader's thread: %s\n", strerror(e));
		status = SPGW_EXIT_ERROR;
		goto out;
	}
	d.up_started = 1;
	housekeep(&d, "running");
	spgw_log(SPGW_LOG_INFO, NULL, "running: %zu source(s) scheduled, state in %s (pid %d)",
		 d.gen->c->nsources, d.gen->c->state_dir, (int)getpid());
	sd_notify(0, "READY=1");
	notify_status(&d);
	status = loop(&d) ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
	/* a drain that ran out of time: leave the rest to the exit (see daemon.h) */
	if (status != SPGW_EXIT_OK) {
		housekeep(&d, "stopped");
		spgw_log_flush();
		_exit(SPGW_EXIT_OK);
	}
out:
	if (d.up_started) {
		pthread_mutex_lock(&d.mu);
		d.up_quit = 1;
		d.up_stop = 1;
		pthread_cond_signal(&d.cv);
		pthread_mutex_unlock(&d.mu);
		pthread_join(d.up_th, NULL);
	}
	while (d.pulls) {
		reap(&d);
		if (d.pulls)
			usleep(100000);
	}
	if (d.ledger && status == SPGW_EXIT_OK)
		housekeep(&d, "stopped");
	spgw_http_stop(d.http);
	spgw_log(SPGW_LOG_INFO, NULL, "stopped");
	spgw_log_flush();
	spgw_metrics_free(d.metrics);
	spgw_sched_free(d.sched);
	spgw_ledger_close(d.status_ledger);
	spgw_ledger_close(d.ledger);
	if (d.gen)
		gen_unref(d.gen);
	pthread_cond_destroy(&d.cv);
	pthread_mutex_destroy(&d.status_mu);
	pthread_mutex_destroy(&d.mu);
	return status;
}
