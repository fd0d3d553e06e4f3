/*
 * The plugin host and runner against plugins that misbehave on purpose (tests/plugins/).
 *
 * Needs SPGW_PLUGIN_RUNNER (the spgw-plugin-runner binary) and SPGW_TEST_PLUGINS (the folder
 * holding the test plugins built as <name>.so); tests/plugins/build.sh builds all three and
 * runs this. Every run also checks that no child is left unreaped, no descriptor is leaked,
 * records of two jobs never interleave between commits, and abort() is called exactly when
 * a job ended with records delivered since its last commit.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin_host.h"

static const char *plugins_dir;

struct jstat {
	unsigned long records, commits, aborts, dones, pending, nlogs;
	enum spgw_rc fail_commit;    /* the commit callback returns this (0: works) */
	unsigned long fail_record_at; /* the record callback fails on this record (0: never) */
	char recs[8][64];            /* the first records' bytes */
	size_t reclen[8];
	char last[64];               /* the last record */
	char cursor[64];             /* the last committed cursor */
	char logs[32768];
	char counts[512];
	char path[512];
};

static struct {
	struct spgw_host_job *open;   /* the job with records since its last commit */
	unsigned long interleaved;    /* a record of another job while one was open */
	unsigned long bad_abort;      /* abort() without records since the last commit */
	unsigned long unaborted;      /* a job ended with such records but no abort() */
	unsigned long missing_nul;    /* a record without the promised NUL after it */
	int max_children;             /* most runner processes seen at once, -1 unknown */
} T;

/* Children of this process now, from /proc; -1 when the kernel does not say. */
static int children_now(void)
{
	char path[64], buf[4096];
	FILE *f;
	size_t n;
	int count = 0;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
		count++;
	return count;
}

static enum spgw_rc on_record(void *ud, struct spgw_host_job *job, const char *table,
			      const char *json, size_t len)
{
	struct jstat *js = job->ud;
	int kids = children_now();

	(void)ud;
	ck_assert_ptr_nonnull(table);
	if (T.open && T.open != job)
		T.interleaved++;
	T.open = job;
	if (json[len] != '\0')
		T.missing_nul++;
	if (kids > T.max_children)
		T.max_children = kids;
	if (js->records < 8) {
		memcpy(js->recs[js->records], json, len < 64 ? len : 64);
		js->reclen[js->records] = len;
	}
	snprintf(js->last, sizeof(js->last), "%.*s", (int)(len < 63 ? len : 63), json);
	js->records++;
	js->pending++;
	if (js->fail_record_at && js->records == js->fail_record_at)
		return SPGW_E_LEDGER;
	return SPGW_OK;
}

static enum spgw_rc on_commit(void *ud, struct spgw_host_job *job, const char *cursor)
{
	struct jstat *js = job->ud;

	(void)ud;
	if (js->fail_commit)
		return js->fail_commit; /* the records stay uncommitted: abort() must follow */
	js->commits++;
	js->pending = 0;
	if (T.open == job)
		T.open = NULL;
	snprintf(js->cursor, sizeof(js->cursor), "%s", cursor);
	return SPGW_OK;
}

static void on_abort(void *ud, struct spgw_host_job *job)
{
	struct jstat *js = job->ud;

	(void)ud;
	js->aborts++;
	if (!js->pending)
		T.bad_abort++;
	js->pending = 0;
	if (T.open == job)
		T.open = NULL;
}

static void on_log(void *ud, struct spgw_host_job *job, enum spgw_log_level level,
		   const char *line)
{
	struct jstat *js = job->ud;
	size_t n = strlen(js->logs);

	(void)ud;
	js->nlogs++;
	snprintf(js->logs + n, sizeof(js->logs) - n, "%d %s\n", (int)level, line);
}

static enum spgw_rc on_count(void *ud, struct spgw_host_job *job, const char *table,
			     const char *day, uint64_t records)
{
	struct jstat *js = job->ud;
	size_t n = strlen(js->counts);

	(void)ud;
	snprintf(js->counts + n, sizeof(js->counts) - n, "%s %s %llu;", table, day,
		 (unsigned long long)records);
	return SPGW_OK;
}

static void on_done(void *ud, struct spgw_host_job *job)
{
	struct jstat *js = job->ud;

	(void)ud;
	js->dones++;
	if (js->pending)
		T.unaborted++;
}

