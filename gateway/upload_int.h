/*
 * Private to the uploader: upload.c (rounds, queue, answers, the loop) and
 * upload_transfer.c (one HTTPS transfer on libcurl: headers, signing, gzip, the bandwidth
 * cap). Nothing else includes this header.
 */
#ifndef SPGW_UPLOAD_INT_H
#define SPGW_UPLOAD_INT_H

#include <curl/curl.h>
#include <stdint.h>
#include <time.h>

#include "batch.h"
#include "buf.h"
#include "sign.h"
#include "upload.h"

/* An answer larger than this is not a national answer (1000 results with reasons fit in a
 * few hundred KiB). */
#define ANSWER_MAX (16u << 20)

struct xfer {
	CURL *easy;
	struct spgw_batch *b;     /* owned while busy */
	struct curl_slist *hdrs;
	unsigned char *gz;        /* owned: the gzipped body, when gzip is on */
	const unsigned char *wire;
	size_t wire_len, sent;
	struct spgw_buf answer;
	long retry_after;         /* seconds, -1 when absent */
	time_t date;              /* the answer's Date header, 0 when absent */
	int busy, paused;
	char errbuf[CURL_ERROR_SIZE];
	struct uploader *u;
};

struct queued {
	struct queued *next;
	struct spgw_batch *b;
};

/* A (region, table) with records waiting, in upload order. */
struct group {
	char region[8];
	char table[64];
	int level;
	int64_t after;   /* ready records above this outbox id are still to be looked at */
	int max_records; /* halved after a 413 */
};

struct uploader {
	const struct spgw_upload_opts *o;
	const struct spgw_national *n;
	struct spgw_upload_stats *st;
	struct spgw_key *key, *national;
	char *national_pem; /* its PEM, kept with each receipt it verifies */
	enum spgw_sign_alg alg;
	CURLM *multi;
	struct xfer *x;
	int nx;
	struct queued *queue, *queue_tail; /* batches to (re)send, oldest first */
	struct group *groups;
	size_t ngroups, gi;
	int progress;   /* batches formed or settled this round */
	char *url;      /* BASE/batches */
	char *path;     /* the path of that URL, as signed */
	int64_t until;  /* no new request before this (monotonic ms): endpoint backoff */
	int failures;   /* consecutive transient failures of the endpoint */
	double tokens;  /* bandwidth cap: bytes that may go out now */
	int64_t refill_at;
	int64_t deadline;
	struct spgw_error *err;
};

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tell the watcher, if any (spgw_upload_opts.on_event). */
static inline void spgw_upload_emit(const struct uploader *u, struct spgw_upload_event *ev)
{
	if (u->o->on_event)
		u->o->on_event(u->o->event_ud, ev);
}

/* Set up a transfer slot's easy handle (TLS, timeouts, client certificate) once. */
enum spgw_rc spgw_upload_xfer_setup(struct uploader *u, struct xfer *x);
/* Sign `b` and start sending it in slot `x` (x takes b; on failure the slot is reset and
 * the caller still owns b). */
enum spgw_rc spgw_upload_xfer_start(struct uploader *u, struct xfer *x, struct spgw_batch *b);
/* Release what a finished transfer held (not its batch) and mark the slot free. */
void spgw_upload_xfer_reset(struct xfer *x);
/* Add the bandwidth tokens earned since the last call; resume paused transfers. */
void spgw_upload_refill(struct uploader *u);

#endif
