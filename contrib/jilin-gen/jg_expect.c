/*
 * --expected: what the gateway should make of the dataset (jilin spec §6). Per region and
 * SPGL table the keys expected delivered (and quarantined, held); every dirty record with
 * its kind and expected outcome; every record whose fate a parent decides ("knock_on");
 * the later corrections and withdrawals; and the violations (second returns, overruns).
 *
 * The lists can be long (a million steps give tens of thousands of dirty records), so each
 * is written as it grows to a temporary file and copied into FILE at the end: memory stays
 * flat however big the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg.h"

enum { L_DIRTY, L_KNOCK, L_CHANGES, L_VIOL, L_COUNT };

struct region_stats {
	const struct jg_region *g;
	long projects, engs;
	long records[JG_E_COUNT], fate[JG_E_COUNT][3];
	long eligible, dirty, corrected, withdrawn, second_return, overrun;
};

struct jg_expect {
	struct region_stats r[JG_NREGIONS];
	int nr;
	struct jg_out list[L_COUNT];
	FILE *tmp[L_COUNT];
	long n[L_COUNT];
};

struct jg_expect *jg_expect_new(char *err, size_t errlen)
{
	struct jg_expect *e = calloc(1, sizeof(*e));
	int i;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < L_COUNT; i++) {
		e->tmp[i] = tmpfile();
		e->list[i].buf = malloc(1u << 16);
		if (!e->tmp[i] || !e->list[i].buf) {
			snprintf(err, errlen, "cannot make a temporary file for --expected: %s",
				 strerror(errno));
			jg_expect_free(e);
			return NULL;
		}
		e->list[i].f = e->tmp[i];
		e->list[i].cap = 1u << 16;
	}
	return e;
}

void jg_expect_free(struct jg_expect *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < L_COUNT; i++) {
		if (e->tmp[i])
			fclose(e->tmp[i]);
		free(e->list[i].buf);
	}
	free(e);
}

void jg_expect_region(struct jg_expect *e, const struct jg_region *g)
{
	e->r[e->nr].g = g;
	e->nr++;
}

static struct region_stats *cur(struct jg_expect *e)
{
	return &e->r[e->nr - 1];
}

long jg_expect_region_steps(const struct jg_expect *e)
{
	return e->nr ? e->r[e->nr - 1].records[JG_E_STEP] : 0;
}

static const char *fate_name(enum jg_fate f)
{
	return f == JG_DELIVERED ? "delivered" : f == JG_QUARANTINE ? "quarantine" : "held";
}

/* Begin one list entry: {"region":..,"system":..,"entity":..,"id":..,"table":..,"key":.. */
static struct jg_out *entry(struct jg_expect *e, int list, const struct jg_project *p,
			    enum jg_entity ent, const char *id)
{
	struct jg_out *o = &e->list[list];
	int cc = p->g->sys == JG_CC;

	jg_out_str(o, e->n[list]++ ? ",\n{" : "{");
	jg_out_str(o, "\"region\":");
	jg_out_jstr(o, p->g->code);
	jg_out_str(o, cc ? ",\"system\":\"changchun\",\"entity\":"
			 : ",\"system\":\"provincial\",\"entity\":");
	jg_out_jstr(o, cc ? jg_entities[ent].cc : jg_entities[ent].prov);
	jg_out_str(o, ",\"id\":");
	jg_out_jstr(o, id);
	jg_out_str(o, ",\"table\":");
	jg_out_jstr(o, jg_entities[ent].table);
	jg_out_str(o, ",\"key\":\"");
	jg_out_str(o, jg_entities[ent].prefix);
	jg_out_str(o, id);
	jg_out_str(o, "\"");
	return o;
}

static void member(struct jg_out *o, const char *k, const char *v)
{
	jg_out_str(o, ",\"");
	jg_out_str(o, k);
	jg_out_str(o, "\":");
	jg_out_jstr(o, v);
}

