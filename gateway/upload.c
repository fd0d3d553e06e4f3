/*
 * The uploader (see upload.h).
 *
 * One thread, libcurl's multi interface: up to max_in_flight transfers share kept-alive
 * connections. Batches are formed only when a transfer slot is free, so memory holds at most
 * max_in_flight bodies whatever the backlog. Work goes in rounds: a round forms batches from
 * every (region, table) in the schema's upload order; records held back because their parent
 * was still on its way are picked up by the next round, once the parent is delivered. A run
 * ends when a round finds nothing to send.
 *
 * Backoff is per endpoint, not per batch: when the national platform is overloaded or down,
 * every transfer waits, rather than each batch hammering it on its own schedule.
 */
#include <curl/curl.h>
#include <stdarg.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "buf.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "sign.h"
#include "upload.h"
#include "upload_answer.h"
#include "upload_int.h"

/* ---- statistics per (region, table) ---- */

static struct spgw_upload_group *group_stats(struct uploader *u, const char *region,
					     const char *table)
{
	struct spgw_upload_stats *st = u->st;
	struct spgw_upload_group *g;
	size_t i;

	for (i = 0; i < st->ngroups; i++)
		if (!strcmp(st->groups[i].region, region) && !strcmp(st->groups[i].table, table))
			return &st->groups[i];
	g = spgw_realloc(st->groups, (st->ngroups + 1) * sizeof(*g));
	if (!g)
		return NULL;
	st->groups = g;
	g += st->ngroups++;
	memset(g, 0, sizeof(*g));
	snprintf(g->region, sizeof(g->region), "%s", region);
	snprintf(g->table, sizeof(g->table), "%s", table);
	return g;
}

void spgw_upload_stats_clear(struct spgw_upload_stats *st)
{
	spgw_free(st->groups);
	memset(st, 0, sizeof(*st));
}

/* ---- the queue of batches to send ---- */

static enum spgw_rc enqueue(struct uploader *u, struct spgw_batch *b, int front)
{
	struct queued *q = spgw_malloc(sizeof(*q));

	if (!q) {
		spgw_batch_free(b); /* stored: it goes again after the next start */
		return spgw_error_nomem(u->err, "queueing a batch");
	}
	q->b = b;
	q->next = NULL;
	if (front) {
		q->next = u->queue;
		u->queue = q;
		if (!u->queue_tail)
			u->queue_tail = q;
	} else {
		if (u->queue_tail)
			u->queue_tail->next = q;
		else
			u->queue = q;
		u->queue_tail = q;
	}
	return SPGW_OK;
}

static struct spgw_batch *dequeue(struct uploader *u)
{
	struct queued *q = u->queue;
	struct spgw_batch *b;

	if (!q)
		return NULL;
	u->queue = q->next;
	if (!u->queue)
		u->queue_tail = NULL;
	b = q->b;
	spgw_free(q);
	return b;
}

static enum spgw_rc load_open(void *ud, const struct spgw_batch_row *row)
{
	struct uploader *u = ud;
	struct spgw_batch *b;
	struct spgw_error berr;
	enum spgw_rc rc;

	memset(&berr, 0, sizeof(berr));
	rc = spgw_batch_from_row(u->o->ledger, row, &b, &berr);
	if (rc == SPGW_E_LEDGER) {
		/* Its exact bytes cannot be made again, so its id cannot be sent again (409).
		 * Its records go in a new batch: those the national side already took come
		 * back "duplicate", so nothing is counted twice. */
		spgw_log(SPGW_LOG_ERROR, row->id, "%s; its records go in a new batch", berr.text);
		return spgw_ledger_batch_release(u->o->ledger, row->id, "conflict", berr.text,
						 u->err);
	}
	if (rc) {
		spgw_error_set(u->err, rc, berr.source, berr.line, berr.column, "%s", berr.text);
		return rc;
	}
	spgw_log(SPGW_LOG_INFO, row->id, "resending batch of %lld %s records for %s formed at "
		 "%s (attempt %lld)", (long long)row->records, row->table, row->region,
		 row->created_at, (long long)row->attempts + 1);
	return enqueue(u, b, 0);
}

