/*
 * A JSON scanner over bytes, for the API's answers. It checks the grammar (RFC 8259) and finds
 * where things are, without building values, for two reasons:
 *
 * - a record is handed on as the bytes the API sent, so its numbers keep their written form
 *   (jansson would turn 1.10 into 1.1000000000000001 and refuse a 23-digit integer);
 * - a GBK answer cannot be scanned as if it were ASCII-compatible: the second byte of a GBK
 *   character may be '\' (0x5C), '[' or '{', so inside strings a lead byte 0x81-0xFE takes the
 *   next byte with it. Outside strings JSON is ASCII whatever the charset.
 *
 * Bytes 0x80 and above are opaque here; whether they are valid text is decided per record
 * (cc_page.c), so that one bad record does not take the page down with it.
 */
#include <string.h>

#include "cc_int.h"

void ccj_init(struct ccj *j, const char *p, size_t n, int gbk)
{
	j->start = j->p = (const unsigned char *)p;
	j->end = j->p + n;
	j->gbk = gbk;
	j->depth = 0;
	j->why = NULL;
}

size_t ccj_offset(const struct ccj *j)
{
	return (size_t)(j->p - j->start);
}

static int fail(struct ccj *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return -1;
}

static void ws(struct ccj *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

int ccj_peek(struct ccj *j)
{
	ws(j);
	return j->p < j->end ? *j->p : -1;
}

int ccj_expect(struct ccj *j, int c)
{
	if (ccj_peek(j) != c)
		return fail(j, j->p < j->end ? "unexpected character" : "the text ends too early");
	j->p++;
	return 0;
}

static int hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* In GBK mode: whether b may follow a lead byte (GBK trail, or GB18030's second byte). */
static int gbk_second(unsigned b)
{
	return (b >= 0x30 && b <= 0x39) || (b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe);
}

int ccj_string(struct ccj *j, const char **s, size_t *n)
{
	const unsigned char *p;
	unsigned c;

	if (ccj_expect(j, '"'))
		return -1;
	p = j->p;
	while (p < j->end) {
		c = *p;
		if (c == '"') {
			*s = (const char *)j->p;
			*n = (size_t)(p - j->p);
			j->p = p + 1;
			return 0;
		}
		if (c < 0x20) {
			j->p = p;
			return fail(j, "a control character inside a string");
		}
		if (c == '\\') {
			if (p + 1 >= j->end)
				break;
			c = p[1];
			if (c == 'u') {
				if (p + 6 > j->end || !hex(p[2]) || !hex(p[3]) || !hex(p[4]) ||
				    !hex(p[5])) {
					j->p = p;
					return fail(j, "a \\u escape without four hex digits");
				}
				p += 6;
				continue;
			}
			if (!c || !strchr("\"\\/bfnrt", (int)c)) {
				j->p = p;
				return fail(j, "an invalid escape in a string");
			}
			p += 2;
			continue;
		}
		if (j->gbk && c >= 0x81 && c <= 0xfe && p + 1 < j->end && gbk_second(p[1])) {
			p += 2;
			continue;
		}
		p++;
	}
	j->p = j->end;
	return fail(j, "the text ends inside a string");
}

static int number(struct ccj *j)
{
	const unsigned char *p = j->p, *e = j->end;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(j, "not a JSON value");
	if (p < e && *p == '.') {
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(j, "a number without digits after its point");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(j, "a number without digits in its exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

static int literal(struct ccj *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return fail(j, "not a JSON value");
	j->p += n;
	return 0;
}

int ccj_open(struct ccj *j, int c)
{
	if (ccj_expect(j, c))
		return -1;
	if (++j->depth > CC_MAX_DEPTH)
		return fail(j, "nested deeper than 64");
	return 0;
}

int ccj_member(struct ccj *j, int *first, const char **key, size_t *klen)
{
	int c = ccj_peek(j);

	if (c == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	if (!*first && ccj_expect(j, ','))
		return -1;
	*first = 0;
	if (ccj_string(j, key, klen) || ccj_expect(j, ':'))
		return -1;
	return 1;
}

int ccj_element(struct ccj *j, int *first)
{
	int c = ccj_peek(j);

	if (c == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	if (!*first && ccj_expect(j, ','))
		return -1;
	*first = 0;
	return 1;
}

int ccj_skip(struct ccj *j)
{
	const char *s;
	size_t n;
	int c = ccj_peek(j), first = 1, r;

	switch (c) {
	case '"':
		return ccj_string(j, &s, &n);
	case '{':
	case '[':
		if (ccj_open(j, c))
			return -1;
		while ((r = c == '{' ? ccj_member(j, &first, &s, &n) : ccj_element(j, &first)) > 0)
			if (ccj_skip(j))
				return -1;
		return r;
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	case -1:
		return fail(j, "the text ends too early");
	default:
		return number(j);
	}
}