void jg_expect_record(struct jg_expect *e, const struct jg_project *p, enum jg_entity ent,
		      const char *id, const struct jg_mark *m, const char *value,
		      const char *parent_key)
{
	struct region_stats *rs = cur(e);
	struct jg_out *o;

	rs->records[ent]++;
	rs->fate[ent][m->fate]++;
	rs->eligible += m->eligible;
	if (m->dirt >= 0) {
		const struct jg_kind *k = &jg_kinds[m->dirt];

		rs->dirty++;
		o = entry(e, L_DIRTY, p, ent, id);
		member(o, "kind", k->kind);
		member(o, "outcome", fate_name(m->fate));
		member(o, "field", k->field);
		member(o, "code", k->code);
		member(o, "source_field", p->g->sys == JG_CC ? k->cc_field : k->prov_field);
		if (value)
			member(o, "value", value);
		jg_out_str(o, "}");
	}
	if (m->knock) {
		o = entry(e, L_KNOCK, p, ent, id);
		member(o, "outcome", fate_name(m->fate));
		if (m->fate == JG_QUARANTINE) {
			member(o, "field", "XMDM");
			member(o, "code", "format");
			member(o, "why", "the project's 项目代码 is malformed in this record too");
		} else if (ent == JG_E_CASE) {
			member(o, "field", "");
			member(o, "code", "");
			member(o, "why", "none of its steps reached the outbox: no business day");
		} else {
			member(o, "field", "");
			member(o, "code", "");
			member(o, "why", "its parent is not in the outbox: it waits");
		}
		if (parent_key)
			member(o, "parent", parent_key);
		jg_out_str(o, "}");
	}
	if (m->change) {
		char t[32];

		rs->corrected += m->change == 1;
		rs->withdrawn += m->change == 2;
		o = entry(e, L_CHANGES, p, ent, id);
		member(o, "change", m->change == 1 ? "corrected" : "withdrawn");
		member(o, "field",
		       m->change == 2	     ? "SJYXBS"
		       : ent == JG_E_PROJECT ? "ZTZE"
					     : "LXR");
		jg_fmt_time(t, sizeof(t), m->upd2, JG_T_ISO);
		member(o, "update_time", t);
		jg_out_str(o, "}");
	}
}

void jg_expect_violations(struct jg_expect *e, const struct jg_project *p,
			  const struct jg_catalog *c,
			  void (*case_no)(const struct jg_project *, const struct jg_case *, char *,
					  size_t))
{
	struct region_stats *rs = cur(e);
	int i, k;

	for (i = 0; i < p->viol.n; i++) {
		const struct jg_violation *v = &p->viol.v[i];
		const struct jg_case *first = &p->cases.v[v->cases[0]];
		struct jg_out *o = &e->list[L_VIOL];
		char gcdm[64], no[48];

		if (v->second_return)
			rs->second_return++;
		else
			rs->overrun++;
		snprintf(gcdm, sizeof(gcdm), "%s%s", p->xmdm_out, p->engs.v[first->eng].sub);
		jg_out_str(o, e->n[L_VIOL]++ ? ",\n{\"region\":" : "{\"region\":");
		jg_out_jstr(o, p->g->code);
		member(o, "system", p->g->sys == JG_CC ? "changchun" : "provincial");
		member(o, "kind", v->second_return ? "second_return" : "overrun");
		member(o, "gcdm", gcdm);
		member(o, "item", c->items[first->item].code);
		if (!v->second_return) {
			jg_out_str(o, ",\"limit\":");
			jg_out_long(o, c->items[first->item].promised_days);
			jg_out_str(o, ",\"elapsed\":");
			jg_out_long(o, first->elapsed);
		}
		jg_out_str(o, ",\"cases\":[");
		for (k = 0; k < v->ncases; k++) {
			case_no(p, &p->cases.v[v->cases[k]], no, sizeof(no));
			if (k)
				jg_out_str(o, ",");
			jg_out_jstr(o, no);
		}
		jg_out_str(o, "]}");
	}
}

void jg_expect_project_done(struct jg_expect *e, const struct jg_project *p)
{
	struct region_stats *rs = cur(e);

	rs->projects++;
	rs->engs += p->engs.n;
}

