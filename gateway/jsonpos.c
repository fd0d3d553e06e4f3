/* Positions of JSON members and elements (see jsonpos.h). */
#include "jsonpos.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "spgw_limits.h"
#include "text.h"
#include "mem.h"

#define NO_PARENT SIZE_MAX

struct entry {
	struct spgw_jsonpos_at at; /* first, so a borrowed `at` leads back to its entry */
	size_t parent;             /* index of the enclosing container; NO_PARENT for the root */
	size_t key_off, key_len;   /* decoded key (or decimal index) in `keys` */
};

struct spgw_jsonpos {
	struct entry *e;
	size_t n, cap;
	char *keys;       /* every decoded key, each followed by a NUL */
	size_t *slots;    /* open-addressing hash of (parent, key) -> entry index + 1; 0 = empty */
	size_t nslots;    /* a power of two */
	size_t dup, dup_first; /* the first duplicate key and its first occurrence; 0 = none */
};

/* The scanner's cursor. `col` counts the code points already consumed on the line, so the
 * character at `p` is at column col + 1, as jansson counts. */
struct scan {
	const char *p, *end, *start;
	int line, col;
	struct spgw_jsonpos *pos;
	struct spgw_buf keys;
	const char *source;
	struct spgw_error *err;
};

static void advance(struct scan *s)
{
	unsigned char c = (unsigned char)*s->p++;

	if (c == '\n') {
		s->line++;
		s->col = 0;
	} else if ((c & 0xC0) != 0x80) {
		s->col++; /* continuation bytes belong to the code point already counted */
	}
}

static enum spgw_rc fail(struct scan *s, const char *what)
{
	char near[16];

	if (s->p >= s->end)
		return spgw_error_set(s->err, SPGW_E_SYNTAX, s->source, s->line, s->col + 1,
				      "%s near end of file", what);
	if ((unsigned char)*s->p >= 0x20 && (unsigned char)*s->p < 0x7f)
		snprintf(near, sizeof(near), "'%c'", *s->p);
	else
		snprintf(near, sizeof(near), "byte 0x%02x", (unsigned char)*s->p);
	return spgw_error_set(s->err, SPGW_E_SYNTAX, s->source, s->line, s->col + 1,
			      "%s near %s", what, near);
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		advance(s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_hex4(struct scan *s, unsigned *out)
{
	unsigned v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if (s->p >= s->end || (h = hexval(*s->p)) < 0)
			return -1;
		v = v * 16 + (unsigned)h;
		advance(s);
	}
	*out = v;
	return 0;
}

static enum spgw_rc put_utf8(struct scan *s, unsigned cp)
{
	char b[4];
	size_t n = spgw_text_utf8_encode(cp, b);

	return spgw_buf_add(&s->keys, b, n, s->err);
}

/* A \u escape, the "\u" already consumed; a surrogate pair is one code point. */
static enum spgw_rc unicode_escape(struct scan *s, int keep)
{
	unsigned cp, lo;

	if (read_hex4(s, &cp))
		return fail(s, "four hex digits expected after \\u");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(s, "lone low surrogate in \\u escape");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return fail(s, "high surrogate not followed by \\u low surrogate");
		advance(s);
		advance(s);
		if (read_hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
			return fail(s, "invalid low surrogate in \\u escape");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return keep ? put_utf8(s, cp) : SPGW_OK;
}

/* A string at s->p (on its quote). With `keep`, its decoded bytes go to s->keys. */
static enum spgw_rc string(struct scan *s, int keep)
{
	const char *run;
	enum spgw_rc rc;

