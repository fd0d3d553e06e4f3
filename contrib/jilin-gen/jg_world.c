/*
 * One project of the world (jilin spec §2): its engineerings (GCDM), units, and for each
 * engineering the cases of the stages it reaches, each with a handling-step log that obeys
 * shared/spgl/codes.md "spgw sequence check", plus documents, special procedures, materials
 * and opinions. Nothing here knows how a city system writes it down; jg_changchun.c and
 * jg_provincial.c do that.
 *
 * Time is planned in working-day indices (jg_cal.c), so that a case's elapsed time is exact
 * by construction: elapsed = wd(end) - wd(3) - (wd(7) - wd(6)) - (wd(10) - wd(9)). A case
 * that keeps its limit uses at most max(0, limit - 2) working days and an overrun at least
 * limit + 3, so that counting either end inclusively, or the pauses inclusively, gives the
 * same verdict (README.md "Time").
 */
#include <stdlib.h>
#include <string.h>

#include "jg.h"

const struct jg_entity_info jg_entities[JG_E_COUNT] = {
	{"projects", "t_project", "SPGL_XMJBXXB", "XM-"},
	{"units", "t_unit", "SPGL_XMDWXXB", "DW-"},
	{"cases", "t_case", "SPGL_XMSPSXBLXXB", "SL-"},
	{"steps", "t_step", "SPGL_XMSPSXBLXXXXB", "BL-"},
	{"documents", "t_doc", "SPGL_XMSPSXPFWJXXB", "PF-"},
	{"procedures", "t_tbcx", "SPGL_XMSPSXBLTBCXXXB", "TB-"},
	{"materials", "t_material", "SPGL_XMSQCLJQTFJXXB", "CL-"},
	{"opinions", "t_opinion", "SPGL_XMSPSXZQYJXXB", "ZQ-"},
};

static void *grow(void *v, int *cap, int need, size_t size)
{
	int c = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return v;
	while (c < need)
		c *= 2;
	nv = realloc(v, (size_t)c * size);
	if (nv)
		*cap = c;
	return nv;
}

/* A new zeroed element at the end of `vec`, or NULL when memory is short. */
#define PUSH(vec)                                                                     \
	(((vec).v = grow((vec).v, &(vec).cap, (vec).n + 1, sizeof(*(vec).v))) == NULL \
		 ? NULL                                                               \
		 : memset(&(vec).v[(vec).n++], 0, sizeof(*(vec).v)))

struct ctx {
	struct jg_project *p;
	const struct jg_catalog *c;
	const struct jg_world_opts *o;
	struct jg_serials *s;
	struct jg_rng *r;
	int oom;
};

/* ---- update times ---- */

/*
 * When a record changed last: shortly after the event, or (4 times in 10) at the nightly
 * 02:00:00 synchronisation, which stamps every record of a day with one second: the reason
 * an (update_time) cursor alone loses records.
 */
static int64_t upd_of(struct ctx *x, int64_t t)
{
	int64_t day = t / 86400, now = (jg_wd_to_day(x->o->to_wd) + 1) * 86400 - 1;

	if (jg_chance(x->r, 0.4) && (day + 1) * 86400 + 7200 <= now)
		return (day + 1) * 86400 + 7200;
	t += jg_range(x->r, 0, 120);
	return t > now ? now : t;
}

/* A random time in office hours of working day wd. */
static int64_t at(struct ctx *x, int64_t wd)
{
	int64_t t = jg_wd_to_day(wd) * 86400 + jg_work_minute(jg_range(x->r, 0, 449)) * 60;

	return t + jg_range(x->r, 0, 59);
}

/*
 * A correction or withdrawal: in office hours of one of the 20 working days after the
 * window. It happens after the data set's first state was read: an incremental reader (a
 * cursor on update time) sees it only if its time is newer than every first version, as a
 * real edit made after the last pull is. `upd` is the record's first update time.
 */
static int64_t later(struct ctx *x, int64_t upd)
{
	int64_t wd = x->o->to_wd + 1 + jg_range(x->r, 0, 19);

	(void)upd;
	return at(x, wd);
}

/* ---- which items a project applies for ---- */

