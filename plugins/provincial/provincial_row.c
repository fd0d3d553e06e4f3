/*
 * A result row as the JSON object handed to the host: {"<column>": value, ...} in the table's
 * column order, written directly rather than through jansson (a page is thousands of rows).
 *
 * - NULL is null.
 * - Integers, numeric and floats are JSON numbers written as the server wrote them: numeric's
 *   text is exact ("12345.6790" stays 12345.6790, never a binary double), so the mapping sees
 *   the decimal the platform holds. NaN and infinities, which JSON has no number for, are
 *   strings.
 * - Booleans are true/false.
 * - Everything else is a string of the server's text. The database is SQL_ASCII and the
 *   session asks for no conversion, so text arrives as the bytes stored. Valid UTF-8 is passed
 *   on as it is; any other value (the platform's legacy GBK rows) is passed byte for byte as
 *   the characters U+0000..U+00FF, which the mapping's "decode": "gbk-bytes" turns back into
 *   the GBK text it is (config/mappings/README.md). Nothing is dropped or replaced here:
 *   bytes that are not GBK either reach the mapping intact, and it quarantines them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provincial_int.h"

/* Type OIDs of the PostgreSQL catalog (pg_type.dat); fixed since they were assigned, and
 * the server's headers are not part of libpq-dev. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* Bytes that cannot appear raw inside a JSON string (RFC 8259 section 7). */
static const unsigned char must_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, ['\\'] = 1,
};

