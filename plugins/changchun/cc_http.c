/*
 * HTTP: one exchange on libcurl's easy interface (one kept-alive connection per source), and
 * the loop that decides what each answer means.
 *
 *   no answer, timeout, 5xx       a passing fault: back off and ask again
 *   429                           wait what Retry-After says (at least the backoff)
 *   401 (or code 40101-40103)     the token expired or is unknown: get a new one, ask again
 *   401 on the token request      app_id/app_secret refused: ERROR, a person must fix it
 *   other 4xx, or a code != 0     the API refuses the request: ERROR with its msg
 *   2xx that is HTML, or JSON     a proxy's page or a cut answer: ask again
 *   cut short
 *
 * After max_retries the pull ends with RETRY and a message naming the entity, where the pull
 * stands and what came back; what was committed stays, and the next run goes on from there.
 * The token and the secret never reach a message or a log line (cc_mask), and the token
 * travels only in the Authorization header, never in a URL.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cc_int.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct cc_source *src = ud;

	if (cc_buf_add(&src->body, p, size * n, CC_MAX_BODY)) {
		src->body_over = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct cc_source *src = ud;
	size_t len = size * n, k;
	char v[128];

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new answer (after a 100 Continue, say): forget the last one's headers */
		src->content_type[0] = '\0';
		src->retry_after = -1;
		return len;
	}
	if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
		for (k = 13; k < len && p[k] == ' '; k++)
			;
		snprintf(src->content_type, sizeof(src->content_type), "%.*s",
			 (int)strcspn(p + k, "\r\n") > 120 ? 120 : (int)strcspn(p + k, "\r\n"),
			 p + k);
	} else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		snprintf(v, sizeof(v), "%.*s", (int)(len - 12 < 100 ? len - 12 : 100), p + 12);
		/* seconds; an HTTP-date (rare in APIs) counts as one backoff step */
		src->retry_after = strtol(v, NULL, 10) > 0 ? strtol(v, NULL, 10) : 0;
	}
	return len;
}

int cc_escape(struct cc_source *src, const char *s, char *out, size_t cap)
{
	char *e = curl_easy_escape(src->curl, s, 0);
	int rc = -1;

	if (e && strlen(e) < cap) {
		memcpy(out, e, strlen(e) + 1);
		rc = 0;
	}
	curl_free(e);
	return rc;
}

/* One request; the answer lands in src->status, ->body, ->content_type, ->retry_after. */
static CURLcode exchange(struct cc_source *src, const char *path, const char *post,
			 int with_token)
{
	struct curl_slist *h = NULL, *h2;
	struct cc_buf url = { 0 }, auth = { 0 };
	CURL *c = src->curl;
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	long connect = src->s.timeout < 10 ? src->s.timeout : 10;

	src->status = 0;
	src->body.len = 0;
	src->body_over = 0;
	src->content_type[0] = '\0';
	src->retry_after = -1;
	src->curl_err[0] = '\0';
	if (cc_buf_addf(&url, 8192, "%s/api/v2/", src->s.base_url) ||
	    cc_buf_add(&url, path, strlen(path), 8192))
		goto out;
	if (with_token && (cc_buf_add(&auth, "Authorization: Bearer ", 22, 1024) ||
			   cc_buf_add(&auth, src->token, strlen(src->token), 1024)))
		goto out;
	h2 = curl_slist_append(h, "Accept: application/json");
	if (h2)
		h = h2;
	if (post && (h2 = curl_slist_append(h, "Content-Type: application/json")))
		h = h2;
	if (with_token && (h2 = curl_slist_append(h, auth.p)))
		h = h2;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url.p);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, src->s.timeout * 1000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect * 1000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, src);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, src);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, src->curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "spgw-changchun/1.0");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (src->s.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, src->s.ca_file);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &src->status);
	/* the header list holds the token: not kept past the request */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
out:
	curl_slist_free_all(h);
	if (auth.p)
		memset(auth.p, 0, auth.len);
	cc_buf_free(&auth);
	cc_buf_free(&url);
	return cc;
}