/* ---- the file ---- */

static void obj_key(struct jg_out *o, int *n, const char *k)
{
	jg_out_str(o, (*n)++ ? ",\"" : "\"");
	jg_out_str(o, k);
	jg_out_str(o, "\":");
}

/* Lines per file (CSV: rows after the header). Directories are not named: the file
 * describes the dataset wherever it is, and two runs into two places compare equal. */
static void files(struct jg_out *o, const struct jg_sink *s, int cc)
{
	char name[64];
	int i, n = 0;

	jg_out_str(o, "{");
	for (i = 0; i < JG_E_COUNT; i++) {
		snprintf(name, sizeof(name), cc ? "%s.jsonl" : "%s.csv",
			 cc ? jg_entities[i].cc : jg_entities[i].prov);
		obj_key(o, &n, name);
		jg_out_long(o, s->out[i].lines);
	}
	for (i = 0; i < JG_E_COUNT && !cc; i++) {
		if (i != JG_E_PROJECT && i != JG_E_CASE) /* the only tables with changes */
			continue;
		snprintf(name, sizeof(name), "changes/%s.csv", jg_entities[i].prov);
		obj_key(o, &n, name);
		jg_out_long(o, s->changes[i].lines);
	}
	jg_out_str(o, "}");
}

static void table_counts(struct jg_out *o, const struct region_stats *rs, int fate,
			 const struct jg_catalog *c)
{
	int i, n = 0;

	jg_out_str(o, "{");
	if (fate == JG_DELIVERED) {
		/* the definition tables: the gateway reports them itself from the catalog */
		obj_key(o, &n, "SPGL_SPLCXXB");
		jg_out_long(o, c->nflows);
		obj_key(o, &n, "SPGL_SPJDXXB");
		jg_out_long(o, (long)c->nflows * c->nstages);
		obj_key(o, &n, "SPGL_SPSXJBXXB");
		jg_out_long(o, c->nitems);
		obj_key(o, &n, "SPGL_SPLCJBLSXXXB");
		jg_out_long(o, (long)c->nflows * c->nitems);
	}
	for (i = 0; i < JG_E_COUNT; i++) {
		obj_key(o, &n, jg_entities[i].table);
		jg_out_long(o, rs->fate[i][fate]);
	}
	jg_out_str(o, "}");
}

static int copy_list(struct jg_expect *e, int list, struct jg_out *o)
{
	char buf[65536];
	size_t n;

	/* what is still in the list's buffer, then the whole file from its start */
	if (e->list[list].n &&
	    fwrite(e->list[list].buf, 1, e->list[list].n, e->tmp[list]) != e->list[list].n)
		return -1;
	e->list[list].n = 0;
	if (e->list[list].failed || fflush(e->tmp[list]) || fseek(e->tmp[list], 0, SEEK_SET))
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), e->tmp[list])) > 0)
		jg_out_mem(o, buf, n);
	return ferror(e->tmp[list]) ? -1 : 0;
}

