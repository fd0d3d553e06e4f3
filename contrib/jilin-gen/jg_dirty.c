/*
 * Dirty records: the one table of defects (jilin spec §2), who gets one, and what the
 * gateway then does with each record, its own and its relatives'.
 *
 * Each row is one defect: the kind (spec name), the systems and entity it is written in,
 * the source field, and the outcome the gateway really produces: which SPGL field and reason
 * code quarantine shows, or "held" (in the outbox, waiting for a parent that never comes),
 * or "delivered". `on` is the default set; --kinds changes it, so a kind whose outcome the
 * gateway does not (yet) produce can be left out without touching the rest.
 *
 * Fates follow the gateway's rules (gateway/pipeline.c, gateway/ledger_batch.c):
 *   - a mapping or validation reason quarantines the record, nothing else;
 *   - a record whose business day comes from a parent (units from their project, materials
 *     from their case) waits, held, while that parent is not in the outbox with a day;
 *   - a case is dated by its earliest step in the outbox: a case none of whose steps got
 *     through is held, and so is every child of a held case (it waits for its parent);
 *   - a child of a quarantined parent that has a day of its own is delivered (the national
 *     side does not check references in the simulator).
 * Records whose fate is decided by a parent are not given defects of their own, so every
 * dirty record has exactly one cause; they are listed as "knock_on" in --expected.
 */
#include <stdio.h>
#include <string.h>

#include "jg.h"

#define BOTH (JG_CC | JG_PROV)

