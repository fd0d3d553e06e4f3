/*
 * A record's canonical form and digest (see canonical.h, PROTOCOL.md §2 and §5).
 *
 * Our own serializer rather than json_dumps(): jansson escapes control characters with
 * uppercase hex and escapes DEL, sorts keys with its own rule and writes reals with "%.17g",
 * none of which is RFC 8785. Both ends of the wire hash these bytes, so every rule here is
 * part of the protocol: change nothing without changing PROTOCOL.md and the test vectors in
 * tests/cases/canonical/.
 */
#include "canonical.h"

#include <assert.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spgw_limits.h"
#include "mem.h"
#include "text.h"

/* 2^53: above it not every integer is a double, so two ends could disagree on the value. */
#define CANON_INT_LIMIT 9007199254740992.0
/* RFC 8785 switches to exponent notation outside [1e-6, 1e21); plain notation is the
 * protocol's, so numbers out there have no canonical form. */
#define CANON_MIN_FRACTION 1e-6

/* Members of the objects being written, as a stack shared by every nesting level. */
struct member {
	const char *key;
	size_t len;
	json_t *value;
};

/* Where the writer is, to name the member in an error message. */
struct path_step {
	const char *key; /* NULL for an array element */
	size_t len;
	size_t index;
};

/* Members kept on the C stack before the member stack moves to the heap: a record has about
 * 40 fields, so one allocation-free call covers a record and a few nested objects. */
#define CANON_STACK_MEMBERS 256

struct canon {
	struct spgw_buf *out;
	struct spgw_error *err;
	struct member *members; /* stack of sorted members of the open objects */
	size_t top, cap;
	int heap;               /* members was allocated (and must be freed) */
	struct path_step path[SPGW_MAX_JSON_DEPTH + 1];
	size_t depth;
};

static size_t utf8_seq(const unsigned char *s, size_t n, size_t i);

/* A member name for a message: valid UTF-8 copied, anything else (even the bad bytes the
 * message is about) shown as '?', so the message itself is clean text. */
static size_t name_format(const char *key, size_t len, char *s, size_t size)
{
	const unsigned char *k = (const unsigned char *)key;
	size_t i = 0, n = 0, seq;

	while (i < len && i < 64 && n + 5 < size) {
		seq = utf8_seq(k, len, i);
		if (!seq || k[i] < 0x20) {
			s[n++] = '?';
			i++;
			continue;
		}
		memcpy(s + n, key + i, seq);
		n += seq;
		i += seq;
	}
	if (i < len && n + 4 < size) {
		memcpy(s + n, "...", 3);
		n += 3;
	}
	s[n] = '\0';
	return n;
}

