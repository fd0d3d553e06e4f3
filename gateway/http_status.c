/*
 * The status endpoints (see http_status.h). We bind the listening socket ourselves and hand it
 * to libmicrohttpd, so a taken port or a foreign address is reported with its errno and a next
 * step, where MHD_start_daemon would only return NULL.
 */
#include "http_status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

/* The kernel's queue of connections not yet accepted, beyond the served ones. */
#define LISTEN_BACKLOG 64
/* MHD's per-connection memory for the request line and headers: our requests are a GET with a
 * few headers; this also caps what a hostile client can make us hold. */
#define CONNECTION_MEMORY (32u * 1024)

struct spgw_http {
	struct MHD_Daemon *d;
	struct spgw_http_handlers h;
	int port;
};

/* ---- the listen address ---- */

static enum spgw_rc bad_listen(struct spgw_error *err, const char *addr, const char *what)
{
	return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
			      "listen address \"%s\": %s; write an IP address and port such as "
			      "127.0.0.1:9464 or [::1]:9464",
			      addr, what);
}

/* "HOST:PORT" or "[HOST6]:PORT" into a socket address. */
static enum spgw_rc parse_listen(const char *addr, struct sockaddr_storage *sa,
				 socklen_t *salen, struct spgw_error *err)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	char host[64];
	const char *colon, *p;
	size_t hostlen;
	long port = 0;
	int bracket = addr[0] == '[';

	if (bracket) {
		p = strchr(addr, ']');
		if (!p)
			return bad_listen(err, addr, "the '[' of an IPv6 address is not closed");
		colon = p + 1;
		if (*colon != ':')
			return bad_listen(err, addr, "the port is missing after the ']'");
		hostlen = (size_t)(p - addr - 1);
		p = addr + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return bad_listen(err, addr, "the port is missing");
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return bad_listen(err, addr, "an IPv6 address goes in brackets");
		hostlen = (size_t)(colon - addr);
		p = addr;
	}
	if (!hostlen)
		return bad_listen(err, addr, "the IP address is missing");
	if (hostlen >= sizeof(host))
		return bad_listen(err, addr, "the host is too long to be an IP address");
	memcpy(host, p, hostlen);
	host[hostlen] = '\0';
	if (!colon[1])
		return bad_listen(err, addr, "the port is missing");
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad_listen(err, addr, "the port is not a number");
		port = port * 10 + (*p - '0');
		if (port > 65535)
			return bad_listen(err, addr, "the port is above 65535");
	}
	memset(sa, 0, sizeof(*sa));
	if (!bracket && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((unsigned short)port);
		*salen = sizeof(*v4);
		return SPGW_OK;
	}
	if (bracket && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((unsigned short)port);
		*salen = sizeof(*v6);
		return SPGW_OK;
	}
	if (bracket)
		return bad_listen(err, addr, "the part in brackets is not an IPv6 address");
	return bad_listen(err, addr,
			  "the host is not an IPv4 address (names are not resolved, so that "
			  "they cannot point at an interface nobody meant to expose)");
}

/* A listening socket on `sa`; its port goes to *port. -1 with `err` set on failure. */
static int bind_listen(const char *addr, const struct sockaddr_storage *sa, socklen_t salen,
		       int *port, struct spgw_error *err)
{
	struct sockaddr_storage got;
	socklen_t gotlen = sizeof(got);
	int fd, one = 1, e;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
			       "listen address \"%s\": cannot open a socket: %s", addr,
			       strerror(errno));
		return -1;
	}
	/* a restarted daemon must not wait out its previous connections' TIME_WAIT; this
	 * does not let two listeners share the port */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, salen) || listen(fd, LISTEN_BACKLOG)) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE)
			spgw_error_set(err, SPGW_E_BUSY, NULL, 0, 0,
				       "listen address \"%s\": the port is already in use; stop "
				       "what holds it (ss -ltnp shows it) or choose another port",
				       addr);
		else if (e == EADDRNOTAVAIL)
			spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				       "listen address \"%s\": no interface of this machine has "
				       "that address; use one it has, such as 127.0.0.1",
				       addr);
		else if (e == EACCES)
			spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				       "listen address \"%s\": not allowed to bind that port "
				       "(ports below 1024 need privileges); choose one above 1024",
				       addr);
		else
			spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				       "listen address \"%s\": cannot listen: %s", addr,
				       strerror(e));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&got, &gotlen)) {
		e = errno;
		close(fd);
		spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
			       "listen address \"%s\": cannot read the bound port: %s", addr,
			       strerror(e));
		return -1;
	}
	*port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
						 : ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

/* ---- answers ---- */

