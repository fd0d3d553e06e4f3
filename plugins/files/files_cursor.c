/*
 * The cursor: the last file reached in reading order and how far into it, plus a short memory
 * of the files finished most recently. Reading order is by arrival (files_scan.c), so "every
 * file up to this key" needs no list of files, and the cursor stays small however many files
 * the directory holds:
 *
 *   {"v":1,"ctime":"1767225600.123456789","file":"xm_20260101.csv","done":false,
 *    "size":73400,"mtime":"1767225598.000000000","offset":40960,"line":58,
 *    "encoding":"gb18030","recent":"<24 hex digits per finished file>"}
 *
 * "file_hex" replaces "file" for a name that is not UTF-8. size, mtime, offset, line and
 * encoding are present only while a file is in progress ("done":false).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files_int.h"

/* plugin.h: a cursor is at most 4096 bytes with its NUL. */
#define CURSOR_MAX 4095

uint64_t files_name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint32_t files_ident(const struct files_entry *e)
{
	uint64_t v[3] = { e->size, (uint64_t)e->mtime_sec, (uint64_t)e->mtime_nsec };
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p = (const unsigned char *)v;
	size_t i;

	for (i = 0; i < sizeof(v); i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

struct files_recent *files_recent_find(struct files_cursor *c, uint64_t name_hash)
{
	size_t i;

	for (i = 0; i < c->n_recent; i++)
		if (c->recent[i].name_hash == name_hash)
			return &c->recent[i];
	return NULL;
}

void files_recent_add(struct files_cursor *c, uint64_t name_hash, uint32_t ident)
{
	struct files_recent *r = files_recent_find(c, name_hash);
	size_t drop;

	if (r)
		drop = (size_t)(r - c->recent);
	else if (c->n_recent == FILES_RECENT)
		drop = 0;
	else
		drop = c->n_recent++;
	memmove(&c->recent[drop], &c->recent[drop + 1],
		(c->n_recent - 1 - drop) * sizeof(c->recent[0]));
	c->recent[c->n_recent - 1].name_hash = name_hash;
	c->recent[c->n_recent - 1].ident = ident;
}

void files_cursor_free(struct files_cursor *c)
{
	free(c->key.name);
	memset(c, 0, sizeof(*c));
}

static const char *const enc_names[] = { "utf-8", "gbk", "gb18030" };

static int parse_time(const char *s, int64_t *sec, long *nsec)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	long long a;
	long b;
	int used = 0;

	/* Exactly as files_cursor_format writes it: nine digits of nanoseconds. */
	if (!dot || strlen(dot + 1) != 9 || sscanf(s, "%lld.%9ld%n", &a, &b, &used) != 2 ||
	    s[used] || b < 0)
		return -1;
	*sec = a;
	*nsec = b;
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_hex(const char *s, size_t digits, uint64_t *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < digits; i++) {
		int v = hex_value(s[i]);

		if (v < 0)
			return -1;
		*out = *out << 4 | (uint64_t)v;
	}
	return 0;
}

static char *unhex_name(const char *s)
{
	size_t n = strlen(s), i;
	char *name;

	if (!n || n % 2)
		return NULL;
	name = malloc(n / 2 + 1);
	if (!name)
		return NULL;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(name);
			return NULL;
		}
		name[i] = (char)(hi << 4 | lo);
	}
	name[n / 2] = '\0';
	return name;
}

