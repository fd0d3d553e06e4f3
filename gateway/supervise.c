/*
 * Supervision (see supervise.h): the walk over a ledger's cases that both reports share, and
 * the violations report. Approval times: approval_stats.c.
 *
 * Each case is analysed once, as it streams out of the ledger (ledger_cases.h), and kept
 * only until its project's cases have all passed: a second return needs the project's
 * earlier cases of the item, nothing needs more. Memory is one project's cases plus the
 * violations found.
 */
#include "supervise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sequence.h"
#include "supervise_int.h"

/* ---- notes ---- */

int sv_note(char ***notes, size_t *n, const char *fmt, ...)
{
	char line[1024], **p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p = spgw_realloc(*notes, (*n + 1) * sizeof(*p));
	if (!p)
		return -1;
	*notes = p;
	if (!(p[*n] = spgw_strdup(line)))
		return -1;
	(*n)++;
	return 0;
}

void sv_notes_free(char **notes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		spgw_free(notes[i]);
	spgw_free(notes);
}

int sv_common_notes(const struct sv_walk *w, int time, char ***notes, size_t *n)
{
	static const char *const why[SV_SKIP_COUNT] = {
		NULL,
		"their step log breaks the BLZT order (listed as 办理环节异常) / 办理环节异常，未计用时",
		"no 事项办理时限 SXBLSX and no catalog item with promised days / 无办理时限",
		"a date outside the working-day calendar / 日期超出工作日历",
		"their case record (SPGL_XMSPSXBLXXB) is not in the outbox, refused: see spgw "
		"quarantine / 办件记录缺失（在隔离区）",
	};
	int y, bad = 0;
	size_t k;

	for (k = 1; time && k < SV_SKIP_COUNT; k++)
		if (w->skipped[k])
			bad |= sv_note(notes, n, "%ld accepted case(s) not judged for time: %s",
				       w->skipped[k], why[k]);
	if (w->calendar_error[0])
		bad |= sv_note(notes, n, "calendar: %s", w->calendar_error);
	if (w->unknown_items)
		bad |= sv_note(notes, n,
			       "%ld case(s) of items the catalog does not list: no item name or "
			       "stage / 事项不在目录中",
			       w->unknown_items);
	if (w->min_day > w->max_day) /* nothing was counted */
		return bad;
	for (y = spgw_calendar_year_of(w->min_day); y <= spgw_calendar_year_of(w->max_day); y++)
		if (spgw_calendar_year_verified(w->cal, y) == 0)
			bad |= sv_note(notes, n,
				       "working days of %d come from a calendar year marked not "
				       "verified (%s): counts touching it are provisional / %d 年工作日历"
				       "未经核实，相关用时仅供参考",
				       y, spgw_calendar_path(w->cal), y);
	return bad;
}

/* ---- the walk ---- */

int sv_workdays(struct sv_walk *w, const char *a, const char *b, long *days)
{
	struct spgw_error e;
	int32_t da, db, oa, ob;

	memset(&e, 0, sizeof(e));
	if (spgw_calendar_day(a, &da) || spgw_calendar_day(b, &db))
		return -1;
	if (spgw_calendar_ordinal(w->cal, da, &oa, &e) ||
	    spgw_calendar_ordinal(w->cal, db, &ob, &e)) {
		if (!w->calendar_error[0])
			snprintf(w->calendar_error, sizeof(w->calendar_error), "%s", e.text);
		return -1;
	}
	if (da < w->min_day)
		w->min_day = da;
	if (db > w->max_day)
		w->max_day = db;
	*days = (long)ob - oa;
	return 0;
}

struct walk_ctx {
	struct sv_walk *w;
	sv_flush_fn flush;
	void *ud;
	char *region, *gcdm;
	struct sv_case *c;
	size_t n, cap;
};

static void case_clear(struct sv_case *c)
{
	spgw_free(c->slbm);
	spgw_free(c->item);
	spgw_free(c->item_version);
}

static void group_clear(struct walk_ctx *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		case_clear(&x->c[i]);
	x->n = 0;
}

static enum spgw_rc flush(struct walk_ctx *x)
{
	struct sv_group g;
	enum spgw_rc rc;

	if (!x->n)
		return SPGW_OK;
	g.region = x->region;
	g.gcdm = x->gcdm;
	g.c = x->c;
	g.n = x->n;
	rc = x->flush(x->ud, x->w, &g);
	group_clear(x);
	return rc;
}

