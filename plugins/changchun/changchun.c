/*
 * The "changchun" plugin: reads Changchun's approval system (长春市工程建设项目审批管理系统)
 * through its HTTP JSON API v2 (token auth, incremental pages by (update_time, id)) and emits
 * each record with its entity as the source table. plugins/changchun/README.md is the user's
 * guide; this file holds the descriptor, the settings and the helpers the others share.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cc_int.h"

const char *const cc_entity_names[CC_ENTITIES] = {
	"projects", "units", "cases", "steps", "documents", "procedures", "materials", "opinions",
};

static const char *const cc_tables[CC_ENTITIES + 1] = {
	"projects", "units", "cases", "steps", "documents", "procedures", "materials", "opinions",
	NULL,
};

static const struct spgw_plugin_option cc_options[] = {
	{ "base_url", SPGW_OPT_STRING, 1, NULL,
	  "where the API lives: http(s)://host[:port][/prefix], under which /api/v2/ is" },
	{ "app_id", SPGW_OPT_STRING, 1, NULL, "the app_id the city issued to the gateway" },
	{ "app_secret", SPGW_OPT_SECRET, 0, NULL,
	  "the app_secret (better: app_secret_file, kept out of configuration files)" },
	{ "app_secret_file", SPGW_OPT_STRING, 0, NULL,
	  "a file whose first line is the app_secret (mode 0600)" },
	{ "page_size", SPGW_OPT_INT, 0, "500", "records per page, 1 to 500" },
	{ "commit_records", SPGW_OPT_INT, 0, "4000",
	  "commit the cursor once this many records are read (1 to 4000; always after an "
	  "entity's last page and before a failing page)" },
	{ "entities", SPGW_OPT_ARRAY, 0,
	  "[\"projects\",\"units\",\"cases\",\"steps\",\"documents\",\"procedures\","
	  "\"materials\",\"opinions\"]",
	  "the entities to pull; each is a source table of the same name" },
	{ "timeout", SPGW_OPT_INT, 0, "30", "seconds for one request, answer included, 1 to 600" },
	{ "max_retries", SPGW_OPT_INT, 0, "5",
	  "attempts after the first for a failing request (5xx, 429, timeout, HTML, cut JSON)" },
	{ "retry_base_ms", SPGW_OPT_INT, 0, "500",
	  "first backoff step; each retry waits up to twice the one before (at most 30 s)" },
	{ "ca_file", SPGW_OPT_STRING, 0, NULL,
	  "PEM bundle the server's certificate must chain to (https; default: the system's)" },
	{ NULL, 0, 0, NULL, NULL },
};

int cc_entity_find(const char *name, size_t len)
{
	int i;

	for (i = 0; i < CC_ENTITIES; i++)
		if (strlen(cc_entity_names[i]) == len && memcmp(name, cc_entity_names[i], len) == 0)
			return i;
	return -1;
}

/* ---- small shared helpers ---- */

int cc_buf_reserve(struct cc_buf *b, size_t n, size_t max)
{
	size_t cap;
	char *p;

	if (n > max || b->len > max - n)
		return 1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > max + 1)
		cap = max + 1;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int cc_buf_add(struct cc_buf *b, const void *p, size_t n, size_t max)
{
	int r = cc_buf_reserve(b, n, max);

	if (r)
		return r;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int cc_buf_addf(struct cc_buf *b, size_t max, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small))
		return -1; /* every use formats a short piece */
	return cc_buf_add(b, small, (size_t)n, max);
}

void cc_buf_free(struct cc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int cc_day_ok(const char *s)
{
	return s && strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	       strspn(s, "0123456789-") == 10;
}

int64_t cc_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cc_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k, need;
	unsigned c, cp;

	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms, surrogates and beyond U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static void mask_one(char *text, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	char *p;

	if (!sl)
		return;
	while ((p = strstr(text, secret)) != NULL) {
		/* "***" is never longer than a secret worth masking; shorter ones are masked
		 * whole by stars of their own length */
		size_t m = sl < 3 ? sl : 3;

		memset(p, '*', m);
		memmove(p + m, p + sl, strlen(p + sl) + 1);
	}
}

void cc_mask(const struct cc_source *src, char *text)
{
	if (!src || !text)
		return;
	mask_one(text, src->s.secret);
	mask_one(text, src->token);
}

void cc_log(struct cc_source *src, enum spgw_log_level level, const char *fmt, ...)
{
	const struct spgw_host *host = src->host;
	char line[1024];
	va_list ap;

	if (!host || host->struct_size < offsetof(struct spgw_host, log) + sizeof(host->log) ||
	    !host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cc_mask(src, line);
	host->log(host->ctx, level, "%s", line);
}

int cc_fail(struct cc_source *src, struct spgw_plugin_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && !err->text[0]) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
		cc_mask(src, err->text);
	}
	return rc;
}

