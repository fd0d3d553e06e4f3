/*
 * spgw-national-sim: the command line. `init` makes a directory with the test CA and keys,
 * `register` adds a gateway, `serve` runs the platform, `stats` and `dump` show what it
 * stored, `seed` fills a new store from a gateway ledger (README.md beside this file has the
 * whole story).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "sim.h"

#ifndef SIM_SCHEMA_DEFAULT
#define SIM_SCHEMA_DEFAULT "config/schema/spgl-v3.json"
#endif

/* Exit statuses: 0 done, 1 failed, 2 bad command line. */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"usage: spgw-national-sim COMMAND [options]\n"
	"\n"
	"  init     --dir DIR [--alg sm2-sm3|ecdsa-p256-sha256|ed25519]\n"
	"           [--hosts 127.0.0.1,localhost] [--force]\n"
	"  register --dir DIR --gateway ID --key PUBKEY.pem --regions 220100,220300|22*\n"
	"  serve    --dir DIR [--listen 127.0.0.1:8443] [--base /spgl/v3] [--port-file F]\n"
	"           [--schema FILE] [--max-records N] [--max-bytes N] [--clock-offset S]\n"
	"           [--quiet] [faults]\n"
	"  stats    --dir DIR [--json]\n"
	"  dump     --dir DIR --region R --table T [--all]\n"
	"  seed     --dir DIR --from-ledger LEDGER [--from-ledger LEDGER2 ...] [--gateway ID]\n"
	"           [--drop R] [--alter R] [--extra N] [--seed N] [--manifest FILE]\n"
	"           [--schema FILE]\n"
	"\n"
	"faults (fractions 0..1, drawn per POST /batches from --seed N):\n"
	"  --fail-5xx F  --fail-429 F [--retry-after S]  --hang F [--hang-seconds S]\n"
	"  --reset F  --slow-ms N  --reject 'FIELD~REGEX'  --reject-rate F\n"
	"  --force-status CODE[:N]  --lie receipt-sig|receipt-counts|not-json|truncated|\n"
	"                                 results-fewer|results-more[:F]\n"
	"faults of GET counts and keys (fractions drawn per request from --seed N):\n"
	"  --lie-counts shift|outside|plus-one|total[:F]  --lie-keys loop|repeat[:F]\n"
	"  --slow-query-ms N\n";

static void perror_spgw(const struct spgw_error *err)
{
	char line[1024];

	fprintf(stderr, "spgw-national-sim: %s\n", spgw_error_format(err, line, sizeof(line)));
}

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "spgw-national-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", usage_text);
	return EXIT_USAGE;
}

/* The value after option argv[*i], moving *i past it. */
static const char *value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* ---- init, register ---- */

static int cmd_init(int argc, char **argv)
{
	struct sim_init_opts o = { NULL, SIM_ALG_SM2_SM3, "127.0.0.1,localhost", 0 };
	struct spgw_error err;
	const char *v;
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0) {
			o.force = 1;
			continue;
		}
		v = value(argc, argv, &i);
		if (!v)
			return usage("%s needs a value", argv[i]);
		if (strcmp(argv[i - 1], "--dir") == 0)
			o.dir = v;
		else if (strcmp(argv[i - 1], "--hosts") == 0)
			o.hosts = v;
		else if (strcmp(argv[i - 1], "--alg") == 0) {
			if (sim_alg_parse(v, &o.alg))
				return usage("--alg %s: sm2-sm3, ecdsa-p256-sha256 or ed25519",
					     v);
		} else
			return usage("init: unknown option %s", argv[i - 1]);
	}
	if (!o.dir)
		return usage("init needs --dir%s", "");
	memset(&err, 0, sizeof(err));
	if (sim_tls_init(&o, &err)) {
		perror_spgw(&err);
		return EXIT_FAILED;
	}
	printf("initialised %s: ca.pem, server.pem (%s), national.pub (%s)\n", o.dir, o.hosts,
	       sim_alg_name(o.alg));
	return EXIT_DONE;
}

