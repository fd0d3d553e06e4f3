/*
 * Ingest: plugin children -> pipeline -> ledger (see ingest.h).
 *
 * Why the transaction boundaries are where they are: the plugin host hands us the records of
 * one job between two of its commits without interleaving another job's, so one ledger
 * transaction can stay open from a job's first record after a commit to its next commit. At
 * that commit the records and the cursor become durable together; if the plugin dies first,
 * the transaction is rolled back and the next pull starts again from the committed cursor.
 */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "canonical.h"
#include "catalog.h"
#include "frame.h"
#include "log.h"
#include "mapping.h"
#include "mem.h"
#include "plugin_host.h"
#include "spgw_limits.h"

struct job_state {
	struct spgw_ingest_result *result;
	struct spgw_pipeline_source psrc;
	struct spgw_mapping *mapping; /* owned */
	struct spgw_pipeline_stats batch; /* since the last commit */
	char *cursor;                 /* the committed cursor we started from (owned) */
	char *workdir;                /* the source file's folder (owned) */
	char *cursor_name;            /* the cursors row: the source's name, or a backfill's
				       * "backfill:<source>:<from>:<to>" (owned) */
	char *state_name;             /* a backfill's "backfill-state:..." row (owned); NULL
				       * for a regular pull */
	int lock_fd;                  /* the source's lock file, held; -1 when none */
	struct timespec started;
	struct spgw_error err;        /* why our side stopped the job (ledger, memory) */
};

struct ingest {
	const struct spgw_schema *schema;
	struct spgw_ledger *ledger;
	struct spgw_pipeline *pipeline;
	const struct spgw_ingest_opts *opts;
	int in_txn; /* a ledger transaction is open for the job holding the batch */
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void stats_add(struct spgw_pipeline_stats *a, const struct spgw_pipeline_stats *b)
{
	a->records += b->records;
	a->outputs += b->outputs;
	a->added += b->added;
	a->versions += b->versions;
	a->unchanged += b->unchanged;
	a->quarantined += b->quarantined;
}

static enum spgw_rc on_record(void *ud, struct spgw_host_job *job, const char *table,
			      const char *json, size_t len)
{
	struct ingest *in = ud;
	struct job_state *js = job->ud;
	enum spgw_rc rc;

	if (in->ledger && !in->in_txn) {
		rc = spgw_ledger_begin(in->ledger, &js->err);
		if (rc)
			return rc;
		in->in_txn = 1;
	}
	rc = spgw_pipeline_record(in->pipeline, &js->psrc, table, json, len, &js->batch,
				  &js->err);
	if (rc == SPGW_OK && in->opts->progress)
		in->opts->progress(in->opts->progress_ud, js->result,
				   js->result->stats.records + js->batch.records);
	return rc;
}

static enum spgw_rc on_commit(void *ud, struct spgw_host_job *job, const char *cursor)
{
	struct ingest *in = ud;
	struct job_state *js = job->ud;
	enum spgw_rc rc = SPGW_OK;