void cc_answer_code(struct cc_source *src, long *code, char *msg, size_t cap)
{
	json_t *o = src->body.len ? json_loadb(src->body.p, src->body.len, 0, NULL) : NULL;
	json_t *c = json_object_get(o, "code"), *m = json_object_get(o, "msg");

	*code = json_is_integer(c) ? (long)json_integer_value(c) : -1;
	if (json_is_string(m))
		snprintf(msg, cap, "%.200s", json_string_value(m));
	else
		cc_describe(src, src->body.p, src->body.len, msg, cap);
	cc_mask(src, msg);
	json_decref(o);
}

static int is_html(const struct cc_source *src)
{
	size_t i = 0;

	if (strncasecmp(src->content_type, "text/html", 9) == 0)
		return 1;
	while (i < src->body.len && strchr(" \t\r\n", src->body.p[i]))
		i++;
	return i < src->body.len && src->body.p[i] == '<';
}

/* ---- the token ---- */

static enum cc_verdict parse_token(struct cc_source *src, void *ud, char *why, size_t cap)
{
	json_error_t je;
	json_t *o = json_loadb(src->body.p, src->body.len, 0, &je);
	json_t *d = json_object_get(o, "data");
	const char *t = json_string_value(json_object_get(d, "access_token"));
	json_t *e = json_object_get(d, "expires_in");
	long code, ttl;
	char msg[240];
	enum cc_verdict v = CC_AGAIN;

	(void)ud;
	if (!json_is_object(o)) {
		cc_describe(src, src->body.p, src->body.len, msg, sizeof(msg));
		snprintf(why, cap, "a token answer that is not JSON (%s): \"%s\"", je.text, msg);
		goto out;
	}
	cc_answer_code(src, &code, msg, sizeof(msg));
	if (code != 0) {
		snprintf(why, cap, "code %ld: %s", code, msg);
		v = CC_FATAL;
		goto out;
	}
	if (!t || !*t || strlen(t) > 1024 || strpbrk(t, "\r\n")) {
		snprintf(why, cap, "a token answer without a usable data.access_token");
		goto out;
	}
	ttl = json_is_integer(e) && json_integer_value(e) > 0 ? (long)json_integer_value(e) : 600;
	free(src->token);
	src->token = strdup(t);
	if (!src->token) {
		snprintf(why, cap, "out of memory keeping the token");
		goto out;
	}
	/* renewed a little before it runs out, so a page never travels with a dying token */
	src->token_until = cc_now_ms() + ttl * 1000 - (ttl > 100 ? 30000 : ttl * 300);
	v = CC_OK;
out:
	json_decref(o);
	return v;
}

/* A new token, asked for on the way to `what` `where` (named in messages). */
static int get_token(struct cc_source *src, const char *what, const char *where,
		     struct spgw_plugin_error *err)
{
	json_t *b = json_pack("{s:s,s:s}", "app_id", src->s.app_id, "app_secret", src->s.secret);
	char *body = b ? json_dumps(b, JSON_COMPACT) : NULL, on_the_way[400];
	int rc;

	json_decref(b);
	if (!body)
		return cc_fail(src, err, SPGW_PLUGIN_RETRY, "out of memory asking for a token");
	snprintf(on_the_way, sizeof(on_the_way), "for %s %s", what, where);
	rc = cc_request(src, "the token request", on_the_way, "auth/token", body, parse_token,
			NULL, err);
	memset(body, 0, strlen(body));
	free(body);
	return rc;
}

static void drop_token(struct cc_source *src)
{
	if (src->token)
		memset(src->token, 0, strlen(src->token));
	free(src->token);
	src->token = NULL;
}

/* ---- the loop ---- */

