/*
 * A project as Changchun's approval system holds it (jilin spec §4): DIR/<entity>.jsonl,
 * one record per line exactly as GET /api/v2/<entity> returns it, in Changchun's own names,
 * text codes and mixed date formats, money in 元.
 *
 * A record corrected or withdrawn later appears twice in its file: the first version, and
 * further down the same id with a newer update_time (contrib/changchun-sim serves the newest
 * version as of --as-of). A gbk_text or bad_gbk record carries "_charset": "gbk" and its
 * name as GBK bytes, one "\u00XX" escape per byte; the simulator serves such a record's page
 * as charset=GBK with those bytes raw.
 */
#include <stdio.h>
#include <string.h>

#include "jg.h"

static const char *const flow_type_text[6] = {"",
					      "政府投资房屋建筑类",
					      "政府投资城市基础设施线性工程类",
					      "一般社会投资类",
					      "社会投资中小型工程",
					      "社会投资带方案出让用地"};
static const char *const land_text[3] = {"划拨", "出让", "其他"};
static const char *const lxlx_text[4] = {"", "审批", "核准", "备案"};
static const char *const nature_text[4] = {"新建", "扩建", "改建", "迁建"};
static const char *const fund_text[3] = {"财政资金", "自筹资金", "其他"};
static const char *const role_text[6] = {"",	     "建设单位", "勘察单位",
					 "设计单位", "施工单位", "监理单位"};
static const char *const status_text[16] = {"",		"收件",		"已撤件",	"受理",
					    "退回",	"不予受理",	"补正开始",	"补正结束",
					    "开始办理", "特别程序开始", "特别程序结束", "办结",
					    "容缺办结", "不予许可",	"撤回",		"撤销"};
static const char *const proc_text[4] = {"听证", "专家评审", "公示", "其他"};

int jg_changchun_open(struct jg_sink *s, const char *dir, char *err, size_t errlen)
{
	int i;
	char name[64];

	memset(s, 0, sizeof(*s));
	for (i = 0; i < JG_E_COUNT; i++) {
		snprintf(name, sizeof(name), "%s.jsonl", jg_entities[i].cc);
		if (jg_out_open(&s->out[i], dir, name, err, errlen))
			return -1;
	}
	s->open = 1;
	return 0;
}

int jg_sink_close(struct jg_sink *s, char *err, size_t errlen)
{
	int i, rc = 0;

	for (i = 0; i < JG_E_COUNT; i++) {
		if (jg_out_close(&s->out[i], err, errlen))
			rc = -1;
		if (jg_out_close(&s->changes[i], err, errlen))
			rc = -1;
	}
	s->open = 0;
	return rc;
}

/* ---- values ---- */

/* 123456789.5 -> "123,456,789.50" (sep) or "123456789.50" */
static void money(char *out, size_t n, double v, int sep)
{
	char digits[32];
	long long whole = (long long)v;
	int cents = (int)((v - (double)whole) * 100 + 0.5), len, i, k = 0;

	if (cents >= 100) {
		whole++;
		cents -= 100;
	}
	len = snprintf(digits, sizeof(digits), "%lld", whole);
	for (i = 0; i < len && k + 2 < (int)n; i++) {
		out[k++] = digits[i];
		if (sep && (len - i - 1) % 3 == 0 && i + 1 < len)
			out[k++] = ',';
	}
	snprintf(out + k, n - (size_t)k, ".%02d", cents);
}

static void day_text(char *out, size_t n, int64_t day, int style)
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
	case 3:
		snprintf(out, n, "%d年%d月%d日", y, m, d);
		break;
	default:
		snprintf(out, n, "%04d-%02d-%02d", y, m, d);
		break;
	}
}

/* Fields that may end in spaces (a form that does not trim): 3 in 100 */
static void maybe_pad(struct jg_rng *r, char *s, size_t n)
{
	size_t len = strlen(s);

	if (jg_chance(r, 0.03) && len + 3 < n)
		snprintf(s + len, n - len, "%s", jg_chance(r, 0.5) ? " " : "  ");
}

static void case_no(const struct jg_project *p, const struct jg_case *cs, char *out, size_t n)
{
	(void)p;
	snprintf(out, n, "CCSL%010ld", cs->id);
}

struct w {
	struct jg_sink *s;
	struct jg_project *p;
	const struct jg_catalog *c;
	struct jg_serials *ser;
	struct jg_expect *e;
	struct jg_rng *r;
};