/* ---- rounds and groups ---- */

static enum spgw_rc add_group(void *ud, const char *region, const char *table, int64_t ready)
{
	struct uploader *u = ud;
	const struct spgw_table *t = spgw_schema_table(u->o->schema, table);
	struct group *g = spgw_realloc(u->groups, (u->ngroups + 1) * sizeof(*g));

	(void)ready;
	if (!g)
		return spgw_error_nomem(u->err, "listing what is waiting");
	u->groups = g;
	g += u->ngroups++;
	memset(g, 0, sizeof(*g));
	snprintf(g->region, sizeof(g->region), "%s", region);
	snprintf(g->table, sizeof(g->table), "%s", table);
	/* a table the schema no longer has still goes, last, and the national side answers */
	g->level = t ? spgw_table_level(t) : 1000;
	g->max_records = u->n->batch_records;
	return SPGW_OK;
}

static int by_level(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c = x->level - y->level;

	if (!c)
		c = strcmp(x->table, y->table);
	return c ? c : strcmp(x->region, y->region);
}

static enum spgw_rc start_round(struct uploader *u)
{
	struct group *old = u->groups;
	size_t nold = u->ngroups, i, j;
	int64_t dated = 0;
	enum spgw_rc rc;

	rc = spgw_ledger_resolve_days(u->o->ledger, &dated, u->err);
	if (rc)
		return rc;
	if (dated)
		spgw_log(SPGW_LOG_INFO, NULL, "%lld records got their business day from the "
			 "record it is inherited from", (long long)dated);
	u->groups = NULL;
	u->ngroups = 0;
	rc = spgw_ledger_ready_groups(u->o->ledger, add_group, u, u->err);
	/* keep what 413s taught us about each group's batch size */
	for (i = 0; i < u->ngroups; i++)
		for (j = 0; j < nold; j++)
			if (!strcmp(old[j].region, u->groups[i].region) &&
			    !strcmp(old[j].table, u->groups[i].table))
				u->groups[i].max_records = old[j].max_records;
	spgw_free(old);
	if (rc)
		return rc;
	if (u->ngroups > 1)
		qsort(u->groups, u->ngroups, sizeof(*u->groups), by_level);
	u->gi = 0;
	u->progress = 0;
	return SPGW_OK;
}

/* The next batch to send: a queued one, else a new one from the current round. */
static enum spgw_rc next_batch(struct uploader *u, struct spgw_batch **out)
{
	enum spgw_rc rc;

	*out = dequeue(u);
	while (!*out && u->gi < u->ngroups) {
		struct group *g = &u->groups[u->gi];

		/* A group waits while a batch of a lower level is still in flight: its
		 * records would mostly be held for their parents anyway. */
		rc = spgw_batch_form(u->o->ledger, spgw_schema_id(u->o->schema), g->region,
				     g->table, g->max_records, u->n->batch_bytes, &g->after, out,
				     u->err);
		if (rc)
			return rc;
		if (*out)
			u->progress++;
		else
			u->gi++;
	}
	return SPGW_OK;
}

/* A log line about batch `b` (and record `key`, when given), with them as context: the
 * region, table and batch go into journald's fields and JSON members, and repeats of the
 * same line for the same batch are summarised, not printed a thousand times. */