static long backoff_ms(struct cc_source *src, long attempt)
{
	long d = src->s.retry_base_ms;

	while (--attempt > 0 && d < CC_MAX_BACKOFF_MS)
		d *= 2;
	if (d > CC_MAX_BACKOFF_MS)
		d = CC_MAX_BACKOFF_MS;
	/* half fixed, half random: spread retries without ever waiting near zero */
	return d / 2 + (long)(rand_r(&src->rnd) % (unsigned)(d / 2 + 1));
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

int cc_request(struct cc_source *src, const char *what, const char *where, const char *path,
	       const char *post, cc_parse_fn parse, void *ud, struct spgw_plugin_error *err)
{
	int is_auth = post != NULL, reauth = 0, rc;
	long attempt = 0, wait, code;
	char last[400], msg[240];
	enum cc_verdict v;
	CURLcode cc;

	for (;;) {
		if (!is_auth && (!src->token || cc_now_ms() >= src->token_until)) {
			rc = get_token(src, what, where, err);
			if (rc)
				return rc;
		}
		cc = exchange(src, path, post, !is_auth);
		last[0] = '\0';
		wait = 0;
		if (src->body_over)
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "%s %s: the answer is larger than %u MiB; lower page_size",
				       what, where, CC_MAX_BODY >> 20);
		if (cc != CURLE_OK) {
			snprintf(last, sizeof(last), "no answer (%s%s%s)", curl_easy_strerror(cc),
				 src->curl_err[0] ? ": " : "", src->curl_err);
		} else if (src->status == 401 && is_auth) {
			cc_answer_code(src, &code, msg, sizeof(msg));
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "the API refused app_id \"%s\" with its app_secret (HTTP 401, "
				       "code %ld: %s): check app_id and app_secret_file",
				       src->s.app_id, code, msg);
		} else if (src->status == 401) {
			cc_answer_code(src, &code, msg, sizeof(msg));
			snprintf(last, sizeof(last), "HTTP 401, code %ld: %s", code, msg);
			goto reauth;
		} else if (src->status == 429) {
			cc_answer_code(src, &code, msg, sizeof(msg));
			snprintf(last, sizeof(last), "HTTP 429 (rate limited, Retry-After %ld s): %s",
				 src->retry_after, msg);
			wait = src->retry_after > 0 ? src->retry_after * 1000 : 0;
		} else if (src->status >= 500) {
			cc_answer_code(src, &code, msg, sizeof(msg));
			snprintf(last, sizeof(last), "HTTP %ld: %s", src->status, msg);
		} else if (src->status >= 400 || src->status < 200 || src->status >= 300) {
			cc_answer_code(src, &code, msg, sizeof(msg));
			return cc_fail(src, err, SPGW_PLUGIN_ERROR,
				       "%s %s: the API answered HTTP %ld (code %ld: %s); check "
				       "base_url and the API version (v2)",
				       what, where, src->status, code, msg);
		} else if (is_html(src)) {
			cc_describe(src, src->body.p, src->body.len, msg, sizeof(msg));
			snprintf(last, sizeof(last), "an HTML page instead of JSON (HTTP %ld, %.100s): "
				 "\"%.100s\"", src->status, src->content_type[0] ? src->content_type :
				 "no Content-Type", msg);
		} else {
			v = parse(src, ud, last, sizeof(last));
			if (v == CC_OK)
				return SPGW_PLUGIN_OK;
			if (v == CC_FATAL)
				return cc_fail(src, err, SPGW_PLUGIN_ERROR,
					       "%s %s: the API refused the request: %s", what, where,
					       last);
			if (v == CC_STOP)
				return cc_fail(src, err, SPGW_PLUGIN_RETRY, "%s %s: %s", what,
					       where, last);
			if (v == CC_REAUTH)
				goto reauth;
		}
		/* a passing fault: again, after a wait, while attempts remain */
		if (++attempt > src->s.max_retries)
			return cc_fail(src, err, SPGW_PLUGIN_RETRY,
				       "%s %s: gave up after %ld attempts; the last answer was %s. "
				       "Everything before was kept; the next run resumes here",
				       what, where, attempt, last);
		if (wait > CC_MAX_WAIT_MS)
			return cc_fail(src, err, SPGW_PLUGIN_RETRY,
				       "%s %s: the API asks to wait %ld s (%s); the next run resumes "
				       "here", what, where, wait / 1000, last);
		if (wait < backoff_ms(src, attempt))
			wait = backoff_ms(src, attempt);
		cc_log(src, SPGW_LOG_WARNING, "%s %s: %s; attempt %ld of %ld in %ld ms", what,
		       where, last, attempt + 1, src->s.max_retries + 1, wait);
		sleep_ms(wait);
		continue;
reauth:
		/* the token expired or the server forgot it (a restart): a new one, at once */
		drop_token(src);
		if (++reauth > CC_MAX_REAUTH)
			return cc_fail(src, err, SPGW_PLUGIN_RETRY,
				       "%s %s: the API refused %d new tokens in a row (%s); the next "
				       "run tries again", what, where, CC_MAX_REAUTH, last);
		cc_log(src, SPGW_LOG_INFO, "%s %s: the token is no longer accepted (%s); asking for "
		       "a new one", what, where, last);
	}
}