static void copy_time(char out[20], const char *t)
{
	snprintf(out, 20, "%s", t);
}

/* Time accounting of an accepted case whose delivered log is sound (supervise.h). */
static void judge_time(struct sv_walk *w, const struct spgw_ledger_case *lc, struct sv_case *c)
{
	const char *open6 = NULL, *open9 = NULL;
	char to_time[20];
	long d, paused = 0;
	size_t i;

	spgw_calendar_format(w->to, to_time);
	for (i = 0; i < lc->nsteps; i++) {
		const struct spgw_case_step *st = &lc->steps[i];
		int32_t day;

		if (st->waiting)
			continue;
		/* an open case is judged as it stood at the end of --to */
		if (!c->end_code && (spgw_calendar_day(st->time, &day) || day > w->to))
			break;
		if (st->code == 6) {
			open6 = st->time;
		} else if (st->code == 9) {
			open9 = st->time;
		} else if ((st->code == 7 && open6) || (st->code == 10 && open9)) {
			if (sv_workdays(w, st->code == 7 ? open6 : open9, st->time, &d))
				goto calendar;
			paused += d;
			if (st->code == 7)
				open6 = NULL;
			else
				open9 = NULL;
		}
	}
	if (c->end_code) {
		if (sv_workdays(w, c->t3, c->t_end, &d))
			goto calendar;
	} else {
		/* a pause still open at --to stops the clock up to --to */
		if (open6 && !sv_workdays(w, open6, to_time, &d))
			paused += d;
		else if (open6)
			goto calendar;
		if (open9 && !sv_workdays(w, open9, to_time, &d))
			paused += d;
		else if (open9)
			goto calendar;
		if (sv_workdays(w, c->t3, to_time, &d))
			goto calendar;
	}
	c->paused = paused;
	c->elapsed = d - paused;
	c->overdue = c->elapsed > c->limit;
	return;
calendar:
	c->skip = SV_SKIP_CALENDAR;
}

/* Fill `c` from the ledger's case `lc`. */
static enum spgw_rc analyse(struct sv_walk *w, const struct spgw_ledger_case *lc,
			    struct sv_case *c)
{
	struct spgw_seq_event *ev;
	struct spgw_catalog_item_info info;
	size_t i, n = 0;
	const char *first_any = NULL;
	long bad_dl;

