/*
 * Reconciliation (reconcile.h): the three counts side by side, in four passes over a table
 * of rows keyed by region, table and day: the city systems (the plugins' count(), run in
 * their own processes like pulls), the ledger's keyday tallies, the national platform's
 * /counts; then each row judged, differing days compared key by key when asked, and the
 * whole kept in the ledger.
 */
#include "reconcile.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mapping.h"
#include "mem.h"
#include "national_query.h"
#include "plugin_host.h"

struct recon {
	const struct spgw_recon_opts *o;
	struct spgw_recon_result *r;
	json_t *index;   /* "region\ttable\tday" -> row number */
	json_t *regions; /* region -> true: the regions reconciled */
	json_t *counted; /* "region\ttable" -> "" counted, or the reason it is not */
	struct spgw_error *err;
};

const char *spgw_recon_kind_en(const char *kind)
{
	if (!strcmp(kind, "missing_national"))
		return "missing at the national platform";
	if (!strcmp(kind, "missing_ledger"))
		return "at the national platform, never in the ledger";
	if (!strcmp(kind, "digest"))
		return "the national platform holds another version";
	if (!strcmp(kind, "extra_national"))
		return "at the national platform on this day, in the ledger on another";
	return kind;
}

const char *spgw_recon_kind_zh(const char *kind)
{
	if (!strcmp(kind, "missing_national"))
		return "国家平台缺少";
	if (!strcmp(kind, "missing_ledger"))
		return "网关台账没有";
	if (!strcmp(kind, "digest"))
		return "摘要不一致";
	if (!strcmp(kind, "extra_national"))
		return "国家平台多出（业务日期不同）";
	return kind;
}

void spgw_recon_result_clear(struct spgw_recon_result *r)
{
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		spgw_free(r->rows[i].city_note);
		spgw_free(r->rows[i].national_note);
		spgw_free(r->rows[i].note);
	}
	for (i = 0; i < r->ndiffs; i++) {
		struct spgw_recon_diff *d = &r->diffs[i];

		spgw_free(d->region);
		spgw_free(d->table);
		spgw_free(d->day);
		spgw_free(d->key);
		spgw_free(d->kind);
		spgw_free(d->ledger_digest);
		spgw_free(d->national_digest);
	}
	spgw_free(r->rows);
	spgw_free(r->diffs);
	memset(r, 0, sizeof(*r));
}

/* The row of region, table, day, made (all counts zero, city and national unknown) on
 * first use; NULL when memory is short. Row pointers move as rows are added: use the
 * returned one at once. */
