/*
 * Output files: a buffer of our own in front of stdio (a million steps are written field by
 * field, and snprintf per field would dominate the run), JSON Lines as the Changchun API
 * returns records, and PostgreSQL COPY CSV.
 *
 * COPY CSV rules that matter here: an unquoted empty field is NULL and a quoted empty one
 * ("") is an empty string, which a date or number column refuses; so absent values are
 * written as NULL and "" is never written. A field is quoted when it holds a comma, a quote,
 * CR or LF, or starts or ends with a space (quoted, the spaces are kept). Backslash is not
 * special in CSV mode. GBK bytes go through as they are: no GBK trail byte is a comma,
 * quote or line break.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jg.h"

#define JG_OUT_BUF (1u << 18)

static int mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int jg_out_open(struct jg_out *o, const char *dir, const char *name, char *err, size_t errlen)
{
	size_t n = strlen(dir) + strlen(name) + 2;

	memset(o, 0, sizeof(*o));
	o->path = malloc(n);
	o->buf = malloc(JG_OUT_BUF);
	if (!o->path || !o->buf) {
		snprintf(err, errlen, "out of memory opening %s/%s", dir, name);
		goto fail;
	}
	snprintf(o->path, n, "%s/%s", dir, name);
	if (mkdirs(o->path)) {
		snprintf(err, errlen, "%s: cannot create its directory: %s", o->path,
			 strerror(errno));
		goto fail;
	}
	o->f = fopen(o->path, "wb");
	if (!o->f) {
		snprintf(err, errlen, "%s: cannot create: %s", o->path, strerror(errno));
		goto fail;
	}
	o->cap = JG_OUT_BUF;
	return 0;
fail:
	free(o->path);
	free(o->buf);
	memset(o, 0, sizeof(*o));
	return -1;
}

static void flush(struct jg_out *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = errno ? errno : EIO;
	o->n = 0;
}

int jg_out_close(struct jg_out *o, char *err, size_t errlen)
{
	int rc = 0;

	if (!o->f)
		return 0;
	flush(o);
	if (fclose(o->f) && !o->failed)
		o->failed = errno ? errno : EIO;
	if (o->failed) {
		snprintf(err, errlen, "%s: write failed: %s (disk full?)", o->path,
			 strerror(o->failed));
		rc = -1;
	}
	free(o->path);
	free(o->buf);
	o->f = NULL;
	o->path = o->buf = NULL;
	return rc;
}

void jg_out_mem(struct jg_out *o, const void *s, size_t n)
{
	if (o->n + n > o->cap) {
		flush(o);
		if (n > o->cap) {
			if (fwrite(s, 1, n, o->f) != n)
				o->failed = errno ? errno : EIO;
			return;
		}
	}
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

void jg_out_str(struct jg_out *o, const char *s)
{
	jg_out_mem(o, s, strlen(s));
}

void jg_out_long(struct jg_out *o, long v)
{
	char b[24];
	int k = sizeof(b);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do
		b[--k] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		b[--k] = '-';
	jg_out_mem(o, b + k, sizeof(b) - (size_t)k);
}

void jg_out_nl(struct jg_out *o)
{
	jg_out_mem(o, "\n", 1);
	o->lines++;
}

/* ---- JSON ---- */

static void jstr(struct jg_out *o, const unsigned char *s, size_t n, int bytes)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	jg_out_mem(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		char e[6] = {'\\', 'u', '0', '0', 0, 0};

		if (c >= 0x20 && c != '"' && c != '\\' && !(bytes && c >= 0x80))
			continue;
		jg_out_mem(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			jg_out_mem(o, e, 2);
			continue;
		}
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		jg_out_mem(o, e, 6);
	}
	jg_out_mem(o, s + run, n - run);
	jg_out_mem(o, "\"", 1);
}

void jg_out_jstr(struct jg_out *o, const char *s)
{
	jstr(o, (const unsigned char *)s, strlen(s), 0);
}

void jg_json_begin(struct jg_json *j, struct jg_out *o)
{
	j->o = o;
	j->n = 0;
	jg_out_mem(o, "{", 1);
}

static void key(struct jg_json *j, const char *k)
{
	if (j->n++)
		jg_out_mem(j->o, ",", 1);
	jg_out_mem(j->o, "\"", 1);
	jg_out_str(j->o, k);
	jg_out_mem(j->o, "\":", 2);
}

void jg_json_str(struct jg_json *j, const char *k, const char *v)
{
	key(j, k);
	jstr(j->o, (const unsigned char *)v, strlen(v), 0);
}

void jg_json_bytes(struct jg_json *j, const char *k, const unsigned char *v, size_t n)
{
	key(j, k);
	jstr(j->o, v, n, 1);
}

void jg_json_long(struct jg_json *j, const char *k, long v)
{
	key(j, k);
	jg_out_long(j->o, v);
}

void jg_json_num(struct jg_json *j, const char *k, const char *digits)
{
	key(j, k);
	jg_out_str(j->o, digits);
}

void jg_json_end(struct jg_json *j)
{
	jg_out_mem(j->o, "}", 1);
	jg_out_nl(j->o);
}

/* ---- CSV ---- */

void jg_csv_begin(struct jg_csv *c, struct jg_out *o)
{
	c->o = o;
	c->n = 0;
}

static void csv_field(struct jg_csv *c, const unsigned char *v, size_t n)
{
	size_t i, run = 0;
	int quote = 0;

	if (c->n++)
		jg_out_mem(c->o, ",", 1);
	if (!v || !n)
		return; /* NULL */
	for (i = 0; i < n && !quote; i++)
		quote = v[i] == ',' || v[i] == '"' || v[i] == '\n' || v[i] == '\r';
	quote |= v[0] == ' ' || v[n - 1] == ' ';
	if (!quote) {
		jg_out_mem(c->o, v, n);
		return;
	}
	jg_out_mem(c->o, "\"", 1);
	for (i = 0; i < n; i++) {
		if (v[i] != '"')
			continue;
		jg_out_mem(c->o, v + run, i + 1 - run);
		jg_out_mem(c->o, "\"", 1);
		run = i + 1;
	}
	jg_out_mem(c->o, v + run, n - run);
	jg_out_mem(c->o, "\"", 1);
}

void jg_csv_str(struct jg_csv *c, const char *v)
{
	csv_field(c, (const unsigned char *)v, v ? strlen(v) : 0);
}

void jg_csv_bytes(struct jg_csv *c, const unsigned char *v, size_t n)
{
	csv_field(c, v, n);
}

void jg_csv_long(struct jg_csv *c, long v)
{
	if (c->n++)
		jg_out_mem(c->o, ",", 1);
	jg_out_long(c->o, v);
}

void jg_csv_end(struct jg_csv *c)
{
	jg_out_nl(c->o);
}
