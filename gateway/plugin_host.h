/*
 * The plugin host: runs each source's plugin in its own child process (spgw-plugin-runner,
 * which dlopens the .so) and talks to it over a socketpair with length-prefixed frames
 * (frame.h). A plugin that crashes, hangs past its timeout, exceeds its memory limit, writes
 * garbage or emits an oversized record is killed and reported with the source and the
 * reason; the other sources and the core go on.
 *
 * Transaction discipline, which lets the caller keep one ledger transaction open: between two
 * commit callbacks of one job, the host delivers records of that job only. Other children
 * wait (their socket buffers fill and block them) until the job commits or ends. A waiting
 * child's timeout does not run: its silence is the host's doing.
 *
 * Details the callers may rely on:
 * - The record callback's `json` is followed by a NUL byte not counted in `len` (records may
 *   hold NULs themselves, so use `len`).
 * - When the commit callback fails, the records since the previous commit stay open: the
 *   plugin is told, must stop, and `abort` is called when the job ends. A record or commit
 *   after that is a violation (the cursor must never pass records that were not stored).
 * - Cursors are UTF-8 text without NUL, at most SPGW_MAX_CURSOR bytes; table names 1 to
 *   SPGW_MAX_TABLE_NAME bytes of printable ASCII, and in the plugin's `tables` when it has one.
 * - Log lines (the plugin's log() and whatever it prints) are cut at SPGW_MAX_LOG_LINE, have
 *   control characters replaced and invalid UTF-8 shown as '?', and are limited to
 *   SPGW_MAX_LOG_RATE a second per child; a warning then says how many were dropped.
 * - The memory limit is applied by spgw-plugin-runner to itself before it loads the plugin
 *   (a runner built with AddressSanitizer cannot have one and logs a warning instead).
 * - When a job ends, whatever is left in its child's process group is killed.
 * - A COUNT job whose plugin has no count() ends with SPGW_E_NOTFOUND ("not counted"), and so
 *   does a PULL_RANGE job whose plugin has no pull_range() ("cannot re-pull a date range").
 * - A PULL_RANGE job is a PULL in everything but the plugin function called: the same
 *   record, commit and abort callbacks, limits, timeouts and crash handling.
 * - With ops->stopping, the caller can end a run early (SIGINT): each running child is killed
 *   as for a timeout and its job ends with SPGW_E_RETRY; what it committed stays committed.
 */
#ifndef SPGW_PLUGIN_HOST_H
#define SPGW_PLUGIN_HOST_H

#include <jansson.h>
#include <spgw/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The runner program to execute for each child. Default: $SPGW_PLUGIN_RUNNER if set, else
 * spgw-plugin-runner beside the running executable if present, else the installed
 * libexec path. `path` is copied.
 */
void spgw_host_set_runner(const char *path);
const char *spgw_host_runner(void);

/*
 * Load a plugin in an isolated child and describe it. *info is a new JSON object:
 *   { "path", "name", "version", "description", "abi": 1, "struct_size",
 *     "tables": [..] | null, "options": [ { "name", "type": "string|int|bool|number|array|
 *     object|secret", "required": bool, "default": str|null, "help": str|null } ],
 *     "count": bool, "pull_range": bool }
 * SPGW_E_ABI for another ABI version (message names the path, its version and ours);
 * SPGW_E_PLUGIN when it cannot be loaded, lacks the symbol, has a malformed descriptor, or
 * its child crashes or hangs past `timeout_ms` (0: 60 s). The error's text names the path;
 * its source is empty. Nothing of the plugin runs but its library constructors.
 */
enum spgw_rc spgw_host_describe(const char *plugin_path, int timeout_ms, json_t **info,
				struct spgw_error *err);

enum spgw_host_op {
	SPGW_HOST_PULL = 0,
	SPGW_HOST_COUNT = 1,
	SPGW_HOST_PULL_RANGE = 2, /* plugin.h's pull_range(): records changed in a date range */
};

/* One child to run. The caller fills the inputs; the host fills the outcome. */
struct spgw_host_job {
	/* inputs, borrowed until spgw_host_run() returns */
	const char *source;      /* configured source name, for messages and log tags */
	const char *plugin_path; /* the .so */
	const char *settings;    /* the source's settings as JSON text ("{}" when none) */
	const char *region;      /* six digits */
	const char *workdir;     /* the child's working directory, so relative paths in its
				  * settings resolve from the source file's folder; NULL: ours */
	const char *cursor;      /* last committed cursor; NULL on the first pull (PULL_RANGE:
				  * the range's own cursor, NULL when the range starts) */
	enum spgw_host_op op;
	const char *count_table; /* COUNT: source table or NULL for all */
	const char *count_from, *count_to; /* COUNT: YYYY-MM-DD inclusive */
	const char *range_from, *range_to; /* PULL_RANGE: YYYY-MM-DD inclusive, from <= to */
	int timeout_ms;          /* longest silence allowed from the child; 0: 60 s */
	size_t memory_limit;     /* address-space limit of the child in bytes; 0: 1 GiB */
	void *ud;                /* the caller's, untouched */

	/* outcome */
	enum spgw_rc result;     /* SPGW_OK; SPGW_E_RETRY (plugin returned RETRY);
				  * SPGW_E_CONFIG (plugin returned ERROR); SPGW_E_PLUGIN (crash,
				  * hang, garbage, limit); SPGW_E_ABI; or a callback's code */
	struct spgw_error error; /* why, when result != SPGW_OK; source = the job's source */
	uint64_t records;        /* records delivered to the record callback */
	uint64_t commits;        /* commits acknowledged */
};

/* What the host calls while jobs run. Every pointer is borrowed for the call. */
struct spgw_host_ops {
	/* A record of `job`. Return SPGW_OK, or an error that stops the job (the child is
	 * killed, then `abort` is called). */
	enum spgw_rc (*record)(void *ud, struct spgw_host_job *job, const char *table,
			       const char *json, size_t len);
	/* The plugin committed: make every record since the previous commit durable together
	 * with `cursor`. Return SPGW_OK, or an error: the plugin is told its commit failed. */
	enum spgw_rc (*commit)(void *ud, struct spgw_host_job *job, const char *cursor);
	/* The job ended (any way) with records delivered since its last commit: discard them. */
	void (*abort)(void *ud, struct spgw_host_job *job);
	/* A line the plugin logged or printed (stdout/stderr are captured). May be NULL. */
	void (*log)(void *ud, struct spgw_host_job *job, enum spgw_log_level level,
		    const char *line);
	/* COUNT: one (table, day, records). May be NULL for pull-only callers. */
	enum spgw_rc (*count)(void *ud, struct spgw_host_job *job, const char *table,
			      const char *day, uint64_t records);
	/* The job ended; job->result says how. May be NULL. */
	void (*done)(void *ud, struct spgw_host_job *job);
	/* Asked between callbacks, at least every 100 ms while jobs run: nonzero stops the run.
	 * Each child that has not reported its outcome is killed (its records since its last
	 * commit go to `abort`), and its job, like every job not started yet, ends with
	 * SPGW_E_RETRY. May be NULL: the run goes on until every job has ended. */
	int (*stopping)(void *ud);
};

/*
 * Run `n` jobs, at most `parallel` children at a time (0: all), until every one has ended.
 * Returns SPGW_OK when the host itself worked (each job's own outcome is in job->result), or
 * an error when it could not run at all (no runner, out of descriptors).
 */
enum spgw_rc spgw_host_run(struct spgw_host_job *jobs, size_t n, size_t parallel,
			   const struct spgw_host_ops *ops, void *ud, struct spgw_error *err);

#endif
