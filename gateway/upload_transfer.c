/*
 * One HTTPS transfer of the uploader (see upload_int.h): the signed request's headers, the
 * body (gzipped when configured) fed through a read callback so the bandwidth cap can pause
 * it, and the answer and Retry-After collected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "log.h"
#include "mem.h"
#include "upload_int.h"

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	struct uploader *u = x->u;
	size_t n = size * nitems, left = x->wire_len - x->sent;

	if (n > left)
		n = left;
	if (u->n->max_upload_rate > 0 && n > 0) {
		if (u->tokens < 1) {
			x->paused = 1;
			return CURL_READFUNC_PAUSE;
		}
		if ((double)n > u->tokens)
			n = (size_t)u->tokens;
		u->tokens -= (double)n;
	}
	memcpy(buf, x->wire + x->sent, n);
	x->sent += n;
	u->st->bytes_sent += (int64_t)n;
	return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (spgw_buf_add(&x->answer, p, n, NULL))
		return 0; /* over the ceiling: curl fails the transfer, which is retried */
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (n > 5 && !strncasecmp(p, "Date:", 5)) {
		char v[64];
		size_t m = n - 5 < sizeof(v) - 1 ? n - 5 : sizeof(v) - 1;
		time_t when;

		memcpy(v, p + 5, m);
		v[m] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		when = curl_getdate(v + strspn(v, " \t"), NULL);
		x->date = when > 0 ? when : 0;
	}
	if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		char v[64];
		size_t m = n - 12 < sizeof(v) - 1 ? n - 12 : sizeof(v) - 1;
		char *s = v, *end;
		long secs;

		memcpy(v, p + 12, m);
		v[m] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		secs = strtol(s, &end, 10);
		if (end != s && !*end && secs >= 0) {
			x->retry_after = secs;
		} else {
			time_t when = curl_getdate(s, NULL);

			if (when > 0)
				x->retry_after = when > time(NULL) ? (long)(when - time(NULL)) : 0;
		}
	}
	return n;
}

static enum spgw_rc gzip_body(struct xfer *x, struct spgw_error *err)
{
	z_stream z;
	uLong bound;
	int zrc;

	memset(&z, 0, sizeof(z));
	/* 31: zlib's window with a gzip wrapper; level 1: the link is the bottleneck only
	 * when capped, and then any level helps; CPU is what the gateway is short of */
	if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return spgw_error_set(err, SPGW_E_NOMEM, NULL, 0, 0, "zlib could not start");
	bound = deflateBound(&z, (uLong)x->b->body_len);
	x->gz = spgw_malloc(bound);
	if (!x->gz) {
		deflateEnd(&z);
		return spgw_error_nomem(err, "compressing a batch");
	}
	z.next_in = x->b->body;
	z.avail_in = (uInt)x->b->body_len;
	z.next_out = x->gz;
	z.avail_out = (uInt)bound;
	zrc = deflate(&z, Z_FINISH);
	x->wire_len = z.total_out;
	deflateEnd(&z);
	if (zrc != Z_STREAM_END)
		return spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "zlib could not compress a "
				      "batch (%d)", zrc);
	x->wire = x->gz;
	return SPGW_OK;
}

static enum spgw_rc add_header(struct xfer *x, const char *name, const char *value,
			       struct spgw_error *err)
{
	char line[512];
	struct curl_slist *h;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	h = curl_slist_append(x->hdrs, line);
	if (!h)
		return spgw_error_nomem(err, "building request headers");
	x->hdrs = h;
	return SPGW_OK;
}

void spgw_upload_xfer_reset(struct xfer *x)
{
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	spgw_free(x->gz);
	x->gz = NULL;
	spgw_buf_free(&x->answer);
	x->busy = x->paused = 0;
	x->sent = 0;
	x->b = NULL;
}

enum spgw_rc spgw_upload_xfer_start(struct uploader *u, struct xfer *x, struct spgw_batch *b)
{
	const struct spgw_national *n = u->n;
	struct spgw_request_auth auth;
	enum spgw_rc rc;