const struct jg_kind jg_kinds[JG_W_COUNT] = {
	{JG_W_XMDM, "bad_xmdm", BOTH, JG_E_PROJECT, "project_code", "xmdm", "XMDM", "format",
	 JG_QUARANTINE, 10, 1,
	 "项目代码 with 23 characters, a letter O for a 0, or a 2-digit year; every record of "
	 "the project carries the same code (its units are quarantined too: knock_on)"},
	{JG_W_USCC_UNIT, "bad_uscc", BOTH, JG_E_UNIT, "uscc", "dwdm", "DWTYSHXYDM", "checkdigit",
	 JG_QUARANTINE, 10, 1, "a unit's 统一社会信用代码 with a wrong check character"},
	{JG_W_USCC_BUILDER, "bad_uscc", BOTH, JG_E_PROJECT, "builder_uscc", "jsdwdm", "JSDWDM",
	 "checkdigit", JG_QUARANTINE, 6, 1,
	 "the builder's code on the project row with a wrong check character"},
	{JG_W_CODE_JSXZ, "bad_code", BOTH, JG_E_PROJECT, "build_nature", "jsxz", "JSXZ", "code",
	 JG_QUARANTINE, 6, 1, "建设性质 翻建 (Changchun) / FJ (provincial): in no code table"},
	{JG_W_CODE_DWLX, "bad_code", BOTH, JG_E_UNIT, "role", "dwlx", "DWLX", "code", JG_QUARANTINE,
	 6, 1, "单位类型 代建单位 / DJ"},
	{JG_W_CODE_SLFS, "bad_code", BOTH, JG_E_CASE, "accept_mode", "slfs", "SLFS", "code",
	 JG_QUARANTINE, 10, 1, "受理方式 邮寄受理 / 9 (outside SLFS 1-4)"},
	{JG_W_CODE_BLZT, "bad_code", BOTH, JG_E_STEP, "status", "blzt", "BLZT", "code",
	 JG_QUARANTINE, 10, 1, "办理状态 待定 / 00 (暂存, a draft state)"},
	{JG_W_CODE_TBCX, "bad_code", BOTH, JG_E_PROC, "kind", "tbcx", "TBCX", "code", JG_QUARANTINE,
	 10, 1, "特别程序 座谈会 / ZT"},
	{JG_W_DATE_NKGSJ, "bad_date", BOTH, JG_E_PROJECT, "plan_start", "nkgsj", "NKGSJ", "format",
	 JG_QUARANTINE, 6, 1, "拟开工时间 on February 30"},
	{JG_W_DATE_NJCSJ, "bad_date", BOTH, JG_E_PROJECT, "plan_end", "njcsj", "NJCSJ", "format",
	 JG_QUARANTINE, 4, 1, "拟建成时间 in month 13"},
	{JG_W_DATE_BLSJ, "bad_date", JG_CC, JG_E_STEP, "handle_time", "-", "BLSJ", "format",
	 JG_QUARANTINE, 6, 1,
	 "办理时间 on February 30 (Changchun only: the provincial blsj is a timestamp column)"},
	{JG_W_DATE_YXQX, "bad_date", JG_CC, JG_E_DOC, "valid_until", "-", "PFWJYXQX", "format",
	 JG_QUARANTINE, 10, 1,
	 "有效期限 on February 29 of a common year (Changchun only: the provincial pfwjyxqx is "
	 "a date column)"},
	{JG_W_GBK_XMMC, "gbk_text", BOTH, JG_E_PROJECT, "project_name", "xmmc", "XMMC", "",
	 JG_DELIVERED, 4, 1, "项目名称 as GBK bytes; must arrive as the same UTF-8 text"},
	{JG_W_GBK_DWMC, "gbk_text", BOTH, JG_E_UNIT, "name", "dwmc", "DWMC", "", JG_DELIVERED, 6, 1,
	 "单位名称 as GBK bytes; must arrive as the same UTF-8 text"},
	{JG_W_BADGBK_XMMC, "bad_gbk", BOTH, JG_E_PROJECT, "project_name", "xmmc", "XMMC", "mapping",
	 JG_QUARANTINE, 3, 1,
	 "项目名称 as GBK bytes with a 0xFF byte inside (invalid in GBK and in UTF-8)"},
	{JG_W_BADGBK_DWMC, "bad_gbk", BOTH, JG_E_UNIT, "name", "dwmc", "DWMC", "mapping",
	 JG_QUARANTINE, 4, 1, "单位名称 with a 0xFF byte inside"},
	{JG_W_ORPHAN_UNIT, "missing_parent", BOTH, JG_E_UNIT, "project_code", "xmdm/gcdm", "GCDM",
	 "", JG_HELD, 5, 1,
	 "a unit of a 项目代码 that no project has (serial 9xxxxx): its day never comes"},
	{JG_W_ORPHAN_MAT, "missing_parent", BOTH, JG_E_MAT, "case_no", "slbh", "SPSXSLBM", "",
	 JG_HELD, 10, 1, "a material of a case number that no case has"},
	{JG_W_SEQUENCE, "bad_sequence", BOTH, JG_E_STEP, "status", "blzt", "BLZT", "sequence",
	 JG_QUARANTINE, 5, 1,
	 "the 开始办理 (8) step written as 特别程序结束 (10) without a 9: the gateway's sequence "
	 "check (config/schema/README.md) refuses that step alone; the case's later steps "
	 "still follow a sound log"},
	{JG_W_START_AFTER_END, "start_after_end", BOTH, JG_E_PROJECT, "plan_start/plan_end",
	 "nkgsj/njcsj", "NKGSJ", "format", JG_QUARANTINE, 6, 1,
	 "拟开工时间 a year after 拟建成时间 (rule NKGSJ < NJCSJ of spgl-v3.json)"},
};

int jg_kind_on[JG_W_COUNT];

static void defaults(void)
{
	int i;

	for (i = 0; i < JG_W_COUNT; i++)
		jg_kind_on[i] = jg_kinds[i].on;
}

static int set_kind(const char *name, size_t len, int on)
{
	int i, found = 0;

	for (i = 0; i < JG_W_COUNT; i++)
		if (strlen(jg_kinds[i].kind) == len && strncmp(jg_kinds[i].kind, name, len) == 0) {
			jg_kind_on[i] = on;
			found = 1;
		}
	return found;
}