	if (in->opts->dry_run) {
		/* a dry run writes nothing, the cursor included */
		stats_add(&js->result->stats, &js->batch);
		memset(&js->batch, 0, sizeof(js->batch));
		return SPGW_OK;
	}
	if (!in->in_txn) {
		rc = spgw_ledger_begin(in->ledger, &js->err);
		if (rc)
			return rc;
		in->in_txn = 1;
	}
	rc = spgw_ledger_cursor_set(in->ledger, js->cursor_name, cursor, &js->err);
	/* a backfill under way, also after a --restart of one done before */
	if (rc == SPGW_OK && js->state_name)
		rc = spgw_ledger_cursor_set(in->ledger, js->state_name, "running", &js->err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_commit(in->ledger, &js->err);
	if (rc) {
		spgw_ledger_rollback(in->ledger);
		in->in_txn = 0;
		memset(&js->batch, 0, sizeof(js->batch));
		return rc;
	}
	in->in_txn = 0;
	stats_add(&js->result->stats, &js->batch);
	memset(&js->batch, 0, sizeof(js->batch));
	js->result->commits++;
	if (in->opts->progress)
		in->opts->progress(in->opts->progress_ud, js->result, js->result->stats.records);
	return SPGW_OK;
}

static void on_abort(void *ud, struct spgw_host_job *job)
{
	struct ingest *in = ud;
	struct job_state *js = job->ud;

	if (in->in_txn) {
		spgw_ledger_rollback(in->ledger);
		in->in_txn = 0;
	}
	memset(&js->batch, 0, sizeof(js->batch));
}

static void on_log(void *ud, struct spgw_host_job *job, enum spgw_log_level level,
		   const char *line)
{
	(void)ud;
	spgw_log(level, job->source, "%s", line);
}

static void on_done(void *ud, struct spgw_host_job *job)
{
	struct job_state *js = job->ud;
	struct spgw_ingest_result *r = js->result;

	(void)ud;
	r->rc = job->result;
	r->error = js->err.code ? js->err : job->error;
	if (js->err.code && !r->error.source[0])
		snprintf(r->error.source, sizeof(r->error.source), "%s", job->source);
	r->seconds = since(&js->started);
}

/* --- the catalog's definition records (catalog.h) --- */

/*
 * The pseudo-source a region's catalog records are stored under. ':' is not allowed in a
 * source name (config/README.md), so "catalog:<region>" never meets a configured source's
 * cursor or records. Lives in the results array's allocation, after the results.
 */
struct catalog_slot {
	struct spgw_source src;
	char name[24];
	char region[8];
};

#define CATALOG_PREFIX "catalog:"

/* One region's catalog records on their way to the ledger. */
struct catalog_run {
	struct ingest *in;
	struct spgw_pipeline *pipeline; /* the catalog's own: its observer catches refusals */
	struct spgw_pipeline_source psrc;
	struct spgw_ingest_result *result;
	struct spgw_buf digests; /* "table key digest\n" per record: the region's fingerprint */
	struct spgw_buf canon;
	struct spgw_error refused; /* the first record validation refused, with its reason */
	struct spgw_error *err;
};

/* Told of every record the catalog's pipeline decides on: keep the first refusal (a catalog
 * that passed check-config should have none) and pass everything on to the caller's
 * observer (a dry run prints them). */
static void catalog_observe(void *ud, const struct spgw_pipeline_source *src, const char *table,
			    const char *key, const json_t *record,
			    const struct spgw_reasons *reasons)
{
	struct catalog_run *cr = ud;

	if (reasons->n && !cr->refused.code) {
		spgw_error_set(&cr->refused, SPGW_E_INVALID, src->name, 0, 0,
			       "%s/%s refused: %s; fix the catalog (spgw check-config)", table,
			       key ? key : "-", reasons->items[0].en);
		spgw_error_key(&cr->refused, key);
	}
	if (cr->in->opts->observe)
		cr->in->opts->observe(cr->in->opts->observe_ud, src, table, key, record, reasons);
}

/* First pass: the digest of each record's canonical form, as the outbox would store it. */
static enum spgw_rc catalog_digest(void *ud, const char *table, const char *key,
				   const json_t *record)
{
	struct catalog_run *cr = ud;
	char hex[65];
	enum spgw_rc rc;

	spgw_buf_reset(&cr->canon);
	rc = spgw_canonical(record, &cr->canon, cr->err);
	if (rc == SPGW_OK)
		rc = spgw_digest_hex(SPGW_DIGEST_SM3, cr->canon.data, cr->canon.len, hex, cr->err);
	if (rc == SPGW_OK)
		rc = spgw_buf_printf(&cr->digests, cr->err, "%s %s %s\n", table, key, hex);
	return rc;
}

/* Second pass: each record through the pipeline; a refusal stops the region. */
static enum spgw_rc catalog_put(void *ud, const char *table, const char *key,
				const json_t *record)
{
	struct catalog_run *cr = ud;
	uint64_t refused = cr->result->stats.quarantined;
	enum spgw_rc rc;

	(void)key;
	rc = spgw_pipeline_spgl(cr->pipeline, &cr->psrc, table, record, &cr->result->stats,
				cr->err);
	if (rc == SPGW_OK && cr->result->stats.quarantined > refused && !cr->in->opts->dry_run)
		rc = SPGW_E_INVALID; /* rolled back with the rest: no half a catalog */
	return rc;
}

/*
 * Put one region's catalog records in the ledger unless the cursor says they are there
 * already. A refused record fails this region's result (rc) and writes nothing; an error
 * the whole ingest must stop for (ledger, memory) is returned.
 */
static enum spgw_rc catalog_region(struct ingest *in, const struct spgw_catalog *cat,
				   struct catalog_run *cr, struct spgw_error *err)
{
	struct spgw_ingest_result *r = cr->result;
	struct spgw_pipeline_stats none;
	struct timespec t0;
	char hex[65], cursor[80], *stored = NULL;
	enum spgw_rc rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&none, 0, sizeof(none));
	cr->err = err;
	rc = spgw_catalog_records(cat, cr->psrc.region, catalog_digest, cr, err);
	if (rc == SPGW_OK)
		rc = spgw_digest_hex(SPGW_DIGEST_SM3, cr->digests.data, cr->digests.len, hex, err);
	if (rc)
		goto out;
	snprintf(cursor, sizeof(cursor), "sm3:%s", hex);
	if (in->ledger) {
		rc = spgw_ledger_cursor_get(in->ledger, cr->psrc.name, &stored, err);
		if (rc)
			goto out;
		if (stored && !strcmp(stored, cursor)) {
			/* the records of this very catalog are in the ledger: nothing to write */
			r->stats.records = spgw_catalog_record_count(cat);
			r->stats.unchanged = r->stats.records;
			goto out;
		}
		rc = spgw_ledger_begin(in->ledger, err);
		if (rc)
			goto out;
	}
	rc = spgw_catalog_records(cat, cr->psrc.region, catalog_put, cr, err);
	if (rc == SPGW_OK && in->ledger)
		rc = spgw_ledger_cursor_set(in->ledger, cr->psrc.name, cursor, err);
	if (rc == SPGW_OK && in->ledger)
		rc = spgw_ledger_commit(in->ledger, err);
	if (rc && in->ledger)
		spgw_ledger_rollback(in->ledger);
	if (rc == SPGW_E_INVALID || (rc == SPGW_OK && cr->refused.code)) {
		/* a dry run goes on to show every refusal; a real one stopped at the first */
		r->rc = SPGW_E_INVALID;
		r->error = cr->refused;
		if (in->ledger) {
			none.records = r->stats.records;
			r->stats = none; /* rolled back: nothing written */
		}
		rc = SPGW_OK;
	} else if (rc == SPGW_OK && in->ledger) {
		r->commits = 1;
	}
out:
	if (rc) {
		r->rc = rc;
		r->error = *err;
	}
	spgw_free(stored);
	r->seconds = since(&t0);
	return rc == SPGW_E_NOMEM || rc == SPGW_E_LEDGER || rc == SPGW_E_IO ||
			       rc == SPGW_E_STATE
		       ? rc
		       : SPGW_OK;
}

static int region_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The distinct regions of the sources this run pulls (NULL-free, sorted so results come in
 * the same order every time). *regions is a new array of borrowed strings.
 */
static enum spgw_rc pulled_regions(const struct spgw_source *sources, size_t n,
				   const struct spgw_ingest_opts *opts, const char ***regions,
				   size_t *m, struct spgw_error *err)
{
	const char **r = spgw_calloc(n ? n : 1, sizeof(*r));
	size_t i, j, k = 0;

	if (!r)
		return spgw_error_nomem(err, "listing regions");
	for (i = 0; i < n; i++) {
		const struct spgw_source *src = &sources[i];

		if (opts->only_source ? strcmp(src->name, opts->only_source) : !src->enabled)
			continue;
		for (j = 0; j < k && strcmp(r[j], src->region); j++)
			;
		if (j == k)
			r[k++] = src->region;
	}
	if (k)
		qsort(r, k, sizeof(*r), region_cmp);
	*regions = r;
	*m = k;
	return SPGW_OK;
}

/* Load the catalog; its first problem becomes `err` (check-config lists them all). */
static enum spgw_rc load_catalog(const char *path, struct spgw_catalog **out,
				 struct spgw_error *err)
{
	struct spgw_diag diag;
	enum spgw_rc rc;

