/*
 * spgw plugin ABI, version 1.
 *
 * This header is the whole contract between the spgw gateway and an adapter plugin. A plugin
 * includes nothing else from spgw and relies on nothing this header does not promise.
 *
 * The model
 * ---------
 * A plugin is a shared object that knows how to read one kind of city system (an HTTP API, a
 * database, export files). It exports exactly one symbol, `spgw_plugin`, a constant descriptor.
 * It emits that system's records as JSON objects, each tagged with the source table it came
 * from; it does not know the national schema (the gateway maps and validates).
 *
 * One .so serves many configured sources: create() builds one instance per source with that
 * source's settings (the provincial-platform plugin runs once per city).
 *
 * Every call below happens in a child process that the gateway starts for one source and one
 * operation (describe, pull, pull_range or count), with its working directory set to the
 * folder of the source's configuration file, so relative paths in settings resolve from there.
 * The child is single-threaded from the plugin's point of view, has stdout and stderr
 * redirected into the gateway's log, and runs under a memory limit and a timeout. A plugin
 * may crash: the gateway reports it and the other sources go on. Only
 * records followed by a commit() are kept (see pull).
 *
 * Call order in one child:  init? -> create -> (pull | pull_range | count) -> destroy -> fini?
 *
 * Ownership: every pointer the host passes is borrowed and valid only during the call that
 * received it; copy what you keep. Every pointer in the descriptor is owned by the plugin and
 * must stay valid while the library is loaded (string literals and static arrays are typical).
 *
 * Compatibility: members of struct spgw_plugin and struct spgw_host are only ever appended.
 * The host reads `abi_version` and `struct_size` first and refuses a plugin built for another
 * ABI version with a message naming both numbers. A NULL optional member has the documented
 * default. A breaking change takes a new SPGW_PLUGIN_ABI number.
 *
 * This header compiles on its own under -std=c11 -pedantic.
 */
#ifndef SPGW_PLUGIN_H
#define SPGW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define SPGW_PLUGIN_ABI 1

/* Marks the one symbol a plugin exports; build plugins with -fvisibility=hidden. */
#if defined(__GNUC__)
#define SPGW_EXPORT __attribute__((visibility("default")))
#else
#define SPGW_EXPORT
#endif

/*
 * What every plugin function returns. Values are never renumbered.
 *   SPGW_PLUGIN_OK     the call did what it was asked.
 *   SPGW_PLUGIN_RETRY  a passing fault (network down, database busy, rate limited): the host
 *                      keeps the last committed cursor and tries again on the next run.
 *   SPGW_PLUGIN_ERROR  a fault a person must fix (bad settings, permission refused, a table
 *                      missing): the host reports it and does not retry until the
 *                      configuration changes.
 */
enum spgw_plugin_rc {
	SPGW_PLUGIN_OK = 0,
	SPGW_PLUGIN_RETRY = 1,
	SPGW_PLUGIN_ERROR = 2,
};

/*
 * Where a plugin explains a failure. The host lends it zeroed; the plugin fills `text` with one
 * line saying what failed and what to do (never a password or token), and `key` with the
 * source record's id when the failure is about one record. Set before returning RETRY/ERROR.
 */
struct spgw_plugin_error {
	char text[512];
	char key[128];
};

enum spgw_log_level {
	SPGW_LOG_ERROR = 0,
	SPGW_LOG_WARNING = 1,
	SPGW_LOG_INFO = 2,
	SPGW_LOG_DEBUG = 3,
};

/* The type of a declared setting, checked by the host before create() is called. */
enum spgw_option_type {
	SPGW_OPT_STRING = 0,
	SPGW_OPT_INT = 1,    /* a JSON integer */
	SPGW_OPT_BOOL = 2,   /* true or false */
	SPGW_OPT_NUMBER = 3, /* any JSON number */
	SPGW_OPT_ARRAY = 4,  /* any JSON array */
	SPGW_OPT_OBJECT = 5, /* any JSON object */
	SPGW_OPT_SECRET = 6, /* a string the host never logs or prints (passwords, tokens) */
};

/*
 * One setting a source file may give this plugin under "settings". The array in the
 * descriptor ends with an entry whose name is NULL. The host refuses, with file:line:column,
 * a source file that gives a setting not declared here, gives one of the wrong type, or omits
 * a required one; so create() may assume what is declared required is present and typed.
 */