	memset(c, 0, sizeof(*c));
	c->elapsed = c->paused = c->limit = -1;
	c->has_record = lc->has_record;
	c->slbm = spgw_strdup(lc->slbm);
	c->item = lc->item ? spgw_strdup(lc->item) : NULL;
	c->item_version = lc->item_version ? spgw_strdup(lc->item_version) : NULL;
	if (!c->slbm || (lc->item && !c->item) || (lc->item_version && !c->item_version))
		return spgw_error_nomem(w->err, "judging a case");
	if (lc->item && w->cat &&
	    (spgw_catalog_item(w->cat, lc->item, lc->item_version, &info) ||
	     spgw_catalog_item(w->cat, lc->item, NULL, &info))) {
		c->item_name = info.name;
		c->stage = info.stage;
		c->main_item = info.kind == SPGW_CATALOG_MAIN;
		if (info.promised_days > 0) {
			c->limit = info.promised_days;
			c->limit_from = "catalog";
		}
	} else if (lc->item) {
		w->unknown_items++;
	}
	if (lc->limit >= 0) {
		c->limit = lc->limit;
		c->limit_from = "SXBLSX";
	}
	ev = spgw_malloc((lc->nsteps ? lc->nsteps : 1) * sizeof(*ev));
	if (!ev)
		return spgw_error_nomem(w->err, "judging a case");
	/* the whole log, waiting steps included, for the order (c); the delivered log (what the
	 * national platform holds) for dates and time, at the front of ev as it is filled */
	for (i = 0; i < lc->nsteps; i++) {
		const struct spgw_case_step *st = &lc->steps[i];

		if (!first_any)
			first_any = st->time;
		c->nwaiting += st->waiting;
		if (st->waiting)
			continue;
		if (!c->t_first[0])
			copy_time(c->t_first, st->time);
		if (st->code == 3 && !c->t3[0])
			copy_time(c->t3, st->time);
		else if ((st->code == 11 || st->code == 12 || st->code == 13) && !c->end_code) {
			copy_time(c->t_end, st->time);
			c->end_code = st->code;
		} else if ((st->code == 4 || st->code == 5) && !c->ret_code) {
			copy_time(c->t_ret, st->time);
			c->ret_code = st->code;
		} else if (st->code == 2 || st->code == 14 || st->code == 15) {
			c->closed = 1;
		}
	}
	for (i = 0; i < lc->nsteps; i++)
		if (!lc->steps[i].waiting) {
			ev[n].code = lc->steps[i].code;
			copy_time(ev[n].time, lc->steps[i].time);
			ev[n++].is_new = 0;
		}
	bad_dl = spgw_sequence_blzt(ev, n, NULL, NULL, 0);
	if (c->nwaiting) {
		for (i = n = 0; i < lc->nsteps; i++) {
			ev[n].code = lc->steps[i].code;
			copy_time(ev[n].time, lc->steps[i].time);
			ev[n++].is_new = 0;
		}
		c->seq_bad = spgw_sequence_blzt(ev, n, c->seq_en, c->seq_zh,
						sizeof(c->seq_en)) >= 0;
	} else if (bad_dl >= 0) {
		c->seq_bad = spgw_sequence_blzt(ev, n, c->seq_en, c->seq_zh,
						sizeof(c->seq_en)) >= 0;
	}
	spgw_free(ev);
	c->dated = !spgw_calendar_day(c->t3[0] ? c->t3 : c->t_first[0] ? c->t_first
								       : first_any ? first_any : "",
				      &c->date);
	c->in_range = c->dated && c->date >= w->from && c->date <= w->to;
	if (!c->in_range || !c->t3[0] || c->ret_code)
		return SPGW_OK;
	if (!c->has_record)
		c->skip = SV_SKIP_RECORD;
	else if (bad_dl >= 0)
		c->skip = SV_SKIP_LOG;
	else if (c->limit < 0)
		c->skip = SV_SKIP_LIMIT;
	else if (c->closed && !c->end_code)
		return SPGW_OK; /* withdrawn or revoked: neither open nor ended */
	else
		judge_time(w, lc, c);
	w->skipped[c->skip]++;
	return SPGW_OK;
}

static enum spgw_rc on_case(void *ud, const struct spgw_ledger_case *lc)
{
	struct walk_ctx *x = ud;
	enum spgw_rc rc;

	if (x->region && (strcmp(x->region, lc->region) || strcmp(x->gcdm, lc->gcdm))) {
		rc = flush(x);
		if (rc)
			return rc;
	}
	if (!x->region || strcmp(x->region, lc->region) || strcmp(x->gcdm, lc->gcdm)) {
		spgw_free(x->region);
		spgw_free(x->gcdm);
		x->region = spgw_strdup(lc->region);
		x->gcdm = spgw_strdup(lc->gcdm);
		if (!x->region || !x->gcdm)
			return spgw_error_nomem(x->w->err, "grouping cases by project");
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 32;
		struct sv_case *p = spgw_realloc(x->c, cap * sizeof(*p));

		if (!p)
			return spgw_error_nomem(x->w->err, "grouping cases by project");
		x->c = p;
		x->cap = cap;
	}
	rc = analyse(x->w, lc, &x->c[x->n]);
	x->n++; /* even half-filled: its strings are released with the group */
	return rc;
}

/* The step table (the one keeping a BLZT log) and its case table, from the schema. */
static enum spgw_rc find_tables(const struct spgw_schema *s, struct spgw_cases_spec *spec,
				struct spgw_error *err)
{
	size_t i;

