/*
 * A JSON Lines row checked without building it. The record the plugin emits is the line's own
 * text (with _file and _line added), so all it needs to know is whether the line is one JSON
 * object the gateway will accept, and two or three facts about its top level. Building a
 * jansson tree only to throw it away made JSON Lines four times slower than CSV.
 *
 * It accepts what jansson accepts by default (RFC 8259; no \u0000; surrogates paired), and
 * also refuses a top-level member given twice and nesting deeper than FILES_MAX_DEPTH (the
 * gateway's limit on records), so that such a row is a bad row here, with its line number,
 * rather than a puzzle later. The text is UTF-8 already (files_read.c checked it).
 */
#include <stdio.h>
#include <string.h>

#include "files_int.h"

struct jc {
	const unsigned char *p, *start, *end;
	struct files_json *out;
	const char *member;  /* the top-level member to report, or NULL */
	size_t member_len;
	char *why;
	size_t whylen;
};

static int fail(struct jc *j, const char *what)
{
	snprintf(j->why, j->whylen, "%s at byte %zu", what, (size_t)(j->p - j->start) + 1);
	return -1;
}

static void skip_ws(struct jc *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const unsigned char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A string; j->p at its opening quote. Its raw content (escapes as written) in *s, *n. */
static int string(struct jc *j, const unsigned char **s, size_t *n)
{
	unsigned u, lo;

	*s = ++j->p;
	for (;;) {
		while (j->end - j->p >= 8 && files_plain8(j->p))
			j->p += 8;
		if (j->p >= j->end)
			return fail(j, "a string is not closed");
		if (*j->p == '"')
			break;
		if (*j->p < 0x20)
			return fail(j, "a control character inside a string");
		if (*j->p != '\\') {
			j->p++;
			continue;
		}
		if (j->end - j->p < 2)
			return fail(j, "a string is not closed");
		if (strchr("\"\\/bfnrt", j->p[1]) && j->p[1]) {
			j->p += 2;
			continue;
		}
		if (j->p[1] != 'u' || j->end - j->p < 6 || hex4(j->p + 2, &u))
			return fail(j, "an invalid escape in a string");
		if (u == 0)
			return fail(j, "\\u0000 in a string");
		if (u >= 0xDC00 && u <= 0xDFFF)
			return fail(j, "a lone UTF-16 surrogate escape");
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' ||
			    hex4(j->p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
				return fail(j, "a lone UTF-16 surrogate escape");
			j->p += 6;
		}
		j->p += 6;
	}
	*n = (size_t)(j->p - *s);
	j->p++;
	return 0;
}

static int digits(struct jc *j)
{
	const unsigned char *d = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > d ? 0 : fail(j, "a number without digits");
}

static int number(struct jc *j)
{
	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (digits(j))
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (digits(j))
			return -1;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (digits(j))
			return -1;
	}
	return 0;
}

static int value(struct jc *j, int depth);

/* An object; j->p at its '{'. At depth 1 its members are recorded in j->out. */
static int object(struct jc *j, int depth)
{
	struct files_json *o = j->out;
	const unsigned char *k;
	size_t klen, i;

	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"')
			return fail(j, "a member name (a string) expected");
		if (string(j, &k, &klen))
			return -1;
		if (depth == 1) {
			uint32_t h = 2166136261u; /* FNV-1a: compare hashes before bytes */

			for (i = 0; i < klen; i++)
				h = (h ^ k[i]) * 16777619u;
			for (i = 0; i < o->n_keys; i++)
				if (o->keys[i].hash == h && o->keys[i].len == klen &&
				    !memcmp(o->keys[i].p, k, klen))
					return fail(j, "a member name given twice in the object");
			if (o->n_keys < FILES_MAX_COLUMNS) {
				o->keys[o->n_keys].p = (const char *)k;
				o->keys[o->n_keys].len = klen;
				o->keys[o->n_keys++].hash = h;
			}
		}
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "':' expected after a member name");
		j->p++;
		skip_ws(j);
		if (depth == 1 && j->member && klen == j->member_len &&
		    !memcmp(k, j->member, klen) && j->p < j->end && *j->p == '"') {
			const unsigned char *s;
			size_t n;

			if (string(j, &s, &n))
				return -1;
			o->member = (const char *)s;
			o->member_len = n;
		} else if (value(j, depth)) {
			return -1;
		}
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			skip_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return fail(j, "',' or '}' expected");
	}
}

static int array(struct jc *j, int depth)
{
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (value(j, depth))
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return fail(j, "',' or ']' expected");
	}
}

static int literal(struct jc *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return fail(j, "a value expected");
	j->p += n;
	return 0;
}

static int value(struct jc *j, int depth)
{
	const unsigned char *s;
	size_t n;

	skip_ws(j);
	if (j->p >= j->end)
		return fail(j, "a value expected");
	switch (*j->p) {
	case '{':
	case '[':
		if (depth >= FILES_MAX_DEPTH)
			return fail(j, "nesting deeper than 64 levels");
		return *j->p == '{' ? object(j, depth + 1) : array(j, depth + 1);
	case '"':
		return string(j, &s, &n);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return number(j);
		return fail(j, "a value expected");
	}
}

int files_json_check(const char *p, size_t n, const char *member, struct files_json *out,
		     char *why, size_t whylen)
{
	struct jc j = { .p = (const unsigned char *)p, .start = (const unsigned char *)p,
			.end = (const unsigned char *)p + n, .out = out, .member = member,
			.member_len = member ? strlen(member) : 0, .why = why, .whylen = whylen };

	out->n_keys = 0;
	out->member = NULL;
	out->member_len = 0;
	skip_ws(&j);
	if (value(&j, 0))
		return -1;
	skip_ws(&j);
	if (j.p < j.end)
		return fail(&j, "text after the value");
	skip_ws(&j);
	j.p = j.start;
	skip_ws(&j);
	return *j.p == '{' ? 0 : 1;
}
