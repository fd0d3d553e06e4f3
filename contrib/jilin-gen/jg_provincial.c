/*
 * A project as the provincial platform holds it (jilin spec §5; the tables of
 * contrib/provincial-db/schema.sql): DIR/<table>.csv in PostgreSQL COPY CSV format with a
 * header line naming the columns, one file per table for all eight cities (area_code tells
 * them apart), loaded by contrib/provincial-db/load.sh.
 *
 * row_id is the city code times 10^9 plus a serial per table, so it is unique across the
 * cities and the same whichever cities one run writes. Codes are the platform's own (short
 * letters or numbers), money in 万元, nkgsj/njcsj legacy text in several forms. The files are
 * bytes: UTF-8, except the names of gbk_text / bad_gbk rows, which are GBK bytes, as legacy
 * rows are in the SQL_ASCII database (load them without conversion).
 *
 * Later versions (a correction or a withdrawal; same row_id, newer upd_time) go to
 * DIR/changes/<table>.csv, to be applied as updates after a first pull.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg.h"

static const char *const columns[JG_E_COUNT] = {
	"row_id,area_code,xmdm,gcdm,gcfw,xmmc,lclx,splcbm,splcbbh,tzly,tdhqfs,tdsfdsjfa,"
	"sfwcqypg,lxlx,gcfl,jsxz,xmzjsx,gbhy,nkgsj,njcsj,xmsfwqbj,xmwqbjsj,ztze,jsddxzqh,jsdd,"
	"jsgmjnr,ydmj,jzmj,sbsj,jsdw,jsdwdm,jsdwlx,xmjwdzb,upd_time,yxbz,zfyy",
	"row_id,area_code,xmdm,gcdm,dwdm,dwmc,dwlx,upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,sxbm,sxbbh,splcbm,splcbbh,slbh,bmbm,bmmc,slfs,gkfs,blspslbm,"
	"sxblsx,lxr,lxrsjh,upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,slbh,blcs,blr,blzt,blyj,blsj,dwmc,dwdm,upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,slbh,pfwh,pfwjbt,pfrq,pfwjyxqx,fjmc,fjlx,fjid,spjglx,zzbh,"
	"upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,slbh,tbcx,tbcxmc,tbcxkssj,tbcxsxlx,tbcxsx,upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,slbh,clmlbh,clmc,clfl,cllx,clid,sqfs,sqsl,upd_time,yxbz,zfyy",
	"row_id,area_code,gcdm,slbh,bldwdm,bldwmc,fksj,blr,fkyj,fjmc,fjid,upd_time,yxbz,zfyy",
};

static const char *const tzly[2] = {"ZF", "SH"};
static const char *const tdhqfs[3] = {"HB", "CR", "QT"};
static const char *const lxlx[4] = {"", "SP", "HZ", "BA"};
static const char *const jsxz[4] = {"XJ", "KJ", "GJ", "QJ"};
static const char *const xmzjsx[3] = {"CZ", "ZC", "QT"};
static const char *const dwlx[6] = {"", "JS", "KC", "SJ", "SG", "JL"};
static const char *const blzt[16] = {"",   "10", "12", "20", "21", "22", "30", "31",
				     "40", "50", "51", "90", "91", "92", "98", "99"};
static const char *const tbcx[4] = {"TZ", "ZJ", "GS", "QT"};

static int open_one(struct jg_out *o, const char *dir, const char *name, const char *cols,
		    char *err, size_t errlen)
{
	if (jg_out_open(o, dir, name, err, errlen))
		return -1;
	jg_out_str(o, cols);
	jg_out_mem(o, "\n", 1); /* the header is not a row: not counted in o->lines */
	return 0;
}

int jg_provincial_open(struct jg_sink *s, const char *dir, char *err, size_t errlen)
{
	char name[64];
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < JG_E_COUNT; i++) {
		snprintf(name, sizeof(name), "%s.csv", jg_entities[i].prov);
		if (open_one(&s->out[i], dir, name, columns[i], err, errlen))
			return -1;
	}
	snprintf(name, sizeof(name), "changes/%s.csv", jg_entities[JG_E_PROJECT].prov);
	if (open_one(&s->changes[JG_E_PROJECT], dir, name, columns[JG_E_PROJECT], err, errlen))
		return -1;
	snprintf(name, sizeof(name), "changes/%s.csv", jg_entities[JG_E_CASE].prov);
	if (open_one(&s->changes[JG_E_CASE], dir, name, columns[JG_E_CASE], err, errlen))
		return -1;
	s->open = 1;
	return 0;
}

