/*
 * spgw-sim-client: a gateway in miniature for testing the national-platform simulator. It
 * signs one request exactly as PROTOCOL.md §1 says (with the simulator's own EVP code in
 * sim_crypto.c, not the gateway's), sends it with libcurl, prints the status and body, and
 * can check a batch answer's receipt with the platform's public key. `bench` sends many
 * generated batches over keep-alive connections and reports records per second.
 *
 *   spgw-sim-client --dir DIR --gateway ID --key KEY --url https://127.0.0.1:PORT
 *       --method POST --path /spgl/v3/batches --body FILE [--nonce HEX] [--timestamp N]
 *       [--gzip] [--header 'Name: value'] [--corrupt-sig] [--out FILE] [--include]
 *       [--verify-receipt] [--print-headers]
 *   spgw-sim-client bench --dir DIR --gateway ID --key KEY --url URL --template RECORD.json
 *       --table T --region R [--records 1000] [--batches 100] [--conns 2] [--gzip]
 *       [--record-bytes 1500] [--day YYYY-MM-DD]
 *   spgw-sim-client make-batch [--alg sm2-sm3] [--batch-id ID] [--region R] [--table T]
 *       [--day YYYY-MM-DD] RECORD.json...      (a batch body on stdout, digests computed)
 *   spgw-sim-client scan-counts --dir DIR --gateway ID --key KEY --url URL
 *       --regions R1,R2 --tables T1,T2 --from YYYY-MM-DD --to YYYY-MM-DD [--list]
 *   spgw-sim-client scan-keys --dir DIR --gateway ID --key KEY --url URL --region R
 *       --table T --date YYYY-MM-DD [--out FILE] [--blind] [--max-pages N]
 *   spgw-sim-client make-ledger ...            (sim_ledger_gen.c)
 *
 * scan-counts and scan-keys read what reconciliation reads, over one keep-alive connection,
 * checking every answer as a careful client must (dates inside the range asked, days adding
 * up to the total; keys ascending and after `after`, `next` the last key listed); they exit
 * 5 naming the first answer that fails, and time the whole. --blind follows `next` without
 * checks, to show what a careless client would make of a lying platform.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "buf.h"
#include "canonical.h"
#include "mem.h"
#include "sim.h"

/* Exit statuses the test script reads. */
enum { EXIT_ANSWERED = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_RECEIPT = 3,
       EXIT_TRANSPORT = 4, EXIT_REFUSED = 5, EXIT_PAGES = 6 };

#define MAX_HEADERS 16
#define MAX_ANSWER (64u * 1024 * 1024)

struct opts {
	const char *dir, *gateway, *key_path, *url, *method, *path, *body_path;
	const char *nonce, *timestamp, *out_path;
	const char *headers[MAX_HEADERS];
	int n_headers;
	int gzip, corrupt_sig, include, verify, print_headers;
	long timeout;
	/* bench and make-batch */
	const char *template_path, *table, *region, *alg_name, *batch_id, *day;
	long records, batches, conns, record_bytes;
	/* scan-counts and scan-keys */
	const char *regions, *tables, *from, *to, *date;
	int list, blind;
	long max_pages;
};

struct signed_req {
	char timestamp[24], nonce[33], digest[80], signature[300];
};

/* ---- signing (§1) ---- */

static int sign_request(EVP_PKEY *k, enum sim_alg alg, const char *gateway, const char *method,
			const char *path, const void *body, size_t len, const struct opts *o,
			struct signed_req *sr)
{
	unsigned char md[32], rnd[16], *sig = NULL;
	char *b64, *msg;
	size_t sig_len, n;
	int rc = -1;

	if (sim_digest(sim_alg_digest(alg), body, len, md) || !(b64 = sim_b64_encode(md, 32)))
		return -1;
	snprintf(sr->digest, sizeof(sr->digest), "%s=%s", sim_alg_digest(alg), b64);
	spgw_free(b64);
	if (o && o->timestamp)
		snprintf(sr->timestamp, sizeof(sr->timestamp), "%s", o->timestamp);
	else
		snprintf(sr->timestamp, sizeof(sr->timestamp), "%lld", (long long)time(NULL));
	if (o && o->nonce) {
		snprintf(sr->nonce, sizeof(sr->nonce), "%s", o->nonce);
	} else {
		if (sim_random(rnd, sizeof(rnd)))
			return -1;
		sim_hex(rnd, sizeof(rnd), sr->nonce);
	}
	n = strlen(method) + strlen(path) + strlen(gateway) + strlen(sr->timestamp) +
	    strlen(sr->nonce) + strlen(sr->digest) + 16;
	msg = malloc(n);
	if (!msg)
		return -1;
	n = (size_t)snprintf(msg, n, "SPGW1\n%s\n%s\n%s\n%s\n%s\n%s", method, path, gateway,
			     sr->timestamp, sr->nonce, sr->digest);
	if (sim_sign(k, alg, msg, n, &sig, &sig_len))
		goto out;
	if (o && o->corrupt_sig)
		sig[sig_len / 2] ^= 0x01;
	b64 = sim_b64_encode(sig, sig_len);
	if (!b64)
		goto out;
	snprintf(sr->signature, sizeof(sr->signature), "alg=%s, sig=%s", sim_alg_name(alg), b64);
	spgw_free(b64);
	rc = 0;
out:
	spgw_free(sig);
	free(msg);
	return rc;
}