static int main_applies(struct ctx *x, const struct jg_item *it)
{
	const struct jg_project *p = x->p;
	int gov = p->type <= 2;

	/* by name: the catalog names the item the way the province does */
	if (strstr(it->name, "政府投资"))
		return gov;
	if (strstr(it->name, "企业投资项目核准"))
		return !gov && p->lxlx == 2;
	if (strstr(it->name, "企业投资项目备案"))
		return !gov && p->lxlx == 3;
	if (strstr(it->name, "划拨"))
		return p->land == 0;
	if (strstr(it->name, "市政设施"))
		return p->type == 2;
	if (strstr(it->name, "人民防空工程"))
		return p->type != 2;
	if (strstr(it->name, "乡村") || strstr(it->name, "临时"))
		return jg_chance(x->r, 0.03);
	return 1;
}

/* ---- one case ---- */

struct ev {
	int64_t wd;
	int blzt;
};

static int add_event(struct ev *ev, int n, int64_t wd, int blzt)
{
	ev[n].wd = wd;
	ev[n].blzt = blzt;
	return n + 1;
}

/* Times for the events of a case: office hours, strictly increasing, room for the rest of
 * each day's events. */
static void place_times(struct ctx *x, int first)
{
	struct jg_project *p = x->p;
	int i, k, m = 0;
	int64_t day = -1;

	for (i = first; i < p->steps.n; i++) {
		struct jg_step *st = &p->steps.v[i];
		int left = 0;

		for (k = i + 1; k < p->steps.n && p->steps.v[k].wd == st->wd; k++)
			left++;
		if (st->wd != day) {
			int top = 449 - 42 * left;

			m = jg_range(x->r, 0,
				     i == first ? (top < 420 ? top : 420)
						: (top < 150 ? top : 150));
			day = st->wd;
		} else {
			m += jg_range(x->r, 3, 40);
		}
		/* Changchun writes some times without seconds; those are whole minutes */
		st->tfmt = (enum jg_tfmt)jg_weighted(x->r, (const int[]){50, 25, 25}, 3);
		st->t = jg_wd_to_day(st->wd) * 86400 + jg_work_minute(m) * 60 +
			(st->tfmt == JG_T_SLASH ? 0 : jg_range(x->r, 0, 59));
	}
}

enum { RETURNED, NORMAL };

/*
 * One case of item `item` for engineering `eng`, starting on working day `start`. Returns
 * the case index, or -1 when it would start after the window (or memory ran out).
 */