struct w {
	struct jg_sink *s;
	struct jg_project *p;
	const struct jg_catalog *c;
	struct jg_serials *ser;
	struct jg_expect *e;
	struct jg_rng *r;
	long base; /* city code * 10^9 */
};

static void row_id(struct w *x, long serial, char *out, size_t n)
{
	snprintf(out, n, "%ld", x->base + serial);
}

static void case_no(const struct jg_project *p, const struct jg_case *cs, char *out, size_t n)
{
	snprintf(out, n, "JLSP%s%010ld", p->g->code, cs->id);
}

static void tail(struct jg_csv *c, int64_t upd, int voided, const char *why)
{
	char t[40];

	jg_fmt_time(t, sizeof(t), upd, JG_T_MS);
	jg_csv_str(c, t);
	jg_csv_long(c, voided ? 0 : 1);
	jg_csv_str(c, voided ? why : NULL);
	jg_csv_end(c);
}

static void day_legacy(char *out, size_t n, int64_t day, int style)
{
	int y, m, d;

	jg_civil_from_days(day, &y, &m, &d);
	switch (style) {
	case 1:
		snprintf(out, n, "%d/%d/%d", y, m, d);
		break;
	case 2:
		snprintf(out, n, "%04d%02d%02d", y, m, d);
		break;
	default:
		snprintf(out, n, "%04d-%02d-%02d", y, m, d);
		break;
	}
}

static void gbk_cell(struct jg_csv *c, const char *text, int bad)
{
	unsigned char b[512];
	long n = jg_to_gbk(text, b, sizeof(b) - 1);

	if (n < 2) {
		jg_csv_str(c, text);
		return;
	}
	if (bad) { /* a 0xFF after the first character: no GBK lead byte, no UTF-8 byte */
		memmove(b + 3, b + 2, (size_t)n - 2);
		b[2] = 0xFF;
		n++;
	}
	jg_csv_bytes(c, b, (size_t)n);
}

static void wrong_check(struct jg_rng *r, char u[19])
{
	u[17] = jg_uscc_chars[(strchr(jg_uscc_chars, u[17]) - jg_uscc_chars + 1 +
			       (int)jg_below(r, 29)) %
			      31];
}