	advance(s);
	for (;;) {
		run = s->p;
		/* Plain bytes need no decoding: copy them as one run. */
		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20)
			advance(s);
		if (keep && s->p > run && (rc = spgw_buf_add(&s->keys, run, (size_t)(s->p - run),
							     s->err)))
			return rc;
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		if (*s->p == '"') {
			advance(s);
			return SPGW_OK;
		}
		if (*s->p != '\\')
			return fail(s, "control character in string");
		advance(s);
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		if (*s->p == 'u') {
			advance(s);
			rc = unicode_escape(s, keep);
		} else {
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
			const char *hit = *s->p ? strchr(from, *s->p) : NULL;

			if (!hit)
				return fail(s, "invalid escape in string");
			advance(s);
			rc = keep ? spgw_buf_addc(&s->keys, to[hit - from], s->err) : SPGW_OK;
		}
		if (rc)
			return rc;
	}
}

static int is_digit(const struct scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static enum spgw_rc number(struct scan *s)
{
	if (*s->p == '-')
		advance(s);
	if (!is_digit(s))
		return fail(s, "digit expected");
	if (*s->p == '0')
		advance(s);
	else
		while (is_digit(s))
			advance(s);
	if (s->p < s->end && *s->p == '.') {
		advance(s);
		if (!is_digit(s))
			return fail(s, "digit expected after '.'");
		while (is_digit(s))
			advance(s);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		advance(s);
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			advance(s);
		if (!is_digit(s))
			return fail(s, "digit expected in exponent");
		while (is_digit(s))
			advance(s);
	}
	return SPGW_OK;
}

static enum spgw_rc literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, "invalid token");
	while (n--)
		advance(s);
	return SPGW_OK;
}

/* A new entry under `parent` whose key is the last `key_len` bytes of s->keys, at the
 * current position. Entries are addressed by index: the array moves as it grows. */
static enum spgw_rc add_entry(struct scan *s, size_t parent, size_t key_off, size_t *idx)
{
	struct spgw_jsonpos *pos = s->pos;
	struct entry *e;

	if (pos->n == pos->cap) {
		size_t cap = pos->cap ? pos->cap * 2 : 64;
		struct entry *ne = spgw_realloc(pos->e, cap * sizeof(*ne));

		if (!ne)
			return spgw_error_nomem(s->err, "JSON positions");
		pos->e = ne;
		pos->cap = cap;
	}
	e = &pos->e[pos->n];
	e->parent = parent;
	e->key_off = key_off;
	e->key_len = s->keys.len - key_off;
	e->at.line = e->at.value_line = s->line;
	e->at.column = e->at.value_column = s->col + 1;
	e->at.offset = e->at.value_offset = (size_t)(s->p - s->start);
	*idx = pos->n++;
	return SPGW_OK;
}

static enum spgw_rc value(struct scan *s, size_t idx, int depth);

static enum spgw_rc object(struct scan *s, size_t idx, int depth)
{
	size_t child, key_off;
	enum spgw_rc rc;

	advance(s);
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		advance(s);
		return SPGW_OK;
	}
	for (;;) {
		if (s->p >= s->end || *s->p != '"')
			return fail(s, "string (a key) expected");
		key_off = s->keys.len;
		/* The entry is made at the quote, before the key is decoded: its length after. */
		if ((rc = add_entry(s, idx, key_off, &child)) || (rc = string(s, 1)))
			return rc;
		s->pos->e[child].key_len = s->keys.len - key_off;
		if ((rc = spgw_buf_addc(&s->keys, '\0', s->err)))
			return rc;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return fail(s, "':' expected after the key");
		advance(s);
		skip_ws(s);
		if ((rc = value(s, child, depth + 1)))
			return rc;
		skip_ws(s);
		if (s->p < s->end && *s->p == '}') {
			advance(s);
			return SPGW_OK;
		}
		if (s->p >= s->end || *s->p != ',')
			return fail(s, "',' or '}' expected");
		advance(s);
		skip_ws(s);
	}
}

/* An element's key: its index in decimal (what a JSON pointer names it by). */
static enum spgw_rc add_index(struct scan *s, size_t i)
{
	char digits[24], *p = digits + sizeof(digits);

	do
		*--p = (char)('0' + i % 10);
	while (i /= 10);
	return spgw_buf_add(&s->keys, p, (size_t)(digits + sizeof(digits) - p), s->err);
}

static enum spgw_rc array(struct scan *s, size_t idx, int depth)
{
	size_t child, key_off, i = 0;
	enum spgw_rc rc;

