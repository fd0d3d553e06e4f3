/* A fast, strict JSON parser building jansson values (see json_parse.h). */
#include "json_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "spgw_limits.h"
#include "text.h"

struct parser {
	const unsigned char *p, *end, *start;
	struct spgw_buf scratch; /* unescaped strings and keys */
	struct spgw_json_error *err;
	int depth;
};

static json_t *fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->err && !ps->err->text[0]) {
		va_start(ap, fmt);
		vsnprintf(ps->err->text, sizeof(ps->err->text), fmt, ap);
		va_end(ap);
		ps->err->position = (size_t)(ps->p - ps->start);
	}
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct parser *ps, unsigned cp)
{
	char b[4];
	size_t n = spgw_text_utf8_encode(cp, b);

	return spgw_buf_add(&ps->scratch, b, n, NULL) ? -1 : 0;
}

/*
 * A string at ps->p (just after its opening quote). On success *s and *len point at its
 * UTF-8 content: into the input when it has no escapes, else into ps->scratch.
 */
static int scan_string(struct parser *ps, const char **s, size_t *len)
{
	const unsigned char *q = ps->p, *run = ps->p;
	int escaped = 0;

	spgw_buf_reset(&ps->scratch);
	for (;;) {
		/* the common case in bulk: valid UTF-8 up to the closing quote */
		q += spgw_text_json_plain((const char *)q, (size_t)(ps->end - q));
		if (q >= ps->end) {
			ps->p = q;
			fail(ps, "unterminated string");
			return -1;
		}
		if (*q == '"')
			break;
		if (*q >= 0x80) {
			ps->p = q;
			fail(ps, "invalid UTF-8 byte 0x%02x in a string", *q);
			return -1;
		}
		if (*q < 0x20) {
			ps->p = q;
			fail(ps, "control character 0x%02x in a string", *q);
			return -1;
		}
		/* a backslash: flush the run, decode the escape */
		if (spgw_buf_add(&ps->scratch, run, (size_t)(q - run), NULL))
			goto nomem;
		escaped = 1;
		if (q + 1 >= ps->end) {
			ps->p = q;
			fail(ps, "unterminated escape");
			return -1;
		}
		switch (q[1]) {
		case '"': case '\\': case '/':
			if (spgw_buf_addc(&ps->scratch, (char)q[1], NULL))
				goto nomem;
			q += 2;
			break;
		case 'b': case 'f': case 'n': case 'r': case 't': {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";

			if (spgw_buf_addc(&ps->scratch, to[strchr(from, q[1]) - from], NULL))
				goto nomem;
			q += 2;
			break;
		}
		case 'u': {
			unsigned cp, lo;

			if (ps->end - q < 6 || hex4(q + 2, &cp)) {
				ps->p = q;
				fail(ps, "invalid \\u escape");
				return -1;
			}
			q += 6;
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				ps->p = q - 6;
				fail(ps, "lone low surrogate \\u%04x", cp);
				return -1;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (ps->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
				    hex4(q + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					ps->p = q - 6;
					fail(ps, "lone high surrogate \\u%04x", cp);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				q += 6;
			}
			if (cp == 0) {
				ps->p = q - 6;
				fail(ps, "\\u0000 is not allowed in strings");
				return -1;
			}
			if (put_utf8(ps, cp))
				goto nomem;
			break;
		}
		default:
			ps->p = q;
			fail(ps, "invalid escape \\%c", q[1] >= 0x20 && q[1] < 0x7f ? q[1] : '?');
			return -1;
		}
		run = q;
	}
	if (escaped) {
		if (spgw_buf_add(&ps->scratch, run, (size_t)(q - run), NULL))
			goto nomem;
		*s = ps->scratch.data;
		*len = ps->scratch.len;
	} else {
		*s = (const char *)ps->p;
		*len = (size_t)(q - ps->p);
	}
	ps->p = q + 1;
	return 0;
nomem:
	fail(ps, "out of memory");
	return -1;
}

static json_t *parse_number(struct parser *ps)
{
	const unsigned char *q = ps->p;
	char tmp[64];
	int real = 0;
	size_t n;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || *q < '0' || *q > '9')
		return fail(ps, "invalid number");
	if (*q == '0')
		q++;
	else
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	if (q < ps->end && *q == '.') {
		real = 1;
		q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, "invalid number: digits must follow the point");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, "invalid number: digits must follow the exponent");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	n = (size_t)(q - ps->p);
	if (n >= sizeof(tmp))
		return fail(ps, "number of %zu characters is too long", n);
	memcpy(tmp, ps->p, n);
	tmp[n] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(tmp, NULL, 10);

		if (errno == ERANGE)
			return fail(ps, "too big integer");
		ps->p = q;
		return json_integer((json_int_t)v);
	} else {
		double d = strtod(tmp, NULL);

		if (errno == ERANGE && (d > 1.0 || d < -1.0))
			return fail(ps, "real number overflow");
		ps->p = q;
		return json_real(d);
	}
}

