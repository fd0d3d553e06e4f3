/*
 * The "files" plugin: reads the export files a city system drops into a directory (CSV or
 * JSON Lines, UTF-8 or GBK/GB18030) and emits each row as a record of the table its file name
 * (or the settings) give. plugins/files/README.md is the user's guide; this file holds the
 * descriptor, the settings and the helpers the other files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files_int.h"

static const struct spgw_plugin_option files_options[] = {
	{ "dir", SPGW_OPT_STRING, 1, NULL, "directory the city's export files are dropped into" },
	{ "pattern", SPGW_OPT_STRING, 0, "*.csv,*.jsonl",
	  "comma-separated file name globs to read, matched without regard to case" },
	{ "format", SPGW_OPT_STRING, 0, "auto",
	  "csv, jsonl, or auto: .jsonl and .ndjson files are JSON Lines, others CSV" },
	{ "encoding", SPGW_OPT_STRING, 0, "auto",
	  "utf-8, gbk, gb18030, or auto: per file, UTF-8 if all of it is, else GB18030" },
	{ "table", SPGW_OPT_STRING, 0, NULL,
	  "source table of every file; without it the table comes from the name (table_from)" },
	{ "table_from", SPGW_OPT_STRING, 0, "prefix",
	  "prefix: the name up to the first '_' or '.'; stem: up to the first '.'" },
	{ "delimiter", SPGW_OPT_STRING, 0, ",", "CSV field separator: one ASCII character" },
	{ "commit_every", SPGW_OPT_INT, 0, "1000", "rows per commit inside a file, 1 to 5000" },
	{ "done_suffix", SPGW_OPT_STRING, 0, NULL,
	  "read a file only once <name><done_suffix> exists (e.g. \".done\")" },
	{ "stable_seconds", SPGW_OPT_INT, 0, "2",
	  "leave a file alone until it has not changed for this many seconds" },
	{ "max_line", SPGW_OPT_INT, 0, "16777216",
	  "longest row in bytes (at most 16 MiB); a longer one is emitted as a bad row" },
	{ "reread_changed", SPGW_OPT_BOOL, 0, "false",
	  "read a file again from its start when it changes after it was read" },
	{ "day_column", SPGW_OPT_STRING, 0, NULL,
	  "column holding each row's business date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD); "
	  "enables count" },
	{ NULL, 0, 0, NULL, NULL },
};

void files_log(const struct spgw_host *host, enum spgw_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!host || host->struct_size < offsetof(struct spgw_host, log) + sizeof(host->log) ||
	    !host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	host->log(host->ctx, level, "%s", line);
}

int files_fail(struct spgw_plugin_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && !err->text[0]) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return rc;
}

int files_open_dir(const struct files_source *src, int *dirfd, struct spgw_plugin_error *err)
{
	int fd = open(src->s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		*dirfd = fd;
		return SPGW_PLUGIN_OK;
	}
	switch (errno) {
	case ENOENT:
		return files_fail(err, SPGW_PLUGIN_ERROR,
				  "dir \"%s\" does not exist: create it, or "
				  "correct \"dir\" in the source's settings",
				  src->s.dir);
	case ENOTDIR:
		return files_fail(err, SPGW_PLUGIN_ERROR, "dir \"%s\" is not a directory: correct "
				  "\"dir\" in the source's settings", src->s.dir);
	case EACCES:
	case EPERM:
		return files_fail(err, SPGW_PLUGIN_ERROR, "dir \"%s\": %s: let the gateway's user "
				  "read and search it", src->s.dir, strerror(errno));
	default:
		/* EIO, ENFILE, a network file system away: likely to pass. */
		return files_fail(err, SPGW_PLUGIN_RETRY, "dir \"%s\": %s", src->s.dir,
				  strerror(errno));
	}
}

const char *files_name_utf8(struct files_source *src, const char *name, size_t *len)
{
	const char *u;
	size_t n;
	int invalid;

	if (files_text_decode(&src->names, name, strlen(name), &u, &n, &invalid))
		u = "(a file name)", n = strlen(u); /* no memory for the name, not for the work */
	if (len)
		*len = n;
	return u;
}

