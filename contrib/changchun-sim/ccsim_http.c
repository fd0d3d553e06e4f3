/*
 * The API on libmicrohttpd: one thread per connection, so a page held by --slow-ms blocks only
 * its own request. Routes (README.md has the full contract):
 *
 *   POST /api/v2/auth/token        app_id + app_secret -> a bearer token
 *   GET  /api/v2/<entity>          a page after (updated_after, after_id), optionally only
 *                                  of the days updated_from..updated_to
 *   GET  /api/v2/stats/daily       live records per business day
 *
 * Faults are decided here, in the order a real deployment meets them: the rate limiter in
 * front, then a failing backend (500), then the token, then the page itself (slow, an HTML
 * page from a proxy, a repeated or skipped page from a buggy server, a cut body).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ccsim.h"

/* An idle keep-alive connection is closed after this long. */
#define HTTP_IDLE_SECONDS 120
/* Connections at once (each is a thread): far above what one gateway opens. */
#define HTTP_MAX_CONNECTIONS 128
/* The token request is a small JSON object. */
#define MAX_BODY (64u * 1024)
/* Tokens remembered; an older one is forgotten and answers "invalid token". */
#define MAX_TOKENS 256
/* /stats/daily: the widest range (ten years). */
#define MAX_STATS_DAYS 3660
/* page_size when the request does not say. */
#define DEFAULT_PAGE 100

struct token {
	char value[33];
	int64_t expires_ms; /* monotonic */
	long uses;
};

struct ccsim_daemon {
	struct MHD_Daemon *d;
	struct ccsim_server *s;
	pthread_mutex_t lock; /* everything below */
	uint64_t rnd;
	struct token tokens[MAX_TOKENS];
	size_t next_token;
	unsigned long pages;  /* page requests so far, for the every-N faults */
	double bucket;        /* --rate-limit */
	int64_t bucket_ms;
};

struct req {
	char *body;
	size_t len;
	int over;
};

struct answer {
	int status;
	char *body; /* malloc'd */
	size_t len;
	const char *type;
	long retry_after;
	char log[160];
};

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The simulator's "now" for mutations: the wall clock in Beijing. */
static int64_t beijing_now(void)
{
	return (int64_t)time(NULL) + 8 * 3600;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void answer_text(struct answer *a, int status, const char *type, const char *text)
{
	a->status = status;
	a->type = type;
	a->len = strlen(text);
	a->body = malloc(a->len + 1);
	if (a->body)
		memcpy(a->body, text, a->len + 1);
	else
		a->len = 0;
}

/* {"code": code, "msg": msg} with the HTTP status; the API's error shape. */
static void answer_error(struct answer *a, int status, int code, const char *fmt, ...)
{
	char msg[300];
	json_t *j;
	char *t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:i,s:s}", "code", code, "msg", msg);
	t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	answer_text(a, status, "application/json;charset=UTF-8", t ? t : "{\"code\":50000}");
	free(t);
	json_decref(j);
	snprintf(a->log, sizeof(a->log), "%d %.140s", code, msg);
}

static void answer_json(struct answer *a, json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!t) {
		answer_error(a, 500, 50000, "out of memory");
		return;
	}
	answer_text(a, 200, "application/json;charset=UTF-8", t);
	free(t);
}

/* ---- tokens ---- */

static void auth_token(struct ccsim_daemon *dm, struct req *r, struct answer *a)
{
	struct ccsim_server *s = dm->s;
	json_error_t je;
	json_t *body = r->body ? json_loadb(r->body, r->len, 0, &je) : NULL;
	const char *id, *secret;
	struct token *t;
	size_t i;

	id = json_string_value(json_object_get(body, "app_id"));
	secret = json_string_value(json_object_get(body, "app_secret"));
	if (!json_is_object(body) || !id || !secret) {
		answer_error(a, 400, 40001, "body must be {\"app_id\": ..., \"app_secret\": ...}");
		goto out;
	}
	if (strcmp(id, s->app_id) != 0) {
		answer_error(a, 401, 40100, "unknown app_id");
		goto out;
	}
	if (strcmp(secret, s->app_secret) != 0) {
		answer_error(a, 401, 40100, "invalid app_secret");
		goto out;
	}
	pthread_mutex_lock(&dm->lock);
	t = &dm->tokens[dm->next_token++ % MAX_TOKENS];
	for (i = 0; i < 32; i += 16)
		snprintf(t->value + i, 17, "%016llx", (unsigned long long)ccsim_rand(&dm->rnd));
	t->expires_ms = mono_ms() + s->token_ttl * 1000;
	t->uses = 0;
	answer_json(a, json_pack("{s:i,s:s,s:{s:s,s:i}}", "code", 0, "msg", "ok", "data",
				 "access_token", t->value, "expires_in", (int)s->token_ttl));
	pthread_mutex_unlock(&dm->lock);
	snprintf(a->log, sizeof(a->log), "token issued");
out:
	json_decref(body);
}