static void batch_log(enum spgw_log_level level, const struct spgw_batch *b, const char *key,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void batch_log(enum spgw_log_level level, const struct spgw_batch *b, const char *key,
		      const char *fmt, ...)
{
	struct spgw_log_ctx ctx;
	va_list ap;

	memset(&ctx, 0, sizeof(ctx));
	ctx.region = b->region;
	ctx.table = b->table;
	ctx.batch = b->id;
	ctx.key = key;
	va_start(ap, fmt);
	spgw_log_vat(level, &ctx, fmt, ap);
	va_end(ap);
}

/* ---- answers ---- */

/* Back off the whole endpoint: full jitter over an exponential ceiling, at least what the
 * platform asked for with Retry-After. */
static void back_off(struct uploader *u, long retry_after)
{
	int64_t ceiling = u->n->retry_base_ms, delay;
	unsigned int r;
	int i;

	/* Transfers that were in flight together fail together: one failure of the endpoint,
	 * not one per transfer, so the backoff does not grow max_in_flight times as fast. */
	if (now_ms() < u->until) {
		if (retry_after >= 0 && now_ms() + retry_after * 1000 > u->until)
			u->until = now_ms() + retry_after * 1000;
		u->st->retries++;
		return;
	}
	for (i = 0; i < u->failures && ceiling < u->n->retry_max_ms; i++)
		ceiling *= 2;
	if (ceiling > u->n->retry_max_ms)
		ceiling = u->n->retry_max_ms;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	delay = (int64_t)(r % (unsigned int)(ceiling + 1));
	if (retry_after >= 0 && retry_after * 1000 > delay)
		delay = retry_after * 1000;
	u->failures++;
	if (now_ms() + delay > u->until)
		u->until = now_ms() + delay;
	u->st->retries++;
}

/* Note the attempt and put the transfer's batch first in the queue, same id and bytes. */
static enum spgw_rc keep(struct uploader *u, struct xfer *x, int status, const char *why)
{
	struct spgw_batch *b = x->b;
	enum spgw_rc rc;

	x->b = NULL;
	rc = spgw_ledger_batch_attempt(u->o->ledger, b->id, status, why, u->err);
	if (rc) {
		spgw_batch_free(b); /* stored: it goes again after the next start */
		return rc;
	}
	return enqueue(u, b, 1);
}

/* Give the batch back to the queue to be sent again after the backoff. */
static enum spgw_rc again(struct uploader *u, struct xfer *x, int status, const char *why,
			  long retry_after)
{
	struct spgw_upload_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SPGW_UPLOAD_RETRY;
	ev.region = x->b->region;
	ev.table = x->b->table;
	ev.batch = x->b->id;
	ev.status = status;
	ev.cause = status == 0	       ? "transport"
		   : status == 200     ? "receipt"
		   : status == 429     ? "http_429"
		   : status == 409     ? "http_409"
		   : status >= 500     ? "http_5xx"
				       : "http_other";
	spgw_upload_emit(u, &ev);
	back_off(u, retry_after);
	batch_log(SPGW_LOG_WARNING, x->b, NULL, "%s; %lld records stay pending and are sent again "
		  "after a backoff", why, (long long)x->b->records);
	return keep(u, x, status, why);
}

static void halt(struct uploader *u, long status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void halt(struct uploader *u, long status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->st->halt_reason, sizeof(u->st->halt_reason), fmt, ap);
	va_end(ap);
	u->st->halted = 1;
	spgw_log(SPGW_LOG_ERROR, u->n->url, "ALERT: sending stopped: %s", u->st->halt_reason);
	{
		struct spgw_upload_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.kind = SPGW_UPLOAD_HALTED;
		ev.status = status;
		ev.text = u->st->halt_reason;
		spgw_upload_emit(u, &ev);
	}
}

static enum spgw_rc settle_200(struct uploader *u, struct xfer *x)
{
	struct spgw_batch *b = x->b;
	struct spgw_answer a;
	struct spgw_error aerr;
	struct spgw_upload_group *g;
	enum spgw_rc rc;
	size_t i;

	memset(&aerr, 0, sizeof(aerr));
	rc = spgw_answer_parse(x->answer.data ? x->answer.data : "", x->answer.len, b,
			       b->content_digest, u->national, &a, &aerr);
	if (rc == SPGW_E_INVALID) {
		char why[700];

		spgw_answer_free(&a);
		struct spgw_upload_event ev;

		u->st->receipts_bad++;
		snprintf(why, sizeof(why), "ALERT: the national answer is not accepted as proof "
			 "of delivery: %s", aerr.text);
		memset(&ev, 0, sizeof(ev));
		ev.kind = SPGW_UPLOAD_RECEIPT_BAD;
		ev.region = b->region;
		ev.table = b->table;
		ev.batch = b->id;
		ev.status = 200;
		ev.text = aerr.text;
		spgw_upload_emit(u, &ev);
		return again(u, x, 200, why, -1);
	}
	if (rc) {
		spgw_answer_free(&a);
		return spgw_error_set(u->err, rc, b->id, 0, 0, "%s", aerr.text);
	}
	a.receipt.national_key = u->national_pem;
	rc = spgw_ledger_batch_done(u->o->ledger, b->id, a.results, a.n, &a.receipt, u->err);
	if (rc == SPGW_OK) {
		u->failures = 0;
		u->progress++; /* delivered parents may let held children go next round */
		u->st->batches_done++;
		g = group_stats(u, b->region, b->table);
		if (g) {
			g->batches++;
			g->accepted += a.receipt.accepted;
			g->duplicate += a.receipt.duplicate;
			g->rejected += a.receipt.rejected;
		}
		for (i = 0; i < a.n; i++)
			if (a.results[i].status == SPGW_REC_REJECTED)
				batch_log(SPGW_LOG_WARNING, b, a.results[i].key,
					  "rejected by the national platform, now a dead letter: "
					  "%s", a.results[i].errors);
		batch_log(SPGW_LOG_INFO, b, NULL, "%lld accepted, %lld duplicate, %lld rejected; "
			  "receipt verified", (long long)a.receipt.accepted,
			  (long long)a.receipt.duplicate, (long long)a.receipt.rejected);
		{
			struct spgw_upload_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.kind = SPGW_UPLOAD_DELIVERED;
			ev.region = b->region;
			ev.table = b->table;
			ev.batch = b->id;
			ev.status = 200;
			ev.accepted = a.receipt.accepted;
			ev.duplicate = a.receipt.duplicate;
			ev.rejected = a.receipt.rejected;
			spgw_upload_emit(u, &ev);
		}
	}
	spgw_answer_free(&a);
	spgw_batch_free(b);
	x->b = NULL;
	return rc;
}

/* The reason list stored with records of a batch refused as a whole. */
static char *batch_reason(int status, const char *code, const char *message)
{
	json_t *r = json_pack("[{s:n,s:s,s:s,s:s}]", "field", "code", code[0] ? code : "http",
			      "message", message[0] ? message : "(no message)", "en",
			      status == 400 ? "the national platform refused the whole batch as "
					      "malformed"
			      : status == 413 ? "the national platform refused the record as too "
						"large even alone"
					    : "the whole batch was refused");
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	return s;
}

/* Tell the watcher how the transfer went and, from the Date header, how far our clock is
 * from the platform's (the clock decides the signature timestamps it accepts). */
static void answered(struct uploader *u, struct xfer *x)
{
	struct spgw_upload_event ev;
	curl_off_t us = 0;
	long status = 0;

	if (!u->o->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &us);
	ev.kind = SPGW_UPLOAD_ANSWERED;
	ev.region = x->b->region;
	ev.table = x->b->table;
	ev.batch = x->b->id;
	ev.status = status;
	ev.seconds = (double)us / 1e6;
	ev.bytes = (int64_t)x->sent;
	spgw_upload_emit(u, &ev);
	if (x->date > 0) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = SPGW_UPLOAD_CLOCK;
		ev.skew = difftime(x->date, time(NULL));
		spgw_upload_emit(u, &ev);
	}
}

