/*
 * Fault injection: what a real national platform does on a bad day, on demand and
 * repeatably. Request-level faults (5xx, 429, hang, cut answers, lies) are drawn from a
 * PRNG seeded with --seed, six draws per POST /batches in a fixed order whatever the
 * outcome, so a run with the same seed and the same request order meets the same faults.
 * Record-level rejections are decided from the seed and the record itself (a hash), so a
 * record resent in a new batch meets the same fate, and a test can predict it.
 *
 * GET counts and keys have faults of their own, for reconciliation: answers for other days
 * than asked, counts that disagree with the keys, paging that loops or repeats, and slow
 * answers. Their draws come from a second stream, so adding GETs to a run does not move
 * the batches' faults.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

void sim_faults_init(struct sim_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->retry_after = -1;
	f->hang_seconds = 3600;
	f->lie_rate = 1.0;
	f->force_left = 0;
	pthread_mutex_init(&f->lock, NULL);
}

void sim_faults_free(struct sim_faults *f)
{
	size_t i;

	for (i = 0; i < f->n_rejects; i++) {
		regfree(&f->rejects[i].re);
		spgw_free(f->rejects[i].pattern);
	}
	spgw_free(f->rejects);
	pthread_mutex_destroy(&f->lock);
}

static int parse_fraction(const char *opt, const char *val, double *out, struct spgw_error *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno || end == val || *end || !(d >= 0.0 && d <= 1.0)) {
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "%s %s: give a fraction from 0 to 1",
			       opt, val);
		return -1;
	}
	*out = d;
	return 1;
}

static int parse_long(const char *opt, const char *val, long min, long *out,
		      struct spgw_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < min) {
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "%s %s: give a whole number >= %ld",
			       opt, val, min);
		return -1;
	}
	*out = v;
	return 1;
}

static const char *const lie_names[] = { "", "receipt-sig", "receipt-counts", "not-json",
					 "truncated", "results-fewer", "results-more" };

static int parse_lie(struct sim_faults *f, const char *val, struct spgw_error *err)
{
	char mode[32];
	const char *colon = strchr(val, ':');
	size_t n = colon ? (size_t)(colon - val) : strlen(val), i;

	if (n >= sizeof(mode))
		goto bad;
	memcpy(mode, val, n);
	mode[n] = '\0';
	for (i = 1; i < sizeof(lie_names) / sizeof(lie_names[0]); i++) {
		if (strcmp(mode, lie_names[i]) == 0)
			break;
	}
	if (i == sizeof(lie_names) / sizeof(lie_names[0]))
		goto bad;
	f->lie = (enum sim_lie)i;
	if (colon)
		return parse_fraction("--lie", colon + 1, &f->lie_rate, err);
	return 1;
bad:
	spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
		       "--lie %s: one of receipt-sig, receipt-counts, not-json, truncated, "
		       "results-fewer, results-more, optionally :FRACTION", val);
	return -1;
}

static const char *const lie_counts_names[] = { "", "shift", "outside", "plus-one", "total" };
static const char *const lie_keys_names[] = { "", "loop", "repeat" };

const char *sim_lie_counts_name(enum sim_lie_counts m)
{
	return lie_counts_names[m];
}

const char *sim_lie_keys_name(enum sim_lie_keys m)
{
	return lie_keys_names[m];
}

/* MODE[:F] with MODE one of names[1..n-1]: *mode and *rate set; 1, or -1 with err set. */
static int parse_mode(const char *opt, const char *val, const char *const *names, size_t n,
		      int *mode, double *rate, struct spgw_error *err)
{
	const char *colon = strchr(val, ':');
	size_t len = colon ? (size_t)(colon - val) : strlen(val), i;
	char list[200];

	for (i = 1; i < n; i++) {
		if (strlen(names[i]) == len && strncmp(val, names[i], len) == 0)
			break;
	}
	if (i == n) {
		list[0] = '\0';
		for (i = 1; i < n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i > 1 ? ", " : "", names[i]);
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
			       "%s %s: one of %s, optionally :FRACTION", opt, val, list);
		return -1;
	}
	*mode = (int)i;
	*rate = 1.0;
	if (colon)
		return parse_fraction(opt, colon + 1, rate, err);
	return 1;
}

static int parse_force(struct sim_faults *f, const char *val, struct spgw_error *err)
{
	static const int allowed[] = { 400, 401, 403, 409, 413, 429, 500, 502, 503, 504 };
	char *end;
	long code, n = -1;
	size_t i;

	code = strtol(val, &end, 10);
	if (*end == ':') {
		if (parse_long("--force-status", end + 1, 1, &n, err) < 0)
			return -1;
	} else if (*end) {
		code = 0;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (code == allowed[i])
			break;
	}
	if (i == sizeof(allowed) / sizeof(allowed[0])) {
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
			       "--force-status %s: CODE[:N] with CODE one of 400 401 403 409 413 "
			       "429 500 502 503 504", val);
		return -1;
	}
	f->force_status = (int)code;
	f->force_left = n;
	return 1;
}