static int cmd_register(int argc, char **argv)
{
	const char *dir = NULL, *id = NULL, *key = NULL, *regions = NULL, *v;
	struct spgw_error err;
	int i;

	for (i = 2; i < argc; i++) {
		v = value(argc, argv, &i);
		if (!v)
			return usage("%s needs a value", argv[i]);
		if (strcmp(argv[i - 1], "--dir") == 0)
			dir = v;
		else if (strcmp(argv[i - 1], "--gateway") == 0)
			id = v;
		else if (strcmp(argv[i - 1], "--key") == 0)
			key = v;
		else if (strcmp(argv[i - 1], "--regions") == 0)
			regions = v;
		else
			return usage("register: unknown option %s", argv[i - 1]);
	}
	if (!dir || !id || !key || !regions)
		return usage("register needs --dir, --gateway, --key and --regions%s", "");
	memset(&err, 0, sizeof(err));
	if (sim_registry_register(dir, id, key, regions, &err)) {
		perror_spgw(&err);
		return EXIT_FAILED;
	}
	printf("registered gateway %s for %s (a running server reads it on SIGHUP)\n", id,
	       regions);
	return EXIT_DONE;
}

/* ---- serve ---- */

time_t sim_now(const struct sim_server *s)
{
	return time(NULL) + s->clock_offset;
}

void sim_sleep_ms(struct sim_server *s, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->stop_lock);
	while (!s->stopping &&
	       pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->stop_lock);
}

struct sim_registry *sim_server_registry(struct sim_server *s)
{
	struct sim_registry *r;

	pthread_mutex_lock(&s->reg_lock);
	r = sim_registry_get(s->reg);
	pthread_mutex_unlock(&s->reg_lock);
	return r;
}

struct serve_opts {
	const char *listen, *port_file, *schema;
};

