/*
 * The HTTPS server on libmicrohttpd (GnuTLS inside): one thread per connection, so a request
 * held by --hang or --slow-ms never blocks another, and keep-alive as MHD gives it.
 *
 * MHD is kept in this file. The stages see a struct sim_request: the request target exactly
 * as sent (taken from the URI log callback, before MHD unescapes it, because the signature
 * covers the bytes on the wire and §5 says '+' in a query is a literal plus), the headers
 * they need, and the body with its Content-Encoding undone.
 */
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <zlib.h>

#include "mem.h"
#include "sim.h"

/* An idle keep-alive connection is closed after this long; a gateway opens a new one. */
#define HTTP_IDLE_SECONDS 120
/* Connections at once: each is a thread; far above what one gateway opens. */
#define HTTP_MAX_CONNECTIONS 512

struct sim_daemon {
	struct MHD_Daemon *d;
	struct sim_server *s;
};

enum route { ROUTE_NONE, ROUTE_BATCHES, ROUTE_COUNTS, ROUTE_KEYS };

/* One request in MHD's care, from the URI log callback to the completion notice. */
struct conn_req {
	char *target;          /* owned: path and query as sent; NULL when too long */
	enum route route;
	int started;
	unsigned char *raw;    /* owned: the body as received */
	size_t len, cap, limit;
	int over;              /* the body went past `limit` */
	size_t discarded;
	struct timespec t0;
};

/* ---- answers ---- */

void sim_answer_clear(struct sim_answer *a)
{
	spgw_free(a->body);
	a->body = NULL;
	a->len = 0;
}

void sim_answer_bytes(struct sim_answer *a, int status, const char *p, size_t n)
{
	sim_answer_clear(a);
	a->status = status;
	a->body = spgw_malloc(n + 1);
	if (!a->body) {
		a->status = 500;
		return;
	}
	memcpy(a->body, p, n);
	a->body[n] = '\0';
	a->len = n;
}

void sim_answer_json(struct sim_answer *a, int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		sim_answer_error(a, 500, "unavailable", "out of memory writing the answer");
		return;
	}
	sim_answer_bytes(a, status, text, strlen(text));
	free(text);
}

void sim_answer_error(struct sim_answer *a, int status, const char *code, const char *fmt, ...)
{
	char msg[600], *text;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages quote what the peer sent, and json_pack refuses text that is not UTF-8 */
	sim_utf8_fix(msg);
	j = json_pack("{s:s, s:s}", "error", code, "message", msg);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	sim_answer_clear(a);
	a->status = status;
	if (text) {
		a->body = spgw_strdup(text);
		a->len = a->body ? strlen(text) : 0;
		free(text);
	}
	snprintf(a->log, sizeof(a->log), "%s: %.140s", code, msg);
}

/* ---- body decoding ---- */

/*
 * Undo gzip into *out (new, spgw_free), at most `limit` bytes: 1 done, 0 too large (the
 * inflating stops there, so a small bomb costs nothing), -1 not gzip.
 */
static int gunzip(const unsigned char *in, size_t n, size_t limit, unsigned char **out,
		  size_t *out_len)
{
	z_stream z;
	unsigned char *buf = NULL, *nb;
	size_t cap = 0, len = 0;
	int zr, rc = -1;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	for (;;) {
		if (len == cap) {
			if (cap > limit) {
				rc = 0;
				goto out;
			}
			cap = cap ? 2 * cap : 65536;
			if (cap > limit + 1)
				cap = limit + 1;
			nb = spgw_realloc(buf, cap + 1);
			if (!nb)
				goto out;
			buf = nb;
		}
		z.next_out = buf + len;
		z.avail_out = (uInt)(cap - len);
		zr = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			/* RFC 1952 allows several members one after another */
			if (inflateReset(&z) != Z_OK)
				goto out;
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_out == 0)
			continue; /* only needs more room */
		if (zr != Z_OK || (z.avail_in == 0 && z.avail_out > 0))
			goto out; /* corrupt, or the input ended inside the stream */
	}
	if (len > limit) {
		rc = 0;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	rc = 1;
out:
	inflateEnd(&z);
	spgw_free(buf);
	return rc;
}

/* ---- one request ---- */