static void write_project(struct w *x, int ei, int version)
{
	struct jg_project *p = x->p;
	struct jg_eng *e = &p->engs.v[ei];
	const struct jg_flow *fl = jg_catalog_flow(x->c, p->type);
	struct jg_out *o = version ? &x->s->changes[JG_E_PROJECT] : &x->s->out[JG_E_PROJECT];
	struct jg_csv c;
	char id[24], t[64], gcdm[64], u[19];
	int dirt = e->m.dirt, y, m, d, voided = version && e->m.change == 2;
	double invest = p->invest_yuan;

	row_id(x, e->id, id, sizeof(id));
	jg_csv_begin(&c, o);
	jg_csv_str(&c, id);
	jg_csv_str(&c, p->g->code);
	jg_csv_str(&c, p->xmdm_out);
	snprintf(gcdm, sizeof(gcdm), "%s%s", p->xmdm_out, e->sub);
	jg_csv_str(&c, gcdm);
	jg_csv_str(&c, e->scope[0] ? e->scope : NULL);
	if (dirt == JG_W_GBK_XMMC || dirt == JG_W_BADGBK_XMMC)
		gbk_cell(&c, p->name, dirt == JG_W_BADGBK_XMMC);
	else
		jg_csv_str(&c, p->name);
	jg_csv_long(&c, p->type);
	jg_csv_str(&c, fl->code);
	jg_csv_str(&c, fl->version);
	jg_csv_str(&c, tzly[p->type > 2]);
	jg_csv_str(&c, tdhqfs[p->land]);
	jg_csv_long(&c, p->with_design);
	jg_csv_long(&c, p->assessed);
	jg_csv_str(&c, lxlx[p->lxlx]);
	jg_csv_str(&c, p->gcfl_house ? "23" : "31");
	jg_csv_str(&c, dirt == JG_W_CODE_JSXZ ? "FJ" : jsxz[p->nature]);
	jg_csv_str(&c, xmzjsx[p->fund]);
	jg_csv_str(&c, p->gbhy);
	/* legacy text dates */
	jg_civil_from_days(p->plan_start, &y, &m, &d);
	if (dirt == JG_W_DATE_NKGSJ)
		snprintf(t, sizeof(t), "%04d-02-30", y);
	else if (dirt == JG_W_START_AFTER_END)
		day_legacy(t, sizeof(t), p->plan_end + 365, 0);
	else if (p->start_month_only)
		snprintf(t, sizeof(t), jg_chance(x->r, 0.5) ? "%04d-%02d" : "%d/%d", y, m);
	else
		day_legacy(t, sizeof(t), p->plan_start,
			   jg_weighted(x->r, (const int[]){6, 2, 2}, 3));
	jg_csv_str(&c, t);
	jg_civil_from_days(p->plan_end, &y, &m, &d);
	if (dirt == JG_W_DATE_NJCSJ)
		snprintf(t, sizeof(t), "%04d-13-%02d", y, d);
	else
		day_legacy(t, sizeof(t), p->plan_end,
			   dirt == JG_W_START_AFTER_END
				   ? 0
				   : jg_weighted(x->r, (const int[]){6, 2, 2}, 3));
	jg_csv_str(&c, t);
	jg_csv_long(&c, e->finish_day >= 0);
	if (e->finish_day >= 0)
		jg_fmt_day(t, sizeof(t), e->finish_day);
	jg_csv_str(&c, e->finish_day >= 0 ? t : NULL);
	if (version && e->m.change == 1) /* the corrected field: the investment */
		invest = (double)(long long)(invest * (1.05 + jg_below(x->r, 20) / 100.0));
	snprintf(t, sizeof(t), "%.4f", invest / 10000.0);
	jg_csv_str(&c, t);
	jg_csv_str(&c, p->g->counties[p->county]);
	jg_csv_str(&c, p->address);
	jg_csv_str(&c, p->scale);
	snprintf(t, sizeof(t), "%.2f", p->land_area);
	jg_csv_str(&c, t);
	snprintf(t, sizeof(t), "%.2f", p->floor_area);
	jg_csv_str(&c, t);
	jg_fmt_day(t, sizeof(t), p->sbsj);
	jg_csv_str(&c, t);
	jg_csv_str(&c, p->builder);
	snprintf(u, sizeof(u), "%s", p->builder_uscc);
	if (dirt == JG_W_USCC_BUILDER)
		wrong_check(x->r, u);
	jg_csv_str(&c, u);
	jg_csv_long(&c, !p->builder_gov || strstr(p->builder, "公司") ? 1 : 2);
	snprintf(t, sizeof(t), "%.6f,%.6f", p->lng, p->lat);
	jg_csv_str(&c, t);
	tail(&c, version ? e->m.upd2 : e->m.upd, voided,
	     voided ? jg_void_reasons[jg_below(x->r, (uint32_t)jg_nvoid_reasons)] : NULL);
	if (!version)
		jg_expect_record(x->e, p, JG_E_PROJECT, id, &e->m,
				 dirt == JG_W_GBK_XMMC ? p->name : NULL, NULL);
}

