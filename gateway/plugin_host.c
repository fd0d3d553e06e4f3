/*
 * The plugin host (see plugin_host.h): one child process per job, watched with poll().
 *
 * A child is spgw-plugin-runner with the plugin loaded into it, so everything it writes may be
 * forged by the plugin: every frame is checked here again (length, type, order, table names,
 * cursors, the uncommitted-record ceiling), whatever the runner already refused. Any breach,
 * a crash, a silence longer than the job's timeout or an exit without an outcome ends the job:
 * its process group is killed, the child reaped, and job->error says which source, which
 * plugin and what happened.
 *
 * One loop serves all children. A child's socket, its stdout/stderr pipe and its pidfd (which
 * becomes readable when it exits) are polled; reads are non-blocking into a per-child buffer
 * with the SPGW_MAX_FRAME ceiling and frames are parsed as they complete. The one place the
 * loop favours a child is the transaction discipline of plugin_host.h: while a job has records
 * delivered since its last commit (its "batch"), only that job's frames are processed.
 */
#include "plugin_host.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "spgw_limits.h"
#include "mem.h"
#include "plugin_child.h"

#ifndef SPGW_LIBEXECDIR
#define SPGW_LIBEXECDIR "/usr/local/libexec/spgw"
#endif

#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_MEMORY ((size_t)1 << 30)
/* Read at most this much from one child per turn: hundreds of records per system call, yet
 * one busy child cannot hold the loop. */
#define READ_CHUNK (256u * 1024)
/* Answers a child has not read yet. A runner reads each ACK before it sends anything more, so
 * more than this is a plugin flooding forged COMMITs without reading. */
#define MAX_UNREAD_ANSWERS 65536
/* How often to look for a child's exit when the kernel cannot give a pidfd (Linux < 5.3). */
#define EXIT_POLL_MS 20
/* How often ops->stopping is asked at least: a signal that lands just before poll() waits
 * no longer than this to be noticed. */
#define STOP_POLL_MS 100

/* What follows a plugin failure in a pull: what happened to the data, what to do. */
#define NEXT "; records since its last commit were discarded and the next pull resumes from " \
	     "the last committed cursor"

enum stage { ST_INFO, ST_RUN, ST_DONE };
enum kind { K_SOCK, K_OUT, K_PID };

struct child {
	struct spgw_host_job *job; /* NULL: a free slot */
	struct host *h;
	int describe;
	struct spgw_child p;       /* the process and its descriptors */
	struct spgw_child_log log; /* its output and log lines */
	enum stage stage;
	int eof;                   /* the socket said end of file; frames may still be buffered */
	int commit_failed;
	int polled;                /* its socket or pidfd had events this turn */
	long long deadline;        /* monotonic ms */
	struct spgw_buf in;        /* bytes read from the socket; frames start at in_pos */
	size_t in_pos;
	struct spgw_buf wr;        /* START and ACKs not yet written */
	size_t wr_pos;
	json_t *info;              /* its INFO frame, checked */
	uint64_t pending;          /* records delivered since its last commit */
	unsigned done_status, done_rc;
	char done_text[512], done_key[128];
};

struct host {
	struct child *kids;
	size_t slots;
	struct child *batch; /* the child whose records since its last commit are open */
	const struct spgw_host_ops *ops;
	void *ud;
	json_t *described;   /* describe: the INFO of a child that ended well */
	unsigned turn;
};

/* <limits.h> is shadowed by gateway/limits.h on the include path, hence no PATH_MAX */
static char runner_set[4096];
static char runner_found[4096];

void spgw_host_set_runner(const char *path)
{
	snprintf(runner_set, sizeof(runner_set), "%s", path ? path : "");
}