	spgw_diag_init(&diag);
	rc = spgw_catalog_load(path, out, &diag);
	if (rc && diag.n)
		*err = diag.items[0];
	else if (rc)
		spgw_error_set(err, rc, path, 0, 0, "cannot load the catalog");
	if (rc && diag.n > 1)
		snprintf(err->text + strlen(err->text), sizeof(err->text) - strlen(err->text),
			 " (and %zu more problems: spgw check-config lists them)", diag.n - 1);
	spgw_diag_free(&diag);
	return rc;
}

/* Every region's catalog records, into results[0..m) (slots hold their pseudo-sources). */
static enum spgw_rc catalog_all(struct ingest *in, const struct spgw_catalog *cat,
				const char *const *regions, size_t m,
				struct spgw_ingest_result *results, struct catalog_slot *slots,
				struct spgw_error *err)
{
	struct catalog_run cr;
	size_t i, max;
	enum spgw_rc rc = SPGW_OK;

	memset(&cr, 0, sizeof(cr));
	cr.in = in;
	/* one line per record: table (<= 32), key (<= 100), SM3 hex (64), separators */
	max = spgw_catalog_record_count(cat) * 208 + 1;
	spgw_buf_init(&cr.digests, max, "catalog fingerprint");
	spgw_buf_init(&cr.canon, 2 * (size_t)SPGW_MAX_RECORD, "canonical record");
	rc = spgw_pipeline_new(in->schema, in->ledger, &cr.pipeline, err);
	if (rc)
		goto out;
	spgw_pipeline_observe(cr.pipeline, catalog_observe, &cr);
	for (i = 0; i < m; i++) {
		struct catalog_slot *sl = &slots[i];

		snprintf(sl->name, sizeof(sl->name), CATALOG_PREFIX "%s", regions[i]);
		snprintf(sl->region, sizeof(sl->region), "%s", regions[i]);
		sl->src.name = sl->name;
		sl->src.region = sl->region;
		sl->src.enabled = 1;
		results[i].source = &sl->src;
		cr.result = &results[i];
		cr.psrc.name = sl->name;
		cr.psrc.region = sl->region;
		cr.psrc.mapping = NULL;
		memset(&cr.refused, 0, sizeof(cr.refused));
		spgw_buf_reset(&cr.digests);
		rc = catalog_region(in, cat, &cr, err);
		if (rc)
			goto out;
	}
out:
	spgw_pipeline_free(cr.pipeline);
	spgw_buf_free(&cr.digests);
	spgw_buf_free(&cr.canon);
	return rc;
}

/* --- one process per source: the lock --- */

#define LOCKS_DIR "locks"

/* <state_dir>/locks, made when missing: the ledger's folder is the state directory. *dir is
 * new (spgw_free). */
static enum spgw_rc locks_dir(const struct spgw_ledger *l, char **dir, struct spgw_error *err)
{
	const char *db = spgw_ledger_path(l), *slash = strrchr(db, '/');
	size_t n = slash ? (size_t)(slash - db) : 1;
	enum spgw_rc rc;
	char *d;