static int parse_reject(struct sim_faults *f, const char *val, struct spgw_error *err)
{
	const char *tilde = strchr(val, '~');
	struct sim_reject_rule *nr, *r;
	size_t n = tilde ? (size_t)(tilde - val) : 0;
	char msg[200];
	int rc;

	if (!tilde || n == 0 || n >= sizeof(r->field)) {
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
			       "--reject %s: give FIELD~REGEX, e.g. 'XMMC~测试'", val);
		return -1;
	}
	nr = spgw_realloc(f->rejects, (f->n_rejects + 1) * sizeof(*nr));
	if (!nr) {
		spgw_error_nomem(err, "reading --reject");
		return -1;
	}
	f->rejects = nr;
	r = &f->rejects[f->n_rejects];
	memset(r, 0, sizeof(*r));
	memcpy(r->field, val, n);
	r->field[n] = '\0';
	rc = regcomp(&r->re, tilde + 1, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &r->re, msg, sizeof(msg));
		spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "--reject %s: %s", val, msg);
		return -1;
	}
	r->pattern = spgw_strdup(tilde + 1);
	if (!r->pattern) {
		regfree(&r->re);
		spgw_error_nomem(err, "reading --reject");
		return -1;
	}
	f->n_rejects++;
	return 1;
}

int sim_faults_option(struct sim_faults *f, const char *opt, const char *val,
		      struct spgw_error *err)
{
	long v;
	int rc, m;

	if (strcmp(opt, "--fail-5xx") == 0)
		return parse_fraction(opt, val, &f->fail_5xx, err);
	if (strcmp(opt, "--fail-429") == 0)
		return parse_fraction(opt, val, &f->fail_429, err);
	if (strcmp(opt, "--hang") == 0)
		return parse_fraction(opt, val, &f->hang, err);
	if (strcmp(opt, "--reset") == 0)
		return parse_fraction(opt, val, &f->reset, err);
	if (strcmp(opt, "--reject-rate") == 0)
		return parse_fraction(opt, val, &f->reject_rate, err);
	if (strcmp(opt, "--retry-after") == 0)
		return parse_long(opt, val, 0, &f->retry_after, err);
	if (strcmp(opt, "--hang-seconds") == 0)
		return parse_long(opt, val, 0, &f->hang_seconds, err);
	if (strcmp(opt, "--slow-ms") == 0)
		return parse_long(opt, val, 0, &f->slow_ms, err);
	if (strcmp(opt, "--seed") == 0) {
		rc = parse_long(opt, val, 0, &v, err);
		if (rc > 0)
			f->seed = (uint64_t)v;
		return rc;
	}
	if (strcmp(opt, "--reject") == 0)
		return parse_reject(f, val, err);
	if (strcmp(opt, "--force-status") == 0)
		return parse_force(f, val, err);
	if (strcmp(opt, "--lie") == 0)
		return parse_lie(f, val, err);
	if (strcmp(opt, "--slow-query-ms") == 0)
		return parse_long(opt, val, 0, &f->slow_query_ms, err);
	if (strcmp(opt, "--lie-counts") == 0) {
		rc = parse_mode(opt, val, lie_counts_names,
				sizeof(lie_counts_names) / sizeof(lie_counts_names[0]), &m,
				&f->lie_counts_rate, err);
		if (rc > 0)
			f->lie_counts = (enum sim_lie_counts)m;
		return rc;
	}
	if (strcmp(opt, "--lie-keys") == 0) {
		rc = parse_mode(opt, val, lie_keys_names,
				sizeof(lie_keys_names) / sizeof(lie_keys_names[0]), &m,
				&f->lie_keys_rate, err);
		if (rc > 0)
			f->lie_keys = (enum sim_lie_keys)m;
		return rc;
	}
	return 0;
}