int jg_expect_write(struct jg_expect *e, const char *path, const struct jg_expect_meta *m,
		    char *err, size_t errlen)
{
	static const char *const lists[L_COUNT] = {"dirty", "knock_on", "changes", "violations"};
	struct jg_out o;
	char t[64];
	int i, k, n, rc;
	const char *slash = strrchr(path, '/');
	char dir[4096];

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (jg_out_open(&o, dir, slash ? slash + 1 : path, err, errlen))
		return -1;
	jg_out_str(&o, "{\"generator\":\"spgw-jilin-gen\",\"format\":1,\"seed\":");
	snprintf(t, sizeof(t), "%llu", (unsigned long long)m->seed);
	jg_out_str(&o, t);
	jg_out_str(&o, ",\"from\":");
	jg_out_jstr(&o, m->from);
	jg_out_str(&o, ",\"to\":");
	jg_out_jstr(&o, m->to);
	snprintf(t, sizeof(t), "%.6g", m->dirty);
	jg_out_str(&o, ",\"dirty_fraction\":");
	jg_out_str(&o, t);
	jg_out_str(&o, ",\"kinds\":[");
	for (i = 0, n = 0; i < JG_W_COUNT; i++) {
		int dup = 0;

		for (k = 0; k < i; k++)
			dup |= jg_kind_on[k] && strcmp(jg_kinds[k].kind, jg_kinds[i].kind) == 0;
		if (!jg_kind_on[i] || dup)
			continue;
		jg_out_str(&o, n++ ? "," : "");
		jg_out_jstr(&o, jg_kinds[i].kind);
	}
	jg_out_str(&o, "],\n\"catalog\":{\"flows\":");
	jg_out_long(&o, m->cat->nflows);
	jg_out_str(&o, ",\"stages\":");
	jg_out_long(&o, (long)m->cat->nflows * m->cat->nstages);
	jg_out_str(&o, ",\"items\":");
	jg_out_long(&o, m->cat->nitems);
	jg_out_str(&o, ",\"links\":");
	jg_out_long(&o, (long)m->cat->nflows * m->cat->nitems);
	jg_out_str(&o, "},\n\"files\":{");
	n = 0;
	if (m->cc) {
		obj_key(&o, &n, "changchun");
		files(&o, m->cc, 1);
	}
	if (m->prov) {
		obj_key(&o, &n, "provincial");
		files(&o, m->prov, 0);
	}
	jg_out_str(&o, "},\n\"regions\":{");
	for (i = 0; i < e->nr; i++) {
		const struct region_stats *rs = &e->r[i];
		int f = 0;

		jg_out_str(&o, i ? ",\n\"" : "\n\"");
		jg_out_str(&o, rs->g->code);
		jg_out_str(&o, "\":{");
		obj_key(&o, &f, "system");
		jg_out_jstr(&o, rs->g->sys == JG_CC ? "changchun" : "provincial");
		obj_key(&o, &f, "name");
		jg_out_jstr(&o, rs->g->name);
		obj_key(&o, &f, "projects");
		jg_out_long(&o, rs->projects);
		obj_key(&o, &f, "engineerings");
		jg_out_long(&o, rs->engs);
		obj_key(&o, &f, "records");
		jg_out_str(&o, "{");
		for (k = 0, n = 0; k < JG_E_COUNT; k++) {
			obj_key(&o, &n,
				rs->g->sys == JG_CC ? jg_entities[k].cc : jg_entities[k].prov);
			jg_out_long(&o, rs->records[k]);
		}
		jg_out_str(&o, "}");
		obj_key(&o, &f, "delivered");
		table_counts(&o, rs, JG_DELIVERED, m->cat);
		obj_key(&o, &f, "quarantined");
		table_counts(&o, rs, JG_QUARANTINE, m->cat);
		obj_key(&o, &f, "held");
		table_counts(&o, rs, JG_HELD, m->cat);
		obj_key(&o, &f, "eligible");
		jg_out_long(&o, rs->eligible);
		obj_key(&o, &f, "dirty");
		jg_out_long(&o, rs->dirty);
		obj_key(&o, &f, "corrected");
		jg_out_long(&o, rs->corrected);
		obj_key(&o, &f, "withdrawn");
		jg_out_long(&o, rs->withdrawn);
		obj_key(&o, &f, "second_returns");
		jg_out_long(&o, rs->second_return);
		obj_key(&o, &f, "overruns");
		jg_out_long(&o, rs->overrun);
		jg_out_str(&o, "}");
	}
	jg_out_str(&o, "}");
	for (i = 0; i < L_COUNT; i++) {
		jg_out_str(&o, ",\n\"");
		jg_out_str(&o, lists[i]);
		jg_out_str(&o, "\":[\n");
		if (copy_list(e, i, &o)) {
			snprintf(err, errlen, "%s: cannot read back the temporary %s list: %s",
				 path, lists[i], strerror(errno));
			jg_out_close(&o, err, errlen);
			return -1;
		}
		jg_out_str(&o, "]");
	}
	jg_out_str(&o, "}");
	jg_out_nl(&o);
	rc = jg_out_close(&o, err, errlen);
	return rc;
}
