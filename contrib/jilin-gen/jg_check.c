/*
 * --check: re-read a dataset as a consumer would and verify it against its --expected file,
 * without using the generator's own model. What it checks (one line per failure):
 *
 *   - every file has the number of lines --expected says (CSV: rows after the header);
 *   - per region and entity, the distinct ids equal "records", and distinct ids minus the
 *     records expected quarantined or held equal "delivered";
 *   - every clean record: 项目代码 has the shape NNNN-NNNNNN-NN-NN-NNNNNN (Changchun: after
 *     full-width digits are made half-width), every 统一社会信用代码 its GB 32100 check
 *     character;
 *   - every dirty record really carries its defect (a bad code is malformed, a wrong check
 *     character is wrong, a gbk_text name decodes from GBK to the expected text, a bad_gbk
 *     name does not decode, a bad date is not on the calendar, ...);
 *   - the steps of every case that would be delivered obey shared/spgl/codes.md "spgw
 *     sequence check", at strictly increasing times, Monday to Friday, in office hours;
 *   - second returns and overruns recomputed from the steps equal the expected violations;
 *   - the dirty records are close to --dirty of the records that could get a defect.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_check.h"

/* ---- a string -> int map (open addressing), keys copied ---- */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int smap_grow(struct smap *m)
{
	struct smap nm = {NULL, NULL, 0, m->cap ? m->cap * 2 : 1024};
	size_t i;

	nm.k = calloc(nm.cap, sizeof(*nm.k));
	nm.v = calloc(nm.cap, sizeof(*nm.v));
	if (!nm.k || !nm.v) {
		free(nm.k);
		free(nm.v);
		return -1;
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->k[i])
			continue;
		for (j = hash(m->k[i]) & (nm.cap - 1); nm.k[j]; j = (j + 1) & (nm.cap - 1))
			;
		nm.k[j] = m->k[i];
		nm.v[j] = m->v[i];
	}
	nm.n = m->n;
	free(m->k);
	free(m->v);
	*m = nm;
	return 0;
}

/* The slot of `key`; *found says whether it was there. NULL only when memory is short. */
int *jg_smap_at(struct smap *m, const char *key, int add, int *found)
{
	size_t j;

	*found = 0;
	if (add && (m->n + 1) * 2 > m->cap && smap_grow(m))
		return NULL;
	if (!m->cap)
		return NULL;
	for (j = hash(key) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1))
		if (strcmp(m->k[j], key) == 0) {
			*found = 1;
			return &m->v[j];
		}
	if (!add)
		return NULL;
	m->k[j] = strdup(key);
	if (!m->k[j])
		return NULL;
	m->v[j] = 0;
	m->n++;
	return &m->v[j];
}

int jg_smap_get(struct smap *m, const char *key, int *v)
{
	int found;
	int *p = jg_smap_at(m, key, 0, &found);

	if (p)
		*v = *p;
	return found;
}

void jg_smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void jg_chk_fail(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	c->failures++;
	if (c->failures > 200)
		return;
	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (c->failures == 200)
		puts("FAIL: (more failures not shown)");
}

int jg_chk_region(const char *code)
{
	const struct jg_region *g = code ? jg_region_find(code) : NULL;

	return g ? g->index : -1;
}

const char *jg_chk_jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The dirty / knock_on entry for a record, or NULL. */
static json_t *mark_of(struct chk *c, int sys, enum jg_entity ent, const char *id, int *knock)
{
	char key[160];
	int v = 0;

	snprintf(key, sizeof(key), "%d\x1f%d\x1f%s", sys, (int)ent, id);
	if (!jg_smap_get(&c->marks, key, &v))
		return NULL;
	*knock = v < 0;
	return json_array_get(json_object_get(c->exp, v < 0 ? "knock_on" : "dirty"),
			      (size_t)(v < 0 ? -v - 1 : v - 1));
}

static enum jg_entity entity_by_name(const char *name)
{
	int i;

	for (i = 0; i < JG_E_COUNT && name; i++)
		if (!strcmp(jg_entities[i].cc, name) || !strcmp(jg_entities[i].prov, name))
			return (enum jg_entity)i;
	return JG_E_COUNT;
}