/* Queue `body` (`len` bytes). `owned`: allocated with spgw_malloc, freed by MHD after sending
 * (and here if the response cannot be made); else copied. */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       char *body, size_t len, int owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (owned)
		r = MHD_create_response_from_buffer_with_free_callback(len, body, spgw_free);
	else
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
	if (!r) {
		if (owned)
			spgw_free(body);
		return MHD_NO;
	}
	/* what we serve changes at each request and is no page to be sniffed as HTML */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return respond(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), 0);
}

static enum MHD_Result serve_metrics(struct spgw_http *s, struct MHD_Connection *c)
{
	struct spgw_error err = { 0 };
	struct spgw_buf b;
	char line[sizeof(err.text) + 64];
	size_t len;
	char *body;

	spgw_buf_init(&b, SPGW_HTTP_MAX_METRICS, "the /metrics page");
	if (spgw_metrics_render(s->h.metrics, &b, &err)) {
		spgw_buf_free(&b);
		snprintf(line, sizeof(line), "cannot render the metrics: %s\n", err.text);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, line);
	}
	len = b.len;
	body = spgw_buf_take(&b);
	if (!body)
		return respond_text(c, MHD_HTTP_OK, "");
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, 1);
}

static enum MHD_Result serve_healthz(struct spgw_http *s, struct MHD_Connection *c)
{
	char why[SPGW_HTTP_MAX_WHY + 1] = "";
	size_t n;

	if (!s->h.healthz || s->h.healthz(s->h.ud, why, SPGW_HTTP_MAX_WHY))
		return respond_text(c, MHD_HTTP_OK, "ok\n");
	why[SPGW_HTTP_MAX_WHY - 1] = '\0'; /* in case the handler forgot */
	n = strlen(why);
	if (!n)
		return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unhealthy\n");
	if (why[n - 1] != '\n')
		memcpy(why + n, "\n", 2);
	return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, why);
}

static enum MHD_Result serve_status(struct spgw_http *s, struct MHD_Connection *c)
{
	char *json = s->h.status_json(s->h.ud);

	if (!json) {
		static const char unavailable[] =
			"{\"error\":\"the status cannot be read now; try again\"}\n";

		return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
			       (char *)unavailable, sizeof(unavailable) - 1, 0);
	}
	return respond(c, MHD_HTTP_OK, "application/json", json, strlen(json), 1);
}

/*
 * MHD calls this once the request's headers are in. We answer at once: none of our endpoints
 * takes a body, and MHD discards (never buffers) one that a client sends anyway.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct spgw_http *s = cls;
	enum MHD_Result (*serve)(struct spgw_http *, struct MHD_Connection *) = NULL;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (!strcmp(url, "/metrics") && s->h.metrics)
		serve = serve_metrics;
	else if (!strcmp(url, "/healthz"))
		serve = serve_healthz;
	else if (!strcmp(url, "/status") && s->h.status_json)
		serve = serve_status;
	if (!serve)
		return respond_text(c, MHD_HTTP_NOT_FOUND,
				    "not found: this server has /metrics, /healthz and /status\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: use GET or HEAD\n");
	return serve(s, c);
}

/* ---- the server ---- */

enum spgw_rc spgw_http_start(const char *addr, const struct spgw_http_handlers *h,
			     struct spgw_http **out, struct spgw_error *err)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	struct spgw_http *s = NULL;
	enum spgw_rc rc;
	int fd = -1;

	if (!addr || !addr[0])
		return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				      "no listen address; write an IP address and port such as "
				      "127.0.0.1:9464");
	if (!h)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "spgw_http_start: no handlers given");
	rc = parse_listen(addr, &sa, &salen, err);
	if (rc)
		goto out;
	s = spgw_calloc(1, sizeof(*s));
	if (!s) {
		rc = spgw_error_nomem(err, "starting the status server");
		goto out;
	}
	s->h = *h;
	fd = bind_listen(addr, &sa, salen, &s->port, err);
	if (fd < 0) {
		rc = err && err->code ? err->code : SPGW_E_IO;
		goto out;
	}
	/* No MHD_USE_ERROR_LOG: a module reports, the daemon logs. MHD owns `fd` once started
	 * (MHD_stop_daemon closes it) but leaves it to us when the start fails (checked with
	 * 0.9.75). */
	s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
					(sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)SPGW_HTTP_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SPGW_HTTP_IDLE_SECONDS,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				MHD_OPTION_END);
	if (!s->d) {
		rc = spgw_error_set(err, SPGW_E_IO, NULL, 0, 0,
				    "listen address \"%s\": cannot start the HTTP server (threads "
				    "or memory short?); check the system's limits and restart",
				    addr);
		goto out;
	}
	fd = -1;
	*out = s;
	s = NULL;
	rc = SPGW_OK;
out:
	if (fd >= 0)
		close(fd);
	spgw_free(s);
	return rc;
}

int spgw_http_port(const struct spgw_http *s)
{
	return s ? s->port : 0;
}

void spgw_http_stop(struct spgw_http *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	spgw_free(s);
}
