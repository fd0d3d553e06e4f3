/*
 * Pages in GBK. Changchun's older services answer in GBK and say so in the Content-Type
 * (`application/json;charset=GBK`); a page holding a record that the dataset marks
 * "_charset": "gbk" is served that way: the marked record as the exact bytes the generator
 * gave (valid GBK, or invalid bytes on purpose), every other record of the page converted
 * from UTF-8. GB18030 is used for the conversion because it is GBK for every character GBK
 * has and also encodes the rest, so no text is ever lost on our side.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccsim.h"

static int grow(char **out, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*out, c);
	if (!p)
		return -1;
	*out = p;
	*cap = c;
	return 0;
}

int ccsim_gbk_append(iconv_t cd, const char *in, size_t n, char **out, size_t *len,
		     size_t *cap)
{
	char *ip = (char *)in, *op;
	size_t il = n, ol;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (il) {
		/* GB18030 never takes more than 4 bytes for a character UTF-8 writes in 1-4 */
		if (grow(out, cap, *len + il * 2 + 16))
			return -1;
		op = *out + *len;
		ol = *cap - *len;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 && errno != E2BIG) {
			*len = (size_t)(op - *out);
			return -1;
		}
		*len = (size_t)(op - *out);
	}
	return 0;
}

/* In GBK, whether b may follow a lead byte 0x81-0xFE (a GBK trail, or GB18030's second). */
static int gbk_second(unsigned b)
{
	return (b >= 0x30 && b <= 0x39) || (b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe);
}

struct out {
	char *p;
	size_t len, cap;
	iconv_t cd; /* UTF-8 -> GB18030 */
};

static int put(struct out *o, const void *p, size_t n)
{
	char *np;
	size_t c = o->cap ? o->cap : 1024;

	if (o->len + n + 1 > o->cap) {
		while (c < o->len + n + 1)
			c *= 2;
		np = realloc(o->p, c);
		if (!np)
			return -1;
		o->p = np;
		o->cap = c;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
	return 0;
}

/*
 * A JSON string of GBK bytes. Escaping works on GBK characters, not bytes: the second byte of
 * a character may be 0x5C ('\') and is written raw, because a GBK reader takes it with its
 * lead byte; a lone '\' or '"' is escaped as JSON wants.
 */
static int put_gbk_string(struct out *o, const unsigned char *b, size_t n)
{
	char e[8];
	size_t i;

	if (put(o, "\"", 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (b[i] >= 0x81 && b[i] <= 0xfe && i + 1 < n && gbk_second(b[i + 1])) {
			if (put(o, b + i, 2))
				return -1;
			i++;
		} else if (b[i] == '"' || b[i] == '\\') {
			e[0] = '\\', e[1] = (char)b[i];
			if (put(o, e, 2))
				return -1;
		} else if (b[i] < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", b[i]);
			if (put(o, e, 6))
				return -1;
		} else if (put(o, b + i, 1)) {
			return -1;
		}
	}
	return put(o, "\"", 1);
}

/* A string of the marked record as GBK bytes: characters U+0000..U+00FF are the bytes the
 * generator meant; a string with any character above is real text, written as GBK writes it. */
static int put_string(struct out *o, const char *s, size_t n)
{
	unsigned char *b = malloc(n + 1);
	size_t i, k = 0;
	int rc = -1, wide = 0;

	if (!b)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];

		if (c < 0x80) {
			b[k++] = (unsigned char)c;
		} else if ((c == 0xc2 || c == 0xc3) && i + 1 < n) {
			b[k++] = (unsigned char)(((c & 0x1f) << 6) | ((unsigned char)s[++i] & 0x3f));
		} else {
			wide = 1;
			break;
		}
	}
	if (wide) {
		char *conv = NULL;
		size_t len = 0, cap = 0;

		if (ccsim_gbk_append(o->cd, s, n, &conv, &len, &cap) == 0)
			rc = put_gbk_string(o, (const unsigned char *)conv, len);
		free(conv);
	} else {
		rc = put_gbk_string(o, b, k);
	}
	free(b);
	return rc;
}

static int put_value(struct out *o, json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;
	char *t;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (put(o, "{", 1))
			return -1;
		json_object_foreach(v, k, m) {
			if ((!first && put(o, ",", 1)) || put_string(o, k, strlen(k)) ||
			    put(o, ":", 1) || put_value(o, m))
				return -1;
			first = 0;
		}
		return put(o, "}", 1);
	case JSON_ARRAY:
		if (put(o, "[", 1))
			return -1;
		json_array_foreach(v, i, m) {
			if ((i && put(o, ",", 1)) || put_value(o, m))
				return -1;
		}
		return put(o, "]", 1);
	case JSON_STRING:
		return put_string(o, json_string_value(v), json_string_length(v));
	default:
		t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		first = t ? put(o, t, strlen(t)) : -1;
		free(t);
		return first;
	}
}

int ccsim_gbk_record(const char *utf8, size_t n, char **out, size_t *out_len, char *why,
		     size_t whylen)
{
	json_error_t je;
	json_t *obj = json_loadb(utf8, n, JSON_REJECT_DUPLICATES, &je);
	struct out o = { NULL, 0, 0, (iconv_t)-1 };
	int rc = -1;

	if (!json_is_object(obj)) {
		snprintf(why, whylen, "not a JSON object: %s", je.text);
		goto done;
	}
	json_object_del(obj, "_charset");
	o.cd = iconv_open("GB18030", "UTF-8");
	if (o.cd == (iconv_t)-1) {
		snprintf(why, whylen, "iconv has no GB18030");
		goto done;
	}
	if (put_value(&o, obj)) {
		snprintf(why, whylen, "out of memory or text that GB18030 cannot hold");
		goto done;
	}
	*out = o.p;
	*out_len = o.len;
	o.p = NULL;
	rc = 0;
done:
	if (o.cd != (iconv_t)-1)
		iconv_close(o.cd);
	free(o.p);
	json_decref(obj);
	return rc;
}