static void common(struct jg_json *j, const char *id, int64_t upd)
{
	char t[32];

	jg_fmt_time(t, sizeof(t), upd, JG_T_ISO);
	jg_json_str(j, "id", id);
	jg_json_str(j, "update_time", t);
}

static void gbk_field(struct jg_json *j, const char *k, const char *text, int bad)
{
	unsigned char b[512];
	long n = jg_to_gbk(text, b, sizeof(b) - 1);

	if (n < 2) { /* cannot happen for the names chosen (jg_dirty.c checked them) */
		jg_json_str(j, k, text);
		return;
	}
	if (bad) { /* a 0xFF after the first character: no GBK lead byte, no UTF-8 byte */
		memmove(b + 3, b + 2, (size_t)n - 2);
		b[2] = 0xFF;
		n++;
	}
	jg_json_bytes(j, k, b, (size_t)n);
}

/* ---- projects and units ---- */

static void write_project(struct w *x, int ei, int version)
{
	struct jg_project *p = x->p;
	struct jg_eng *e = &p->engs.v[ei];
	const struct jg_flow *fl = jg_catalog_flow(x->c, p->type);
	struct jg_json j;
	char id[24], t[64], code[96], name[240], buf[64];
	int dirt = e->m.dirt, y, m, d;
	int64_t upd = version ? e->m.upd2 : e->m.upd;
	double invest = p->invest_yuan;

	snprintf(id, sizeof(id), "CCP%08ld", e->id);
	jg_json_begin(&j, &x->s->out[JG_E_PROJECT]);
	common(&j, id, upd);
	jg_json_long(&j, "is_deleted", version && e->m.change == 2);
	jg_json_str(&j, "delete_reason",
		    version && e->m.change == 2
			    ? jg_void_reasons[jg_below(x->r, (uint32_t)jg_nvoid_reasons)]
			    : "");
	/* a clerk's IME: full-width digits in 3 of 100 clean project codes */
	if (dirt < 0 && jg_chance(x->r, 0.03))
		jg_fullwidth(code, sizeof(code), p->xmdm_out);
	else
		snprintf(code, sizeof(code), "%s", p->xmdm_out);
	jg_json_str(&j, "project_code", code);
	jg_json_str(&j, "sub_code", e->sub);
	jg_json_str(&j, "sub_scope", e->scope);
	if (dirt == JG_W_GBK_XMMC || dirt == JG_W_BADGBK_XMMC) {
		gbk_field(&j, "project_name", p->name, dirt == JG_W_BADGBK_XMMC);
	} else {
		snprintf(name, sizeof(name), "%s", p->name);
		maybe_pad(x->r, name, sizeof(name));
		jg_json_str(&j, "project_name", name);
	}
	jg_json_str(&j, "flow_code", fl->code);
	jg_json_str(&j, "flow_version", fl->version);
	jg_json_str(&j, "flow_type", flow_type_text[p->type]);
	jg_json_str(&j, "invest_source", p->type <= 2 ? "政府投资" : "社会投资");
	jg_json_str(&j, "land_method", land_text[p->land]);
	jg_json_str(&j, "land_with_design", p->with_design ? "是" : "否");
	jg_json_str(&j, "area_assessed", p->assessed ? "是" : "否");
	jg_json_str(&j, "approval_type", lxlx_text[p->lxlx]);
	jg_json_str(&j, "project_class", p->gcfl_house ? "房屋建筑" : "市政");
	jg_json_str(&j, "build_nature", dirt == JG_W_CODE_JSXZ ? "翻建" : nature_text[p->nature]);
	jg_json_str(&j, "fund_attr", fund_text[p->fund]);
	snprintf(buf, sizeof(buf), "%s%s", jg_chance(x->r, 0.5) ? "E" : "", p->gbhy);
	if (p->industry == 70)
		snprintf(buf, sizeof(buf), "%s%s", jg_chance(x->r, 0.5) ? "K" : "", p->gbhy);
	else if (p->industry == 78)
		snprintf(buf, sizeof(buf), "%s%s", jg_chance(x->r, 0.5) ? "N" : "", p->gbhy);
	jg_json_str(&j, "industry", buf);
	/* 拟开工 / 拟建成: month precision as Changchun's form allows, or a day */
	jg_civil_from_days(p->plan_start, &y, &m, &d);
	if (dirt == JG_W_DATE_NKGSJ)
		snprintf(t, sizeof(t), "%04d-02-30", y);
	else if (dirt == JG_W_START_AFTER_END)
		day_text(t, sizeof(t), p->plan_end + 365, 0);
	else if (p->start_month_only)
		snprintf(t, sizeof(t), jg_chance(x->r, 0.5) ? "%d年%d月" : "%04d-%02d", y, m);
	else
		day_text(t, sizeof(t), p->plan_start, (int)jg_below(x->r, 4));
	jg_json_str(&j, "plan_start", t);
	jg_civil_from_days(p->plan_end, &y, &m, &d);
	if (dirt == JG_W_DATE_NJCSJ)
		snprintf(t, sizeof(t), "%04d-13-%02d", y, d);
	else
		day_text(t, sizeof(t), p->plan_end,
			 dirt == JG_W_START_AFTER_END ? 0 : (int)jg_below(x->r, 2));
	jg_json_str(&j, "plan_end", t);
	jg_json_str(&j, "finished", e->finish_day >= 0 ? "是" : "否");
	if (e->finish_day >= 0)
		day_text(t, sizeof(t), e->finish_day, 0);
	else
		t[0] = '\0';
	jg_json_str(&j, "finished_date", t);
	if (version && e->m.change == 1) /* the corrected field: the investment */
		invest = (double)(long long)(invest * (1.05 + jg_below(x->r, 20) / 100.0));
	money(t, sizeof(t), invest, jg_chance(x->r, 0.7));
	jg_json_str(&j, "total_invest_yuan", t);
	jg_json_str(&j, "county_code", p->g->counties[p->county]);
	jg_json_str(&j, "address", p->address);
	jg_json_str(&j, "scale", p->scale);
	money(t, sizeof(t), p->land_area, jg_chance(x->r, 0.5));
	jg_json_str(&j, "land_area", t);
	money(t, sizeof(t), p->floor_area, jg_chance(x->r, 0.5));
	jg_json_str(&j, "floor_area", t);
	switch (jg_below(x->r, 4)) {
	case 0:
		/* epoch milliseconds of 09:00-17:00 Beijing time that day */
		snprintf(t, sizeof(t), "%lld",
			 (long long)((p->sbsj * 86400 + 9 * 3600 + (int64_t)jg_below(x->r, 28800) -
				      8 * 3600) *
				     1000));
		jg_json_num(&j, "apply_date", t);
		break;
	default:
		day_text(t, sizeof(t), p->sbsj, (int)jg_below(x->r, 3));
		jg_json_str(&j, "apply_date", t);
		break;
	}
	jg_json_str(&j, "builder_name", p->builder);
	{
		char u[19];

		snprintf(u, sizeof(u), "%s", p->builder_uscc);
		if (dirt == JG_W_USCC_BUILDER)
			u[17] = jg_uscc_chars[(strchr(jg_uscc_chars, u[17]) - jg_uscc_chars + 1 +
					       (int)jg_below(x->r, 29)) %
					      31];
		jg_json_str(&j, "builder_uscc", u);
	}
	jg_json_str(&j, "builder_type",
		    !p->builder_gov || strstr(p->builder, "公司") ? "企业" : "机关");
	snprintf(t, sizeof(t), "%.6f,%.6f", p->lng, p->lat);
	jg_json_str(&j, "lng_lat", t);
	if (dirt == JG_W_GBK_XMMC || dirt == JG_W_BADGBK_XMMC)
		jg_json_str(&j, "_charset", "gbk");
	jg_json_end(&j);
	if (!version)
		jg_expect_record(x->e, p, JG_E_PROJECT, id, &e->m,
				 dirt == JG_W_GBK_XMMC ? p->name : NULL, NULL);
}

