/*
 * The Prometheus registry (see metrics.h). Families are kept sorted by name and each family's
 * series sorted by their label set, so a render is one ordered walk and two renders of the same
 * state are byte-identical; a lookup is a binary search, an insertion one memmove.
 */
#include "metrics.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Metric and label names come from code; a longer one is a bug building names. */
#define NAME_MAX_LEN 200

/* Why an update was not stored. The first ones are the reasons of spgw_metrics_invalid_total,
 * in the order their label values sort, so the render walks the array. */
enum outcome {
	OUT_LABEL,   /* a label name is malformed, reserved, repeated, or lacks its value */
	OUT_LIMIT,   /* too many labels, buckets, families or hooks */
	OUT_NAME,    /* the metric name is malformed or reserved */
	OUT_TYPE,    /* the name exists with another type, or its buckets are malformed */
	OUT_VALUE,   /* NaN, a counter going down, a label value too long */
	N_INVALID,
	OUT_OK = N_INVALID,
	OUT_NOMEM,   /* counted in spgw_metrics_nomem_total */
	OUT_DROPPED, /* the family is full: counted in spgw_metrics_dropped_total */
};

static const char *const invalid_reason[N_INVALID] = {
	"label", "limit", "name", "type", "value",
};

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

static const char *const kind_name[] = { "counter", "gauge", "histogram" };

/* The registry's own families, sorted; a caller may not create them. */
#define OWN_DROPPED "spgw_metrics_dropped_total"
#define OWN_INVALID "spgw_metrics_invalid_total"
#define OWN_NOMEM "spgw_metrics_nomem_total"
static const char *const own_names[] = { OWN_DROPPED, OWN_INVALID, OWN_NOMEM };
#define N_OWN (sizeof(own_names) / sizeof(own_names[0]))

struct series {
	/* The label set as "name\0value\0name\0value\0", pairs sorted by name, values already
	 * valid UTF-8: comparing keys bytewise orders series as (name, value, ...) tuples, since
	 * a NUL sorts below any byte a name or value can hold. */
	char *key;
	size_t keylen;
	double value;       /* counter, gauge */
	double sum;         /* histogram */
	uint64_t count;     /* histogram: observations, the +Inf bucket */
	uint64_t counts[];  /* histogram: per bound, not cumulative (cumulated at render) */
};

struct family {
	char *name;
	char *help;       /* valid UTF-8, NULL when none was given */
	enum kind kind;
	double *bounds;   /* histogram: strictly increasing, finite; +Inf implied */
	size_t nbounds;
	struct series **series; /* sorted by key */
	size_t n, cap;
	uint64_t dropped; /* updates refused because the family was full */
};

struct hook {
	void (*fn)(void *ud, struct spgw_metrics *m);
	void *ud;
};

struct spgw_metrics {
	pthread_mutex_t lock; /* everything below */
	/* One render at a time, so the hooks' clear-and-refill of a gauge is never seen half
	 * done by a second render. Taken before `lock`, never while holding it. */
	pthread_mutex_t render_lock;
	struct family **fam; /* sorted by name */
	size_t n, cap;
	struct hook hooks[SPGW_METRICS_MAX_HOOKS];
	size_t nhooks;
	uint64_t invalid[N_INVALID];
	uint64_t nomem;
};

/* ---- names and label sets ---- */

static int name_ok(const char *s, int colon)
{
	size_t i;

	if (!s || !s[0] || strlen(s) > NAME_MAX_LEN)
		return 0;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			    (colon && c == ':');

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

/* Length of the valid UTF-8 sequence at `s` (of `n` bytes), 0 when it is not one: overlong
 * forms, surrogates and code points past U+10FFFF are refused as Prometheus' parser does. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copy `s` to `d` with each byte that is not part of valid UTF-8 replaced by U+FFFD; `d` has
 * room for 3 * strlen(s) bytes. A label value from a GBK source read as UTF-8 must still give
 * a scrape Prometheus accepts. Returns the bytes written. */
static size_t utf8_clean(char *d, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), at = 0, len;

	while (n) {
		len = utf8_len(p, n);
		if (len) {
			memcpy(d + at, p, len);
			at += len;
		} else {
			memcpy(d + at, "\xef\xbf\xbd", 3);
			at += 3;
			len = 1;
		}
		p += len;
		n -= len;
	}
	return at;
}

