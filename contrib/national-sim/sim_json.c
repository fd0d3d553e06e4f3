/*
 * The batch body parser. Why not json_loadb: PROTOCOL.md §4 makes a duplicate member name,
 * a lone surrogate or a number no double holds a per-record `canonical` rejection, not a
 * malformed batch. jansson refuses the whole text for those (or silently keeps the last
 * duplicate), so it cannot say which record was at fault. This parser knows where it is
 * (records[i].data) and, there, notes the problem against record i and goes on; anywhere else
 * (the envelope, a record's key or digest) the same problem is a bad body.
 *
 * Everything else is plain RFC 8259: no comments, no trailing commas, no raw control
 * characters in strings, nothing after the value.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

/* Nesting accepted at all: a record's data may go to SPGW_MAX_JSON_DEPTH (64) levels before
 * the canonical form refuses it; the envelope adds three. Deeper is an attack on our stack. */
#define JSON_MAX_DEPTH 128

/* The canonical-form problems a record's data can have, for its rejection (§4). */
static const char bad_utf8[] = "文本不是有效的 UTF-8（text is not valid UTF-8）";
static const char lone_surrogate[] = "字符串含孤立代理项 \\ud800-\\udfff（a lone surrogate）";
static const char too_large[] = "数值超出双精度浮点数范围（a number too large for a double）";
static const char too_small[] = "数值过小，双精度浮点数无法表示（a number too small for a double）";
static const char duplicate_name[] = "成员名重复（a duplicate member name）";

/* Where in the batch a value sits, which decides whether a problem is the record's or the
 * body's. */
enum role { R_TOP, R_RECORDS, R_RECORD, R_DATA, R_OTHER };

struct parser {
	const unsigned char *start, *p, *end;
	json_t *issues;
	char *errtext;
	char *buf; /* scratch for the string being decoded */
	size_t cap;
	int failed;
};