	memset(spec, 0, sizeof(*spec));
	for (i = 0; i < spgw_schema_table_count(s); i++) {
		const struct spgw_table *t = spgw_schema_table_at(s, i);
		const struct spgw_sequence *seq = spgw_table_sequence(t);
		const struct spgw_table *parent;

		if (!seq || strcmp(seq->rule, "blzt"))
			continue;
		parent = spgw_table_parent(t, 0, NULL, NULL);
		if (!parent)
			continue;
		spec->step_table = spgw_table_name(t);
		spec->case_table = spgw_table_name(parent);
		spec->code_field = seq->field;
		spec->time_field = seq->time;
		spec->code_pos = seq->field_pos;
		spec->time_pos = seq->time_pos;
		/* the fields of SPGL_XMSPSXBLXXB the reports are about (tables.md) */
		spec->item_field = "SPSXBM";
		spec->version_field = "SPSXBBH";
		spec->limit_field = "SXBLSX";
		if (!spgw_table_field(parent, spec->item_field) ||
		    !spgw_table_field(parent, spec->limit_field))
			return spgw_error_set(err, SPGW_E_SCHEMA, NULL, 0, 0,
					      "the schema's case table %s has no SPSXBM or SXBLSX "
					      "field: the supervision reports need them",
					      spec->case_table);
		return SPGW_OK;
	}
	return spgw_error_set(err, SPGW_E_SCHEMA, NULL, 0, 0,
			      "the schema has no table with a \"blzt\" sequence (the handling "
			      "steps of a case): the supervision reports need one");
}

static enum spgw_rc query_day(const struct spgw_calendar *cal, const char *what, const char *s,
			      int32_t *day, int32_t *ord, struct spgw_error *err)
{
	struct spgw_error e;

	memset(&e, 0, sizeof(e));
	if (!s || strlen(s) != 10 || spgw_calendar_day(s, day))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "%s \"%s\" is not a date YYYY-MM-DD that exists", what,
				      s ? s : "");
	if (spgw_calendar_ordinal(cal, *day, ord, &e))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "%s %s", what, e.text);
	return SPGW_OK;
}

enum spgw_rc sv_walk_run(struct spgw_ledger *l, const struct spgw_schema *s,
			 const struct spgw_calendar *cal, const struct spgw_catalog *cat,
			 const struct spgw_supervise_query *q, sv_flush_fn fl, void *ud,
			 struct sv_walk *w, struct spgw_error *err)
{
	struct spgw_cases_spec spec;
	struct walk_ctx x;
	int32_t from_ord;
	enum spgw_rc rc;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->cal = cal;
	w->cat = cat;
	w->err = err;
	w->min_day = INT32_MAX;
	w->max_day = INT32_MIN;
	if ((rc = query_day(cal, "--from", q->from, &w->from, &from_ord, err)) ||
	    (rc = query_day(cal, "--to", q->to, &w->to, &w->to_ord, err)))
		return rc;
	if (w->to < w->from)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--to %s is before --from %s", q->to, q->from);
	for (i = 0; q->region && q->region[i] >= '0' && q->region[i] <= '9'; i++)
		;
	if (q->region && (i != 6 || q->region[i]))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--region \"%s\" is not a six-digit region code (行政区划代码)",
				      q->region);
	rc = find_tables(s, &spec, err);
	if (rc)
		return rc;
	memset(&x, 0, sizeof(x));
	x.w = w;
	x.flush = fl;
	x.ud = ud;
	rc = spgw_ledger_cases_each(l, &spec, q->region, on_case, &x, err);
	if (!rc)
		rc = flush(&x);
	group_clear(&x);
	spgw_free(x.c);
	spgw_free(x.region);
	spgw_free(x.gcdm);
	return rc;
}

/* ---- violations ---- */

static const char *const kind_names[SPGW_VIOL_KINDS] = {"second_return", "overrun",
							 "open_overdue", "sequence"};
static const char *const kind_zh[SPGW_VIOL_KINDS] = {"二次退件", "超期办结", "逾期未办结",
						     "办理环节异常"};

const char *spgw_violation_kind_name(enum spgw_violation_kind k)
{
	return (unsigned)k < SPGW_VIOL_KINDS ? kind_names[k] : "?";
}

const char *spgw_violation_kind_zh(enum spgw_violation_kind k)
{
	return (unsigned)k < SPGW_VIOL_KINDS ? kind_zh[k] : "?";
}

struct vctx {
	struct spgw_violations *out;
	size_t vcap, rcap, icap;
	struct spgw_error *err;
	char to[11];
};

static void tally_clear(struct spgw_violation_tally *t)
{
	spgw_free(t->region);
	spgw_free(t->item);
	spgw_free(t->item_name);
}

static void violation_clear(struct spgw_violation *v)
{
	spgw_free(v->region);
	spgw_free(v->gcdm);
	spgw_free(v->item);
	spgw_free(v->item_name);
	spgw_free(v->case_no);
	spgw_free(v->received);
	spgw_free(v->accepted);
	spgw_free(v->ended);
	spgw_free(v->prev_case);
	spgw_free(v->prev_ended);
	spgw_free(v->note_en);
	spgw_free(v->note_zh);
}