/* 0 when the request carries a live token (and counts its use), else the answer is set. */
static int check_token(struct ccsim_daemon *dm, struct MHD_Connection *c, struct answer *a)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct token *t = NULL;
	size_t i;
	int rc = -1;

	if (!h || strncmp(h, "Bearer ", 7) != 0) {
		answer_error(a, 401, 40102, "missing Authorization: Bearer token");
		return -1;
	}
	h += 7;
	pthread_mutex_lock(&dm->lock);
	for (i = 0; i < MAX_TOKENS; i++)
		if (dm->tokens[i].value[0] && strcmp(dm->tokens[i].value, h) == 0)
			t = &dm->tokens[i];
	if (!t)
		answer_error(a, 401, 40103, "invalid token");
	else if (mono_ms() >= t->expires_ms ||
		 (dm->s->f.expire_token_after && t->uses >= dm->s->f.expire_token_after))
		answer_error(a, 401, 40101, "token expired");
	else {
		t->uses++;
		rc = 0;
	}
	pthread_mutex_unlock(&dm->lock);
	return rc;
}

/* ---- pages ---- */

static const char html_page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>系统维护</title></head>\n"
	"<body><h1>502 Bad Gateway</h1><p>长春市工程建设项目审批管理系统正在维护，请稍后再试。</p>"
	"<hr><center>nginx</center></body></html>\n";

struct page_faults {
	int html, truncate, repeat, skip, mutate;
};

static int grow(char **p, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 8192;
	char *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*p, c);
	if (!n)
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

static int add(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (grow(p, cap, *len + n + 1))
		return -1;
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
	return 0;
}

/* The body of records [start, end) of `e`; UTF-8, or GBK when one of them is GBK. */
static int page_body(const struct ccsim_entity *e, size_t start, size_t end, int has_more,
		     struct answer *a)
{
	static const char head[] = "{\"code\":0,\"msg\":\"ok\",\"data\":{\"items\":[";
	char *b = NULL, tail[40];
	size_t len = 0, cap = 0, i;
	iconv_t cd = (iconv_t)-1;
	int gbk = 0, rc = -1;

	for (i = start; i < end; i++)
		gbk |= e->v[i].gbk;
	if (gbk && (cd = iconv_open("GB18030", "UTF-8")) == (iconv_t)-1)
		return -1;
	if (add(&b, &len, &cap, head, sizeof(head) - 1))
		goto out;
	for (i = start; i < end; i++) {
		if (i > start && add(&b, &len, &cap, ",", 1))
			goto out;
		if (gbk && !e->v[i].gbk) {
			if (ccsim_gbk_append(cd, e->v[i].line, e->v[i].len, &b, &len, &cap))
				goto out;
		} else if (add(&b, &len, &cap, e->v[i].line, e->v[i].len)) {
			goto out;
		}
	}
	snprintf(tail, sizeof(tail), "],\"has_more\":%s}}", has_more ? "true" : "false");
	if (add(&b, &len, &cap, tail, strlen(tail)))
		goto out;
	a->status = 200;
	a->type = gbk ? "application/json;charset=GBK" : "application/json;charset=UTF-8";
	a->body = b;
	a->len = len;
	b = NULL;
	rc = 0;
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	free(b);
	return rc;
}