/* --- settings --- */

static int set_string(json_t *settings, const char *key, char **out,
		      struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(settings, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || !json_string_length(v))
		return files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"%s\" must be a non-empty "
				  "string", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : files_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
}

static int set_long(json_t *settings, const char *key, long lo, long hi, long *out,
		    struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(settings, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"%s\" must be a whole number "
				  "from %ld to %ld", key, lo, hi);
	*out = (long)json_integer_value(v);
	return 0;
}

/* Index of `value` in `names`, or -1. */
static int pick(const char *value, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(value, names[i]))
			return i;
	return -1;
}

static int set_choice(json_t *settings, const char *key, const char *const *names, int *out,
		      const char *listed, struct spgw_plugin_error *err)
{
	char *v = NULL;
	int i, rc = set_string(settings, key, &v, err);

	if (rc || !v)
		return rc;
	i = pick(v, names);
	if (i < 0)
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"%s\" is \"%.64s\"; use %s",
				key, v, listed);
	else
		*out = i;
	free(v);
	return rc;
}

static int set_patterns(json_t *settings, struct files_settings *s, struct spgw_plugin_error *err)
{
	char *list = NULL, *save = NULL, *tok, *p;
	size_t n = 0;
	int rc = set_string(settings, "pattern", &list, err);

	if (rc)
		return rc;
	if (!list && !(list = strdup("*.csv,*.jsonl")))
		return files_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
	for (p = list; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	s->patterns = calloc(strlen(list) / 2 + 2, sizeof(*s->patterns));
	if (!s->patterns) {
		rc = files_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
		goto out;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		for (p = tok + strlen(tok); p > tok && p[-1] == ' '; p--)
			p[-1] = '\0';
		if (!*tok)
			continue;
		if (strchr(tok, '/')) {
			rc = files_fail(err, SPGW_PLUGIN_ERROR,
					"settings: \"pattern\" entry \"%.64s\" "
					"holds a '/'; patterns match names inside \"dir\"",
					tok);
			goto out;
		}
		s->patterns[n] = strdup(tok);
		if (!s->patterns[n++]) {
			rc = files_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
			goto out;
		}
	}
	if (!n)
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"pattern\" names no glob; give "
				"e.g. \"*.csv,*.jsonl\"");
out:
	free(list);
	return rc;
}

static int parse_settings(const char *text, struct files_settings *s,
			  struct spgw_plugin_error *err)
{
	static const char *const formats[] = { "csv", "jsonl", "auto", NULL };
	static const char *const encodings[] = { "utf-8", "gbk", "gb18030", "auto", NULL };
	static const char *const table_from[] = { "prefix", "stem", NULL };
	json_error_t je;
	json_t *o = json_loads(text ? text : "{}", 0, &je), *v;
	char *delim = NULL;
	long max_line = FILES_MAX_LINE;
	int fmt = FILES_FORMAT_AUTO, enc = FILES_ENC_AUTO, rc;