	advance(s);
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		advance(s);
		return SPGW_OK;
	}
	for (;;) {
		key_off = s->keys.len;
		if ((rc = add_index(s, i++)) ||
		    (rc = add_entry(s, idx, key_off, &child)) ||
		    (rc = spgw_buf_addc(&s->keys, '\0', s->err)) ||
		    (rc = value(s, child, depth + 1)))
			return rc;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']') {
			advance(s);
			return SPGW_OK;
		}
		if (s->p >= s->end || *s->p != ',')
			return fail(s, "',' or ']' expected");
		advance(s);
		skip_ws(s);
	}
}

/* The value at s->p (whitespace skipped) belonging to entry `idx`. */
static enum spgw_rc value(struct scan *s, size_t idx, int depth)
{
	struct entry *e = &s->pos->e[idx];

	e->at.value_line = s->line;
	e->at.value_column = s->col + 1;
	e->at.value_offset = (size_t)(s->p - s->start);
	if (s->p >= s->end)
		return fail(s, "value expected");
	if ((*s->p == '{' || *s->p == '[') && depth >= SPGW_MAX_JSON_DEPTH)
		return fail(s, "nested deeper than SPGW_MAX_JSON_DEPTH");
	switch (*s->p) {
	case '{':
		return object(s, idx, depth);
	case '[':
		return array(s, idx, depth);
	case '"':
		return string(s, 0);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, "value expected");
	}
}

/* FNV-1a over the parent index and the key bytes. */
static uint64_t hash_start(size_t parent)
{
	uint64_t h = 1469598103934665603u;
	size_t i;

	for (i = 0; i < sizeof(parent); i++) {
		h ^= (parent >> (8 * i)) & 0xff;
		h *= 1099511628211u;
	}
	return h;
}

static uint64_t hash_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211u;
}

static uint64_t hash_key(size_t parent, const char *k, size_t n)
{
	uint64_t h = hash_start(parent);

	while (n--)
		h = hash_byte(h, (unsigned char)*k++);
	return h;
}

static enum spgw_rc build_index(struct spgw_jsonpos *pos, struct spgw_error *err)
{
	size_t i, j, mask;

	pos->nslots = 16;
	while (pos->nslots < pos->n * 2)
		pos->nslots *= 2;
	pos->slots = spgw_calloc(pos->nslots, sizeof(*pos->slots));
	if (!pos->slots)
		return spgw_error_nomem(err, "JSON positions");
	mask = pos->nslots - 1;
	for (i = 1; i < pos->n; i++) { /* the root (0) is found by its empty pointer only */
		const struct entry *e = &pos->e[i];

		j = hash_key(e->parent, pos->keys + e->key_off, e->key_len) & mask;
		for (; pos->slots[j]; j = (j + 1) & mask) {
			const struct entry *o = &pos->e[pos->slots[j] - 1];

			if (o->parent == e->parent && o->key_len == e->key_len &&
			    !memcmp(pos->keys + o->key_off, pos->keys + e->key_off, e->key_len))
				break;
		}
		if (!pos->slots[j])
			pos->slots[j] = i + 1;
		else if (!pos->dup) {
			pos->dup = i;
			pos->dup_first = pos->slots[j] - 1;
		}
	}
	return SPGW_OK;
}

enum spgw_rc spgw_jsonpos_new(const char *text, size_t len, const char *source,
			      struct spgw_jsonpos **out, struct spgw_error *err)
{
	struct spgw_jsonpos *pos;
	struct scan s;
	size_t root;
	enum spgw_rc rc;

	memset(&s, 0, sizeof(s));
	pos = spgw_calloc(1, sizeof(*pos));
	if (!pos) {
		rc = spgw_error_nomem(err, "JSON positions");
		goto out;
	}
	s.p = s.start = text;
	s.end = text + len;
	s.line = 1;
	s.pos = pos;
	s.source = source;
	s.err = err;
	/* Decoded keys (each with its NUL) are never longer than the text; an index takes at
	 * most 21 bytes for an element, and an element at least one byte of text. */
	spgw_buf_init(&s.keys, len * 22 + 64, "decoded JSON keys");
	skip_ws(&s);
	if ((rc = add_entry(&s, NO_PARENT, 0, &root)) || (rc = value(&s, root, 0)))
		goto out;
	skip_ws(&s);
	if (s.p < s.end) {
		rc = fail(&s, "end of text expected");
		goto out;
	}
	pos->keys = spgw_buf_take(&s.keys);
	if ((rc = build_index(pos, err)))
		goto out;
	*out = pos;
	pos = NULL;
out:
	spgw_buf_free(&s.keys);
	spgw_jsonpos_free(pos);
	return rc;
}

