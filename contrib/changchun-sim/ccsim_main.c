/*
 * spgw-changchun-sim: the command line. Loads the dataset, listens on loopback, writes the
 * port file, and serves until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccsim.h"

/* Exit statuses: 0 stopped by a signal, 1 could not start, 2 bad command line. */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"usage: spgw-changchun-sim --data DIR --app-secret-file FILE [options] [faults]\n"
	"\n"
	"  --data DIR               the dataset: DIR/<entity>.jsonl (README.md)\n"
	"  --app-id ID              the app_id clients authenticate with (default spgw)\n"
	"  --app-secret-file FILE   the app_secret, the file's first line\n"
	"  --token-ttl S            seconds a token lives (expires_in; default 600)\n"
	"  --as-of TIME             serve the system as it was at 'YYYY-MM-DD HH:MM:SS'\n"
	"  --port N                 port on 127.0.0.1 (default 0: any free one)\n"
	"  --port-file FILE         write the bound port there once listening\n"
	"  --seed N                 seed of every random fault and token (default 1)\n"
	"  --quiet                  no per-request log lines on stderr\n"
	"\n"
	"faults:\n"
	"  --slow-ms N              every page takes N ms more\n"
	"  --fail-500 RATE          that fraction (0..1) of API requests answer 500\n"
	"  --rate-limit N[/s]       more than N requests a second answer 429 + Retry-After\n"
	"  --expire-token-after N   a token expires after N requests\n"
	"  --html-every N           every Nth page is an HTML page (status 200)\n"
	"  --truncate-every N       every Nth page is cut in the middle of its JSON\n"
	"  --repeat-page N          every Nth page repeats the page before it\n"
	"  --skip-page N            every Nth page skips one page of records\n"
	"  --mutate-while-paging N  once per entity, between its first and second page, N\n"
	"                           random records get a new update_time\n";

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "spgw-changchun-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", usage_text);
	return EXIT_USAGE;
}

static int number(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || (*end && strcmp(end, "/s") != 0) ||
	    (*end && strcmp(opt, "--rate-limit") != 0) || n < lo || n > hi) {
		fprintf(stderr, "spgw-changchun-sim: %s %s: give a whole number from %ld to %ld\n",
			opt, v, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

static int fraction(const char *opt, const char *v, double *out)
{
	char *end;
	double f;

	errno = 0;
	f = strtod(v, &end);
	if (errno || end == v || *end || !(f >= 0.0 && f <= 1.0)) {
		fprintf(stderr, "spgw-changchun-sim: %s %s: give a fraction from 0 to 1\n", opt, v);
		return -1;
	}
	*out = f;
	return 0;
}

/* The secret: the first line of the file, without its line end. NULL after a message. */
static char *read_secret(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "spgw-changchun-sim: --app-secret-file %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n) {
		fprintf(stderr, "spgw-changchun-sim: --app-secret-file %s is empty\n", path);
		return NULL;
	}
	return strdup(line);
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f)) {
		fprintf(stderr, "spgw-changchun-sim: --port-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* renamed into place: a reader never sees half a number */
	if (rename(tmp, path)) {
		fprintf(stderr, "spgw-changchun-sim: --port-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct opts {
	struct ccsim_load_opts load;
	const char *port_file, *secret_file;
	long port;
};

static int parse_args(int argc, char **argv, struct ccsim_server *s, struct opts *o)
{
	const char *opt, *v;
	long n;
	int i;

	for (i = 1; i < argc; i++) {
		opt = argv[i];
		if (strcmp(opt, "--quiet") == 0) {
			s->quiet = o->load.quiet = 1;
			continue;
		}
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(usage_text, stdout);
			exit(EXIT_DONE);
		}
		if (i + 1 >= argc)
			return usage("%s needs a value", opt);
		v = argv[++i];
		if (strcmp(opt, "--data") == 0)
			o->load.dir = v;
		else if (strcmp(opt, "--app-id") == 0)
			s->app_id = v;
		else if (strcmp(opt, "--app-secret-file") == 0)
			o->secret_file = v;
		else if (strcmp(opt, "--port-file") == 0)
			o->port_file = v;
		else if (strcmp(opt, "--port") == 0) {
			if (number(opt, v, 0, 65535, &o->port))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--seed") == 0) {
			if (number(opt, v, 0, 2147483647L, &n))
				return EXIT_USAGE;
			s->seed = (uint64_t)n;
		} else if (strcmp(opt, "--token-ttl") == 0) {
			if (number(opt, v, 1, 86400 * 365L, &s->token_ttl))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--as-of") == 0) {
			o->load.as_of = ccsim_time_parse(v, strlen(v));
			if (o->load.as_of < 0)
				return usage("--as-of %s: give 'YYYY-MM-DD HH:MM:SS'", v);
		} else if (strcmp(opt, "--slow-ms") == 0) {
			if (number(opt, v, 0, 600000, &s->f.slow_ms))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--fail-500") == 0) {
			if (fraction(opt, v, &s->f.fail_500))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--rate-limit") == 0) {
			if (number(opt, v, 0, 1000000, &s->f.rate_limit))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--expire-token-after") == 0) {
			if (number(opt, v, 0, 1000000000L, &s->f.expire_token_after))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--html-every") == 0) {
			if (number(opt, v, 0, 1000000000L, &s->f.html_every))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--truncate-every") == 0) {
			if (number(opt, v, 0, 1000000000L, &s->f.truncate_every))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--repeat-page") == 0) {
			if (number(opt, v, 0, 1000000000L, &s->f.repeat_every))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--skip-page") == 0) {
			if (number(opt, v, 0, 1000000000L, &s->f.skip_every))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--mutate-while-paging") == 0) {
			if (number(opt, v, 0, 1000000L, &s->f.mutate))
				return EXIT_USAGE;
		} else {
			return usage("unknown option %s", opt);
		}
	}
	if (!o->load.dir)
		return usage("--data DIR is required%s", "");
	if (!o->secret_file)
		return usage("--app-secret-file FILE is required (a secret on the command line "
			     "would show in ps)%s", "");
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	struct ccsim_server s;
	struct ccsim_data data;
	struct ccsim_daemon *dm = NULL;
	struct opts o;
	sigset_t set;
	unsigned bound = 0;
	int sig, rc;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	s.app_id = "spgw";
	s.token_ttl = 600;
	s.seed = 1;
	o.load.as_of = INT64_MAX;
	rc = parse_args(argc, argv, &s, &o);
	if (rc)
		return rc;
	s.app_secret = read_secret(o.secret_file);
	if (!s.app_secret)
		return EXIT_FAILED;
	if (ccsim_data_load(&data, &o.load)) {
		free(s.app_secret);
		return EXIT_FAILED;
	}
	s.data = &data;
	/* the signals are taken by sigwait below, in this thread only */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = EXIT_FAILED;
	if (ccsim_http_start(&s, (unsigned)o.port, &dm, &bound))
		goto out;
	if (o.port_file && write_port_file(o.port_file, bound))
		goto out;
	printf("listening on http://127.0.0.1:%u/api/v2\n", bound);
	fflush(stdout);
	sigwait(&set, &sig);
	rc = EXIT_DONE;
out:
	ccsim_http_stop(dm);
	ccsim_data_free(&data);
	free(s.app_secret);
	return rc;
}