void spgw_violations_free(struct spgw_violations *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++)
		violation_clear(&v->v[i]);
	for (i = 0; i < v->nregions; i++)
		tally_clear(&v->regions[i]);
	for (i = 0; i < v->nitems; i++)
		tally_clear(&v->items[i]);
	spgw_free(v->v);
	spgw_free(v->regions);
	spgw_free(v->items);
	sv_notes_free(v->notes, v->nnotes);
	spgw_free(v);
}

static char *dup_or_null(const char *s, int *bad)
{
	char *d;

	if (!s || !s[0])
		return NULL;
	d = spgw_strdup(s);
	*bad |= !d;
	return d;
}

static char *fmt(int *bad, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(int *bad, const char *f, ...)
{
	char line[768], *d;
	va_list ap;

	va_start(ap, f);
	vsnprintf(line, sizeof(line), f, ap);
	va_end(ap);
	d = spgw_strdup(line);
	*bad |= !d;
	return d;
}

/* A new violation about case `c` of group `g`, with its common fields. */
static struct spgw_violation *add_violation(struct vctx *x, const struct sv_group *g,
					    const struct sv_case *c,
					    enum spgw_violation_kind kind)
{
	struct spgw_violations *o = x->out;
	struct spgw_violation *v;
	int bad = 0;

	if (o->n == x->vcap) {
		size_t cap = x->vcap ? 2 * x->vcap : 64;
		struct spgw_violation *p = spgw_realloc(o->v, cap * sizeof(*p));

		if (!p)
			return NULL;
		o->v = p;
		x->vcap = cap;
	}
	v = &o->v[o->n++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->elapsed = v->limit = v->paused = -1;
	v->region = dup_or_null(g->region, &bad);
	v->gcdm = dup_or_null(g->gcdm, &bad);
	v->item = dup_or_null(c->item, &bad);
	v->item_name = dup_or_null(c->item_name, &bad);
	v->case_no = dup_or_null(c->slbm, &bad);
	v->received = dup_or_null(c->t_first, &bad);
	v->accepted = dup_or_null(c->t3, &bad);
	if (c->ret_code) {
		v->ended = dup_or_null(c->t_ret, &bad);
		v->end_code = c->ret_code;
	} else {
		v->ended = dup_or_null(c->t_end, &bad);
		v->end_code = c->end_code;
	}
	return bad ? NULL : v;
}

/* The tally of (region, item) (item NULL: the region's), created when absent. Regions come
 * one after another and items are few (a catalog's hundred): sorted arrays, binary search. */
static struct spgw_violation_tally *tally_of(struct vctx *x, const char *region,
					     const struct sv_case *c, int per_item)
{
	struct spgw_violation_tally **arr = per_item ? &x->out->items : &x->out->regions;
	size_t *n = per_item ? &x->out->nitems : &x->out->nregions;
	size_t *cap = per_item ? &x->icap : &x->rcap;
	size_t lo = 0, hi = *n;
	struct spgw_violation_tally *t;
	int bad = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp((*arr)[mid].region, region);

		if (!r && per_item)
			r = strcmp((*arr)[mid].item, c->item);
		if (!r)
			return &(*arr)[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		struct spgw_violation_tally *p = spgw_realloc(*arr, nc * sizeof(*p));

		if (!p)
			return NULL;
		*arr = p;
		*cap = nc;
	}
	memmove(&(*arr)[lo + 1], &(*arr)[lo], (*n - lo) * sizeof(**arr));
	t = &(*arr)[lo];
	memset(t, 0, sizeof(*t));
	(*n)++;
	t->region = dup_or_null(region, &bad);
	if (per_item) {
		t->item = dup_or_null(c->item, &bad);
		t->item_name = dup_or_null(c->item_name, &bad);
	}
	return bad ? NULL : t;
}

/* Count case `c` (in the range) in its region's and item's tallies, and its violations. */
static enum spgw_rc count_case(struct vctx *x, const struct sv_group *g, const struct sv_case *c,
			       int kind)
{
	struct spgw_violation_tally *t[2];
	int k;

	t[0] = tally_of(x, g->region, c, 0);
	t[1] = c->item ? tally_of(x, g->region, c, 1) : NULL;
	if (!t[0] || (c->item && !t[1]))
		return spgw_error_nomem(x->err, "counting violations");
	for (k = 0; k < 2 && t[k]; k++) {
		if (kind >= 0) {
			t[k]->kinds[kind]++;
			continue;
		}
		t[k]->cases++;
		t[k]->accepted += c->t3[0] != 0;
		t[k]->ended += c->t3[0] && c->end_code;
		t[k]->returned += c->ret_code != 0;
		t[k]->not_judged += c->skip != SV_SKIP_NONE;
	}
	return SPGW_OK;
}

static int cmp_return(const void *a, const void *b)
{
	const struct sv_case *x = *(const struct sv_case *const *)a;
	const struct sv_case *y = *(const struct sv_case *const *)b;
	int r = strcmp(x->item, y->item);

	if (!r)
		r = strcmp(x->t_ret, y->t_ret);
	return r ? r : strcmp(x->slbm, y->slbm);
}

/* (a): per item, each returned case after the first that lies in the range. */
static enum spgw_rc second_returns(struct vctx *x, const struct sv_group *g)
{
	const struct sv_case **r;
	enum spgw_rc rc = SPGW_OK;
	size_t i, n = 0, k;

	for (i = 0; i < g->n; i++)
		n += g->c[i].ret_code && g->c[i].item;
	if (n < 2)
		return SPGW_OK;
	r = spgw_malloc(n * sizeof(*r));
	if (!r)
		return spgw_error_nomem(x->err, "finding second returns");
	for (i = n = 0; i < g->n; i++)
		if (g->c[i].ret_code && g->c[i].item)
			r[n++] = &g->c[i];
	qsort(r, n, sizeof(*r), cmp_return);
	for (i = 0; !rc && i < n; i = k) {
		for (k = i + 1; k < n && !strcmp(r[k]->item, r[i]->item); k++) {
			struct spgw_violation *v;
			int bad = 0;

			if (!r[k]->in_range)
				continue;
			v = add_violation(x, g, r[k], SPGW_VIOL_SECOND_RETURN);
			if (v) {
				v->returns = (int)(k - i + 1);
				v->prev_case = dup_or_null(r[k - 1]->slbm, &bad);
				v->prev_ended = dup_or_null(r[k - 1]->t_ret, &bad);
				v->note_en = fmt(&bad,
						 "returned again (BLZT %d) on %s: return no. %d of "
						 "this item for this project; the one before was case "
						 "%s on %s",
						 r[k]->ret_code, r[k]->t_ret, v->returns,
						 r[k - 1]->slbm, r[k - 1]->t_ret);
				v->note_zh = fmt(&bad,
						 "同一项目同一事项第 %d 次退件（%s，办理状态 %d）；前次退件："
						 "办件 %s，%s",
						 v->returns, r[k]->t_ret, r[k]->ret_code, r[k - 1]->slbm,
						 r[k - 1]->t_ret);
			}
			if (!v || bad || count_case(x, g, r[k], SPGW_VIOL_SECOND_RETURN)) {
				rc = spgw_error_nomem(x->err, "recording a violation");
				break;
			}
		}
	}
	spgw_free(r);
	return rc;
}

static enum spgw_rc flush_violations(void *ud, struct sv_walk *w, const struct sv_group *g)
{
	struct vctx *x = ud;
	enum spgw_rc rc = SPGW_OK;
	size_t i;

	(void)w;
	for (i = 0; !rc && i < g->n; i++) {
		const struct sv_case *c = &g->c[i];
		struct spgw_violation *v;
		int bad = 0;

		if (!c->in_range)
			continue;
		rc = count_case(x, g, c, -1);
		if (!rc && (c->seq_bad || c->nwaiting)) {
			v = add_violation(x, g, c, SPGW_VIOL_SEQUENCE);
			if (v && c->seq_bad) {
				v->note_en = fmt(&bad, "%s%s", c->seq_en,
						 c->nwaiting ? "; steps of it wait in quarantine "
							       "for the missing one" : "");
				v->note_zh = fmt(&bad, "%s%s", c->seq_zh,
						 c->nwaiting ? "；部分环节在隔离区等待缺失的环节" : "");
			} else if (v) {
				v->note_en = fmt(&bad,
						 "%d step(s) wait in quarantine although the log with "
						 "them is in order: replay them (spgw quarantine replay)",
						 c->nwaiting);
				v->note_zh = fmt(&bad, "%d 个环节在隔离区等待，按顺序已可入库：请重放",
						 c->nwaiting);
			}
			if (!v || bad || count_case(x, g, c, SPGW_VIOL_SEQUENCE))
				rc = spgw_error_nomem(x->err, "recording a violation");
		}
		if (!rc && c->overdue && c->skip == SV_SKIP_NONE) {
			enum spgw_violation_kind k =
				c->end_code ? SPGW_VIOL_OVERRUN : SPGW_VIOL_OPEN_OVERDUE;

			v = add_violation(x, g, c, k);
			if (v) {
				v->elapsed = c->elapsed;
				v->limit = c->limit;
				v->limit_from = c->limit_from;
				v->paused = c->paused;
				if (k == SPGW_VIOL_OVERRUN) {
					v->note_en = fmt(&bad,
							 "took %ld working days (after %ld of 补正 and "
							 "特别程序) against a limit of %ld (%s)",
							 c->elapsed, c->paused, c->limit, c->limit_from);
					v->note_zh = fmt(&bad,
							 "用时 %ld 个工作日（已扣除补正、特别程序 %ld 日），"
							 "超过时限 %ld 日（%s）",
							 c->elapsed, c->paused, c->limit,
							 strcmp(c->limit_from, "SXBLSX") ? "承诺时限"
											 : "事项办理时限");
				} else {
					v->note_en = fmt(&bad,
							 "not ended: %ld working days by %s against a "
							 "limit of %ld (%s)",
							 c->elapsed, x->to, c->limit, c->limit_from);
					v->note_zh = fmt(&bad,
							 "截至 %s 未办结，已用 %ld 个工作日，超过时限 %ld "
							 "日（%s）",
							 x->to, c->elapsed, c->limit,
							 strcmp(c->limit_from, "SXBLSX") ? "承诺时限"
											 : "事项办理时限");
				}
			}
			if (!v || bad || count_case(x, g, c, (int)k))
				rc = spgw_error_nomem(x->err, "recording a violation");
		}
	}
	return rc ? rc : second_returns(x, g);
}

static int cmp_violation(const void *a, const void *b)
{
	const struct spgw_violation *x = a, *y = b;
	int r = strcmp(x->region, y->region);

	if (!r)
		r = (x->kind > y->kind) - (x->kind < y->kind);
	if (!r)
		r = strcmp(x->gcdm, y->gcdm);
	if (!r)
		r = strcmp(x->case_no, y->case_no);
	return r;
}

enum spgw_rc spgw_supervise_violations(struct spgw_ledger *l, const struct spgw_schema *s,
				       const struct spgw_calendar *cal,
				       const struct spgw_catalog *cat,
				       const struct spgw_supervise_query *q,
				       struct spgw_violations **out, struct spgw_error *err)
{
	struct sv_walk w;
	struct vctx x;
	enum spgw_rc rc;
	size_t i, k;

	memset(&x, 0, sizeof(x));
	x.err = err;
	x.out = spgw_calloc(1, sizeof(*x.out));
	if (!x.out)
		return spgw_error_nomem(err, "judging cases");
	snprintf(x.to, sizeof(x.to), "%s", q->to ? q->to : "");
	rc = sv_walk_run(l, s, cal, cat, q, flush_violations, &x, &w, err);
	if (!rc && sv_common_notes(&w, 1, &x.out->notes, &x.out->nnotes))
		rc = spgw_error_nomem(err, "writing the report's notes");
	if (rc) {
		spgw_violations_free(x.out);
		return rc;
	}
	if (x.out->n)
		qsort(x.out->v, x.out->n, sizeof(*x.out->v), cmp_violation);
	/* keep the items with a violation only: the rest say nothing a region's line does not */
	for (i = k = 0; i < x.out->nitems; i++) {
		struct spgw_violation_tally *t = &x.out->items[i];
		long sum = t->kinds[0] + t->kinds[1] + t->kinds[2] + t->kinds[3];

		if (sum)
			x.out->items[k++] = *t;
		else
			tally_clear(t);
	}
	x.out->nitems = k;
	*out = x.out;
	return SPGW_OK;
}