static const struct spgw_host_ops ops = {
	.record = on_record,
	.commit = on_commit,
	.abort = on_abort,
	.log = on_log,
	.count = on_count,
	.done = on_done,
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void job_init(struct spgw_host_job *job, struct jstat *js, const char *plugin,
		     const char *settings)
{
	memset(job, 0, sizeof(*job));
	memset(js, 0, sizeof(*js));
	snprintf(js->path, sizeof(js->path), "%s/%s.so", plugins_dir, plugin);
	job->source = plugin;
	job->plugin_path = js->path;
	job->settings = settings ? settings : "{}";
	job->region = "220100";
	job->timeout_ms = 10000; /* generous: sanitizers make everything slower */
	job->ud = js;
}

/* Run the jobs and check what must hold after any run. */
static void run_jobs(struct spgw_host_job *jobs, size_t n, size_t parallel)
{
	struct spgw_error err;
	int before = count_fds();
	size_t i;

	memset(&err, 0, sizeof(err));
	T.max_children = -1;
	ck_assert_int_eq(spgw_host_run(jobs, n, parallel, &ops, NULL, &err), SPGW_OK);
	ck_assert_int_eq(count_fds(), before);
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_uint_eq(T.interleaved, 0);
	ck_assert_uint_eq(T.bad_abort, 0);
	ck_assert_uint_eq(T.unaborted, 0);
	ck_assert_uint_eq(T.missing_nul, 0);
	for (i = 0; i < n; i++) {
		struct jstat *js = jobs[i].ud;

		ck_assert_uint_eq(js->dones, 1);
		ck_assert_uint_eq(js->records, jobs[i].records);
		ck_assert_uint_eq(js->commits, jobs[i].commits);
		if (jobs[i].result)
			ck_assert_str_eq(jobs[i].error.source, jobs[i].source);
	}
}


/* The job ended with `code` and a message holding `what` and the plugin's path. */
static void expect(const struct spgw_host_job *job, enum spgw_rc code, const char *what)
{
	ck_assert_msg(job->result == code, "%s: result %d (%s), wanted %d; message: %s",
		      job->source, job->result, spgw_strerror(job->result), code, job->error.text);
	if (!what)
		return;
	ck_assert_msg(strstr(job->error.text, what), "%s: message \"%s\" lacks \"%s\"",
		      job->source, job->error.text, what);
	ck_assert_msg(strstr(job->error.text, job->plugin_path), "message \"%s\" lacks the path",
		      job->error.text);
}

static void expect_counts(const struct jstat *js, unsigned long records,
			  unsigned long commits, unsigned long aborts)
{
	ck_assert_msg(js->records == records && js->commits == commits && js->aborts == aborts,
		      "records %lu commits %lu aborts %lu, wanted %lu %lu %lu", js->records,
		      js->commits, js->aborts, records, commits, aborts);
}

/* Dead or a zombie (its parent is now init, which reaps when it likes). */
static int dead_now(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return !p || p[2] == 'Z' || p[2] == 'X';
}

/* Wait (not sleep) until process `pid` has died: its pidfd turns readable. Where pidfd_open
 * is missing (valgrind), watch its state until a deadline instead. */
static int gone(pid_t pid)
{
	struct pollfd p;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	double t0 = seconds();
	int r;

	if (fd < 0 && errno == ESRCH)
		return 1;
	if (fd < 0) {
		while (!dead_now(pid) && seconds() - t0 < 5.0)
			sched_yield();
		return dead_now(pid);
	}
	p.fd = fd;
	p.events = POLLIN;
	r = poll(&p, 1, 5000);
	close(fd);
	return r == 1;
}

START_TEST(test_good)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":10,\"k\":3}");
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 10, 4, 0);
	ck_assert_str_eq(js.cursor, "rec-10");
	ck_assert_uint_eq(js.reclen[0], strlen("{\"id\":0,\"name\":\"项目0\"}"));
	ck_assert(!memcmp(js.recs[0], "{\"id\":0,\"name\":\"项目0\"}", js.reclen[0]));
	ck_assert_str_eq(js.last, "{\"id\":9,\"name\":\"项目9\"}");
	ck_assert_ptr_nonnull(strstr(js.logs, "2 pulling from the start\n"));
}
END_TEST