	d = spgw_malloc(n + sizeof("/" LOCKS_DIR));
	if (!d)
		return spgw_error_nomem(err, "naming the locks directory");
	if (slash)
		memcpy(d, db, n);
	else
		d[0] = '.';
	strcpy(d + n, "/" LOCKS_DIR);
	if (mkdir(d, 0700) && errno != EEXIST) {
		rc = spgw_error_set(err, SPGW_E_STATE, d, 0, 0, "cannot make the directory of "
				    "source locks: %s; the state directory must be writable by the "
				    "gateway's user", strerror(errno));
		spgw_free(d);
		return rc;
	}
	*dir = d;
	return SPGW_OK;
}

/*
 * Take <dir>/<source>.lock without waiting. SPGW_OK with *fd holding it (close to release:
 * the kernel releases it too when this process dies, however it dies); SPGW_E_BUSY when
 * another process holds it, the message naming the source and what the holder wrote into
 * the file; SPGW_E_STATE when it cannot be opened.
 */
static enum spgw_rc lock_source(const char *dir, const char *source, const char *holder,
				int backfill, int *fd, struct spgw_error *err)
{
	char path[4096], who[256], line[320];
	enum spgw_rc rc;
	ssize_t n;
	int f, e;

	snprintf(path, sizeof(path), "%s/%s.lock", dir, source);
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0, "cannot open the source's "
				      "lock file: %s", strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB)) {
		e = errno;
		if (e != EWOULDBLOCK) {
			close(f);
			return spgw_error_set(err, SPGW_E_STATE, path, 0, 0, "cannot lock the "
					      "source's lock file: %s", strerror(e));
		}
		n = pread(f, who, sizeof(who) - 1, 0);
		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		close(f);
		/* what a holder that died without releasing (kill -9) left is not the holder */
		if (strncmp(who, "pid ", 4) || (kill((pid_t)strtol(who + 4, NULL, 10), 0) &&
						errno == ESRCH))
			snprintf(who, sizeof(who), "a process holds %.200s", path);
		rc = spgw_error_set(err, SPGW_E_BUSY, source, 0, 0,
				    backfill ? "a regular pull or another backfill is pulling %s "
					       "(%s); run the backfill again once it has ended"
					     : "a backfill or another spgw is pulling %s (%s); it "
					       "will be pulled on the next run", source, who);
		return rc;
	}
	/* who holds it, for the message of whoever finds it taken (a failure here costs that
	 * message its detail, nothing more) */
	n = snprintf(line, sizeof(line), "pid %ld: %.280s\n", (long)getpid(),
		     holder ? holder : "spgw");
	if (ftruncate(f, 0) == 0)
		(void)!pwrite(f, line, (size_t)n, 0);
	*fd = f;
	return SPGW_OK;
}

