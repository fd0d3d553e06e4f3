/*
 * Log lines for operators. Only the edges log (commands, the ingest loop, the daemon); modules
 * return errors instead. One line per event: time, level, and "source=... table=... key=..."
 * where they apply. Never a secret, never a whole record at info level.
 */
#ifndef SPGW_LOG_H
#define SPGW_LOG_H

#include <spgw/plugin.h>

enum spgw_log_format { SPGW_LOG_PLAIN = 0, SPGW_LOG_JSON = 1 };

/* Configure: lines at `level` or more severe are written to stderr in `format`. */
void spgw_log_setup(enum spgw_log_level level, enum spgw_log_format format);
/* Parse "error", "warning", "info", "debug"; returns -1 when unknown. */
int spgw_log_level_parse(const char *s);

/*
 * A warning carried by every line from now on (NULL to drop it): a configuration that makes
 * the gateway unsafe, such as TLS verification turned off, must not scroll out of sight.
 * Plain lines start with "[<text>] ", JSON lines get a "warning" member.
 */
void spgw_log_banner(const char *text);

/* `source` may be NULL (the gateway itself). */
void spgw_log(enum spgw_log_level level, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