START_TEST(test_good_resumes_after_cursor)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":10,\"k\":3}");
	job.cursor = "rec-6";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 4, 2, 0);
	ck_assert(!memcmp(js.recs[0], "{\"id\":6,", 8));
	ck_assert_ptr_nonnull(strstr(js.logs, "pulling from rec-6"));
}
END_TEST

START_TEST(test_undeclared_table_refused_by_runner)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":10,\"k\":3,\"table\":\"other\"}");
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_PLUGIN, "table \"other\" is not in the plugin's declared tables");
	expect_counts(&js, 0, 0, 0);
}
END_TEST

/* One plugin alone: its outcome, message and counts (records, commits, aborts). */
START_TEST(test_outcome)
{
	static const struct {
		const char *plugin;
		enum spgw_rc code;
		const char *what;
		unsigned long records, commits, aborts;
	} cases[] = {
		{"segv", SPGW_E_PLUGIN, "crashed with signal 11 (Segmentation fault)", 15, 1, 1},
		{"garbage", SPGW_E_PLUGIN, "wrote garbage on its channel", 5, 1, 1},
		{"small_struct", SPGW_E_PLUGIN, "its descriptor says struct_size 16", 0, 0, 0},
		/* and its careless commit after the refused record was refused too */
		{"oversized", SPGW_E_PLUGIN, "a record of 16777217 bytes from table t exceeds "
		 "the gateway's limit of 16777216 bytes (SPGW_MAX_RECORD); it was not stored, "
		 "fix the source record (then it returned ERROR: the host refused the big "
		 "record)", 1, 1, 0},
		{"no_commit", SPGW_E_PLUGIN,
		 "more than 5000 records were emitted without a commit()", 5000, 0, 1},
		{"early_exit", SPGW_E_PLUGIN,
		 "exited with status 3 without reporting its outcome", 3, 1, 1},
		{"retry", SPGW_E_RETRY, "asked to be retried later: server busy, try later", 1, 1,
		 0},
		{"closefd", SPGW_E_PLUGIN, "without reporting its outcome", 0, 0, 0},
	};
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, cases[_i].plugin, NULL);
	run_jobs(&job, 1, 0);
	expect(&job, cases[_i].code, cases[_i].what);
	expect_counts(&js, cases[_i].records, cases[_i].commits, cases[_i].aborts);
}
END_TEST

/* hang, spin and ignores_sigterm: stopped after 300 ms of silence, quickly. */
START_TEST(test_silent)
{
	static const char *const names[] = {"hang", "spin", "ignores_sigterm"};
	struct spgw_host_job job;
	struct jstat js;
	double t0 = seconds();

	job_init(&job, &js, names[_i], NULL);
	job.timeout_ms = 300;
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_PLUGIN, "sent nothing for 300 ms");
	expect_counts(&js, 0, 0, 0);
	ck_assert_msg(seconds() - t0 < 3.0, "took %.1f s", seconds() - t0);
}
END_TEST

START_TEST(test_leak)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "leak", NULL);
	job.memory_limit = (size_t)64 << 20;
	run_jobs(&job, 1, 0);
	if (strstr(js.logs, "memory limit not applied: this spgw-plugin-runner was built with "
			    "AddressSanitizer")) {
		/* such a runner cannot have a limit, and says so; the plugin then stopped itself */
		expect(&job, SPGW_E_CONFIG, "no memory limit in force");
		return;
	}
	expect(&job, SPGW_E_PLUGIN, "crashed with signal 6 (Aborted)");
	ck_assert_ptr_nonnull(strstr(job.error.text, "memory limit of 64 MiB"));
	expect_counts(&js, 0, 0, 0);
}
END_TEST