static void write_unit(struct w *x, struct jg_unit *u)
{
	struct jg_project *p = x->p;
	struct jg_csv c;
	char id[24], code[40], gcdm[64], uscc[19], pk[40];
	int dirt = u->m.dirt;

	row_id(x, u->id, id, sizeof(id));
	jg_csv_begin(&c, &x->s->out[JG_E_UNIT]);
	jg_csv_str(&c, id);
	jg_csv_str(&c, p->g->code);
	if (u->orphan) /* a code whose serial no project of this city has */
		snprintf(code, sizeof(code), "%04d-%s-%02d-%02d-%06ld", p->year,
			 p->g->counties[p->county], p->industry, p->lxlx,
			 900000 + ++x->ser->orphan);
	else
		snprintf(code, sizeof(code), "%s", p->xmdm_out);
	jg_csv_str(&c, code);
	snprintf(gcdm, sizeof(gcdm), "%s%s", code, u->orphan ? "" : p->engs.v[u->eng].sub);
	jg_csv_str(&c, gcdm);
	snprintf(uscc, sizeof(uscc), "%s", u->uscc);
	if (dirt == JG_W_USCC_UNIT)
		wrong_check(x->r, uscc);
	jg_csv_str(&c, uscc);
	if (dirt == JG_W_GBK_DWMC || dirt == JG_W_BADGBK_DWMC)
		gbk_cell(&c, u->name, dirt == JG_W_BADGBK_DWMC);
	else
		jg_csv_str(&c, u->name);
	jg_csv_str(&c, dirt == JG_W_CODE_DWLX ? "DJ" : dwlx[u->role]);
	tail(&c, u->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "XM-%ld", x->base + p->engs.v[u->eng].id);
	jg_expect_record(x->e, p, JG_E_UNIT, id, &u->m, dirt == JG_W_GBK_DWMC ? u->name : NULL, pk);
}

static void case_head(struct w *x, struct jg_csv *c, const char *id, const struct jg_case *cs,
		      const char *no)
{
	char gcdm[64];

	jg_csv_str(c, id);
	jg_csv_str(c, x->p->g->code);
	snprintf(gcdm, sizeof(gcdm), "%s%s", x->p->xmdm_out, x->p->engs.v[cs->eng].sub);
	jg_csv_str(c, gcdm);
	if (no)
		jg_csv_str(c, no);
}

static void write_case(struct w *x, int ci, int version)
{
	struct jg_project *p = x->p;
	struct jg_case *cs = &p->cases.v[ci];
	const struct jg_item *it = &x->c->items[cs->item];
	const struct jg_flow *fl = jg_catalog_flow(x->c, p->type);
	struct jg_out *o = version ? &x->s->changes[JG_E_CASE] : &x->s->out[JG_E_CASE];
	struct jg_csv c;
	char id[24], no[40], t[160], pk[40];
	int voided = version && cs->m.change == 2;

	row_id(x, cs->id, id, sizeof(id));
	case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, o);
	case_head(x, &c, id, cs, NULL);
	jg_csv_str(&c, it->code);
	jg_csv_str(&c, it->version);
	jg_csv_str(&c, fl->code);
	jg_csv_str(&c, fl->version);
	jg_csv_str(&c, no);
	jg_dept_uscc(p->g, cs->dept, t);
	jg_csv_str(&c, t);
	jg_dept_name(p->g, it->dept, t, sizeof(t));
	jg_csv_str(&c, t);
	jg_csv_long(&c, cs->m.dirt == JG_W_CODE_SLFS ? 9 : cs->slfs);
	jg_csv_long(&c, 1);
	if (cs->parallel)
		snprintf(t, sizeof(t), "BL%s%08ld", p->g->code, cs->parallel);
	jg_csv_str(&c, cs->parallel ? t : NULL);
	jg_csv_long(&c, it->promised_days);
	if (version && cs->m.change == 1) { /* the corrected field: the contact */
		jg_name_person(x->r, cs->contact, sizeof(cs->contact));
		jg_name_mobile(x->r, cs->mobile);
	}
	jg_csv_str(&c, cs->contact);
	jg_csv_str(&c, cs->mobile);
	tail(&c, version ? cs->m.upd2 : cs->m.upd, voided,
	     voided ? jg_void_reasons[jg_below(x->r, (uint32_t)jg_nvoid_reasons)] : NULL);
	snprintf(pk, sizeof(pk), "XM-%ld", x->base + p->engs.v[cs->eng].id);
	if (!version)
		jg_expect_record(x->e, p, JG_E_CASE, id, &cs->m, NULL, pk);
}