/* --- backfills: the range's cursor and state --- */

#define BACKFILL_PREFIX "backfill:"
#define BACKFILL_STATE_PREFIX "backfill-state:"

/* "<prefix><source>:<from>:<to>", new (spgw_free). ':' is not allowed in a source name
 * (config/README.md), so these rows never meet a configured source's cursor. */
static char *backfill_name(const char *prefix, const char *source, const char *from,
			   const char *to)
{
	size_t n = strlen(prefix) + strlen(source) + strlen(from) + strlen(to) + 3;
	char *s = spgw_malloc(n);

	if (s)
		snprintf(s, n, "%s%s:%s:%s", prefix, source, from, to);
	return s;
}

/* The range's position: *cursor NULL to start it, or *done set when it was finished before
 * (and no restart is asked for). */
static enum spgw_rc backfill_position(struct ingest *in, struct job_state *js,
				      struct spgw_error *err)
{
	char *state = NULL;
	enum spgw_rc rc;

	rc = spgw_ledger_cursor_get(in->ledger, js->state_name, &state, err);
	if (rc)
		return rc;
	if (state && !strncmp(state, "done ", 5) && !in->opts->range_restart) {
		js->result->already_done = 1;
		snprintf(js->result->done_at, sizeof(js->result->done_at), "%s", state + 5);
	} else if (!in->opts->range_restart) {
		/* a range interrupted (or a restart interrupted after its first commit) goes on */
		rc = spgw_ledger_cursor_get(in->ledger, js->cursor_name, &js->cursor, err);
	}
	spgw_free(state);
	return rc;
}

/* The whole range was read: remember it, so a rerun says so instead of reading it again. */
static enum spgw_rc backfill_done(struct ingest *in, struct job_state *js,
				  struct spgw_error *err)
{
	char state[48];
	struct tm tm;
	time_t now = time(NULL);
	enum spgw_rc rc;

	gmtime_r(&now, &tm);
	strftime(state, sizeof(state), "done %Y-%m-%dT%H:%M:%SZ", &tm);
	rc = spgw_ledger_begin(in->ledger, err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_cursor_set(in->ledger, js->state_name, state, err);
	if (rc == SPGW_OK)
		rc = spgw_ledger_commit(in->ledger, err);
	if (rc)
		spgw_ledger_rollback(in->ledger);
	return rc;
}

enum spgw_rc spgw_ingest_backfill_done(struct spgw_ledger *ledger, const char *source,
				       const char *from, const char *to, int *done,
				       char done_at[32], struct spgw_error *err)
{
	char *name = backfill_name(BACKFILL_STATE_PREFIX, source, from, to), *state = NULL;
	enum spgw_rc rc;

	if (!name)
		return spgw_error_nomem(err, "reading a backfill's state");
	rc = spgw_ledger_cursor_get(ledger, name, &state, err);
	*done = rc == SPGW_OK && state && !strncmp(state, "done ", 5);
	if (*done)
		snprintf(done_at, 32, "%s", state + 5);
	spgw_free(state);
	spgw_free(name);
	return rc;
}

/* --- plugin sources --- */

/* Everything a job needs before its child starts: mapping and committed cursor. */
static enum spgw_rc prepare_job(struct ingest *in, const struct spgw_source *src,
				struct job_state *js, struct spgw_host_job *job,
				struct spgw_error *err)
{
	const struct spgw_ingest_opts *o = in->opts;
	struct spgw_diag diag;
	enum spgw_rc rc;