static void page(struct ccsim_daemon *dm, struct MHD_Connection *c, int ei, struct answer *a)
{
	struct ccsim_server *s = dm->s;
	struct ccsim_entity *e = &s->data->e[ei];
	const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "updated_after");
	const char *after_id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after_id");
	const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_size");
	const char *uf = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "updated_from");
	const char *ut_to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "updated_to");
	struct page_faults pf = { 0, 0, 0, 0, 0 };
	int64_t ut = INT64_MIN, lo = INT64_MIN, hi = INT64_MAX;
	int32_t day;
	long size = DEFAULT_PAGE;
	size_t start, end, last = 0, limit, first;
	int have_last = 0;
	char *endp;

	if (after && *after && (ut = ccsim_time_parse(after, strlen(after))) < 0) {
		answer_error(a, 400, 40001, "updated_after must be \"YYYY-MM-DD HH:MM:SS\"");
		return;
	}
	/* a window of whole days (Beijing wall time, as update_time): [from 00:00:00, the day
	 * after to 00:00:00) */
	if (uf && *uf) {
		day = ccsim_day_parse(uf, strlen(uf));
		if (day < 0) {
			answer_error(a, 400, 40001, "updated_from must be a day \"YYYY-MM-DD\"");
			return;
		}
		lo = (int64_t)day * 86400;
	}
	if (ut_to && *ut_to) {
		day = ccsim_day_parse(ut_to, strlen(ut_to));
		if (day < 0) {
			answer_error(a, 400, 40001, "updated_to must be a day \"YYYY-MM-DD\"");
			return;
		}
		hi = ((int64_t)day + 1) * 86400;
	}
	if (lo != INT64_MIN && hi != INT64_MAX && hi <= lo) {
		answer_error(a, 400, 40001, "updated_from must not be after updated_to");
		return;
	}
	if (after_id && strlen(after_id) > 100) {
		answer_error(a, 400, 40001, "after_id is longer than 100 characters");
		return;
	}
	if (ps) {
		errno = 0;
		size = strtol(ps, &endp, 10);
		if (errno || endp == ps || *endp || size < 1 || size > CCSIM_MAX_PAGE) {
			answer_error(a, 400, 40001, "page_size must be 1 to %d", CCSIM_MAX_PAGE);
			return;
		}
	}
	pthread_mutex_lock(&dm->lock);
	dm->pages++;
	e->pages++;
#define EVERY(n) ((n) > 0 && dm->pages % (unsigned long)(n) == 0)
	pf.html = EVERY(s->f.html_every);
	pf.truncate = EVERY(s->f.truncate_every);
	pf.repeat = EVERY(s->f.repeat_every);
	pf.skip = EVERY(s->f.skip_every);
#undef EVERY
	/* "during a pull": once a page of this entity has been served, before the next */
	pf.mutate = s->f.mutate > 0 && !e->mutated && e->pages == 2;
	if (pf.mutate)
		e->mutated = 1;
	have_last = e->have_last;
	last = e->last_start;
	pthread_mutex_unlock(&dm->lock);
	if (pf.mutate) {
		pthread_rwlock_wrlock(&s->data->lock);
		pthread_mutex_lock(&dm->lock);
		ccsim_data_mutate(s->data, e, (size_t)s->f.mutate, beijing_now(), &dm->rnd,
				  s->quiet);
		pthread_mutex_unlock(&dm->lock);
		pthread_rwlock_unlock(&s->data->lock);
	}
	if (s->f.slow_ms > 0)
		sleep_ms(s->f.slow_ms);
	if (pf.html) {
		answer_text(a, 200, "text/html;charset=utf-8", html_page);
		snprintf(a->log, sizeof(a->log), "fault: HTML page");
		return;
	}
	pthread_rwlock_rdlock(&s->data->lock);
	start = ut == INT64_MIN ? 0 : ccsim_data_after(e, ut, after_id ? after_id : "");
	/* the window: its first record (id "" is before every id), and the first after it */
	first = lo == INT64_MIN ? 0 : ccsim_data_after(e, lo, "");
	limit = hi == INT64_MAX ? e->n : ccsim_data_after(e, hi, "");
	if (start < first)
		start = first;
	if (pf.repeat && have_last)
		start = last; /* the page before, again: the server lost its place */
	else
		pf.repeat = 0;
	if (pf.skip)
		start = start + (size_t)size < limit ? start + (size_t)size : limit;
	if (start > limit)
		start = limit;
	end = start + (size_t)size < limit ? start + (size_t)size : limit;
	if (page_body(e, start, end, end < limit, a))
		answer_error(a, 500, 50000, "out of memory building a page");
	pthread_rwlock_unlock(&s->data->lock);
	pthread_mutex_lock(&dm->lock);
	e->last_start = start;
	e->have_last = 1;
	pthread_mutex_unlock(&dm->lock);
	if (a->status != 200)
		return;
	snprintf(a->log, sizeof(a->log), "items=%zu has_more=%d%s%s%s%s%s", end - start,
		 end < limit, strstr(a->type, "GBK") ? " charset=GBK" : "",
		 pf.repeat ? " fault: repeated page" : "",
		 pf.skip ? " fault: skipped a page" : "", pf.mutate ? " (mutated records)" : "",
		 pf.truncate ? " fault: truncated" : "");
	if (pf.truncate && a->len > 1)
		a->len = a->len / 2; /* cut mid-JSON: the page ends in the middle of a record */
}