static void orphan_code(struct w *x, char *out, size_t n)
{
	/* a registered-looking code whose serial no project of this region has */
	snprintf(out, n, "%04d-%s-%02d-%02d-%06ld", x->p->year, x->p->g->counties[x->p->county],
		 x->p->industry, x->p->lxlx, 900000 + ++x->ser->orphan);
}

static void write_unit(struct w *x, struct jg_unit *u)
{
	struct jg_project *p = x->p;
	struct jg_json j;
	char id[24], code[40], uscc[19], name[200], pk[64];
	int dirt = u->m.dirt;

	snprintf(id, sizeof(id), "CCU%09ld", u->id);
	jg_json_begin(&j, &x->s->out[JG_E_UNIT]);
	common(&j, id, u->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	if (u->orphan)
		orphan_code(x, code, sizeof(code));
	else
		snprintf(code, sizeof(code), "%s", p->xmdm_out);
	jg_json_str(&j, "project_code", code);
	jg_json_str(&j, "sub_code", u->orphan ? "" : p->engs.v[u->eng].sub);
	snprintf(uscc, sizeof(uscc), "%s", u->uscc);
	if (dirt == JG_W_USCC_UNIT)
		uscc[17] = jg_uscc_chars[(strchr(jg_uscc_chars, uscc[17]) - jg_uscc_chars + 1 +
					  (int)jg_below(x->r, 29)) %
					 31];
	jg_json_str(&j, "uscc", uscc);
	if (dirt == JG_W_GBK_DWMC || dirt == JG_W_BADGBK_DWMC) {
		gbk_field(&j, "name", u->name, dirt == JG_W_BADGBK_DWMC);
	} else {
		snprintf(name, sizeof(name), "%s", u->name);
		maybe_pad(x->r, name, sizeof(name));
		jg_json_str(&j, "name", name);
	}
	jg_json_str(&j, "role", dirt == JG_W_CODE_DWLX ? "代建单位" : role_text[u->role]);
	if (dirt == JG_W_GBK_DWMC || dirt == JG_W_BADGBK_DWMC)
		jg_json_str(&j, "_charset", "gbk");
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "XM-CCP%08ld", p->engs.v[u->eng].id);
	jg_expect_record(x->e, p, JG_E_UNIT, id, &u->m, dirt == JG_W_GBK_DWMC ? u->name : NULL, pk);
}

