/*
 * Approval times per city and stage (spgw stats; the rules are in supervise.h): each project's
 * cases come together from the shared walk (supervise.c), its stages are judged and their
 * times kept with the project's code, and the figures (median, 90th percentile, fastest,
 * slowest) are taken per city and for the whole province at the end. What is kept is one
 * number and one code per completed project and stage: thousands, not the ledger.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "supervise.h"
#include "supervise_int.h"

struct val {
	long v;
	const char *gcdm; /* owned by the region's accumulator (codes) */
};

struct vec {
	struct val *v;
	size_t n, cap;
};

struct acc {
	char *region;
	long complete, in_progress, incomplete_history;
	struct vec fig[SPGW_STATS_FIGURES];
	char **codes; /* the project codes the values point at */
	size_t ncodes, codes_cap;
};

struct sctx {
	struct acc *a;
	size_t n, cap;
	long calendar_skips;
	struct spgw_error *err;
};

static int push(struct vec *v, long x, const char *gcdm)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		struct val *p = spgw_realloc(v->v, cap * sizeof(*p));

		if (!p)
			return -1;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n].v = x;
	v->v[v->n++].gcdm = gcdm;
	return 0;
}

/* The accumulator of `region` (regions arrive one after another: the last one, or a new). */
static struct acc *acc_of(struct sctx *x, const char *region)
{
	struct acc *a;

	if (x->n && !strcmp(x->a[x->n - 1].region, region))
		return &x->a[x->n - 1];
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		struct acc *p = spgw_realloc(x->a, cap * sizeof(*p));

		if (!p)
			return NULL;
		x->a = p;
		x->cap = cap;
	}
	a = &x->a[x->n];
	memset(a, 0, sizeof(*a));
	if (!(a->region = spgw_strdup(region)))
		return NULL;
	x->n++;
	return a;
}

/* Keep the project's code once for all its values; NULL when memory ran out. */
static const char *keep_code(struct acc *a, const char *gcdm)
{
	if (a->ncodes && !strcmp(a->codes[a->ncodes - 1], gcdm))
		return a->codes[a->ncodes - 1];
	if (a->ncodes == a->codes_cap) {
		size_t cap = a->codes_cap ? 2 * a->codes_cap : 64;
		char **p = spgw_realloc(a->codes, cap * sizeof(*p));

		if (!p)
			return NULL;
		a->codes = p;
		a->codes_cap = cap;
	}
	if (!(a->codes[a->ncodes] = spgw_strdup(gcdm)))
		return NULL;
	return a->codes[a->ncodes++];
}

/* A stage of one project. */
struct stage {
	char first3[20];    /* first acceptance of its main items */
	char last_done[20]; /* last approval among its items' latest accepted cases */
	int done, open, refused;
};

/* Is there an accepted case of the same item accepted after case i? */
static int superseded(const struct sv_group *g, size_t i)
{
	size_t k;

	for (k = 0; k < g->n; k++)
		if (k != i && g->c[k].t3[0] && g->c[k].item && !strcmp(g->c[k].item, g->c[i].item) &&
		    strcmp(g->c[k].t3, g->c[i].t3) > 0)
			return 1;
	return 0;
}

static void judge_stages(const struct sv_group *g, struct stage st[SPGW_CATALOG_STAGES])
{
	size_t i;

	memset(st, 0, SPGW_CATALOG_STAGES * sizeof(*st));
	for (i = 0; i < g->n; i++) {
		const struct sv_case *c = &g->c[i];
		struct stage *s;

		/* parallel and special items run beside the stages: only main items (主线事项)
		 * open, hold and close a stage */
		if (!c->t3[0] || !c->main_item || c->stage < 1 || c->stage > SPGW_CATALOG_STAGES)
			continue;
		s = &st[c->stage - 1];
		if (!s->first3[0] || strcmp(c->t3, s->first3) < 0)
			memcpy(s->first3, c->t3, sizeof(s->first3));
		if (superseded(g, i))
			continue;
		if (c->end_code == 11 || c->end_code == 12) {
			s->done = 1;
			if (strcmp(c->t_end, s->last_done) > 0)
				memcpy(s->last_done, c->t_end, sizeof(s->last_done));
		} else if (c->end_code == 13) {
			s->refused = 1;
		} else if (!c->closed) {
			s->open = 1;
		}
	}
}