static int gen_case(struct ctx *x, int eng, int item, int pair, long parallel, int64_t start,
		    int how)
{
	struct jg_project *p = x->p;
	const struct jg_item *it = &x->c->items[item];
	struct ev ev[16];
	int n = 0, i, L = it->promised_days, ci, pause6, pause9, P1 = 0, P2 = 0, endc;
	int64_t d3, d8, cur, wd9 = -1;
	struct jg_case *cs;

	if (start > x->o->to_wd)
		return -1;
	cs = PUSH(p->cases);
	if (!cs) {
		x->oom = 1;
		return -1;
	}
	ci = p->cases.n - 1;
	cs->id = ++x->s->cases;
	cs->eng = eng;
	cs->item = item;
	cs->dept = it->dept_idx;
	cs->parallel = parallel;
	cs->pair = pair;
	cs->slfs = jg_chance(x->r, 0.6) ? 4 : 1;
	jg_name_person(x->r, cs->contact, sizeof(cs->contact));
	jg_name_mobile(x->r, cs->mobile);
	n = add_event(ev, n, start, 1);
	if (how == RETURNED) {
		n = add_event(ev, n, start + jg_range(x->r, 0, 2), 4);
	} else {
		int A, a1, a2, a3;

		d3 = start + (jg_chance(x->r, 0.3) ? 1 : 0);
		if (jg_chance(x->r, 0.05)) {
			A = L + 3 + jg_range(x->r, 0, 8);
		} else {
			int hi = L - 2 > 0 ? L - 2 : 0, lo = L / 3 < hi ? L / 3 : hi;

			A = jg_range(x->r, lo, hi);
		}
		pause6 = jg_chance(x->r, 0.10);
		pause9 = jg_chance(x->r, 0.05);
		if (pause6)
			P1 = jg_range(x->r, 2, 12);
		if (pause9)
			P2 = jg_range(x->r, 3, 20);
		endc = jg_weighted(x->r, (const int[]){880, 70, 20, 30}, 4);
		endc = endc == 0 ? 11 : endc == 1 ? 12 : endc == 2 ? 13 : 0;
		a1 = jg_range(x->r, 0, A);
		a2 = jg_range(x->r, 0, A - a1);
		a3 = A - a1 - a2;
		d8 = d3 + (a1 >= 1 && jg_chance(x->r, 0.4) ? 1 : 0);
		n = add_event(ev, n, d3, 3);
		n = add_event(ev, n, d8, 8);
		cur = d3 + a1;
		if (pause6) {
			n = add_event(ev, n, cur, 6);
			cur += P1;
			n = add_event(ev, n, cur, 7);
		}
		cur += a2;
		if (pause9) {
			wd9 = cur;
			n = add_event(ev, n, cur, 9);
			cur += P2;
			n = add_event(ev, n, cur, 10);
		}
		cur += a3;
		if (endc)
			n = add_event(ev, n, cur, endc);
	}
	/* the window ends: later events have not happened yet */
	cs->first = p->steps.n;
	for (i = 0; i < n && ev[i].wd <= x->o->to_wd; i++) {
		struct jg_step *st = PUSH(p->steps);

		if (!st) {
			x->oom = 1;
			return -1;
		}
		st->id = ++x->s->step;
		st->cs = ci;
		st->blzt = ev[i].blzt;
		st->wd = ev[i].wd;
		st->text = -1;
		if (st->blzt == 4)
			st->text = (int)jg_below(x->r, (uint32_t)jg_nreturn_reasons);
		else if (st->blzt == 13)
			st->text = (int)jg_below(x->r, (uint32_t)jg_nrefuse_reasons);
		cs->n++;
	}
	place_times(x, cs->first);
	cs = &p->cases.v[ci];
	{
		struct jg_step *last = &p->steps.v[cs->first + cs->n - 1];

		cs->t1 = p->steps.v[cs->first].t;
		cs->end = last->blzt == 4 || last->blzt >= 11 ? last->blzt : 0;
		cs->m.upd = upd_of(x, last->t);
		for (i = 0; i < cs->n; i++) {
			struct jg_step *st = &p->steps.v[cs->first + i];

			st->m.upd = upd_of(x, st->t);
			if (st->blzt == 3) {
				cs->accepted = 1;
				cs->t3 = st->t;
			}
		}
		if (cs->end >= 11)
			cs->elapsed = jg_world_elapsed(p, cs);
	}
	/* materials come with the acceptance */
	if (cs->accepted) {
		int k, nm = jg_range(x->r, 1, 4), base = (int)jg_below(x->r, 1000);
		int64_t mu = upd_of(x, cs->t3);

		for (k = 0; k < nm; k++) {
			struct jg_mat *mt = PUSH(p->mats);

			if (!mt) {
				x->oom = 1;
				return -1;
			}
			mt->id = ++x->s->mat;
			mt->cs = ci;
			/* the application form first, then what the item asks for */
			mt->name = k == 0 ? 0 : 1 + (base + k * 7) % (jg_nmaterial_names - 1);
			mt->copies = jg_range(x->r, 1, 3);
			mt->paper = jg_chance(x->r, 0.3);
			mt->m.upd = mu;
		}
	}
	/* the approval document */
	if (cs->end == 11 || cs->end == 12) {
		struct jg_doc *d = PUSH(p->docs);
		struct jg_step *last = &p->steps.v[cs->first + cs->n - 1];

		if (!d) {
			x->oom = 1;
			return -1;
		}
		d->id = ++x->s->doc;
		d->cs = ci;
		d->day = jg_wd_to_day(last->wd);
		d->until = jg_chance(x->r, 0.6) ? -1 : d->day + 365 * jg_range(x->r, 1, 3);
		d->seq = (int)++x->s->doc_no[cs->dept];
		d->m.upd = upd_of(x, last->t + 60 * jg_range(x->r, 1, 30));
	}
	/* the special procedure started with the 9 */
	if (wd9 >= 0 && wd9 <= x->o->to_wd) {
		struct jg_proc *pr = PUSH(p->procs);

		if (!pr) {
			x->oom = 1;
			return -1;
		}
		pr->id = ++x->s->proc;
		pr->cs = ci;
		pr->kind = jg_weighted(x->r, (const int[]){10, 50, 25, 15}, 4);
		pr->day = jg_wd_to_day(wd9);
		pr->natural = jg_chance(x->r, 0.2);
		pr->limit = (pr->natural ? P2 * 7 / 5 : P2) + jg_range(x->r, 0, 10);
		for (i = 0; i < cs->n; i++)
			if (p->steps.v[cs->first + i].blzt == 9)
				pr->m.upd = upd_of(x, p->steps.v[cs->first + i].t);
	}
	/* opinions of other departments, for about one case in ten that is being handled */
	if (cs->n >= 3 && jg_chance(x->r, 0.10) && x->c->ndepts > 1) {
		int k, no = jg_range(x->r, 1, 3), d0 = (int)jg_below(x->r, (uint32_t)x->c->ndepts);
		int64_t from = p->steps.v[cs->first + 2].wd,
			to = p->steps.v[cs->first + cs->n - 1].wd;

		if (to < from + 1)
			to = from + 1;
		if (to > x->o->to_wd)
			to = x->o->to_wd;
		for (k = 0; k < no && from + 1 <= to; k++) {
			int dept = (d0 + k) % x->c->ndepts;
			struct jg_opinion *op;

			if (dept == cs->dept)
				continue;
			op = PUSH(p->ops);
			if (!op) {
				x->oom = 1;
				return -1;
			}
			op->id = ++x->s->op;
			op->cs = ci;
			op->dept = dept;
			op->text = (int)jg_below(x->r, (uint32_t)jg_nopinion_texts);
			op->t = at(x, jg_range(x->r, (int)(from + 1), (int)to));
			op->m.upd = upd_of(x, op->t);
		}
	}
	return ci;
}

