/*
 * The status endpoints (gateway/http_status.c) over real loopback HTTP with libcurl: the exact
 * /metrics text, /healthz both ways, /status, 404 and 405, listen addresses refused with their
 * reason, counters updated from several threads while scraped, and the connection limit and
 * idle timeout that keep slow clients from pinning the daemon.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_status.h"
#include "mem.h"
#include "metrics.h"

/* ---- a client ---- */

struct reply {
	long status;
	char body[1 << 20];
	size_t len;
	char type[128];
	char allow[128];
	curl_off_t content_length;
	CURLcode rc;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;

	if (len > sizeof(r->body) - 1 - r->len)
		return 0;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Keep a header's value (without its CRLF) when its name is `name`. */
static void keep_header(const char *line, size_t len, const char *name, char *to, size_t cap)
{
	size_t nl = strlen(name), vl;

	if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len && *line == ' ') {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	vl = len < cap - 1 ? len : cap - 1;
	memcpy(to, line, vl);
	to[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;

	keep_header(p, size * n, "Content-Type", r->type, sizeof(r->type));
	keep_header(p, size * n, "Allow", r->allow, sizeof(r->allow));
	return size * n;
}

/* `method` on http://127.0.0.1:port`path`; `body` is sent when not NULL. */
static struct reply *fetch_within(int port, const char *method, const char *path,
				  const char *body, long seconds)
{
	struct reply *r = calloc(1, sizeof(*r));
	char url[256];
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, seconds);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length);
	curl_easy_cleanup(c);
	return r;
}

static struct reply *fetch(int port, const char *method, const char *path, const char *body)
{
	return fetch_within(port, method, path, body, 10);
}

static struct reply *get(int port, const char *path)
{
	struct reply *r = fetch(port, "GET", path, NULL);

	ck_assert_msg(r->rc == CURLE_OK, "GET %s: %s", path, curl_easy_strerror(r->rc));
	return r;
}

/* ---- the daemon's side ---- */

struct app {
	int healthy;
	int status_ok;
	int status_calls;
};

static int healthz(void *ud, char *why, size_t whylen)
{
	struct app *a = ud;

	if (a->healthy)
		return 1;
	snprintf(why, whylen, "ledger: database is locked");
	return 0;
}

static char *status_json(void *ud)
{
	struct app *a = ud;

	a->status_calls++;
	return a->status_ok ? spgw_strdup("{\"sources\":2,\"outbox\":17}") : NULL;
}

static struct spgw_http *start(const struct spgw_http_handlers *h)
{
	struct spgw_error err = { 0 };
	struct spgw_http *s = NULL;

	ck_assert_msg(spgw_http_start("127.0.0.1:0", h, &s, &err) == SPGW_OK, "start: %s",
		      err.text);
	ck_assert_int_gt(spgw_http_port(s), 0);
	return s;
}

/* ---- the endpoints ---- */

START_TEST(metrics_exact)
{
	static const char *const lab[] = { "table", "SPGL_XMJBXXB", "source", "长春 \"a\"\\\n",
					   NULL };
	static const double b[] = { 0.5, 2 };
	static const char expected[] =
		"# HELP a_records_total Records read.\n"
		"# TYPE a_records_total counter\n"
		"a_records_total{source=\"长春 \\\"a\\\"\\\\\\n\",table=\"SPGL_XMJBXXB\"} 3\n"
		"# HELP b_seconds Upload time.\n"
		"# TYPE b_seconds histogram\n"
		"b_seconds_bucket{le=\"0.5\"} 1\n"
		"b_seconds_bucket{le=\"2\"} 1\n"
		"b_seconds_bucket{le=\"+Inf\"} 2\n"
		"b_seconds_sum 4.25\n"
		"b_seconds_count 2\n"
		"# HELP spgw_metrics_dropped_total Metric updates not stored because their family "
		"already held 10000 series (a label fed unbounded values).\n"
		"# TYPE spgw_metrics_dropped_total counter\n"
		"# HELP spgw_metrics_invalid_total Metric updates refused because the code named "
		"or used a metric wrongly, by reason.\n"
		"# TYPE spgw_metrics_invalid_total counter\n"
		"spgw_metrics_invalid_total{reason=\"label\"} 0\n"
		"spgw_metrics_invalid_total{reason=\"limit\"} 0\n"
		"spgw_metrics_invalid_total{reason=\"name\"} 1\n"
		"spgw_metrics_invalid_total{reason=\"type\"} 0\n"
		"spgw_metrics_invalid_total{reason=\"value\"} 0\n"
		"# HELP spgw_metrics_nomem_total Metric updates lost because memory was short.\n"
		"# TYPE spgw_metrics_nomem_total counter\n"
		"spgw_metrics_nomem_total 0\n";
	struct spgw_metrics *m = spgw_metrics_new();
	struct spgw_http_handlers h = { .metrics = m };
	struct spgw_http *s;
	struct reply *r;

	spgw_metrics_counter_add(m, "a_records_total", "Records read.", lab, 3);
	spgw_metrics_counter_add(m, "bad name", NULL, NULL, 1);
	spgw_metrics_histogram_observe(m, "b_seconds", "Upload time.", NULL, b, 2, 0.25);
	spgw_metrics_histogram_observe(m, "b_seconds", NULL, NULL, b, 2, 4);
	s = start(&h);
	r = get(spgw_http_port(s), "/metrics");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(r->body, expected);
	free(r);
	/* HEAD: the same headers, no body */
	r = fetch(spgw_http_port(s), "HEAD", "/metrics", NULL);
	ck_assert_int_eq(r->rc, CURLE_OK);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_uint_eq(r->len, 0);
	ck_assert_int_eq(r->content_length, (curl_off_t)strlen(expected));
	free(r);
	spgw_http_stop(s);
	spgw_metrics_free(m);
}
END_TEST

