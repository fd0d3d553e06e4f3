/*
 * `spgw backfill`: pull one source's records created or changed in a date range again, through
 * its plugin's pull_range() (include/spgw/plugin.h): a city that joins late, a month lost.
 *
 * The records take the regular path (mapping, validation, quarantine, the ledger: unchanged
 * ones cost nothing, changed ones become new versions). The range keeps a cursor of its own,
 * so the source's regular cursor does not move, and an interrupted backfill goes on where it
 * stopped when the same command is run again; a finished one is remembered (ingest.h).
 *
 * Progress goes to stderr: on a terminal one line redrawn in place, elsewhere (a log file,
 * systemd) one plain line every few seconds and at the end. The total is what the plugin's
 * count() reports for the range; a plugin that cannot count gets no percentage and no ETA,
 * never a made-up total.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"
#include "plugin_host.h"

/* A terminal's line is redrawn this often, at most. */
#define TTY_EVERY_MS 200
/* Elsewhere one line this often: enough to follow a long run in a log, not a flood. */
#define PLAIN_EVERY_MS 5000

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] backfill --source NAME --from YYYY-MM-DD --to YYYY-MM-DD\n"
		"                                [--restart]\n"
		"\n"
		"Pulls again every record of one source that was created or changed on a day\n"
		"from --from to --to (inclusive, Beijing time): a city that joins late, a month\n"
		"that was lost. What \"changed on a day\" means is the plugin's to say\n"
		"(plugins/<name>/README.md). The records are mapped, validated and stored as\n"
		"any pull's: one the ledger holds unchanged costs nothing, a changed one becomes\n"
		"a new version. The source's regular cursor does not move.\n"
		"\n"
		"The range keeps its own cursor: interrupted (Ctrl-C, SIGTERM, a failure), the\n"
		"same command goes on where it stopped. A finished range is remembered; run it\n"
		"again with --restart. A source is never pulled by two processes at once: while\n"
		"`spgw ingest` or the daemon pulls it, the backfill is refused, and the other way\n"
		"round.\n"
		"\n"
		"  --source NAME       the configured source\n"
		"  --from YYYY-MM-DD   the first day\n"
		"  --to YYYY-MM-DD     the last day, not after today\n"
		"  --restart           read a range finished before again from its beginning\n"
		"\n"
		"Progress goes to stderr: the records so far, the total the source counts for\n"
		"those days when its plugin can count (count() is by business day, so the figure\n"
		"is a guide), the SPGL table and business day of the latest record, the rate and\n"
		"the time left. A table like `spgw ingest`'s follows on stdout.\n"
		"\n"
		"Exit status 0 when the range was read to its end (or was done before), 1 when it\n"
		"was not (interrupted, a failure, the source busy, a plugin that cannot re-pull a\n"
		"range), 2 for a wrong command line, 3 for configuration problems, 4 when the\n"
		"ledger is unusable.\n");
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, char out[11])
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	snprintf(out, 11, "%04d-%02d-%02d", (int)(y + (m <= 2)), (int)m, (int)d);
}

/*
 * A day as the command line gives it: exactly YYYY-MM-DD and a day the calendar has. Its day
 * number in *day, or NULL; else why not, for the message.
 */