static enum route route_of(const struct sim_server *s, const char *path)
{
	size_t n = strlen(s->base);

	if (strncmp(path, s->base, n) != 0)
		return ROUTE_NONE;
	path += n;
	if (strcmp(path, "/batches") == 0)
		return ROUTE_BATCHES;
	if (strcmp(path, "/counts") == 0)
		return ROUTE_COUNTS;
	if (strcmp(path, "/keys") == 0)
		return ROUTE_KEYS;
	return ROUTE_NONE;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Undo Content-Encoding: 0 with r->body set (*owned: what to free), -1 with `a` filled. */
static int decode_body(struct sim_server *s, struct conn_req *q, struct sim_request *r,
		       unsigned char **owned, struct sim_answer *a)
{
	size_t limit = q->route == ROUTE_BATCHES ? s->max_bytes : SIM_MAX_GET_BODY;
	int g;

	*owned = NULL;
	if (q->over) {
		sim_answer_error(a, 413, "too_large",
				 "the body is larger than %zu bytes; split the batch and resend",
				 limit);
		return -1;
	}
	if (!r->h_content_encoding) {
		if (q->len > limit) {
			sim_answer_error(a, 413, "too_large",
					 "the body is %zu bytes, more than %zu; split the batch "
					 "and resend", q->len, limit);
			return -1;
		}
		r->body = q->raw ? q->raw : (const unsigned char *)"";
		r->body_len = q->len;
		return 0;
	}
	if (strcasecmp(r->h_content_encoding, "gzip") != 0) {
		sim_answer_error(a, 400, q->route == ROUTE_BATCHES ? "bad_schema" : "bad_request",
				 "Content-Encoding \"%.40s\" is not accepted: only gzip "
				 "(PROTOCOL.md §5)", r->h_content_encoding);
		return -1;
	}
	g = gunzip(q->raw ? q->raw : (const unsigned char *)"", q->len, limit, owned,
		   &r->body_len);
	if (g == 0) {
		sim_answer_error(a, 413, "too_large",
				 "the body is more than %zu bytes once gunzipped; split the batch "
				 "and resend", limit);
		return -1;
	}
	if (g < 0) {
		sim_answer_error(a, 400, "bad_request",
				 "Content-Encoding is gzip but the body is not a whole gzip "
				 "stream");
		return -1;
	}
	r->body = *owned;
	return 0;
}

static void handle(struct sim_server *s, struct MHD_Connection *c, const char *method,
		   struct conn_req *q, struct sim_answer *a)
{
	struct sim_fault_plan plan;
	struct sim_request r;
	struct sim_registry *reg = NULL;
	const struct sim_gateway *gw = NULL;
	unsigned char *decoded = NULL;
	char path[SIM_MAX_TARGET + 1];
	const char *want = q->route == ROUTE_BATCHES ? "POST" : "GET";

	memset(&plan, 0, sizeof(plan));
	if (!q->target) {
		sim_answer_error(a, 400, "bad_request", "the request target is longer than %d "
				 "bytes", SIM_MAX_TARGET);
		return;
	}
	if (q->route == ROUTE_NONE) {
		sim_answer_error(a, 404, "not_found", "no such resource; the platform serves "
				 "%s/batches, %s/counts and %s/keys", s->base, s->base, s->base);
		return;
	}
	if (strcmp(method, want) != 0) {
		sim_answer_error(a, 405, "bad_request", "%s is not allowed here; use %s", method,
				 want);
		a->allow = want;
		return;
	}
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.target = q->target;
	snprintf(path, sizeof(path), "%s", q->target);
	path[strcspn(path, "?")] = '\0';
	r.path = path;
	r.query = strchr(q->target, '?') ? strchr(q->target, '?') + 1 : NULL;
	r.h_gateway = header(c, "X-SPGW-Gateway");
	r.h_timestamp = header(c, "X-SPGW-Timestamp");
	r.h_nonce = header(c, "X-SPGW-Nonce");
	r.h_digest = header(c, "X-SPGW-Content-Digest");
	r.h_signature = header(c, "X-SPGW-Signature");
	r.h_content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	r.h_content_encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
	r.now = sim_now(s);