/* "XMDM", "a.b[3]", or "(the whole value)": names the member an error is about. */
static void path_format(const struct canon *c, char *s, size_t size)
{
	size_t i, n = 0;
	int w;

	s[0] = '\0';
	for (i = 0; i < c->depth && n + 8 < size; i++) {
		const struct path_step *p = &c->path[i];

		if (p->key) {
			if (n)
				s[n++] = '.';
			n += name_format(p->key, p->len, s + n, size - n);
			continue;
		}
		w = snprintf(s + n, size - n, "[%zu]", p->index);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
	if (!s[0])
		snprintf(s, size, "(the whole value)");
}

static enum spgw_rc invalid(const struct canon *c, const char *what)
{
	char path[200];

	path_format(c, path, sizeof(path));
	return spgw_error_set(c->err, SPGW_E_INVALID, NULL, 0, 0,
			      "member %s: %s (PROTOCOL.md §2; fix the value at its source)", path,
			      what);
}

/*
 * Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (RFC 3629:
 * no overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t i)
{
	unsigned char b = s[i];
	size_t len, k;
	uint32_t cp;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
		cp = b & 0x1fu;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		cp = b & 0x0fu;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		cp = b & 0x07u;
	} else {
		return 0;
	}
	if (n - i < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i + k] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return len;
}

/* Append to the form being written (the one place that does). */
static enum spgw_rc put(struct canon *c, const char *p, size_t n)
{
	return spgw_buf_put(c->out, p, n, c->err);
}

/* A JSON string with only the escapes RFC 8785 requires; UTF-8 is copied as it is. */
static enum spgw_rc write_string(struct canon *c, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	struct spgw_buf *b = c->out;
	size_t i = 0, run, elen;
	enum spgw_rc rc;
	char esc[7];
	char what[96];

	run = spgw_text_json_plain(str, n);
	if (run == n && n + 2 < b->cap - b->len && n + 2 <= b->max - b->len) {
		/* nearly every string: nothing to escape, and room for it */
		b->data[b->len] = '"';
		memcpy(b->data + b->len + 1, str, n);
		b->data[b->len + n + 1] = '"';
		b->len += n + 2;
		b->data[b->len] = '\0';
		return SPGW_OK;
	}
	rc = put(c, "\"", 1);
	while (!rc) {
		/* copy the run of bytes that need no escape at once */
		if (i)
			run = spgw_text_json_plain(str + i, n - i);
		if (run)
			rc = put(c, str + i, run);
		i += run;
		if (rc || i == n)
			break;
		if (s[i] >= 0x80) {
			snprintf(what, sizeof(what),
				 "string is not valid UTF-8 or holds a lone surrogate "
				 "(byte 0x%02x at offset %zu)", s[i], i);
			return invalid(c, what);
		}
		elen = 0;
		esc[elen++] = '\\';
		switch (s[i]) {
		case '"': esc[elen++] = '"'; break;
		case '\\': esc[elen++] = '\\'; break;
		case '\b': esc[elen++] = 'b'; break;
		case '\t': esc[elen++] = 't'; break;
		case '\n': esc[elen++] = 'n'; break;
		case '\f': esc[elen++] = 'f'; break;
		case '\r': esc[elen++] = 'r'; break;
		default:
			/* RFC 8785 3.2.2.2: other controls as \u00xx with lowercase hex */
			memcpy(esc + elen, "u00", 3);
			elen += 3;
			esc[elen++] = hex[s[i] >> 4];
			esc[elen++] = hex[s[i] & 0xf];
			break;
		}
		rc = put(c, esc, elen);
		i++;
	}
	if (!rc)
		rc = put(c, "\"", 1);
	return rc;
}

/*
 * format_fraction() (below) without printf and strtod, for the numbers records carry (amounts
 * and areas with a few decimals): writes at most 21 bytes to s and returns their count, or
 * 0 when it cannot tell, and then the slow way decides.
 *
 * For k = 1, 2, ...: R = nearbyint(|x| * 10^k); when R / 10^k == |x| (both exact doubles, the
 * division correctly rounded, as strtod() rounds the decimal "R / 10^k"), that decimal reads
 * back as x. It is the shortest one, and the same as format_fraction() writes, while
 * 10^k * ulp(x) <= 1/4: a k-decimal D reading back as x lies within ulp(x) / 2 of it, so
 * 10^k * D is within 1/8 of 10^k * |x|, whose computed product is within 1/4 more; nearbyint()
 * then finds D's numerator, so no shorter k was missed, and only one k-decimal is that close.
 * Both forms being in the same decade (a power of ten >= 1 is a double, one below 1 is then
 * the shortest of all), fewest decimals is fewest significant digits. Checked against the
 * slow way on 18 million doubles: random bits, decimals, scaled amounts, powers of ten.
 */
static int fraction_fast(double x, char *s)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
				      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17 };
	double a = fabs(x), ulp, r = 0;
	char digits[24];
	int k, e, nd = 0, n = 0, i;
	unsigned long long u;

	frexp(a, &e);
	ulp = ldexp(1.0, e - 53); /* a is in [2^(e-1), 2^e) */
	for (k = 1; k < (int)(sizeof(p10) / sizeof(p10[0])); k++) {
		if (p10[k] * ulp > 0.25)
			return 0;
		r = nearbyint(a * p10[k]);
		if (r / p10[k] == a)
			break;
	}
	if (k == (int)(sizeof(p10) / sizeof(p10[0])) || r < 1)
		return 0;
	for (u = (unsigned long long)r; u; u /= 10)
		digits[nd++] = (char)('0' + u % 10);
	if (x < 0)
		s[n++] = '-';
	if (nd <= k) {
		s[n++] = '0';
		s[n++] = '.';
		for (i = nd; i < k; i++)
			s[n++] = '0';
	}
	for (i = nd - 1; i >= 0; i--) {
		s[n++] = digits[i];
		if (i == k && nd > k)
			s[n++] = '.';
	}
	s[n] = '\0';
	return n;
}