struct labelkey {
	char *key;
	size_t len;
	char local[1024]; /* most keys: no allocation per update */
};

static void key_release(struct labelkey *k)
{
	if (k->key != k->local)
		spgw_free(k->key);
	k->key = NULL;
}

/* Build the sorted key of `labels`; an outcome other than OUT_OK says what is wrong. */
static enum outcome key_build(struct labelkey *k, const char *const *labels, enum kind kind)
{
	size_t order[SPGW_METRICS_MAX_LABELS];
	size_t n = 0, i, j, need = 0;

	k->key = k->local;
	k->len = 0;
	for (n = 0; labels && labels[2 * n]; n++) {
		const char *name = labels[2 * n], *value = labels[2 * n + 1];

		if (n == SPGW_METRICS_MAX_LABELS)
			return OUT_LIMIT;
		if (!value || !name_ok(name, 0) || !strncmp(name, "__", 2) ||
		    (kind == KIND_HISTOGRAM && !strcmp(name, "le")))
			return OUT_LABEL;
		if (strlen(value) > SPGW_METRICS_MAX_LABEL_VALUE)
			return OUT_VALUE;
		need += strlen(name) + 1 + 3 * strlen(value) + 1;
		/* insertion sort by name: at most 16 pairs */
		for (j = n; j > 0 && strcmp(labels[2 * order[j - 1]], name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = n;
	}
	for (i = 1; i < n; i++)
		if (!strcmp(labels[2 * order[i - 1]], labels[2 * order[i]]))
			return OUT_LABEL;
	if (need > sizeof(k->local)) {
		k->key = spgw_malloc(need);
		if (!k->key)
			return OUT_NOMEM;
	}
	for (i = 0; i < n; i++) {
		const char *name = labels[2 * order[i]];
		size_t nl = strlen(name) + 1;

		memcpy(k->key + k->len, name, nl);
		k->len += nl;
		k->len += utf8_clean(k->key + k->len, labels[2 * order[i] + 1]);
		k->key[k->len++] = '\0';
	}
	return OUT_OK;
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ---- families and series (the caller holds m->lock) ---- */

/* Index of `name`, or of where it would go with *found = 0. */
static size_t family_find(const struct spgw_metrics *m, const char *name, int *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->fam[mid]->name, name);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int family_exists(const struct spgw_metrics *m, const char *name, enum kind *kind)
{
	int found;
	size_t i = family_find(m, name, &found);

	if (found && kind)
		*kind = m->fam[i]->kind;
	return found;
}

static const char *const hist_suffix[] = { "_bucket", "_count", "_sum" };

/*
 * Would a family `name` of `kind` print a line that another family prints too? A histogram
 * "x" owns "x_bucket", "x_count" and "x_sum"; two families writing the same series name make
 * Prometheus reject the scrape.
 */
static int family_clashes(const struct spgw_metrics *m, const char *name, enum kind kind)
{
	char other[NAME_MAX_LEN + 8];
	size_t len = strlen(name), i, sl;
	enum kind k;

	for (i = 0; i < sizeof(hist_suffix) / sizeof(hist_suffix[0]); i++) {
		sl = strlen(hist_suffix[i]);
		if (len > sl && !strcmp(name + len - sl, hist_suffix[i])) {
			memcpy(other, name, len - sl);
			other[len - sl] = '\0';
			if (family_exists(m, other, &k) && k == KIND_HISTOGRAM)
				return 1;
		}
		if (kind == KIND_HISTOGRAM) {
			snprintf(other, sizeof(other), "%s%s", name, hist_suffix[i]);
			if (family_exists(m, other, NULL))
				return 1;
		}
	}
	return 0;
}

static void series_free(struct series *s)
{
	if (s) {
		spgw_free(s->key);
		spgw_free(s);
	}
}

static void family_free(struct family *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		series_free(f->series[i]);
	spgw_free(f->series);
	spgw_free(f->bounds);
	spgw_free(f->help);
	spgw_free(f->name);
	spgw_free(f);
}

/* Check a histogram's bounds and give how many to keep (a final +Inf is implied). */
static enum outcome bounds_check(const double *bounds, size_t n, size_t *keep)
{
	size_t i;

	if (n && !bounds)
		return OUT_TYPE;
	if (n && isinf(bounds[n - 1]) && bounds[n - 1] > 0)
		n--;
	if (n > SPGW_METRICS_MAX_BUCKETS)
		return OUT_LIMIT;
	for (i = 0; i < n; i++)
		if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
			return OUT_TYPE;
	*keep = n;
	return OUT_OK;
}

static struct family *family_new(const char *name, enum kind kind, const char *help,
				 const double *bounds, size_t nbounds)
{
	struct family *f = spgw_calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->kind = kind;
	f->name = spgw_strdup(name);
	if (!f->name)
		goto fail;
	if (help) {
		f->help = spgw_malloc(3 * strlen(help) + 1);
		if (!f->help)
			goto fail;
		f->help[utf8_clean(f->help, help)] = '\0';
	}
	if (nbounds) {
		f->bounds = spgw_malloc(nbounds * sizeof(double));
		if (!f->bounds)
			goto fail;
		memcpy(f->bounds, bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	return f;
fail:
	family_free(f);
	return NULL;
}

/* `array` with room for element n (of `elem` bytes) beyond the `*cap` it has; NULL when memory
 * is short (`array` is then unchanged). */
static void *grow(void *array, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return array;
	ncap = *cap ? *cap * 2 : 16;
	p = spgw_realloc(array, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}

static struct family *family_get(struct spgw_metrics *m, const char *name, enum kind kind,
				 const char *help, const double *bounds, size_t nbounds,
				 enum outcome *out)
{
	struct family *f, **fam;
	size_t at, keep = 0;
	int found;

	at = family_find(m, name, &found);
	if (found) {
		if (m->fam[at]->kind == kind)
			return m->fam[at];
		*out = OUT_TYPE;
		return NULL;
	}
	if (m->n >= SPGW_METRICS_MAX_FAMILIES) {
		*out = OUT_LIMIT;
		return NULL;
	}
	if (family_clashes(m, name, kind)) {
		*out = OUT_TYPE;
		return NULL;
	}
	if (kind == KIND_HISTOGRAM) {
		*out = bounds_check(bounds, nbounds, &keep);
		if (*out != OUT_OK)
			return NULL;
	}
	fam = grow(m->fam, m->n, &m->cap, sizeof(*m->fam));
	if (fam)
		m->fam = fam;
	f = fam ? family_new(name, kind, help, bounds, keep) : NULL;
	if (!f) {
		*out = OUT_NOMEM;
		return NULL;
	}
	memmove(m->fam + at + 1, m->fam + at, (m->n - at) * sizeof(*m->fam));
	m->fam[at] = f;
	m->n++;
	return f;
}

static struct series *series_get(struct family *f, const struct labelkey *k, enum outcome *out)
{
	size_t lo = 0, hi = f->n, extra;
	struct series *s, **all;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(f->series[mid]->key, f->series[mid]->keylen, k->key, k->len);

		if (!c)
			return f->series[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (f->n >= SPGW_METRICS_MAX_SERIES) {
		f->dropped++;
		*out = OUT_DROPPED;
		return NULL;
	}
	extra = f->kind == KIND_HISTOGRAM ? f->nbounds * sizeof(uint64_t) : 0;
	all = grow(f->series, f->n, &f->cap, sizeof(*f->series));
	if (all)
		f->series = all;
	s = all ? spgw_calloc(1, sizeof(*s) + extra) : NULL;
	if (!s) {
		*out = OUT_NOMEM;
		return NULL;
	}
	s->key = spgw_malloc(k->len ? k->len : 1);
	if (!s->key) {
		spgw_free(s);
		*out = OUT_NOMEM;
		return NULL;
	}
	memcpy(s->key, k->key, k->len);
	s->keylen = k->len;
	memmove(f->series + lo + 1, f->series + lo, (f->n - lo) * sizeof(*f->series));
	f->series[lo] = s;
	f->n++;
	return s;
}

static void apply(const struct family *f, struct series *s, double v)
{
	size_t lo = 0, hi = f->nbounds;

	switch (f->kind) {
	case KIND_COUNTER:
		s->value += v;
		break;
	case KIND_GAUGE:
		s->value = v;
		break;
	case KIND_HISTOGRAM:
		/* the first bound >= v; none means only the +Inf bucket */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v <= f->bounds[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo < f->nbounds)
			s->counts[lo]++;
		s->count++;
		s->sum += v;
		break;
	}
}

static int own_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_OWN; i++)
		if (!strcmp(name, own_names[i]))
			return 1;
	return 0;
}

/* Count an update that was not stored (m->lock held). */
static void count_refusal(struct spgw_metrics *m, enum outcome out)
{
	if (out < N_INVALID)
		m->invalid[out]++;
	else if (out == OUT_NOMEM)
		m->nomem++;
	/* OUT_DROPPED was counted in its family by series_get */
}

static void update(struct spgw_metrics *m, enum kind kind, const char *name, const char *help,
		   const char *const *labels, const double *bounds, size_t nbounds, double v)
{
	struct labelkey k;
	struct family *f;
	struct series *s;
	enum outcome out;

	if (!m)
		return;
	k.key = NULL;
	if (!name_ok(name, 1) || own_name(name))
		out = OUT_NAME;
	else if ((kind != KIND_GAUGE && isnan(v)) || (kind == KIND_COUNTER && (v < 0 || isinf(v))))
		out = OUT_VALUE;
	else
		out = key_build(&k, labels, kind);
	pthread_mutex_lock(&m->lock);
	if (out == OUT_OK) {
		f = family_get(m, name, kind, help, bounds, nbounds, &out);
		s = f ? series_get(f, &k, &out) : NULL;
		if (s)
			apply(f, s, v);
	}
	count_refusal(m, out);
	pthread_mutex_unlock(&m->lock);
	key_release(&k);
}

void spgw_metrics_counter_add(struct spgw_metrics *m, const char *name, const char *help,
			      const char *const *labels, double v)
{
	update(m, KIND_COUNTER, name, help, labels, NULL, 0, v);
}

void spgw_metrics_gauge_set(struct spgw_metrics *m, const char *name, const char *help,
			    const char *const *labels, double v)
{
	update(m, KIND_GAUGE, name, help, labels, NULL, 0, v);
}

void spgw_metrics_histogram_observe(struct spgw_metrics *m, const char *name, const char *help,
				    const char *const *labels, const double *buckets,
				    size_t nbuckets, double v)
{
	update(m, KIND_HISTOGRAM, name, help, labels, buckets, nbuckets, v);
}

void spgw_metrics_gauge_clear(struct spgw_metrics *m, const char *name)
{
	struct family *f;
	size_t at, i;
	int found;

	if (!m || !name)
		return;
	pthread_mutex_lock(&m->lock);
	at = family_find(m, name, &found);
	if (found && m->fam[at]->kind == KIND_GAUGE) {
		f = m->fam[at];
		for (i = 0; i < f->n; i++)
			series_free(f->series[i]);
		/* give the memory back too: the next refill may be much smaller */
		spgw_free(f->series);
		f->series = NULL;
		f->n = f->cap = 0;
	}
	pthread_mutex_unlock(&m->lock);
}

void spgw_metrics_on_scrape(struct spgw_metrics *m, void (*fn)(void *ud, struct spgw_metrics *m),
			    void *ud)
{
	if (!m || !fn)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->nhooks < SPGW_METRICS_MAX_HOOKS) {
		m->hooks[m->nhooks].fn = fn;
		m->hooks[m->nhooks].ud = ud;
		m->nhooks++;
	} else {
		m->invalid[OUT_LIMIT]++;
	}
	pthread_mutex_unlock(&m->lock);
}

struct spgw_metrics *spgw_metrics_new(void)
{
	struct spgw_metrics *m = spgw_calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL)) {
		spgw_free(m);
		return NULL;
	}
	if (pthread_mutex_init(&m->render_lock, NULL)) {
		pthread_mutex_destroy(&m->lock);
		spgw_free(m);
		return NULL;
	}
	return m;
}

void spgw_metrics_free(struct spgw_metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		family_free(m->fam[i]);
	spgw_free(m->fam);
	pthread_mutex_destroy(&m->render_lock);
	pthread_mutex_destroy(&m->lock);
	spgw_free(m);
}

/* ---- the text format ---- */

/* Appends with a sticky error, so the render reads as the text it writes. */
struct out {
	struct spgw_buf *b;
	struct spgw_error *err;
	enum spgw_rc rc;
};

static void put(struct out *o, const char *p, size_t n)
{
	if (!o->rc)
		o->rc = spgw_buf_put(o->b, p, n, o->err);
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Escape as the format asks: backslash and newline everywhere, double quote in label values. */
static void put_escaped(struct out *o, const char *s, size_t n, int quote)
{
	size_t from = 0, i;

	for (i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n" :
				  quote && s[i] == '"' ? "\\\"" : NULL;

		if (!esc)
			continue;
		put(o, s + from, i - from);
		put(o, esc, 2);
		from = i + 1;
	}
	put(o, s + from, n - from);
}

/*
 * A number as Prometheus parses it (Go's strconv.ParseFloat): NaN, +Inf, -Inf; integers in
 * full without an exponent, so counts read as counts; other values in the shortest form that
 * reads back as the same double. Needs the "C" numeric locale (set by the render).
 */
static void put_number(struct out *o, double v)
{
	char t[40];

	if (isnan(v)) {
		put_str(o, "NaN");
		return;
	}
	if (isinf(v)) {
		put_str(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9.2e18)
		snprintf(t, sizeof(t), "%.0f", v);
	else if (snprintf(t, sizeof(t), "%.15g", v) > 0 && strtod(t, NULL) != v)
		snprintf(t, sizeof(t), "%.17g", v);
	put_str(o, t);
}

static void put_u64(struct out *o, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	put_str(o, t);
}

/* The label set of a key, plus le="..." for a bucket (`le` not NULL, `inf` for +Inf). */
static void put_labels(struct out *o, const char *key, size_t len, const double *le)
{
	size_t at = 0, nl, vl;
	int first = 1;

	if (!len && !le)
		return;
	put(o, "{", 1);
	while (at < len) {
		nl = strlen(key + at);
		vl = strlen(key + at + nl + 1);
		if (!first)
			put(o, ",", 1);
		put(o, key + at, nl);
		put(o, "=\"", 2);
		put_escaped(o, key + at + nl + 1, vl, 1);
		put(o, "\"", 1);
		at += nl + 1 + vl + 1;
		first = 0;
	}
	if (le) {
		if (!first)
			put(o, ",", 1);
		put(o, "le=\"", 4);
		put_number(o, *le);
		put(o, "\"", 1);
	}
	put(o, "}", 1);
}

static void put_head(struct out *o, const char *name, const char *help, const char *type)
{
	if (help) {
		put_str(o, "# HELP ");
		put_str(o, name);
		put(o, " ", 1);
		put_escaped(o, help, strlen(help), 0);
		put(o, "\n", 1);
	}
	put_str(o, "# TYPE ");
	put_str(o, name);
	put(o, " ", 1);
	put_str(o, type);
	put(o, "\n", 1);
}

/* One line: name[suffix]{labels} value. */
static void put_sample(struct out *o, const char *name, const char *suffix,
		       const struct series *s, const double *le)
{
	put_str(o, name);
	put_str(o, suffix);
	put_labels(o, s->key, s->keylen, le);
	put(o, " ", 1);
}

static void render_family(struct out *o, const struct family *f)
{
	static const double inf = INFINITY;
	size_t i, b;

	put_head(o, f->name, f->help, kind_name[f->kind]);
	for (i = 0; i < f->n && !o->rc; i++) {
		const struct series *s = f->series[i];
		uint64_t cum = 0;

		if (f->kind != KIND_HISTOGRAM) {
			put_sample(o, f->name, "", s, NULL);
			put_number(o, s->value);
			put(o, "\n", 1);
			continue;
		}
		for (b = 0; b < f->nbounds; b++) {
			cum += s->counts[b];
			put_sample(o, f->name, "_bucket", s, &f->bounds[b]);
			put_u64(o, cum);
			put(o, "\n", 1);
		}
		put_sample(o, f->name, "_bucket", s, &inf);
		put_u64(o, s->count);
		put(o, "\n", 1);
		put_sample(o, f->name, "_sum", s, NULL);
		put_number(o, s->sum);
		put(o, "\n", 1);
		put_sample(o, f->name, "_count", s, NULL);
		put_u64(o, s->count);
		put(o, "\n", 1);
	}
}

/* The registry's own families (metrics.h), by index in own_names. */
static void render_own(struct out *o, const struct spgw_metrics *m, size_t which)
{
	size_t i;

	switch (which) {
	case 0:
		put_head(o, OWN_DROPPED,
			 "Metric updates not stored because their family already held "
			 STR(SPGW_METRICS_MAX_SERIES) " series (a label fed unbounded values).",
			 "counter");
		for (i = 0; i < m->n; i++) {
			if (!m->fam[i]->dropped)
				continue;
			put_str(o, OWN_DROPPED "{family=\"");
			put_escaped(o, m->fam[i]->name, strlen(m->fam[i]->name), 1);
			put_str(o, "\"} ");
			put_u64(o, m->fam[i]->dropped);
			put(o, "\n", 1);
		}
		break;
	case 1:
		put_head(o, OWN_INVALID,
			 "Metric updates refused because the code named or used a metric wrongly, "
			 "by reason.",
			 "counter");
		for (i = 0; i < N_INVALID; i++) {
			put_str(o, OWN_INVALID "{reason=\"");
			put_str(o, invalid_reason[i]);
			put_str(o, "\"} ");
			put_u64(o, m->invalid[i]);
			put(o, "\n", 1);
		}
		break;
	default:
		put_head(o, OWN_NOMEM, "Metric updates lost because memory was short.", "counter");
		put_str(o, OWN_NOMEM " ");
		put_u64(o, m->nomem);
		put(o, "\n", 1);
		break;
	}
}

enum spgw_rc spgw_metrics_render(struct spgw_metrics *m, struct spgw_buf *out,
				 struct spgw_error *err)
{
	struct hook hooks[SPGW_METRICS_MAX_HOOKS];
	struct out o = { .b = out, .err = err, .rc = SPGW_OK };
	locale_t c_locale, old = (locale_t)0;
	size_t nhooks, i, j = 0;

	if (!m || !out)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "spgw_metrics_render: no registry or buffer given");
	pthread_mutex_lock(&m->render_lock);
	pthread_mutex_lock(&m->lock);
	nhooks = m->nhooks;
	memcpy(hooks, m->hooks, nhooks * sizeof(*hooks));
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < nhooks; i++)
		hooks[i].fn(hooks[i].ud, m);

	/* printf's decimal point follows the locale; the format wants '.', whatever the
	 * daemon's environment says. Only this thread's locale changes. */
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale != (locale_t)0)
		old = uselocale(c_locale);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i <= m->n && !o.rc; i++) {
		/* merge the own families into the sorted walk */
		while (j < N_OWN && (i == m->n || strcmp(own_names[j], m->fam[i]->name) < 0))
			render_own(&o, m, j++);
		if (i < m->n)
			render_family(&o, m->fam[i]);
	}
	pthread_mutex_unlock(&m->lock);
	if (c_locale != (locale_t)0) {
		uselocale(old);
		freelocale(c_locale);
	}
	pthread_mutex_unlock(&m->render_lock);
	return o.rc;
}
