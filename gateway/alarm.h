/*
 * Alarms: the conditions an operator must act on. Two kinds:
 *
 *  - events the daemon sees happen and raises in the ledger (spgw_ledger_alarm_raise):
 *    the national platform refusing our identity, a receipt failing verification, the
 *    clock away from the platform's, a reload refused;
 *  - conditions read from the state at any moment (this module): disk space of the state
 *    directory, certificates and keys expiring, the oldest waiting record's age, a source
 *    failing or its plugin crashing several runs in a row.
 *
 * `spgw status` shows both, first; the daemon keeps the second kind in the ledger too, so a
 * condition raised and cleared is logged once each way, not at every look.
 */
#ifndef SPGW_ALARM_H
#define SPGW_ALARM_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"

/* Alarm names (stable: scripts and metrics use them). */
#define SPGW_ALARM_IDENTITY "identity_refused"   /* 401/403 from the national platform */
#define SPGW_ALARM_RECEIPT "receipt_unverified"  /* an answer not accepted as proof */
#define SPGW_ALARM_CLOCK "clock_skew"            /* local clock vs the platform's Date */
#define SPGW_ALARM_RELOAD "reload_refused"       /* a new configuration had problems */
#define SPGW_ALARM_EXPIRY "expiring"             /* a certificate within expiry_days */
#define SPGW_ALARM_FAILING "source_failing"      /* N failed runs in a row */
#define SPGW_ALARM_RESTARTS "plugin_restarting"  /* the plugin crashed N runs in a row */
#define SPGW_ALARM_PENDING "pending_too_long"    /* oldest waiting record too old */
#define SPGW_ALARM_DISK "disk_low"               /* state directory short of space */
#define SPGW_ALARM_RECON "reconcile_differs"     /* the scheduled reconciliation differs */

/* Called once per condition that holds now. */
typedef enum spgw_rc (*spgw_alarm_fn)(void *ud, const char *name, const char *subject,
				      const char *message);

/*
 * Check the conditions of the second kind against `c`'s thresholds (daemon.alarms) at Unix
 * time `now`. Returns an error only when the ledger could not be read.
 */
enum spgw_rc spgw_alarm_check(struct spgw_ledger *l, const struct spgw_config *c, int64_t now,
			      spgw_alarm_fn fn, void *ud, struct spgw_error *err);

/* The names the check above owns (a daemon clears those of them no longer reported). */
int spgw_alarm_is_checked(const char *name);

/* Free space of the state directory in bytes, or -1 when it cannot be read. */
int64_t spgw_alarm_disk_free(const char *dir);

/*
 * Days until the earliest certificate in PEM file `path` expires (negative: expired), in
 * *days; returns 0 when the file holds a certificate, -1 when it holds none (a bare public
 * key never expires) or cannot be read.
 */
int spgw_alarm_cert_days(const char *path, int64_t now, double *days);

#endif