const char *spgw_host_runner(void)
{
	const char *env = getenv("SPGW_PLUGIN_RUNNER");
	char *slash;
	ssize_t n;

	if (runner_set[0])
		return runner_set;
	if (env && env[0])
		return env;
	n = readlink("/proc/self/exe", runner_found, sizeof(runner_found) - 1);
	if (n > 0) {
		runner_found[n] = '\0';
		slash = strrchr(runner_found, '/');
		if (slash && (size_t)(slash - runner_found) + sizeof("/spgw-plugin-runner") <=
				     sizeof(runner_found)) {
			strcpy(slash, "/spgw-plugin-runner");
			if (access(runner_found, X_OK) == 0)
				return runner_found;
		}
	}
	return SPGW_LIBEXECDIR "/spgw-plugin-runner";
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int timeout_of(const struct child *c)
{
	return c->job->timeout_ms > 0 ? c->job->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static size_t memory_of(const struct spgw_host_job *job)
{
	return job->memory_limit ? job->memory_limit : DEFAULT_MEMORY;
}

static int eligible(const struct host *h, const struct child *c)
{
	return !h->batch || h->batch == c;
}

/* Held back by another job's batch while it may still have frames for us: its silence is
 * ours, so no deadline runs, and its exit is looked at once its frames may be read. */
static int held(const struct host *h, const struct child *c)
{
	return !eligible(h, c) && c->p.sock >= 0;
}

/* A job that takes records: pull() or pull_range(). */
static int pulls(const struct spgw_host_job *job)
{
	return job->op == SPGW_HOST_PULL || job->op == SPGW_HOST_PULL_RANGE;
}

/* Record the job's first error: "plugin <path> <what happened>", source = the job's source. */
static void fail(struct child *c, enum spgw_rc code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct child *c, enum spgw_rc code, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	spgw_error_set(&c->job->error, code, c->job->source, 0, 0, "plugin %s %s%s",
		       c->job->plugin_path, why,
		       code == SPGW_E_PLUGIN && !c->describe && pulls(c->job) ? NEXT : "");
}

static void close_sock(struct child *c)
{
	if (c->p.sock >= 0)
		close(c->p.sock);
	c->p.sock = -1;
	spgw_buf_free(&c->in);
	c->in_pos = 0;
	c->wr_pos = 0;
	spgw_buf_reset(&c->wr);
}

/* The child broke the protocol or must be stopped: kill it and read nothing more from it. */
static void kill_and_close(struct child *c)
{
	spgw_child_kill(&c->p);
	close_sock(c);
}

#define STOP(c, code, ...) (fail((c), (code), __VA_ARGS__), kill_and_close(c))
#define VIOLATION(c, ...) STOP((c), SPGW_E_PLUGIN, __VA_ARGS__)

static void flush_wr(struct child *c)
{
	ssize_t n;

	while (c->p.sock >= 0 && c->wr_pos < c->wr.len) {
		n = send(c->p.sock, c->wr.data + c->wr_pos, c->wr.len - c->wr_pos,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			c->wr_pos = c->wr.len; /* the child is gone; its end of file will follow */
			break;
		}
		c->wr_pos += (size_t)n;
	}
	if (c->wr_pos == c->wr.len) {
		spgw_buf_reset(&c->wr);
		c->wr_pos = 0;
	}
}

/* Queue one frame to the child and write what the socket takes now. */
static enum spgw_rc answer(struct child *c, enum spgw_frame_type type, const void *a,
			   size_t alen, const void *b, size_t blen, struct spgw_error *err)
{
	unsigned char hdr[SPGW_FRAME_HEADER];
	enum spgw_rc rc;

	spgw_frame_header(hdr, type, alen + blen);
	rc = spgw_buf_add(&c->wr, hdr, sizeof(hdr), err);
	if (!rc)
		rc = spgw_buf_add(&c->wr, a, alen, err);
	if (!rc)
		rc = spgw_buf_add(&c->wr, b, blen, err);
	if (!rc)
		flush_wr(c);
	return rc;
}

static void ack(struct child *c, int ok, const char *text)
{
	unsigned char head = ok ? 0 : 1;

	if (c->wr.len - c->wr_pos > MAX_UNREAD_ANSWERS) {
		VIOLATION(c, "does not read the gateway's answers to its commits");
		return;
	}
	if (answer(c, SPGW_FRAME_ACK, &head, 1, text, strlen(text), NULL))
		STOP(c, SPGW_E_NOMEM, "was stopped: out of memory answering its commit");
}

static void on_info(struct child *c, const struct spgw_frame *f)
{
	json_error_t jerr;
	const char *why;

	c->info = json_loadb(f->payload, f->len, JSON_REJECT_DUPLICATES, &jerr);
	why = c->info ? spgw_frame_check_info(c->info) : "it is not JSON";
	if (why) {
		VIOLATION(c, "sent a malformed description of itself (%s)", why);
		return;
	}
	c->stage = ST_RUN;
}

static int table_declared(const struct child *c, const char *table)
{
	const json_t *tables = json_object_get(c->info, "tables"), *t;
	size_t i;

	if (!json_is_array(tables))
		return 1;
	json_array_foreach(tables, i, t) {
		if (!strcmp(json_string_value(t), table))
			return 1;
	}
	return 0;
}

static void on_record(struct host *h, struct child *c, const struct spgw_frame *f)
{
	size_t scan = f->len < SPGW_MAX_TABLE_NAME + 1 ? f->len : SPGW_MAX_TABLE_NAME + 1;
	const char *nul = memchr(f->payload, '\0', scan), *why, *table = f->payload;
	char *json, save;
	size_t len;
	enum spgw_rc rc;

	if (!nul) {
		VIOLATION(c, "sent a record whose table name is longer than %d bytes",
			  SPGW_MAX_TABLE_NAME);
		return;
	}
	why = spgw_frame_check_table(table, (size_t)(nul - table));
	json = (char *)nul + 1; /* our own buffer: the frame lives in c->in */
	len = f->len - (size_t)(nul - table) - 1;
	if (why)
		VIOLATION(c, "sent a record whose table name %s", why);
	else if (len > SPGW_MAX_RECORD)
		VIOLATION(c, "sent a record of %zu bytes, beyond SPGW_MAX_RECORD (%u)", len,
			  SPGW_MAX_RECORD);
	else if (!table_declared(c, table))
		VIOLATION(c, "sent a record of table \"%s\", which is not in its declared tables",
			  table);
	else if (c->commit_failed)
		VIOLATION(c, "sent records after the gateway refused its commit");
	else if (c->pending >= SPGW_MAX_UNCOMMITTED)
		VIOLATION(c, "sent more than %d records without a commit (plugin.h asks for a "
			  "commit at least every %d)", SPGW_MAX_UNCOMMITTED, SPGW_MAX_UNCOMMITTED);
	if (c->p.sock < 0)
		return;
	h->batch = c;
	c->pending++;
	c->job->records++;
	/* a NUL after the bytes, for parsers' convenience (plugin_host.h); the byte it covers is
	 * the next frame's and is put back */
	save = json[len];
	json[len] = '\0';
	rc = h->ops->record(h->ud, c->job, table, json, len);
	json[len] = save;
	if (rc)
		STOP(c, rc, "was stopped: the gateway could not take a record of table %s (%s)"
		     NEXT, table, spgw_strerror(rc));
}

static void on_commit(struct host *h, struct child *c, const struct spgw_frame *f, int *yield)
{
	char cursor[SPGW_MAX_CURSOR + 1];
	const char *why = spgw_frame_check_cursor(f->payload, f->len);
	enum spgw_rc rc;

	if (why) {
		VIOLATION(c, "sent a commit whose cursor %s", why);
		return;
	}
	if (c->commit_failed) {
		VIOLATION(c, "committed again after the gateway refused its commit");
		return;
	}
	memcpy(cursor, f->payload, f->len);
	cursor[f->len] = '\0';
	rc = h->ops->commit(h->ud, c->job, cursor);
	if (rc == SPGW_OK) {
		c->job->commits++;
		c->pending = 0;
		if (h->batch == c)
			h->batch = NULL;
		*yield = 1; /* let the other children's frames in before its next batch */
		ack(c, 1, "");
		return;
	}
	fail(c, rc, "could not have its records stored: the gateway's commit failed (%s); the "
	     "plugin was told, and the next pull resumes from the last committed cursor",
	     spgw_strerror(rc));
	c->commit_failed = 1;
	ack(c, 0, spgw_strerror(rc));
}

static void on_count(struct host *h, struct child *c, const struct spgw_frame *f)
{
	const char *table = f->payload + 8, *nul, *why = NULL;
	char day[11];
	size_t rest = f->len >= 8 ? f->len - 8 : 0;
	enum spgw_rc rc;

	nul = f->len > 8 ? memchr(table, '\0', rest) : NULL;
	if (!nul || (why = spgw_frame_check_table(table, (size_t)(nul - table))) ||
	    (why = spgw_frame_check_day(nul + 1, rest - (size_t)(nul - table) - 1))) {
		VIOLATION(c, "sent a malformed count (%s)", why ? why : "no table");
		return;
	}
	memcpy(day, nul + 1, 10);
	day[10] = '\0';
	if (!h->ops->count)
		return;
	rc = h->ops->count(h->ud, c->job, table, day,
			   spgw_frame_get_u64((const unsigned char *)f->payload));
	if (rc)
		STOP(c, rc, "was stopped: the gateway could not take a count of table %s (%s)",
		     table, spgw_strerror(rc));
}

static void on_done(struct child *c, const struct spgw_frame *f)
{
	const unsigned char *p = (const unsigned char *)f->payload;
	const char *text = f->payload + 2, *nul;
	size_t rest = f->len - 2;

	if (f->len < 2 || p[0] > SPGW_FRAME_DONE_RUNNER || p[1] > SPGW_PLUGIN_ERROR ||
	    (c->stage == ST_INFO && p[0] != SPGW_FRAME_DONE_LOAD && p[0] != SPGW_FRAME_DONE_ABI &&
	     p[0] != SPGW_FRAME_DONE_RUNNER)) {
		VIOLATION(c, "sent a malformed or early outcome");
		return;
	}
	c->done_status = p[0];
	c->done_rc = p[1];
	nul = memchr(text, '\0', rest);
	spgw_frame_clean_text(c->done_text, sizeof(c->done_text), text,
			      nul ? (size_t)(nul - text) : rest);
	if (nul)
		spgw_frame_clean_text(c->done_key, sizeof(c->done_key), nul + 1,
				      rest - (size_t)(nul - text) - 1);
	c->stage = ST_DONE;
}

static void on_frame(struct host *h, struct child *c, const struct spgw_frame *f, int *yield)
{
	enum spgw_host_op op = c->job->op;

	if (f->type == SPGW_FRAME_DONE) {
		on_done(c, f);
	} else if (f->type == SPGW_FRAME_LOG) {
		/* also before INFO: the runner may warn before the plugin is loaded */
		if (f->len < 1 || (unsigned char)f->payload[0] > SPGW_LOG_DEBUG)
			VIOLATION(c, "sent a log line with an unknown level");
		else
			spgw_child_log_line(&c->log, (enum spgw_log_level)f->payload[0],
					    f->payload + 1, f->len - 1);
	} else if (f->type == SPGW_FRAME_INFO) {
		if (c->stage == ST_INFO)
			on_info(c, f);
		else
			VIOLATION(c, "described itself twice");
	} else if (c->stage != ST_RUN) {
		VIOLATION(c, "sent a frame of type %u before describing itself", f->type);
	} else if (f->type == SPGW_FRAME_RECORD && !c->describe && pulls(c->job)) {
		on_record(h, c, f);
	} else if (f->type == SPGW_FRAME_COMMIT && !c->describe && pulls(c->job)) {
		on_commit(h, c, f, yield);
	} else if (f->type == SPGW_FRAME_COUNT && !c->describe && op == SPGW_HOST_COUNT) {
		on_count(h, c, f);
	} else {
		VIOLATION(c, "sent a frame of type %u, which this operation does not allow",
			  f->type);
	}
}

/* 1 when a complete frame (or garbage to report) waits in the child's buffer. */
static int has_frame(const struct child *c)
{
	struct spgw_frame f;
	size_t used;
	const char *why;

	return c->p.sock >= 0 && c->in.len > c->in_pos &&
	       spgw_frame_parse(c->in.data + c->in_pos, c->in.len - c->in_pos, &f, &used, &why);
}

/* Process the child's buffered frames, as long as the transaction discipline lets it. */
static void pump(struct host *h, struct child *c, long long now)
{
	struct spgw_frame f;
	size_t used;
	const char *why;
	int r, yield = 0;

	while (c->p.sock >= 0 && c->in.len > c->in_pos && !yield && eligible(h, c)) {
		r = spgw_frame_parse(c->in.data + c->in_pos, c->in.len - c->in_pos, &f, &used,
				     &why);
		if (r == 0)
			break;
		if (r < 0)
			VIOLATION(c, "wrote garbage on its channel (%s)", why);
		else if (c->stage == ST_DONE)
			VIOLATION(c, "sent data after reporting its outcome");
		if (r < 0 || c->p.sock < 0)
			break;
		c->in_pos += used;
		c->deadline = now + timeout_of(c);
		on_frame(h, c, &f, &yield);
	}
	/* nothing may follow DONE, not even part of a frame */
	if (c->p.sock >= 0 && c->stage == ST_DONE && c->in_pos < c->in.len)
		VIOLATION(c, "sent data after reporting its outcome");
	/* a partial frame at end of file: the exit status will tell why */
	if (c->p.sock >= 0 && c->eof && !has_frame(c))
		close_sock(c);
}

static void read_sock(struct child *c)
{
	struct spgw_error e;
	size_t want;
	ssize_t n;

	if (c->in_pos) {
		/* at most the frames a yield left behind: usually part of one */
		memmove(c->in.data, c->in.data + c->in_pos, c->in.len - c->in_pos);
		c->in.len -= c->in_pos;
		c->in.data[c->in.len] = '\0';
		c->in_pos = 0;
	}
	want = c->in.max - c->in.len;
	if (want > READ_CHUNK)
		want = READ_CHUNK;
	if (!want)
		return; /* a complete frame waits for its turn */
	memset(&e, 0, sizeof(e));
	if (spgw_buf_reserve(&c->in, want, &e)) {
		STOP(c, e.code, "was stopped: %s", e.text);
		return;
	}
	do
		n = read(c->p.sock, c->in.data + c->in.len, want);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		c->eof = 1;
	}
}

static void on_deadline(struct child *c)
{
	int ms = timeout_of(c);

	if (c->p.exited)
		close_sock(c); /* only an escaped process can hold it: stop waiting */
	else if (c->p.sock >= 0 && c->stage != ST_DONE)
		VIOLATION(c, "sent nothing for %d ms: it hung or is busy in a loop, and was "
			  "killed", ms);
	else
		VIOLATION(c, "did not exit within %d ms after %s, and was killed", ms,
			  c->stage == ST_DONE ? "reporting its outcome" : "closing its channel");
}

/* Turn the exit status and DONE into job->result/error, unless a failure came first. */
static void outcome(struct child *c, int st)
{
	struct spgw_host_job *job = c->job;
	int sig, code;

	if (job->error.code)
		return;
	if (WIFSIGNALED(st)) {
		sig = WTERMSIG(st);
		if (sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS || sig == SIGKILL)
			fail(c, SPGW_E_PLUGIN, "crashed with signal %d (%s); it may have reached "
			     "its memory limit of %zu MiB", sig, strsignal(sig),
			     memory_of(job) >> 20);
		else
			fail(c, SPGW_E_PLUGIN, "crashed with signal %d (%s)", sig,
			     strsignal(sig));
		return;
	}
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (code || c->stage != ST_DONE) {
		fail(c, SPGW_E_PLUGIN, "exited with status %d %s reporting its outcome%s", code,
		     c->stage == ST_DONE ? "after" : "without",
		     code == 127 ? " (spgw-plugin-runner could not be started)" : "");
		return;
	}
	switch (c->done_status) {
	case SPGW_FRAME_DONE_RETURNED:
		if (c->done_rc == SPGW_PLUGIN_RETRY)
			fail(c, SPGW_E_RETRY, "asked to be retried later: %s; the next pull "
			     "resumes from the last committed cursor", c->done_text);
		else if (c->done_rc == SPGW_PLUGIN_ERROR)
			fail(c, SPGW_E_CONFIG, "reported an error: %s; fix the source's settings "
			     "or the city system, then pull again", c->done_text);
		break;
	case SPGW_FRAME_DONE_ABI:
	case SPGW_FRAME_DONE_LOAD:
	case SPGW_FRAME_DONE_RUNNER:
		/* the runner's text already names the plugin's path */
		spgw_error_set(&job->error,
			       c->done_status == SPGW_FRAME_DONE_ABI ? SPGW_E_ABI : SPGW_E_PLUGIN,
			       job->source, 0, 0, "%s", c->done_text);
		break;
	case SPGW_FRAME_DONE_REFUSED:
		fail(c, SPGW_E_PLUGIN, "was refused: %s", c->done_text);
		break;
	default:
		if (job->op == SPGW_HOST_PULL_RANGE)
			fail(c, SPGW_E_NOTFOUND, "cannot re-pull a date range (it has no "
			     "pull_range()); its regular pull already reads everything from its "
			     "cursor");
		else
			fail(c, SPGW_E_NOTFOUND, "cannot count records (it has no count()); "
			     "reconciliation shows this source as not counted");
		break;
	}
	if (job->error.code)
		spgw_error_key(&job->error, c->done_key);
}

static void finish(struct host *h, struct child *c)
{
	struct spgw_host_job *job = c->job;
	int st;

	st = spgw_child_reap(&c->p);
	spgw_child_log_end(&c->log, &c->p);
	close_sock(c);
	outcome(c, st);
	job->result = job->error.code;
	if (c->pending && h->ops->abort)
		h->ops->abort(h->ud, job);
	if (h->batch == c)
		h->batch = NULL;
	if (c->describe && job->result == SPGW_OK) {
		h->described = c->info;
		c->info = NULL;
	}
	json_decref(c->info);
	spgw_buf_free(&c->in);
	spgw_buf_free(&c->wr);
	if (h->ops->done)
		h->ops->done(h->ud, job);
	memset(c, 0, sizeof(*c));
}

/* The START frame, queued in c->wr. */
static enum spgw_rc start_frame(struct child *c, struct spgw_error *err)
{
	const struct spgw_host_job *job = c->job;
	const char *op = c->describe ? "describe"
			 : job->op == SPGW_HOST_COUNT ? "count"
			 : job->op == SPGW_HOST_PULL_RANGE ? "pull_range" : "pull";
	const char *from = job->op == SPGW_HOST_PULL_RANGE ? job->range_from : job->count_from;
	const char *to = job->op == SPGW_HOST_PULL_RANGE ? job->range_to : job->count_to;
	char abs[4096];
	const char *plugin = job->plugin_path;
	json_t *j;
	char *text = NULL;
	enum spgw_rc rc;

	/* the child may run in another directory: hand it the plugin's absolute path */
	if (plugin && realpath(plugin, abs))
		plugin = abs;
#define STR(s) ((s) ? json_string(s) : json_null())
	j = json_pack("{s:s, s:o?, s:o?, s:o?, s:o?, s:o?, s:o?, s:o?, s:o?, s:I}", "op", op,
		      "plugin", STR(plugin), "source", STR(job->source), "region",
		      STR(job->region), "settings", STR(job->settings ? job->settings : "{}"),
		      "cursor", STR(job->cursor), "table", STR(job->count_table), "from",
		      STR(from), "to", STR(to), "memory_limit",
		      (json_int_t)memory_of(job));
#undef STR
	if (j)
		text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text || strlen(text) >= SPGW_MAX_FRAME) {
		rc = spgw_error_set(err, SPGW_E_CONFIG, job->source, 0, 0,
				    "cannot start plugin %s: its path, settings, region or cursor "
				    "is not UTF-8 text, or the settings are too large",
				    job->plugin_path);
	} else {
		rc = answer(c, SPGW_FRAME_START, text, strlen(text), NULL, 0, err);
	}
	free(text);
	return rc;
}