static const char *parse_day(const char *s, long *day)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, m, d;
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return "is not a day written YYYY-MM-DD";
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return "is not a day written YYYY-MM-DD";
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (y < 1970 || m < 1 || m > 12)
		return "is not a day of the calendar (the year from 1970, the month 01 to 12)";
	if (d < 1 || d > dim[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return "is not a day of the calendar (that month has no such day)";
	*day = days_from_civil(y, m, d);
	return NULL;
}

/* Today in Beijing (UTC+8, no daylight saving), as a day number. */
static long beijing_today(void)
{
	return (long)((time(NULL) + 8 * 3600) / 86400);
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *out, size_t cap)
{
	char digits[24];
	size_t n, i, o = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	for (i = 0; i < n && o + 2 < cap; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

/* 75 -> "1m15s" */
static const char *duration(double s, char *out, size_t cap)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(out, cap, "%lds", t);
	return out;
}

struct progress {
	const struct spgw_schema *schema;
	const char *source, *from, *to;
	int tty;
	int total_known;
	uint64_t total;    /* what count() reported for the range, summed */
	uint64_t seen;     /* source records taken so far in this run */
	char table[64];    /* the latest SPGL record stored: its table */
	char day[11];      /* ... and business day ("" when it is inherited) */
	long long started; /* monotonic ms */
	long long shown;   /* when the last line was drawn */
	int drawn;         /* a terminal line is on the screen */
};

static void draw(struct progress *pg, int last)
{
	double secs = (double)(now_ms() - pg->started) / 1000.0;
	double rate = secs > 0.001 ? (double)pg->seen / secs : 0.0;
	char n[32], t[32], r[32], eta[32], line[512];
	size_t len;

	grouped(pg->seen, n, sizeof(n));
	len = (size_t)snprintf(line, sizeof(line), "%s %s..%s: %s", pg->source, pg->from, pg->to,
			       n);
	if (pg->total_known && pg->seen <= pg->total && pg->total)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " of %s records (%d%%)",
					grouped(pg->total, t, sizeof(t)),
					(int)(pg->seen * 100 / pg->total));
	else if (pg->total_known)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " records (%s counted)",
					grouped(pg->total, t, sizeof(t)));
	else
		len += (size_t)snprintf(line + len, sizeof(line) - len, " records");
	if (pg->table[0])
		len += (size_t)snprintf(line + len, sizeof(line) - len, ", latest %s%s%s",
					pg->table, pg->day[0] ? " " : "", pg->day);
	len += (size_t)snprintf(line + len, sizeof(line) - len, ", %s records/s",
				grouped((uint64_t)(rate + 0.5), r, sizeof(r)));
	if (!last && pg->total_known && rate > 0 && pg->seen <= pg->total)
		snprintf(line + len, sizeof(line) - len, ", %s left",
			 duration((double)(pg->total - pg->seen) / rate, eta, sizeof(eta)));
	else if (last)
		snprintf(line + len, sizeof(line) - len, ", %s", duration(secs, eta, sizeof(eta)));
	if (pg->tty) {
		struct winsize ws;

		/* a line longer than the terminal wraps, and \r would then redraw only its
		 * last part: cut it (the line is ASCII, one column a byte) */
		if (!last && !ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 1 &&
		    strlen(line) >= ws.ws_col)
			line[ws.ws_col - 1] = '\0';
		fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
		pg->drawn = !last;
	} else {
		fprintf(stderr, "spgw: backfill %s\n", line);
	}
	fflush(stderr);
	pg->shown = now_ms();
}

static void on_progress(void *ud, const struct spgw_ingest_result *r, uint64_t seen)
{
	struct progress *pg = ud;
	long long t = now_ms();

	(void)r;
	pg->seen = seen;
	if (t - pg->shown >= (pg->tty ? TTY_EVERY_MS : PLAIN_EVERY_MS))
		draw(pg, 0);
}

/* Each SPGL record decided: remember the latest one stored, for the progress line. */
static void on_observe(void *ud, const struct spgw_pipeline_source *src, const char *table,
		       const char *key, const json_t *record, const struct spgw_reasons *reasons)
{
	struct progress *pg = ud;
	const struct spgw_table *t = spgw_schema_table(pg->schema, table);
	const struct spgw_table *parent;
	const char *const *fields;
	char day[11];

	(void)src;
	(void)key;
	if (reasons->n || !t || !record)
		return; /* quarantined: not stored */
	snprintf(pg->table, sizeof(pg->table), "%s", table);
	if (spgw_schema_day(t, record, day, &parent, &fields) == SPGW_DAY_OK)
		memcpy(pg->day, day, sizeof(pg->day));
	else
		pg->day[0] = '\0';
}

/* The count job: the records the plugin reports for the range, summed. */
struct counting {
	uint64_t total;
};

static enum spgw_rc count_rec(void *ud, struct spgw_host_job *job, const char *table,
			      const char *json, size_t len)
{
	(void)ud, (void)job, (void)table, (void)json, (void)len;
	return SPGW_E_PLUGIN; /* a count job sends none: the host refuses them first */
}

static enum spgw_rc count_commit(void *ud, struct spgw_host_job *job, const char *cursor)
{
	(void)ud, (void)job, (void)cursor;
	return SPGW_E_PLUGIN;
}

static enum spgw_rc count_one(void *ud, struct spgw_host_job *job, const char *table,
			      const char *day, uint64_t records)
{
	struct counting *c = ud;

	(void)job, (void)table, (void)day;
	c->total += records;
	return SPGW_OK;
}

static void count_log(void *ud, struct spgw_host_job *job, enum spgw_log_level level,
		      const char *line)
{
	(void)ud;
	spgw_log(level, job->source, "%s", line);
}

static int count_stopping(void *ud)
{
	(void)ud;
	return stop_flag;
}

/* The total for the progress line: 1 when the plugin counted the range, 0 when it cannot
 * (no count(), or the count failed: said at warning level, the backfill goes on). */