/* ---- cases and what hangs off them ---- */

static void case_head(struct w *x, struct jg_json *j, const struct jg_case *cs, const char *no)
{
	const struct jg_eng *e = &x->p->engs.v[cs->eng];

	if (no)
		jg_json_str(j, "case_no", no);
	jg_json_str(j, "project_code", x->p->xmdm_out);
	jg_json_str(j, "sub_code", e->sub);
}

static void write_case(struct w *x, int ci, int version)
{
	struct jg_project *p = x->p;
	struct jg_case *cs = &p->cases.v[ci];
	const struct jg_item *it = &x->c->items[cs->item];
	const struct jg_flow *fl = jg_catalog_flow(x->c, p->type);
	struct jg_json j;
	char id[24], t[160], uscc[19], pk[64];

	case_no(p, cs, id, sizeof(id));
	jg_json_begin(&j, &x->s->out[JG_E_CASE]);
	common(&j, id, version ? cs->m.upd2 : cs->m.upd);
	jg_json_long(&j, "is_deleted", version && cs->m.change == 2);
	jg_json_str(&j, "delete_reason",
		    version && cs->m.change == 2
			    ? jg_void_reasons[jg_below(x->r, (uint32_t)jg_nvoid_reasons)]
			    : "");
	case_head(x, &j, cs, NULL);
	jg_json_str(&j, "item_code", it->code);
	jg_json_str(&j, "item_version", it->version);
	jg_json_str(&j, "flow_code", fl->code);
	jg_json_str(&j, "flow_version", fl->version);
	jg_dept_uscc(p->g, cs->dept, uscc);
	jg_json_str(&j, "dept_code", uscc);
	jg_dept_name(p->g, it->dept, t, sizeof(t));
	maybe_pad(x->r, t, sizeof(t));
	jg_json_str(&j, "dept_name", t);
	jg_json_str(&j, "accept_mode",
		    cs->m.dirt == JG_W_CODE_SLFS ? "邮寄受理"
		    : cs->slfs == 1		 ? "窗口受理"
						 : "网上申请");
	jg_json_str(&j, "public_mode", "主动公开");
	if (cs->parallel)
		snprintf(t, sizeof(t), "CCBL%08ld", cs->parallel);
	else
		t[0] = '\0';
	jg_json_str(&j, "parallel_no", t);
	jg_json_long(&j, "limit_days", it->promised_days);
	if (version && cs->m.change == 1) { /* the corrected field: the contact */
		jg_name_person(x->r, cs->contact, sizeof(cs->contact));
		jg_name_mobile(x->r, cs->mobile);
	}
	jg_json_str(&j, "contact", cs->contact);
	jg_json_str(&j, "mobile", cs->mobile);
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "XM-CCP%08ld", p->engs.v[cs->eng].id);
	if (!version)
		jg_expect_record(x->e, p, JG_E_CASE, id, &cs->m, NULL, pk);
}

