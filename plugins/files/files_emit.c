/*
 * Records as JSON text, written directly rather than through jansson: a CSV row becomes an
 * object in one pass over its fields, which is most of what keeps the plugin above 50,000
 * rows/s. Every value is UTF-8 already (files_read.c), so escaping is all that is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files_int.h"

/* Bytes that cannot appear raw inside a JSON string (RFC 8259 section 7). */
static const unsigned char must_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, ['\\'] = 1,
};

int files_json_escape(struct fbuf *b, const char *p, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	int rc;

	while (i < n) {
		size_t run = i;
		unsigned char c;
		char e[6];
		size_t elen = 2;

		while (run + 8 <= n && files_plain8(p + run))
			run += 8;
		while (run < n && !must_escape[(unsigned char)p[run]])
			run++;
		rc = files_buf_add(b, p + i, run - i, max);
		if (rc || run == n)
			return rc;
		c = (unsigned char)p[run];
		e[0] = '\\';
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			elen = 6;
		}
		rc = files_buf_add(b, e, elen, max);
		if (rc)
			return rc;
		i = run + 1;
	}
	return 0;
}

static int add_str(struct fbuf *b, const char *s)
{
	return files_buf_add(b, s, strlen(s), FILES_MAX_RECORD);
}

static int add_line(struct fbuf *b, uint64_t line)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu}", (unsigned long long)line);

	return files_buf_add(b, num, (size_t)n, FILES_MAX_RECORD);
}

int files_out_begin(struct files_out *o, const char *name_utf8, size_t name_len)
{
	o->tail.len = 0;
	o->keys.len = 0;
	o->n_keys = 0;
	if (add_str(&o->tail, ",\"_file\":\"") ||
	    files_json_escape(&o->tail, name_utf8, name_len, FILES_MAX_RECORD) ||
	    add_str(&o->tail, "\",\"_line\":"))
		return -1;
	return 0;
}

int files_out_columns(struct files_out *o, const struct files_fields *header)
{
	size_t i, *off;

	off = realloc(o->key_off, (header->n + 1) * sizeof(*off));
	if (!off)
		return -1;
	o->key_off = off;
	o->keys.len = 0;
	for (i = 0; i < header->n; i++) {
		off[i] = o->keys.len;
		if (add_str(&o->keys, "\"") ||
		    files_json_escape(&o->keys, header->text.p + header->off[i], header->len[i],
				      FILES_MAX_RECORD) ||
		    add_str(&o->keys, "\":\""))
			return -1;
	}
	off[header->n] = o->keys.len;
	o->n_keys = header->n;
	return 0;
}

void files_out_free(struct files_out *o)
{
	files_buf_free(&o->json);
	files_buf_free(&o->tail);
	files_buf_free(&o->keys);
	files_buf_free(&o->hex);
	free(o->key_off);
	memset(o, 0, sizeof(*o));
}

int files_out_csv(struct files_out *o, const struct files_fields *f, uint64_t line)
{
	struct fbuf *b = &o->json;
	size_t i;
	int rc;

	b->len = 0;
	rc = files_buf_reserve(b, o->keys.len + f->text.len + o->tail.len + 64, FILES_MAX_RECORD);
	if (rc)
		return rc;
	b->p[b->len++] = '{';
	for (i = 0; i < f->n && !rc; i++) {
		const char *key = o->keys.p + o->key_off[i];
		size_t klen = o->key_off[i + 1] - o->key_off[i];

		if (i)
			rc = files_buf_add(b, "\",", 2, FILES_MAX_RECORD);
		if (!rc)
			rc = files_buf_add(b, key, klen, FILES_MAX_RECORD);
		if (!rc)
			rc = files_json_escape(b, f->text.p + f->off[i], f->len[i],
					       FILES_MAX_RECORD);
	}
	if (!rc)
		rc = files_buf_add(b, "\"", 1, FILES_MAX_RECORD);
	if (!rc)
		rc = files_buf_add(b, o->tail.p, o->tail.len, FILES_MAX_RECORD);
	if (!rc)
		rc = add_line(b, line);
	return rc;
}

