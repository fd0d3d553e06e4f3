/*
 * A page: {"code": 0, "msg": "ok", "data": {"items": [record, ...], "has_more": bool}}.
 *
 * Each record is handed on as the bytes the API sent when they are UTF-8 already (the common
 * case: no copy, numbers as written). Otherwise its text is fixed one string at a time:
 *
 * - an answer declared GBK (Content-Type charset=GBK, GB2312, GB18030 or CP936) is converted
 *   as GB18030, GBK's superset: the record whole, or string by string when some string holds
 *   bytes that are not valid GBK;
 * - in an answer declared UTF-8 (or not declared), a string that is not valid UTF-8 but is
 *   valid GB18030 is converted (Changchun's older modules write raw GBK into UTF-8 answers);
 * - a string that is valid in neither is passed on as its bytes, one character U+0080..U+00FF
 *   per byte (written as \u00XX), and the record goes on: the mapping's "decode": "gbk-bytes"
 *   then refuses it with the field named and the byte offset, so the record lands in
 *   quarantine with a reason a person can act on, instead of being dropped or blocking the
 *   source.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cc_int.h"

const char *cc_item_json(const struct cc_source *src, const struct cc_item *it)
{
	return it->in_scratch ? src->page.scratch.p + it->off : src->body.p + it->off;
}

void cc_page_free(struct cc_page *pg)
{
	free(pg->v);
	cc_buf_free(&pg->scratch);
	memset(pg, 0, sizeof(*pg));
}

int cc_charset_gbk(const char *ct)
{
	static const char *const names[] = { "gbk", "gb2312", "gb18030", "cp936", "x-gbk", NULL };
	const char *p;
	char v[32];
	size_t n = 0;
	int i;

	for (p = ct; *p; p++)
		if (strncasecmp(p, "charset=", 8) == 0)
			break;
	if (!*p)
		return 0;
	p += 8;
	if (*p == '"')
		p++;
	while (p[n] && p[n] != ';' && p[n] != '"' && p[n] != ' ' && n + 1 < sizeof(v)) {
		v[n] = p[n];
		n++;
	}
	v[n] = '\0';
	for (i = 0; names[i]; i++)
		if (strcasecmp(v, names[i]) == 0)
			return 1;
	return 0;
}

/* GB18030 -> UTF-8 of in[0..n) appended to out: 0; 1 when the bytes are not valid; -1. */
static int convert(struct cc_source *src, const char *in, size_t n, struct cc_buf *out)
{
	char *ip = (char *)in, *op;
	size_t il = n, ol, start = out->len;
	int r;

	iconv(src->gbk, NULL, NULL, NULL, NULL);
	while (il) {
		/* UTF-8 takes at most 3 bytes for a 2-byte GBK character, 4 for a 4-byte one */
		r = cc_buf_reserve(out, il * 2 + 8, CC_MAX_BODY * 2);
		if (r)
			return -1;
		op = out->p + out->len;
		ol = out->cap - out->len - 1;
		if (iconv(src->gbk, &ip, &il, &op, &ol) == (size_t)-1 && errno != E2BIG) {
			out->len = start; /* EILSEQ, or EINVAL: a character cut at the end */
			out->p[out->len] = '\0';
			return 1;
		}
		out->len = (size_t)(op - out->p);
	}
	out->p[out->len] = '\0';
	return 0;
}

static int gbk_second(unsigned b)
{
	return (b >= 0x30 && b <= 0x39) || (b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe);
}

/* A string's bytes, each above ASCII as \u00XX (U+0080..U+00FF): the raw form the mapping's
 * gbk-bytes decoding reads. Escapes stay; in GBK mode a lead byte keeps its partner. */
