/*
 * Log lines for operators. Only the edges log (commands, the ingest loop, the daemon); modules
 * return errors instead. One line per event: time, level, and "source=... table=... key=..."
 * where they apply. Never a secret, never a whole record at info level.
 *
 * Every function here may be called from any thread: one lock covers formatting and writing,
 * so lines from several threads never interleave, and each line reaches stderr in one write().
 *
 * Repetition: the same line (same level, source, context and message) is shown at most
 * `burst` times (5) per window (60 s); the rest are counted and reported as one line,
 * "<message> (repeated 1,532 times in 60 s)", when the window closes, when the line's slot
 * is taken by another line, or at spgw_log_flush(). The count is of the lines not shown.
 * A fixed table of 32 recent lines keeps the memory bounded.
 */
#ifndef SPGW_LOG_H
#define SPGW_LOG_H

#include <spgw/plugin.h>
#include <stdarg.h>

struct iovec;

enum spgw_log_format {
	SPGW_LOG_PLAIN = 0,   /* "<time> <level> ..." on stderr */
	SPGW_LOG_JSON = 1,    /* one JSON object per line on stderr, ASCII only */
	SPGW_LOG_JOURNAL = 2, /* journald's native protocol with SPGW_* fields; stderr when
			       * journald cannot be reached */
};

/*
 * Where a line is about; each member may be NULL (not shown). Borrowed for the call only.
 * Plain lines end with " source=... region=... table=... batch=... key=..." (values quoted
 * when they contain a space, a quote or '='); JSON lines get the members of those names;
 * journal entries get SPGW_SOURCE, SPGW_REGION, SPGW_TABLE, SPGW_BATCH and SPGW_KEY.
 */
struct spgw_log_ctx {
	const char *source; /* the configured source (city system) */
	const char *region; /* 行政区划代码 */
	const char *table;  /* the SPGL table */
	const char *batch;  /* the delivery batch id */
	const char *key;    /* a record's key */
};

/* Configure: lines at `level` or more severe are written in `format`. */
void spgw_log_setup(enum spgw_log_level level, enum spgw_log_format format);
/*
 * As spgw_log_setup, but SPGW_LOG_PLAIN turns into SPGW_LOG_JOURNAL when stderr is connected
 * to the journal (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5)): under
 * systemd the fields then reach journald instead of being flattened into text. SPGW_LOG_JSON
 * and SPGW_LOG_JOURNAL are kept as asked. Returns the format chosen.
 */
enum spgw_log_format spgw_log_setup_auto(enum spgw_log_level level, enum spgw_log_format format);
/* Parse "error", "warning", "info", "debug"; returns -1 when unknown. */
int spgw_log_level_parse(const char *s);

/*
 * A warning carried by every line from now on (NULL to drop it): a configuration that makes
 * the gateway unsafe, such as TLS verification turned off, must not scroll out of sight.
 * Plain lines start with "[<text>] ", JSON lines get a "warning" member, journal entries
 * start their MESSAGE with "[<text>] " and get SPGW_WARNING. `text` is borrowed: it must
 * live until it is replaced (a string literal).
 */
void spgw_log_banner(const char *text);

/* `source` may be NULL (the gateway itself). Plain: "<time> <level> [<source>] <message>". */
void spgw_log(enum spgw_log_level level, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line with its context (`ctx` may be NULL). Plain: "<time> <level> <message> source=...". */
void spgw_log_at(enum spgw_log_level level, const struct spgw_log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same with a va_list, for modules that wrap it with their own context. */
void spgw_log_vat(enum spgw_log_level level, const struct spgw_log_ctx *ctx, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * Write the pending repetition summaries now. Lines stay suppressed until their window
 * closes; only the count starts again. The daemon calls it periodically and before it exits;
 * it also runs at exit() unless another thread is writing a line at that moment.
 */
void spgw_log_flush(void);

/*
 * Tune the repetition limit: show `burst` copies of a line per `window_seconds`. A burst of
 * 0 shows every line. The defaults are 5 and 60. Pending summaries are written first.
 */
void spgw_log_repeat_setup(unsigned burst, unsigned window_seconds);

/*
 * A seam for tests: send journal entries through `send` (same contract as sd_journal_sendv:
 * 0 or a negative errno) instead of sd_journal_sendv; NULL restores sd_journal_sendv.
 */
void spgw_log_journal_seam(int (*send)(const struct iovec *iov, int n));

#endif
