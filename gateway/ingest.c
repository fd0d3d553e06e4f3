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

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mapping.h"
#include "mem.h"
#include "plugin_host.h"

struct job_state {
	struct spgw_ingest_result *result;
	struct spgw_pipeline_source psrc;
	struct spgw_mapping *mapping; /* owned */
	struct spgw_pipeline_stats batch; /* since the last commit */
	char *cursor;                 /* the committed cursor we started from (owned) */
	char *workdir;                /* the source file's folder (owned) */
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
	rc = spgw_ledger_cursor_set(in->ledger, js->psrc.name, cursor, &js->err);
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

/* Everything a job needs before its child starts: mapping and committed cursor. */
static enum spgw_rc prepare_job(struct ingest *in, const struct spgw_source *src,
				struct job_state *js, struct spgw_host_job *job,
				struct spgw_error *err)
{
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
	if (!js->workdir)
		return spgw_error_nomem(err, "starting a source");
	if (strrchr(js->workdir, '/'))
		*strrchr(js->workdir, '/') = '\0';
	else
		strcpy(js->workdir, ".");
	if (in->ledger) {
		rc = spgw_ledger_cursor_get(in->ledger, src->name, &js->cursor, err);
		if (rc)
			return rc;
	}
	js->psrc.name = src->name;
	js->psrc.region = src->region;
	js->psrc.mapping = js->mapping;
	job->source = src->name;
	job->plugin_path = src->plugin_path;
	job->settings = src->settings;
	job->region = src->region;
	job->workdir = js->workdir;
	job->cursor = js->cursor;
	job->op = SPGW_HOST_PULL;
	job->timeout_ms = src->timeout_ms;
	job->memory_limit = src->memory_limit;
	job->ud = js;
	clock_gettime(CLOCK_MONOTONIC, &js->started);
	return SPGW_OK;
}

enum spgw_rc spgw_ingest_run(const struct spgw_source *sources, size_t n,
			     const struct spgw_schema *schema, struct spgw_ledger *ledger,
			     const struct spgw_ingest_opts *opts, struct spgw_ingest_result **results,
			     size_t *nresults, struct spgw_error *err)
{
	static const struct spgw_host_ops ops = {
		.record = on_record,
		.commit = on_commit,
		.abort = on_abort,
		.log = on_log,
		.done = on_done,
	};
	struct ingest in;
	struct spgw_host_job *jobs = NULL;
	struct job_state *states = NULL;
	struct spgw_ingest_result *res = NULL;
	size_t i, k = 0;
	enum spgw_rc rc;

	memset(&in, 0, sizeof(in));
	in.schema = schema;
	in.ledger = opts->dry_run ? NULL : ledger;
	in.opts = opts;
	jobs = spgw_calloc(n ? n : 1, sizeof(*jobs));
	states = spgw_calloc(n ? n : 1, sizeof(*states));
	res = spgw_calloc(n ? n : 1, sizeof(*res));
	if (!jobs || !states || !res) {
		rc = spgw_error_nomem(err, "starting ingest");
		goto out;
	}
	rc = spgw_pipeline_new(schema, in.ledger, &in.pipeline, err);
	if (rc)
		goto out;
	if (opts->observe)
		spgw_pipeline_observe(in.pipeline, opts->observe, opts->observe_ud);
	for (i = 0; i < n; i++) {
		const struct spgw_source *src = &sources[i];

		if (opts->only_source ? strcmp(src->name, opts->only_source) : !src->enabled)
			continue;
		res[k].source = src;
		states[k].result = &res[k];
		rc = prepare_job(&in, src, &states[k], &jobs[k], err);
		if (rc)
			goto out;
		k++;
	}
	if (opts->only_source && !k) {
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, NULL, 0, 0,
				    "no source named \"%s\" (spgw check-config lists them)",
				    opts->only_source);
		goto out;
	}
	rc = spgw_host_run(jobs, k, opts->parallel, &ops, &in, err);
	if (in.in_txn) {
		spgw_ledger_rollback(in.ledger);
		in.in_txn = 0;
	}
	if (rc)
		goto out;
	for (i = 0; i < k; i++) {
		if (res[i].rc && rc == SPGW_OK)
			rc = res[i].rc;
	}
	*results = res;
	*nresults = k;
	res = NULL;
out:
	for (i = 0; i < n && states; i++) {
		spgw_mapping_free(states[i].mapping);
		spgw_free(states[i].cursor);
		spgw_free(states[i].workdir);
	}
	spgw_pipeline_free(in.pipeline);
	spgw_free(states);
	spgw_free(jobs);
	spgw_free(res);
	return rc;
}