START_TEST(healthz_both_ways)
{
	struct app a = { .healthy = 1 };
	struct spgw_http_handlers h = { .healthz = healthz, .ud = &a };
	struct spgw_http *s = start(&h);
	struct reply *r;

	r = get(spgw_http_port(s), "/healthz");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "ok\n");
	ck_assert_str_eq(r->type, "text/plain; charset=utf-8");
	free(r);
	a.healthy = 0;
	r = get(spgw_http_port(s), "/healthz");
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->body, "ledger: database is locked\n");
	free(r);
	/* without a metrics registry or status handler, those paths do not exist */
	r = get(spgw_http_port(s), "/metrics");
	ck_assert_int_eq(r->status, 404);
	free(r);
	r = get(spgw_http_port(s), "/status");
	ck_assert_int_eq(r->status, 404);
	free(r);
	spgw_http_stop(s);
}
END_TEST

START_TEST(status_json_and_errors)
{
	struct app a = { .status_ok = 1 };
	struct spgw_http_handlers h = { .status_json = status_json, .ud = &a };
	struct spgw_http *s = start(&h);
	int port = spgw_http_port(s);
	json_error_t jerr;
	struct reply *r;
	json_t *j;

	r = get(port, "/status");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->type, "application/json");
	j = json_loads(r->body, 0, &jerr);
	ck_assert_msg(j != NULL, "not JSON: %s", r->body);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "outbox")), 17);
	json_decref(j);
	free(r);
	a.status_ok = 0;
	r = get(port, "/status");
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->type, "application/json");
	j = json_loads(r->body, 0, &jerr);
	ck_assert_msg(j && json_is_string(json_object_get(j, "error")), "%s", r->body);
	json_decref(j);
	free(r);
	/* no handler for /healthz: the process answers, so it is healthy */
	r = get(port, "/healthz");
	ck_assert_int_eq(r->status, 200);
	free(r);

	r = get(port, "/nope");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body, "/metrics, /healthz and /status"));
	free(r);
	r = get(port, "/status/");
	ck_assert_int_eq(r->status, 404);
	free(r);
	a.status_ok = 1;
	r = get(port, "/status?verbose=1"); /* a query string does not change the path */
	ck_assert_int_eq(r->status, 200);
	free(r);
	a.status_calls = 0;
	r = fetch(port, "POST", "/status", "secret=record-content");
	ck_assert_int_eq(r->rc, CURLE_OK);
	ck_assert_int_eq(r->status, 405);
	ck_assert_str_eq(r->allow, "GET, HEAD");
	ck_assert_ptr_null(strstr(r->body, "secret"));
	free(r);
	r = fetch(port, "DELETE", "/healthz", NULL);
	ck_assert_int_eq(r->status, 405);
	ck_assert_str_eq(r->allow, "GET, HEAD");
	free(r);
	ck_assert_int_eq(a.status_calls, 0); /* a refused method never reaches the handler */
	spgw_http_stop(s);
}
END_TEST