static void write_step(struct w *x, struct jg_step *st)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[st->cs];
	const struct jg_item *it = &x->c->items[cs->item];
	struct jg_json j;
	char id[24], no[24], t[160], uscc[19], pk[32];
	const char *op = "";
	int dirt = st->m.dirt;

	snprintf(id, sizeof(id), "CCB%010ld", st->id);
	case_no(p, cs, no, sizeof(no));
	jg_json_begin(&j, &x->s->out[JG_E_STEP]);
	common(&j, id, st->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	case_head(x, &j, cs, no);
	jg_json_str(&j, "office", jg_dept_office(x->r, it->dept));
	jg_name_person(x->r, t, sizeof(t));
	jg_json_str(&j, "handler", t);
	jg_json_str(&j, "status",
		    dirt == JG_W_CODE_BLZT  ? "待定"
		    : dirt == JG_W_SEQUENCE ? status_text[10]
					    : status_text[st->blzt]);
	switch (st->blzt) {
	case 3:
		op = "材料齐全，予以受理。";
		break;
	case 4:
		op = jg_return_reasons[st->text];
		break;
	case 6:
		op = "请补正相关材料。";
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
	jg_json_str(&j, "opinion", op);
	if (dirt == JG_W_DATE_BLSJ) {
		char full[32];

		jg_fmt_time(full, sizeof(full), st->t, JG_T_ISO);
		memcpy(full + 5, "02-30", 5);
		jg_json_str(&j, "handle_time", full);
	} else {
		jg_fmt_time(t, sizeof(t), st->t, st->tfmt);
		jg_json_str(&j, "handle_time", t);
	}
	jg_dept_name(p->g, it->dept, t, sizeof(t));
	jg_json_str(&j, "dept_name", t);
	jg_dept_uscc(p->g, cs->dept, uscc);
	jg_json_str(&j, "dept_uscc", uscc);
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "SL-%s", no);
	jg_expect_record(x->e, p, JG_E_STEP, id, &st->m, NULL, pk);
}

static void write_doc(struct w *x, struct jg_doc *d)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[d->cs];
	const struct jg_item *it = &x->c->items[cs->item];
	struct jg_json j;
	char id[24], no[24], t[640], ab[64], pk[32];
	int y, m, dd;

	snprintf(id, sizeof(id), "CCD%09ld", d->id);
	case_no(p, cs, no, sizeof(no));
	jg_json_begin(&j, &x->s->out[JG_E_DOC]);
	common(&j, id, d->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	case_head(x, &j, cs, no);
	jg_civil_from_days(d->day, &y, &m, &dd);
	jg_dept_abbr(p->g, it->dept, ab, sizeof(ab));
	snprintf(t, sizeof(t), "%s字〔%d〕%d号", ab, y, d->seq);
	jg_json_str(&j, "doc_no", t);
	snprintf(t, sizeof(t), "关于%s%s的批复", p->name, it->name);
	jg_json_str(&j, "title", t);
	day_text(t, sizeof(t), d->day, jg_chance(x->r, 0.8) ? 0 : 1);
	jg_json_str(&j, "issue_date", t);
	if (d->m.dirt == JG_W_DATE_YXQX)
		snprintf(t, sizeof(t), "%04d-02-29", y + (y % 4 == 3 ? 2 : 1)); /* a common year */
	else if (d->until < 0)
		snprintf(t, sizeof(t), "长期");
	else
		day_text(t, sizeof(t), d->until, 0);
	jg_json_str(&j, "valid_until", t);
	snprintf(t, sizeof(t), "%s.pdf", no);
	jg_json_str(&j, "file_name", t);
	jg_json_str(&j, "file_type", "pdf");
	snprintf(t, sizeof(t), "https://zwfw.changchun.gov.cn/spj/file/%016llx",
		 (unsigned long long)jg_next(x->r));
	jg_json_str(&j, "file_url", t);
	/* 审批结果类型 as the system stores it: the national SPJGLX code (labels unknown:
	 * 10 for an approval, 20 for one with materials still owed) */
	jg_json_str(&j, "result_type", cs->end == 12 ? "20" : "10");
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "SL-%s", no);
	jg_expect_record(x->e, p, JG_E_DOC, id, &d->m, NULL, pk);
}