static int count_range(const struct spgw_source *src, const char *from, const char *to,
		       uint64_t *total)
{
	static const struct spgw_host_ops ops = {
		.record = count_rec,
		.commit = count_commit,
		.log = count_log,
		.count = count_one,
		.stopping = count_stopping,
	};
	struct spgw_host_job job;
	struct counting c = {0};
	struct spgw_error err;
	char line[1024], *workdir = spgw_strdup(src->file);
	int known = 0;

	memset(&job, 0, sizeof(job));
	memset(&err, 0, sizeof(err));
	if (!workdir) {
		spgw_log(SPGW_LOG_WARNING, src->name, "out of memory: the total is not counted");
		return 0;
	}
	if (strrchr(workdir, '/'))
		*strrchr(workdir, '/') = '\0';
	else
		strcpy(workdir, ".");
	job.source = src->name;
	job.plugin_path = src->plugin_path;
	job.settings = src->settings;
	job.region = src->region;
	job.workdir = workdir;
	job.op = SPGW_HOST_COUNT;
	job.count_from = from;
	job.count_to = to;
	job.timeout_ms = src->timeout_ms;
	job.memory_limit = src->memory_limit;
	if (spgw_host_run(&job, 1, 1, &ops, &c, &err))
		spgw_log(SPGW_LOG_WARNING, src->name, "the total is not counted: %s",
			 spgw_error_format(&err, line, sizeof(line)));
	else if (job.result == SPGW_OK)
		known = 1;
	else if (job.result != SPGW_E_NOTFOUND && !stop_flag)
		spgw_log(SPGW_LOG_WARNING, src->name, "the total is not counted: %s",
			 spgw_error_format(&job.error, line, sizeof(line)));
	spgw_free(workdir);
	*total = c.total;
	return known;
}

static void print_result(const struct spgw_ingest_result *r, size_t n)
{
	size_t i;

	printf("%-24s %-6s %9s %9s %9s %9s %11s %7s %8s  %s\n", "source", "region", "records",
	       "new", "changed", "unchanged", "quarantined", "commits", "rec/s", "result");
	for (i = 0; i < n; i++) {
		const struct spgw_pipeline_stats *st = &r[i].stats;

		printf("%-24s %-6s %9llu %9llu %9llu %9llu %11llu %7llu %8.0f  %s\n",
		       r[i].source->name, r[i].source->region, (unsigned long long)st->records,
		       (unsigned long long)st->added, (unsigned long long)st->versions,
		       (unsigned long long)st->unchanged, (unsigned long long)st->quarantined,
		       (unsigned long long)r[i].commits,
		       r[i].seconds > 0 ? (double)st->records / r[i].seconds : 0.0,
		       r[i].already_done ? "done before"
		       : r[i].rc	 ? (stop_flag && r[i].rc == SPGW_E_RETRY ? "interrupted"
										  : "FAILED")
					 : "ok");
	}
	fflush(stdout);
}

static const struct spgw_source *find_source(const struct spgw_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (!strcmp(c->sources[i].name, name))
			return &c->sources[i];
	return NULL;
}

/* Ask the plugin whether it has pull_range() before counting anything: 1 yes, 0 no (said on
 * stderr), -1 when it cannot be described (said too). */
static int can_pull_range(const struct spgw_source *src)
{
	struct spgw_error err;
	json_t *info = NULL;
	const char *name;
	int yes;

	memset(&err, 0, sizeof(err));
	if (spgw_host_describe(src->plugin_path, src->timeout_ms, &info, &err)) {
		spgw_cmd_perror(&err);
		return -1;
	}
	yes = json_is_true(json_object_get(info, "pull_range"));
	if (!yes) {
		name = json_string_value(json_object_get(info, "name"));
		fprintf(stderr, "spgw: %s: plugin %s cannot re-pull a date range; its "
			"regular pull already reads everything from its cursor\n", src->name,
			name ? name : src->plugin_path);
	}
	json_decref(info);
	return yes;
}

/* Each failed result: why, and for the source what to do; an interruption is said once. */
static void report(const struct spgw_ingest_result *r, size_t n,
		   const struct spgw_source *src)
{
	char line[1024];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!r[i].rc || (stop_flag && r[i].rc == SPGW_E_RETRY))
			continue;
		fprintf(stderr, "spgw: %s\n", spgw_error_format(&r[i].error, line, sizeof(line)));
		if (r[i].source == src && r[i].rc != SPGW_E_BUSY)
			fprintf(stderr, "spgw: what the backfill of %s stored is kept; run the "
				"same command again to go on from there\n", src->name);
	}
}