static void log_emit(void *ud, enum spgw_log_level level, const char *line)
{
	struct child *c = ud;

	if (c->h->ops->log)
		c->h->ops->log(c->h->ud, c->job, level, line);
}

/* Take a free slot for `job`; on failure the job ends at once with the reason. */
static enum spgw_rc start_job(struct host *h, struct child *c, struct spgw_host_job *job,
			      int describe, const char *runner)
{
	enum spgw_rc rc;

	memset(c, 0, sizeof(*c));
	c->job = job;
	c->h = h;
	c->describe = describe;
	c->p.sock = c->p.out = c->p.pidfd = -1;
	spgw_buf_init(&c->in, SPGW_MAX_FRAME + SPGW_FRAME_HEADER, "plugin frame");
	spgw_buf_init(&c->wr, SPGW_MAX_FRAME + MAX_UNREAD_ANSWERS, "answers to a plugin");
	spgw_child_log_init(&c->log, log_emit, c);
	c->deadline = now_ms() + timeout_of(c);
	job->result = SPGW_OK;
	spgw_error_clear(&job->error);
	job->records = job->commits = 0;
	rc = start_frame(c, &job->error);
	if (!rc)
		rc = spgw_child_start(&c->p, runner, job->source ? job->source : "",
				      describe ? NULL : job->workdir, &job->error);
	if (rc) {
		if (!job->error.source[0] && job->source)
			snprintf(job->error.source, sizeof(job->error.source), "%s", job->source);
		job->result = rc;
		spgw_buf_free(&c->wr);
		spgw_child_log_end(&c->log, &c->p);
		if (h->ops->done)
			h->ops->done(h->ud, job);
		memset(c, 0, sizeof(*c));
		return rc;
	}
	flush_wr(c);
	return SPGW_OK;
}