static int get_u64(json_t *o, const char *k, uint64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int files_cursor_parse(const char *text, struct files_cursor *c, char *why, size_t whylen)
{
	json_error_t je;
	json_t *o, *v;
	const char *s;
	int rc = -1;
	size_t i;

	memset(c, 0, sizeof(*c));
	o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object%s%s", o ? "" : ": ", o ? "" : je.text);
		goto out;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		if (json_is_integer(v))
			snprintf(why, whylen,
				 "cursor version %" JSON_INTEGER_FORMAT " is not 1 "
				 "(written by another version of the plugin?)",
				 json_integer_value(v));
		else
			snprintf(why, whylen, "\"v\" (the cursor version) is missing");
		goto out;
	}
	if (parse_time(json_string_value(json_object_get(o, "ctime")), &c->key.sec,
		       &c->key.nsec)) {
		snprintf(why, whylen, "\"ctime\" is not \"<seconds>.<nanoseconds>\"");
		goto out;
	}
	s = json_string_value(json_object_get(o, "file"));
	c->key.name = s ? strdup(s) : NULL;
	if (!s && (s = json_string_value(json_object_get(o, "file_hex"))))
		c->key.name = unhex_name(s);
	if (!c->key.name || !*c->key.name) {
		snprintf(why, whylen, "\"file\" is missing or empty");
		goto out;
	}
	v = json_object_get(o, "done");
	if (!json_is_boolean(v)) {
		snprintf(why, whylen, "\"done\" is not true or false");
		goto out;
	}
	c->done = json_is_true(v);
	if (!c->done) {
		s = json_string_value(json_object_get(o, "encoding"));
		for (i = 0; s && i < 3 && strcmp(s, enc_names[i]); i++)
			;
		if (get_u64(o, "size", &c->size) || get_u64(o, "offset", &c->offset) ||
		    get_u64(o, "line", &c->line) || c->offset > c->size ||
		    parse_time(json_string_value(json_object_get(o, "mtime")), &c->mtime_sec,
			       &c->mtime_nsec) ||
		    !s || i == 3) {
			snprintf(why, whylen, "a file in progress needs size, mtime, offset (at "
				 "most size), line and encoding");
			goto out;
		}
		c->enc = (enum files_encoding)i;
	}
	s = json_string_value(json_object_get(o, "recent"));
	if (!s || strlen(s) % 24 || strlen(s) / 24 > FILES_RECENT) {
		snprintf(why, whylen, "\"recent\" is not a string of at most %d 24-digit entries",
			 FILES_RECENT);
		goto out;
	}
	for (i = 0; s[24 * i]; i++) {
		uint64_t h, id;

		if (parse_hex(s + 24 * i, 16, &h) || parse_hex(s + 24 * i + 16, 8, &id)) {
			snprintf(why, whylen, "\"recent\" holds a character that is not a "
				 "lower-case hex digit");
			goto out;
		}
		c->recent[i].name_hash = h;
		c->recent[i].ident = (uint32_t)id;
	}
	c->n_recent = i;
	c->set = 1;
	rc = 0;
out:
	if (rc)
		files_cursor_free(c);
	json_decref(o);
	return rc;
}

static int addf(struct fbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int addf(struct fbuf *b, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	return files_buf_add(b, tmp, (size_t)n, CURSOR_MAX);
}

int files_cursor_format(const struct files_cursor *c, struct fbuf *b)
{
	const char *name = c->key.name;
	size_t n = strlen(name), i;
	int rc;

	b->len = 0;
	rc = addf(b, "{\"v\":1,\"ctime\":\"%" PRId64 ".%09ld\",", c->key.sec, c->key.nsec);
	if (!rc && files_utf8_valid((const unsigned char *)name, n) == n) {
		rc = addf(b, "\"file\":\"");
		if (!rc)
			rc = files_json_escape(b, name, n, CURSOR_MAX);
	} else if (!rc) {
		rc = addf(b, "\"file_hex\":\"");
		for (i = 0; !rc && i < n; i++)
			rc = addf(b, "%02x", (unsigned char)name[i]);
	}
	if (!rc)
		rc = addf(b, "\",\"done\":%s", c->done ? "true" : "false");
	if (!rc && !c->done)
		rc = addf(b, ",\"size\":%" PRIu64 ",\"mtime\":\"%" PRId64 ".%09ld\",\"offset\":%"
			  PRIu64 ",\"line\":%" PRIu64 ",\"encoding\":\"%s\"", c->size,
			  c->mtime_sec, c->mtime_nsec, c->offset, c->line, enc_names[c->enc]);
	if (!rc)
		rc = addf(b, ",\"recent\":\"");
	for (i = 0; !rc && i < c->n_recent; i++)
		rc = addf(b, "%016" PRIx64 "%08" PRIx32, c->recent[i].name_hash,
			  c->recent[i].ident);
	if (!rc)
		rc = addf(b, "\"}");
	return rc ? -1 : 0;
}
