/*
 * When each source is pulled: cron expressions and a scheduler of named jobs with limits.
 *
 * Pure logic: nothing here reads a clock, sleeps or locks. Every function that needs the time
 * takes `now` as Unix seconds, so the daemon owns the clock and the tests own time.
 *
 * Cron expressions are evaluated in Beijing time, a fixed UTC+8 without daylight saving: the
 * province and the national platform's business day both use it, whatever the host's TZ says.
 */
#ifndef SPGW_SCHEDULE_H
#define SPGW_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Beijing time, UTC+8 all year. */
#define SPGW_CRON_UTC_OFFSET (8 * 3600)

/*
 * How far spgw_cron_next() looks: 28 years, one full cycle of dates and weekdays in the
 * Gregorian calendar between 1901 and 2099. Any expression spgw_cron_parse() accepts has a run
 * within it, even a 29 February that must also be a given weekday, so -1 means "never".
 */
#define SPGW_CRON_HORIZON_YEARS 28

/* A cron expression longer than this is a mistake, not a schedule. */
#define SPGW_CRON_MAX_TEXT 256

/* Tolerance for a clock that steps back (NTP, an operator): within it a job keeps its time. */
#define SPGW_SCHED_CLOCK_BACK 300

/* Most jitter a job may ask for: a day's worth would just be a different schedule. */
#define SPGW_SCHED_MAX_JITTER 86400u

struct spgw_cron;

/*
 * Parse a five-field cron expression "minute hour day-of-month month day-of-week":
 * `*`, numbers, ranges `a-b`, steps `a-b/n`, `a/n` (a to the field's end) and a star with a
 * step (every n-th value), lists `a,b,c`, month names JAN-DEC and weekday names SUN-SAT (any
 * case, also in ranges), 7 as well as 0 for Sunday (so FRI-SUN works), and the shorthands
 * @hourly @daily @midnight @weekly @monthly @yearly @annually. A step may be at most the
 * field's size less one (`*` with a bigger one would only give the first value).
 * Day-of-month and day-of-week follow Vixie cron: when both fields are restricted (neither
 * starts with `*`) a day matching either fires; otherwise a day must match both.
 *
 * On success *out is a new expression the caller releases with spgw_cron_free(). On error
 * *out is untouched and `err` (SPGW_E_CONFIG) says which field, which column (1-based, in the
 * text as given) and what to write instead. An expression that can never fire (30 February)
 * is refused.
 */
enum spgw_rc spgw_cron_parse(const char *expr, struct spgw_cron **out, struct spgw_error *err);

/* Release an expression. NULL is a no-op. */
void spgw_cron_free(struct spgw_cron *c);

/*
 * The first matching minute strictly after `after` (Unix seconds), as Unix seconds at second 0
 * of that minute; -1 if none within SPGW_CRON_HORIZON_YEARS (or `after` is absurd: beyond
 * about ±30000 years). Skips whole months, days and hours that cannot match.
 */
int64_t spgw_cron_next(const struct spgw_cron *c, int64_t after);

/* The expression exactly as given to spgw_cron_parse(); lives as long as `c`. */
const char *spgw_cron_text(const struct spgw_cron *c);

/*
 * The scheduler: named jobs (sources), each with a cron expression, an optional endpoint it
 * shares with other jobs (eight provincial sources on one PostgreSQL: "provincial-db") and a
 * jitter. The daemon asks which job may start (spgw_sched_take), runs it, reports it finished
 * (spgw_sched_done), and sleeps until spgw_sched_wake(). Not thread-safe: one thread (the
 * daemon's loop) owns it.
 *
 * A job's next run is the next cron time after a moment ("the base": when it was added, when
 * its last run finished) plus a jitter in [0, jitter_s] that depends only on its name and that
 * cron time, so sources on the same expression spread out, the same way in every run.
 */
struct spgw_sched;

/*
 * A new scheduler running at most `max_running` jobs at once (0: no limit). NULL when memory
 * is short. Release with spgw_sched_free().
 */
struct spgw_sched *spgw_sched_new(size_t max_running);