	if (q->route == ROUTE_BATCHES) {
		sim_fault_plan(&s->faults, &plan);
		if (plan.hang) {
			sim_sleep_ms(s, s->faults.hang_seconds * 1000);
			a->drop = 1;
			snprintf(a->log, sizeof(a->log), "held up to %ld s, then closed (--hang)",
				 s->faults.hang_seconds);
			return;
		}
		if (s->faults.slow_ms > 0)
			sim_sleep_ms(s, s->faults.slow_ms);
		if (plan.status) {
			static const struct { int status; const char *code; } codes[] = {
				{ 400, "bad_schema" }, { 401, "bad_signature" },
				{ 403, "forbidden" }, { 409, "batch_conflict" },
				{ 413, "too_large" }, { 429, "rate_limited" },
			};
			const char *code = "unavailable";
			size_t i;

			for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
				if (codes[i].status == plan.status)
					code = codes[i].code;
			}
			sim_answer_error(a, plan.status, code, "injected by %s; the batch was not "
					 "processed", plan.why);
			if (plan.status == 429)
				a->retry_after =
					s->faults.retry_after >= 0 ? s->faults.retry_after : 1;
			else if (plan.status == 503 && s->faults.retry_after >= 0)
				a->retry_after = s->faults.retry_after;
			return;
		}
	}
	/* --slow-query-ms: a platform slow to count, for the gateway's read timeout */
	if (q->route != ROUTE_BATCHES && s->faults.slow_query_ms > 0)
		sim_sleep_ms(s, s->faults.slow_query_ms);
	reg = sim_server_registry(s);
	if (sim_auth_identify(s, reg, &r, &gw, a))
		goto out;
	if (decode_body(s, q, &r, &decoded, a))
		goto out;
	if (sim_auth_verify(s, gw, &r, a))
		goto out;
	switch (q->route) {
	case ROUTE_BATCHES:
		sim_batch_post(s, gw, &r, a);
		if (plan.lie && a->status == 200)
			sim_fault_lie(s, plan.lie, a);
		break;
	case ROUTE_COUNTS:
		sim_query_counts(s, gw, &r, a);
		break;
	case ROUTE_KEYS:
		sim_query_keys(s, gw, &r, a);
		break;
	case ROUTE_NONE:
		break;
	}
out:
	if (plan.reset && !a->drop)
		a->reset = 1;
	spgw_free(decoded);
	sim_registry_put(reg);
}

/* ---- the cut answer of --reset ---- */

struct cut {
	char *body;
	size_t len, keep;
};

static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cut *k = cls;
	size_t n;

	if (pos >= k->keep)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = k->keep - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, k->body + pos, n);
	return (ssize_t)n;
}