START_TEST(test_stdout_flood)
{
	struct spgw_host_job job;
	struct jstat js;
	char cut[2100];

	job_init(&job, &js, "stdout_flood", NULL);
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 100, 10, 0);
	ck_assert_uint_eq(js.reclen[7], 8);
	ck_assert(!memcmp(js.recs[7], "{\"id\":7}", 8));
	ck_assert_str_eq(js.last, "{\"id\":99}");
	ck_assert_str_eq(js.cursor, "c100");
	ck_assert_ptr_nonnull(strstr(js.logs, "2 first line\n"));
	/* control characters become spaces, invalid UTF-8 becomes '?' */
	ck_assert_ptr_nonnull(strstr(js.logs, "2 bell  and ?? bytes\n"));
	memset(cut, 'x', 2048);
	snprintf(cut + 2048, sizeof(cut) - 2048, " [cut at 2048 bytes]\n");
	ck_assert_ptr_nonnull(strstr(js.logs, cut));
	ck_assert_ptr_nonnull(strstr(js.logs, "lines of the plugin's output were dropped"));
	ck_assert_msg(js.nlogs < 1000, "%lu log lines passed the rate limit", js.nlogs);
}
END_TEST

START_TEST(test_bad_json_reaches_record_callback)
{
	static const char nul[] = "{\"a\":\"x\0y\"}";
	static const char *const want[] = {"not json", "{\"a\":", "\xff\xfe{}", "[1,2]", ""};
	struct spgw_host_job job;
	struct jstat js;
	size_t i;

	job_init(&job, &js, "bad_json", NULL);
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 6, 1, 0);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(js.reclen[i], strlen(want[i]));
		ck_assert(!memcmp(js.recs[i], want[i], js.reclen[i]));
	}
	ck_assert_uint_eq(js.reclen[5], sizeof(nul) - 1);
	ck_assert(!memcmp(js.recs[5], nul, sizeof(nul) - 1));
}
END_TEST

START_TEST(test_wrong_abi)
{
	struct spgw_host_job job;
	struct jstat js;
	char want[700];

	job_init(&job, &js, "wrong_abi", NULL);
	run_jobs(&job, 1, 0);
	snprintf(want, sizeof(want), "%s was built for plugin ABI 99; this spgw speaks ABI 1: "
		 "rebuild it against this spgw's include/spgw/plugin.h", js.path);
	expect(&job, SPGW_E_ABI, want);
	expect_counts(&js, 0, 0, 0);
}
END_TEST

static pid_t forked_pid(const struct jstat *js)
{
	const char *p = strstr(js->logs, "forked ");

	ck_assert_ptr_nonnull(p);
	return (pid_t)atoi(p + 7);
}

START_TEST(test_forker_group_dies)
{
	struct spgw_host_job job;
	struct jstat js;
	double t0 = seconds();

	job_init(&job, &js, "forker", NULL);
	job.timeout_ms = 300;
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_PLUGIN, "sent nothing for 300 ms");
	ck_assert(seconds() - t0 < 3.0);
	ck_assert(gone(forked_pid(&js)));
}
END_TEST

START_TEST(test_forker_leftover_killed_after_success)
{
	struct spgw_host_job job;
	struct jstat js;
	double t0 = seconds();

	job_init(&job, &js, "forker", "{\"then\":\"return\"}");
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	/* done well before the 10 s timeout, though the leftover held the channel and pipe */
	ck_assert(seconds() - t0 < 3.0);
	ck_assert(gone(forked_pid(&js)));
}
END_TEST

START_TEST(test_error)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "error", NULL);
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_CONFIG, "reported an error: setting url is missing");
	ck_assert_str_eq(job.error.key, "K-1");
	expect_counts(&js, 0, 0, 0);
}
END_TEST

/* Frames written straight to fd 3: the host's own checks, not the runner's. */
START_TEST(test_forged)
{
	static const struct {
		const char *mode, *what;
		unsigned long records, aborts;
		int any_commits; /* how many got through before the host stopped it varies */
	} cases[] = {
		{"long_table", "table name is longer than 64 bytes", 0, 0, 0},
		{"undeclared", "record of table \"secret\", which is not in its declared", 0, 0, 0},
		{"big_frame", "garbage on its channel (a frame longer than SPGW_MAX_FRAME)", 0, 0,
		 0},
		{"flood", "sent more than 5000 records without a commit", 5000, 1, 0},
		{"info_twice", "described itself twice", 0, 0, 0},
		{"done_garbage", "sent data after reporting its outcome", 0, 0, 0},
		{"bad_cursor", "sent a commit whose cursor is not valid UTF-8 text", 0, 0, 0},
		{"bad_log", "sent a log line with an unknown level", 0, 0, 0},
		{"commit_flood", "does not read the gateway's answers to its commits", 0, 0, 1},
		{"api_long_cursor", "refused: commit(): the cursor is longer than 4096 bytes", 0, 0,
		 0},
	};
	struct spgw_host_job job;
	struct jstat js;
	char settings[64];

	snprintf(settings, sizeof(settings), "{\"mode\":\"%s\"}", cases[_i].mode);
	job_init(&job, &js, "forge", settings);
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_PLUGIN, cases[_i].what);
	if (cases[_i].any_commits)
		ck_assert_uint_gt(js.commits, 0);
	else
		expect_counts(&js, cases[_i].records, 0, cases[_i].aborts);
}
END_TEST