void sim_faults_describe(const struct sim_faults *f, char *buf, size_t size)
{
	size_t n = 0;

#define ADD(...)                                                                   \
	do {                                                                       \
		int w_ = snprintf(buf + n, size - n, __VA_ARGS__);                 \
		if (w_ > 0 && (size_t)w_ < size - n)                               \
			n += (size_t)w_;                                           \
	} while (0)
	buf[0] = '\0';
	if (f->fail_5xx > 0)
		ADD(" fail-5xx=%g", f->fail_5xx);
	if (f->fail_429 > 0)
		ADD(" fail-429=%g", f->fail_429);
	if (f->hang > 0)
		ADD(" hang=%g/%lds", f->hang, f->hang_seconds);
	if (f->reset > 0)
		ADD(" reset=%g", f->reset);
	if (f->slow_ms > 0)
		ADD(" slow=%ldms", f->slow_ms);
	if (f->reject_rate > 0)
		ADD(" reject-rate=%g", f->reject_rate);
	if (f->n_rejects)
		ADD(" reject-rules=%zu", f->n_rejects);
	if (f->force_status)
		ADD(" force-status=%d x %ld", f->force_status, f->force_left);
	if (f->lie)
		ADD(" lie=%s:%g", lie_names[f->lie], f->lie_rate);
	if (f->slow_query_ms > 0)
		ADD(" slow-query=%ldms", f->slow_query_ms);
	if (f->lie_counts)
		ADD(" lie-counts=%s:%g", lie_counts_names[f->lie_counts], f->lie_counts_rate);
	if (f->lie_keys)
		ADD(" lie-keys=%s:%g", lie_keys_names[f->lie_keys], f->lie_keys_rate);
	if (n)
		ADD(" seed=%llu", (unsigned long long)f->seed);
#undef ADD
}

/* splitmix64: small, good enough to spread faults, and the same on every machine. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double draw(struct sim_faults *f)
{
	f->rng += 0x9e3779b97f4a7c15ULL;
	return (double)(mix(f->seed ^ f->rng) >> 11) / 9007199254740992.0;
}

int sim_fault_query_strikes(struct sim_faults *f, double rate)
{
	double u;

	pthread_mutex_lock(&f->lock);
	f->rng_query += 0x9e3779b97f4a7c15ULL;
	/* another constant than the batches' stream, so the two never coincide */
	u = (double)(mix(f->seed ^ 0x5851f42d4c957f2dULL ^ mix(f->rng_query)) >> 11) /
	    9007199254740992.0;
	pthread_mutex_unlock(&f->lock);
	return u < rate;
}

/* A day entry of a counts answer. */
static json_t *day_entry(const char *date, long records, long valid)
{
	return json_pack("{s:s, s:I, s:I}", "date", date, "records", (json_int_t)records,
			 "valid", (json_int_t)valid);
}

void sim_fault_counts(enum sim_lie_counts m, const char *from, const char *to, json_t *days,
		      long *records, long *valid)
{
	char date[11];
	json_t *d;
	size_t i;

	switch (m) {
	case SIM_LIE_COUNTS_NONE:
		break;
	case SIM_LIE_COUNTS_SHIFT:
		/* the counts of each day answered under the next day's date */
		json_array_foreach(days, i, d) {
			sim_date_of(sim_days_of(json_string_value(json_object_get(d, "date"))) + 1,
				    date);
			json_object_set_new(d, "date", json_string(date));
		}
		break;
	case SIM_LIE_COUNTS_OUTSIDE:
		/* a record on the day before `from` and one on the day after `to`, in the
		 * totals too: only a client that checks each date against its range sees it */
		sim_date_of(sim_days_of(from) - 1, date);
		json_array_insert_new(days, 0, day_entry(date, 1, 1));
		sim_date_of(sim_days_of(to) + 1, date);
		json_array_append_new(days, day_entry(date, 1, 1));
		*records += 2;
		*valid += 2;
		break;
	case SIM_LIE_COUNTS_PLUS_ONE:
		/* one record more on the first day than its keys listing holds (on `from`
		 * when no day has records); the total agrees with the days */
		d = json_array_get(days, 0);
		if (d)
			json_object_set_new(d, "records",
					    json_integer(json_integer_value(
							 json_object_get(d, "records")) + 1));
		else
			json_array_append_new(days, day_entry(from, 1, 0));
		*records += 1;
		break;
	case SIM_LIE_COUNTS_TOTAL:
		*records += 1;
		break;
	}
}

void sim_fault_plan(struct sim_faults *f, struct sim_fault_plan *p)
{
	static const int five[] = { 500, 502, 503 };
	double u5, upick, u429, uhang, ureset, ulie;

	memset(p, 0, sizeof(*p));
	pthread_mutex_lock(&f->lock);
	f->requests++;
	u5 = draw(f);
	upick = draw(f);
	u429 = draw(f);
	uhang = draw(f);
	ureset = draw(f);
	ulie = draw(f);
	if (f->force_status && f->force_left != 0) {
		p->status = f->force_status;
		p->why = "--force-status";
		if (f->force_left > 0)
			f->force_left--;
	}
	pthread_mutex_unlock(&f->lock);
	if (p->status)
		return;
	if (uhang < f->hang) {
		p->hang = 1;
		return;
	}
	if (u5 < f->fail_5xx) {
		p->status = five[(int)(upick * 3) % 3];
		p->why = "--fail-5xx";
		return;
	}
	if (u429 < f->fail_429) {
		p->status = 429;
		p->why = "--fail-429";
		return;
	}
	p->reset = ureset < f->reset;
	if (f->lie && ulie < f->lie_rate)
		p->lie = f->lie;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h ^ 0xff) * 0x100000001b3ULL; /* a separator, so "ab"+"c" != "a"+"bc" */
}