struct polls {
	struct pollfd *fd;
	struct child **kid;
	enum kind *kind;
	nfds_t n;
};

static void watch(struct polls *p, int fd, short ev, struct child *c, enum kind k)
{
	p->fd[p->n].fd = fd;
	p->fd[p->n].events = ev;
	p->fd[p->n].revents = 0;
	p->kid[p->n] = c;
	p->kind[p->n++] = k;
}

/* What to wait for this turn; returns the poll timeout. */
static int gather(struct host *h, struct polls *p, long long now)
{
	long long t = -1, left;
	struct child *c;
	size_t i;
	int el;

	p->n = 0;
	for (i = 0; i < h->slots; i++) {
		c = &h->kids[i];
		if (!c->job)
			continue;
		el = eligible(h, c);
		if (held(h, c)) {
			c->deadline = now + timeout_of(c);
			if (c->wr_pos < c->wr.len)
				watch(p, c->p.sock, POLLOUT, c, K_SOCK);
			if (c->p.out >= 0)
				watch(p, c->p.out, POLLIN, c, K_OUT);
			continue;
		}
		if (c->p.sock >= 0) {
			short ev = (el && !c->eof ? POLLIN : 0) |
				   (c->wr_pos < c->wr.len ? POLLOUT : 0);

			if (ev)
				watch(p, c->p.sock, ev, c, K_SOCK);
			if (el && has_frame(c))
				t = 0;
		}
		if (c->p.out >= 0)
			watch(p, c->p.out, POLLIN, c, K_OUT);
		if (!c->p.exited && c->p.pidfd >= 0)
			watch(p, c->p.pidfd, POLLIN, c, K_PID);
		else if (!c->p.exited && (t < 0 || t > EXIT_POLL_MS))
			t = EXIT_POLL_MS;
		if (!(c->p.killed && !c->p.exited)) {
			left = c->deadline > now ? c->deadline - now : 0;
			if (t < 0 || left < t)
				t = left;
		}
	}
	return t > 86400000 ? 86400000 : (int)t;
}