	s->delimiter = ',';
	s->commit_every = 1000;
	s->stable_seconds = 2;
	if (!json_is_object(o)) {
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings are not a JSON object");
		goto out;
	}
	rc = set_string(o, "dir", &s->dir, err);
	if (!rc && !s->dir)
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"dir\" is required: the "
				"directory the export files are dropped into");
	if (!rc)
		rc = set_patterns(o, s, err);
	if (!rc)
		rc = set_choice(o, "format", formats, &fmt, "csv, jsonl or auto", err);
	if (!rc)
		rc = set_choice(o, "encoding", encodings, &enc, "utf-8, gbk, gb18030 or auto", err);
	if (!rc)
		rc = set_string(o, "table", &s->table, err);
	if (!rc && s->table && json_object_get(o, "table_from"))
		rc = files_fail(err, SPGW_PLUGIN_ERROR,
				"settings: give \"table\" or \"table_from\","
				" not both");
	if (!rc)
		rc = set_choice(o, "table_from", table_from, &s->table_stem, "prefix or stem", err);
	if (!rc)
		rc = set_string(o, "delimiter", &delim, err);
	if (!rc && delim) {
		if (strlen(delim) != 1 || (unsigned char)delim[0] >= 0x80 ||
		    strchr("\"\r\n", *delim))
			rc = files_fail(err, SPGW_PLUGIN_ERROR,
					"settings: \"delimiter\" must be one "
					"ASCII character other than a quote or a line end");
		else
			s->delimiter = delim[0];
	}
	if (!rc)
		rc = set_long(o, "commit_every", 1, 5000, &s->commit_every, err);
	if (!rc)
		rc = set_string(o, "done_suffix", &s->done_suffix, err);
	if (!rc && s->done_suffix && strchr(s->done_suffix, '/'))
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"done_suffix\" may not hold a "
				"'/'");
	if (!rc)
		rc = set_long(o, "stable_seconds", 0, 86400, &s->stable_seconds, err);
	if (!rc)
		rc = set_long(o, "max_line", 1024, FILES_MAX_LINE, &max_line, err);
	v = json_object_get(o, "reread_changed");
	if (!rc && v && !json_is_boolean(v))
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"reread_changed\" must be true "
				"or false");
	if (!rc)
		rc = set_string(o, "day_column", &s->day_column, err);
	if (!rc && s->table && !files_table_name_ok(s->table, strlen(s->table)))
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "settings: \"table\" \"%.64s\" is not a "
				"table name (1-64 of A-Z a-z 0-9 _ -)", s->table);
	s->format = (enum files_format)fmt;
	s->encoding = (enum files_encoding)enc;
	s->max_line = (size_t)max_line;
	s->reread_changed = json_is_true(v);
out:
	free(delim);
	json_decref(o);
	return rc;
}

static void settings_free(struct files_settings *s)
{
	size_t i;

	for (i = 0; s->patterns && s->patterns[i]; i++)
		free(s->patterns[i]);
	free(s->patterns);
	free(s->dir);
	free(s->table);
	free(s->done_suffix);
	free(s->day_column);
	memset(s, 0, sizeof(*s));
}

static void files_destroy(void *ctx)
{
	struct files_source *src = ctx;
	int i;

	if (!src)
		return;
	for (i = 0; i < 3; i++)
		files_text_close(&src->text[i]);
	files_text_close(&src->names);
	files_rows_free(&src->rows);
	files_out_free(&src->out);
	files_buf_free(&src->cursor);
	settings_free(&src->s);
	free(src);
}

static int files_create(const char *settings, const char *region, const struct spgw_host *host,
			void **ctx, struct spgw_plugin_error *err)
{
	struct files_source *src = calloc(1, sizeof(*src));
	int i, rc;

	(void)region; /* the files of one source are all of its region */
	(void)host;
	if (!src)
		return files_fail(err, SPGW_PLUGIN_RETRY, "out of memory creating the source");
	for (i = 0; i < 3; i++)
		src->text[i].cd = (iconv_t)-1;
	src->names.cd = (iconv_t)-1;
	rc = parse_settings(settings, &src->s, err);
	if (rc)
		goto out;
	for (i = 0; i < 3; i++) {
		if (files_text_open(&src->text[i], (enum files_encoding)i)) {
			rc = files_fail(err, SPGW_PLUGIN_ERROR, "iconv cannot convert %s to UTF-8: "
					"install the C library's GBK/GB18030 converters (glibc "
					"gconv modules)", i == FILES_GBK ? "GBK" : "GB18030");
			goto out;
		}
	}
	files_text_open(&src->names, FILES_UTF8);
	*ctx = src;
	src = NULL;
out:
	files_destroy(src);
	return rc;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "files",
	.version = "1.1.0",
	.description = "export files (CSV or JSON Lines, UTF-8 or GBK/GB18030) dropped into a "
		       "directory",
	.tables = NULL,
	.options = files_options,
	.create = files_create,
	.pull = files_pull,
	.count = files_count,
	.pull_range = files_pull_range,
	.destroy = files_destroy,
};
