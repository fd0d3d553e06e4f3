/*
 * The uploader: delivers the outbox to the national platform as PROTOCOL.md says. Batches of
 * one region and one table (parents' tables first) are stored, signed and sent over HTTPS on
 * libcurl's multi interface with several transfers in flight on kept-alive connections, and
 * every answer is handled as the protocol's status table says: 200 settles the batch with its
 * verified receipt, 400 dead-letters it, 401/403 stop sending and keep everything, 409
 * re-signs or re-forms, 413 splits, and the rest back off the whole endpoint with full
 * jitter, honouring Retry-After.
 */
#ifndef SPGW_UPLOAD_H
#define SPGW_UPLOAD_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "schema.h"

/* What the uploader tells a watcher (the daemon's metrics and alarms) as it happens. */
enum spgw_upload_event_kind {
	SPGW_UPLOAD_ANSWERED,    /* a transfer ended: status (0: no HTTP answer), seconds, bytes */
	SPGW_UPLOAD_DELIVERED,   /* a batch settled with a verified receipt: the three counts */
	SPGW_UPLOAD_RETRY,       /* a batch goes again after a backoff: cause */
	SPGW_UPLOAD_HALTED,      /* sending stopped until an operator acts: status, text */
	SPGW_UPLOAD_RECEIPT_BAD, /* an answer not accepted as proof of delivery: text */
	SPGW_UPLOAD_CLOCK,       /* the platform's Date header was read: skew */
};
struct spgw_upload_event {
	enum spgw_upload_event_kind kind;
	const char *region, *table, *batch; /* the batch concerned, when there is one */
	long status;       /* HTTP status, 0 for a transport failure */
	double seconds;    /* ANSWERED: from the first byte sent to the last received */
	int64_t bytes;     /* ANSWERED: request body bytes on the wire */
	int64_t accepted, duplicate, rejected; /* DELIVERED */
	const char *cause; /* RETRY: "transport", "http_429", "http_5xx", "http_409", "receipt",
			    * "http_other" */
	const char *text;  /* HALTED, RECEIPT_BAD: the reason */
	double skew;       /* CLOCK: the platform's clock minus ours, seconds (1 s resolution) */
};
typedef void (*spgw_upload_event_fn)(void *ud, const struct spgw_upload_event *ev);

struct spgw_upload_opts {
	const struct spgw_config *config; /* national settings, state directory */
	const struct spgw_schema *schema; /* table order, schema id */
	struct spgw_ledger *ledger;
	int max_seconds; /* give up waiting on retries after this long; 0: until done */
	/* Set (by a signal handler) to stop: no new sends, transfers in flight finish. */
	volatile sig_atomic_t *stop;
	spgw_upload_event_fn on_event; /* may be NULL; called on the uploader's thread */
	void *event_ud;
};

/* What one run did, per (region, table). */
struct spgw_upload_group {
	char region[8];
	char table[64];
	int64_t batches, accepted, duplicate, rejected, dead; /* dead: refused batches' records */
};

struct spgw_upload_stats {
	int64_t batches_sent;   /* requests made */
	int64_t batches_done;   /* settled by a 200 with a verified receipt */
	int64_t retries;        /* transient failures (each one backed off) */
	int64_t receipts_bad;   /* answers not accepted as proof: kept pending, alerted */
	int64_t bytes_sent;     /* request bodies on the wire (after gzip) */
	int halted;             /* 401/403/404/405, TLS: sending stopped until an operator acts */
	char halt_reason[320];  /* why, for the operator */
	int gave_up;            /* max_seconds passed with work left */
	struct spgw_upload_group *groups; /* owned: spgw_upload_stats_clear() */
	size_t ngroups;
};

/*
 * Send everything that is ready, until nothing is left to send, sending is halted, the
 * deadline passes or *stop is set. Returns SPGW_OK when the run ended normally (whether or
 * not records are left: see `st`), or an error when the run could not go on (ledger, keys,
 * out of memory). The gateway's key pair is generated on first use when it does not exist.
 */
enum spgw_rc spgw_upload_run(const struct spgw_upload_opts *o, struct spgw_upload_stats *st,
			     struct spgw_error *err);
void spgw_upload_stats_clear(struct spgw_upload_stats *st);

#endif