static int index_marks(struct chk *c)
{
	static const char *const lists[2] = {"dirty", "knock_on"};
	int l;

	for (l = 0; l < 2; l++) {
		json_t *a = json_object_get(c->exp, lists[l]), *o;
		size_t i;

		if (!json_is_array(a)) {
			jg_chk_fail(c, "--expected has no \"%s\" list", lists[l]);
			return -1;
		}
		json_array_foreach(a, i, o)
		{
			const char *sys = jg_chk_jstr(o, "system"), *id = jg_chk_jstr(o, "id");
			enum jg_entity ent = entity_by_name(jg_chk_jstr(o, "entity"));
			char key[160];
			int found, *slot;

			if (!sys || !id || ent == JG_E_COUNT) {
				jg_chk_fail(c, "--expected %s[%zu]: needs system, entity and id",
					    lists[l], i);
				continue;
			}
			snprintf(key, sizeof(key), "%d\x1f%d\x1f%s",
				 strcmp(sys, "changchun") ? 2 : 1, (int)ent, id);
			slot = jg_smap_at(&c->marks, key, 1, &found);
			if (!slot)
				return -1;
			if (found)
				jg_chk_fail(c, "--expected: %s %s %s is listed twice", sys,
					    jg_chk_jstr(o, "entity"), id);
			*slot = l == 0 ? (int)i + 1 : -(int)i - 1;
		}
	}
	return 0;
}

/* ---- values ---- */