int spgw_cmd_backfill(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"source", required_argument, NULL, 's'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"restart", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct spgw_ingest_opts io;
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_ingest_result *res = NULL;
	const struct spgw_source *src;
	struct sigaction sa, old_int, old_term;
	struct spgw_error err;
	struct progress pg;
	const char *source = NULL, *from = NULL, *to = NULL, *why;
	char today[11], done_at[32], holder[128];
	long dfrom = 0, dto = 0;
	size_t nres = 0, i;
	int opt, status, restart = 0, done = 0, interrupted;
	enum spgw_rc rc;

	memset(&io, 0, sizeof(io));
	memset(&err, 0, sizeof(err));
	memset(&pg, 0, sizeof(pg));
	while ((opt = getopt_long(argc, argv, "s:f:t:rh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			source = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'r':
			restart = 1;
			break;
		case 'h':
			help(stdout);
			return SPGW_EXIT_OK;
		default:
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	if (optind != argc || !source || !from || !to) {
		fprintf(stderr, "spgw: backfill: %s\n", optind != argc ? "unexpected arguments"
			: "--source, --from and --to are all required");
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if ((why = parse_day(from, &dfrom))) {
		fprintf(stderr, "spgw: backfill: --from \"%s\" %s\n", from, why);
		return SPGW_EXIT_USAGE;
	}
	if ((why = parse_day(to, &dto))) {
		fprintf(stderr, "spgw: backfill: --to \"%s\" %s\n", to, why);
		return SPGW_EXIT_USAGE;
	}
	if (dfrom > dto) {
		fprintf(stderr, "spgw: backfill: --from %s is after --to %s; give the earlier day "
			"first\n", from, to);
		return SPGW_EXIT_USAGE;
	}
	if (dto > beijing_today()) {
		civil_from_days(beijing_today(), today);
		fprintf(stderr, "spgw: backfill: --to %s is in the future (today is %s in "
			"Beijing); nothing can have changed then yet\n", to, today);
		return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		return status;
	src = find_source(c, source);
	if (!src) {
		fprintf(stderr, "spgw: backfill: no source named \"%s\" (spgw check-config lists "
			"them)\n", source);
		status = SPGW_EXIT_USAGE;
		goto out;
	}
	/* before anything is counted or started */
	if (!restart) {
		rc = spgw_ingest_backfill_done(l, src->name, from, to, &done, done_at, &err);
		if (rc) {
			spgw_cmd_perror(&err);
			status = spgw_cmd_exit(rc);
			goto out;
		}
		if (done) {
			printf("%s: the backfill from %s to %s is already done (%s); --restart to "
			       "run again\n", src->name, from, to, done_at);
			goto out;
		}
	}
	switch (can_pull_range(src)) {
	case 1:
		break;
	case 0:
		status = SPGW_EXIT_PARTIAL;
		goto out;
	default:
		status = SPGW_EXIT_PLUGIN;
		goto out;
	}
	/* no SA_RESTART: a signal must wake the plugin host's poll() at once */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_flag = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	pg.schema = s;
	pg.source = src->name;
	pg.from = from;
	pg.to = to;
	pg.tty = isatty(STDERR_FILENO);
	pg.total_known = count_range(src, from, to, &pg.total);
	pg.started = pg.shown = now_ms();
	snprintf(holder, sizeof(holder), "spgw backfill %s..%s", from, to);
	io.only_source = src->name;
	io.range_from = from;
	io.range_to = to;
	io.range_restart = restart;
	io.catalog = c->catalog_path;
	io.holder = holder;
	io.observe = on_observe;
	io.observe_ud = &pg;
	io.progress = on_progress;
	io.progress_ud = &pg;
	io.stop = &stop_flag;
	if (!stop_flag) {
		rc = spgw_ingest_run(c->sources, c->nsources, s, l, &io, &res, &nres, &err);
		/* the last figures, when the range was pulled at all: what was stored (records
		 * after the last commit of an interrupted run were not) */
		for (i = 0; i < nres; i++) {
			if (res[i].source == src && res[i].rc != SPGW_E_BUSY &&
			    !res[i].already_done) {
				pg.seen = res[i].stats.records;
				draw(&pg, 1);
			}
		}
	} else {
		rc = SPGW_E_RETRY;
	}
	/* a signal that came after the range was read to its end interrupted nothing */
	interrupted = stop_flag;
	for (i = 0; i < nres && interrupted; i++)
		if (res[i].source == src && res[i].rc != SPGW_E_RETRY)
			interrupted = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (res) {
		print_result(res, nres);
		report(res, nres, src);
	}
	if (!res && rc && !interrupted) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(rc);
		goto out;
	}
	if (interrupted) {
		fprintf(stderr, "spgw: interrupted; run the same command again to resume\n");
		status = SPGW_EXIT_PARTIAL;
	} else {
		status = rc ? SPGW_EXIT_PARTIAL : SPGW_EXIT_OK;
	}
out:
	spgw_free(res);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