static int gzip_body(const char *in, size_t n, char **out, size_t *out_len)
{
	z_stream z;
	size_t cap = n + n / 100 + 1024;
	char *buf = malloc(cap);
	int zr;

	if (!buf)
		return -1;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return -1;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)buf;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* ---- sending ---- */

struct answer {
	char *body;
	size_t len, cap;
	char headers[4096];
	size_t hlen;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = size * n;

	if (a->len + len + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 65536;
		char *nb;

		while (cap < a->len + len + 1)
			cap *= 2;
		if (cap > MAX_ANSWER)
			return 0;
		nb = realloc(a->body, cap);
		if (!nb)
			return 0;
		a->body = nb;
		a->cap = cap;
	}
	memcpy(a->body + a->len, p, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = size * n;

	/* a new status line (after 100 Continue) starts the headers again */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0)
		a->hlen = 0;
	if (a->hlen + len < sizeof(a->headers)) {
		memcpy(a->headers + a->hlen, p, len);
		a->hlen += len;
		a->headers[a->hlen] = '\0';
	}
	return len;
}

/* Whether a --header replaces (or, as "Name:", removes) the header `name`. */
static int overridden(const struct opts *o, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; o && i < o->n_headers; i++) {
		if (strncasecmp(o->headers[i], name, n) == 0 && o->headers[i][n] == ':')
			return 1;
	}
	return 0;
}

/* Send one signed request on `curl` (reused for keep-alive). Returns the HTTP status, or -1
 * for a transport error (message in errbuf). */
static long send_request(CURL *curl, const char *dir, const char *url, const char *method,
			 const char *path, const char *gateway, const struct signed_req *sr,
			 const char *body, size_t len, int gzipped, const struct opts *o,
			 struct answer *ans, char errbuf[CURL_ERROR_SIZE])
{
	struct curl_slist *h = NULL;
	char line[400], full[8192], ca[4200];
	long status = -1;
	int i;

	snprintf(full, sizeof(full), "%s%s", url, path);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if (!overridden(o, "X-SPGW-Gateway")) {
		snprintf(line, sizeof(line), "X-SPGW-Gateway: %s", gateway);
		h = curl_slist_append(h, line);
	}
	if (!overridden(o, "X-SPGW-Timestamp")) {
		snprintf(line, sizeof(line), "X-SPGW-Timestamp: %s", sr->timestamp);
		h = curl_slist_append(h, line);
	}
	if (!overridden(o, "X-SPGW-Nonce")) {
		snprintf(line, sizeof(line), "X-SPGW-Nonce: %s", sr->nonce);
		h = curl_slist_append(h, line);
	}
	if (!overridden(o, "X-SPGW-Content-Digest")) {
		snprintf(line, sizeof(line), "X-SPGW-Content-Digest: %s", sr->digest);
		h = curl_slist_append(h, line);
	}
	if (!overridden(o, "X-SPGW-Signature")) {
		snprintf(line, sizeof(line), "X-SPGW-Signature: %s", sr->signature);
		h = curl_slist_append(h, line);
	}
	if (body && strcmp(method, "POST") == 0 && !overridden(o, "Content-Type"))
		h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	if (gzipped && !overridden(o, "Content-Encoding"))
		h = curl_slist_append(h, "Content-Encoding: gzip");
	/* curl's own Expect: 100-continue costs a round trip per batch */
	h = curl_slist_append(h, "Expect:");
	for (i = 0; o && i < o->n_headers; i++)
		h = curl_slist_append(h, o->headers[i]);
	curl_easy_setopt(curl, CURLOPT_URL, full);
	curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, ans);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, ans);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, o && o->timeout ? o->timeout : 120L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	errbuf[0] = '\0';
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

/* ---- receipt check ---- */

static int fail_receipt(const char *why)
{
	printf("receipt: FAILED: %s\n", why);
	return EXIT_RECEIPT;
}