int jg_chk_parse_time(const char *s, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	int64_t day;

	if (!s)
		return -1;
	if (strlen(s) == 14 &&
	    sscanf(s, "%4d%2d%2d%2d%2d%2d%n", &y, &mo, &d, &h, &mi, &se, &n) == 6 && n == 14) {
		;
	} else if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &y, &mo, &d, &h, &mi, &se, &n) == 6 &&
		   s[n] == '\0') {
		;
	} else if (sscanf(s, "%d/%d/%d %d:%d%n", &y, &mo, &d, &h, &mi, &n) == 5 && s[n] == '\0') {
		se = 0;
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
		return -1;
	day = jg_days_from_civil(y, mo, d);
	{
		int y2, m2, d2;

		jg_civil_from_days(day, &y2, &m2, &d2);
		if (y2 != y || m2 != mo || d2 != d)
			return -1;
	}
	*t = day * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* A text whose leading Y-M-D (any of - / 年月) is not on the calendar. */
static int impossible_date(const char *s)
{
	int y, m, d;

	if (!s ||
	    (sscanf(s, "%d-%d-%d", &y, &m, &d) != 3 && sscanf(s, "%d/%d/%d", &y, &m, &d) != 3))
		return 0;
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return 1;
	{
		int y2, m2, d2;

		jg_civil_from_days(jg_days_from_civil(y, m, d), &y2, &m2, &d2);
		return y2 != y || m2 != m || d2 != d;
	}
}

/* A day from the date forms the generator writes for plan dates (full days only). */
static int64_t plan_day(const char *s)
{
	int y, m, d, n = 0;
	char t[16];

	if (!s)
		return -1;
	if ((sscanf(s, "%d-%d-%d%n", &y, &m, &d, &n) == 3 ||
	     sscanf(s, "%d/%d/%d%n", &y, &m, &d, &n) == 3) &&
	    s[n] == '\0') {
		snprintf(t, sizeof(t), "%04d-%02d-%02d", y, m, d);
		return jg_parse_date(t);
	}
	if (strlen(s) == 8 && sscanf(s, "%4d%2d%2d", &y, &m, &d) == 3) {
		snprintf(t, sizeof(t), "%04d-%02d-%02d", y, m, d);
		return jg_parse_date(t);
	}
	return -1;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

/* Whether name bytes (GBK) carry the defect `kind` says, and decode to `value`. */
static void check_gbk(struct chk *c, const char *where, const unsigned char *b, size_t n,
		      const char *kind, const char *value)
{
	char text[1024];
	long r = jg_from_gbk(b, n, text, sizeof(text));

	if (jg_utf8_valid(b, n))
		jg_chk_fail(c, "%s: %s name bytes are valid UTF-8 (a plugin would not decode them)",
			    where, kind);
	if (!strcmp(kind, "gbk_text") && (r < 0 || !value || strcmp(text, value)))
		jg_chk_fail(c, "%s: gbk_text name does not decode from GBK to \"%s\"", where,
			    value ? value : "?");
	if (!strcmp(kind, "bad_gbk") && r >= 0)
		jg_chk_fail(c, "%s: bad_gbk name decodes as valid GBK", where);
}

static int bad_code_value(const char *v)
{
	static const char *const bad[] = {"翻建", "代建单位", "邮寄受理", "待定", "座谈会",
					  "FJ",	  "DJ",	      "9",	  "00",	  "ZT"};
	size_t i;

	for (i = 0; v && i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(v, bad[i]))
			return 1;
	return 0;
}

/* ---- one record, whatever its system (fields by their Changchun / provincial names) ---- */

static void check_dirty(struct chk *c, const struct rec *r, json_t *m, const char *where)
{
	const char *kind = jg_chk_jstr(m, "kind"), *field = jg_chk_jstr(m, "field");
	char buf[128];

	c->checked_dirty++;
	if (!kind || !field)
		return;
	if (!strcmp(kind, "bad_xmdm")) {
		jg_halfwidth(buf, sizeof(buf),
			     JG_GET(r, "project_code", "xmdm") ? JG_GET(r, "project_code", "xmdm")
							       : "");
		trim(buf);
		if (jg_xmdm_valid(buf))
			jg_chk_fail(c, "%s: bad_xmdm but 项目代码 \"%s\" is well-formed", where,
				    buf);
	} else if (!strcmp(kind, "bad_uscc")) {
		const char *u = !strcmp(field, "JSDWDM") ? JG_GET(r, "builder_uscc", "jsdwdm")
							 : JG_GET(r, "uscc", "dwdm");

		if (!u || jg_uscc_valid(u) || strlen(u) != 18)
			jg_chk_fail(
				c,
				"%s: bad_uscc but \"%s\" is not an 18-character code with a wrong "
				"check character",
				where, u ? u : "(none)");
	} else if (!strcmp(kind, "gbk_text") || !strcmp(kind, "bad_gbk")) {
		size_t n = 0;
		const unsigned char *b =
			r->raw(r->ctx, r->ent == JG_E_PROJECT ? "project_name" : "name",
			       r->ent == JG_E_PROJECT ? "xmmc" : "dwmc", &n);

		if (!b)
			jg_chk_fail(c, "%s: %s but the name is not GBK bytes", where, kind);
		else
			check_gbk(c, where, b, n, kind, jg_chk_jstr(m, "value"));
	} else if (!strcmp(kind, "bad_code")) {
		const char *src = jg_chk_jstr(m, "source_field");

		if (src && !bad_code_value(r->get(r->ctx, src, src)))
			jg_chk_fail(c, "%s: bad_code but %s is \"%s\"", where, src,
				    r->get(r->ctx, src, src) ? r->get(r->ctx, src, src) : "(none)");
	} else if (!strcmp(kind, "bad_date")) {
		const char *src = jg_chk_jstr(m, "source_field");

		if (src && !impossible_date(r->get(r->ctx, src, src)))
			jg_chk_fail(c, "%s: bad_date but %s \"%s\" is on the calendar", where, src,
				    r->get(r->ctx, src, src) ? r->get(r->ctx, src, src) : "(none)");
	} else if (!strcmp(kind, "start_after_end")) {
		int64_t a = plan_day(JG_GET(r, "plan_start", "nkgsj")),
			b = plan_day(JG_GET(r, "plan_end", "njcsj"));

		if (a < 0 || b < 0 || a <= b)
			jg_chk_fail(c, "%s: start_after_end but 拟开工 is not after 拟建成", where);
	}
}

static void check_clean(struct chk *c, const struct rec *r, const char *where)
{
	char buf[128];
	const char *u;

	c->checked_clean++;
	if (r->ent == JG_E_PROJECT || r->ent == JG_E_UNIT) {
		jg_halfwidth(buf, sizeof(buf),
			     JG_GET(r, "project_code", "xmdm") ? JG_GET(r, "project_code", "xmdm")
							       : "");
		trim(buf);
		if (!jg_xmdm_valid(buf))
			jg_chk_fail(c, "%s: clean record with 项目代码 \"%s\"", where, buf);
	}
	if (r->ent == JG_E_PROJECT && !jg_uscc_valid(u = JG_GET(r, "builder_uscc", "jsdwdm")))
		jg_chk_fail(c, "%s: clean record with 建设单位代码 \"%s\"", where, u ? u : "");
	if (r->ent == JG_E_UNIT && !jg_uscc_valid(u = JG_GET(r, "uscc", "dwdm")))
		jg_chk_fail(c, "%s: clean record with 统一社会信用代码 \"%s\"", where, u ? u : "");
	if (r->ent == JG_E_STEP && !jg_uscc_valid(u = JG_GET(r, "dept_uscc", "dwdm")))
		jg_chk_fail(c, "%s: clean step with 办理单位代码 \"%s\"", where, u ? u : "");
	if (r->ent == JG_E_PROJECT) {
		int64_t a = plan_day(JG_GET(r, "plan_start", "nkgsj")),
			b = plan_day(JG_GET(r, "plan_end", "njcsj"));

		if (a >= 0 && b >= 0 && a >= b)
			jg_chk_fail(c, "%s: clean record with 拟开工 not before 拟建成", where);
	}
}

static int blzt_of(int sys, const char *v)
{
	static const char *const cc[16] = {"",	       "收件",	       "已撤件",       "受理",
					   "退回",     "不予受理",     "补正开始",     "补正结束",
					   "开始办理", "特别程序开始", "特别程序结束", "办结",
					   "容缺办结", "不予许可",     "撤回",	       "撤销"};
	static const char *const prov[16] = {"",   "10", "12", "20", "21", "22", "30", "31",
					     "40", "50", "51", "90", "91", "92", "98", "99"};
	int i;

	for (i = 1; v && i < 16; i++)
		if (!strcmp(v, sys == JG_CC ? cc[i] : prov[i]))
			return i;
	return 0;
}

static int add_case(struct chk *c, const struct rec *r)
{
	char key[96];
	int found, *slot;
	struct ccase *cs;
	const char *lim = JG_GET(r, "limit_days", "sxblsx"), *item = JG_GET(r, "item_code", "sxbm");
	/* steps name their case by its number: Changchun's id, the provincial slbh */
	const char *no = r->sys == JG_CC ? r->id : JG_GET(r, "", "slbh");

	if (!no) {
		jg_chk_fail(c, "%s:%d: a case without its case number", r->file, r->line);
		return 0;
	}
	snprintf(key, sizeof(key), "%d\x1f%s", r->region, no);
	slot = jg_smap_at(&c->case_ix, key, 1, &found);
	if (!slot)
		return -1;
	if (found)
		return 0; /* a later version of the same case */
	if (c->ncases == c->capcases) {
		size_t nc = c->capcases ? c->capcases * 2 : 4096;
		struct ccase *v = realloc(c->cases, nc * sizeof(*v));

		if (!v)
			return -1;
		c->cases = v;
		c->capcases = nc;
	}
	cs = &c->cases[c->ncases];
	memset(cs, 0, sizeof(*cs));
	snprintf(cs->id, sizeof(cs->id), "%s", no);
	if (r->sys == JG_CC)
		snprintf(cs->pair, sizeof(cs->pair), "%s%s %s",
			 JG_GET(r, "project_code", "") ? JG_GET(r, "project_code", "") : "",
			 JG_GET(r, "sub_code", "") ? JG_GET(r, "sub_code", "") : "",
			 item ? item : "");
	else
		snprintf(cs->pair, sizeof(cs->pair), "%s %s",
			 JG_GET(r, "", "gcdm") ? JG_GET(r, "", "gcdm") : "", item ? item : "");
	cs->region = r->region;
	cs->limit = lim ? atoi(lim) : 0;
	*slot = (int)c->ncases++;
	return 0;
}

static int add_step(struct chk *c, const struct rec *r, int dirty, const char *where)
{
	char key[96];
	int ix = 0;
	const char *no = JG_GET(r, "case_no", "slbh");
	struct cstep *st;
	int64_t t;

	snprintf(key, sizeof(key), "%d\x1f%s", r->region, no ? no : "");
	if (!jg_smap_get(&c->case_ix, key, &ix)) {
		jg_chk_fail(c, "%s: step of case %s, which no case record has", where,
			    no ? no : "(none)");
		return 0;
	}
	if (dirty) {
		c->cases[ix].dirty_steps++;
		return 0;
	}
	if (jg_chk_parse_time(JG_GET(r, "handle_time", "blsj"), &t)) {
		jg_chk_fail(c, "%s: clean step with 办理时间 \"%s\"", where,
			    JG_GET(r, "handle_time", "blsj"));
		return 0;
	}
	if (c->nsteps == c->capsteps) {
		size_t nc = c->capsteps ? c->capsteps * 2 : 16384;
		struct cstep *v = realloc(c->steps, nc * sizeof(*v));

		if (!v)
			return -1;
		c->steps = v;
		c->capsteps = nc;
	}
	st = &c->steps[c->nsteps++];
	st->cs = ix;
	st->t = t;
	st->line = r->line;
	st->blzt = blzt_of(r->sys, JG_GET(r, "status", "blzt"));
	if (!st->blzt)
		jg_chk_fail(c, "%s: clean step with 办理状态 \"%s\"", where,
			    JG_GET(r, "status", "blzt"));
	return 0;
}

int jg_chk_record(struct chk *c, const struct rec *r)
{
	char where[256];
	int knock = 0, found, *slot;
	json_t *m;

	snprintf(where, sizeof(where), "%s:%d (%s)", r->file, r->line, r->id ? r->id : "?");
	if (r->region < 0 || !r->id || !*r->id) {
		jg_chk_fail(c, "%s: no region or id", where);
		return 0;
	}
	slot = jg_smap_at(&c->ids[r->region][r->ent], r->id, 1, &found);
	if (!slot)
		return -1;
	m = mark_of(c, r->sys, r->ent, r->id, &knock);
	if (!found) {
		const char *o = m ? jg_chk_jstr(m, "outcome") : "delivered";
		int f = !o || !strcmp(o, "delivered") ? 0 : !strcmp(o, "quarantine") ? 1 : 2;

		c->fate_seen[r->region][r->ent][f]++;
	}
	if (m && !knock)
		check_dirty(c, r, m, where);
	else if (!m)
		check_clean(c, r, where);
	if (r->ent == JG_E_CASE && add_case(c, r))
		return -1;
	if (r->ent == JG_E_STEP && add_step(c, r, m && !knock, where))
		return -1;
	return 0;
}

/* ---- counts ---- */

static long jlong(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static void check_counts(struct chk *c)
{
	json_t *regions = json_object_get(c->exp, "regions"), *r;
	const char *code;
	double d = json_number_value(json_object_get(c->exp, "dirty_fraction"));

	json_object_foreach(regions, code, r)
	{
		int ri = jg_chk_region(code), cc, e;
		long dirty = 0, eligible;
		json_t *list = json_object_get(c->exp, "dirty"), *o;
		size_t i;

		if (ri < 0) {
			jg_chk_fail(c, "--expected: unknown region %s", code);
			continue;
		}
		cc = jg_regions[ri].sys == JG_CC;
		for (e = 0; e < JG_E_COUNT; e++) {
			const char *src = cc ? jg_entities[e].cc : jg_entities[e].prov;
			const char *t = jg_entities[e].table;
			long want = jlong(r, "records", src), n = (long)c->ids[ri][e].n;

			if (want != n)
				jg_chk_fail(c,
					    "%s %s: %ld distinct records in the files, --expected "
					    "says %ld",
					    code, src, n, want);
			if (jlong(r, "delivered", t) != c->fate_seen[ri][e][0])
				jg_chk_fail(c,
					    "%s %s: %ld records should be delivered by the marks, "
					    "--expected says %ld",
					    code, t, c->fate_seen[ri][e][0],
					    jlong(r, "delivered", t));
			if (jlong(r, "quarantined", t) != c->fate_seen[ri][e][1])
				jg_chk_fail(
					c,
					"%s %s: %ld quarantined by the marks, --expected says %ld",
					code, t, c->fate_seen[ri][e][1],
					jlong(r, "quarantined", t));
			if (jlong(r, "held", t) != c->fate_seen[ri][e][2])
				jg_chk_fail(c, "%s %s: %ld held by the marks, --expected says %ld",
					    code, t, c->fate_seen[ri][e][2], jlong(r, "held", t));
		}
		json_array_foreach(list, i, o) dirty +=
			jg_chk_jstr(o, "region") && !strcmp(jg_chk_jstr(o, "region"), code);
		if (dirty != json_integer_value(json_object_get(r, "dirty")))
			jg_chk_fail(c, "%s: %ld dirty records listed, the region says %lld", code,
				    dirty,
				    (long long)json_integer_value(json_object_get(r, "dirty")));
		eligible = (long)json_integer_value(json_object_get(r, "eligible"));
		if (eligible > 0) {
			/* binomial: allow 4 standard deviations, and at least one record */
			double sd = sqrt(d * (1 - d) / (double)eligible);
			double got = (double)dirty / (double)eligible;
			double tol = 4 * sd + 1.0 / (double)eligible;

			if (fabs(got - d) > tol)
				jg_chk_fail(c,
					    "%s: dirty fraction %.4f of %ld eligible records, "
					    "asked %.4f "
					    "(tolerance %.4f)",
					    code, got, eligible, d, tol);
			else
				printf("ok: %s dirty fraction %.4f of %ld eligible records (asked "
				       "%.4f)\n",
				       code, got, eligible, d);
		}
	}
}

static void check_lines(struct chk *c, const char *sys, const char *name, long lines)
{
	json_t *v = json_object_get(json_object_get(json_object_get(c->exp, "files"), sys), name);

	if (!json_is_integer(v))
		jg_chk_fail(c, "--expected lists no line count for %s %s", sys, name);
	else if (json_integer_value(v) != lines)
		jg_chk_fail(c, "%s %s: %ld lines, --expected says %lld", sys, name, lines,
			    (long long)json_integer_value(v));
}

int jg_check(const struct jg_check_opts *o)
{
	struct chk c;
	json_error_t je;
	int e, rc = 0, i;
	long lines;
	char name[64];

	memset(&c, 0, sizeof(c));
	c.exp = json_load_file(o->expected, 0, &je);
	if (!c.exp) {
		printf("FAIL: %s:%d:%d: %s\n", o->expected, je.line, je.column, je.text);
		return 1;
	}
	if (index_marks(&c))
		goto oom;
	for (e = 0; e < JG_E_COUNT && o->cc_dir; e++) {
		if (jg_chk_read_jsonl(&c, o->cc_dir, (enum jg_entity)e, &lines))
			goto oom;
		snprintf(name, sizeof(name), "%s.jsonl", jg_entities[e].cc);
		check_lines(&c, "changchun", name, lines);
	}
	for (e = 0; e < JG_E_COUNT && o->prov_dir; e++) {
		snprintf(name, sizeof(name), "%s.csv", jg_entities[e].prov);
		if (jg_chk_read_csv(&c, o->prov_dir, name, (enum jg_entity)e, &lines))
			goto oom;
		check_lines(&c, "provincial", name, lines);
		if (e == JG_E_PROJECT || e == JG_E_CASE) {
			snprintf(name, sizeof(name), "changes/%s.csv", jg_entities[e].prov);
			if (jg_chk_read_csv(&c, o->prov_dir, name, (enum jg_entity)e, &lines))
				goto oom;
			check_lines(&c, "provincial", name, lines);
		}
	}
	if (jg_chk_steps(&c))
		goto oom;
	check_counts(&c);
	printf("ok: %ld clean and %ld dirty records checked\n", c.checked_clean, c.checked_dirty);
	goto out;
oom:
	jg_chk_fail(&c, "out of memory while checking");
out:
	rc = c.failures;
	if (rc)
		printf("%d check(s) failed\n", rc);
	else
		puts("all checks passed");
	json_decref(c.exp);
	jg_smap_free(&c.marks);
	jg_smap_free(&c.case_ix);
	for (i = 0; i < JG_NREGIONS; i++)
		for (e = 0; e < JG_E_COUNT; e++)
			jg_smap_free(&c.ids[i][e]);
	free(c.cases);
	free(c.steps);
	return rc;
}