	x->b = b;
	x->wire = b->body;
	x->wire_len = b->body_len;
	x->sent = 0;
	x->retry_after = -1;
	x->date = 0;
	x->errbuf[0] = '\0';
	spgw_buf_init(&x->answer, ANSWER_MAX, "national answer");
	if (!b->content_digest[0]) {
		/* once per batch, not per attempt: SM3 of 1.5 MB is ~5 ms */
		if (spgw_sign_alg_digest(u->alg) == SPGW_DIGEST_SM3) {
			char *b64 = spgw_base64_encode(b->sm3, sizeof(b->sm3));

			rc = b64 ? SPGW_OK : spgw_error_nomem(u->err, "a content digest");
			if (b64)
				snprintf(b->content_digest, sizeof(b->content_digest), "sm3=%s",
					 b64);
			spgw_free(b64);
		} else {
			rc = spgw_content_digest(SPGW_DIGEST_SHA256, b->body, b->body_len,
						 b->content_digest, u->err);
		}
		if (rc) {
			spgw_upload_xfer_reset(x);
			return rc;
		}
	}
	rc = spgw_sign_request_digest(u->key, n->gateway_id, "POST", u->path, b->content_digest,
				      time(NULL), &auth, u->err);
	if (!rc && n->gzip)
		rc = gzip_body(x, u->err);
	if (!rc)
		rc = add_header(x, "Content-Type", "application/json; charset=utf-8", u->err);
	if (!rc && n->gzip)
		rc = add_header(x, "Content-Encoding", "gzip", u->err);
	/* no "Expect: 100-continue": it costs a round trip (or a second) per batch */
	if (!rc)
		rc = add_header(x, "Expect", "", u->err);
	if (!rc)
		rc = add_header(x, "X-SPGW-Gateway", n->gateway_id, u->err);
	if (!rc)
		rc = add_header(x, "X-SPGW-Timestamp", auth.timestamp, u->err);
	if (!rc)
		rc = add_header(x, "X-SPGW-Nonce", auth.nonce, u->err);
	if (!rc)
		rc = add_header(x, "X-SPGW-Content-Digest", auth.content_digest, u->err);
	if (!rc)
		rc = add_header(x, "X-SPGW-Signature", auth.signature, u->err);
	if (rc) {
		spgw_upload_xfer_reset(x);
		return rc;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, u->url);
	curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->wire_len);
	curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	x->busy = 1;
	b->attempts++;
	u->st->batches_sent++;
	if (curl_multi_add_handle(u->multi, x->easy) != CURLM_OK) {
		spgw_upload_xfer_reset(x);
		return spgw_error_set(u->err, SPGW_E_NOMEM, NULL, 0, 0,
				      "libcurl could not start a transfer");
	}
	spgw_log(SPGW_LOG_DEBUG, b->id, "sending %lld %s records of %s (%zu bytes%s, attempt "
		 "%lld)", (long long)b->records, b->table, b->region, x->wire_len,
		 n->gzip ? " gzipped" : "", (long long)b->attempts);
	return SPGW_OK;
}

enum spgw_rc spgw_upload_xfer_setup(struct uploader *u, struct xfer *x)
{
	const struct spgw_national *n = u->n;

	x->easy = curl_easy_init();
	if (!x->easy)
		return spgw_error_nomem(u->err, "starting libcurl");
	x->u = u;
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)n->connect_timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, n->insecure ? 0L : 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, n->insecure ? 0L : 2L);
	if (n->ca_file)
		curl_easy_setopt(x->easy, CURLOPT_CAINFO, n->ca_file);
	if (n->client_cert) {
		curl_easy_setopt(x->easy, CURLOPT_SSLCERT, n->client_cert);
		curl_easy_setopt(x->easy, CURLOPT_SSLKEY, n->client_key);
	}
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "spgw/" SPGW_VERSION);
	return SPGW_OK;
}

void spgw_upload_refill(struct uploader *u)
{
	int64_t t = now_ms();
	double cap, rate = (double)u->n->max_upload_rate;
	int i;

	if (rate <= 0)
		return;
	/* a burst of at most 50 ms keeps the cap within a few percent over any second */
	cap = rate / 20 > 16384 ? rate / 20 : 16384;
	u->tokens += rate * (double)(t - u->refill_at) / 1000.0;
	if (u->tokens > cap)
		u->tokens = cap;
	u->refill_at = t;
	for (i = 0; i < u->nx && u->tokens >= 1; i++)
		if (u->x[i].busy && u->x[i].paused) {
			u->x[i].paused = 0;
			curl_easy_pause(u->x[i].easy, CURLPAUSE_CONT);
		}
}