/* Release the scheduler and every job, running or not. NULL is a no-op. */
void spgw_sched_free(struct spgw_sched *s);

/*
 * At most `n` jobs of `endpoint` run at once (0: no limit). May be called before or after jobs
 * of that endpoint are added, and again to change it; lowering it below what runs now stops
 * no job, it only holds new starts back. `endpoint` is copied. SPGW_OK or SPGW_E_NOMEM.
 */
enum spgw_rc spgw_sched_limit(struct spgw_sched *s, const char *endpoint, size_t n);

/*
 * Add job `name` on endpoint `endpoint` (NULL or "": none, only the global limit applies),
 * firing at `cron` (copied: the caller keeps and frees its own) plus a jitter of at most
 * `jitter_s` seconds. Its first run is the next cron time after `now`, plus jitter.
 *
 * A name already scheduled is refused (SPGW_E_CONFIG). A job removed while running, not yet
 * done, is taken back instead: it keeps running, and its next run follows the new settings
 * (so a configuration reload can remove and re-add every source). SPGW_E_LIMIT beyond
 * SPGW_MAX_SOURCES jobs or SPGW_SCHED_MAX_JITTER; SPGW_E_NOMEM.
 */
enum spgw_rc spgw_sched_add(struct spgw_sched *s, const char *name, const char *endpoint,
			    const struct spgw_cron *cron, unsigned jitter_s, int64_t now,
			    struct spgw_error *err);

/*
 * Remove job `name`. A running job is dropped when it finishes (spgw_sched_done) and is
 * never started again. SPGW_OK, or SPGW_E_NOTFOUND when no such job is scheduled.
 */
enum spgw_rc spgw_sched_remove(struct spgw_sched *s, const char *name);

/*
 * Start a job: when one is due (its next run <= now), not running, and within the global and
 * its endpoint's limit, mark it running, set *name (lent: valid until spgw_sched_done() for
 * it, or spgw_sched_free()) and return 1. The most overdue first, ties in name order. Returns
 * 0, *name untouched, when none may start. A job is never started while it runs.
 */
int spgw_sched_take(struct spgw_sched *s, int64_t now, const char **name);

/*
 * Job `name` finished (whatever its outcome). Its next run is the next cron time after `now`,
 * plus jitter: a pull that overran several cron times runs once more, not once per missed
 * time. A job removed while running is dropped here. SPGW_OK, or SPGW_E_NOTFOUND when no job
 * of that name is running.
 */
enum spgw_rc spgw_sched_done(struct spgw_sched *s, const char *name, int64_t now);

/*
 * The operator's "pull now": job `name` becomes due at `now`, ahead of its cron time (the
 * limits still apply). SPGW_OK; SPGW_E_BUSY when it runs now (it is already pulling);
 * SPGW_E_NOTFOUND when no such job is scheduled.
 */
enum spgw_rc spgw_sched_run_now(struct spgw_sched *s, const char *name, int64_t now);

/* Job `name`'s next run (Unix seconds, jitter included), or -1: unknown, removed, running, or
 * an expression with no run within the horizon. For `spgw status`. */
int64_t spgw_sched_next(const struct spgw_sched *s, const char *name);

/* 1 when job `name` runs now (also when removed and not yet done), 0 when not, -1 unknown. */
int spgw_sched_running(const struct spgw_sched *s, const char *name);

/*
 * When the daemon should next call spgw_sched_take(): the earliest next run of the jobs that
 * are not running and not held back by a limit at `now`. A held-back job can only start
 * after a spgw_sched_done() or spgw_sched_limit(), after which the daemon asks again. Returns
 * a time <= now when a job can start at once, -1 when nothing can start until then.
 *
 * Both this and spgw_sched_take() notice a clock that went back: a job whose base is more
 * than SPGW_SCHED_CLOCK_BACK seconds after `now` gets its next run computed again from `now`
 * (else a clock set back a day would stall its pulls for a day). A clock that jumps forward
 * past several cron times makes each job due once.
 */
int64_t spgw_sched_wake(struct spgw_sched *s, int64_t now);

#endif