static int as_bytes(const unsigned char *p, size_t n, int gbk, struct cc_buf *out)
{
	static const char hexd[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t i = 0, k, take;

	while (i < n) {
		if (gbk && p[i] >= 0x81 && p[i] <= 0xfe && i + 1 < n && gbk_second(p[i + 1]))
			take = 2;
		else if (p[i] == '\\') {
			take = p[i + 1] == 'u' ? 6 : 2;
			if (cc_buf_add(out, p + i, take, CC_MAX_BODY * 2))
				return -1;
			i += take;
			continue;
		} else
			take = 1;
		for (k = 0; k < take; k++) {
			if (p[i + k] < 0x80) {
				if (cc_buf_add(out, p + i + k, 1, CC_MAX_BODY * 2))
					return -1;
				continue;
			}
			e[4] = hexd[p[i + k] >> 4];
			e[5] = hexd[p[i + k] & 15];
			if (cc_buf_add(out, e, 6, CC_MAX_BODY * 2))
				return -1;
		}
		i += take;
	}
	return 0;
}

/*
 * A record whose bytes are not all valid text, string by string, into page.scratch. Strings
 * that stay raw are counted, and the member holding the first is named in `field`.
 */
static int fix_record(struct cc_source *src, const char *rec, size_t n, int gbk, char *field,
		      size_t fcap)
{
	struct cc_buf *out = &src->page.scratch;
	struct ccj j;
	const char *s, *key = NULL;
	size_t sl, klen = 0, from = 0, at;
	int r, is_key;

	ccj_init(&j, rec, n, gbk);
	for (;;) {
		/* outside strings the record is ASCII: copy up to the next string */
		at = from;
		while (at < n && rec[at] != '"')
			at++;
		if (cc_buf_add(out, rec + from, at - from, CC_MAX_BODY * 2))
			return -1;
		if (at >= n)
			return 0;
		j.p = j.start + at;
		if (ccj_string(&j, &s, &sl))
			return -1; /* cannot happen: the record was scanned whole before */
		is_key = ccj_peek(&j) == ':';
		if (cc_buf_add(out, "\"", 1, CC_MAX_BODY * 2))
			return -1;
		if (!gbk && cc_utf8_valid((const unsigned char *)s, sl))
			r = cc_buf_add(out, s, sl, CC_MAX_BODY * 2) ? -1 : 0;
		else
			r = convert(src, s, sl, out);
		if (r == 1) {
			r = as_bytes((const unsigned char *)s, sl, gbk, out) ? -1 : 1;
			if (r == 1)
				src->page.raw_strings++;
			if (r == 1 && !field[0] && !is_key && key)
				snprintf(field, fcap, "%.*s", (int)klen, key);
		}
		if (r < 0 || cc_buf_add(out, "\"", 1, CC_MAX_BODY * 2))
			return -1;
		if (is_key)
			key = s, klen = sl;
		from = ccj_offset(&j);
	}
}

/* The record's update_time and id, as the cursor needs them. 0, or -1 with why. */
static int place(const char *rec, size_t n, int gbk, struct cc_item *it, char *why, size_t cap)
{
	struct ccj j;
	const char *k, *s;
	size_t kl, sl, i;
	int first = 1, r, have_t = 0, have_id = 0;

	ccj_init(&j, rec, n, gbk);
	if (ccj_open(&j, '{'))
		return -1;
	while ((r = ccj_member(&j, &first, &k, &kl)) > 0) {
		int t = kl == 11 && memcmp(k, "update_time", 11) == 0;
		int id = kl == 2 && memcmp(k, "id", 2) == 0;

		if (!t && !id) {
			if (ccj_skip(&j))
				return -1;
			continue;
		}
		if (ccj_peek(&j) != '"' || ccj_string(&j, &s, &sl)) {
			snprintf(why, cap, "its \"%s\" is not a string", t ? "update_time" : "id");
			return -1;
		}
		if (t) {
			if (sl != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
			    s[16] != ':' || strspn(s, "0123456789- :") < 19) {
				snprintf(why, cap, "its update_time \"%.*s\" is not YYYY-MM-DD HH:MM:SS",
					 sl > 40 ? 40 : (int)sl, s);
				return -1;
			}
			memcpy(it->t, s, 19);
			it->t[19] = '\0';
			have_t = 1;
		} else {
			for (i = 0; i < sl; i++)
				if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '\\' || s[i] == '"')
					break;
			if (!sl || sl > CC_MAX_ID || i < sl) {
				snprintf(why, cap, "its id \"%.*s\" is not 1 to %d printable ASCII "
					 "characters", sl > 40 ? 40 : (int)sl, s, CC_MAX_ID);
				return -1;
			}
			memcpy(it->id, s, sl);
			it->id[sl] = '\0';
			have_id = 1;
		}
	}
	if (r < 0)
		return -1;
	if (!have_t || !have_id) {
		snprintf(why, cap, "it has no %s", have_t ? "id" : "update_time");
		return -1;
	}
	return 0;
}

static int add_item(struct cc_page *pg, size_t off, size_t len)
{
	struct cc_item *v;

	if (pg->n == pg->cap) {
		v = realloc(pg->v, (pg->cap ? pg->cap * 2 : 64) * sizeof(*v));
		if (!v)
			return -1;
		pg->v = v;
		pg->cap = pg->cap ? pg->cap * 2 : 64;
	}
	memset(&pg->v[pg->n], 0, sizeof(pg->v[0]));
	pg->v[pg->n].off = off;
	pg->v[pg->n].len = len;
	pg->n++;
	return 0;
}