static struct spgw_recon_row *row(struct recon *k, const char *region, const char *table,
				  const char *day)
{
	char key[128];
	json_t *at;
	struct spgw_recon_row *w;

	snprintf(key, sizeof(key), "%s\t%s\t%s", region, table, day);
	at = json_object_get(k->index, key);
	if (at)
		return &k->r->rows[json_integer_value(at)];
	if ((k->r->nrows & (k->r->nrows + 1)) == 0 || !k->r->rows) {
		/* grow at 2^n - 1 rows */
		size_t cap = (k->r->nrows + 1) * 2;
		struct spgw_recon_row *rows = spgw_realloc(k->r->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		k->r->rows = rows;
	}
	w = &k->r->rows[k->r->nrows];
	memset(w, 0, sizeof(*w));
	snprintf(w->region, sizeof(w->region), "%s", region);
	snprintf(w->table, sizeof(w->table), "%s", table);
	snprintf(w->day, sizeof(w->day), "%s", day);
	w->city = -1;
	w->national = w->national_valid = -1;
	if (json_object_set_new(k->index, key, json_integer((json_int_t)k->r->nrows)))
		return NULL;
	k->r->nrows++;
	return w;
}

static int wanted_table(const struct recon *k, const char *table)
{
	return !k->o->table || !strcmp(k->o->table, table);
}

static int wanted_region(const struct recon *k, const char *region)
{
	return !k->o->region || !strcmp(k->o->region, region);
}

/* ---- 1. the city systems ---- */

struct city_job {
	struct recon *k;
	const struct spgw_source *src;
	json_t *targets; /* source table -> [[spgl table, one_to_one], ...] */
	int out_of_range;
};

static void add_target(void *ud, const char *source_table, const char *spgl_table, int one)
{
	struct city_job *j = ud;
	json_t *list = json_object_get(j->targets, source_table);

	if (!list) {
		list = json_array();
		json_object_set_new(j->targets, source_table, list);
	}
	json_array_append_new(list, json_pack("[s,b]", spgl_table, one));
}

static enum spgw_rc city_count(void *ud, struct spgw_host_job *job, const char *table,
			       const char *day, uint64_t records)
{
	struct city_job *j = job->ud;
	struct recon *k = j->k;
	json_t *list = json_object_get(j->targets, table), *t;
	size_t i;

	(void)ud;
	if (strcmp(day, k->o->from) < 0 || strcmp(day, k->o->to) > 0) {
		j->out_of_range++;
		return SPGW_OK;
	}
	json_array_foreach(list, i, t) {
		const char *spgl = json_string_value(json_array_get(t, 0));
		struct spgw_recon_row *w;

		if (!json_is_true(json_array_get(t, 1)) || !wanted_table(k, spgl))
			continue;
		w = row(k, j->src->region, spgl, day);
		if (!w)
			return SPGW_E_NOMEM;
		w->city = (w->city < 0 ? 0 : w->city) + (int64_t)records;
	}
	return SPGW_OK;
}

static enum spgw_rc no_record(void *ud, struct spgw_host_job *job, const char *table,
			      const char *json, size_t len)
{
	(void)ud, (void)job, (void)table, (void)json, (void)len;
	return spgw_error_set(&job->error, SPGW_E_PLUGIN, job->source, 0, 0,
			      "the plugin emitted a record while counting");
}

static enum spgw_rc no_commit(void *ud, struct spgw_host_job *job, const char *cursor)
{
	(void)ud, (void)job, (void)cursor;
	return SPGW_E_PLUGIN;
}

static void count_log(void *ud, struct spgw_host_job *job, enum spgw_log_level level,
		      const char *line)
{
	(void)ud, (void)job, (void)level, (void)line;
}

static int count_stopping(void *ud)
{
	struct recon *k = ud;

	return k->o->stop && *k->o->stop;
}

/* Mark region, table counted ("") or not (the reason), the first word winning. */
static void set_counted(struct recon *k, const char *region, const char *table, const char *why)
{
	char key[96];
	const char *was;

	snprintf(key, sizeof(key), "%s\t%s", region, table);
	was = json_string_value(json_object_get(k->counted, key));
	if (was && was[0])
		return; /* one source of the region not counted makes the sum not a count */
	json_object_set_new(k->counted, key, json_string(why));
}

static enum spgw_rc city(struct recon *k)
{
	const struct spgw_config *c = k->o->config;
	static const struct spgw_host_ops ops = {
		.record = no_record,
		.commit = no_commit,
		.log = count_log,
		.count = city_count,
		.stopping = count_stopping,
	};
	struct spgw_host_job *jobs = spgw_calloc(c->nsources + 1, sizeof(*jobs));
	struct city_job *cj = spgw_calloc(c->nsources + 1, sizeof(*cj));
	char **dirs = spgw_calloc(c->nsources + 1, sizeof(*dirs));
	size_t i, n = 0;
	enum spgw_rc rc = SPGW_OK;

	if (!jobs || !cj || !dirs) {
		rc = spgw_error_nomem(k->err, "counting the city systems");
		goto out;
	}
	for (i = 0; i < c->nsources; i++) {
		const struct spgw_source *s = &c->sources[i];
		struct spgw_mapping *m = NULL;
		struct spgw_diag diag;
		char *slash;

		if (!s->enabled || !wanted_region(k, s->region))
			continue;
		json_object_set_new(k->regions, s->region, json_true());
		cj[n].k = k;
		cj[n].src = s;
		cj[n].targets = json_object();
		spgw_diag_init(&diag);
		if (spgw_mapping_load(s->mapping, k->o->schema, &m, &diag) == SPGW_OK)
			spgw_mapping_targets(m, add_target, &cj[n]);
		spgw_mapping_free(m);
		spgw_diag_free(&diag);
		dirs[n] = spgw_strdup(s->file);
		if (!cj[n].targets || !dirs[n]) {
			rc = spgw_error_nomem(k->err, "counting the city systems");
			n++;
			goto out;
		}
		slash = strrchr(dirs[n], '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dirs[n], ".");
		jobs[n].source = s->name;
		jobs[n].plugin_path = s->plugin_path;
		jobs[n].settings = s->settings;
		jobs[n].region = s->region;
		jobs[n].workdir = dirs[n];
		jobs[n].op = SPGW_HOST_COUNT;
		jobs[n].count_from = k->o->from;
		jobs[n].count_to = k->o->to;
		jobs[n].timeout_ms = s->timeout_ms;
		jobs[n].memory_limit = s->memory_limit;
		jobs[n].ud = &cj[n];
		n++;
	}
	if (k->o->skip_city || !n)
		goto marks;
	rc = spgw_host_run(jobs, n, 0, &ops, k, k->err);
	if (rc)
		goto out;
marks:
	/* every one-to-one target of a source is counted or says why not */
	for (i = 0; i < n; i++) {
		const char *st;
		json_t *list, *t;
		size_t j;
		char why[700], line[600];

		why[0] = '\0';
		/* a "!" before the reason marks a count that was asked and failed: such a
		 * table is shown even when it holds nothing anywhere else */
		if (k->o->skip_city)
			snprintf(why, sizeof(why), "not counted (city systems not asked)");
		else if (jobs[i].result == SPGW_E_NOTFOUND)
			snprintf(why, sizeof(why), "not counted: plugin \"%s\" cannot count",
				 cj[i].src->plugin);
		else if (jobs[i].result)
			snprintf(why, sizeof(why), "!not counted: %s",
				 spgw_error_format(&jobs[i].error, line, sizeof(line)));
		json_object_foreach(cj[i].targets, st, list)
			json_array_foreach(list, j, t) {
				const char *spgl = json_string_value(json_array_get(t, 0));

				if (!wanted_table(k, spgl))
					continue;
				set_counted(k, cj[i].src->region, spgl,
					    why[0] ? why
					    : json_is_true(json_array_get(t, 1))
						    ? ""
						    : "not counted: its mapping makes a varying "
						      "number of records of this table");
			}
	}
out:
	for (i = 0; i < n; i++) {
		json_decref(cj[i].targets);
		spgw_free(dirs[i]);
	}
	spgw_free(jobs);
	spgw_free(cj);
	spgw_free(dirs);
	return rc;
}

/* ---- 2. the ledger ---- */

static enum spgw_rc ledger_day(void *ud, const struct spgw_day_count *c)
{
	struct recon *k = ud;
	struct spgw_recon_row *w;

	json_object_set_new(k->regions, c->region, json_true());
	w = row(k, c->region, c->table, c->day);
	if (!w)
		return SPGW_E_NOMEM;
	w->delivered = c->delivered;
	w->valid = c->valid;
	w->pending = c->pending;
	w->dead = c->dead;
	return SPGW_OK;
}

static enum spgw_rc held_day(void *ud, const struct spgw_day_count *c)
{
	struct recon *k = ud;
	struct spgw_recon_row *w = row(k, c->region, c->table, "");

	if (!w)
		return SPGW_E_NOMEM;
	w->held = c->pending;
	return SPGW_OK;
}

static enum spgw_rc quarantined(void *ud, const struct spgw_table_status *t)
{
	struct recon *k = ud;
	struct spgw_recon_row *w;

	if (!t->quarantined || !wanted_region(k, t->region) || !wanted_table(k, t->table) ||
	    !json_object_get(k->regions, t->region))
		return SPGW_OK;
	w = row(k, t->region, t->table, "");
	if (!w)
		return SPGW_E_NOMEM;
	w->quarantined = t->quarantined;
	return SPGW_OK;
}

static enum spgw_rc ledger(struct recon *k)
{
	enum spgw_rc rc;

	rc = spgw_ledger_day_counts(k->o->ledger, k->o->region, k->o->table, k->o->from,
				    k->o->to, ledger_day, k, k->err);
	if (!rc)
		rc = spgw_ledger_day_counts(k->o->ledger, k->o->region, k->o->table, "", "",
					    held_day, k, k->err);
	if (!rc)
		rc = spgw_ledger_table_status(k->o->ledger, "", quarantined, k, k->err);
	return rc;
}

/* ---- 3. the national platform ---- */

struct nat_ctx {
	struct recon *k;
	const char *region, *table;
};

static enum spgw_rc national_day(void *ud, const char *day, int64_t records, int64_t valid)
{
	struct nat_ctx *x = ud;
	struct spgw_recon_row *w = row(x->k, x->region, x->table, day);

	if (!w)
		return SPGW_E_NOMEM;
	w->national = records;
	w->national_valid = valid;
	return SPGW_OK;
}

/* "YYYY-MM-DD" plus `days` days. */
static void add_days(const char *day, int days, char out[11])
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += days;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Mark every row of region, table: national unknown, with why. */
static enum spgw_rc national_unknown(struct recon *k, const char *region, const char *table,
				     const char *why)
{
	struct spgw_recon_row *w = row(k, region, table, "");
	size_t i;

	if (!w)
		return SPGW_E_NOMEM;
	for (i = 0; i < k->r->nrows; i++) {
		w = &k->r->rows[i];
		if (strcmp(w->region, region) || strcmp(w->table, table))
			continue;
		w->national = w->national_valid = -1;
		spgw_free(w->national_note);
		w->national_note = spgw_strdup(why);
	}
	if (!k->r->incomplete)
		snprintf(k->r->message, sizeof(k->r->message), "%s", why);
	k->r->incomplete = 1;
	return SPGW_OK;
}

static enum spgw_rc national(struct recon *k)
{
	const struct spgw_schema *s = k->o->schema;
	struct spgw_national_client *nc = NULL;
	struct spgw_error e;
	const char *region;
	json_t *v;
	size_t t;
	enum spgw_rc rc = SPGW_OK;

	memset(&e, 0, sizeof(e));
	if (spgw_national_open(&k->o->config->national, &nc, &e)) {
		char why[700];

		snprintf(why, sizeof(why), "not asked: %s", e.text);
		json_object_foreach(k->regions, region, v)
			for (t = 0; !rc && t < spgw_schema_table_count(s); t++) {
				const char *name = spgw_table_name(spgw_schema_table_at(s, t));

				if (wanted_table(k, name))
					rc = national_unknown(k, region, name, why);
			}
		return rc;
	}
	json_object_foreach(k->regions, region, v) {
		for (t = 0; !rc && t < spgw_schema_table_count(s); t++) {
			const char *name = spgw_table_name(spgw_schema_table_at(s, t));
			struct nat_ctx x = { k, region, name };
			char from[11], to[11];

			if (!wanted_table(k, name))
				continue;
			snprintf(from, sizeof(from), "%s", k->o->from);
			while (!rc && strcmp(from, k->o->to) <= 0) {
				add_days(from, SPGW_NATIONAL_MAX_DAYS - 1, to);
				if (strcmp(to, k->o->to) > 0)
					snprintf(to, sizeof(to), "%s", k->o->to);
				if (k->o->stop && *k->o->stop) {
					rc = spgw_error_set(k->err, SPGW_E_RETRY, NULL, 0, 0,
							    "stopped");
					break;
				}
				memset(&e, 0, sizeof(e));
				rc = spgw_national_counts(nc, region, name, from, to, national_day,
							  &x, &e);
				if (rc && rc != SPGW_E_NOMEM) {
					rc = national_unknown(k, region, name, e.text);
					break;
				}
				add_days(to, 1, from);
			}
			if (rc == SPGW_E_NOMEM)
				spgw_error_nomem(k->err, "reading the national counts");
		}
		if (rc)
			break;
	}
	spgw_national_stats(nc, &k->r->requests, &k->r->retries);
	spgw_national_close(nc);
	return rc;
}

/* ---- 4. judging ---- */

static int by_place(const void *a, const void *b)
{
	const struct spgw_recon_row *x = a, *y = b;
	int c = strcmp(x->region, y->region);

	if (!c)
		c = strcmp(x->table, y->table);
	if (!c)
		c = strcmp(x->day, y->day);
	return c;
}

/* Append to a row's note, "; " between parts. */
static int note(struct spgw_recon_row *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int note(struct spgw_recon_row *w, const char *fmt, ...)
{
	char part[400], *n;
	size_t had = w->note ? strlen(w->note) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	n = spgw_realloc(w->note, had + strlen(part) + 3);
	if (!n)
		return -1;
	if (had)
		memcpy(n + had, "; ", 3);
	else
		n[0] = '\0';
	strcat(n, part);
	w->note = n;
	return 0;
}

static enum spgw_rc judge(struct recon *k)
{
	size_t i, t0 = 0, n = k->r->nrows;

	/* a table whose city count failed is shown even when nothing else holds it */
	{
		const char *key;
		json_t *v;

		json_object_foreach(k->counted, key, v) {
			const char *why = json_string_value(v), *tab = strchr(key, '\t');
			char region[8];

			if (!why || why[0] != '!' || !tab || tab - key >= (long)sizeof(region))
				continue;
			memcpy(region, key, (size_t)(tab - key));
			region[tab - key] = '\0';
			if (!row(k, region, tab + 1, ""))
				return SPGW_E_NOMEM;
		}
	}
	n = k->r->nrows;
	/* every table with a day has its total row, which sorts first */
	for (i = 0; i < n; i++) {
		char region[8], table[64];

		snprintf(region, sizeof(region), "%s", k->r->rows[i].region);
		snprintf(table, sizeof(table), "%s", k->r->rows[i].table);
		if (!row(k, region, table, ""))
			return SPGW_E_NOMEM;
	}
	qsort(k->r->rows, k->r->nrows, sizeof(*k->r->rows), by_place);
	for (i = 0; i < k->r->nrows; i++) {
		struct spgw_recon_row *w = &k->r->rows[i];
		char key[96];
		const char *counted;
		int bad = 0, unknown = 0;

		snprintf(key, sizeof(key), "%s\t%s", w->region, w->table);
		counted = json_string_value(json_object_get(k->counted, key));
		if (!w->day[0]) {
			t0 = i; /* the total row comes first: days add to it */
			if (!counted || counted[0]) {
				w->city = -1;
				w->city_failed = counted && counted[0] == '!';
				w->city_note = spgw_strdup(counted ? counted + w->city_failed
							   : "not counted: no configured source "
							     "makes this table");
			} else {
				w->city = 0;
			}
			if (!w->national_note)
				w->national = w->national_valid = 0;
			if (w->city_failed && !k->r->incomplete) {
				snprintf(k->r->message, sizeof(k->r->message), "%s %s: %s", w->region,
					 w->table, w->city_note ? w->city_note : "not counted");
				k->r->incomplete = 1;
			}
			/* what could not be known leaves the table unproven, even without days */
			strcpy(w->status, w->national_note || w->city_failed ? "incomplete" : "agree");
			continue;
		}
		/* a counted table's day the city did not report holds nothing there */
		if (counted && !counted[0] && w->city < 0)
			w->city = 0;
		else if (!counted || counted[0])
			w->city = -1;
		if (k->r->rows[t0].national_note && !w->national_note)
			w->national_note = spgw_strdup(k->r->rows[t0].national_note);
		else if (w->national < 0 && !w->national_note)
			w->national = w->national_valid = 0; /* the platform holds none that day */
		/* the city counts records in force (plugin.h), the ledger's match is its valid
		 * delivered keys and whatever waits or is dead (their validity is the newer
		 * version's, which the notes below flag anyway) */
		if (w->city >= 0 && w->city != w->valid + w->pending + w->dead) {
			int64_t have = w->valid + w->pending + w->dead;

			bad = 1;
			if (note(w, w->city > have
					    ? "the city holds %lld more in force than the ledger "
					      "(quarantined or not yet pulled?)"
					    : "the ledger holds %lld more in force than the city "
					      "(voided or deleted at the source and not yet pulled?)",
				 (long long)llabs(w->city - have)))
				return SPGW_E_NOMEM;
		}
		if (w->pending && note(w, "%lld waiting for upload", (long long)w->pending))
			return SPGW_E_NOMEM;
		if (w->dead && note(w, "%lld dead letters (refused by the national platform)",
				    (long long)w->dead))
			return SPGW_E_NOMEM;
		bad |= w->pending || w->dead;
		if (w->national >= 0) {
			if (w->national != w->delivered) {
				bad = 1;
				if (note(w, "the national platform counts %lld, the ledger delivered "
					    "%lld",
					 (long long)w->national, (long long)w->delivered))
					return SPGW_E_NOMEM;
			} else if (w->national_valid != w->valid) {
				bad = 1;
				if (note(w, "valid (数据有效): %lld at the national platform, %lld in "
					    "the ledger",
					 (long long)w->national_valid, (long long)w->valid))
					return SPGW_E_NOMEM;
			}
		} else {
			unknown = 1;
		}
		strcpy(w->status, bad ? "differ" : unknown ? "incomplete" : "agree");
		if (bad)
			k->r->differences++;
		{
			struct spgw_recon_row *tot = &k->r->rows[t0];

			if (w->city >= 0 && tot->city >= 0)
				tot->city += w->city;
			tot->delivered += w->delivered;
			tot->valid += w->valid;
			tot->pending += w->pending;
			tot->dead += w->dead;
			if (w->national >= 0 && tot->national >= 0) {
				tot->national += w->national;
				tot->national_valid += w->national_valid;
			}
			if (bad)
				strcpy(tot->status, "differ");
			else if (unknown && strcmp(tot->status, "differ"))
				strcpy(tot->status, "incomplete");
		}
	}
	for (i = 0; i < k->r->nrows; i++) {
		struct spgw_recon_row *w = &k->r->rows[i];

		if (w->day[0])
			continue;
		if (w->held && note(w, "%lld held without a business day yet (waiting for the "
				       "record their day comes from)",
				    (long long)w->held))
			return SPGW_E_NOMEM;
		if (w->quarantined &&
		    note(w, "%lld in quarantine (spgw quarantine list)", (long long)w->quarantined))
			return SPGW_E_NOMEM;
	}
	return SPGW_OK;
}

/* Drop tables that hold nothing anywhere: a year of twelve empty tables is no news. */
static void prune(struct recon *k)
{
	size_t i = 0, out = 0;

	while (i < k->r->nrows) {
		size_t j = i + 1, m;
		int any = 0;

		while (j < k->r->nrows && !strcmp(k->r->rows[j].region, k->r->rows[i].region) &&
		       !strcmp(k->r->rows[j].table, k->r->rows[i].table))
			j++;
		for (m = i; m < j; m++) {
			const struct spgw_recon_row *w = &k->r->rows[m];

			any |= w->city > 0 || w->delivered || w->pending || w->dead ||
			       w->national > 0 || w->held || w->quarantined || w->national_note ||
			       w->city_failed;
		}
		for (m = i; m < j; m++) {
			if (any) {
				k->r->rows[out++] = k->r->rows[m];
			} else {
				spgw_free(k->r->rows[m].city_note);
				spgw_free(k->r->rows[m].national_note);
				spgw_free(k->r->rows[m].note);
			}
		}
		i = j;
	}
	k->r->nrows = out;
}

/* ---- 5. keys of the differing days ---- */

struct nkey {
	char *key, *digest;
};

struct keys_ctx {
	struct nkey *v;
	size_t n, cap;
};

static enum spgw_rc collect_key(void *ud, const char *key, const char *digest)
{
	struct keys_ctx *x = ud;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		struct nkey *v = spgw_realloc(x->v, cap * sizeof(*v));

		if (!v)
			return SPGW_E_NOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n].key = spgw_strdup(key);
	x->v[x->n].digest = spgw_strdup(digest);
	if (!x->v[x->n].key || !x->v[x->n].digest) {
		spgw_free(x->v[x->n].key);
		spgw_free(x->v[x->n].digest);
		return SPGW_E_NOMEM;
	}
	x->n++;
	return SPGW_OK;
}

struct merge {
	struct recon *k;
	const struct spgw_recon_row *w;
	struct keys_ctx *nat;
	size_t ni;          /* next national key to look at */
	char *last;         /* the last ledger key seen */
	enum spgw_rc rc;
};

static enum spgw_rc add_diff(struct recon *k, const struct spgw_recon_row *w, const char *key,
			     const char *kind, const char *ld, const char *nd)
{
	struct spgw_recon_diff *d;

	if ((k->r->ndiffs & (k->r->ndiffs + 1)) == 0 || !k->r->diffs) {
		struct spgw_recon_diff *v =
			spgw_realloc(k->r->diffs, (k->r->ndiffs + 1) * 2 * sizeof(*v));

		if (!v)
			return SPGW_E_NOMEM;
		k->r->diffs = v;
	}
	d = &k->r->diffs[k->r->ndiffs];
	memset(d, 0, sizeof(*d));
	d->region = spgw_strdup(w->region);
	d->table = spgw_strdup(w->table);
	d->day = spgw_strdup(w->day);
	d->key = spgw_strdup(key);
	d->kind = spgw_strdup(kind);
	d->ledger_digest = ld ? spgw_strdup(ld) : NULL;
	d->national_digest = nd ? spgw_strdup(nd) : NULL;
	k->r->ndiffs++;
	if (!d->region || !d->table || !d->day || !d->key || !d->kind || (ld && !d->ledger_digest) ||
	    (nd && !d->national_digest))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

/* National keys below `key` that the ledger does not have on this day. */
static enum spgw_rc national_only(struct merge *m, const char *upto)
{
	struct recon *k = m->k;

	while (m->ni < m->nat->n && (!upto || strcmp(m->nat->v[m->ni].key, upto) < 0)) {
		const struct nkey *nk = &m->nat->v[m->ni++];
		struct spgw_key_state ks;
		enum spgw_rc rc;

		rc = spgw_ledger_key_state(k->o->ledger, m->w->region, m->w->table, nk->key, &ks,
					   k->err);
		if (rc)
			return rc;
		/* waiting on this day: an older version of it may well be there */
		if (ks.found && !strcmp(ks.day, m->w->day) && strcmp(ks.state, "delivered"))
			continue;
		rc = add_diff(k, m->w, nk->key, ks.found ? "extra_national" : "missing_ledger", NULL,
			      nk->digest);
		if (rc)
			return rc;
	}
	return SPGW_OK;
}

static enum spgw_rc ledger_key(void *ud, const struct spgw_day_key *lk)
{
	struct merge *m = ud;
	enum spgw_rc rc;

	if (strcmp(lk->state, "delivered"))
		return SPGW_OK; /* waiting or dead: not expected there (the note says so) */
	rc = national_only(m, lk->key);
	if (rc)
		return rc;
	if (m->ni < m->nat->n && !strcmp(m->nat->v[m->ni].key, lk->key)) {
		const struct nkey *nk = &m->nat->v[m->ni++];

		if (strcmp(nk->digest, lk->digest))
			return add_diff(m->k, m->w, lk->key, "digest", lk->digest, nk->digest);
		return SPGW_OK;
	}
	return add_diff(m->k, m->w, lk->key, "missing_national", lk->digest, NULL);
}

static enum spgw_rc detail(struct recon *k)
{
	struct spgw_national_client *nc = NULL;
	enum spgw_rc rc;
	size_t i;

	rc = spgw_national_open(&k->o->config->national, &nc, k->err);
	if (rc)
		return rc;
	for (i = 0; !rc && i < k->r->nrows; i++) {
		struct spgw_recon_row *w = &k->r->rows[i];
		struct keys_ctx nat = { NULL, 0, 0 };
		struct merge m;
		struct spgw_error e;
		size_t j;

		if (!w->day[0] || w->national < 0 ||
		    (strcmp(w->status, "differ") && !k->o->all_keys) ||
		    (!w->delivered && !w->national))
			continue;
		if (k->o->stop && *k->o->stop) {
			rc = spgw_error_set(k->err, SPGW_E_RETRY, NULL, 0, 0, "stopped");
			break;
		}
		memset(&e, 0, sizeof(e));
		rc = spgw_national_keys(nc, w->region, w->table, w->day, collect_key, &nat, &e);
		if (!rc && (int64_t)nat.n != w->national) {
			spgw_error_set(&e, SPGW_E_INVALID, k->o->config->national.url, 0, 0,
				       "the national platform counts %lld for %s %s on %s but its "
				       "keys listing gives %zu: neither is taken",
				       (long long)w->national, w->region, w->table, w->day, nat.n);
			rc = SPGW_E_INVALID;
		}
		if (rc && rc != SPGW_E_NOMEM) {
			/* this day cannot be compared key by key: said, the others go on */
			spgw_free(w->national_note);
			w->national_note = spgw_strdup(e.text);
			if (note(w, "keys not compared: %s", e.text))
				rc = SPGW_E_NOMEM;
			else
				rc = SPGW_OK;
			if (!k->r->incomplete)
				snprintf(k->r->message, sizeof(k->r->message), "%s", e.text);
			k->r->incomplete = 1;
		} else if (!rc) {
			memset(&m, 0, sizeof(m));
			m.k = k;
			m.w = w;
			m.nat = &nat;
			rc = spgw_ledger_day_keys(k->o->ledger, w->region, w->table, w->day,
						  ledger_key, &m, k->err);
			if (!rc)
				rc = national_only(&m, NULL);
		}
		for (j = 0; j < nat.n; j++) {
			spgw_free(nat.v[j].key);
			spgw_free(nat.v[j].digest);
		}
		spgw_free(nat.v);
		if (rc == SPGW_E_NOMEM)
			spgw_error_nomem(k->err, "comparing keys");
	}
	{
		int64_t rq, rt;

		spgw_national_stats(nc, &rq, &rt);
		k->r->requests += rq;
		k->r->retries += rt;
	}
	spgw_national_close(nc);
	return rc;
}

/* Queue again what the national side lacks, holds in another version or on another day;
 * one transaction. A key whose newest version waits already is left alone. */
static enum spgw_rc repair(struct recon *k)
{
	enum spgw_rc rc = spgw_ledger_begin(k->o->ledger, k->err);
	size_t i;

	for (i = 0; !rc && i < k->r->ndiffs; i++) {
		struct spgw_recon_diff *d = &k->r->diffs[i];
		int queued = 0;

		if (!strcmp(d->kind, "missing_ledger"))
			continue;
		rc = spgw_ledger_requeue(k->o->ledger, d->region, d->table, d->key, &queued,
					 k->err);
		d->requeued = queued;
		k->r->requeued += queued;
	}
	if (rc) {
		spgw_ledger_rollback(k->o->ledger);
		return rc;
	}
	return spgw_ledger_commit(k->o->ledger, k->err);
}

/* ---- keeping it ---- */

static enum spgw_rc save(struct recon *k)
{
	struct spgw_ledger *l = k->o->ledger;
	enum spgw_rc rc = spgw_ledger_begin(l, k->err);
	size_t i;

	for (i = 0; !rc && i < k->r->nrows; i++) {
		const struct spgw_recon_row *w = &k->r->rows[i];
		struct spgw_recon_day d;

		d.region = w->region;
		d.table = w->table;
		d.day = w->day;
		d.city = w->city;
		d.city_note = w->city_note;
		d.delivered = w->delivered;
		d.valid = w->valid;
		d.pending = w->pending;
		d.dead = w->dead;
		d.national = w->national;
		d.national_valid = w->national_valid;
		d.national_note = w->national_note;
		d.held = w->held;
		d.quarantined = w->quarantined;
		d.status = w->status;
		d.note = w->note;
		rc = spgw_ledger_recon_add_day(l, k->r->run, &d, k->err);
	}
	for (i = 0; !rc && i < k->r->ndiffs; i++) {
		const struct spgw_recon_diff *f = &k->r->diffs[i];
		struct spgw_recon_key rk;

		rk.region = f->region;
		rk.table = f->table;
		rk.day = f->day;
		rk.key = f->key;
		rk.kind = f->kind;
		rk.ledger_digest = f->ledger_digest;
		rk.national_digest = f->national_digest;
		rk.action = f->requeued ? "requeued" : NULL;
		rc = spgw_ledger_recon_add_key(l, k->r->run, &rk, k->err);
	}
	if (rc) {
		spgw_ledger_rollback(l);
		return rc;
	}
	rc = spgw_ledger_commit(l, k->err);
	if (!rc)
		rc = spgw_ledger_recon_finish(l, k->r->run, k->r->differences,
					      k->r->differences ? "differ"
					      : k->r->incomplete ? "incomplete"
								 : "agree",
					      k->r->incomplete ? k->r->message : NULL, k->err);
	return rc;
}

enum spgw_rc spgw_reconcile(const struct spgw_recon_opts *o, struct spgw_recon_result *out,
			    struct spgw_error *err)
{
	struct recon k;
	struct spgw_recon_run run;
	enum spgw_rc rc;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	k.o = o;
	k.r = out;
	k.err = err;
	snprintf(out->from, sizeof(out->from), "%s", o->from);
	snprintf(out->to, sizeof(out->to), "%s", o->to);
	k.index = json_object();
	k.regions = json_object();
	k.counted = json_object();
	if (!k.index || !k.regions || !k.counted) {
		rc = spgw_error_nomem(err, "starting a reconciliation");
		goto out;
	}
	memset(&run, 0, sizeof(run));
	run.from = o->from;
	run.to = o->to;
	run.regions = o->region;
	run.tables = o->table;
	run.detail = o->detail || o->repair || o->all_keys;
	run.repair = o->repair;
	rc = spgw_ledger_recon_begin(o->ledger, &run, &out->run, err);
	if (!rc)
		rc = city(&k);
	if (!rc)
		rc = ledger(&k);
	if (!rc)
		rc = national(&k);
	if (!rc)
		rc = judge(&k);
	if (rc == SPGW_E_NOMEM && !err->code)
		spgw_error_nomem(err, "reconciling");
	if (!rc)
		prune(&k);
	if (!rc && (o->detail || o->repair || o->all_keys) && (out->differences || o->all_keys))
		rc = detail(&k);
	if (!rc && o->repair && out->ndiffs)
		rc = repair(&k);
	if (!rc)
		rc = save(&k);
	else if (out->run)
		spgw_ledger_recon_finish(o->ledger, out->run, out->differences, "incomplete",
					 err->text, NULL);
out:
	json_decref(k.index);
	json_decref(k.regions);
	json_decref(k.counted);
	return rc;
}

/* ---- a stored run ---- */

static enum spgw_rc load_run(void *ud, const struct spgw_recon_run *r)
{
	struct spgw_recon_result *out = ud;

	out->run = r->id;
	snprintf(out->from, sizeof(out->from), "%s", r->from);
	snprintf(out->to, sizeof(out->to), "%s", r->to);
	out->differences = r->differences;
	out->incomplete = !strcmp(r->result, "incomplete") || !strcmp(r->result, "running");
	snprintf(out->message, sizeof(out->message), "%s", r->message ? r->message : "");
	return SPGW_OK;
}

static char *dup_or_null(const char *s)
{
	return s ? spgw_strdup(s) : NULL;
}

static enum spgw_rc load_day(void *ud, const struct spgw_recon_day *d)
{
	struct spgw_recon_result *out = ud;
	struct spgw_recon_row *w;

	if ((out->nrows & (out->nrows + 1)) == 0 || !out->rows) {
		struct spgw_recon_row *v = spgw_realloc(out->rows, (out->nrows + 1) * 2 * sizeof(*v));

		if (!v)
			return SPGW_E_NOMEM;
		out->rows = v;
	}
	w = &out->rows[out->nrows++];
	memset(w, 0, sizeof(*w));
	snprintf(w->region, sizeof(w->region), "%s", d->region ? d->region : "");
	snprintf(w->table, sizeof(w->table), "%s", d->table ? d->table : "");
	snprintf(w->day, sizeof(w->day), "%s", d->day ? d->day : "");
	w->city = d->city;
	w->delivered = d->delivered;
	w->valid = d->valid;
	w->pending = d->pending;
	w->dead = d->dead;
	w->national = d->national;
	w->national_valid = d->national_valid;
	w->held = d->held;
	w->quarantined = d->quarantined;
	snprintf(w->status, sizeof(w->status), "%s", d->status ? d->status : "");
	w->city_note = dup_or_null(d->city_note);
	w->national_note = dup_or_null(d->national_note);
	w->note = dup_or_null(d->note);
	if ((d->city_note && !w->city_note) || (d->national_note && !w->national_note) ||
	    (d->note && !w->note))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

static enum spgw_rc load_key(void *ud, const struct spgw_recon_key *k)
{
	struct spgw_recon_result *out = ud;
	struct spgw_recon_diff *d;

	if ((out->ndiffs & (out->ndiffs + 1)) == 0 || !out->diffs) {
		struct spgw_recon_diff *v = spgw_realloc(out->diffs, (out->ndiffs + 1) * 2 * sizeof(*v));

		if (!v)
			return SPGW_E_NOMEM;
		out->diffs = v;
	}
	d = &out->diffs[out->ndiffs++];
	memset(d, 0, sizeof(*d));
	d->region = dup_or_null(k->region);
	d->table = dup_or_null(k->table);
	d->day = dup_or_null(k->day);
	d->key = dup_or_null(k->key);
	d->kind = dup_or_null(k->kind);
	d->ledger_digest = dup_or_null(k->ledger_digest);
	d->national_digest = dup_or_null(k->national_digest);
	d->requeued = k->action && !strcmp(k->action, "requeued");
	out->requeued += d->requeued;
	if (!d->region || !d->table || !d->day || !d->key || !d->kind)
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

enum spgw_rc spgw_recon_load(struct spgw_ledger *l, int64_t run, struct spgw_recon_result *out,
			     struct spgw_error *err)
{
	enum spgw_rc rc;

	memset(out, 0, sizeof(*out));
	rc = spgw_ledger_recon_load(l, run, load_run, load_day, load_key, out, err);
	if (rc == SPGW_E_NOMEM && !err->code)
		spgw_error_nomem(err, "reading a reconciliation run");
	return rc;
}