int jg_world_elapsed(const struct jg_project *p, const struct jg_case *cs)
{
	int64_t w3 = -1, w6 = -1, w9 = -1, end = -1, paused = 0;
	int i;

	for (i = 0; i < cs->n; i++) {
		const struct jg_step *st = &p->steps.v[cs->first + i];

		switch (st->blzt) {
		case 3:
			w3 = st->wd;
			break;
		case 6:
			w6 = st->wd;
			break;
		case 7:
			paused += st->wd - w6;
			break;
		case 9:
			w9 = st->wd;
			break;
		case 10:
			paused += st->wd - w9;
			break;
		case 11:
		case 12:
		case 13:
			end = st->wd;
			break;
		default:
			break;
		}
	}
	return w3 < 0 || end < 0 ? -1 : (int)(end - w3 - paused);
}

/*
 * The cases of one (engineering, item): a returned application (1 -> 4) is followed by a new
 * case a few days later; 8 in 100 pairs are returned once, 2 in 100 twice (a violation).
 * Returns 1 when the last case is approved (11/12), with *end its working day.
 */
static int gen_chain(struct ctx *x, int eng, int item, long parallel, int64_t start, int64_t *end)
{
	struct jg_project *p = x->p;
	int r = (int)jg_below(x->r, 100), returns = r < 2 ? 2 : r < 10 ? 1 : 0, k, ci = -1;
	int pair = p->npairs++;

	for (k = 0; k <= returns; k++) {
		ci = gen_case(x, eng, item, pair, parallel, start, k < returns ? RETURNED : NORMAL);
		if (ci < 0)
			return 0;
		if (k < returns) {
			const struct jg_case *cs = &p->cases.v[ci];

			if (cs->end != 4)
				return 0;
			start = p->steps.v[cs->first + cs->n - 1].wd + jg_range(x->r, 3, 15);
		}
	}
	*end = p->steps.v[p->cases.v[ci].first + p->cases.v[ci].n - 1].wd;
	return p->cases.v[ci].end == 11 || p->cases.v[ci].end == 12;
}