static void write_step(struct w *x, struct jg_step *st)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[st->cs];
	const struct jg_item *it = &x->c->items[cs->item];
	struct jg_csv c;
	char id[24], no[40], t[160], pk[48];
	const char *op = NULL;
	int dirt = st->m.dirt;

	row_id(x, st->id, id, sizeof(id));
	case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, &x->s->out[JG_E_STEP]);
	case_head(x, &c, id, cs, no);
	jg_csv_str(&c, jg_dept_office(x->r, it->dept));
	jg_name_person(x->r, t, sizeof(t));
	jg_csv_str(&c, t);
	jg_csv_str(&c, dirt == JG_W_CODE_BLZT  ? "00"
		       : dirt == JG_W_SEQUENCE ? blzt[10]
					       : blzt[st->blzt]);
	switch (st->blzt) {
	case 3:
		op = "材料齐全，予以受理。";
		break;
	case 4:
		op = jg_return_reasons[st->text];
		break;
	case 11:
		op = "准予许可。";
		break;
	case 12:
		op = "容缺办结，请于30日内补齐材料。";
		break;
	case 13:
		op = jg_refuse_reasons[st->text];
		break;
	default:
		break;
	}
	jg_csv_str(&c, op);
	jg_fmt_time(t, sizeof(t), st->t, JG_T_ISO);
	jg_csv_str(&c, t);
	jg_dept_name(p->g, it->dept, t, sizeof(t));
	jg_csv_str(&c, t);
	jg_dept_uscc(p->g, cs->dept, t);
	jg_csv_str(&c, t);
	tail(&c, st->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "SL-%ld", x->base + cs->id);
	jg_expect_record(x->e, p, JG_E_STEP, id, &st->m, NULL, pk);
}

static void write_doc(struct w *x, struct jg_doc *d)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[d->cs];
	const struct jg_item *it = &x->c->items[cs->item];
	struct jg_csv c;
	char id[24], no[40], t[640], ab[64], pk[48];
	int y, m, dd;

	row_id(x, d->id, id, sizeof(id));
	case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, &x->s->out[JG_E_DOC]);
	case_head(x, &c, id, cs, no);
	jg_civil_from_days(d->day, &y, &m, &dd);
	jg_dept_abbr(p->g, it->dept, ab, sizeof(ab));
	snprintf(t, sizeof(t), "%s字〔%d〕%d号", ab, y, d->seq);
	jg_csv_str(&c, t);
	snprintf(t, sizeof(t), "关于%s%s的批复", p->name, it->name);
	jg_csv_str(&c, t);
	jg_fmt_day(t, sizeof(t), d->day);
	jg_csv_str(&c, t);
	if (d->until < 0)
		snprintf(t, sizeof(t), "9999-01-01");
	else
		jg_fmt_day(t, sizeof(t), d->until);
	jg_csv_str(&c, t);
	snprintf(t, sizeof(t), "%s.pdf", no);
	jg_csv_str(&c, t);
	jg_csv_str(&c, "pdf");
	snprintf(t, sizeof(t), "http://10.22.%d.8/jlsp/fj/%016llx", p->g->index + 1,
		 (unsigned long long)jg_next(x->r));
	jg_csv_str(&c, t);
	jg_csv_str(&c, cs->end == 12 ? "20" : "10");
	jg_csv_str(&c, NULL);
	tail(&c, d->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "SL-%ld", x->base + cs->id);
	jg_expect_record(x->e, p, JG_E_DOC, id, &d->m, NULL, pk);
}

static void write_proc(struct w *x, struct jg_proc *pr)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[pr->cs];
	struct jg_csv c;
	char id[24], no[40], t[64], pk[48];

	row_id(x, pr->id, id, sizeof(id));
	case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, &x->s->out[JG_E_PROC]);
	case_head(x, &c, id, cs, no);
	jg_csv_str(&c, pr->m.dirt == JG_W_CODE_TBCX ? "ZT" : tbcx[pr->kind]);
	jg_csv_str(&c, jg_proc_names[pr->kind][jg_below(x->r, 3)]);
	jg_fmt_day(t, sizeof(t), pr->day);
	jg_csv_str(&c, t);
	jg_csv_long(&c, pr->natural ? 2 : 1);
	jg_csv_long(&c, pr->limit);
	tail(&c, pr->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "SL-%ld", x->base + cs->id);
	jg_expect_record(x->e, p, JG_E_PROC, id, &pr->m, NULL, pk);
}