START_TEST(test_crash_beside_good_job)
{
	struct spgw_host_job jobs[2];
	struct jstat js[2];

	job_init(&jobs[0], &js[0], "segv", NULL);
	job_init(&jobs[1], &js[1], "good", "{\"n\":20000,\"k\":500}");
	run_jobs(jobs, 2, 0);
	expect(&jobs[0], SPGW_E_PLUGIN, "Segmentation fault");
	expect_counts(&js[0], 15, 1, 1);
	expect(&jobs[1], SPGW_OK, NULL);
	expect_counts(&js[1], 20000, 40, 0);
	ck_assert_str_eq(js[1].last, "{\"id\":19999,\"name\":\"项目19999\"}");
}
END_TEST

/* Two busy jobs at once: their records must not mix between commits. */
START_TEST(test_two_jobs_do_not_interleave)
{
	struct spgw_host_job jobs[2];
	struct jstat js[2];

	job_init(&jobs[0], &js[0], "good", "{\"n\":20000,\"k\":5000}");
	job_init(&jobs[1], &js[1], "good", "{\"n\":20000,\"k\":5000,\"table\":\"items\"}");
	run_jobs(jobs, 2, 0); /* checks T.interleaved */
	expect(&jobs[0], SPGW_OK, NULL);
	expect(&jobs[1], SPGW_OK, NULL);
	expect_counts(&js[0], 20000, 4, 0);
	expect_counts(&js[1], 20000, 4, 0);
}
END_TEST

START_TEST(test_parallel_limit)
{
	struct spgw_host_job jobs[6];
	struct jstat js[6];
	size_t i;

	for (i = 0; i < 6; i++)
		job_init(&jobs[i], &js[i], "good", "{\"n\":300,\"k\":50}");
	run_jobs(jobs, 6, 2);
	for (i = 0; i < 6; i++) {
		expect(&jobs[i], SPGW_OK, NULL);
		expect_counts(&js[i], 300, 6, 0);
	}
	ck_assert_int_le(T.max_children, 2);
}
END_TEST

START_TEST(test_commit_callback_fails)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":10,\"k\":3}");
	js.fail_commit = SPGW_E_LEDGER;
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_LEDGER, "the gateway's commit failed (ledger error)");
	/* the plugin's commit() saw SPGW_PLUGIN_ERROR and stopped */
	ck_assert_ptr_nonnull(strstr(js.logs, "1 commit returned 2\n"));
	expect_counts(&js, 3, 0, 1);
}
END_TEST

START_TEST(test_record_callback_fails)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":10,\"k\":100}");
	js.fail_record_at = 5;
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_LEDGER, "could not take a record of table projects");
	expect_counts(&js, 5, 0, 1);
}
END_TEST

START_TEST(test_count)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":7,\"k\":2}");
	job.op = SPGW_HOST_COUNT;
	job.count_from = "2026-01-01";
	job.count_to = "2026-01-31";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	ck_assert_str_eq(js.counts, "projects 2026-01-01 7;items 2026-01-01 2;");
	expect_counts(&js, 0, 0, 0);
}
END_TEST

START_TEST(test_count_unsupported)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "segv", NULL);
	job.op = SPGW_HOST_COUNT;
	job.count_from = job.count_to = "2026-01-01";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_NOTFOUND, "cannot count records");
}
END_TEST