/* The stages one engineering goes through, from working day `start`. */
static void gen_stages(struct ctx *x, int eng, int64_t start)
{
	struct jg_project *p = x->p;
	const struct jg_catalog *c = x->c;
	int stage, i, done_all = 1;
	int64_t stage_end = start;

	for (stage = 1; stage <= 4; stage++) {
		int done = 1, nmain = 0;
		long parallel = 0;

		for (i = 0; i < c->nitems; i++)
			nmain += c->items[i].kind == JG_MAIN && c->items[i].stage == stage;
		/* one parallel application (并联审批) for the main items of a stage */
		if (nmain > 1)
			parallel = ++x->s->parallel;
		stage_end = start;
		for (i = 0; i < c->nitems && !x->oom; i++) {
			const struct jg_item *it = &c->items[i];
			int64_t end = start;
			int ok;

			if (it->stage != stage)
				continue;
			if (it->kind == JG_MAIN) {
				if (!main_applies(x, it))
					continue;
				ok = gen_chain(x, eng, i, parallel, start + jg_range(x->r, 0, 2),
					       &end);
				if (!ok)
					done = 0;
				if (end > stage_end)
					stage_end = end;
			} else if (it->kind == JG_PARALLEL ? jg_chance(x->r, 0.08)
							   : jg_chance(x->r, 0.03)) {
				gen_chain(x, eng, i, 0, start + jg_range(x->r, 0, 10), &end);
			}
		}
		if (!done || x->oom) {
			done_all = 0;
			break;
		}
		start = stage_end + (stage == 3 ? jg_range(x->r, 60, 300) : jg_range(x->r, 5, 40));
		if (stage < 4 && start > x->o->to_wd) {
			done_all = 0;
			break;
		}
	}
	p->engs.v[eng].finish_day = done_all ? jg_wd_to_day(stage_end) : -1;
}

/* Second returns and overruns, from the cases as generated (and cut by the window). */
static void find_violations(struct ctx *x)
{
	struct jg_project *p = x->p;
	int i, k;

	for (i = 0; i < p->npairs; i++) {
		int idx[4], n = 0;

		for (k = 0; k < p->cases.n; k++)
			if (p->cases.v[k].pair == i && p->cases.v[k].end == 4 && n < 4)
				idx[n++] = k;
		if (n >= 2) {
			struct jg_violation *v = PUSH(p->viol);

			if (!v) {
				x->oom = 1;
				return;
			}
			v->second_return = 1;
			v->pair = i;
			v->ncases = n;
			for (k = 0; k < n; k++) {
				v->cases[k] = idx[k];
				p->cases.v[idx[k]].violation = 1;
			}
		}
	}
	for (k = 0; k < p->cases.n; k++) {
		struct jg_case *cs = &p->cases.v[k];

		if (cs->end >= 11 && cs->elapsed > x->c->items[cs->item].promised_days) {
			struct jg_violation *v = PUSH(p->viol);

			if (!v) {
				x->oom = 1;
				return;
			}
			v->second_return = 0;
			v->pair = cs->pair;
			v->ncases = 1;
			v->cases[0] = k;
			cs->violation = 1;
		}
	}
}

/* ---- the project ---- */

static const int industries[6] = {47, 48, 49, 50, 70, 78};
static const char *const gbhy_of[6][3] = {
	{"4710", "4720", "4790"}, {"4812", "4813", "4819"}, {"4910", "4920", "4990"},
	{"5011", "5012", "5011"}, {"7010", "7010", "7010"}, {"7810", "7840", "7850"},
};