static void write_mat(struct w *x, struct jg_mat *mt)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[mt->cs];
	struct jg_csv c;
	char id[24], no[40], t[96], pk[48];

	row_id(x, mt->id, id, sizeof(id));
	if (mt->orphan)
		snprintf(no, sizeof(no), "JLSP%s9%09ld", p->g->code, ++x->ser->orphan);
	else
		case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, &x->s->out[JG_E_MAT]);
	case_head(x, &c, id, cs, no);
	snprintf(t, sizeof(t), "%s-%02d", x->c->items[cs->item].code, mt->name + 1);
	jg_csv_str(&c, t);
	jg_csv_str(&c, jg_material_names[mt->name]);
	jg_csv_long(&c, 1);
	jg_csv_str(&c, mt->paper ? "纸质" : "pdf");
	snprintf(t, sizeof(t), "http://10.22.%d.8/jlsp/cl/%016llx", p->g->index + 1,
		 (unsigned long long)jg_next(x->r));
	jg_csv_str(&c, t);
	jg_csv_long(&c, mt->paper ? 1 : 2);
	jg_csv_long(&c, mt->copies);
	tail(&c, mt->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "SL-%ld", x->base + cs->id);
	jg_expect_record(x->e, p, JG_E_MAT, id, &mt->m, NULL, pk);
}

static void write_opinion(struct w *x, struct jg_opinion *op)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[op->cs];
	struct jg_csv c;
	char id[24], no[40], t[160], pk[48];

	row_id(x, op->id, id, sizeof(id));
	case_no(p, cs, no, sizeof(no));
	jg_csv_begin(&c, &x->s->out[JG_E_OPINION]);
	case_head(x, &c, id, cs, no);
	jg_dept_uscc(p->g, op->dept, t);
	jg_csv_str(&c, t);
	jg_dept_name(p->g, x->c->depts[op->dept], t, sizeof(t));
	jg_csv_str(&c, t);
	jg_fmt_time(t, sizeof(t), op->t, JG_T_ISO);
	jg_csv_str(&c, t);
	jg_name_person(x->r, t, sizeof(t));
	jg_csv_str(&c, t);
	jg_csv_str(&c, jg_opinion_texts[op->text]);
	snprintf(t, sizeof(t), "意见-%s-%ld.pdf", no, op->id);
	jg_csv_str(&c, t);
	snprintf(t, sizeof(t), "http://10.22.%d.8/jlsp/fj/%016llx", p->g->index + 1,
		 (unsigned long long)jg_next(x->r));
	jg_csv_str(&c, t);
	tail(&c, op->m.upd, 0, NULL);
	snprintf(pk, sizeof(pk), "SL-%ld", x->base + cs->id);
	jg_expect_record(x->e, p, JG_E_OPINION, id, &op->m, NULL, pk);
}

void jg_provincial_write(struct jg_sink *s, struct jg_project *p, const struct jg_catalog *c,
			 struct jg_serials *ser, struct jg_expect *e)
{
	struct w x = {s, p, c, ser, e, &p->rng, atol(p->g->code) * 1000000000L};
	int i;

	for (i = 0; i < p->engs.n; i++)
		write_project(&x, i, 0);
	for (i = 0; i < p->units.n; i++)
		write_unit(&x, &p->units.v[i]);
	for (i = 0; i < p->cases.n; i++)
		write_case(&x, i, 0);
	for (i = 0; i < p->steps.n; i++)
		write_step(&x, &p->steps.v[i]);
	for (i = 0; i < p->docs.n; i++)
		write_doc(&x, &p->docs.v[i]);
	for (i = 0; i < p->procs.n; i++)
		write_proc(&x, &p->procs.v[i]);
	for (i = 0; i < p->mats.n; i++)
		write_mat(&x, &p->mats.v[i]);
	for (i = 0; i < p->ops.n; i++)
		write_opinion(&x, &p->ops.v[i]);
	for (i = 0; i < p->engs.n; i++)
		if (p->engs.v[i].m.change)
			write_project(&x, i, 1);
	for (i = 0; i < p->cases.n; i++)
		if (p->cases.v[i].m.change)
			write_case(&x, i, 1);
	jg_expect_violations(e, p, c, case_no);
	jg_expect_project_done(e, p);
}