/* One turn over the children after poll: reads, frames, exits, deadlines, endings. */
static void serve(struct host *h, struct polls *p, long long now)
{
	struct child *c;
	nfds_t k;
	size_t i;

	for (i = 0; i < h->slots; i++)
		h->kids[i].polled = 0;
	for (k = 0; k < p->n; k++) {
		c = p->kid[k];
		if (!p->fd[k].revents)
			continue;
		if (p->kind[k] == K_OUT && c->p.out >= 0) {
			spgw_child_log_read(&c->log, &c->p);
		} else if (p->kind[k] == K_PID) {
			c->polled = 1;
			spgw_child_exited(&c->p);
		} else if (p->kind[k] == K_SOCK && c->p.sock >= 0) {
			c->polled = 1;
			if (p->fd[k].revents & POLLOUT)
				flush_wr(c);
			if (!(p->fd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (p->fd[k].events & POLLIN)
				read_sock(c);
			else if (c->wr_pos < c->wr.len)
				flush_wr(c); /* reports the error; drops what it cannot take */
		}
	}
	h->turn++;
	for (i = 0; i < h->slots; i++) {
		c = &h->kids[(i + h->turn) % h->slots];
		if (!c->job)
			continue;
		if (held(h, c))
			continue;
		if (!c->p.exited && c->p.pidfd < 0)
			spgw_child_check(&c->p);
		pump(h, c, now);
		if (!c->polled && !(c->p.killed && !c->p.exited) && now >= c->deadline)
			on_deadline(c);
		if (c->p.exited && c->p.sock < 0)
			finish(h, c);
	}
}

/* ops->stopping said so: kill every child still at work (as for a timeout: its records since
 * its last commit are aborted when it is reaped) and end every job not started yet. */
static void stop_all(struct host *h, struct spgw_host_job *jobs, size_t *next, size_t n)
{
	struct spgw_host_job *job;
	struct child *c;
	size_t i;

	for (i = 0; i < h->slots; i++) {
		c = &h->kids[i];
		if (c->job && c->stage != ST_DONE && !c->p.killed)
			STOP(c, SPGW_E_RETRY, "was stopped: the gateway was asked to stop; what it "
			     "committed is kept and the next run resumes from its last committed "
			     "cursor");
	}
	for (; *next < n; (*next)++) {
		job = &jobs[*next];
		spgw_error_clear(&job->error);
		job->records = job->commits = 0;
		job->result = spgw_error_set(&job->error, SPGW_E_RETRY, job->source, 0, 0,
					     "not started: the gateway was asked to stop; it is "
					     "pulled on the next run");
		if (h->ops->done)
			h->ops->done(h->ud, job);
	}
}

/* `described`: NULL for pull/count jobs; for describe jobs, receives the INFO object. */
static enum spgw_rc run(struct spgw_host_job *jobs, size_t n, size_t parallel,
			const struct spgw_host_ops *ops, void *ud, json_t **described,
			struct spgw_error *err)
{
	struct host h;
	struct polls p;
	const char *runner = spgw_host_runner();
	char runner_abs[4096];
	size_t next = 0, active, i;
	enum spgw_rc rc = SPGW_OK, r;
	int timeout, describe = described != NULL, stopped = 0;

	memset(&h, 0, sizeof(h));
	memset(&p, 0, sizeof(p));
	h.ops = ops;
	h.ud = ud;
	for (i = 0; i < n && !describe; i++) {
		if (pulls(&jobs[i]) && (!ops->record || !ops->commit))
			return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "a pull needs record "
					      "and commit callbacks");
	}
	if (!n)
		return SPGW_OK;
	if (access(runner, X_OK))
		return spgw_error_set(err, SPGW_E_IO, runner, 0, 0, "cannot execute the plugin "
				      "runner: %s; install spgw-plugin-runner there or set "
				      "SPGW_PLUGIN_RUNNER", strerror(errno));
	/* children may start in another directory (job->workdir) */
	if (realpath(runner, runner_abs))
		runner = runner_abs;
	h.slots = parallel && parallel < n ? parallel : n;
	h.kids = spgw_calloc(h.slots, sizeof(*h.kids));
	p.fd = spgw_calloc(h.slots * 3, sizeof(*p.fd));
	p.kid = spgw_calloc(h.slots * 3, sizeof(*p.kid));
	p.kind = spgw_calloc(h.slots * 3, sizeof(*p.kind));
	if (!h.kids || !p.fd || !p.kid || !p.kind) {
		rc = spgw_error_nomem(err, "starting plugin children");
		goto out;
	}
	for (;;) {
		if (!stopped && ops->stopping && ops->stopping(ud)) {
			stopped = 1;
			stop_all(&h, jobs, &next, n);
		}
		active = 0;
		for (i = 0; i < h.slots; i++) {
			while (!h.kids[i].job && next < n) {
				struct spgw_host_job *job = &jobs[next++];

				r = start_job(&h, &h.kids[i], job, describe, runner);
				if (r && !rc)
					rc = spgw_error_set(err, r, job->source, 0, 0, "%s",
							    job->error.text);
			}
			active += h.kids[i].job != NULL;
		}
		if (!active)
			break;
		timeout = gather(&h, &p, now_ms());
		if (ops->stopping && !stopped && (timeout < 0 || timeout > STOP_POLL_MS))
			timeout = STOP_POLL_MS;
		if (poll(p.fd, p.n, timeout) < 0 && errno != EINTR) {
			/* cannot wait any more: end every child now, nothing left running */
			r = spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "poll: %s", strerror(errno));
			rc = rc ? rc : r;
			for (i = 0; i < h.slots; i++) {
				if (!h.kids[i].job)
					continue;
				STOP(&h.kids[i], SPGW_E_IO, "was stopped: the gateway cannot wait "
				     "for it (poll failed)");
				h.kids[i].p.exited = 1;
				finish(&h, &h.kids[i]);
			}
			next = n;
			continue;
		}
		serve(&h, &p, now_ms());
	}
	if (described)
		*described = h.described;
out:
	spgw_free(h.kids);
	spgw_free(p.fd);
	spgw_free(p.kid);
	spgw_free(p.kind);
	return rc;
}

enum spgw_rc spgw_host_run(struct spgw_host_job *jobs, size_t n, size_t parallel,
			   const struct spgw_host_ops *ops, void *ud, struct spgw_error *err)
{
	return run(jobs, n, parallel, ops, ud, NULL, err);
}

enum spgw_rc spgw_host_describe(const char *plugin_path, int timeout_ms, json_t **info,
				struct spgw_error *err)
{
	static const struct spgw_host_ops none;
	struct spgw_host_job job;
	json_t *got = NULL;
	enum spgw_rc rc;

	memset(&job, 0, sizeof(job));
	job.plugin_path = plugin_path; /* no source: the messages name the path */
	job.settings = "{}";
	job.timeout_ms = timeout_ms;
	rc = run(&job, 1, 1, &none, NULL, &got, err);
	if (rc == SPGW_OK && job.result) {
		if (err && !err->code)
			*err = job.error;
		rc = job.result;
	}
	if (rc == SPGW_OK && json_object_set_new(got, "path", json_string(plugin_path)))
		rc = spgw_error_nomem(err, "describing a plugin");
	if (rc == SPGW_OK) {
		*info = got;
		got = NULL;
	}
	json_decref(got);
	return rc;
}
