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

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "canonical.h"
#include "catalog.h"
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

/* --- plugin sources --- */

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
	struct spgw_ingest_result *res = NULL, *pulled;
	struct spgw_catalog *cat = NULL;
	struct catalog_slot *slots = NULL;
	const char **regions = NULL;
	size_t i, k = 0, m = 0, block;
	enum spgw_rc rc;

	memset(&in, 0, sizeof(in));
	in.schema = schema;
	in.ledger = opts->dry_run ? NULL : ledger;
	in.opts = opts;
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
	slots = (struct catalog_slot *)(void *)((char *)res + block);
	pulled = res + m;
	rc = spgw_pipeline_new(schema, in.ledger, &in.pipeline, err);
	if (rc)
		goto out;
	if (opts->observe)
		spgw_pipeline_observe(in.pipeline, opts->observe, opts->observe_ud);
	for (i = 0; i < n; i++) {
		const struct spgw_source *src = &sources[i];

		if (opts->only_source ? strcmp(src->name, opts->only_source) : !src->enabled)
			continue;
		pulled[k].source = src;
		states[k].result = &pulled[k];
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
	for (i = 0; i < m + k; i++) {
		if (res[i].rc && rc == SPGW_OK)
			rc = res[i].rc;
	}
	*results = res;
	*nresults = m + k;
	res = NULL;
out:
	for (i = 0; i < n && states; i++) {
		spgw_mapping_free(states[i].mapping);
		spgw_free(states[i].cursor);
		spgw_free(states[i].workdir);
	}
	spgw_pipeline_free(in.pipeline);
	spgw_catalog_free(cat);
	spgw_free(regions);
	spgw_free(states);
	spgw_free(jobs);
	spgw_free(res);
	return rc;
}