static int parse_number(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		fprintf(stderr, "spgw-national-sim: %s %s: give a whole number from %ld to %ld\n",
			opt, v, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

static int serve_args(int argc, char **argv, struct sim_server *s, struct serve_opts *o)
{
	struct spgw_error err;
	const char *v, *opt;
	long n;
	int i, k;

	for (i = 2; i < argc; i++) {
		opt = argv[i];
		if (strcmp(opt, "--quiet") == 0) {
			s->quiet = 1;
			continue;
		}
		v = value(argc, argv, &i);
		if (!v)
			return usage("%s needs a value", opt);
		memset(&err, 0, sizeof(err));
		k = sim_faults_option(&s->faults, opt, v, &err);
		if (k < 0) {
			perror_spgw(&err);
			return EXIT_USAGE;
		}
		if (k > 0)
			continue;
		if (strcmp(opt, "--dir") == 0) {
			s->dir = v;
		} else if (strcmp(opt, "--listen") == 0) {
			o->listen = v;
		} else if (strcmp(opt, "--base") == 0) {
			if (v[0] != '/' || v[strlen(v) - 1] == '/' || strchr(v, '?'))
				return usage("--base %s: a path like /spgl/v3 (no trailing /)", v);
			s->base = v;
		} else if (strcmp(opt, "--port-file") == 0) {
			o->port_file = v;
		} else if (strcmp(opt, "--schema") == 0) {
			o->schema = v;
		} else if (strcmp(opt, "--max-records") == 0) {
			if (parse_number(opt, v, 1, SIM_MAX_RECORDS, &s->max_records))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--max-bytes") == 0) {
			if (parse_number(opt, v, 1, SIM_MAX_BYTES, &n))
				return EXIT_USAGE;
			s->max_bytes = (size_t)n;
		} else if (strcmp(opt, "--clock-offset") == 0) {
			if (parse_number(opt, v, -100L * 365 * 86400, 100L * 365 * 86400,
					 &s->clock_offset))
				return EXIT_USAGE;
		} else {
			return usage("serve: unknown option %s", opt);
		}
	}
	if (!s->dir)
		return usage("serve needs --dir%s", "");
	return EXIT_DONE;
}

/* "127.0.0.1:8443" -> address and port; "localhost" means 127.0.0.1. */
static int split_listen(const char *listen, char host[64], unsigned *port)
{
	const char *colon = strrchr(listen, ':');
	long p;

	if (!colon || colon == listen || (size_t)(colon - listen) >= 64 ||
	    parse_number("--listen", colon + 1, 0, 65535, &p))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, 64, "127.0.0.1");
	*port = (unsigned)p;
	return 0;
}

static int write_port_file(const char *path, unsigned port)
{
	struct spgw_error err;
	char text[16];

	memset(&err, 0, sizeof(err));
	snprintf(text, sizeof(text), "%u\n", port);
	if (sim_write_file(path, text, strlen(text), 0644, &err)) {
		perror_spgw(&err);
		return -1;
	}
	return 0;
}

/* What serve loads before it listens; released by serve_free. */
struct serve_state {
	struct spgw_schema *schema;
	char *cert, *key;
	struct sim_daemon *daemon;
};

static int serve_load(struct sim_server *s, const struct serve_opts *o, struct serve_state *st)
{
	struct spgw_diag diag;
	struct spgw_error err;
	char path[4096];
	size_t n, i;

	memset(&err, 0, sizeof(err));
	spgw_diag_init(&diag);
	spgw_schema_load(o->schema, &st->schema, &diag);
	if (diag.n || !st->schema) {
		for (i = 0; i < diag.n; i++)
			perror_spgw(&diag.items[i]);
		fprintf(stderr, "spgw-national-sim: %s: cannot load the schema (--schema FILE)\n",
			o->schema);
		spgw_diag_free(&diag);
		return -1;
	}
	spgw_diag_free(&diag);
	s->schema = st->schema;
	snprintf(path, sizeof(path), "%s/server.pem", s->dir);
	if (sim_read_file(path, 1u << 20, &st->cert, &n, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s/server.key", s->dir);
	if (sim_read_file(path, 1u << 20, &st->key, &n, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s/national.key", s->dir);
	s->national = sim_key_load_private(path, &err);
	if (!s->national)
		goto fail;
	sim_key_alg(s->national, &s->national_alg);
	if (sim_registry_load(s->dir, &s->reg, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s/national.db", s->dir);
	if (sim_store_open(path, 0, &s->store, &err))
		goto fail;
	return 0;
fail:
	perror_spgw(&err);
	return -1;
}

static void serve_free(struct sim_server *s, struct serve_state *st)
{
	sim_http_stop(st->daemon);
	sim_store_close(s->store);
	sim_registry_put(s->reg);
	EVP_PKEY_free(s->national);
	spgw_schema_free(st->schema);
	if (st->key) {
		/* the server's private key was in memory only for MHD; wipe it */
		memset(st->key, 0, strlen(st->key));
		spgw_free(st->key);
	}
	spgw_free(st->cert);
}

/* SIGHUP: read gateways.json again; a bad file keeps the registry in force. */
static void reload(struct sim_server *s)
{
	struct sim_registry *r = NULL, *old;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	if (sim_registry_load(s->dir, &r, &err)) {
		perror_spgw(&err);
		fprintf(stderr, "spgw-national-sim: SIGHUP: kept the gateways in force\n");
		return;
	}
	pthread_mutex_lock(&s->reg_lock);
	old = s->reg;
	s->reg = r;
	pthread_mutex_unlock(&s->reg_lock);
	sim_registry_put(old);
	fprintf(stderr, "spgw-national-sim: SIGHUP: %zu gateway(s) registered\n",
		sim_registry_count(r));
}

static int cmd_serve(int argc, char **argv)
{
	struct sim_server s;
	struct serve_opts o = { SIM_LISTEN_DEFAULT, NULL, SIM_SCHEMA_DEFAULT };
	struct serve_state st;
	struct spgw_error err;
	char host[64], faults[512];
	unsigned port, bound = 0;
	sigset_t set;
	int sig, status, rc = EXIT_FAILED;

	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	s.base = SIM_BASE_DEFAULT;
	s.max_records = SIM_MAX_RECORDS;
	s.max_bytes = SIM_MAX_BYTES;
	sim_faults_init(&s.faults);
	pthread_mutex_init(&s.reg_lock, NULL);
	pthread_mutex_init(&s.stop_lock, NULL);
	pthread_cond_init(&s.stop_cond, NULL);
	status = serve_args(argc, argv, &s, &o);
	if (status) {
		rc = status;
		goto out;
	}
	if (split_listen(o.listen, host, &port)) {
		rc = usage("--listen %s: give HOST:PORT, e.g. 127.0.0.1:0", o.listen);
		goto out;
	}
	if (serve_load(&s, &o, &st))
		goto out;
	/* the signals are taken by sigwait below; MHD's threads inherit this mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&err, 0, sizeof(err));
	if (sim_http_start(&s, host, port, st.cert, st.key, &st.daemon, &bound, &err)) {
		perror_spgw(&err);
		goto out;
	}
	if (o.port_file && write_port_file(o.port_file, bound))
		goto out;
	sim_faults_describe(&s.faults, faults, sizeof(faults));
	printf("listening on https://%s:%u%s\n", host, bound, s.base);
	fflush(stdout);
	fprintf(stderr, "spgw-national-sim: %zu gateway(s), receipts %s, max %ld records / %zu "
		"bytes, clock offset %ld s%s%s\n", sim_registry_count(s.reg),
		sim_alg_name(s.national_alg), s.max_records, s.max_bytes, s.clock_offset,
		faults[0] ? ", faults:" : "", faults);
	for (;;) {
		if (sigwait(&set, &sig))
			break;
		if (sig == SIGHUP) {
			reload(&s);
			continue;
		}
		break;
	}
	fprintf(stderr, "spgw-national-sim: stopping\n");
	pthread_mutex_lock(&s.stop_lock);
	s.stopping = 1;
	pthread_cond_broadcast(&s.stop_cond);
	pthread_mutex_unlock(&s.stop_lock);
	rc = EXIT_DONE;
out:
	serve_free(&s, &st);
	sim_faults_free(&s.faults);
	pthread_mutex_destroy(&s.reg_lock);
	pthread_mutex_destroy(&s.stop_lock);
	pthread_cond_destroy(&s.stop_cond);
	return rc;
}

/* ---- stats, dump ---- */

static const char *const stat_cols[] = { "keys", "versions", "batches", "records", "accepted",
					 "duplicate", "rejected", "replays", "day_moves",
					 "stored_twice", "digest_repeats", "inconsistent",
					 "counts_drift" };
#define N_STAT_COLS (sizeof(stat_cols) / sizeof(stat_cols[0]))

/* A column as wide as its name, at least 8. */
static int stat_width(size_t i)
{
	int n = (int)strlen(stat_cols[i]);

	return n > 8 ? n : 8;
}

static void stats_line(const char *region, const char *table, const json_t *row)
{
	size_t i;

	printf("%-7s %-21s", region, table);
	for (i = 0; i < N_STAT_COLS; i++)
		printf(" %*lld", stat_width(i),
		       (long long)json_integer_value(json_object_get(row, stat_cols[i])));
	printf("\n");
}

static int cmd_stats(int argc, char **argv)
{
	const char *dir = NULL;
	struct sim_store *st = NULL;
	struct spgw_error err;
	char path[4096];
	json_t *j = NULL, *row;
	int json = 0, i, rc = EXIT_FAILED;
	size_t k;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else
			return usage("stats: unexpected %s", argv[i]);
	}
	if (!dir)
		return usage("stats needs --dir%s", "");
	memset(&err, 0, sizeof(err));
	snprintf(path, sizeof(path), "%s/national.db", dir);
	if (sim_store_open(path, 1, &st, &err) == SPGW_OK)
		j = sim_store_stats(st, &err);
	else if (err.code == SPGW_E_NOTFOUND)
		j = json_pack("{s:[], s:{}}", "tables", "total");
	if (!j) {
		perror_spgw(&err);
		goto out;
	}
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		printf("%-7s %-21s", "region", "table");
		for (k = 0; k < N_STAT_COLS; k++)
			printf(" %*s", stat_width(k), stat_cols[k]);
		printf("\n");
		json_array_foreach(json_object_get(j, "tables"), k, row)
			stats_line(json_string_value(json_object_get(row, "region")),
				   json_string_value(json_object_get(row, "table")), row);
		stats_line("total", "", json_object_get(j, "total"));
		printf("versions stored twice: %lld\n",
		       (long long)json_integer_value(
			       json_object_get(json_object_get(j, "total"), "stored_twice")));
	}
	rc = EXIT_DONE;
out:
	json_decref(j);
	sim_store_close(st);
	return rc;
}

static int dump_line(void *ud, const char *key, long version, const char *digest,
		     const char *day, int current)
{
	int all = *(int *)ud;

	if (all)
		printf("%s\t%ld\t%s\t%s\t%s\n", key, version, digest, day,
		       current ? "newest" : "old");
	else
		printf("%s\t%ld\t%s\t%s\n", key, version, digest, day);
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	const char *dir = NULL, *region = NULL, *table = NULL;
	struct sim_store *st = NULL;
	struct spgw_error err;
	char path[4096];
	int all = 0, i, rc = EXIT_FAILED;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
			region = argv[++i];
		else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc)
			table = argv[++i];
		else
			return usage("dump: unexpected %s", argv[i]);
	}
	if (!dir || !region || !table)
		return usage("dump needs --dir, --region and --table%s", "");
	memset(&err, 0, sizeof(err));
	snprintf(path, sizeof(path), "%s/national.db", dir);
	if (sim_store_open(path, 1, &st, &err)) {
		if (err.code == SPGW_E_NOTFOUND)
			rc = EXIT_DONE; /* nothing stored: nothing to list */
		else
			perror_spgw(&err);
		goto out;
	}
	if (sim_store_dump(st, region, table, all, dump_line, &all, &err)) {
		perror_spgw(&err);
		goto out;
	}
	rc = EXIT_DONE;
out:
	sim_store_close(st);
	return rc;
}

/* ---- seed ---- */

static int parse_rate(const char *opt, const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0.0 && d <= 1.0)) {
		fprintf(stderr, "spgw-national-sim: %s %s: give a fraction from 0 to 1\n", opt, v);
		return -1;
	}
	*out = d;
	return 0;
}

static int cmd_seed(int argc, char **argv)
{
	struct sim_seed_opts o;
	struct sim_seed_result res;
	struct spgw_error err;
	const char *v, *opt;
	long n;
	int i;

	memset(&o, 0, sizeof(o));
	o.gateway = "seed";
	o.schema = SIM_SCHEMA_DEFAULT;
	for (i = 2; i < argc; i++) {
		opt = argv[i];
		v = value(argc, argv, &i);
		if (!v)
			return usage("%s needs a value", opt);
		if (strcmp(opt, "--dir") == 0) {
			o.dir = v;
		} else if (strcmp(opt, "--from-ledger") == 0) {
			if (o.n_ledgers == SIM_SEED_MAX_LEDGERS)
				return usage("at most 64 --from-ledger%s", "");
			o.ledgers[o.n_ledgers++] = v;
		} else if (strcmp(opt, "--gateway") == 0) {
			if (!sim_is_token(v, SIM_GATEWAY_ID_MAX))
				return usage("--gateway %s: [A-Za-z0-9._-]{1,64}", v);
			o.gateway = v;
		} else if (strcmp(opt, "--drop") == 0) {
			if (parse_rate(opt, v, &o.drop))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--alter") == 0) {
			if (parse_rate(opt, v, &o.alter))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--extra") == 0) {
			if (parse_number(opt, v, 0, 100000000L, &o.extra))
				return EXIT_USAGE;
		} else if (strcmp(opt, "--seed") == 0) {
			if (parse_number(opt, v, 0, 0x7fffffffL, &n))
				return EXIT_USAGE;
			o.seed = (uint64_t)n;
		} else if (strcmp(opt, "--manifest") == 0) {
			o.manifest = v;
		} else if (strcmp(opt, "--schema") == 0) {
			o.schema = v;
		} else {
			return usage("seed: unknown option %s", opt);
		}
	}
	if (!o.dir || !o.n_ledgers)
		return usage("seed needs --dir and --from-ledger%s", "");
	if (o.drop + o.alter > 1.0)
		return usage("--drop and --alter add up to more than 1%s", "");
	memset(&err, 0, sizeof(err));
	if (sim_seed_run(&o, &res, &err)) {
		perror_spgw(&err);
		return EXIT_FAILED;
	}
	printf("seeded %s/national.db: %ld delivered versions read, %ld keys and %ld versions "
	       "stored (%ld duplicates, %ld day moves); %ld dropped, %ld altered, %ld extra; "
	       "%.1f s (%.1f s loading, %.0f versions/s overall)\n", o.dir, res.read, res.keys,
	       res.versions, res.duplicates, res.moves, res.dropped, res.altered, res.extra,
	       res.seconds, res.load_seconds,
	       res.seconds > 0 ? (double)res.read / res.seconds : 0.0);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, cmd ? stdout : stderr);
		return cmd ? EXIT_DONE : EXIT_USAGE;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc, argv);
	if (strcmp(cmd, "register") == 0)
		return cmd_register(argc, argv);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc, argv);
	if (strcmp(cmd, "dump") == 0)
		return cmd_dump(argc, argv);
	if (strcmp(cmd, "seed") == 0)
		return cmd_seed(argc, argv);
	return usage("unknown command %s", cmd);
}