static enum spgw_rc finish(struct uploader *u, struct xfer *x, CURLcode cc)
{
	struct spgw_batch *b = x->b;
	long status = 0;
	char code[32], message[256], why[600];
	enum spgw_rc rc = SPGW_OK;

	curl_multi_remove_handle(u->multi, x->easy);
	answered(u, x);
	if (cc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s: %s", curl_easy_strerror(cc),
			 x->errbuf[0] ? x->errbuf : "no detail");
		/* A certificate problem does not pass by waiting: stop and say so. */
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CERTPROBLEM) {
			halt(u, 0, "TLS: %s; check \"ca_file\" and that \"url\" names the host in "
			     "the national platform's certificate", why);
			rc = keep(u, x, 0, why);
		} else {
			rc = again(u, x, 0, why, -1);
		}
		goto out;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200) {
		rc = settle_200(u, x);
		goto out;
	}
	spgw_answer_error(x->answer.data, x->answer.len, code, message);
	snprintf(why, sizeof(why), "HTTP %ld %s%s%s", status, code, message[0] ? ": " : "",
		 message);
	switch (status) {
	case 400: {
		char *reason = batch_reason(400, code, message);
		struct spgw_upload_group *g = group_stats(u, b->region, b->table);

		if (!reason) {
			rc = spgw_error_nomem(u->err, "dead-lettering a batch");
			break;
		}
		batch_log(SPGW_LOG_ERROR, b, NULL, "the national platform refused the batch as "
			 "malformed (%s); its %lld records are now dead letters (spgw dlq list)",
			 why, (long long)b->records);
		rc = spgw_ledger_batch_dead(u->o->ledger, b->id, 400, reason, u->err);
		free(reason);
		if (g)
			g->dead += b->records;
		spgw_batch_free(b);
		x->b = NULL;
		break;
	}
	case 401:
	case 403:
	case 404:
	case 405:
		halt(u, status, "%s; records are kept; %s", why,
		     status == 404 || status == 405
			     ? "check \"url\" in the gateway file"
			     : "check \"gateway_id\", the key, that its public key is registered "
			       "with the national platform for these regions, and the clock");
		rc = keep(u, x, (int)status, why);
		break;
	case 409:
		if (!strcmp(code, "batch_conflict")) {
			batch_log(SPGW_LOG_WARNING, b, NULL, "%s: the records go in a new batch", why);
			rc = spgw_ledger_batch_release(u->o->ledger, b->id, "conflict", why,
						       u->err);
			spgw_batch_free(b);
			x->b = NULL;
			u->progress++; /* a new round picks them up */
		} else {
			/* a nonce replay: the next send signs with a fresh nonce */
			rc = keep(u, x, 409, why);
		}
		break;
	case 413: {
		size_t i;

		if (b->records <= 1) {
			/* one record the platform finds too large: no split can help */
			char *reason = batch_reason(413, code[0] ? code : "too_large",
						    message[0] ? message
							       : "the record alone is too large");

			if (!reason) {
				rc = spgw_error_nomem(u->err, "dead-lettering a batch");
				break;
			}
			batch_log(SPGW_LOG_ERROR, b, NULL, "%s for a single record: it is now a "
				 "dead letter (spgw dlq list)", why);
			rc = spgw_ledger_batch_dead(u->o->ledger, b->id, 413, reason, u->err);
			free(reason);
			spgw_batch_free(b);
			x->b = NULL;
			break;
		}
		batch_log(SPGW_LOG_WARNING, b, NULL, "%s: %lld records go again in batches half "
			 "the size", why, (long long)b->records);
		for (i = 0; i < u->ngroups; i++)
			if (!strcmp(u->groups[i].region, b->region) &&
			    !strcmp(u->groups[i].table, b->table)) {
				int half = (int)(b->records / 2);

				u->groups[i].max_records = half > 0 ? half : 1;
			}
		rc = spgw_ledger_batch_release(u->o->ledger, b->id, "split", why, u->err);
		spgw_batch_free(b);
		x->b = NULL;
		u->progress++;
		break;
	}
	default:
		rc = again(u, x, (int)status, why, x->retry_after);
		break;
	}