/* The page's outline: code, msg, the spans of the records, has_more. */
static int outline(struct cc_source *src, struct ccj *j, long *code, const char **msg,
		   size_t *msg_len, int *have_items)
{
	struct cc_page *pg = &src->page;
	const char *k, *d;
	size_t kl, dl, start;
	int first = 1, f2, f3, r, r2, r3;
	char num[24];

	if (ccj_open(j, '{'))
		return -1;
	while ((r = ccj_member(j, &first, &k, &kl)) > 0) {
		if (kl == 4 && memcmp(k, "code", 4) == 0 && ccj_peek(j) != '"') {
			start = ccj_offset(j);
			if (ccj_skip(j))
				return -1;
			snprintf(num, sizeof(num), "%.*s", (int)(ccj_offset(j) - start),
				 (const char *)j->start + start);
			*code = strtol(num, NULL, 10);
		} else if (kl == 3 && memcmp(k, "msg", 3) == 0 && ccj_peek(j) == '"') {
			if (ccj_string(j, msg, msg_len))
				return -1;
		} else if (kl == 4 && memcmp(k, "data", 4) == 0 && ccj_peek(j) == '{') {
			f2 = 1;
			if (ccj_open(j, '{'))
				return -1;
			while ((r2 = ccj_member(j, &f2, &d, &dl)) > 0) {
				if (dl == 5 && memcmp(d, "items", 5) == 0 && ccj_peek(j) == '[') {
					f3 = 1;
					*have_items = 1;
					if (ccj_open(j, '['))
						return -1;
					while ((r3 = ccj_element(j, &f3)) > 0) {
						if (ccj_peek(j) != '{') {
							j->why = "an item that is not an object";
							return -1;
						}
						start = ccj_offset(j);
						if (ccj_skip(j) ||
						    add_item(pg, start, ccj_offset(j) - start))
							return -1;
					}
					if (r3 < 0)
						return -1;
				} else if (dl == 8 && memcmp(d, "has_more", 8) == 0) {
					r3 = ccj_peek(j);
					if (ccj_skip(j))
						return -1;
					if (r3 == 't' || r3 == 'f')
						pg->has_more = r3 == 't';
				} else if (ccj_skip(j)) {
					return -1;
				}
			}
			if (r2 < 0)
				return -1;
		} else if (ccj_skip(j)) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	if (ccj_peek(j) != -1) {
		j->why = "text after the JSON answer";
		return -1;
	}
	return 0;
}

enum cc_verdict cc_page_parse(struct cc_source *src, int entity, int gbk, char *why, size_t cap)
{
	struct cc_page *pg = &src->page;
	const char *msg = NULL, *rec;
	char what[120], field[64], desc[100];
	size_t msg_len = 0, i, before, raw;
	long code = 0;
	int have_items = 0;
	struct ccj j;

	pg->n = 0;
	pg->has_more = -1;
	pg->scratch.len = 0;
	pg->raw_strings = 0;
	ccj_init(&j, src->body.p, src->body.len, gbk);
	if (outline(src, &j, &code, &msg, &msg_len, &have_items)) {
		cc_describe(src, src->body.p, src->body.len, desc, sizeof(desc));
		snprintf(why, cap, "an answer that is not the JSON expected (%s at byte %zu of %zu%s): "
			 "\"%s\"", j.why ? j.why : "out of memory", ccj_offset(&j), src->body.len,
			 ccj_offset(&j) >= src->body.len ? ", cut short" : "", desc);
		return CC_AGAIN;
	}
	if (code != 0) {
		snprintf(why, cap, "code %ld: %.*s", code, msg_len > 200 ? 200 : (int)msg_len,
			 msg ? msg : "");
		return code >= 40101 && code <= 40103 ? CC_REAUTH : CC_FATAL;
	}
	if (!have_items || pg->has_more < 0) {
		cc_describe(src, src->body.p, src->body.len, desc, sizeof(desc));
		snprintf(why, cap, "an answer without data.%s: \"%s\"",
			 have_items ? "has_more" : "items", desc);
		return CC_AGAIN;
	}
	for (i = 0; i < pg->n; i++) {
		struct cc_item *it = &pg->v[i];

		rec = src->body.p + it->off;
		if (place(rec, it->len, gbk, it, what, sizeof(what))) {
			cc_describe(src, rec, it->len, desc, sizeof(desc));
			snprintf(why, cap, "%s record %zu of the page cannot be placed in the order: "
				 "%s (\"%s\"); the cursor cannot pass it, so ask the city to correct "
				 "it", cc_entity_names[entity], i + 1, what, desc);
			return CC_STOP;
		}
		if (!gbk && cc_utf8_valid((const unsigned char *)rec, it->len))
			continue;
		before = pg->scratch.len;
		if (gbk && convert(src, rec, it->len, &pg->scratch) == 0) {
			it->in_scratch = 1;
			it->off = before;
			it->len = pg->scratch.len - before;
			continue;
		}
		field[0] = '\0';
		raw = pg->raw_strings;
		before = pg->scratch.len;
		if (fix_record(src, rec, it->len, gbk, field, sizeof(field))) {
			snprintf(why, cap, "out of memory converting %s %s", cc_entity_names[entity],
				 it->id);
			return CC_AGAIN;
		}
		it->in_scratch = 1;
		it->off = before;
		it->len = pg->scratch.len - before;
		if (pg->raw_strings > raw)
			cc_log(src, SPGW_LOG_WARNING,
			       "%s %s: %s holds bytes that are not valid %s text; passed on as "
			       "raw bytes (\\u00XX) for the mapping's gbk-bytes decoding to judge",
			       cc_entity_names[entity], it->id,
			       field[0] ? field : "a string", gbk ? "GBK" : "UTF-8 or GBK");
	}
	return CC_OK;
}