static void cut_free(void *cls)
{
	struct cut *k = cls;

	spgw_free(k->body);
	spgw_free(k);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, struct sim_answer *a,
				   long clock_offset)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[32];

	if (a->drop)
		return MHD_NO;
	if (!a->body)
		sim_answer_error(a, a->status ? a->status : 500, "unavailable", "no answer");
	if (a->reset) {
		struct cut *k = spgw_calloc(1, sizeof(*k));

		if (!k)
			return MHD_NO;
		k->body = a->body;
		k->len = a->len;
		/* half of the answer: the status line and headers arrive, the JSON does not */
		k->keep = a->len / 2;
		a->body = NULL;
		resp = MHD_create_response_from_callback(k->len, 4096, cut_reader, k, cut_free);
		if (!resp) {
			cut_free(k);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				a->content_type ? a->content_type
						: "application/json; charset=utf-8");
	if (a->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%ld", a->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (a->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->allow);
	{
		/* the Date a platform with a wrong clock sends: --clock-offset moves it too,
		 * so a gateway can see the skew before its signatures are refused */
		char date[64];
		time_t now = time(NULL) + clock_offset;
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
	}
	ret = MHD_queue_response(c, (unsigned int)a->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void log_line(struct sim_server *s, const char *method, const struct conn_req *q,
		     const struct sim_answer *a)
{
	struct timespec t1;
	long ms;

	if (s->quiet)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - q->t0.tv_sec) * 1000 + (t1.tv_nsec - q->t0.tv_nsec) / 1000000;
	fprintf(stderr, "national-sim: %s %.200s -> %s%d%s %s (%zu bytes in, %ld ms)\n", method,
		q->target ? q->target : "(target too long)", a->drop ? "no answer, was " : "",
		a->status, a->reset ? " cut" : "", a->log, q->len, ms);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct sim_daemon *dm = cls;
	struct sim_server *s = dm->s;
	struct conn_req *q = *con_cls;
	struct sim_answer a;
	enum MHD_Result ret;
	size_t n = *upload_data_size;

	(void)url;
	(void)version;
	if (!q)
		return MHD_NO;
	if (!q->started) {
		char path[SIM_MAX_TARGET + 1];

		q->started = 1;
		snprintf(path, sizeof(path), "%s", q->target ? q->target : "");
		path[strcspn(path, "?")] = '\0';
		q->route = route_of(s, path);
		q->limit = q->route == ROUTE_BATCHES
				   ? s->max_bytes + (header(c, MHD_HTTP_HEADER_CONTENT_ENCODING)
							     ? SIM_GZIP_MARGIN : 0)
				   : SIM_MAX_GET_BODY;
		return MHD_YES;
	}
	if (n) {
		*upload_data_size = 0;
		if (q->over || q->len + n > q->limit) {
			q->over = 1;
			q->discarded += n;
			/* a peer that keeps sending after this is not worth a thread */
			return q->discarded > SIM_DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		if (q->len + n > q->cap) {
			size_t cap = q->cap ? q->cap : 65536;
			unsigned char *nb;

			while (cap < q->len + n)
				cap *= 2;
			nb = spgw_realloc(q->raw, cap + 1);
			if (!nb)
				return MHD_NO;
			q->raw = nb;
			q->cap = cap;
		}
		memcpy(q->raw + q->len, upload_data, n);
		q->len += n;
		q->raw[q->len] = '\0';
		return MHD_YES;
	}
	memset(&a, 0, sizeof(a));
	a.retry_after = -1;
	handle(s, c, method, q, &a);
	log_line(s, method, q, &a);
	ret = send_answer(c, &a, s->clock_offset);
	sim_answer_clear(&a);
	return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn_req *q = spgw_calloc(1, sizeof(*q));

	(void)cls;
	(void)c;
	if (!q)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	if (strlen(uri) <= SIM_MAX_TARGET)
		q->target = spgw_strdup(uri);
	return q;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct conn_req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!q)
		return;
	spgw_free(q->target);
	spgw_free(q->raw);
	spgw_free(q);
	*con_cls = NULL;
}

enum spgw_rc sim_http_start(struct sim_server *s, const char *addr, unsigned port,
			    const char *cert_pem, const char *key_pem, struct sim_daemon **out,
			    unsigned *bound, struct spgw_error *err)
{
	struct sim_daemon *dm;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	socklen_t sl = sizeof(sa);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_TLS;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return spgw_error_set(err, SPGW_E_STATE, NULL, 0, 0,
				      "this libmicrohttpd was built without TLS");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--listen %s: only IPv4 loopback addresses (127.0.0.0/8) "
				      "are served", addr);
	dm = spgw_calloc(1, sizeof(*dm));
	if (!dm)
		return spgw_error_nomem(err, "starting the server");
	dm->s = s;
	if (!s->quiet)
		flags |= MHD_USE_ERROR_LOG;
	dm->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, dm,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				 MHD_OPTION_HTTPS_MEM_KEY, key_pem,
				 MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
				 MHD_OPTION_URI_LOG_CALLBACK, on_uri, dm,
				 MHD_OPTION_NOTIFY_COMPLETED, on_done, dm,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_SECONDS,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
				 MHD_OPTION_END);
	if (!dm->d) {
		spgw_free(dm);
		return spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				      "cannot serve on %s:%u (port in use, or the certificate "
				      "and key do not load)", addr, port);
	}
	info = MHD_get_daemon_info(dm->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &sl)) {
		sim_http_stop(dm);
		return spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "cannot read the bound port");
	}
	*bound = ntohs(sa.sin_port);
	*out = dm;
	return SPGW_OK;
}

void sim_http_stop(struct sim_daemon *d)
{
	if (!d)
		return;
	MHD_stop_daemon(d->d);
	spgw_free(d);
}