int files_out_jsonl(struct files_out *o, const char *p, size_t n, int empty, uint64_t line)
{
	struct fbuf *b = &o->json;
	int rc;

	/* The line is a valid object: its last non-blank byte is the closing brace. */
	while (n && p[n - 1] != '}')
		n--;
	b->len = 0;
	rc = files_buf_add(b, p, n - 1, FILES_MAX_RECORD);
	if (!rc)
		rc = files_buf_add(b, o->tail.p + empty, o->tail.len - (size_t)empty,
				   FILES_MAX_RECORD);
	if (!rc)
		rc = add_line(b, line);
	return rc;
}

static int add_hex(struct fbuf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	char *d;

	int rc = files_buf_reserve(b, 2 * n, FILES_MAX_RECORD);

	if (rc)
		return rc;
	d = b->p + b->len;
	for (i = 0; i < n; i++) {
		*d++ = hex[(unsigned char)p[i] >> 4];
		*d++ = hex[(unsigned char)p[i] & 15];
	}
	b->len += 2 * n;
	b->p[b->len] = '\0';
	return 0;
}

/* The bad-row object with `text_len` bytes of text and `raw_len` bytes of raw; returns as
 * files_buf_add. */
static int bad_build(struct files_out *o, const char *error, uint64_t line,
		     const struct files_rec *rec, const char *text, size_t text_len,
		     size_t raw_len, int invalid, int cut)
{
	struct fbuf *b = &o->json;
	char num[64];
	int rc;

	b->len = 0;
	rc = add_str(b, "{\"_error\":\"");
	if (!rc)
		rc = files_json_escape(b, error, strlen(error), FILES_MAX_RECORD);
	if (!rc)
		rc = add_str(b, "\"");
	if (!rc)
		rc = files_buf_add(b, o->tail.p, o->tail.len, FILES_MAX_RECORD);
	snprintf(num, sizeof(num), "%llu,\"_raw\":\"", (unsigned long long)line);
	if (!rc)
		rc = add_str(b, num);
	if (!rc)
		rc = files_json_escape(b, text, text_len, FILES_MAX_RECORD);
	if (!rc)
		rc = add_str(b, "\"");
	if (!rc && invalid) {
		rc = add_str(b, ",\"_raw_hex\":\"");
		if (!rc)
			rc = add_hex(b, rec->raw.p, raw_len);
		if (!rc)
			rc = add_str(b, "\"");
	}
	if (!rc && cut) {
		snprintf(num, sizeof(num), ",\"_raw_bytes\":%llu,\"_truncated\":true",
			 (unsigned long long)rec->bytes);
		rc = add_str(b, num);
	}
	if (!rc)
		rc = add_str(b, "}");
	return rc;
}

/* The longest prefix of UTF-8 text within `max` bytes that does not split a character. */
static size_t utf8_cut(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max && ((unsigned char)p[max] & 0xC0) == 0x80)
		max--;
	return max;
}

int files_out_bad(struct files_out *o, const char *error, uint64_t line,
		  const struct files_rec *rec, const char *text, size_t text_len, int invalid)
{
	size_t raw_len = rec->raw.len;
	int rc;

	if (raw_len == rec->bytes) {
		rc = bad_build(o, error, line, rec, text, text_len, raw_len, invalid, 0);
		if (rc <= 0)
			return rc;
	}
	/* The row was cut by the reader, or is too large for one record whole: keep its first
	 * FILES_RAW_KEEP bytes and say how long it was. */
	if (raw_len > FILES_RAW_KEEP)
		raw_len = FILES_RAW_KEEP;
	text_len = utf8_cut(text, text_len, FILES_RAW_KEEP);
	return bad_build(o, error, line, rec, text, text_len, raw_len, invalid, 1) ? -1 : 0;
}