static void gen_attributes(struct ctx *x)
{
	struct jg_project *p = x->p;
	struct jg_rng *r = x->r;
	int y, m, d, ind, tt, sby;

	p->type = 1 + jg_weighted(r, (const int[]){20, 10, 35, 25, 10}, 5);
	p->county = (int)jg_below(r, (uint32_t)p->g->ncounties);
	p->sbsj = jg_wd_to_day(jg_range(r, (int)x->o->from_wd, (int)x->o->to_wd));
	jg_civil_from_days(p->sbsj, &sby, &m, &d);
	/* the code was given when the project was registered, up to a few years earlier */
	y = sby - jg_weighted(r, (const int[]){55, 25, 8, 5, 3, 2, 1, 1}, 8);
	p->year = y < 2019 ? 2019 : y;
	switch (p->type) {
	case 1:
		ind = jg_weighted(r, (const int[]){80, 0, 10, 10, 0, 0}, 6);
		break;
	case 2:
		ind = jg_weighted(r, (const int[]){0, 70, 10, 0, 0, 20}, 6);
		break;
	case 5:
		ind = jg_weighted(r, (const int[]){30, 0, 0, 0, 70, 0}, 6);
		break;
	default:
		ind = jg_weighted(r, (const int[]){50, 5, 15, 10, 20, 0}, 6);
		break;
	}
	p->industry = industries[ind];
	snprintf(p->gbhy, sizeof(p->gbhy), "%s", gbhy_of[ind][jg_below(r, 3)]);
	tt = p->type <= 2 ? 1 : jg_chance(r, 0.15) ? 2 : 3;
	p->lxlx = tt;
	snprintf(p->xmdm, sizeof(p->xmdm), "%04d-%s-%02d-%02d-%06d", p->year,
		 p->g->counties[p->county], p->industry, tt, (int)(++x->s->xmdm % 1000000));
	snprintf(p->xmdm_out, sizeof(p->xmdm_out), "%s", p->xmdm);
	p->land = p->type <= 2 ? (jg_chance(r, 0.85) ? 0 : 2) : (jg_chance(r, 0.9) ? 1 : 2);
	p->with_design = p->type == 5 ? 1 : jg_chance(r, 0.1);
	p->assessed = jg_chance(r, 0.5);
	p->nature = jg_weighted(r, (const int[]){70, 12, 15, 3}, 4);
	p->fund = p->type <= 2 ? (jg_chance(r, 0.9) ? 0 : 2) : (jg_chance(r, 0.9) ? 1 : 2);
	p->gcfl_house = p->type != 2;
	/* planned start 1-6 months after applying, completion 1-3 years after that */
	p->plan_start = p->sbsj + 30 * jg_range(r, 1, 6);
	p->start_month_only = jg_chance(r, 0.3);
	if (p->start_month_only) {
		jg_civil_from_days(p->plan_start, &y, &m, &d);
		p->plan_start = jg_days_from_civil(y, m, 1);
	}
	/* one draw per statement (argument and operand order is unspecified in C) */
	p->plan_end = p->plan_start + 365 * jg_range(r, 1, 3);
	p->plan_end += jg_range(r, 0, 200);
	p->floor_area = p->type == 2   ? 0
			: p->type == 4 ? jg_range(r, 300, 9000)
				       : jg_range(r, 800, 120000);
	p->floor_area += p->type == 2 ? 0 : jg_below(r, 100) / 100.0;
	p->land_area = p->type == 2 ? jg_range(r, 2000, 90000) : p->floor_area;
	p->land_area *= p->type == 2 ? 1 : 0.3 + jg_below(r, 120) / 100.0;
	p->land_area = (double)(long)(p->land_area * 100) / 100.0;
	p->invest_yuan = (double)jg_range(r, 50, 500000) * 10000.0;
	p->invest_yuan += jg_below(r, 10000);
	p->invest_yuan += jg_below(r, 100) / 100.0;
	if (p->type == 4)
		p->invest_yuan /= 20;
	p->invest_yuan = (double)(long long)(p->invest_yuan * 100) / 100.0;
	jg_name_project(r, p->g, p->county, p->type, p->name, sizeof(p->name));
	jg_name_address(r, p->g, p->county, p->address, sizeof(p->address));
	jg_name_scale(r, p, p->scale, sizeof(p->scale));
	p->builder_gov = p->type <= 2;
	if (p->builder_gov) {
		jg_name_gov_builder(r, p->g, p->county, p->type, p->builder, sizeof(p->builder));
		jg_uscc(r, p->builder_uscc, strstr(p->builder, "公司") ? '9' : '1',
			strstr(p->builder, "公司") ? '1' : '1', p->g->code, 0);
	} else {
		jg_name_company(r, p->g, 1, p->builder, sizeof(p->builder));
		jg_uscc(r, p->builder_uscc, '9', '1', p->g->counties[p->county], 0);
	}
	p->lng = p->g->lng + (jg_range(r, -3000, 3000)) / 10000.0;
	p->lat = p->g->lat + (jg_range(r, -2000, 2000)) / 10000.0;
}

static int gen_units(struct ctx *x, int eng, const struct jg_unit *proto, int nproto)
{
	struct jg_project *p = x->p;
	int i;

	for (i = 0; i < nproto; i++) {
		struct jg_unit *u = PUSH(p->units);

		if (!u)
			return -1;
		*u = proto[i];
		u->id = ++x->s->unit;
		u->eng = eng;
		u->m.upd = p->engs.v[eng].m.upd;
	}
	return 0;
}