/* pull_range: the plugin's pull_range() with the range, through the pull's callbacks. */
START_TEST(test_pull_range)
{
	struct spgw_host_job job;
	struct jstat js;

	/* records 0..69 are on January 1..31 in turn: 10..12 holds ids 9-11, 40-42 */
	job_init(&job, &js, "good", "{\"n\":70,\"k\":4}");
	job.op = SPGW_HOST_PULL_RANGE;
	job.range_from = "2026-01-10";
	job.range_to = "2026-01-12";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 6, 2, 0);
	ck_assert_str_eq((const char *)js.recs[0], "{\"id\":9,\"day\":\"2026-01-10\"}");
	ck_assert_str_eq(js.last, "{\"id\":42,\"day\":\"2026-01-12\"}");
	ck_assert_str_eq(js.cursor, "range-70");
	ck_assert_ptr_nonnull(strstr(js.logs, "range 2026-01-10..2026-01-12 from the start"));
}
END_TEST

START_TEST(test_pull_range_resumes_after_cursor)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", "{\"n\":70,\"k\":4}");
	job.op = SPGW_HOST_PULL_RANGE;
	job.range_from = "2026-01-10";
	job.range_to = "2026-01-12";
	job.cursor = "range-41";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_OK, NULL);
	expect_counts(&js, 2, 1, 0);
	ck_assert_str_eq((const char *)js.recs[0], "{\"id\":41,\"day\":\"2026-01-11\"}");
	ck_assert_ptr_nonnull(strstr(js.logs, "from range-41"));
}
END_TEST

/* A plugin without pull_range(), here one built before it was appended (struct_size ends at
 * fini, and the member past it must not be read): the job says so, the pull still works. */
START_TEST(test_pull_range_unsupported)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "retry", NULL);
	job.op = SPGW_HOST_PULL_RANGE;
	job.range_from = job.range_to = "2026-01-01";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_NOTFOUND, "cannot re-pull a date range (it has no pull_range()); "
	       "its regular pull already reads everything from its cursor");
	expect_counts(&js, 0, 0, 0);
}
END_TEST

/* A range that is not two days never reaches the plugin. */
START_TEST(test_pull_range_bad_range)
{
	struct spgw_host_job job;
	struct jstat js;

	job_init(&job, &js, "good", NULL);
	job.op = SPGW_HOST_PULL_RANGE;
	job.range_from = "2026-01-01";
	job.range_to = "tomorrow";
	run_jobs(&job, 1, 0);
	expect(&job, SPGW_E_PLUGIN, "a range that is not two days YYYY-MM-DD");
	expect_counts(&js, 0, 0, 0);
}
END_TEST

/* ops->stopping: the running child is killed at once, what it committed stays, its open
 * records are aborted; a job not started ends too. */
static struct jstat *stop_after_of;
static int stop_after(void *ud)
{
	(void)ud;
	return stop_after_of && stop_after_of->records >= 3000;
}

START_TEST(test_stopping)
{
	struct spgw_host_ops stopping_ops = ops;
	struct spgw_host_job jobs[2];
	struct jstat js[2];
	struct spgw_error err;
	double t0 = seconds();

	job_init(&jobs[0], &js[0], "good", "{\"n\":100000000,\"k\":1000}");
	job_init(&jobs[1], &js[1], "good", "{\"n\":10,\"k\":3}");
	jobs[1].op = SPGW_HOST_PULL_RANGE;
	jobs[1].range_from = jobs[1].range_to = "2026-01-01";
	stop_after_of = &js[0];
	stopping_ops.stopping = stop_after;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_host_run(jobs, 2, 1, &stopping_ops, NULL, &err), SPGW_OK);
	ck_assert_msg(seconds() - t0 < 10.0, "took %.1f s", seconds() - t0);
	expect(&jobs[0], SPGW_E_RETRY, "was stopped: the gateway was asked to stop");
	ck_assert_uint_ge(js[0].commits, 3);
	ck_assert_uint_eq(js[0].dones, 1);
	ck_assert_uint_eq(T.unaborted, 0);
	ck_assert_uint_eq(jobs[1].result, SPGW_E_RETRY);
	ck_assert_ptr_nonnull(strstr(jobs[1].error.text, "not started"));
	ck_assert_uint_eq(js[1].dones, 1);
	ck_assert_uint_eq(js[1].records, 0);
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

static enum spgw_rc describe(const char *name, json_t **info, struct spgw_error *err)
{
	char path[512];
	int before = count_fds();
	enum spgw_rc rc;