	spgw_diag_init(&diag);
	rc = spgw_mapping_load(src->mapping, in->schema, &js->mapping, &diag);
	if (rc) {
		if (diag.n)
			*err = diag.items[0];
		else
			spgw_error_set(err, rc, src->mapping, 0, 0, "cannot load the mapping");
		spgw_diag_free(&diag);
		return rc;
	}
	spgw_diag_free(&diag);
	js->workdir = spgw_strdup(src->file);
	js->cursor_name = o->range_from
				  ? backfill_name(BACKFILL_PREFIX, src->name, o->range_from,
						  o->range_to)
				  : spgw_strdup(src->name);
	if (o->range_from)
		js->state_name = backfill_name(BACKFILL_STATE_PREFIX, src->name, o->range_from,
					       o->range_to);
	if (!js->workdir || !js->cursor_name || (o->range_from && !js->state_name))
		return spgw_error_nomem(err, "starting a source");
	if (strrchr(js->workdir, '/'))
		*strrchr(js->workdir, '/') = '\0';
	else
		strcpy(js->workdir, ".");
	if (in->ledger && o->range_from)
		rc = backfill_position(in, js, err);
	else if (in->ledger)
		rc = spgw_ledger_cursor_get(in->ledger, src->name, &js->cursor, err);
	if (rc)
		return rc;
	js->psrc.name = src->name;
	js->psrc.region = src->region;
	js->psrc.mapping = js->mapping;
	job->source = src->name;
	job->plugin_path = src->plugin_path;
	job->settings = src->settings;
	job->region = src->region;
	job->workdir = js->workdir;
	job->cursor = js->cursor;
	job->op = o->range_from ? SPGW_HOST_PULL_RANGE : SPGW_HOST_PULL;
	job->range_from = o->range_from;
	job->range_to = o->range_to;
	job->timeout_ms = src->timeout_ms;
	job->memory_limit = src->memory_limit;
	job->ud = js;
	clock_gettime(CLOCK_MONOTONIC, &js->started);
	return SPGW_OK;
}

/* Release what a job's state holds, its lock included, and make it empty (lock_fd -1). */
static void job_state_clear(struct job_state *js)
{
	spgw_mapping_free(js->mapping);
	spgw_free(js->cursor);
	spgw_free(js->workdir);
	spgw_free(js->cursor_name);
	spgw_free(js->state_name);
	/* emptied first, so that the file names a holder only while one holds it (a failure
	 * costs the next busy message its detail, nothing more) */
	if (js->lock_fd >= 0) {
		(void)!ftruncate(js->lock_fd, 0);
		close(js->lock_fd);
	}
	memset(js, 0, sizeof(*js));
	js->lock_fd = -1;
}

static int on_stopping(void *ud)
{
	const struct ingest *in = ud;

	return in->opts->stop && *in->opts->stop;
}

/* A backfill's options: one source, two days in order. */
static enum spgw_rc check_range(const struct spgw_ingest_opts *o, struct spgw_error *err)
{
	if (!o->range_from)
		return SPGW_OK;
	if (!o->only_source)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "a backfill pulls one source: "
				      "name it");
	if (!o->range_to || spgw_frame_check_day(o->range_from, strlen(o->range_from)) ||
	    spgw_frame_check_day(o->range_to, strlen(o->range_to)) ||
	    strcmp(o->range_from, o->range_to) > 0)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "a backfill's range must be "
				      "two days YYYY-MM-DD, the first not after the second");
	return SPGW_OK;
}