int jg_world_project(struct jg_project *p, const struct jg_region *g, long index,
		     const struct jg_catalog *c, const struct jg_world_opts *o,
		     struct jg_serials *s)
{
	struct ctx x = {p, c, o, s, &p->rng, 0};
	struct jg_unit proto[5];
	int i, neng, nproto = 0, roles[4] = {2, 3, 4, 5};

	p->engs.n = p->units.n = p->cases.n = p->steps.n = 0;
	p->docs.n = p->procs.n = p->mats.n = p->ops.n = p->viol.n = 0;
	p->npairs = 0;
	p->g = g;
	p->index = index;
	jg_rng_init(&p->rng, o->seed, (uint64_t)g->index, (uint64_t)index);
	s->project++;
	gen_attributes(&x);
	/* one engineering, or (1 in 10) two or three with their own scope */
	neng = jg_chance(x.r, 0.1) ? jg_range(x.r, 2, 3) : 1;
	for (i = 0; i < neng; i++) {
		static const char *const scopes[] = {"一期：主体建筑及附属用房",
						     "二期：室外配套及景观工程",
						     "三期：地下车库及人防工程"};
		struct jg_eng *e = PUSH(p->engs);
		int64_t created;

		if (!e)
			return -1;
		e->id = ++s->eng;
		if (neng > 1) {
			snprintf(e->sub, sizeof(e->sub), "-%02d", (i + 1) % 100);
			snprintf(e->scope, sizeof(e->scope), "%s", scopes[i]);
		}
		created = at(&x, jg_day_to_wd(p->sbsj));
		e->m.upd = upd_of(&x, created);
		e->finish_day = -1;
	}
	/* the units: the builder and one to four others, the same for every engineering */
	memset(proto, 0, sizeof(proto));
	proto[0].role = 1;
	snprintf(proto[0].uscc, sizeof(proto[0].uscc), "%s", p->builder_uscc);
	snprintf(proto[0].name, sizeof(proto[0].name), "%s", p->builder);
	nproto = 1;
	for (i = 0; i < 4; i++) { /* shuffle the roles, then take the first k */
		int j = jg_range(x.r, i, 3), t = roles[i];

		roles[i] = roles[j];
		roles[j] = t;
	}
	for (i = jg_range(x.r, 1, 4); i > 0; i--, nproto++) {
		struct jg_unit *u = &proto[nproto];

		u->role = roles[nproto - 1];
		jg_name_company(x.r, g, u->role, u->name, sizeof(u->name));
		jg_uscc(x.r, u->uscc, '9', '1',
			jg_chance(x.r, 0.7) ? g->counties[jg_below(x.r, (uint32_t)g->ncounties)]
					    : g->code,
			0);
	}
	for (i = 0; i < neng; i++) {
		if (gen_units(&x, i, proto, nproto))
			return -1;
		gen_stages(&x, i, jg_day_to_wd(p->sbsj) + (i ? jg_range(x.r, 0, 20) : 0));
		if (x.oom)
			return -1;
		if (p->engs.v[i].finish_day >= 0) {
			/* the project record is updated when it is completed */
			p->engs.v[i].m.upd =
				upd_of(&x, p->engs.v[i].finish_day * 86400 + 16 * 3600);
		}
	}
	find_violations(&x);
	if (x.oom)
		return -1;
	/* later corrections and withdrawals are decided in jg_dirty.c; their times here */
	for (i = 0; i < p->engs.n; i++)
		p->engs.v[i].m.upd2 = later(&x, p->engs.v[i].m.upd);
	for (i = 0; i < p->cases.n; i++)
		p->cases.v[i].m.upd2 = later(&x, p->cases.v[i].m.upd);
	return 0;
}

void jg_world_free(struct jg_project *p)
{
	free(p->engs.v);
	free(p->units.v);
	free(p->cases.v);
	free(p->steps.v);
	free(p->docs.v);
	free(p->procs.v);
	free(p->mats.v);
	free(p->ops.v);
	free(p->viol.v);
	memset(p, 0, sizeof(*p));
}