	snprintf(path, sizeof(path), "%s/%s", plugins_dir, name);
	memset(err, 0, sizeof(*err));
	*info = NULL;
	rc = spgw_host_describe(name[0] == '/' ? name : path, 5000, info, err);
	ck_assert_int_eq(count_fds(), before);
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	return rc;
}

START_TEST(test_describe_good)
{
	struct spgw_error err;
	json_t *info, *opt;

	ck_assert_int_eq(describe("good.so", &info, &err), SPGW_OK);
	ck_assert_str_eq(json_string_value(json_object_get(info, "name")), "good");
	ck_assert_str_eq(json_string_value(json_object_get(info, "version")), "1.0.0");
	ck_assert_int_eq(json_integer_value(json_object_get(info, "abi")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(info, "struct_size")),
			 sizeof(struct spgw_plugin));
	ck_assert(json_is_true(json_object_get(info, "count")));
	ck_assert(json_is_true(json_object_get(info, "pull_range")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(info, "path")), "good.so"));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(info, "tables"), 1)),
			 "items");
	ck_assert_uint_eq(json_array_size(json_object_get(info, "options")), 3);
	opt = json_array_get(json_object_get(info, "options"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(opt, "name")), "k");
	ck_assert_str_eq(json_string_value(json_object_get(opt, "type")), "int");
	ck_assert(json_is_false(json_object_get(opt, "required")));
	ck_assert_str_eq(json_string_value(json_object_get(opt, "default")), "3");
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(info, "options"),
								2), "default")));
	json_decref(info);
}
END_TEST

/* A plugin from before pull_range() was appended: served, and described without it. */
START_TEST(test_describe_older_struct)
{
	struct spgw_error err;
	json_t *info;

	ck_assert_int_eq(describe("retry.so", &info, &err), SPGW_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(info, "struct_size")),
			 offsetof(struct spgw_plugin, fini) + sizeof(void (*)(void)));
	ck_assert(json_is_false(json_object_get(info, "pull_range")));
	ck_assert(json_is_false(json_object_get(info, "count")));
	json_decref(info);
}
END_TEST

START_TEST(test_describe_wrong_abi)
{
	struct spgw_error err;
	json_t *info;

	ck_assert_int_eq(describe("wrong_abi.so", &info, &err), SPGW_E_ABI);
	ck_assert_ptr_null(info);
	ck_assert_ptr_nonnull(strstr(err.text, "wrong_abi.so was built for plugin ABI 99; this "
					       "spgw speaks ABI 1: rebuild it against this "
					       "spgw's include/spgw/plugin.h"));
}
END_TEST

START_TEST(test_describe_small_struct)
{
	struct spgw_error err;
	json_t *info;

	ck_assert_int_eq(describe("small_struct.so", &info, &err), SPGW_E_PLUGIN);
	ck_assert_ptr_nonnull(strstr(err.text, "small_struct.so: its descriptor says "
					       "struct_size 16"));
}
END_TEST

START_TEST(test_describe_not_a_shared_object)
{
	char dir[] = "/tmp/spgw-test-XXXXXX", path[64];
	struct spgw_error err;
	json_t *info;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/text.so", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an ELF file\n", f);
	fclose(f);
	ck_assert_int_eq(describe(path, &info, &err), SPGW_E_PLUGIN);
	ck_assert_ptr_nonnull(strstr(err.text, "cannot load plugin"));
	ck_assert_ptr_nonnull(strstr(err.text, path));
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_describe_missing_file)
{
	struct spgw_error err;
	json_t *info;

	ck_assert_int_eq(describe("/nonexistent/none.so", &info, &err), SPGW_E_PLUGIN);
	ck_assert_ptr_nonnull(strstr(err.text, "cannot load plugin /nonexistent/none.so"));
	ck_assert_ptr_nonnull(strstr(err.text, "No such file"));
}
END_TEST

