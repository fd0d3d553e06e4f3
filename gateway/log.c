/* Log lines on stderr, plain or JSON (see log.h). */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum spgw_log_level max_level = SPGW_LOG_INFO;
static enum spgw_log_format fmt_kind = SPGW_LOG_PLAIN;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const char *banner; /* borrowed: a string literal or the caller's for the run */

void spgw_log_banner(const char *text)
{
	banner = text;
}

void spgw_log_setup(enum spgw_log_level level, enum spgw_log_format format)
{
	max_level = level;
	fmt_kind = format;
}

int spgw_log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (s && !strcmp(s, level_names[i]))
			return i;
	return -1;
}

void spgw_log(enum spgw_log_level level, const char *source, const char *fmt, ...)
{
	char msg[4096], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > max_level || (int)level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (fmt_kind == SPGW_LOG_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:s?}", "time", ts, "level",
				      level_names[level], "source", source, "message", msg,
				      "warning", banner);
		char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
		return;
	}
	if (banner)
		fprintf(stderr, "[%s] ", banner);
	if (source)
		fprintf(stderr, "%s %s [%s] %s\n", ts, level_names[level], source, msg);
	else
		fprintf(stderr, "%s %s %s\n", ts, level_names[level], msg);
}