out:
	spgw_upload_xfer_reset(x);
	return rc;
}

/* ---- the loop ---- */

/* Split BASE into the request URL for batches and the path that is signed. */
static enum spgw_rc set_url(struct uploader *u)
{
	const char *base = u->n->url, *host = base + strlen("https://");
	const char *slash = strchr(host, '/');
	size_t n = strlen(base) + sizeof("/batches");

	u->url = spgw_malloc(n);
	u->path = spgw_strdup(slash ? slash : "");
	if (!u->url || !u->path)
		return spgw_error_nomem(u->err, "reading the national url");
	snprintf(u->url, n, "%s/batches", base);
	n = strlen(u->path) + sizeof("/batches");
	{
		char *p = spgw_malloc(n);

		if (!p)
			return spgw_error_nomem(u->err, "reading the national url");
		snprintf(p, n, "%s/batches", u->path);
		spgw_free(u->path);
		u->path = p;
	}
	return SPGW_OK;
}

static enum spgw_rc load_keys(struct uploader *u)
{
	const struct spgw_national *n = u->n;
	enum spgw_rc rc;
	int created = 0;

	rc = spgw_sign_alg_parse(n->alg, &u->alg, u->err);
	if (!rc)
		rc = spgw_keys_ensure(n, u->alg, &created, u->err);
	if (rc)
		return rc;
	if (created)
		spgw_log(SPGW_LOG_WARNING, n->key, "generated the gateway's %s key pair on first "
			 "run; register %s with the national platform for gateway %s",
			 n->alg, n->public_key, n->gateway_id);
	rc = spgw_key_load_private(n->key, &u->key, u->err);
	if (!rc && spgw_key_alg(u->key) != u->alg)
		rc = spgw_error_set(u->err, SPGW_E_CONFIG, n->key, 0, 0,
				    "the key is %s but \"alg\" is %s: set \"alg\" to match or "
				    "generate a key with spgw keygen --alg %s",
				    spgw_sign_alg_name(spgw_key_alg(u->key)), n->alg, n->alg);
	if (!rc && !n->national_public_key)
		rc = spgw_error_set(u->err, SPGW_E_CONFIG, u->o->config->path, 0, 0,
				    "\"national\" has no \"national_public_key\": receipts cannot "
				    "be verified without it");
	if (!rc)
		rc = spgw_key_load_public(n->national_public_key, &u->national, u->err);
	if (!rc && !(u->national_pem = spgw_key_public_pem(u->national)))
		rc = spgw_error_nomem(u->err, "reading the national public key");
	return rc;
}