static int fatal(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fatal(struct parser *ps, const char *fmt, ...)
{
	char t[160];
	va_list ap;

	if (ps->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	snprintf(ps->errtext, 200, "byte %zu: %s", (size_t)(ps->p - ps->start), t);
	ps->failed = 1;
	return -1;
}

/*
 * A problem that leaves a value without a canonical form: record `rec`'s (the first one
 * noted is kept), or the body's when rec < 0. Returns 0 to go on, -1 to stop.
 */
static int problem(struct parser *ps, long rec, const char *what)
{
	char name[32];

	if (rec < 0)
		return fatal(ps, "%s", what);
	snprintf(name, sizeof(name), "%ld", rec);
	if (!json_object_get(ps->issues, name) &&
	    json_object_set_new(ps->issues, name, json_string(what)))
		return fatal(ps, "out of memory");
	return 0;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int put(struct parser *ps, size_t *n, const void *src, size_t len)
{
	if (*n + len + 1 > ps->cap) {
		size_t cap = ps->cap ? ps->cap : 256;
		char *nb;

		while (cap < *n + len + 1)
			cap *= 2;
		nb = spgw_realloc(ps->buf, cap);
		if (!nb)
			return fatal(ps, "out of memory");
		ps->buf = nb;
		ps->cap = cap;
	}
	memcpy(ps->buf + *n, src, len);
	*n += len;
	return 0;
}

static int put_utf8(struct parser *ps, size_t *n, unsigned long cp)
{
	unsigned char u[4];
	size_t k;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 4;
	}
	return put(ps, n, u, k);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned long *v)
{
	int i;

	if (end - p < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Decode the string at p (on its opening quote) into ps->buf; *len its length. Problems
 * that leave it without a canonical form go to record `rec` with U+FFFD in their place. */
static int parse_string(struct parser *ps, long rec, size_t *len)
{
	const unsigned char *run;
	unsigned long cp, lo;
	size_t n = 0, k;

	ps->p++;
	for (;;) {
		run = ps->p;
		while (ps->p < ps->end && *ps->p >= 0x20 && *ps->p < 0x80 && *ps->p != '"' &&
		       *ps->p != '\\')
			ps->p++;
		if (ps->p > run && put(ps, &n, run, (size_t)(ps->p - run)))
			return -1;
		if (ps->p >= ps->end)
			return fatal(ps, "unterminated string");
		if (*ps->p == '"') {
			ps->p++;
			break;
		}
		if (*ps->p < 0x20)
			return fatal(ps, "raw control character in a string (escape it)");
		if (*ps->p >= 0x80) {
			k = utf8_len(ps->p, ps->end);
			if (!k) {
				if (problem(ps, rec, bad_utf8) ||
				    put_utf8(ps, &n, 0xFFFD))
					return -1;
				ps->p++;
				continue;
			}
			if (put(ps, &n, ps->p, k))
				return -1;
			ps->p += k;
			continue;
		}
		/* a backslash */
		if (ps->end - ps->p < 2)
			return fatal(ps, "unterminated escape");
		switch (ps->p[1]) {
		case '"': case '\\': case '/':
			cp = ps->p[1];
			break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(ps->p + 2, ps->end, &cp))
				return fatal(ps, "bad \\u escape");
			if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 12 &&
			    ps->p[6] == '\\' && ps->p[7] == 'u' && !hex4(ps->p + 8, ps->end, &lo) &&
			    lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				ps->p += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				if (problem(ps, rec, lone_surrogate))
					return -1;
				cp = 0xFFFD;
			}
			ps->p += 4;
			break;
		default:
			return fatal(ps, "unknown escape \\%c", ps->p[1] >= 0x20 && ps->p[1] < 0x7F
									? ps->p[1] : '?');
		}
		ps->p += 2;
		if (put_utf8(ps, &n, cp))
			return -1;
	}
	if (put(ps, &n, "", 1))
		return -1;
	*len = n - 1;
	return 0;
}

static json_t *parse_number(struct parser *ps, long rec)
{
	const unsigned char *s = ps->p;
	char small[128], *text = small;
	int integer = 1;
	size_t n;
	double d;
	long long ll;
	json_t *v = NULL;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0') {
		ps->p++;
	} else if (ps->p < ps->end && *ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		fatal(ps, "bad number");
		return NULL;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		integer = 0;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
			fatal(ps, "bad number: a digit must follow the point");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = 0;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
			fatal(ps, "bad number: a digit must follow the exponent");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	n = (size_t)(ps->p - s);
	if (n >= sizeof(small)) {
		text = spgw_malloc(n + 1);
		if (!text) {
			fatal(ps, "out of memory");
			return NULL;
		}
	}
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	if (integer) {
		ll = strtoll(text, NULL, 10);
		if (errno != ERANGE) {
			v = json_integer(ll);
			goto out;
		}
		/* beyond 64 bits: a real, which the canonical form then refuses (|n| >= 2^53) */
		errno = 0;
	}
	d = strtod(text, NULL);
	if (isinf(d)) {
		if (problem(ps, rec, too_large))
			goto out;
		v = json_null();
	} else if (errno == ERANGE && fabs(d) < DBL_MIN) {
		if (problem(ps, rec, too_small))
			goto out;
		v = json_real(d);
	} else {
		v = json_real(d);
	}
out:
	if (text != small)
		spgw_free(text);
	if (!v && !ps->failed)
		fatal(ps, "out of memory");
	return v;
}

static json_t *parse_value(struct parser *ps, int depth, enum role role, long rec);

static json_t *parse_object(struct parser *ps, int depth, enum role role, long rec)
{
	json_t *obj = json_object(), *v;
	enum role child;
	long crec;
	char small[128], *key = NULL;
	size_t klen;

	if (!obj) {
		fatal(ps, "out of memory");
		return NULL;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return obj;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			fatal(ps, "expected a member name");
			goto fail;
		}
		if (parse_string(ps, role == R_DATA ? rec : -1, &klen))
			goto fail;
		/* the value reuses ps->buf: keep the name, on the stack when short as they are */
		key = klen < sizeof(small) ? small : spgw_malloc(klen + 1);
		if (!key) {
			fatal(ps, "out of memory");
			goto fail;
		}
		memcpy(key, ps->buf, klen + 1);
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			fatal(ps, "expected ':' after a member name");
			goto fail;
		}
		ps->p++;
		child = R_OTHER;
		crec = -1;
		if (role == R_TOP && strcmp(key, "records") == 0 && klen == 7) {
			child = R_RECORDS;
		} else if (role == R_RECORD && strcmp(key, "data") == 0 && klen == 4) {
			child = R_DATA;
			crec = rec;
		} else if (role == R_DATA) {
			child = R_DATA;
			crec = rec;
		}
		v = parse_value(ps, depth + 1, child, crec);
		if (!v)
			goto fail;
		if (json_object_getn(obj, key, klen)) {
			json_decref(v);
			/* the first value is kept; the record is refused anyway */
			if (problem(ps, role == R_DATA ? rec : -1, duplicate_name))
				goto fail;
		} else if (json_object_setn_new_nocheck(obj, key, klen, v)) {
			fatal(ps, "out of memory");
			goto fail;
		}
		if (key != small)
			spgw_free(key);
		key = NULL;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return obj;
		}
		fatal(ps, "expected ',' or '}' in an object");
		goto fail;
	}