static void write_proc(struct w *x, struct jg_proc *pr)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[pr->cs];
	struct jg_json j;
	char id[24], no[24], t[64], pk[32];

	snprintf(id, sizeof(id), "CCT%09ld", pr->id);
	case_no(p, cs, no, sizeof(no));
	jg_json_begin(&j, &x->s->out[JG_E_PROC]);
	common(&j, id, pr->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	case_head(x, &j, cs, no);
	jg_json_str(&j, "kind", pr->m.dirt == JG_W_CODE_TBCX ? "座谈会" : proc_text[pr->kind]);
	jg_json_str(&j, "name", jg_proc_names[pr->kind][jg_below(x->r, 3)]);
	day_text(t, sizeof(t), pr->day, jg_chance(x->r, 0.8) ? 0 : 1);
	jg_json_str(&j, "start_date", t);
	jg_json_str(&j, "limit_type", pr->natural ? "自然日" : "工作日");
	jg_json_long(&j, "limit_days", pr->limit);
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "SL-%s", no);
	jg_expect_record(x->e, p, JG_E_PROC, id, &pr->m, NULL, pk);
}

static void write_mat(struct w *x, struct jg_mat *mt)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[mt->cs];
	struct jg_json j;
	char id[24], no[24], t[64], pk[32];

	snprintf(id, sizeof(id), "CCM%010ld", mt->id);
	if (mt->orphan)
		snprintf(no, sizeof(no), "CCSL9%09d", (int)(++x->ser->orphan % 1000000000));
	else
		case_no(p, cs, no, sizeof(no));
	jg_json_begin(&j, &x->s->out[JG_E_MAT]);
	common(&j, id, mt->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	case_head(x, &j, cs, no);
	jg_json_str(&j, "name", jg_material_names[mt->name]);
	snprintf(t, sizeof(t), "M%016llx", (unsigned long long)jg_next(x->r));
	jg_json_str(&j, "file_id", t);
	jg_json_long(&j, "copies", mt->copies);
	jg_json_str(&j, "kind", mt->paper ? "纸质件" : "电子件");
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "SL-%s", no);
	jg_expect_record(x->e, p, JG_E_MAT, id, &mt->m, NULL, pk);
}

static void write_opinion(struct w *x, struct jg_opinion *op)
{
	struct jg_project *p = x->p;
	const struct jg_case *cs = &p->cases.v[op->cs];
	struct jg_json j;
	char id[24], no[24], t[160], uscc[19], pk[32];

	snprintf(id, sizeof(id), "CCO%09ld", op->id);
	case_no(p, cs, no, sizeof(no));
	jg_json_begin(&j, &x->s->out[JG_E_OPINION]);
	common(&j, id, op->m.upd);
	jg_json_long(&j, "is_deleted", 0);
	case_head(x, &j, cs, no);
	jg_dept_uscc(p->g, op->dept, uscc);
	jg_json_str(&j, "dept_code", uscc);
	jg_dept_name(p->g, x->c->depts[op->dept], t, sizeof(t));
	jg_json_str(&j, "dept_name", t);
	jg_fmt_time(t, sizeof(t), op->t, JG_T_ISO);
	jg_json_str(&j, "reply_time", t);
	jg_name_person(x->r, t, sizeof(t));
	jg_json_str(&j, "handler", t);
	jg_json_str(&j, "opinion", jg_opinion_texts[op->text]);
	snprintf(t, sizeof(t), "意见-%s-%ld.pdf", no, op->id);
	jg_json_str(&j, "file_name", t);
	snprintf(t, sizeof(t), "https://zwfw.changchun.gov.cn/spj/file/%016llx",
		 (unsigned long long)jg_next(x->r));
	jg_json_str(&j, "file_url", t);
	jg_json_end(&j);
	snprintf(pk, sizeof(pk), "SL-%s", no);
	jg_expect_record(x->e, p, JG_E_OPINION, id, &op->m, NULL, pk);
}

void jg_changchun_write(struct jg_sink *s, struct jg_project *p, const struct jg_catalog *c,
			struct jg_serials *ser, struct jg_expect *e)
{
	struct w x = {s, p, c, ser, e, &p->rng};
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
	/* later versions: the same ids again, newer update_time */
	for (i = 0; i < p->engs.n; i++)
		if (p->engs.v[i].m.change)
			write_project(&x, i, 1);
	for (i = 0; i < p->cases.n; i++)
		if (p->cases.v[i].m.change)
			write_case(&x, i, 1);
	jg_expect_violations(e, p, c, case_no);
	jg_expect_project_done(e, p);
}