enum spgw_rc spgw_ingest_run(const struct spgw_source *sources, size_t n,
			     const struct spgw_schema *schema, struct spgw_ledger *ledger,
			     const struct spgw_ingest_opts *opts, struct spgw_ingest_result **results,
			     size_t *nresults, struct spgw_error *err)
{
	struct spgw_host_ops ops = {
		.record = on_record,
		.commit = on_commit,
		.abort = on_abort,
		.log = on_log,
		.done = on_done,
	};
	struct ingest in;
	struct spgw_host_job *jobs = NULL;
	struct job_state *states = NULL;
	struct spgw_ingest_result *res = NULL, *pulled;
	struct spgw_catalog *cat = NULL;
	struct catalog_slot *slots = NULL;
	const char **regions = NULL;
	char *locks = NULL;
	size_t i, k = 0, r = 0, m = 0, block;
	enum spgw_rc rc;

	memset(&in, 0, sizeof(in));
	in.schema = schema;
	in.ledger = opts->dry_run ? NULL : ledger;
	in.opts = opts;
	if (opts->stop)
		ops.stopping = on_stopping;
	rc = check_range(opts, err);
	if (rc)
		return rc;
	if (opts->catalog) {
		rc = load_catalog(opts->catalog, &cat, err);
		if (rc == SPGW_OK)
			rc = pulled_regions(sources, n, opts, &regions, &m, err);
		if (rc)
			goto out;
	}
	/* Results first (catalog regions, then sources), the catalog's pseudo-sources after
	 * them in the same block, so the caller's one spgw_free() releases all. */
	block = (m + n + 1) * sizeof(*res);
	block = (block + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) *
		_Alignof(max_align_t);
	jobs = spgw_calloc(n ? n : 1, sizeof(*jobs));
	states = spgw_calloc(n ? n : 1, sizeof(*states));
	res = spgw_calloc(1, block + m * sizeof(*slots));
	if (!jobs || !states || !res) {
		rc = spgw_error_nomem(err, "starting ingest");
		goto out;
	}
	for (i = 0; i < n; i++)
		states[i].lock_fd = -1;
	slots = (struct catalog_slot *)(void *)((char *)res + block);
	pulled = res + m;
	if (in.ledger) {
		rc = locks_dir(in.ledger, &locks, err);
		if (rc)
			goto out;
	}
	rc = spgw_pipeline_new(schema, in.ledger, &in.pipeline, err);
	if (rc)
		goto out;
	if (opts->observe)
		spgw_pipeline_observe(in.pipeline, opts->observe, opts->observe_ud);
	for (i = 0; i < n; i++) {
		const struct spgw_source *src = &sources[i];
		struct spgw_ingest_result *re;

		if (opts->only_source ? strcmp(src->name, opts->only_source) : !src->enabled)
			continue;
		re = &pulled[r++];
		re->source = src;
		/* the lock before the cursor: whoever holds it may move the cursor */
		if (locks) {
			rc = lock_source(locks, src->name, opts->holder, opts->range_from != NULL,
					 &states[k].lock_fd, &re->error);
			if (rc == SPGW_E_BUSY) {
				re->rc = rc;
				continue;
			}
			if (rc) {
				*err = re->error;
				goto out;
			}
		}
		states[k].result = re;
		rc = prepare_job(&in, src, &states[k], &jobs[k], err);
		if (rc) {
			k++; /* its lock and allocations are released below */
			goto out;
		}
		if (re->already_done) {
			/* nothing to run: its slot is taken by the next source */
			job_state_clear(&states[k]);
			memset(&jobs[k], 0, sizeof(jobs[k]));
			continue;
		}
		k++;
	}
	if (opts->only_source && !r) {
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, NULL, 0, 0,
				    "no source named \"%s\" (spgw check-config lists them)",
				    opts->only_source);
		goto out;
	}
	/* definitions first: the cases pulled next name these flows and items */
	if (cat) {
		rc = catalog_all(&in, cat, regions, m, res, slots, err);
		if (rc)
			goto out;
	}
	rc = spgw_host_run(jobs, k, opts->parallel, &ops, &in, err);
	if (in.in_txn) {
		spgw_ledger_rollback(in.ledger);
		in.in_txn = 0;
	}
	if (rc)
		goto out;
	for (i = 0; i < k && in.ledger; i++) {
		if (states[i].state_name && states[i].result->rc == SPGW_OK) {
			rc = backfill_done(&in, &states[i], err);
			if (rc)
				goto out;
		}
	}
	for (i = 0; i < m + r; i++) {
		if (res[i].rc && rc == SPGW_OK)
			rc = res[i].rc;
	}
	*results = res;
	*nresults = m + r;
	res = NULL;
out:
	/* locks released only now: the children are reaped and the last commit is written */
	for (i = 0; i < k; i++)
		job_state_clear(&states[i]);
	spgw_pipeline_free(in.pipeline);
	spgw_catalog_free(cat);
	spgw_free(locks);
	spgw_free(regions);
	spgw_free(states);
	spgw_free(jobs);
	spgw_free(res);
	return rc;
}