/* ---- stats ---- */

static void stats(struct ccsim_daemon *dm, struct MHD_Connection *c, struct answer *a)
{
	const char *en = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "entity");
	const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
	struct ccsim_data *d = dm->s->data;
	const struct ccsim_entity *e;
	int32_t f, t, day;
	uint64_t *n = NULL, undated = 0;
	json_t *days = NULL;
	char ds[11];
	size_t i;
	int ei;

	ei = en ? ccsim_entity_find(en) : -1;
	if (ei < 0) {
		answer_error(a, 400, 40001, "entity must be one of projects, units, cases, steps, "
			     "documents, procedures, materials, opinions");
		return;
	}
	f = from ? ccsim_day_parse(from, strlen(from)) : -1;
	t = to ? ccsim_day_parse(to, strlen(to)) : -1;
	if (f < 0 || t < 0 || t < f || t - f >= MAX_STATS_DAYS) {
		answer_error(a, 400, 40001, "from and to must be days YYYY-MM-DD, from <= to, at "
			     "most %d days", MAX_STATS_DAYS);
		return;
	}
	n = calloc((size_t)(t - f + 1), sizeof(*n));
	days = json_array();
	if (!n || !days) {
		answer_error(a, 500, 50000, "out of memory");
		goto out;
	}
	e = &d->e[ei];
	pthread_rwlock_rdlock(&d->lock);
	for (i = 0; i < e->n; i++) {
		if (e->v[i].deleted)
			continue;
		day = e->v[i].day;
		if (day < 0)
			undated++;
		else if (day >= f && day <= t)
			n[day - f]++;
	}
	pthread_rwlock_unlock(&d->lock);
	for (day = f; day <= t; day++) {
		if (!n[day - f])
			continue;
		ccsim_day_format(day, ds);
		json_array_append_new(days, json_pack("{s:s,s:I}", "day", ds, "count",
						      (json_int_t)n[day - f]));
	}
	answer_json(a, json_pack("{s:i,s:s,s:{s:s,s:s,s:s,s:O,s:I}}", "code", 0, "msg", "ok",
				 "data", "entity", en, "from", from, "to", to, "days", days,
				 "undated", (json_int_t)undated));
out:
	json_decref(days);
	free(n);
}

/* ---- the front door ---- */

/* 0 when the request may pass the front faults (rate limit, failing backend). */
static int front(struct ccsim_daemon *dm, struct answer *a)
{
	struct ccsim_faults *f = &dm->s->f;
	int64_t now;
	int rc = 0;

	pthread_mutex_lock(&dm->lock);
	if (f->rate_limit > 0) {
		now = mono_ms();
		dm->bucket += (double)(now - dm->bucket_ms) * (double)f->rate_limit / 1000.0;
		if (dm->bucket > (double)f->rate_limit)
			dm->bucket = (double)f->rate_limit;
		dm->bucket_ms = now;
		if (dm->bucket < 1.0) {
			answer_error(a, 429, 42900, "too many requests: at most %ld per second",
				     f->rate_limit);
			a->retry_after = 1;
			rc = -1;
			goto out;
		}
		dm->bucket -= 1.0;
	}
	if (f->fail_500 > 0 &&
	    (double)(ccsim_rand(&dm->rnd) >> 11) / 9007199254740992.0 < f->fail_500) {
		answer_error(a, 500, 50000, "internal error (simulated)");
		rc = -1;
	}
out:
	pthread_mutex_unlock(&dm->lock);
	return rc;
}