int prov_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			if (i + 1 >= n || (p[i + 1] & 0xC0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;

			if (i + 2 >= n || p[i + 1] < lo || p[i + 1] > hi ||
			    (p[i + 2] & 0xC0) != 0x80)
				return 0;
			i += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;

			if (i + 3 >= n || p[i + 1] < lo || p[i + 1] > hi ||
			    (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Whether a byte that must be escaped has a two-character escape (\n) rather than \u00XX. */
static int short_escape(unsigned c)
{
	return c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
	       c == '\f';
}

/* Append `n` bytes as a JSON string (quotes included): as UTF-8 when they are, else each byte
 * as the character of the same number. Returns as prov_buf_reserve. */
static int add_string(struct pbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	int latin1 = !prov_utf8_valid(p, n);
	size_t i, out = n + 2;
	char *d;
	int rc;

	/* the exact length first, so the ceiling is met only by what is really written */
	for (i = 0; i < n; i++)
		if (must_escape[p[i]])
			out += short_escape(p[i]) ? 1 : 5;
		else if (latin1 && p[i] >= 0x80)
			out++;
	rc = prov_buf_reserve(b, out, PROV_MAX_RECORD);
	if (rc)
		return rc;
	d = b->p + b->len;
	*d++ = '"';
	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if (!must_escape[c] && (c < 0x80 || !latin1)) {
			*d++ = (char)c;
			continue;
		}
		if (c >= 0x80) { /* latin1: U+0080..U+00FF in UTF-8 */
			*d++ = (char)(0xC0 | (c >> 6));
			*d++ = (char)(0x80 | (c & 0x3F));
			continue;
		}
		*d++ = '\\';
		switch (c) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\n': *d++ = 'n'; break;
		case '\r': *d++ = 'r'; break;
		case '\t': *d++ = 't'; break;
		case '\b': *d++ = 'b'; break;
		case '\f': *d++ = 'f'; break;
		default:
			memcpy(d, "u00", 3);
			d[3] = hex[c >> 4];
			d[4] = hex[c & 15];
			d += 5;
		}
	}
	*d++ = '"';
	b->len = (size_t)(d - b->p);
	b->p[b->len] = '\0';
	return 0;
}

/* Whether s[0..n) is a JSON number (RFC 8259): what PostgreSQL writes for every finite
 * integer, numeric and float. */
static int json_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

int prov_row_columns(struct prov_source *src, const PGresult *res)
{
	int n = PQnfields(res), i, rc;

	if (n > src->ncols_cap) {
		int *kind = realloc(src->kind, (size_t)n * sizeof(*kind));
		size_t *off;

		if (!kind)
			return -1;
		src->kind = kind;
		off = realloc(src->key_off, ((size_t)n + 1) * sizeof(*off));
		if (!off)
			return -1;
		src->key_off = off;
		src->ncols_cap = n;
	}
	src->keys.len = 0;
	for (i = 0; i < n; i++) {
		const char *name = PQfname(res, i);

		switch (PQftype(res, i)) {
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
		case OID_OID:
		case OID_NUMERIC:
		case OID_FLOAT4:
		case OID_FLOAT8:
			src->kind[i] = PROV_NUMBER;
			break;
		case OID_BOOL:
			src->kind[i] = PROV_BOOL;
			break;
		default:
			src->kind[i] = PROV_TEXT;
		}
		/* "name": once per page, copied before every value of every row */
		src->key_off[i] = src->keys.len;
		rc = add_string(&src->keys, name, strlen(name));
		if (!rc)
			rc = prov_buf_add(&src->keys, ":", 1, PROV_MAX_RECORD);
		if (rc)
			return -1;
	}
	src->key_off[n] = src->keys.len;
	return 0;
}

/* A row too large for one record: its identity and the reason, for quarantine. */
static int too_large(struct prov_source *src, const PGresult *res, int r)
{
	static const char *const id[] = { "row_id", "area_code", "upd_time" };
	struct pbuf *b = &src->json;
	char why[160];
	size_t i;
	int c;

	snprintf(why, sizeof(why), "the row is larger than the %u MiB record limit as JSON; "
		 "shorten its longest text on the provincial platform",
		 PROV_MAX_RECORD >> 20);
	b->len = 0;
	if (prov_buf_str(b, "{\"_error\":", PROV_MAX_RECORD) ||
	    add_string(b, why, strlen(why)))
		return -1;
	for (i = 0; i < sizeof(id) / sizeof(id[0]); i++) {
		c = PQfnumber(res, id[i]);
		if (c < 0 || PQgetisnull(res, r, c))
			continue;
		if (prov_buf_str(b, ",\"", PROV_MAX_RECORD) ||
		    prov_buf_str(b, id[i], PROV_MAX_RECORD) ||
		    prov_buf_str(b, "\":", PROV_MAX_RECORD) ||
		    add_string(b, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c)))
			return -1;
	}
	return prov_buf_str(b, "}", PROV_MAX_RECORD) ? -1 : 1;
}

int prov_row_json(struct prov_source *src, const PGresult *res, int r)
{
	struct pbuf *b = &src->json;
	int n = PQnfields(res), i, rc = 0;

	b->len = 0;
	if (prov_buf_reserve(b, src->keys.len + 64, PROV_MAX_RECORD))
		return -1;
	b->p[b->len++] = '{';
	for (i = 0; i < n && !rc; i++) {
		const char *v = PQgetvalue(res, r, i);
		size_t len = (size_t)PQgetlength(res, r, i);

		if (i)
			rc = prov_buf_add(b, ",", 1, PROV_MAX_RECORD);
		if (!rc)
			rc = prov_buf_add(b, src->keys.p + src->key_off[i],
					  src->key_off[i + 1] - src->key_off[i], PROV_MAX_RECORD);
		if (rc)
			break;
		if (PQgetisnull(res, r, i))
			rc = prov_buf_add(b, "null", 4, PROV_MAX_RECORD);
		else if (src->kind[i] == PROV_NUMBER && json_number(v, len))
			rc = prov_buf_add(b, v, len, PROV_MAX_RECORD);
		else if (src->kind[i] == PROV_BOOL && len == 1 && (*v == 't' || *v == 'f'))
			rc = *v == 't' ? prov_buf_add(b, "true", 4, PROV_MAX_RECORD)
				       : prov_buf_add(b, "false", 5, PROV_MAX_RECORD);
		else
			rc = add_string(b, v, len);
	}
	if (!rc)
		rc = prov_buf_add(b, "}", 1, PROV_MAX_RECORD);
	if (rc == 1)
		return too_large(src, res, r);
	return rc;
}
