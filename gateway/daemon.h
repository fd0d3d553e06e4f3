/*
 * `spgw run`: the gateway as a service. Each source is pulled on its own cron schedule on a
 * thread of its own (its plugin in its own process, as always), within the global and
 * per-endpoint limits; the outbox is uploaded continuously on one thread; /metrics, /healthz
 * and /status are served on another. The main thread owns the schedule and the signals:
 *
 *   SIGHUP   load and check the new configuration completely; if it has problems keep the
 *            old one and say what is wrong (file:line:col); else apply it between pulls and
 *            report the sources added, removed and changed;
 *   SIGTERM  drain: no new pulls, the uploader sends nothing new and waits for the answers
 *            in flight, running pulls may finish, all within daemon.drain_seconds; then
 *   (SIGINT)  exit 0. What is not finished by then is abandoned cleanly: a pull's uncommitted
 *            records are read again from its cursor, an open batch goes again with the same
 *            id and bytes. A second SIGTERM exits at once, losing nothing for the same reason.
 *
 * Under systemd (Type=notify) it says READY, RELOADING, STOPPING and STATUS, and feeds the
 * watchdog only while its loop turns and its ledger answers.
 */
#ifndef SPGW_DAEMON_H
#define SPGW_DAEMON_H

#include "cmd.h"

/* Run the daemon until SIGTERM/SIGINT; returns the process exit status. */
int spgw_daemon_run(const struct spgw_cmd_ctx *ctx);

#endif