START_TEST(listen_addresses)
{
	static const struct {
		const char *listen;
		enum spgw_rc rc;
		const char *says;
	} bad[] = {
		{ "localhost:9464", SPGW_E_CONFIG, "not an IPv4 address" },
		{ "metrics.example:9464", SPGW_E_CONFIG, "names are not resolved" },
		{ "127.0.0.1", SPGW_E_CONFIG, "port is missing" },
		{ "127.0.0.1:", SPGW_E_CONFIG, "port is missing" },
		{ "127.0.0.1:70000", SPGW_E_CONFIG, "above 65535" },
		{ "127.0.0.1:-1", SPGW_E_CONFIG, "not a number" },
		{ "127.0.0.1:94x", SPGW_E_CONFIG, "not a number" },
		{ ":9464", SPGW_E_CONFIG, "IP address is missing" },
		{ "::1:9464", SPGW_E_CONFIG, "brackets" },
		{ "[::1]", SPGW_E_CONFIG, "port is missing" },
		{ "[::1:9464", SPGW_E_CONFIG, "not closed" },
		{ "[127.0.0.1]:9464", SPGW_E_CONFIG, "not an IPv6 address" },
		{ "[localhost]:9464", SPGW_E_CONFIG, "not an IPv6 address" },
		{ "", SPGW_E_CONFIG, "no listen address" },
		/* TEST-NET-1: no interface has it; bind fails without a packet sent */
		{ "192.0.2.1:0", SPGW_E_IO, "no interface of this machine" },
	};
	struct spgw_http_handlers h = { 0 };
	struct spgw_http *s = NULL, *s2 = NULL, *s6 = NULL;
	struct spgw_error err;
	struct reply *r;
	char taken[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spgw_error_clear(&err);
		ck_assert_int_eq(spgw_http_start(bad[i].listen, &h, &s, &err), bad[i].rc);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(err.text, bad[i].says), "%s: %s", bad[i].listen, err.text);
		if (bad[i].listen[0])
			ck_assert_msg(strstr(err.text, bad[i].listen), "%s: %s", bad[i].listen,
				      err.text);
	}

	/* a port in use */
	s = start(&h);
	snprintf(taken, sizeof(taken), "127.0.0.1:%d", spgw_http_port(s));
	spgw_error_clear(&err);
	ck_assert_int_eq(spgw_http_start(taken, &h, &s2, &err), SPGW_E_BUSY);
	ck_assert_ptr_null(s2);
	ck_assert_ptr_nonnull(strstr(err.text, taken));
	ck_assert_ptr_nonnull(strstr(err.text, "already in use"));
	/* the first server is unharmed */
	r = get(spgw_http_port(s), "/healthz");
	ck_assert_int_eq(r->status, 200);
	free(r);
	spgw_http_stop(s);
	/* and once it stopped, the port can be taken again at once */
	spgw_error_clear(&err);
	ck_assert_msg(spgw_http_start(taken, &h, &s2, &err) == SPGW_OK, "%s", err.text);
	spgw_http_stop(s2);

	/* IPv6 loopback */
	spgw_error_clear(&err);
	ck_assert_msg(spgw_http_start("[::1]:0", &h, &s6, &err) == SPGW_OK, "%s", err.text);
	{
		CURL *c = curl_easy_init();
		char url[64];
		long status = 0;

		snprintf(url, sizeof(url), "http://[::1]:%d/healthz", spgw_http_port(s6));
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		ck_assert_int_eq(status, 200);
		curl_easy_cleanup(c);
	}
	spgw_http_stop(s6);
	spgw_http_stop(NULL);
}
END_TEST

/* ---- many threads ---- */

#define THREADS 4
#define ADDS 50000

static struct spgw_metrics *shared;

static void *adder(void *arg)
{
	const char *mine[] = { "thread", arg, NULL };
	static const char *const all[] = { "thread", "all", NULL };
	int i;

	for (i = 0; i < ADDS; i++) {
		spgw_metrics_counter_add(shared, "adds_total", "Adds.", mine, 1);
		spgw_metrics_counter_add(shared, "adds_total", NULL, all, 0.5);
		if (i % 1000 == 0)
			spgw_metrics_gauge_set(shared, "progress", NULL, mine, i);
	}
	return NULL;
}

