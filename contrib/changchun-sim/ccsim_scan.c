/*
 * A JSON object line, checked and its top-level members found, without building it. Loading
 * a million records through jansson costs ~11 µs a line in allocations (most of the start-up
 * time); a record is served as its own bytes anyway, so the loader only needs to know that a
 * line is one valid JSON object and where a few members are. A line whose wanted strings hold
 * escapes is read again with jansson by the caller.
 */
#include <string.h>

#include "ccsim.h"

struct scan {
	const unsigned char *p, *end;
	int depth;
	const char *why;
};

static int fail(struct scan *s, const char *why)
{
	if (!s->why)
		s->why = why;
	return -1;
}

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at s->p (after its quote is checked): content span, whether it holds escapes. */
static int string(struct scan *s, const char **v, size_t *n, int *esc)
{
	const unsigned char *p = s->p + 1;
	unsigned c, need, k;

	*esc = 0;
	while (p < s->end) {
		c = *p;
		if (c == '"') {
			*v = (const char *)s->p + 1;
			*n = (size_t)(p - s->p - 1);
			s->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return fail(s, "a control character inside a string");
		if (c == '\\') {
			*esc = 1;
			if (p + 1 >= s->end)
				break;
			if (p[1] == 'u') {
				if (p + 6 > s->end || !hex(p[2]) || !hex(p[3]) || !hex(p[4]) ||
				    !hex(p[5]))
					return fail(s, "a \\u escape without four hex digits");
				p += 6;
			} else if (p[1] && strchr("\"\\/bfnrt", p[1])) {
				p += 2;
			} else {
				return fail(s, "an invalid escape in a string");
			}
			continue;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		/* UTF-8: a lead byte and its continuation bytes (overlong forms refused) */
		need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
			: c >= 0xf0 && c <= 0xf4 ? 3 : 0;
		if (!need || (size_t)(s->end - p) <= need)
			return fail(s, "bytes that are not UTF-8 inside a string");
		for (k = 1; k <= need; k++)
			if ((p[k] & 0xc0) != 0x80)
				return fail(s, "bytes that are not UTF-8 inside a string");
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
		    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return fail(s, "bytes that are not UTF-8 inside a string");
		p += need + 1;
	}
	return fail(s, "the line ends inside a string");
}

static int value(struct scan *s, const char **v, size_t *n, int *type, int *esc);

static int number(struct scan *s)
{
	const unsigned char *p = s->p, *e = s->end;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(s, "not a JSON value");
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return fail(s, "a number without digits after its point");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(s, "a number without digits in its exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	s->p = p;
	return 0;
}

static int literal(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return fail(s, "not a JSON value");
	s->p += n;
	return 0;
}

/* Object or array after its opening byte; members of nested containers are not reported. */
static int container(struct scan *s, int close, struct ccsim_member *m, size_t nm)
{
	const char *k, *v;
	size_t kl, vl, i;
	int esc, type, first = 1;

	if (++s->depth > 64)
		return fail(s, "nested deeper than 64");
	s->p++;
	for (;;) {
		ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			s->depth--;
			return 0;
		}
		if (!first) {
			if (s->p >= s->end || *s->p != ',')
				return fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
			s->p++;
			ws(s);
		}
		first = 0;
		if (close == '}') {
			if (s->p >= s->end || *s->p != '"')
				return fail(s, "expected a member name");
			if (string(s, &k, &kl, &esc))
				return -1;
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return fail(s, "expected ':'");
			s->p++;
			if (value(s, &v, &vl, &type, &esc))
				return -1;
			for (i = 0; m && s->depth == 1 && i < nm; i++) {
				if (strlen(m[i].name) != kl || memcmp(m[i].name, k, kl) != 0)
					continue;
				if (m[i].type)
					return fail(s, "a member given twice");
				m[i].v = v, m[i].len = vl, m[i].type = type, m[i].esc = esc;
			}
		} else if (value(s, &v, &vl, &type, &esc)) {
			return -1;
		}
	}
}

static int value(struct scan *s, const char **v, size_t *n, int *type, int *esc)
{
	const unsigned char *start;

	ws(s);
	start = s->p;
	*esc = 0;
	if (s->p >= s->end)
		return fail(s, "the line ends too early");
	switch (*s->p) {
	case '"':
		*type = CCSIM_STRING;
		return string(s, v, n, esc);
	case '{':
	case '[':
		*type = CCSIM_OTHER;
		if (container(s, *s->p == '{' ? '}' : ']', NULL, 0))
			return -1;
		break;
	case 't':
		*type = CCSIM_LITERAL;
		if (literal(s, "true"))
			return -1;
		break;
	case 'f':
		*type = CCSIM_LITERAL;
		if (literal(s, "false"))
			return -1;
		break;
	case 'n':
		*type = CCSIM_LITERAL;
		if (literal(s, "null"))
			return -1;
		break;
	default:
		*type = CCSIM_NUMBER;
		if (number(s))
			return -1;
	}
	*v = (const char *)start;
	*n = (size_t)(s->p - start);
	return 0;
}

int ccsim_scan_object(const char *p, size_t n, struct ccsim_member *m, size_t nm,
		      const char **why)
{
	struct scan s = { (const unsigned char *)p, (const unsigned char *)p + n, 0, NULL };
	size_t i;

	for (i = 0; i < nm; i++)
		m[i].type = 0;
	ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		*why = "not a JSON object";
		return -1;
	}
	if (container(&s, '}', m, nm)) {
		*why = s.why;
		return -1;
	}
	ws(&s);
	if (s.p != s.end) {
		*why = "text after the object";
		return -1;
	}
	return 0;
}
