/* GET BASE/counts and BASE/keys, signed and checked (national_query.h). */
#include "national_query.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "sign.h"
#include "upload_answer.h"

/* A counts answer for 366 days, or a page of 5000 keys with digests, is well under this. */
#define QUERY_ANSWER_MAX (16u << 20)
/* Attempts of one request when the platform is busy or unreachable. */
#define QUERY_ATTEMPTS 5

struct spgw_national_client {
	const struct spgw_national *n;
	struct spgw_key *key;
	CURL *easy;
	char *base_path; /* the path of BASE, as signed: "/spgl/v3" */
	struct spgw_buf answer;
	long retry_after;
	int64_t requests, retries;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct spgw_national_client *c = ud;
	size_t n = size * nmemb;

	return spgw_buf_add(&c->answer, p, n, NULL) ? 0 : n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct spgw_national_client *c = ud;
	size_t n = size * nmemb;

	if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		long v = strtol(p + 12, NULL, 10);

		c->retry_after = v >= 0 ? v : -1;
	}
	return n;
}

enum spgw_rc spgw_national_open(const struct spgw_national *n,
				struct spgw_national_client **out, struct spgw_error *err)
{
	struct spgw_national_client *c;
	const char *host, *slash;
	enum spgw_rc rc;

	if (!n->url)
		return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				      "no \"national\" section with a \"url\": the national "
				      "platform cannot be asked (config/README.md)");
	c = spgw_calloc(1, sizeof(*c));
	if (!c)
		return spgw_error_nomem(err, "starting the national client");
	c->n = n;
	host = n->url + strlen("https://");
	slash = strchr(host, '/');
	c->base_path = spgw_strdup(slash ? slash : "");
	rc = c->base_path ? spgw_key_load_private(n->key, &c->key, err)
			  : spgw_error_nomem(err, "starting the national client");
	if (!rc && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		rc = spgw_error_set(err, SPGW_E_NOMEM, NULL, 0, 0, "libcurl could not start");
	if (!rc && !(c->easy = curl_easy_init()))
		rc = spgw_error_nomem(err, "starting libcurl");
	if (rc) {
		spgw_national_close(c);
		return rc;
	}
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)n->connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, n->insecure ? 0L : 1L);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, n->insecure ? 0L : 2L);
	if (n->ca_file)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, n->ca_file);
	if (n->client_cert) {
		curl_easy_setopt(c->easy, CURLOPT_SSLCERT, n->client_cert);
		curl_easy_setopt(c->easy, CURLOPT_SSLKEY, n->client_key);
	}
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "spgw/" SPGW_VERSION);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	*out = c;
	return SPGW_OK;
}

void spgw_national_close(struct spgw_national_client *c)
{
	if (!c)
		return;
	if (c->easy) {
		curl_easy_cleanup(c->easy);
		curl_global_cleanup();
	}
	spgw_buf_free(&c->answer);
	spgw_key_free(c->key);
	spgw_free(c->base_path);
	spgw_free(c);
}

void spgw_national_stats(const struct spgw_national_client *c, int64_t *requests,
			 int64_t *retries)
{
	*requests = c->requests;
	*retries = c->retries;
}

static void pause_before(const struct spgw_national_client *c, int attempt)
{
	int64_t ceiling = c->n->retry_base_ms, ms;
	unsigned int r;
	int i;

	for (i = 0; i < attempt && ceiling < c->n->retry_max_ms; i++)
		ceiling *= 2;
	if (ceiling > c->n->retry_max_ms)
		ceiling = c->n->retry_max_ms;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	ms = (int64_t)(r % (unsigned int)(ceiling + 1));
	if (c->retry_after > 0 && c->retry_after <= 60 && c->retry_after * 1000 > ms)
		ms = c->retry_after * 1000;
	usleep((useconds_t)(ms * 1000));
}

/*
 * GET BASE`path_query`, signed; on 200 the parsed JSON object in *out. What is asked
 * (`what`) goes into every message.
 */