static int busy_count(const struct uploader *u)
{
	int i, k = 0;

	for (i = 0; i < u->nx; i++)
		k += u->x[i].busy;
	return k;
}

static int stopping(const struct uploader *u)
{
	return u->st->halted || (u->o->stop && *u->o->stop) ||
	       (u->deadline && now_ms() >= u->deadline);
}

static enum spgw_rc loop(struct uploader *u)
{
	enum spgw_rc rc = SPGW_OK;
	int running, i;

	rc = start_round(u);
	while (!rc) {
		int busy = busy_count(u), timeout = 200;
		CURLMsg *m;

		/* After a failure of the endpoint one transfer probes it; the others follow
		 * only once it answers, so a platform coming back is not met by every transfer
		 * at once, and a platform that is down sees one attempt per backoff. */
		while (!rc && !stopping(u) && busy < (u->failures ? 1 : u->nx) &&
		       now_ms() >= u->until) {
			struct spgw_batch *b;

			rc = next_batch(u, &b);
			if (rc || !b)
				break;
			for (i = 0; i < u->nx && u->x[i].busy; i++)
				;
			rc = spgw_upload_xfer_start(u, &u->x[i], b);
			if (rc)
				spgw_batch_free(b); /* stored: it goes again after the next start */
			busy++;
		}
		if (rc)
			break;
		if (!busy) {
			if (stopping(u))
				break;
			if (u->queue || now_ms() < u->until) {
				/* waiting out a backoff */
			} else if (u->progress) {
				rc = start_round(u); /* held children may be ready now */
				continue;
			} else {
				break; /* a round found nothing to send: done */
			}
		}
		if (u->until > now_ms() && u->until - now_ms() < timeout)
			timeout = (int)(u->until - now_ms());
		for (i = 0; i < u->nx; i++)
			if (u->x[i].busy && u->x[i].paused)
				timeout = 5;
		if (u->deadline && u->deadline - now_ms() < timeout)
			timeout = u->deadline > now_ms() ? (int)(u->deadline - now_ms()) : 0;
		if (curl_multi_poll(u->multi, NULL, 0, timeout, NULL) != CURLM_OK) {
			rc = spgw_error_set(u->err, SPGW_E_IO, NULL, 0, 0, "libcurl poll failed");
			break;
		}
		spgw_upload_refill(u);
		curl_multi_perform(u->multi, &running);
		while (!rc && (m = curl_multi_info_read(u->multi, &running))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < u->nx && u->x[i].easy != m->easy_handle; i++)
				;
			if (i < u->nx)
				rc = finish(u, &u->x[i], m->data.result);
		}
	}
	return rc;
}