size_t sim_fault_reject(const struct sim_faults *f, const char *region, const char *table,
			const char *key, const char *digest, const json_t *data, json_t *errors)
{
	char text[64], msg[400];
	const char *value;
	const json_t *v;
	size_t i, n = 0;
	uint64_t h;

	for (i = 0; i < f->n_rejects; i++) {
		v = json_object_get(data, f->rejects[i].field);
		if (json_is_string(v)) {
			value = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
			value = text;
		} else if (json_is_real(v)) {
			snprintf(text, sizeof(text), "%.17g", json_real_value(v));
			value = text;
		} else {
			continue;
		}
		if (regexec(&f->rejects[i].re, value, 0, NULL, 0) != 0)
			continue;
		snprintf(msg, sizeof(msg), "模拟平台拒收：字段 %s 的值匹配 --reject 规则 %.200s",
			 f->rejects[i].field, f->rejects[i].pattern);
		if (!json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field",
							     f->rejects[i].field, "code",
							     "format", "message", msg)))
			n++;
	}
	if (f->reject_rate > 0) {
		h = fnv(fnv(fnv(fnv(0xcbf29ce484222325ULL ^ mix(f->seed), region), table), key),
			digest);
		if ((double)(mix(h) >> 11) / 9007199254740992.0 < f->reject_rate &&
		    !json_array_append_new(errors,
					   json_pack("{s:s, s:s, s:s}", "field", "DFSJZJ", "code",
						     "required", "message",
						     "模拟平台按 --reject-rate 随机拒收此记录")))
			n++;
	}
	return n;
}

/* ---- the lying platform: the batch is stored, then the answer is spoiled ---- */

static void lie_receipt(struct sim_server *s, json_t *receipt, int counts)
{
	const char *sig = json_string_value(json_object_get(receipt, "sig"));
	unsigned char *raw = NULL;
	size_t n = 0;
	char *b64;

	if (counts) {
		/* a well-signed receipt whose counts are not those of the results */
		long acc = (long)json_integer_value(json_object_get(receipt, "accepted")) + 1;

		b64 = sim_receipt_sign(
			s, json_string_value(json_object_get(receipt, "batch_id")),
			json_string_value(json_object_get(receipt, "received_at")),
			json_string_value(json_object_get(receipt, "content_digest")), acc,
			(long)json_integer_value(json_object_get(receipt, "duplicate")),
			(long)json_integer_value(json_object_get(receipt, "rejected")));
		json_object_set_new(receipt, "accepted", json_integer(acc));
	} else {
		/* one bit flipped inside the signature: still base64, no longer valid */
		if (!sig || sim_b64_decode(sig, strlen(sig), &raw, &n) || n < 2)
			return;
		raw[n / 2] ^= 0x01;
		b64 = sim_b64_encode(raw, n);
		spgw_free(raw);
	}
	if (b64) {
		json_object_set_new(receipt, "sig", json_string(b64));
		spgw_free(b64);
	}
}

void sim_fault_lie(struct sim_server *s, enum sim_lie lie, struct sim_answer *a)
{
	static const char html[] = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";
	json_t *j, *results;

	switch (lie) {
	case SIM_LIE_NONE:
		return;
	case SIM_LIE_NOT_JSON:
		sim_answer_bytes(a, 200, html, sizeof(html) - 1);
		break;
	case SIM_LIE_TRUNCATED:
		a->len /= 2;
		break;
	default:
		j = json_loadb(a->body, a->len, 0, NULL);
		if (!j)
			return;
		results = json_object_get(j, "results");
		if (lie == SIM_LIE_RESULTS_FEWER && json_array_size(results) > 0)
			json_array_remove(results, json_array_size(results) - 1);
		else if (lie == SIM_LIE_RESULTS_MORE)
			json_array_append_new(results,
					      json_pack("{s:s, s:s}", "key",
							"national-sim-extra-result", "status",
							"accepted"));
		else if (lie == SIM_LIE_RECEIPT_SIG || lie == SIM_LIE_RECEIPT_COUNTS)
			lie_receipt(s, json_object_get(j, "receipt"),
				    lie == SIM_LIE_RECEIPT_COUNTS);
		sim_answer_json(a, 200, j);
		break;
	}
	snprintf(a->log + strlen(a->log), sizeof(a->log) - strlen(a->log), " [lie %s]",
		 lie_names[lie]);
}