void spgw_jsonpos_free(struct spgw_jsonpos *pos)
{
	if (!pos)
		return;
	spgw_free(pos->e);
	spgw_free(pos->keys);
	spgw_free(pos->slots);
	spgw_free(pos);
}

/* One pointer segment, read with its ~0/~1 escapes undone. */
struct segment {
	const char *p;
	size_t n; /* bytes in the pointer text, escapes included */
};

/* The segment's next unescaped byte at *i; -1 at its end, -2 on a bad escape. */
static int seg_next(const struct segment *g, size_t *i)
{
	char c;

	if (*i >= g->n)
		return -1;
	c = g->p[(*i)++];
	if (c != '~')
		return (unsigned char)c;
	if (*i >= g->n)
		return -2;
	c = g->p[(*i)++];
	return c == '0' ? '~' : c == '1' ? '/' : -2;
}

static const struct entry *lookup(const struct spgw_jsonpos *pos, size_t parent,
				  const struct segment *g)
{
	uint64_t h = hash_start(parent);
	size_t i = 0, j;
	int c;

	while ((c = seg_next(g, &i)) >= 0)
		h = hash_byte(h, (unsigned char)c);
	if (c == -2)
		return NULL;
	for (j = h & (pos->nslots - 1); pos->slots[j]; j = (j + 1) & (pos->nslots - 1)) {
		const struct entry *e = &pos->e[pos->slots[j] - 1];
		size_t k = 0;

		if (e->parent != parent)
			continue;
		i = 0;
		while (k < e->key_len && (c = seg_next(g, &i)) >= 0 &&
		       c == (unsigned char)pos->keys[e->key_off + k])
			k++;
		if (k == e->key_len && seg_next(g, &i) == -1)
			return e;
	}
	return NULL;
}

const struct spgw_jsonpos_at *spgw_jsonpos_find(const struct spgw_jsonpos *pos,
						const char *pointer)
{
	const struct entry *e;
	struct segment g;
	const char *next;

	if (!pos || !pointer || (*pointer && *pointer != '/'))
		return NULL;
	e = &pos->e[0];
	while (*pointer) {
		g.p = pointer + 1;
		next = strchr(g.p, '/');
		g.n = next ? (size_t)(next - g.p) : strlen(g.p);
		e = lookup(pos, (size_t)(e - pos->e), &g);
		if (!e)
			return NULL;
		pointer = g.p + g.n;
	}
	return &e->at;
}

const struct spgw_jsonpos_at *spgw_jsonpos_child(const struct spgw_jsonpos *pos,
						 const struct spgw_jsonpos_at *parent,
						 const char *key)
{
	const struct entry *pe = (const struct entry *)(const void *)parent;
	size_t n, j, idx;

	if (!pos || !parent || !key)
		return NULL;
	idx = (size_t)(pe - pos->e);
	assert(idx < pos->n); /* `parent` came from another index: our bug */
	n = strlen(key);
	for (j = hash_key(idx, key, n) & (pos->nslots - 1); pos->slots[j];
	     j = (j + 1) & (pos->nslots - 1)) {
		const struct entry *e = &pos->e[pos->slots[j] - 1];

		if (e->parent == idx && e->key_len == n && !memcmp(pos->keys + e->key_off, key, n))
			return &e->at;
	}
	return NULL;
}

const struct spgw_jsonpos_at *spgw_jsonpos_duplicate(const struct spgw_jsonpos *pos,
						     const struct spgw_jsonpos_at **first,
						     const char **key)
{
	if (!pos || !pos->dup)
		return NULL;
	if (key)
		*key = pos->keys + pos->e[pos->dup].key_off;
	if (first)
		*first = &pos->e[pos->dup_first].at;
	return &pos->e[pos->dup].at;
}
