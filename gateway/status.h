/*
 * The status of the gateway as one JSON document: what `spgw status --json` prints and the
 * daemon's /status serves, from the ledger alone, so the command and the endpoint always
 * agree and a status works whether or not the daemon runs.
 *
 *   { "generated_at", "today" (Beijing date),
 *     "daemon": { "state", "pid", "started_at", "beat_at", "config", "alive" } or null,
 *     "reconciliation": { "run", "started_at", "finished_at", "from", "to", "result",
 *                         "differing_days", "message" } or null (the newest kept),
 *     "alarms": [ { "name", "subject", "message", "raised_at", "seen_at" } ],
 *     "regions": [ { "region",
 *        "sources": [ { "source", "plugin", "enabled", "schedule", "next_run", "running",
 *                       "last_run": { "kind", "started_at", "finished_at", "result",
 *                                     "records", "added", "changed", "quarantined",
 *                                     "message" } or null, "in_a_row" } ],
 *        "tables": [ { "table", "table_zh", "pending", "held", "in_flight", "delivered",
 *                      "delivered_today", "quarantined", "dead", "oldest_pending_at",
 *                      "oldest_pending_age_s" } ] } ],
 *     "totals": { same counters as a table } }
 */
#ifndef SPGW_STATUS_H
#define SPGW_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "ledger.h"
#include "schema.h"

/* A daemon whose heartbeat is older than this is reported as not running. */
#define SPGW_STATUS_BEAT_STALE_S 90

/* Build the document at Unix time `now`. *out is new (json_decref). `schema` may be NULL
 * (no Chinese table names then). */
enum spgw_rc spgw_status_collect(struct spgw_ledger *l, const struct spgw_config *c,
				 const struct spgw_schema *schema, int64_t now, json_t **out,
				 struct spgw_error *err);

/* Unix time of an RFC 3339 UTC time as the ledger writes it ("2026-11-23T09:40:02Z");
 * -1 when `s` is NULL or not one. */
int64_t spgw_status_utc_seconds(const char *s);

/* "YYYY-MM-DD" of Unix time `t` in Beijing time (UTC+8), into out[11]. */
void spgw_status_beijing_date(int64_t t, char out[11]);

#endif