static enum spgw_rc flush_stats(void *ud, struct sv_walk *w, const struct sv_group *g)
{
	struct sctx *x = ud;
	struct stage st[SPGW_CATALOG_STAGES];
	struct acc *a = acc_of(x, g->region);
	const char *code = NULL;
	long t[SPGW_CATALOG_STAGES], sum = 0, total;
	int s, complete_all = 1, done_by_to = 0, started = 0, bad = 0;
	int32_t day;
	size_t i;

	if (!a)
		return spgw_error_nomem(x->err, "computing approval times");
	for (i = 0; i < g->n; i++)
		if (g->c[i].t3[0] && !spgw_calendar_day(g->c[i].t3, &day) && day <= w->to)
			started = 1;
	judge_stages(g, st);
	for (s = 0; s < SPGW_CATALOG_STAGES; s++) {
		int complete = st[s].done && !st[s].open && !st[s].refused;

		t[s] = -1;
		complete_all &= complete;
		if (!complete || spgw_calendar_day(st[s].last_done, &day) || day < w->from ||
		    day > w->to)
			continue;
		if (sv_workdays(w, st[s].first3, st[s].last_done, &t[s])) {
			x->calendar_skips++;
			t[s] = -1;
			continue;
		}
		if (!code && !(code = keep_code(a, g->gcdm)))
			return spgw_error_nomem(x->err, "computing approval times");
		bad |= push(&a->fig[s], t[s], code);
	}
	/* finished by --to: its last stage is complete by then (its history or not) */
	if (st[SPGW_CATALOG_STAGES - 1].done && !st[SPGW_CATALOG_STAGES - 1].open &&
	    !st[SPGW_CATALOG_STAGES - 1].refused &&
	    !spgw_calendar_day(st[SPGW_CATALOG_STAGES - 1].last_done, &day) && day <= w->to)
		done_by_to = 1;
	/* the project: stage 4 completed in the range */
	if (t[SPGW_CATALOG_STAGES - 1] >= 0) {
		if (!complete_all) {
			a->incomplete_history++;
		} else if (sv_workdays(w, st[0].first3, st[SPGW_CATALOG_STAGES - 1].last_done,
				       &total)) {
			x->calendar_skips++;
		} else {
			/* every stage complete, but only those finished in the range have a time */
			for (s = 0; s < SPGW_CATALOG_STAGES; s++) {
				long d = 0;

				if (t[s] < 0 && sv_workdays(w, st[s].first3, st[s].last_done, &d))
					break;
				sum += t[s] >= 0 ? t[s] : d;
			}
			a->complete++;
			bad |= push(&a->fig[SPGW_STATS_TOTAL], total, code);
			if (s == SPGW_CATALOG_STAGES)
				bad |= push(&a->fig[SPGW_STATS_SUM], sum, code);
			else
				x->calendar_skips++;
		}
	}
	if (started && !done_by_to)
		a->in_progress++;
	return bad ? spgw_error_nomem(x->err, "computing approval times") : SPGW_OK;
}

static int cmp_val(const void *a, const void *b)
{
	const struct val *x = a, *y = b;

	if (x->v != y->v)
		return (x->v > y->v) - (x->v < y->v);
	return strcmp(x->gcdm, y->gcdm);
}

static int figure(struct spgw_stats_figure *f, struct vec *v)
{
	size_t i, rank;

	memset(f, 0, sizeof(*f));
	f->n = (long)v->n;
	if (!v->n)
		return 0;
	qsort(v->v, v->n, sizeof(*v->v), cmp_val);
	f->median = v->n % 2 ? (double)v->v[v->n / 2].v
			     : (v->v[v->n / 2 - 1].v + v->v[v->n / 2].v) / 2.0;
	/* nearest rank: the smallest value with at least 90 % at or below it */
	rank = (size_t)ceil(0.9 * (double)v->n);
	f->p90 = v->v[(rank ? rank : 1) - 1].v;
	f->min = v->v[0].v;
	f->max = v->v[v->n - 1].v;
	for (i = v->n - 1; i > 0 && v->v[i - 1].v == f->max; i--)
		;
	f->fastest = spgw_strdup(v->v[0].gcdm);
	f->slowest = spgw_strdup(v->v[i].gcdm);
	return !f->fastest || !f->slowest;
}