struct spgw_plugin_option {
	const char *name;
	enum spgw_option_type type;
	int required;              /* nonzero: the source file must give it */
	const char *default_value; /* shown by `spgw plugin-check`; applied by the plugin itself */
	const char *help;          /* one line for `spgw plugin-check` */
};

/*
 * Services the host lends to the plugin. Valid from init() (or create()) until destroy()
 * returns; may be called only from the thread that received it.
 */
struct spgw_host {
	uint32_t struct_size; /* sizeof(struct spgw_host) in the host; members only appended */

	/* Opaque host state; pass it back as the first argument of every call below. */
	void *ctx;

	/* Write a log line tagged with the source's name. printf-style; the host adds nothing but
	 * the tag and the level. Never log secrets. */
	void (*log)(void *ctx, enum spgw_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/*
	 * pull() and pull_range() only. Emit one source record: `table` is the source system's
	 * table or entity name (ASCII, at most 64 bytes), `json` is a JSON object in UTF-8 of
	 * `len` bytes (no NUL needed). The bytes are copied before the call returns.
	 *
	 * Returns SPGW_PLUGIN_OK, or SPGW_PLUGIN_ERROR when the host will take no more (the record
	 * is larger than the host's limit, too many records are uncommitted, or the host is
	 * shutting down); then stop pulling and return SPGW_PLUGIN_ERROR or SPGW_PLUGIN_RETRY.
	 *
	 * A record that is not a valid UTF-8 JSON object is not an error here: the host keeps its
	 * bytes in quarantine with the reason, so nothing is lost and the city can fix it.
	 */
	int (*emit)(void *ctx, const char *table, const char *json, size_t len);

	/*
	 * pull() and pull_range() only. Declare that every record emitted since the previous
	 * commit (or since the call began) is complete, and that the source's position after
	 * them is `cursor` (a NUL-terminated string of at most 4096 bytes of valid UTF-8, any
	 * text the plugin chooses: a timestamp and id, a file name and offset...). The host
	 * writes those records and this cursor in one transaction: after a crash at any instant,
	 * the next call receives the last committed cursor and nothing before it is lost or
	 * stored twice.
	 *
	 * Records emitted after the last commit when the call returns are discarded (they will be
	 * read again from the committed cursor). Commit at least every 5000 records: the host
	 * stops a plugin that holds more uncommitted records than that.
	 * Returns SPGW_PLUGIN_OK, or SPGW_PLUGIN_ERROR when the host could not store the batch
	 * (then return SPGW_PLUGIN_RETRY from pull() or pull_range()).
	 */
	int (*commit)(void *ctx, const char *cursor);

	/*
	 * count() only. Report that the source system holds `records` records of `table` whose
	 * business day is `day` (YYYY-MM-DD, Beijing time). Call once per (table, day) that has
	 * records; days not reported count zero. Count the records in force: one the system
	 * deleted, voided or withdrew (which the gateway reports with 数据有效标识 0) is not
	 * among what the city holds.
	 */
	int (*count)(void *ctx, const char *table, const char *day, uint64_t records);
};

/*
 * The descriptor. Export it as
 *     SPGW_EXPORT const struct spgw_plugin spgw_plugin = { .abi_version = SPGW_PLUGIN_ABI,
 *             .struct_size = sizeof(struct spgw_plugin), .name = "...", ... };
 * with designated initializers, so members added later default to zero.
 */
struct spgw_plugin {
	/* SPGW_PLUGIN_ABI as the plugin was compiled. Read first; a mismatch is refused. */
	uint32_t abi_version;
	/* sizeof(struct spgw_plugin) as the plugin was compiled: tells the host which members
	 * exist. */
	uint32_t struct_size;

	/* Short name, [a-z0-9_-]{1,32}, e.g. "files". Required. */
	const char *name;
	/* The plugin's own version, e.g. "1.2.0". Required. */
	const char *version;
	/* One line for people: what system this reads. Optional (NULL). */
	const char *description;

	/* NULL-terminated list of the source table names this plugin may emit. Optional (NULL:
	 * any). The host refuses a record from a table not in a non-NULL list. */
	const char *const *tables;

	/* The settings a source file may give; ends with a {NULL} entry. NULL: no settings. */
	const struct spgw_plugin_option *options;