/*
 * The shortest decimal that strtod() reads back as `x`, in plain notation (ECMAScript
 * Number::toString for 1e-6 <= |x| < 1e21). `x` is finite, not integral, in that range.
 *
 * The correctly rounded p-digit form is the nearest p-digit decimal, so the first p that
 * reads back gives the digits of the shortest-round-trip algorithms (Ryu, Grisu). Trying
 * p = 1, 2, ... costs a printf and a strtod per digit; but a double is closer to the nearest
 * 15-digit decimal than half that grid's step (2^-53 < 10^-15 / 2), so when any p <= 15 reads
 * back, the 15-digit form is that decimal padded with zeros: try 15, strip the zeros, and
 * only otherwise try 16 and 17 (17 always reads back). Checked against Python's repr() on
 * two million random doubles.
 */
static int format_fraction(double x, char *s, size_t size)
{
	char e[40], digits[20];
	size_t nd = 0, k, n = 0;
	int p, exp10;
	char *q;

	if (size > 21 && (p = fraction_fast(x, s)) > 0)
		return p;
	for (p = 15; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, x);
		if (strtod(e, NULL) == x)
			break;
	}
	/* e is "-d.ddddde-XX": collect the significant digits and the exponent */
	for (q = e; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9')
			digits[nd++] = *q;
	if (*q != 'e' || nd == 0)
		return -1;
	exp10 = atoi(q + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (x < 0)
		s[n++] = '-';
	if (exp10 < 0) {
		s[n++] = '0';
		s[n++] = '.';
		for (k = 1; k < (size_t)-exp10; k++)
			s[n++] = '0';
		for (k = 0; k < nd; k++)
			s[n++] = digits[k];
	} else {
		for (k = 0; k <= (size_t)exp10; k++)
			s[n++] = k < nd ? digits[k] : '0';
		if (nd > (size_t)exp10 + 1) {
			s[n++] = '.';
			for (k = (size_t)exp10 + 1; k < nd; k++)
				s[n++] = digits[k];
		}
	}
	if (n >= size)
		return -1;
	s[n] = '\0';
	return (int)n;
}

/* Plain digits of |i| < 2^53 without snprintf: most numbers in a record are codes and
 * counts, and formatting them was a tenth of the canonical form's cost. */
static int format_integer(long long i, char *s)
{
	char rev[24];
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
	int n = 0, k = 0;

	do {
		rev[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		s[n++] = '-';
	while (k)
		s[n++] = rev[--k];
	return n;
}

static enum spgw_rc write_number(struct canon *c, const json_t *v)
{
	char s[64];
	int n;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i >= (json_int_t)CANON_INT_LIMIT || i <= -(json_int_t)CANON_INT_LIMIT)
			return invalid(c, "integer outside ±(2^53-1) has no canonical form");
		n = format_integer((long long)i, s);
	} else {
		double x = json_real_value(v);

		if (isnan(x) || isinf(x))
			return invalid(c, "NaN or infinity has no canonical form");
		if (x == trunc(x)) {
			if (fabs(x) >= CANON_INT_LIMIT)
				return invalid(c, "integral number with |n| >= 2^53 has no "
						  "canonical form");
			/* 1.0 -> "1", 1E2 -> "100", -0.0 -> "0" (PROTOCOL.md §5) */
			n = format_integer((long long)x, s);
		} else {
			if (fabs(x) < CANON_MIN_FRACTION)
				return invalid(c, "number with magnitude below 1e-6 has no "
						  "canonical form");
			n = format_fraction(x, s, sizeof(s));
			if (n < 0)
				return invalid(c, "number could not be written");
		}
	}
	return put(c, s, (size_t)n);
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int d = memcmp(x->key, y->key, n);

	/* UTF-8 byte order is code point order (RFC 3629), which PROTOCOL.md §5 asks for;
	 * it differs from RFC 8785's UTF-16 order only above U+FFFF */
	if (d)
		return d;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* member_cmp(x, y) < 0 without a call: member names are short and differ early. */
static int member_before(const struct member *x, const struct member *y)
{
	const unsigned char *a = (const unsigned char *)x->key, *b = (const unsigned char *)y->key;
	size_t n = x->len < y->len ? x->len : y->len, i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return x->len < y->len;
}

/* Objects up to this size are sorted by insertion: the mapping builds records with their
 * members in order already, which insertion checks with one comparison per member. Larger
 * ones (foreign input) get qsort's n log n. */
#define CANON_INSERTION_MAX 64

static void sort_members(struct member *m, size_t n)
{
	struct member t;
	size_t i, j;

	if (n > CANON_INSERTION_MAX) {
		qsort(m, n, sizeof(*m), member_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		if (!member_before(&m[i], &m[i - 1]))
			continue;
		t = m[i];
		for (j = i; j > 0 && member_before(&t, &m[j - 1]); j--)
			m[j] = m[j - 1];
		m[j] = t;
	}
}

/* Room for `n` more members on the stack shared by all nesting levels. */
static enum spgw_rc members_reserve(struct canon *c, size_t n)
{
	struct member *m;
	size_t cap;

	if (c->top + n <= c->cap)
		return SPGW_OK;
	cap = c->cap * 2 > c->top + n ? c->cap * 2 : c->top + n;
	m = spgw_malloc(cap * sizeof(*m));
	if (!m)
		return spgw_error_nomem(c->err, "sorting an object's members");
	memcpy(m, c->members, c->top * sizeof(*m));
	if (c->heap)
		spgw_free(c->members);
	c->members = m;
	c->cap = cap;
	c->heap = 1;
	return SPGW_OK;
}

static enum spgw_rc write_value(struct canon *c, const json_t *v);

static enum spgw_rc write_object(struct canon *c, const json_t *v)
{
	size_t n = json_object_size(v), base = c->top, i;
	enum spgw_rc rc;
	void *it;

	rc = members_reserve(c, n);
	if (rc)
		return rc;
	for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
		struct member *m = &c->members[c->top++];

		m->key = json_object_iter_key(it);
		m->len = json_object_iter_key_len(it);
		m->value = json_object_iter_value(it);
	}
	assert(c->top - base == n); /* json_object_size() counts what the iterator visits */
	sort_members(c->members + base, n);
	rc = put(c, "{", 1);
	for (i = 0; !rc && i < n; i++) {
		/* c->members may move while nested objects grow it: index, never pointer */
		const char *key = c->members[base + i].key;
		size_t len = c->members[base + i].len;

		if (i)
			rc = put(c, ",", 1);
		c->path[c->depth].key = key;
		c->path[c->depth].len = len;
		c->depth++;
		if (!rc)
			rc = write_string(c, key, len);
		if (!rc)
			rc = put(c, ":", 1);
		if (!rc)
			rc = write_value(c, c->members[base + i].value);
		if (!rc)
			c->depth--;
	}
	if (!rc)
		rc = put(c, "}", 1);
	c->top = base;
	return rc;
}

static enum spgw_rc write_array(struct canon *c, const json_t *v)
{
	size_t n = json_array_size(v), i;
	enum spgw_rc rc;

	rc = put(c, "[", 1);
	for (i = 0; !rc && i < n; i++) {
		if (i)
			rc = put(c, ",", 1);
		c->path[c->depth].key = NULL;
		c->path[c->depth].index = i;
		c->depth++;
		if (!rc)
			rc = write_value(c, json_array_get(v, i));
		if (!rc)
			c->depth--;
	}
	if (!rc)
		rc = put(c, "]", 1);
	return rc;
}

/* c->depth is the number of containers around v. */
static enum spgw_rc write_value(struct canon *c, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (c->depth >= SPGW_MAX_JSON_DEPTH)
			return invalid(c, "nesting deeper than SPGW_MAX_JSON_DEPTH (64) levels");
		return json_is_object(v) ? write_object(c, v) : write_array(c, v);
	case JSON_STRING:
		return write_string(c, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
	case JSON_REAL:
		return write_number(c, v);
	case JSON_TRUE:
		return put(c, "true", 4);
	case JSON_FALSE:
		return put(c, "false", 5);
	case JSON_NULL:
		return put(c, "null", 4);
	}
	return invalid(c, "value of unknown type");
}

enum spgw_rc spgw_canonical(const json_t *v, struct spgw_buf *out, struct spgw_error *err)
{
	struct member stack[CANON_STACK_MEMBERS];
	struct canon c;
	size_t start = out->len;
	enum spgw_rc rc;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.err = err;
	c.members = stack;
	c.cap = CANON_STACK_MEMBERS;
	if (!v) {
		rc = spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0, "no value to write");
		goto out;
	}
	rc = write_value(&c, v);
out:
	if (rc) {
		/* leave `out` as it was: a half-written form must never be hashed */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	if (c.heap)
		spgw_free(c.members);
	return rc;
}

/* ---- digests ---- */

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sm3, *md_sha256;

/* Fetching an EVP_MD looks the algorithm up in the provider tables: once per process, not
 * per record. The fetched objects live until exit, which is what caching them means. */
static void md_fetch(void)
{
	md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const char *spgw_digest_name(enum spgw_digest_alg alg)
{
	return alg == SPGW_DIGEST_SHA256 ? "sha-256" : "sm3";
}

enum spgw_rc spgw_digest_parse(const char *name, enum spgw_digest_alg *alg,
			       struct spgw_error *err)
{
	if (name && !strcmp(name, "sm3")) {
		*alg = SPGW_DIGEST_SM3;
		return SPGW_OK;
	}
	if (name && !strcmp(name, "sha-256")) {
		*alg = SPGW_DIGEST_SHA256;
		return SPGW_OK;
	}
	return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
			      "unknown digest algorithm \"%s\": use \"sm3\" or \"sha-256\"",
			      name ? name : "(none)");
}

enum spgw_rc spgw_digest_raw(enum spgw_digest_alg alg, const void *p, size_t n,
			     unsigned char md[32], struct spgw_error *err)
{
	unsigned char tmp[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	const EVP_MD *m;

	pthread_once(&md_once, md_fetch);
	m = alg == SPGW_DIGEST_SHA256 ? md_sha256 : md_sm3;
	if (!m)
		return spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				      "OpenSSL offers no %s digest: use OpenSSL 3 with its default "
				      "provider loaded (SM3 is not in the FIPS provider)",
				      spgw_digest_name(alg));
	if (!EVP_Digest(n ? p : "", n, tmp, &len, m, NULL) || len != 32)
		return spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				      "computing the %s digest of %zu bytes failed",
				      spgw_digest_name(alg), n);
	memcpy(md, tmp, 32);
	return SPGW_OK;
}

enum spgw_rc spgw_digest_hex(enum spgw_digest_alg alg, const void *p, size_t n, char hex[65],
			     struct spgw_error *err)
{
	static const char digit[] = "0123456789abcdef";
	unsigned char md[32];
	enum spgw_rc rc;
	size_t i;

	rc = spgw_digest_raw(alg, p, n, md, err);
	if (rc)
		return rc;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digit[md[i] >> 4];
		hex[2 * i + 1] = digit[md[i] & 0xf];
	}
	hex[64] = '\0';
	return SPGW_OK;
}