enum spgw_rc spgw_upload_run(const struct spgw_upload_opts *o, struct spgw_upload_stats *st,
			     struct spgw_error *err)
{
	struct uploader u;
	struct spgw_batch *b;
	enum spgw_rc rc;
	int i;

	memset(st, 0, sizeof(*st));
	memset(&u, 0, sizeof(u));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return spgw_error_set(err, SPGW_E_NOMEM, NULL, 0, 0, "libcurl could not start");
	u.o = o;
	u.n = &o->config->national;
	u.st = st;
	u.err = err;
	if (!u.n->url)
		return spgw_error_set(err, SPGW_E_CONFIG, o->config->path, 0, 0,
				      "no \"national\" section with a \"url\": nothing to upload "
				      "to (config/README.md)");
	if (u.n->insecure) {
		spgw_log(SPGW_LOG_WARNING, u.n->url, "INSECURE: TLS certificate verification "
			 "is OFF (insecure_skip_verify); anyone on the path can read and alter "
			 "what is sent");
	}
	rc = set_url(&u);
	if (!rc)
		rc = load_keys(&u);
	if (rc)
		goto out;
	u.nx = u.n->max_in_flight;
	u.x = spgw_calloc((size_t)u.nx, sizeof(*u.x));
	u.multi = curl_multi_init();
	if (!u.x || !u.multi) {
		rc = spgw_error_nomem(err, "starting the uploader");
		goto out;
	}
	curl_multi_setopt(u.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)u.nx);
	for (i = 0; i < u.nx && !rc; i++)
		rc = spgw_upload_xfer_setup(&u, &u.x[i]);
	if (rc)
		goto out;
	u.refill_at = now_ms();
	if (o->max_seconds > 0)
		u.deadline = now_ms() + (int64_t)o->max_seconds * 1000;
	/* batches stored by an earlier run that never got their answer go first, same bytes */
	rc = spgw_ledger_batch_open_each(o->ledger, load_open, &u, err);
	if (!rc)
		rc = loop(&u);
	if (!rc && u.deadline && now_ms() >= u.deadline && (u.queue || busy_count(&u)))
		st->gave_up = 1;
out:
	/* transfers still running (stop, deadline, error): abandoned; their batches stay
	 * open in the ledger and go again, same bytes, next time */
	for (i = 0; u.x && i < u.nx; i++) {
		if (u.x[i].busy)
			curl_multi_remove_handle(u.multi, u.x[i].easy);
		spgw_batch_free(u.x[i].b);
		spgw_upload_xfer_reset(&u.x[i]);
		if (u.x[i].easy)
			curl_easy_cleanup(u.x[i].easy);
	}
	while ((b = dequeue(&u)))
		spgw_batch_free(b);
	if (u.multi)
		curl_multi_cleanup(u.multi);
	spgw_free(u.x);
	spgw_free(u.groups);
	spgw_free(u.url);
	spgw_free(u.path);
	spgw_key_free(u.key);
	spgw_key_free(u.national);
	spgw_free(u.national_pem);
	curl_global_cleanup();
	return rc;
}
