/*
 * The daemon's status endpoints over libmicrohttpd: GET or HEAD on
 *   /metrics  the registry in Prometheus' text format 0.0.4 (metrics.h)
 *   /healthz  200 "ok\n", or 503 with the reason as text
 *   /status   the JSON the daemon's status_json handler writes
 * Any other path is a 404, any other method on these paths a 405 with an Allow header.
 *
 * One internal thread serves every connection (event-driven, so a slow client holds a slot,
 * not a thread); at most SPGW_HTTP_MAX_CONNECTIONS at once, each cut after
 * SPGW_HTTP_IDLE_SECONDS without progress, so slow or hostile clients cannot pin the daemon.
 * Request bodies are never read, nor logged. The handlers run on that thread, concurrently with
 * the rest of the daemon: they take their own locks.
 */
#ifndef SPGW_HTTP_STATUS_H
#define SPGW_HTTP_STATUS_H

#include <stddef.h>

#include "error.h"
#include "metrics.h"

/* Connections at once: Prometheus, a load balancer's health check and an operator's curl need
 * a few; the rest wait in the kernel's backlog until a slot frees. */
#define SPGW_HTTP_MAX_CONNECTIONS 16
/* A connection idle this long is closed: a scrape takes milliseconds. */
#define SPGW_HTTP_IDLE_SECONDS 10
/* The /metrics page: 10,000 series per family at ~150 bytes is 1.5 MB; several full families
 * stay far below this, and past it the page is a 500 naming the limit, not an unbounded
 * allocation. */
#define SPGW_HTTP_MAX_METRICS (64u * 1024 * 1024)
/* The reason /healthz gives, one line. */
#define SPGW_HTTP_MAX_WHY 512

struct spgw_http_handlers {
	/* Rendered at each GET /metrics; NULL: /metrics is a 404. Borrowed: must outlive the
	 * server. */
	struct spgw_metrics *metrics;
	/* 1 when healthy (200 "ok\n"); else 0 with a NUL-terminated reason written into `why`
	 * (`whylen` bytes), served as a 503. NULL: always healthy (the process answers). */
	int (*healthz)(void *ud, char *why, size_t whylen);
	/* The status as JSON text, allocated with spgw_malloc (the server frees it); NULL when it
	 * cannot be had now, served as a 503 with a JSON error. NULL handler: /status is a 404. */
	char *(*status_json)(void *ud);
	void *ud; /* given to both callbacks */
};

struct spgw_http;

/*
 * Listen on `addr`, "HOST:PORT" where HOST is an IP literal: "127.0.0.1:9464",
 * "[::1]:9464", "0.0.0.0:9464". Names are refused: a name could resolve to an interface
 * nobody meant to expose. PORT 0 takes a free port (spgw_http_port() tells which). The
 * handlers are copied; what they point to is borrowed.
 *
 * On success *out is a running server to release with spgw_http_stop(). Errors:
 * SPGW_E_CONFIG (the address is malformed or a name), SPGW_E_BUSY (the port is taken),
 * SPGW_E_IO (any other bind or start failure), SPGW_E_NOMEM; the message names the address
 * and what to do.
 */
enum spgw_rc spgw_http_start(const char *addr, const struct spgw_http_handlers *h,
			     struct spgw_http **out, struct spgw_error *err);

/* The port the server listens on (the one picked when PORT was 0). */
int spgw_http_port(const struct spgw_http *s);

/* Close every connection, wait for the handlers to return, and free. NULL is a no-op. */
void spgw_http_stop(struct spgw_http *s);

#endif
