/*
 * plugin_host_mock: a stand-in for the spgw gateway's plugin host, so that a plugin (ours or a
 * city's own) is tested offline, without the gateway, a ledger or the network.
 *
 * It loads a plugin .so into this process with dlopen, refuses it exactly where the real host
 * would (ABI version, struct_size, a malformed descriptor, settings that do not match the
 * declared options), and then calls it in the order a gateway child does:
 *
 *     init? -> create -> pull | pull_range | count -> destroy -> fini?
 *
 * once per spgw_mock_pull() / spgw_mock_pull_range() / spgw_mock_count(). What the plugin
 * hands over (records, commits, counts, log lines) is kept in memory until the next run, for
 * the test to inspect. Host rules
 * from plugin.h that the plugin breaks (a table name too long, a cursor over 4096 bytes, more
 * than 5000 records without a commit, going on after the host refused...) are counted by
 * spgw_mock_violations() and logged as "mock: ..." error lines.
 *
 * Differences from the real host: the plugin runs in the test's own process, so a crash ends
 * the test (Check's fork mode turns that into a failed test) and static state survives from
 * one run to the next; there is no timeout and no memory limit.
 *
 * The mock depends on libc, libdl and jansson only, so a city team can copy this file and its
 * .c next to their plugin. Every pointer it returns is borrowed from the mock and valid until
 * the next run or spgw_mock_free().
 */
#ifndef SPGW_PLUGIN_HOST_MOCK_H
#define SPGW_PLUGIN_HOST_MOCK_H

#include <spgw/plugin.h>
#include <stddef.h>
#include <stdint.h>

struct spgw_mock;

/* A run the mock refused, as the host would, before or instead of the plugin's answer. */
#define SPGW_MOCK_REFUSED (-1)

/*
 * Load the plugin at `path` and check its descriptor. On success *out is a new mock (release
 * with spgw_mock_free) and 0 is returned; otherwise -1 with one line in errbuf naming the
 * path and what is wrong (e.g. "built for plugin ABI 2, this host speaks 1").
 */
int spgw_mock_load(const char *path, struct spgw_mock **out, char *errbuf, size_t errlen);
/* Unload the plugin and release everything. NULL is fine. */
void spgw_mock_free(struct spgw_mock *m);
/* The plugin's descriptor (borrowed). */
const struct spgw_plugin *spgw_mock_plugin(const struct spgw_mock *m);

/*
 * One pull of one source: `settings` is the source's settings as JSON text (NULL: "{}"),
 * `region` six digits, `cursor` the last committed cursor (NULL: first pull). Returns the
 * plugin's SPGW_PLUGIN_OK / RETRY / ERROR, or SPGW_MOCK_REFUSED when the host would not have
 * called it (bad settings or region, a failed init/create is returned as the plugin's code).
 */
int spgw_mock_pull(struct spgw_mock *m, const char *settings, const char *region,
		   const char *cursor);
/*
 * One pull_range() of one source: the records changed from day `from` to day `to` (YYYY-MM-DD,
 * inclusive), resuming after `cursor` (NULL: the range starts). Records, commits and the fault
 * seams work as for spgw_mock_pull(); spgw_mock_cursor() is the range's cursor. Returns as
 * spgw_mock_pull; SPGW_MOCK_REFUSED also when the plugin has no pull_range() (or a struct_size
 * that ends before it) or the range is not two days with from <= to, as the host would.
 */
int spgw_mock_pull_range(struct spgw_mock *m, const char *settings, const char *region,
			 const char *from, const char *to, const char *cursor);
/* One count: `table` NULL for all tables, `from`/`to` YYYY-MM-DD. Returns as spgw_mock_pull;
 * SPGW_MOCK_REFUSED also when the plugin has no count(). */
int spgw_mock_count(struct spgw_mock *m, const char *settings, const char *region,
		    const char *table, const char *from, const char *to);
/* The last run's error: the plugin's err->text, or why the mock refused ("" when none). */
const char *spgw_mock_error(const struct spgw_mock *m);

/* Records emitted in the last run, in order, committed or not. */
size_t spgw_mock_records(const struct spgw_mock *m);
const char *spgw_mock_record_table(const struct spgw_mock *m, size_t i);
/* The record's JSON text, NUL-terminated for convenience (len excludes the NUL). NULL when
 * records are not kept (spgw_mock_keep_records). */
const char *spgw_mock_record_json(const struct spgw_mock *m, size_t i, size_t *len);
/* How many of those records the last commit covers: the ones the gateway would keep. */
size_t spgw_mock_kept(const struct spgw_mock *m);
/* Keep each record's bytes (the default) or only count them (for a throughput test). */
void spgw_mock_keep_records(struct spgw_mock *m, int keep);

/* Commits of the last run: the cursor and how many records were emitted before it. */
size_t spgw_mock_commits(const struct spgw_mock *m);
const char *spgw_mock_commit_cursor(const struct spgw_mock *m, size_t i);
size_t spgw_mock_commit_records(const struct spgw_mock *m, size_t i);
/* The cursor the gateway would hold after the last run: the last commit's, else the cursor
 * the run started from (NULL when there was none). */
const char *spgw_mock_cursor(const struct spgw_mock *m);

/* Counts reported in the last count run. */
size_t spgw_mock_counts(const struct spgw_mock *m);
const char *spgw_mock_count_table(const struct spgw_mock *m, size_t i);
const char *spgw_mock_count_day(const struct spgw_mock *m, size_t i);
uint64_t spgw_mock_count_records(const struct spgw_mock *m, size_t i);

/* Log lines of the last run (the plugin's and the mock's own "mock: ..." lines). */
size_t spgw_mock_logs(const struct spgw_mock *m);
enum spgw_log_level spgw_mock_log_level(const struct spgw_mock *m, size_t i);
const char *spgw_mock_log_line(const struct spgw_mock *m, size_t i);
/* Whether any log line of the last run contains `text`. */
int spgw_mock_logged(const struct spgw_mock *m, const char *text);

/* Rules of plugin.h the plugin broke in the last run. */
size_t spgw_mock_violations(const struct spgw_mock *m);

/*
 * Fault seams for the next runs, as if the gateway failed: after `n` more successful calls,
 * emit() (or commit()) answers SPGW_PLUGIN_ERROR, every time until reset with n < 0. Use them
 * to stop a pull at any record and check that the cursor resumes it without loss or repeat.
 */
void spgw_mock_fail_emit_after(struct spgw_mock *m, long n);
void spgw_mock_fail_commit_after(struct spgw_mock *m, long n);

#endif