static enum spgw_rc get(struct spgw_national_client *c, const char *path_query, const char *what,
			json_t **out, struct spgw_error *err)
{
	size_t plen = strlen(c->base_path) + strlen(path_query) + 1;
	size_t ulen = strlen(c->n->url) + strlen(path_query) + 1;
	char *path = spgw_malloc(plen), *url = spgw_malloc(ulen);
	enum spgw_rc rc = SPGW_OK;
	int attempt;

	*out = NULL;
	if (!path || !url) {
		spgw_free(path);
		spgw_free(url);
		return spgw_error_nomem(err, what);
	}
	snprintf(path, plen, "%s%s", c->base_path, path_query);
	snprintf(url, ulen, "%s%s", c->n->url, path_query);
	for (attempt = 0; attempt < QUERY_ATTEMPTS; attempt++) {
		struct spgw_request_auth auth;
		struct curl_slist *h = NULL, *t;
		char line[256], code[32], message[256];
		CURLcode cc;
		long status = 0;
		int transient;
		struct spgw_error e;

		memset(&e, 0, sizeof(e));
		if (attempt) {
			c->retries++;
			pause_before(c, attempt);
		}
		rc = spgw_sign_request(c->key, c->n->gateway_id, "GET", path, NULL, 0, time(NULL),
				       &auth, err);
		if (rc)
			break;
		snprintf(line, sizeof(line), "X-SPGW-Gateway: %s", c->n->gateway_id);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "X-SPGW-Timestamp: %s", auth.timestamp);
		h = (t = curl_slist_append(h, line)) ? t : h;
		snprintf(line, sizeof(line), "X-SPGW-Nonce: %s", auth.nonce);
		h = (t = curl_slist_append(h, line)) ? t : h;
		snprintf(line, sizeof(line), "X-SPGW-Content-Digest: %s", auth.content_digest);
		h = (t = curl_slist_append(h, line)) ? t : h;
		snprintf(line, sizeof(line), "X-SPGW-Signature: %s", auth.signature);
		h = (t = curl_slist_append(h, line)) ? t : h;
		spgw_buf_free(&c->answer);
		spgw_buf_init(&c->answer, QUERY_ANSWER_MAX, "national answer");
		c->retry_after = -1;
		c->errbuf[0] = '\0';
		curl_easy_setopt(c->easy, CURLOPT_URL, url);
		curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, h);
		c->requests++;
		cc = curl_easy_perform(c->easy);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(h);
		if (cc != CURLE_OK) {
			transient = cc != CURLE_PEER_FAILED_VERIFICATION &&
				    cc != CURLE_SSL_CACERT_BADFILE && cc != CURLE_SSL_CERTPROBLEM;
			rc = spgw_error_set(err, SPGW_E_RETRY, c->n->url, 0, 0,
					    "asking the national platform for %s: %s: %s%s", what,
					    curl_easy_strerror(cc),
					    c->errbuf[0] ? c->errbuf : "no detail",
					    transient ? "" : " (check \"ca_file\")");
			if (!transient || attempt + 1 == QUERY_ATTEMPTS)
				break;
			memset(err, 0, sizeof(*err));
			continue;
		}
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200) {
			json_error_t je;

			*out = json_loadb(c->answer.data ? c->answer.data : "", c->answer.len,
					  JSON_REJECT_DUPLICATES, &je);
			if (!json_is_object(*out)) {
				json_decref(*out);
				*out = NULL;
				rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
						    "the national platform's answer for %s is not a "
						    "JSON object (%s)",
						    what, je.text[0] ? je.text : "another JSON value");
			}
			break;
		}
		spgw_answer_error(c->answer.data, c->answer.len, code, message);
		transient = status == 429 || status >= 500;
		rc = spgw_error_set(err, transient ? SPGW_E_RETRY : SPGW_E_INVALID, c->n->url, 0, 0,
				    "asking the national platform for %s: HTTP %ld %s%s%s%s", what,
				    status, code, message[0] ? ": " : "", message,
				    status == 401 || status == 403
					    ? " (check gateway_id, the key and its registration)"
					    : "");
		if (!transient || attempt + 1 == QUERY_ATTEMPTS)
			break;
		memset(err, 0, sizeof(*err));
	}
	spgw_free(path);
	spgw_free(url);
	return rc;
}

static int is_day(const char *s)
{
	int y, m, d;
	char tail;

	return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
	       m >= 1 && m <= 12 && d >= 1 && d <= 31 && s[4] == '-' && s[7] == '-';
}

/* The answer must say it is about what was asked. */
static enum spgw_rc echo(struct spgw_national_client *c, const json_t *a, const char *member,
			 const char *want, const char *what, struct spgw_error *err)
{
	const char *got = json_string_value(json_object_get(a, member));

	if (got && !strcmp(got, want))
		return SPGW_OK;
	return spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
			      "the national platform answered %s with %s \"%s\", not \"%s\": "
			      "not taken as an answer",
			      what, member, got ? got : "(none)", want);
}

static int count_value(const json_t *v, int64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (int64_t)json_integer_value(v);
	return 1;
}