/* Check a 200 batch answer against the request it answers (§2). */
static int verify_answer(const char *dir, const char *body, size_t body_len,
			 const char *sent_digest, const char *answer, size_t answer_len)
{
	struct spgw_error err;
	char path[4200], *msg = NULL, why[300];
	json_t *req = json_loadb(body, body_len, 0, NULL);
	json_t *ans = json_loadb(answer, answer_len, 0, NULL);
	json_t *results, *records, *receipt, *r;
	const char *st, *sig, *alg_name, *at;
	long counts[3] = { 0, 0, 0 };
	unsigned char *raw = NULL;
	size_t i, raw_len, n;
	EVP_PKEY *k = NULL;
	enum sim_alg alg;
	int rc;

	memset(&err, 0, sizeof(err));
	if (!ans) {
		rc = fail_receipt("the answer is not JSON");
		goto out;
	}
	results = json_object_get(ans, "results");
	records = json_object_get(req, "records");
	receipt = json_object_get(ans, "receipt");
	if (!json_is_array(results) || !json_is_object(receipt)) {
		rc = fail_receipt("the answer lacks results or receipt");
		goto out;
	}
	if (!json_equal(json_object_get(ans, "batch_id"), json_object_get(req, "batch_id")) ||
	    !json_equal(json_object_get(receipt, "batch_id"), json_object_get(req, "batch_id"))) {
		rc = fail_receipt("batch_id differs from the request's");
		goto out;
	}
	if (json_array_size(results) != json_array_size(records)) {
		snprintf(why, sizeof(why), "%zu results for %zu records", json_array_size(results),
			 json_array_size(records));
		rc = fail_receipt(why);
		goto out;
	}
	json_array_foreach(results, i, r) {
		if (!json_equal(json_object_get(r, "key"),
				json_object_get(json_array_get(records, i), "key"))) {
			snprintf(why, sizeof(why), "results[%zu] is not for records[%zu]", i, i);
			rc = fail_receipt(why);
			goto out;
		}
		st = json_string_value(json_object_get(r, "status"));
		if (st && strcmp(st, "accepted") == 0)
			counts[0]++;
		else if (st && strcmp(st, "duplicate") == 0)
			counts[1]++;
		else if (st && strcmp(st, "rejected") == 0 &&
			 json_array_size(json_object_get(r, "errors")))
			counts[2]++;
		else {
			snprintf(why, sizeof(why), "results[%zu] has no valid status", i);
			rc = fail_receipt(why);
			goto out;
		}
	}
	if (json_integer_value(json_object_get(receipt, "accepted")) != counts[0] ||
	    json_integer_value(json_object_get(receipt, "duplicate")) != counts[1] ||
	    json_integer_value(json_object_get(receipt, "rejected")) != counts[2]) {
		rc = fail_receipt("the receipt's counts differ from the results");
		goto out;
	}
	if (!json_is_string(json_object_get(receipt, "content_digest")) ||
	    strcmp(json_string_value(json_object_get(receipt, "content_digest")), sent_digest)) {
		rc = fail_receipt("content_digest is not the one sent");
		goto out;
	}
	at = json_string_value(json_object_get(receipt, "received_at"));
	if (!at || strlen(at) != 20 || at[10] != 'T' || at[19] != 'Z') {
		rc = fail_receipt("received_at is not RFC 3339 UTC with seconds and Z");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/national.pub", dir);
	k = sim_key_load_public(path, &err);
	alg_name = json_string_value(json_object_get(receipt, "alg"));
	sig = json_string_value(json_object_get(receipt, "sig"));
	if (!k || sim_key_alg(k, &alg) || !alg_name || strcmp(alg_name, sim_alg_name(alg)) ||
	    !sig || sim_b64_decode(sig, strlen(sig), &raw, &raw_len)) {
		rc = fail_receipt("alg is not the national key's, or sig is not base64");
		goto out;
	}
	n = strlen(at) + strlen(sent_digest) + 300;
	msg = malloc(n);
	if (!msg) {
		rc = fail_receipt("out of memory");
		goto out;
	}
	n = (size_t)snprintf(msg, n, "SPGW1-RECEIPT\n%s\n%s\n%s\n%ld\n%ld\n%ld",
			     json_string_value(json_object_get(receipt, "batch_id")), at,
			     sent_digest, counts[0], counts[1], counts[2]);
	if (!sim_verify(k, alg, msg, n, raw, raw_len)) {
		rc = fail_receipt("the signature does not verify with national.pub");
		goto out;
	}
	printf("receipt: verified (%ld accepted, %ld duplicate, %ld rejected)\n", counts[0],
	       counts[1], counts[2]);
	rc = EXIT_ANSWERED;
out:
	free(msg);
	spgw_free(raw);
	EVP_PKEY_free(k);
	json_decref(req);
	json_decref(ans);
	return rc;
}

/* ---- one request ---- */

static int run_one(const struct opts *o)
{
	struct spgw_error err;
	struct signed_req sr;
	struct answer ans;
	char errbuf[CURL_ERROR_SIZE], *body = NULL, *gz = NULL;
	size_t len = 0, gz_len = 0;
	EVP_PKEY *k;
	enum sim_alg alg;
	CURL *curl = NULL;
	long status;
	int rc = EXIT_FAILED;

	memset(&err, 0, sizeof(err));
	memset(&ans, 0, sizeof(ans));
	k = sim_key_load_private(o->key_path, &err);
	if (!k) {
		fprintf(stderr, "spgw-sim-client: %s: %s\n", err.source, err.text);
		return EXIT_FAILED;
	}
	sim_key_alg(k, &alg);
	if (o->body_path && sim_read_file(o->body_path, 64u << 20, &body, &len, &err)) {
		fprintf(stderr, "spgw-sim-client: %s: %s\n", err.source, err.text);
		goto out;
	}
	if (sign_request(k, alg, o->gateway, o->method, o->path, body, len, o, &sr)) {
		fprintf(stderr, "spgw-sim-client: signing failed\n");
		goto out;
	}
	if (o->print_headers) {
		printf("X-SPGW-Gateway: %s\nX-SPGW-Timestamp: %s\nX-SPGW-Nonce: %s\n"
		       "X-SPGW-Content-Digest: %s\nX-SPGW-Signature: %s\n", o->gateway,
		       sr.timestamp, sr.nonce, sr.digest, sr.signature);
		rc = EXIT_ANSWERED;
		goto out;
	}
	if (o->gzip && gzip_body(body ? body : "", len, &gz, &gz_len)) {
		fprintf(stderr, "spgw-sim-client: gzip failed\n");
		goto out;
	}
	curl = curl_easy_init();
	if (!curl)
		goto out;
	status = send_request(curl, o->dir, o->url, o->method, o->path, o->gateway, &sr,
			      o->gzip ? gz : body, o->gzip ? gz_len : len, o->gzip, o, &ans,
			      errbuf);
	if (status < 0) {
		printf("TRANSPORT %s\n", errbuf);
		rc = EXIT_TRANSPORT;
		goto out;
	}
	printf("HTTP %ld\n", status);
	if (o->include) {
		/* the header block minus its status line */
		const char *p = strchr(ans.headers, '\n');

		for (p = p ? p + 1 : ""; *p; p++)
			if (*p != '\r')
				putchar(*p);
	}
	fwrite(ans.body ? ans.body : "", 1, ans.len, stdout);
	printf("\n");
	if (o->out_path) {
		FILE *f = fopen(o->out_path, "wb");

		if (!f || fwrite(ans.body ? ans.body : "", 1, ans.len, f) != ans.len) {
			fprintf(stderr, "spgw-sim-client: cannot write %s\n", o->out_path);
			if (f)
				fclose(f);
			goto out;
		}
		fclose(f);
	}
	rc = EXIT_ANSWERED;
	if (o->verify)
		rc = status == 200 ? verify_answer(o->dir, body ? body : "", len, sr.digest,
						   ans.body ? ans.body : "", ans.len)
				   : fail_receipt("no 200 answer to check");
out:
	if (curl)
		curl_easy_cleanup(curl);
	free(ans.body);
	free(gz);
	spgw_free(body);
	EVP_PKEY_free(k);
	return rc;
}

/* ---- bench ---- */

struct bench {
	const struct opts *o;
	EVP_PKEY *k;
	enum sim_alg alg;
	char **bodies;
	size_t *lens;
	atomic_long next;
	atomic_long ok_records, failed;
};

/* Grow the template's JSGMJNR until its canonical form reaches `target` bytes. */
static int pad_record(json_t *rec, long target)
{
	struct spgw_buf b;
	const char *txt = json_string_value(json_object_get(rec, "JSGMJNR"));
	char s[4100];
	int rc = 0;

	spgw_buf_init(&b, 1u << 20, "record");
	snprintf(s, sizeof(s), "%s", txt ? txt : "");
	for (;;) {
		spgw_buf_reset(&b);
		json_object_set_new(rec, "JSGMJNR", json_string(s));
		if (spgw_canonical(rec, &b, NULL)) {
			rc = -1;
			break;
		}
		if ((long)b.len >= target || strlen(s) + 4 > 3990)
			break;
		strcat(s, "扩");
	}
	spgw_buf_free(&b);
	return rc;
}

/* Batch `bi` of the run: records with distinct keys and project codes. */
static char *make_batch(const struct opts *o, enum sim_alg alg, const json_t *tmpl, long run,
			long bi, size_t *len)
{
	json_t *batch, *records = json_array(), *rec;
	struct spgw_buf b;
	char id[80], key[80], xmdm[32], day[11], hex[65], digest[80], *text;
	enum spgw_digest_alg dalg = alg == SIM_ALG_SM2_SM3 ? SPGW_DIGEST_SM3 : SPGW_DIGEST_SHA256;
	unsigned long n;
	long i;

	spgw_buf_init(&b, 1u << 20, "record");
	for (i = 0; i < o->records; i++) {
		n = (unsigned long)(bi * o->records + i);
		rec = json_deep_copy(tmpl);
		snprintf(key, sizeof(key), "BENCH-%ld-%lu", run, n);
		snprintf(xmdm, sizeof(xmdm), "2026-220104-47-01-%06lu", n % 1000000);
		if (o->day)
			snprintf(day, sizeof(day), "%s", o->day);
		else
			snprintf(day, sizeof(day), "2026-%02lu-%02lu", 1 + n % 12, 1 + n % 28);
		json_object_set_new(rec, "DFSJZJ", json_string(key));
		json_object_set_new(rec, "XMDM", json_string(xmdm));
		json_object_set_new(rec, "GCDM", json_string(xmdm));
		json_object_set_new(rec, "SBSJ", json_string(day));
		spgw_buf_reset(&b);
		spgw_canonical(rec, &b, NULL);
		spgw_digest_hex(dalg, b.data, b.len, hex, NULL);
		snprintf(digest, sizeof(digest), "%s:%s", spgw_digest_name(dalg), hex);
		json_array_append_new(records, json_pack("{s:s, s:s, s:s, s:o}", "key", key, "day",
							 day, "digest", digest, "data", rec));
	}
	spgw_buf_free(&b);
	snprintf(id, sizeof(id), "bench-%ld-%06ld", run, bi);
	batch = json_pack("{s:s, s:s, s:s, s:s, s:o}", "batch_id", id, "region", o->region,
			  "schema", "spgl-v3", "table", o->table, "records", records);
	text = json_dumps(batch, JSON_COMPACT);
	json_decref(batch);
	*len = text ? strlen(text) : 0;
	return text;
}

static void *bench_worker(void *ud)
{
	struct bench *bn = ud;
	const struct opts *o = bn->o;
	CURL *curl = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE], *gz;
	struct signed_req sr;
	struct answer ans;
	size_t gz_len;
	long bi, status;
	json_t *j;

	while (curl && (bi = atomic_fetch_add(&bn->next, 1)) < o->batches) {
		memset(&ans, 0, sizeof(ans));
		gz = NULL;
		if (sign_request(bn->k, bn->alg, o->gateway, "POST", o->path, bn->bodies[bi],
				 bn->lens[bi], NULL, &sr) ||
		    (o->gzip && gzip_body(bn->bodies[bi], bn->lens[bi], &gz, &gz_len))) {
			atomic_fetch_add(&bn->failed, 1);
			continue;
		}
		status = send_request(curl, o->dir, o->url, "POST", o->path, o->gateway, &sr,
				      gz ? gz : bn->bodies[bi], gz ? gz_len : bn->lens[bi],
				      gz != NULL, NULL, &ans, errbuf);
		j = status == 200 ? json_loadb(ans.body, ans.len, 0, NULL) : NULL;
		if (j && json_integer_value(json_object_get(json_object_get(j, "receipt"),
							    "accepted")) == o->records) {
			atomic_fetch_add(&bn->ok_records, o->records);
		} else {
			atomic_fetch_add(&bn->failed, 1);
			fprintf(stderr, "bench: batch %ld: status %ld %.300s%s\n", bi, status,
				ans.body ? ans.body : "", errbuf);
		}
		json_decref(j);
		free(ans.body);
		free(gz);
	}
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

static int run_bench(struct opts *o)
{
	struct spgw_error err;
	struct bench bn;
	struct timespec t0, t1;
	pthread_t th[64];
	json_t *tmpl;
	double secs, bytes = 0;
	long i, run = (long)time(NULL);
	int rc = EXIT_FAILED;

	memset(&bn, 0, sizeof(bn));
	memset(&err, 0, sizeof(err));
	bn.o = o;
	if (!o->path)
		o->path = "/spgl/v3/batches";
	if (o->conns < 1 || o->conns > 64 || o->records < 1 || o->batches < 1)
		return EXIT_USAGE;
	bn.k = sim_key_load_private(o->key_path, &err);
	tmpl = json_load_file(o->template_path, 0, NULL);
	if (!bn.k || !tmpl || pad_record(tmpl, o->record_bytes)) {
		fprintf(stderr, "spgw-sim-client: bench: cannot read the key or the template\n");
		goto out;
	}
	sim_key_alg(bn.k, &bn.alg);
	bn.bodies = calloc((size_t)o->batches, sizeof(char *));
	bn.lens = calloc((size_t)o->batches, sizeof(size_t));
	if (!bn.bodies || !bn.lens)
		goto out;
	fprintf(stderr, "bench: generating %ld batches of %ld records...\n", o->batches,
		o->records);
	for (i = 0; i < o->batches; i++) {
		bn.bodies[i] = make_batch(o, bn.alg, tmpl, run, i, &bn.lens[i]);
		if (!bn.bodies[i])
			goto out;
		bytes += (double)bn.lens[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < o->conns; i++)
		pthread_create(&th[i], NULL, bench_worker, &bn);
	for (i = 0; i < o->conns; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("bench: %ld records accepted in %.2f s over %ld connection(s): %.0f records/s, "
	       "%.1f MB/s of JSON, %.0f bytes per record, %ld batch(es) failed\n",
	       (long)bn.ok_records, secs, o->conns, (double)bn.ok_records / secs,
	       bytes / secs / 1e6, bytes / (double)(o->batches * o->records), (long)bn.failed);
	rc = bn.failed ? EXIT_FAILED : EXIT_ANSWERED;
out:
	for (i = 0; bn.bodies && i < o->batches; i++)
		free(bn.bodies[i]);
	free(bn.bodies);
	free(bn.lens);
	json_decref(tmpl);
	EVP_PKEY_free(bn.k);
	return rc;
}

/* ---- scan-counts, scan-keys: what reconciliation reads, checked ---- */

static int usage(const char *what);

struct scan {
	const struct opts *o;
	EVP_PKEY *k;
	enum sim_alg alg;
	CURL *curl;
	long requests;
};

/* One signed GET over the scan's connection: the status, *out the parsed JSON (new, or
 * NULL when not JSON); -1 for a transport error (printed). */
static long scan_get(struct scan *sc, const char *target, json_t **out)
{
	char errbuf[CURL_ERROR_SIZE];
	struct signed_req sr;
	struct answer ans;
	long status;

	*out = NULL;
	memset(&ans, 0, sizeof(ans));
	if (sign_request(sc->k, sc->alg, sc->o->gateway, "GET", target, "", 0, NULL, &sr)) {
		printf("TRANSPORT signing failed\n");
		return -1;
	}
	sc->requests++;
	status = send_request(sc->curl, sc->o->dir, sc->o->url, "GET", target, sc->o->gateway,
			      &sr, NULL, 0, 0, sc->o, &ans, errbuf);
	if (status < 0)
		printf("TRANSPORT %s\n", errbuf);
	else
		*out = json_loadb(ans.body ? ans.body : "", ans.len, 0, NULL);
	if (status >= 0 && status != 200)
		printf("HTTP %ld %.300s\n", status, ans.body ? ans.body : "");
	free(ans.body);
	return status;
}

/* Percent-encode all but RFC 3986's unreserved characters (a key may hold anything). */
static void pct_encode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static int scan_open(struct scan *sc, const struct opts *o)
{
	struct spgw_error err;

	memset(sc, 0, sizeof(*sc));
	memset(&err, 0, sizeof(err));
	sc->o = o;
	sc->k = sim_key_load_private(o->key_path, &err);
	if (!sc->k) {
		fprintf(stderr, "spgw-sim-client: %s: %s\n", err.source, err.text);
		return -1;
	}
	sim_key_alg(sc->k, &sc->alg);
	sc->curl = curl_easy_init();
	return sc->curl ? 0 : -1;
}

static void scan_close(struct scan *sc)
{
	if (sc->curl)
		curl_easy_cleanup(sc->curl);
	EVP_PKEY_free(sc->k);
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Print "<what>: REFUSED <why>" and give the exit status of a refused answer. */
static int refused(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refused(const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%s: REFUSED ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return EXIT_REFUSED;
}

/* One counts answer as a careful reconciliation reads it. 0, or an exit status. */
static int check_counts(const struct opts *o, const char *region, const char *table,
			const json_t *j, long *records, long *valid)
{
	const json_t *days = json_object_get(j, "days"), *total = json_object_get(j, "total");
	const json_t *d;
	const char *date, *prev = NULL;
	long r, v, sr = 0, sv = 0;
	char pair[100];
	size_t i;

	snprintf(pair, sizeof(pair), "%s/%s", region, table);
	if (!json_is_array(days) || !json_is_object(total) ||
	    !json_is_integer(json_object_get(total, "records")) ||
	    !json_is_integer(json_object_get(total, "valid")))
		return refused("counts", "%s: the answer lacks days or total", pair);
	json_array_foreach(days, i, d) {
		date = json_string_value(json_object_get(d, "date"));
		r = (long)json_integer_value(json_object_get(d, "records"));
		v = (long)json_integer_value(json_object_get(d, "valid"));
		if (!date || !sim_is_date(date))
			return refused("counts", "%s: days[] without a date", pair);
		if (strcmp(date, o->from) < 0 || strcmp(date, o->to) > 0)
			return refused("counts", "%s: day %s is outside the range asked", pair,
				       date);
		if (prev && strcmp(prev, date) >= 0)
			return refused("counts", "%s: day %s is out of order or repeated", pair,
				       date);
		if (r < 1 || v < 0 || v > r)
			return refused("counts", "%s: day %s has impossible records/valid", pair,
				       date);
		prev = date;
		sr += r;
		sv += v;
	}
	if (sr != (long)json_integer_value(json_object_get(total, "records")) ||
	    sv != (long)json_integer_value(json_object_get(total, "valid")))
		return refused("counts", "%s: the days do not add up to the total", pair);
	*records += sr;
	*valid += sv;
	if (o->list)
		printf("%s\t%s\t%ld\t%ld\t%zu\n", region, table, sr, sv, json_array_size(days));
	return 0;
}

/* Split a comma list into `out` (pointers into `buf`): how many, at most `max`. */
static size_t split_list(const char *list, char *buf, size_t size, char **out, size_t max)
{
	size_t n = 0;
	char *p, *save = NULL;

	snprintf(buf, size, "%s", list);
	for (p = strtok_r(buf, ",", &save); p && n < max; p = strtok_r(NULL, ",", &save))
		out[n++] = p;
	return n;
}

static int run_scan_counts(const struct opts *o)
{
	char rbuf[4096], tbuf[4096], target[600], *regions[256], *tables[64];
	size_t nr = split_list(o->regions, rbuf, sizeof(rbuf), regions, 256);
	size_t nt = split_list(o->tables, tbuf, sizeof(tbuf), tables, 64), i, t;
	long records = 0, valid = 0, status;
	struct timespec t0;
	struct scan sc;
	json_t *j;
	double secs;
	int rc = EXIT_FAILED;

	if (!nr || !nt || !o->from || !o->to)
		return usage("scan-counts needs --regions, --tables, --from and --to");
	if (scan_open(&sc, o))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nr; i++) {
		for (t = 0; t < nt; t++) {
			snprintf(target, sizeof(target),
				 "/spgl/v3/counts?region=%s&table=%s&from=%s&to=%s", regions[i],
				 tables[t], o->from, o->to);
			status = scan_get(&sc, target, &j);
			if (status != 200) {
				json_decref(j);
				rc = status < 0 ? EXIT_TRANSPORT : EXIT_FAILED;
				goto out;
			}
			rc = check_counts(o, regions[i], tables[t], j, &records, &valid);
			json_decref(j);
			if (rc)
				goto out;
		}
	}
	secs = since(&t0);
	printf("counts: %ld requests, %ld records, %ld valid, %.3f s (%.1f ms per request)\n",
	       sc.requests, records, valid, secs, secs * 1000 / (double)sc.requests);
	rc = EXIT_ANSWERED;
out:
	scan_close(&sc);
	return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check one keys page against the page before (`after`: NULL on the first). */
static int check_keys(const json_t *keys, const json_t *next, const char *after, long page)
{
	const json_t *k;
	const char *key, *prev = after, *last = NULL;
	char where[40];
	size_t i;

	snprintf(where, sizeof(where), "page %ld", page);
	if (json_array_size(keys) > SIM_KEYS_PAGE)
		return refused("keys", "%s: more than %d keys", where, SIM_KEYS_PAGE);
	json_array_foreach(keys, i, k) {
		key = json_string_value(json_object_get(k, "key"));
		if (!key || !json_is_string(json_object_get(k, "digest")))
			return refused("keys", "%s: an entry without key or digest", where);
		if (prev && strcmp(key, prev) <= 0)
			return refused("keys", "%s: key \"%.100s\" is not after the one before "
				       "(or `after`): listed twice or out of order", where, key);
		prev = last = key;
	}
	if (next) {
		if (!json_is_string(next) || !last || strcmp(json_string_value(next), last) != 0)
			return refused("keys", "%s: next \"%.100s\" is not the last key listed "
				       "(following it would loop or skip)", where,
				       json_is_string(next) ? json_string_value(next) : "?");
	}
	return 0;
}

static int run_scan_keys(const struct opts *o)
{
	char target[8192], enc[3200], *after = NULL, **all = NULL;
	size_t n_all = 0, cap = 0, i, distinct = 0;
	long pages = 0, status;
	const json_t *keys, *next, *k;
	struct timespec t0;
	struct scan sc;
	FILE *out = NULL;
	json_t *j = NULL;
	double secs;
	int rc = EXIT_FAILED;

	if (!o->region || !o->table || !o->date)
		return usage("scan-keys needs --region, --table and --date");
	if (scan_open(&sc, o))
		goto done;
	if (o->out_path && !(out = fopen(o->out_path, "w"))) {
		fprintf(stderr, "spgw-sim-client: cannot write %s\n", o->out_path);
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (o->max_pages && pages == o->max_pages) {
			printf("keys: stopped after %ld pages (--max-pages): the listing did not "
			       "end\n", pages);
			rc = EXIT_PAGES;
			goto done;
		}
		pages++;
		if (after)
			pct_encode(after, enc, sizeof(enc));
		snprintf(target, sizeof(target),
			 "/spgl/v3/keys?region=%s&table=%s&date=%s%s%s", o->region, o->table,
			 o->date, after ? "&after=" : "", after ? enc : "");
		status = scan_get(&sc, target, &j);
		if (status != 200) {
			rc = status < 0 ? EXIT_TRANSPORT : EXIT_FAILED;
			goto done;
		}
		keys = json_object_get(j, "keys");
		next = json_object_get(j, "next");
		if (!json_is_array(keys)) {
			rc = refused("keys", "page %ld: no keys array", pages);
			goto done;
		}
		if (!o->blind && (rc = check_keys(keys, next, after, pages)))
			goto done;
		json_array_foreach(keys, i, k) {
			const char *key = json_string_value(json_object_get(k, "key"));

			if (!key)
				continue;
			if (out)
				fprintf(out, "%s\t%s\n", key,
					json_string_value(json_object_get(k, "digest")));
			if (n_all == cap) {
				char **bigger = realloc(all, (cap = cap ? cap * 2 : 8192) *
								  sizeof(*all));

				if (!bigger)
					goto done;
				all = bigger;
			}
			if (!(all[n_all] = strdup(key)))
				goto done;
			n_all++;
		}
		free(after);
		after = json_is_string(next) ? strdup(json_string_value(next)) : NULL;
		json_decref(j);
		j = NULL;
		if (!after)
			break;
	}
	secs = since(&t0);
	qsort(all, n_all, sizeof(*all), cmp_cstr);
	for (i = 0; i < n_all; i++)
		distinct += i == 0 || strcmp(all[i - 1], all[i]) != 0;
	printf("keys: %zu keys listed (%zu distinct) in %ld pages, %.3f s\n", n_all, distinct,
	       pages, secs);
	rc = EXIT_ANSWERED;
done:
	if (out && fclose(out) && rc == EXIT_ANSWERED)
		rc = EXIT_FAILED;
	for (i = 0; i < n_all; i++)
		free(all[i]);
	free(all);
	free(after);
	json_decref(j);
	scan_close(&sc);
	return rc;
}

static int usage(const char *what)
{
	fprintf(stderr, "spgw-sim-client: %s\n(see the comment at the top of sim_client.c or "
		"contrib/national-sim/README.md)\n", what);
	return EXIT_USAGE;
}

/* ---- make-batch: a batch body from record files, with their digests ---- */

static int run_make_batch(const struct opts *o, int nfiles, char **files)
{
	enum spgw_digest_alg dalg = SPGW_DIGEST_SM3;
	enum sim_alg alg;
	json_t *records = json_array(), *rec, *batch;
	struct spgw_buf b;
	struct spgw_error err;
	char hex[65], digest[80], *text;
	const char *key;
	int i, rc = EXIT_FAILED;

	if (o->alg_name) {
		if (sim_alg_parse(o->alg_name, &alg))
			return usage("--alg: sm2-sm3, ecdsa-p256-sha256 or ed25519");
		dalg = alg == SIM_ALG_SM2_SM3 ? SPGW_DIGEST_SM3 : SPGW_DIGEST_SHA256;
	}
	spgw_buf_init(&b, 1u << 24, "record");
	for (i = 0; i < nfiles; i++) {
		rec = json_load_file(files[i], JSON_REJECT_DUPLICATES, NULL);
		key = json_string_value(json_object_get(rec, "DFSJZJ"));
		memset(&err, 0, sizeof(err));
		spgw_buf_reset(&b);
		if (!rec || !key || spgw_canonical(rec, &b, &err) ||
		    spgw_digest_hex(dalg, b.data, b.len, hex, &err)) {
			fprintf(stderr, "spgw-sim-client: %s: not a record with DFSJZJ and a "
				"canonical form %s\n", files[i], err.text);
			json_decref(rec);
			goto out;
		}
		snprintf(digest, sizeof(digest), "%s:%s", spgw_digest_name(dalg), hex);
		json_array_append_new(records, json_pack("{s:s, s:s, s:s, s:o}", "key", key, "day",
							 o->day ? o->day : "", "digest", digest,
							 "data", rec));
	}
	batch = json_pack("{s:s, s:s, s:s, s:s, s:O}", "batch_id",
			  o->batch_id ? o->batch_id : "sim-client-batch", "region",
			  o->region ? o->region : "220100", "schema", "spgl-v3", "table",
			  o->table ? o->table : "SPGL_XMJBXXB", "records", records);
	text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
	json_decref(batch);
	if (text) {
		fputs(text, stdout);
		free(text);
		rc = EXIT_ANSWERED;
	}
out:
	spgw_buf_free(&b);
	json_decref(records);
	return rc;
}

/* ---- command line ---- */

int main(int argc, char **argv)
{
	struct opts o;
	int i, bench = 0, make = 0, scan = 0, rc;
	const char *v;

	memset(&o, 0, sizeof(o));
	o.method = "GET";
	o.records = 1000;
	o.batches = 100;
	o.conns = 2;
	o.record_bytes = 1500;
	i = 1;
	if (argc > 1 && strcmp(argv[1], "make-ledger") == 0)
		return sim_ledger_gen_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "bench") == 0) {
		bench = 1;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "make-batch") == 0) {
		make = 1;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "scan-counts") == 0) {
		scan = 1;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "scan-keys") == 0) {
		scan = 2;
		i = 2;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (make && a[0] != '-')
			break; /* the record files */

		if (strcmp(a, "--gzip") == 0) { o.gzip = 1; continue; }
		if (strcmp(a, "--corrupt-sig") == 0) { o.corrupt_sig = 1; continue; }
		if (strcmp(a, "--include") == 0) { o.include = 1; continue; }
		if (strcmp(a, "--verify-receipt") == 0) { o.verify = 1; continue; }
		if (strcmp(a, "--print-headers") == 0) { o.print_headers = 1; continue; }
		if (strcmp(a, "--list") == 0) { o.list = 1; continue; }
		if (strcmp(a, "--blind") == 0) { o.blind = 1; continue; }
		if (i + 1 >= argc)
			return usage("an option needs a value");
		v = argv[++i];
		if (strcmp(a, "--dir") == 0) o.dir = v;
		else if (strcmp(a, "--gateway") == 0) o.gateway = v;
		else if (strcmp(a, "--key") == 0) o.key_path = v;
		else if (strcmp(a, "--url") == 0) o.url = v;
		else if (strcmp(a, "--method") == 0) o.method = v;
		else if (strcmp(a, "--path") == 0) o.path = v;
		else if (strcmp(a, "--body") == 0) o.body_path = v;
		else if (strcmp(a, "--nonce") == 0) o.nonce = v;
		else if (strcmp(a, "--timestamp") == 0) o.timestamp = v;
		else if (strcmp(a, "--out") == 0) o.out_path = v;
		else if (strcmp(a, "--timeout") == 0) o.timeout = atol(v);
		else if (strcmp(a, "--template") == 0) o.template_path = v;
		else if (strcmp(a, "--table") == 0) o.table = v;
		else if (strcmp(a, "--region") == 0) o.region = v;
		else if (strcmp(a, "--records") == 0) o.records = atol(v);
		else if (strcmp(a, "--batches") == 0) o.batches = atol(v);
		else if (strcmp(a, "--conns") == 0) o.conns = atol(v);
		else if (strcmp(a, "--record-bytes") == 0) o.record_bytes = atol(v);
		else if (strcmp(a, "--alg") == 0) o.alg_name = v;
		else if (strcmp(a, "--batch-id") == 0) o.batch_id = v;
		else if (strcmp(a, "--day") == 0) o.day = v;
		else if (strcmp(a, "--regions") == 0) o.regions = v;
		else if (strcmp(a, "--tables") == 0) o.tables = v;
		else if (strcmp(a, "--from") == 0) o.from = v;
		else if (strcmp(a, "--to") == 0) o.to = v;
		else if (strcmp(a, "--date") == 0) o.date = v;
		else if (strcmp(a, "--max-pages") == 0) o.max_pages = atol(v);
		else if (strcmp(a, "--header") == 0) {
			if (o.n_headers == MAX_HEADERS)
				return usage("too many --header");
			o.headers[o.n_headers++] = v;
		} else
			return usage("unknown option");
	}
	if (make)
		return run_make_batch(&o, argc - i, argv + i);
	if (!o.dir || !o.gateway || !o.key_path || (!o.url && !o.print_headers))
		return usage("--dir, --gateway, --key and --url are needed");
	if (bench && (!o.template_path || !o.table || !o.region))
		return usage("bench needs --template, --table and --region");
	if (!bench && !scan && !o.path)
		return usage("--path is needed");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = bench ? run_bench(&o) : scan == 1 ? run_scan_counts(&o) : scan == 2 ? run_scan_keys(&o)
	   : run_one(&o);
	curl_global_cleanup();
	return rc;
}