void cc_describe(const struct cc_source *src, const char *p, size_t n, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, k = 0, l;

	if (!cap)
		return;
	/* the first 80 bytes on one line: text kept (an HTML page's title says what it is),
	 * controls as '.', bytes that are not UTF-8 as '?' */
	while (i < n && i < 80 && k + 8 < cap) {
		l = u[i] < 0x80 ? 1 : u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : 2;
		if (u[i] >= 0x80 && i + l <= n && cc_utf8_valid(u + i, l)) {
			memcpy(out + k, p + i, l);
			k += l;
			i += l;
			continue;
		}
		if (u[i] == '\n' || u[i] == '\r' || u[i] == '\t')
			out[k++] = ' ';
		else if (u[i] < 0x20 || u[i] == 0x7f)
			out[k++] = '.';
		else if (u[i] >= 0x80)
			out[k++] = '?';
		else
			out[k++] = p[i];
		i++;
	}
	if (i < n && k + 3 < cap) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	cc_mask(src, out);
}

/* ---- settings ---- */

static int set_string(struct cc_source *src, json_t *o, const char *key, char **out,
		      struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || !json_string_length(v))
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "settings: \"%s\" must be a non-empty string", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : cc_fail(src, err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
}

static int set_long(struct cc_source *src, json_t *o, const char *key, long lo, long hi,
		    long *out, struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "settings: \"%s\" must be a whole number from %ld to %ld", key, lo,
			       hi);
	*out = (long)json_integer_value(v);
	return 0;
}

/* The secret file's first line, trimmed. The file should be readable by the gateway only. */
static int read_secret_file(struct cc_source *src, const char *path,
			    struct spgw_plugin_error *err)
{
	char line[1024];
	struct stat st;
	FILE *f = fopen(path, "r");
	size_t n, b = 0;

	if (!f)
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "settings: app_secret_file \"%s\": %s: create it (one line, the "
			       "app_secret, mode 0600) or correct the path (relative paths are "
			       "from the source file's folder)",
			       path, strerror(errno));
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		cc_log(src, SPGW_LOG_WARNING,
		       "app_secret_file \"%s\" can be read by other users (mode %03o): chmod 600 it",
		       path, (unsigned)(st.st_mode & 0777));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	while (b < n && (line[b] == ' ' || line[b] == '\t'))
		b++;
	line[n] = '\0';
	if (b == n) {
		memset(line, 0, sizeof(line));
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "settings: app_secret_file \"%s\" has no secret on its first line",
			       path);
	}
	src->s.secret = strdup(line + b);
	memset(line, 0, sizeof(line));
	return src->s.secret ? 0
			     : cc_fail(src, err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
}

static int set_entities(struct cc_source *src, json_t *o, struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(o, "entities"), *e;
	size_t i;
	int k;

	if (!v) {
		for (k = 0; k < CC_ENTITIES; k++)
			src->s.want[k] = 1;
		return 0;
	}
	if (!json_is_array(v) || !json_array_size(v))
		return cc_fail(src, err, SPGW_PLUGIN_ERROR,
			       "settings: \"entities\" must be a non-empty list of entity names");
	json_array_foreach(v, i, e) {
		k = json_is_string(e) ? cc_entity_find(json_string_value(e), json_string_length(e))
				      : -1;
		if (k < 0)
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "settings: \"entities\"[%zu] is not one of projects, units, "
				       "cases, steps, documents, procedures, materials, opinions",
				       i);
		if (src->s.want[k])
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "settings: \"entities\" names \"%s\" twice",
				       cc_entity_names[k]);
		src->s.want[k] = 1;
	}
	return 0;
}