fail:
	if (key != small)
		spgw_free(key);
	json_decref(obj);
	return NULL;
}

static json_t *parse_array(struct parser *ps, int depth, enum role role, long rec)
{
	json_t *arr = json_array(), *v;
	long i = 0;

	if (!arr) {
		fatal(ps, "out of memory");
		return NULL;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return arr;
	}
	for (;; i++) {
		if (role == R_RECORDS)
			v = parse_value(ps, depth + 1, R_RECORD, i);
		else if (role == R_DATA)
			v = parse_value(ps, depth + 1, R_DATA, rec);
		else
			v = parse_value(ps, depth + 1, R_OTHER, -1);
		if (!v || json_array_append_new(arr, v)) {
			fatal(ps, "out of memory");
			break;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return arr;
		}
		fatal(ps, "expected ',' or ']' in an array");
		break;
	}
	json_decref(arr);
	return NULL;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fatal(ps, "unexpected character");
	ps->p += n;
	return 0;
}

static json_t *parse_value(struct parser *ps, int depth, enum role role, long rec)
{
	json_t *v;
	size_t len;

	if (depth > JSON_MAX_DEPTH) {
		fatal(ps, "nesting deeper than %d levels", JSON_MAX_DEPTH);
		return NULL;
	}
	/* only a record's data carries its problems; a record's other members are envelope */
	if (role != R_DATA && role != R_RECORD)
		rec = -1;
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fatal(ps, "unexpected end of the body");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_object(ps, depth, role, rec);
	case '[':
		return parse_array(ps, depth, role, rec);
	case '"':
		if (parse_string(ps, role == R_DATA ? rec : -1, &len))
			return NULL;
		v = json_stringn_nocheck(ps->buf, len);
		break;
	case 't':
		v = literal(ps, "true") ? NULL : json_true();
		break;
	case 'f':
		v = literal(ps, "false") ? NULL : json_false();
		break;
	case 'n':
		v = literal(ps, "null") ? NULL : json_null();
		break;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, role == R_DATA ? rec : -1);
		fatal(ps, "unexpected character");
		return NULL;
	}
	if (!v && !ps->failed)
		fatal(ps, "out of memory");
	return v;
}

json_t *sim_json_parse_batch(const char *p, size_t n, json_t *issues, char errtext[200])
{
	struct parser ps;
	json_t *v;

	memset(&ps, 0, sizeof(ps));
	ps.start = ps.p = (const unsigned char *)p;
	ps.end = ps.p + n;
	ps.issues = issues;
	ps.errtext = errtext;
	errtext[0] = '\0';
	v = parse_value(&ps, 0, R_TOP, -1);
	if (v) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			fatal(&ps, "more text after the JSON value");
			json_decref(v);
			v = NULL;
		}
	}
	spgw_free(ps.buf);
	return v;
}