enum spgw_rc spgw_national_counts(struct spgw_national_client *c, const char *region,
				  const char *table, const char *from, const char *to,
				  spgw_national_count_fn fn, void *ud, struct spgw_error *err)
{
	char q[256], what[160], prev[16] = "";
	json_t *a = NULL, *days, *d;
	int64_t sum = 0, sum_valid = 0, total, total_valid;
	enum spgw_rc rc;
	size_t i;

	snprintf(what, sizeof(what), "the counts of %s %s from %s to %s", region, table, from, to);
	snprintf(q, sizeof(q), "/counts?region=%s&table=%s&from=%s&to=%s", region, table, from, to);
	rc = get(c, q, what, &a, err);
	if (!rc)
		rc = echo(c, a, "region", region, what, err);
	if (!rc)
		rc = echo(c, a, "table", table, what, err);
	days = json_object_get(a, "days");
	if (!rc && !json_is_array(days))
		rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
				    "the national platform answered %s without a \"days\" array",
				    what);
	json_array_foreach(days, i, d) {
		const char *day = json_string_value(json_object_get(d, "date"));
		int64_t records, valid;

		if (rc)
			break;
		if (!is_day(day) || !count_value(json_object_get(d, "records"), &records) ||
		    !count_value(json_object_get(d, "valid"), &valid) || valid > records) {
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s with a malformed day "
					    "(days[%zu]: a date and non-negative records >= valid "
					    "expected)",
					    what, i);
			break;
		}
		if (strcmp(day, from) < 0 || strcmp(day, to) > 0) {
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s with a count for %s, "
					    "a day not asked: the answer is not taken as agreement",
					    what, day);
			break;
		}
		if (strcmp(day, prev) <= 0) {
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s with %s %s: days "
					    "repeated or out of order",
					    what, day, prev[0] ? "after" : "");
			break;
		}
		snprintf(prev, sizeof(prev), "%s", day);
		sum += records;
		sum_valid += valid;
		rc = fn(ud, day, records, valid);
	}
	if (!rc) {
		const json_t *tot = json_object_get(a, "total");

		if (!json_is_object(tot) || !count_value(json_object_get(tot, "records"), &total) ||
		    !count_value(json_object_get(tot, "valid"), &total_valid))
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s without a total",
					    what);
		else if (total != sum || total_valid != sum_valid)
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s with a total of %lld "
					    "(%lld valid) but days that add up to %lld (%lld valid)",
					    what, (long long)total, (long long)total_valid,
					    (long long)sum, (long long)sum_valid);
	}
	json_decref(a);
	return rc;
}

enum spgw_rc spgw_national_keys(struct spgw_national_client *c, const char *region,
				const char *table, const char *day, spgw_national_key_fn fn,
				void *ud, struct spgw_error *err)
{
	char what[160], *last = NULL;
	enum spgw_rc rc = SPGW_OK;
	int page;

	snprintf(what, sizeof(what), "the keys of %s %s on %s", region, table, day);
	for (page = 0; !rc && page < SPGW_NATIONAL_MAX_PAGES; page++) {
		char *esc = last ? curl_easy_escape(c->easy, last, 0) : NULL;
		size_t qn = 128 + strlen(region) + strlen(table) + (esc ? strlen(esc) : 0);
		char *q = spgw_malloc(qn);
		json_t *a = NULL, *keys, *k;
		const char *next;
		size_t i;

		if (!q || (last && !esc)) {
			curl_free(esc);
			spgw_free(q);
			rc = spgw_error_nomem(err, what);
			break;
		}
		snprintf(q, qn, "/keys?region=%s&table=%s&date=%s%s%s", region, table, day,
			 esc ? "&after=" : "", esc ? esc : "");
		curl_free(esc);
		rc = get(c, q, what, &a, err);
		spgw_free(q);
		if (!rc)
			rc = echo(c, a, "region", region, what, err);
		if (!rc)
			rc = echo(c, a, "table", table, what, err);
		if (!rc)
			rc = echo(c, a, "date", day, what, err);
		keys = json_object_get(a, "keys");
		if (!rc && !json_is_array(keys))
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform answered %s without a \"keys\" "
					    "array",
					    what);
		json_array_foreach(keys, i, k) {
			const char *key = json_string_value(json_object_get(k, "key"));
			const char *digest = json_string_value(json_object_get(k, "digest"));

			if (rc)
				break;
			if (!key || !digest) {
				rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
						    "the national platform answered %s with keys[%zu] "
						    "lacking its key or digest",
						    what, i);
				break;
			}
			/* strictly increasing by code point (bytes of UTF-8), across pages:
			 * a repeat or a step back means the paging repeats or loops */
			if (last && strcmp(key, last) <= 0) {
				rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
						    "the national platform's listing of %s %s: key "
						    "\"%.80s\" comes after \"%.80s\" (page %d); the "
						    "listing is not taken",
						    what, strcmp(key, last) ? "goes back" : "repeats",
						    key, last, page + 1);
				break;
			}
			spgw_free(last);
			last = spgw_strdup(key);
			if (!last) {
				rc = spgw_error_nomem(err, what);
				break;
			}
			rc = fn(ud, key, digest);
		}
		next = json_string_value(json_object_get(a, "next"));
		if (!rc && next && (!last || strcmp(next, last) != 0))
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform's listing of %s: \"next\" is "
					    "\"%.80s\", not the last key of its page; the listing is "
					    "not taken",
					    what, next);
		if (!rc && next && json_array_size(keys) == 0)
			rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
					    "the national platform's listing of %s: an empty page "
					    "with a \"next\"",
					    what);
		json_decref(a);
		if (!rc && !next)
			break;
	}
	if (!rc && page >= SPGW_NATIONAL_MAX_PAGES)
		rc = spgw_error_set(err, SPGW_E_INVALID, c->n->url, 0, 0,
				    "the national platform's listing of %s did not end after %d "
				    "pages",
				    what, SPGW_NATIONAL_MAX_PAGES);
	spgw_free(last);
	return rc;
}