static json_t *parse_value(struct parser *ps);

static json_t *parse_object(struct parser *ps)
{
	json_t *obj = json_object(), *v;
	const unsigned char *after_key;
	const char *k;
	size_t klen, size;
	char kbuf[128], *key;

	if (!obj)
		return fail(ps, "out of memory");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return obj;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			fail(ps, "expected a member name in double quotes");
			goto bad;
		}
		ps->p++;
		if (scan_string(ps, &k, &klen))
			goto bad;
		/* the key may live in scratch, which the value's strings reuse: copy it (on the
		 * stack for the usual short names) */
		key = klen < sizeof(kbuf) ? kbuf : spgw_malloc(klen + 1);
		if (!key) {
			fail(ps, "out of memory");
			goto bad;
		}
		memcpy(key, k, klen);
		key[klen] = '\0';
		/* A repeated name shows as the object not growing: that saves a lookup per member.
		 * Whatever fails after a repeated name, the error is the repetition, at the name,
		 * as if it had been looked up first. */
		after_key = ps->p;
		size = json_object_size(obj);
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			fail(ps, "expected ':' after a member name");
			goto bad_key;
		}
		ps->p++;
		v = parse_value(ps);
		if (!v)
			goto bad_key;
		if (json_object_setn_new_nocheck(obj, key, klen, v)) {
			fail(ps, "out of memory");
			goto bad_key;
		}
		if (json_object_size(obj) == size)
			goto bad_key;
		if (key != kbuf)
			spgw_free(key);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return obj;
		}
		fail(ps, "expected ',' or '}'");
		goto bad;
	}
bad_key:
	if (json_object_getn(obj, key, klen)) {
		if (ps->err)
			ps->err->text[0] = '\0'; /* the repetition came first */
		ps->p = after_key;
		fail(ps, "duplicate object key");
	}
	if (key != kbuf)
		spgw_free(key);
bad:
	json_decref(obj);
	return NULL;
}

static json_t *parse_array(struct parser *ps)
{
	json_t *arr = json_array(), *v;

	if (!arr)
		return fail(ps, "out of memory");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return arr;
	}
	for (;;) {
		v = parse_value(ps);
		if (!v || json_array_append_new(arr, v)) {
			if (v)
				fail(ps, "out of memory");
			goto bad;
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
		fail(ps, "expected ',' or ']'");
		goto bad;
	}
bad:
	json_decref(arr);
	return NULL;
}

static json_t *literal(struct parser *ps, const char *word, json_t *v)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "invalid token");
	ps->p += n;
	return v;
}

static json_t *parse_value(struct parser *ps)
{
	json_t *v;
	const char *s;
	size_t len;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > SPGW_MAX_JSON_DEPTH)
			return fail(ps, "nesting deeper than %d levels", SPGW_MAX_JSON_DEPTH);
		v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
		ps->depth--;
		return v;
	case '"':
		ps->p++;
		if (scan_string(ps, &s, &len))
			return NULL;
		v = json_stringn_nocheck(s, len);
		return v ? v : fail(ps, "out of memory");
	case 't':
		return literal(ps, "true", json_true());
	case 'f':
		return literal(ps, "false", json_false());
	case 'n':
		return literal(ps, "null", json_null());
	default:
		return parse_number(ps);
	}
}

json_t *spgw_json_parse(const char *text, size_t len, struct spgw_json_error *err)
{
	struct parser ps;
	json_t *v;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(&ps, 0, sizeof(ps));
	ps.start = ps.p = (const unsigned char *)text;
	ps.end = ps.p + len;
	ps.err = err;
	spgw_buf_init(&ps.scratch, len + 1, "JSON string");
	v = parse_value(&ps);
	if (v) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			fail(&ps, "end of input expected after the JSON value");
			json_decref(v);
			v = NULL;
		}
	}
	spgw_buf_free(&ps.scratch);
	return v;
}