static double value_in(const char *text, const char *series)
{
	char pat[256];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", series);
	p = strstr(text, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

START_TEST(concurrent_adds_exact)
{
	static const char *const names[THREADS] = { "0", "1", "2", "3" };
	struct spgw_http_handlers h;
	pthread_t t[THREADS];
	struct spgw_http *s;
	struct reply *r;
	double last = 0, now;
	int i, scrapes = 0;
	char series[64];

	shared = spgw_metrics_new();
	h = (struct spgw_http_handlers){ .metrics = shared };
	s = start(&h);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, (void *)names[i]), 0);
	/* scrape while they add: every page is whole and the total never goes down */
	for (scrapes = 0; scrapes < 200; scrapes++) {
		r = get(spgw_http_port(s), "/metrics");
		ck_assert_int_eq(r->status, 200);
		ck_assert_ptr_nonnull(strstr(r->body, "spgw_metrics_nomem_total 0\n"));
		now = value_in(r->body, "adds_total{thread=\"all\"}");
		ck_assert(now == -1 ? last == 0 : now >= last);
		if (now > 0)
			last = now;
		free(r);
		if (last == THREADS * ADDS * 0.5)
			break;
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	r = get(spgw_http_port(s), "/metrics");
	ck_assert(value_in(r->body, "adds_total{thread=\"all\"}") == THREADS * ADDS * 0.5);
	for (i = 0; i < THREADS; i++) {
		snprintf(series, sizeof(series), "adds_total{thread=\"%d\"}", i);
		ck_assert(value_in(r->body, series) == ADDS);
	}
	free(r);
	ck_assert_int_gt(scrapes, 0);
	spgw_http_stop(s);
	spgw_metrics_free(shared);
}
END_TEST

/* ---- slow clients ---- */

/* A raw connection that sends the start of a request and then nothing (slowloris). */
static int slow_client(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, partial, sizeof(partial) - 1), (ssize_t)sizeof(partial) - 1);
	return fd;
}

/* Wait until the server closes `fd`; the seconds it took, or -1 after `limit` seconds. */
static double wait_closed(int fd, int limit, const struct timespec *since)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec now;
	char c;

	if (poll(&p, 1, limit * 1000) != 1 || read(fd, &c, 1) > 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (now.tv_nsec - since->tv_nsec) / 1e9;
}

START_TEST(slow_clients_cannot_pin)
{
	struct app a = { .healthy = 1 };
	struct spgw_http_handlers h = { .healthz = healthz, .ud = &a };
	struct spgw_http *s = start(&h);
	int port = spgw_http_port(s), fds[SPGW_HTTP_MAX_CONNECTIONS + 4], n, i, refused = 0;
	struct timespec since;
	struct reply *r;
	double took;

	clock_gettime(CLOCK_MONOTONIC, &since);
	for (n = 0; n < SPGW_HTTP_MAX_CONNECTIONS - 1; n++)
		fds[n] = slow_client(port);
	/* one slot left: served at once, the stalled ones hold no thread */
	r = get(port, "/healthz");
	ck_assert_int_eq(r->status, 200);
	free(r);
	/* all slots held: a new client waits in the kernel's backlog, unserved until a slot
	 * frees (well within the idle timeout here). The server may not have seen the previous
	 * client leave yet, so its slot may still be counted: try a few times, each with one more
	 * stalled client. */
	while (!refused && n < SPGW_HTTP_MAX_CONNECTIONS + 4) {
		fds[n++] = slow_client(port);
		r = fetch_within(port, "GET", "/healthz", NULL, 2);
		refused = r->rc != CURLE_OK;
		free(r);
	}
	ck_assert_msg(refused, "served beyond the connection limit");
	/* the stalled clients are cut after the idle timeout */
	for (i = 0; i < n; i++) {
		took = wait_closed(fds[i], SPGW_HTTP_IDLE_SECONDS + 10, &since);
		ck_assert_msg(took >= 0, "slow client %d still connected after %d s", i,
			      SPGW_HTTP_IDLE_SECONDS + 10);
		close(fds[i]);
	}
	r = get(port, "/healthz");
	ck_assert_int_eq(r->status, 200);
	free(r);
	spgw_http_stop(s);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http_status");
	TCase *tc = tcase_create("endpoints");
	TCase *slow = tcase_create("slow clients");

	tcase_add_test(tc, metrics_exact);
	tcase_add_test(tc, healthz_both_ways);
	tcase_add_test(tc, status_json_and_errors);
	tcase_add_test(tc, listen_addresses);
	tcase_add_test(tc, concurrent_adds_exact);
	suite_add_tcase(s, tc);
	tcase_add_test(slow, slow_clients_cannot_pin);
	tcase_set_timeout(slow, 60);
	suite_add_tcase(s, slow);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