static void route(struct ccsim_daemon *dm, struct MHD_Connection *c, const char *url,
		  const char *method, struct req *r, struct answer *a)
{
	static const char api[] = "/api/v2/";
	const char *p;
	int ei;

	if (strncmp(url, api, sizeof(api) - 1) != 0) {
		answer_error(a, 404, 40400, "no such endpoint: the API is under /api/v2/");
		return;
	}
	p = url + sizeof(api) - 1;
	if (front(dm, a))
		return;
	if (strcmp(p, "auth/token") == 0) {
		if (strcmp(method, "POST") != 0)
			answer_error(a, 405, 40500, "use POST for auth/token");
		else if (r->over)
			answer_error(a, 413, 41300, "body larger than %u bytes", MAX_BODY);
		else
			auth_token(dm, r, a);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		answer_error(a, 405, 40500, "use GET for %s", p);
		return;
	}
	ei = ccsim_entity_find(p);
	if (ei < 0 && strcmp(p, "stats/daily") != 0) {
		answer_error(a, 404, 40400, "no such endpoint: %s", p);
		return;
	}
	if (check_token(dm, c, a))
		return;
	if (ei < 0)
		stats(dm, c, a);
	else
		page(dm, c, ei, a);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct ccsim_daemon *dm = cls;
	struct req *r = *con_cls;
	struct answer a;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[24];
	char *nb;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->over && r->len + *upload_size <= MAX_BODY) {
			nb = realloc(r->body, r->len + *upload_size + 1);
			if (nb) {
				memcpy(nb + r->len, upload_data, *upload_size);
				r->body = nb;
				r->len += *upload_size;
			} else {
				r->over = 1;
			}
		} else {
			r->over = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&a, 0, sizeof(a));
	route(dm, c, url, method, r, &a);
	if (!a.body)
		answer_error(&a, 500, 50000, "out of memory");
	resp = MHD_create_response_from_buffer(a.len, a.body ? a.body : (char *)"",
					       a.body ? MHD_RESPMEM_MUST_FREE
						      : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(a.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", a.type ? a.type : "text/plain");
	if (a.retry_after) {
		snprintf(ra, sizeof(ra), "%ld", a.retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	ret = MHD_queue_response(c, (unsigned)a.status, resp);
	MHD_destroy_response(resp);
	if (!dm->s->quiet)
		fprintf(stderr, "spgw-changchun-sim: %s %s %d %s\n", method, url, a.status, a.log);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

int ccsim_http_start(struct ccsim_server *s, unsigned port, struct ccsim_daemon **out,
		     unsigned *bound)
{
	struct ccsim_daemon *dm = calloc(1, sizeof(*dm));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	const union MHD_DaemonInfo *info;

	if (!dm) {
		fprintf(stderr, "spgw-changchun-sim: out of memory\n");
		return -1;
	}
	dm->s = s;
	dm->rnd = s->seed;
	dm->bucket = (double)s->f.rate_limit;
	dm->bucket_ms = mono_ms();
	pthread_mutex_init(&dm->lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, whatever is asked */
	dm->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				 (uint16_t)port, NULL, NULL, on_request, dm,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				 MHD_OPTION_NOTIFY_COMPLETED, on_done, dm,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_SECONDS,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
				 MHD_OPTION_END);
	if (!dm->d) {
		fprintf(stderr, "spgw-changchun-sim: cannot listen on 127.0.0.1:%u (port in use?)\n",
			port);
		pthread_mutex_destroy(&dm->lock);
		free(dm);
		return -1;
	}
	info = MHD_get_daemon_info(dm->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &sl)) {
		fprintf(stderr, "spgw-changchun-sim: cannot read the bound port\n");
		ccsim_http_stop(dm);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	*out = dm;
	return 0;
}

void ccsim_http_stop(struct ccsim_daemon *dm)
{
	if (!dm)
		return;
	if (dm->d)
		MHD_stop_daemon(dm->d);
	pthread_mutex_destroy(&dm->lock);
	free(dm);
}