int jg_dirty_select(const char *spec, char *err, size_t errlen)
{
	const char *p = spec;
	int i, relative = spec[0] == '+' || spec[0] == '-';

	defaults();
	if (strcmp(spec, "default") == 0)
		return 0;
	if (strcmp(spec, "all") == 0 || strcmp(spec, "none") == 0) {
		for (i = 0; i < JG_W_COUNT; i++)
			jg_kind_on[i] = spec[0] == 'a';
		return 0;
	}
	if (!relative)
		for (i = 0; i < JG_W_COUNT; i++)
			jg_kind_on[i] = 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int on = 1;

		if (*p == '+' || *p == '-') {
			on = *p == '+';
			p++;
			len--;
		}
		if (!set_kind(p, len, on)) {
			snprintf(err, errlen, "--kinds: unknown kind \"%.*s\" (see --list-kinds)",
				 (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

void jg_dirty_list(FILE *f)
{
	static const char *const fate[] = {"delivered", "quarantine", "held"};
	int i;

	for (i = 0; i < JG_W_COUNT; i++) {
		const struct jg_kind *k = &jg_kinds[i];

		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k->kind,
			k->systems == BOTH    ? "both"
			: k->systems == JG_CC ? "changchun"
					      : "provincial",
			jg_entities[k->entity].cc, k->cc_field, k->prov_field, k->field,
			k->code[0] ? k->code : "-", fate[k->outcome], jg_kind_on[i] ? "on" : "off",
			k->how);
	}
}

/* ---- who may get which defect ---- */

/* GBK bytes of `s` that are not valid UTF-8 (so that the provincial plugin passes them on
 * as bytes and the mapping decodes them): only such names are used for the GBK kinds. */
static int gbk_usable(const char *s)
{
	unsigned char b[512];
	long n = jg_to_gbk(s, b, sizeof(b));

	return n > 0 && !jg_utf8_valid(b, (size_t)n);
}

struct who {
	const struct jg_project *p;
	const void *rec;
};

/* Whether kind k could be given to this record, text aside (the gbk kinds need a name
 * whose GBK form is not UTF-8 by accident; that is checked when one is drawn). */
static int fits(const struct jg_kind *k, enum jg_system sys, enum jg_entity ent,
		const struct who *w)
{
	if (!(k->systems & sys) || k->entity != ent)
		return 0;
	if (k->what == JG_W_XMDM) /* the code is the project's: one engineering to blame */
		return w->p->engs.n == 1;
	if (k->what == JG_W_SEQUENCE)
		return ((const struct jg_step *)w->rec)->blzt == 8;
	return 1;
}

static int applies(const struct jg_kind *k, enum jg_system sys, enum jg_entity ent,
		   const struct who *w)
{
	if (!fits(k, sys, ent, w))
		return 0;
	switch (k->what) {
	case JG_W_GBK_XMMC:
	case JG_W_BADGBK_XMMC:
		return gbk_usable(w->p->name);
	case JG_W_GBK_DWMC:
	case JG_W_BADGBK_DWMC:
		return gbk_usable(((const struct jg_unit *)w->rec)->name);
	default:
		return 1;
	}
}

/* One of the kinds that apply (and are on), by weight; -1 when none. */
static int choose(struct jg_rng *r, enum jg_system sys, enum jg_entity ent, const struct who *w)
{
	int i, total = 0, x;
	int ok[JG_W_COUNT];

	for (i = 0; i < JG_W_COUNT; i++) {
		ok[i] = jg_kind_on[i] && applies(&jg_kinds[i], sys, ent, w);
		total += ok[i] ? jg_kinds[i].weight : 0;
	}
	if (!total)
		return -1;
	x = (int)jg_below(r, (uint32_t)total);
	for (i = 0; i < JG_W_COUNT; i++) {
		if (!ok[i])
			continue;
		if (x < jg_kinds[i].weight)
			return i;
		x -= jg_kinds[i].weight;
	}
	return -1;
}

/* A defect for an eligible record with probability d. */
static void maybe_dirty(struct jg_rng *r, enum jg_system sys, enum jg_entity ent,
			const struct who *w, double d, struct jg_mark *m)
{
	int i, any = 0;

	m->dirt = -1;
	m->fate = JG_DELIVERED;
	for (i = 0; i < JG_W_COUNT && !any; i++)
		any = jg_kind_on[i] && fits(&jg_kinds[i], sys, ent, w);
	m->eligible = any;
	if (!any || !jg_chance(r, d))
		return;
	m->dirt = choose(r, sys, ent, w);
	if (m->dirt >= 0)
		m->fate = jg_kinds[m->dirt].outcome;
}

/* Steps whose loss keeps the rest of the log valid (codes.md): a 1 followed by a 3, the
 * 8, the end 11/12, the 4. Then what the gateway holds of a case is still a legal sequence
 * (and stays right when the gateway learns to check the order). */
static int step_may_be_dirty(const struct jg_project *p, const struct jg_step *st)
{
	const struct jg_case *cs = &p->cases.v[st->cs];
	int i = (int)(st - p->steps.v);

	switch (st->blzt) {
	case 1:
		return i + 1 < cs->first + cs->n && p->steps.v[i + 1].blzt == 3;
	case 4:
	case 8:
	case 11:
	case 12:
		return 1;
	default:
		return 0;
	}
}

static void bad_xmdm(struct jg_project *p)
{
	switch (jg_below(&p->rng, 3)) {
	case 0: /* a digit of the serial lost: 23 characters */
		memcpy(p->xmdm_out, p->xmdm, 23);
		p->xmdm_out[23] = '\0';
		break;
	case 1: /* a letter O typed for the zero in the region group (22O1xx) */
		snprintf(p->xmdm_out, sizeof(p->xmdm_out), "%s", p->xmdm);
		p->xmdm_out[7] = 'O';
		break;
	default: /* the year written with two digits */
		snprintf(p->xmdm_out, sizeof(p->xmdm_out), "%s", p->xmdm + 2);
		break;
	}
}

static void knock(struct jg_mark *m, enum jg_fate f)
{
	m->dirt = -1;
	m->eligible = 0;
	m->fate = f;
	m->knock = f != JG_DELIVERED;
}

void jg_dirty_apply(struct jg_project *p, enum jg_system sys, double d)
{
	struct jg_rng *r = &p->rng;
	struct who w = {p, NULL};
	int i, k;

	for (i = 0; i < p->engs.n; i++) {
		struct jg_mark *m = &p->engs.v[i].m;

		m->knock = 0;
		m->change = 0;
		maybe_dirty(r, sys, JG_E_PROJECT, &w, d, m);
		if (m->dirt == JG_W_XMDM)
			bad_xmdm(p);
	}
	for (i = 0; i < p->units.n; i++) {
		struct jg_unit *u = &p->units.v[i];
		const struct jg_mark *pm = &p->engs.v[u->eng].m;

		u->m.knock = 0;
		u->orphan = 0;
		if (pm->fate != JG_DELIVERED) {
			/* a bad 项目代码 is in the unit too; otherwise the unit waits for the
			 * project's day */
			knock(&u->m, pm->dirt == JG_W_XMDM ? JG_QUARANTINE : JG_HELD);
			continue;
		}
		w.rec = u;
		maybe_dirty(r, sys, JG_E_UNIT, &w, d, &u->m);
		u->orphan = u->m.dirt == JG_W_ORPHAN_UNIT;
	}
	for (i = 0; i < p->cases.n; i++) {
		struct jg_case *cs = &p->cases.v[i];

		cs->m.knock = 0;
		cs->m.change = 0;
		w.rec = cs;
		if (cs->violation) { /* violations are reported from clean cases only */
			knock(&cs->m, JG_DELIVERED);
			continue;
		}
		maybe_dirty(r, sys, JG_E_CASE, &w, d, &cs->m);
	}
	for (i = 0; i < p->steps.n; i++) {
		struct jg_step *st = &p->steps.v[i];

		st->m.knock = 0;
		w.rec = st;
		if (p->cases.v[st->cs].violation || !step_may_be_dirty(p, st)) {
			knock(&st->m, JG_DELIVERED);
			continue;
		}
		maybe_dirty(r, sys, JG_E_STEP, &w, d, &st->m);
	}
	/* a case none of whose steps reaches the outbox has no day: held */
	for (i = 0; i < p->cases.n; i++) {
		struct jg_case *cs = &p->cases.v[i];
		int dated = 0;

		if (cs->m.fate != JG_DELIVERED)
			continue;
		for (k = 0; k < cs->n; k++)
			dated |= p->steps.v[cs->first + k].m.fate == JG_DELIVERED;
		if (!dated)
			knock(&cs->m, JG_HELD);
	}
	/* documents, procedures and opinions have days of their own: they wait only for a
	 * held case (a child never goes before its pending parent) */
	for (i = 0; i < p->docs.n; i++) {
		struct jg_mark *m = &p->docs.v[i].m;

		m->knock = 0;
		if (p->cases.v[p->docs.v[i].cs].m.fate == JG_HELD) {
			knock(m, JG_HELD);
			continue;
		}
		w.rec = &p->docs.v[i];
		maybe_dirty(r, sys, JG_E_DOC, &w, d, m);
	}
	for (i = 0; i < p->procs.n; i++) {
		struct jg_mark *m = &p->procs.v[i].m;

		m->knock = 0;
		if (p->cases.v[p->procs.v[i].cs].m.fate == JG_HELD) {
			knock(m, JG_HELD);
			continue;
		}
		w.rec = &p->procs.v[i];
		maybe_dirty(r, sys, JG_E_PROC, &w, d, m);
	}
	for (i = 0; i < p->ops.n; i++) {
		struct jg_mark *m = &p->ops.v[i].m;

		m->knock = 0;
		if (p->cases.v[p->ops.v[i].cs].m.fate == JG_HELD) {
			knock(m, JG_HELD);
			continue;
		}
		w.rec = &p->ops.v[i];
		maybe_dirty(r, sys, JG_E_OPINION, &w, d, m);
	}
	for (i = 0; i < p->mats.n; i++) {
		struct jg_mat *mt = &p->mats.v[i];

		mt->m.knock = 0;
		mt->orphan = 0;
		/* a material takes its day from its case: it waits unless the case is there */
		if (p->cases.v[mt->cs].m.fate != JG_DELIVERED) {
			knock(&mt->m, JG_HELD);
			continue;
		}
		w.rec = mt;
		maybe_dirty(r, sys, JG_E_MAT, &w, d, &mt->m);
		mt->orphan = mt->m.dirt == JG_W_ORPHAN_MAT;
	}
	/* later corrections (a field changes) and withdrawals (void with a reason), of clean
	 * records only: 1 in 100 project rows, 1 in 200 cases */
	for (i = 0; i < p->engs.n; i++) {
		struct jg_mark *m = &p->engs.v[i].m;

		if (m->dirt < 0 && m->upd2 >= 0 && jg_chance(r, 0.01))
			m->change = jg_chance(r, 0.5) ? 1 : 2;
	}
	for (i = 0; i < p->cases.n; i++) {
		struct jg_mark *m = &p->cases.v[i].m;

		if (m->dirt < 0 && !m->knock && !p->cases.v[i].violation && m->upd2 >= 0 &&
		    jg_chance(r, 0.005))
			m->change = jg_chance(r, 0.5) ? 1 : 2;
	}
}