START_TEST(test_runner_lookup)
{
	struct spgw_host_job job;
	struct jstat js;
	struct spgw_error err;

	ck_assert_str_eq(spgw_host_runner(), getenv("SPGW_PLUGIN_RUNNER"));
	spgw_host_set_runner("/nonexistent/spgw-plugin-runner");
	ck_assert_str_eq(spgw_host_runner(), "/nonexistent/spgw-plugin-runner");
	job_init(&job, &js, "good", NULL);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_host_run(&job, 1, 0, &ops, NULL, &err), SPGW_E_IO);
	ck_assert_ptr_nonnull(strstr(err.text, "SPGW_PLUGIN_RUNNER"));
	ck_assert_uint_eq(js.dones, 0);
	spgw_host_set_runner(NULL);
	ck_assert_str_eq(spgw_host_runner(), getenv("SPGW_PLUGIN_RUNNER"));
}
END_TEST

static Suite *plugin_host_suite(void)
{
	Suite *s = suite_create("plugin_host");
	TCase *tc = tcase_create("plugins");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_good_resumes_after_cursor);
	tcase_add_test(tc, test_undeclared_table_refused_by_runner);
	tcase_add_loop_test(tc, test_outcome, 0, 8);
	tcase_add_loop_test(tc, test_silent, 0, 3);
	tcase_add_test(tc, test_leak);
	tcase_add_test(tc, test_stdout_flood);
	tcase_add_test(tc, test_bad_json_reaches_record_callback);
	tcase_add_test(tc, test_wrong_abi);
	tcase_add_test(tc, test_forker_group_dies);
	tcase_add_test(tc, test_forker_leftover_killed_after_success);
	tcase_add_test(tc, test_error);
	tcase_add_loop_test(tc, test_forged, 0, 10);
	tcase_add_test(tc, test_crash_beside_good_job);
	tcase_add_test(tc, test_two_jobs_do_not_interleave);
	tcase_add_test(tc, test_parallel_limit);
	tcase_add_test(tc, test_commit_callback_fails);
	tcase_add_test(tc, test_record_callback_fails);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_count_unsupported);
	tcase_add_test(tc, test_pull_range);
	tcase_add_test(tc, test_pull_range_resumes_after_cursor);
	tcase_add_test(tc, test_pull_range_unsupported);
	tcase_add_test(tc, test_pull_range_bad_range);
	tcase_add_test(tc, test_stopping);
	tcase_add_test(tc, test_describe_older_struct);
	tcase_add_test(tc, test_describe_good);
	tcase_add_test(tc, test_describe_wrong_abi);
	tcase_add_test(tc, test_describe_small_struct);
	tcase_add_test(tc, test_describe_not_a_shared_object);
	tcase_add_test(tc, test_describe_missing_file);
	tcase_add_test(tc, test_runner_lookup);
	suite_add_tcase(s, tc);
	return s;
}

/* Fail loudly when the environment lacks what the tests need, rather than pass vacuously. */
static int check_environment(void)
{
	static const char *const names[] = {
		"good", "segv", "hang", "spin", "leak", "stdout_flood", "garbage", "bad_json",
		"wrong_abi", "small_struct", "oversized", "no_commit", "forker", "early_exit",
		"retry", "error", "closefd", "ignores_sigterm", "forge"};
	const char *runner = getenv("SPGW_PLUGIN_RUNNER");
	char path[512];
	size_t i;

	plugins_dir = getenv("SPGW_TEST_PLUGINS");
	if (!runner || access(runner, X_OK)) {
		fprintf(stderr, "test_plugin_host: set SPGW_PLUGIN_RUNNER to the built "
			"spgw-plugin-runner (tests/plugins/build.sh does)\n");
		return -1;
	}
	if (!plugins_dir) {
		fprintf(stderr, "test_plugin_host: set SPGW_TEST_PLUGINS to the folder of the "
			"built test plugins (tests/plugins/build.sh does)\n");
		return -1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.so", plugins_dir, names[i]);
		if (access(path, R_OK)) {
			fprintf(stderr, "test_plugin_host: %s is missing\n", path);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	char asan[1024];
	SRunner *sr;
	int failed;

	if (check_environment())
		return 1;
	/* for a runner built with AddressSanitizer (meson -Db_sanitize): let a plugin's crash be
	 * the signal it is, as in a normal build; this process read its own options already */
	snprintf(asan, sizeof(asan), "%s%shandle_segv=0:handle_sigbus=0:handle_abort=0",
		 getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "",
		 getenv("ASAN_OPTIONS") ? ":" : "");
	setenv("ASAN_OPTIONS", asan, 1);
	sr = srunner_create(plugin_host_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