static void acc_clear(struct acc *a)
{
	size_t i;

	spgw_free(a->region);
	for (i = 0; i < SPGW_STATS_FIGURES; i++)
		spgw_free(a->fig[i].v);
	for (i = 0; i < a->ncodes; i++)
		spgw_free(a->codes[i]);
	spgw_free(a->codes);
}

void spgw_stats_free(struct spgw_stats *st)
{
	size_t i, k;

	if (!st)
		return;
	for (i = 0; i < st->nregions; i++) {
		spgw_free(st->regions[i].region);
		for (k = 0; k < SPGW_STATS_FIGURES; k++) {
			spgw_free(st->regions[i].fig[k].fastest);
			spgw_free(st->regions[i].fig[k].slowest);
		}
	}
	spgw_free(st->regions);
	sv_notes_free(st->notes, st->nnotes);
	spgw_free(st);
}

/* The figures of every region, then of all of them together. */
static int finish(struct sctx *x, struct spgw_stats *out)
{
	struct vec all[SPGW_STATS_FIGURES];
	size_t i, k;
	int bad = 0;

	memset(all, 0, sizeof(all));
	out->regions = spgw_calloc(x->n + 1, sizeof(*out->regions));
	if (!out->regions)
		return -1;
	out->nregions = x->n + 1;
	for (i = 0; i < x->n; i++) {
		struct spgw_stats_region *r = &out->regions[i];
		struct spgw_stats_region *p = &out->regions[x->n];

		r->region = spgw_strdup(x->a[i].region);
		bad |= !r->region;
		r->complete = x->a[i].complete;
		r->in_progress = x->a[i].in_progress;
		r->incomplete_history = x->a[i].incomplete_history;
		p->complete += r->complete;
		p->in_progress += r->in_progress;
		p->incomplete_history += r->incomplete_history;
		for (k = 0; k < SPGW_STATS_FIGURES; k++) {
			struct vec *v = &x->a[i].fig[k];
			size_t j;

			for (j = 0; j < v->n; j++)
				bad |= push(&all[k], v->v[j].v, v->v[j].gcdm);
			bad |= figure(&r->fig[k], v);
		}
	}
	for (k = 0; k < SPGW_STATS_FIGURES; k++) {
		bad |= figure(&out->regions[x->n].fig[k], &all[k]);
		spgw_free(all[k].v);
	}
	return bad;
}

enum spgw_rc spgw_supervise_stats(struct spgw_ledger *l, const struct spgw_schema *s,
				  const struct spgw_calendar *cal, const struct spgw_catalog *cat,
				  const struct spgw_supervise_query *q, struct spgw_stats **out,
				  struct spgw_error *err)
{
	struct spgw_stats *st = NULL;
	struct sv_walk w;
	struct sctx x;
	enum spgw_rc rc;
	size_t i;

	if (!cat)
		return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				      "approval times need the catalog (each item's stage): name it "
				      "in the gateway file (\"catalog\": \"catalog/jilin.json\")");
	memset(&x, 0, sizeof(x));
	x.err = err;
	rc = sv_walk_run(l, s, cal, cat, q, flush_stats, &x, &w, err);
	if (!rc && !(st = spgw_calloc(1, sizeof(*st))))
		rc = spgw_error_nomem(err, "computing approval times");
	if (!rc && (finish(&x, st) || sv_common_notes(&w, 0, &st->notes, &st->nnotes) ||
		    (x.calendar_skips &&
		     sv_note(&st->notes, &st->nnotes,
			     "%ld stage or project time(s) not counted: a date outside the "
			     "working-day calendar / 日期超出工作日历，未计",
			     x.calendar_skips))))
		rc = spgw_error_nomem(err, "computing approval times");
	for (i = 0; i < x.n; i++)
		acc_clear(&x.a[i]);
	spgw_free(x.a);
	if (rc) {
		spgw_stats_free(st);
		return rc;
	}
	*out = st;
	return SPGW_OK;
}