static int parse_settings(struct cc_source *src, const char *text, struct spgw_plugin_error *err)
{
	struct cc_settings *s = &src->s;
	json_error_t je;
	json_t *o = json_loads(text ? text : "{}", 0, &je);
	char *secret_file = NULL;
	size_t n;
	int rc;

	s->page_size = CC_MAX_PAGE;
	s->commit_records = (long)CC_COMMIT_RECORDS;
	s->timeout = 30;
	s->max_retries = 5;
	s->retry_base_ms = 500;
	if (!json_is_object(o)) {
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR, "settings are not a JSON object");
		goto out;
	}
	rc = set_string(src, o, "base_url", &s->base_url, err);
	if (!rc && !s->base_url)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "settings: \"base_url\" is required, e.g. \"https://host:port\"");
	if (!rc && strncmp(s->base_url, "http://", 7) != 0 &&
	    strncmp(s->base_url, "https://", 8) != 0)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "settings: \"base_url\" must start with http:// or https://");
	if (!rc && (strchr(s->base_url, '?') || strchr(s->base_url, '#') ||
		    strchr(s->base_url, ' ')))
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "settings: \"base_url\" may not hold '?', '#' or spaces: give the "
			     "address under which /api/v2/ is");
	if (!rc) {
		n = strlen(s->base_url);
		while (n && s->base_url[n - 1] == '/')
			s->base_url[--n] = '\0';
	}
	if (!rc)
		rc = set_string(src, o, "app_id", &s->app_id, err);
	if (!rc && !s->app_id)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR, "settings: \"app_id\" is required");
	if (!rc)
		rc = set_string(src, o, "app_secret", &s->secret, err);
	if (!rc)
		rc = set_string(src, o, "app_secret_file", &secret_file, err);
	if (!rc && s->secret && secret_file)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "settings: give \"app_secret\" or \"app_secret_file\", not both");
	if (!rc && !s->secret && !secret_file)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "settings: \"app_secret_file\" (or \"app_secret\") is required");
	if (!rc && secret_file)
		rc = read_secret_file(src, secret_file, err);
	if (!rc)
		rc = set_long(src, o, "page_size", 1, CC_MAX_PAGE, &s->page_size, err);
	if (!rc)
		rc = set_long(src, o, "commit_records", 1, (long)CC_COMMIT_RECORDS,
			      &s->commit_records, err);
	if (!rc)
		rc = set_entities(src, o, err);
	if (!rc)
		rc = set_long(src, o, "timeout", 1, 600, &s->timeout, err);
	if (!rc)
		rc = set_long(src, o, "max_retries", 0, 20, &s->max_retries, err);
	if (!rc)
		rc = set_long(src, o, "retry_base_ms", 10, 60000, &s->retry_base_ms, err);
	if (!rc)
		rc = set_string(src, o, "ca_file", &s->ca_file, err);
	if (!rc && s->ca_file && access(s->ca_file, R_OK) != 0)
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR, "settings: ca_file \"%s\": %s",
			     s->ca_file, strerror(errno));
out:
	free(secret_file);
	json_decref(o);
	return rc;
}

/* ---- create, destroy ---- */

static void cc_destroy(void *ctx)
{
	struct cc_source *src = ctx;

	if (!src)
		return;
	if (src->curl)
		curl_easy_cleanup(src->curl);
	if (src->gbk != (iconv_t)-1)
		iconv_close(src->gbk);
	if (src->s.secret)
		memset(src->s.secret, 0, strlen(src->s.secret));
	if (src->token)
		memset(src->token, 0, strlen(src->token));
	free(src->s.secret);
	free(src->token);
	free(src->s.base_url);
	free(src->s.app_id);
	free(src->s.ca_file);
	cc_buf_free(&src->body);
	cc_buf_free(&src->cursor);
	cc_page_free(&src->page);
	free(src);
}

static int cc_create(const char *settings, const char *region, const struct spgw_host *host,
		     void **ctx, struct spgw_plugin_error *err)
{
	struct cc_source *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return cc_fail(NULL, err, SPGW_PLUGIN_RETRY, "out of memory creating the source");
	src->gbk = (iconv_t)-1;
	src->host = host;
	snprintf(src->region, sizeof(src->region), "%.6s", region ? region : "");
	src->rnd = (unsigned)time(NULL) ^ (unsigned)getpid();
	rc = parse_settings(src, settings, err);
	if (rc)
		goto out;
	src->gbk = iconv_open("UTF-8", "GB18030");
	if (src->gbk == (iconv_t)-1) {
		rc = cc_fail(src, err, SPGW_PLUGIN_ERROR,
			     "iconv cannot convert GB18030 to UTF-8: install the C library's "
			     "GBK/GB18030 converters (glibc gconv modules)");
		goto out;
	}
	src->curl = curl_easy_init();
	if (!src->curl) {
		rc = cc_fail(src, err, SPGW_PLUGIN_RETRY, "libcurl could not start a session");
		goto out;
	}
	*ctx = src;
	src = NULL;
out:
	cc_destroy(src);
	return rc;
}

static int cc_init(const struct spgw_host *host, struct spgw_plugin_error *err)
{
	(void)host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cc_fail(NULL, err, SPGW_PLUGIN_RETRY, "libcurl could not initialise");
	return SPGW_PLUGIN_OK;
}

static void cc_fini(void)
{
	curl_global_cleanup();
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "changchun",
	.version = "1.1.0",
	.description = "Changchun's approval system (长春市工程建设项目审批管理系统), HTTP JSON API v2",
	.tables = cc_tables,
	.options = cc_options,
	.init = cc_init,
	.create = cc_create,
	.pull = cc_pull,
	.count = cc_count,
	.pull_range = cc_pull_range,
	.destroy = cc_destroy,
	.fini = cc_fini,
};