	/*
	 * Optional. Called once per child process before create(). Library-wide set-up (e.g.
	 * curl_global_init). On failure fill `err` and return RETRY or ERROR; nothing else of the
	 * plugin is called then.
	 */
	int (*init)(const struct spgw_host *host, struct spgw_plugin_error *err);

	/*
	 * Required. Build one instance for one configured source. `settings` is the source file's
	 * "settings" object as UTF-8 JSON text (NUL-terminated, "{}" when absent), already checked
	 * against `options`. `region` is the source's six-digit region code. On success store the
	 * instance in *ctx (owned by the plugin until destroy()) and return OK; on failure leave
	 * *ctx alone, fill `err` and return RETRY (e.g. server unreachable) or ERROR (bad settings).
	 */
	int (*create)(const char *settings, const char *region, const struct spgw_host *host,
		      void **ctx, struct spgw_plugin_error *err);

	/*
	 * Required. Read everything new since `cursor` (NULL on the very first pull of a source)
	 * and hand it to host->emit(), calling host->commit() after each complete group (a page,
	 * a file, a few thousand rows). Return OK when caught up; RETRY or ERROR with `err` filled
	 * otherwise: everything committed before the failure is kept.
	 */
	int (*pull)(void *ctx, const char *cursor, const struct spgw_host *host,
		    struct spgw_plugin_error *err);

	/*
	 * Optional (NULL: the source cannot be counted, and reconciliation shows "not counted",
	 * never zero). Report through host->count() how many records of source table `table` the
	 * system holds per business day from `from` to `to` inclusive (YYYY-MM-DD). `table` is
	 * NULL for all tables.
	 */
	int (*count)(void *ctx, const char *table, const char *from, const char *to,
		     const struct spgw_host *host, struct spgw_plugin_error *err);

	/* Required. Release the instance made by create(). */
	void (*destroy)(void *ctx);

	/* Optional. Called once after the last destroy() of the process. */
	void (*fini)(void);

	/* end of ABI 1 as first released. Members below were appended later, each optional: the
	 * host reads one only when the plugin's struct_size covers it, so a plugin built against
	 * an older header keeps working (the member counts as NULL). */

	/*
	 * Optional (NULL, or a struct_size that ends before it: the source cannot re-pull a date
	 * range, and `spgw backfill` says so; its regular pull() reads everything from its
	 * cursor anyway). Appended to ABI 1 for `spgw backfill`: a city that joins late, a month
	 * lost and to be read again. A plugin has it when its struct_size reaches past it
	 * (offsetof(struct spgw_plugin, pull_range) plus the member's size) and it is not NULL.
	 *
	 * Emit every record the system holds now that was created or changed on a day from
	 * `from` to `to` inclusive (both YYYY-MM-DD, Beijing time, from <= to; the host checked
	 * them), handing records to host->emit() and calling host->commit() after each complete
	 * group exactly as pull() does (at most 5000 records uncommitted; records after the last
	 * commit are discarded when the call returns). What "created or changed on a day" is
	 * for a system (an update timestamp, an export file's date) the plugin's README says; a
	 * system that keeps only the latest version of a record has it on the day of its latest
	 * change, and a range that ends before that day does not find it.
	 *
	 * `cursor` is NULL when this range starts (or is started again: `spgw backfill
	 * --restart`), and otherwise the last cursor committed by pull_range() for this same
	 * source and this same range: resume after it. Its text is
	 * the plugin's choice, as in pull(). The host keeps it apart from pull()'s cursor and
	 * never hands the one to the other: a range pull neither reads nor moves the regular
	 * position, and the next pull() goes on where it stood.
	 *
	 * Return OK once the whole range has been read (the host then remembers the range as
	 * done); RETRY or ERROR with `err` filled otherwise: everything committed before the
	 * failure is kept, and the next call for the range gets the last committed cursor.
	 *
	 * The host never runs pull() and pull_range() of one source at the same time. Records
	 * emitted here go through the same mapping, validation and ledger as pull()'s: a record
	 * the gateway already holds unchanged costs nothing, a changed one becomes a new version.
	 */
	int (*pull_range)(void *ctx, const char *from, const char *to, const char *cursor,
			  const struct spgw_host *host, struct spgw_plugin_error *err);

	/* later members are appended below, never in between */
};

#ifdef __cplusplus
}
#endif

#endif /* SPGW_PLUGIN_H */
