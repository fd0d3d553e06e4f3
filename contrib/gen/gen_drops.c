/*
 * spgw-gen-drops: deterministic demo and benchmark data for the files plugin and the
 * files-demo mapping (config/mappings/files-demo.json).
 *
 * From a seed it writes export drops as a city system would: projects_<region>_<n>.<ext>
 * (one row per project, with its units as a JSON list) and steps_<region>_<n>.<ext> (the
 * handling events of each project's cases), CSV or JSON Lines, UTF-8 or GBK. A known
 * fraction of rows is dirty on purpose, and expected.json says exactly how many records
 * each table should receive and how many quarantine entries of each kind to expect, so
 * tests can assert that exactly those, and only those, are refused.
 *
 * Clean rows are messy the way real exports are (full-width digits in codes, dates in
 * several formats, amounts in 元) but map to valid SPGL records.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct opts {
	uint64_t seed;
	long projects;
	int dirty_pct;
	int jsonl;
	int gbk;
	long rows_per_file;
	int cases;
	const char *region;
	const char *out;
};

static uint64_t rng_state;

/* splitmix64: small, fast, and the same sequence on every machine */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long pick(long n)
{
	return (long)(rnd() % (uint64_t)n);
}

static const char uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* A 统一社会信用代码 with a correct check character (GB 32100), or a wrong one. */
static void make_uscc(char out[19], const char *region, int wrong)
{
	static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	int i, sum = 0, check;

	out[0] = '9';
	out[1] = '1';
	memcpy(out + 2, region, 6);
	for (i = 8; i < 17; i++)
		out[i] = uscc_chars[pick(31)];
	for (i = 0; i < 17; i++)
		sum += (int)(strchr(uscc_chars, out[i]) - uscc_chars) * w[i];
	check = (31 - sum % 31) % 31;
	if (wrong)
		check = (check + 1 + (int)pick(29)) % 31;
	out[17] = uscc_chars[check];
	out[18] = '\0';
}

static const char *const phrases[] = {
	"新建办公楼一栋", "地上十八层地下二层", "框架剪力墙结构", "配套建设道路给排水",
	"绿化及室外工程", "供热管网改造", "新建教学楼及附属用房", "城市道路拓宽改造",
	"雨污分流管网建设", "标准化厂房建设", "住宅小区及商业配套", "停车场及充电设施",
	"桥梁维修加固", "污水处理厂提标改造", "老旧小区综合整治", "文化体育中心建设",
};
static const char *const towns[] = { "朝阳区", "南关区", "宽城区", "二道区", "绿园区",
				      "双阳区", "九台区", "经济技术开发区", "高新区", "新区" };
static const char *const names[] = { "城市建设投资集团有限公司", "房地产开发有限公司",
				      "建筑工程有限公司", "勘察设计研究院有限公司",
				      "工程监理咨询有限公司", "市政工程有限公司" };
static const char *const units[] = { "建设单位", "勘察单位", "设计单位", "施工单位",
				      "监理单位" };

/* Text output: UTF-8, or converted to GBK through iconv as a legacy system would write. */
struct out {
	FILE *f;
	iconv_t cd;
	int gbk;
};

static int out_write(struct out *o, const char *s, size_t n)
{
	char buf[65536];

	if (!o->gbk)
		return fwrite(s, 1, n, o->f) == n ? 0 : -1;
	while (n) {
		char *in = (char *)s, *op = buf;
		size_t inleft = n, outleft = sizeof(buf);

		if (iconv(o->cd, &in, &inleft, &op, &outleft) == (size_t)-1 && errno != E2BIG) {
			fprintf(stderr, "spgw-gen-drops: cannot convert to GBK: %s\n",
				strerror(errno));
			return -1;
		}
		fwrite(buf, 1, sizeof(buf) - outleft, o->f);
		s = in;
		n = inleft;
	}
	return 0;
}

/* One CSV field: quoted when it holds a comma, quote or newline (RFC 4180). */
static void csv_put(char **p, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\n\r") != NULL;

	if (quote)
		*(*p)++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*(*p)++ = '"';
		*(*p)++ = *s;
	}
	if (quote)
		*(*p)++ = '"';
	*(*p)++ = last ? '\n' : ',';
}

/* One JSON string member "k":"v" with the escapes our values may need. */
static void json_put(char **p, const char *k, const char *v, int first)
{
	*p += sprintf(*p, "%s\"%s\":\"", first ? "{" : ",", k);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			*(*p)++ = '\\';
		*(*p)++ = *v;
	}
	*(*p)++ = '"';
}

static void emit_row(struct out *o, int jsonl, const char *const *cols, const char *const *vals,
		     int n)
{
	static char line[1 << 16];
	char *p = line;
	int i;

	for (i = 0; i < n; i++) {
		if (jsonl)
			json_put(&p, cols[i], vals[i], i == 0);
		else
			csv_put(&p, vals[i], i == n - 1);
	}
	if (jsonl) {
		*p++ = '}';
		*p++ = '\n';
	}
	out_write(o, line, (size_t)(p - line));
}

static void emit_header(struct out *o, int jsonl, const char *const *cols, int n)
{
	if (!jsonl)
		emit_row(o, 0, cols, cols, n);
}

/* Full-width digits and hyphen, as some clerks type them: the mapping must fix these. */
static void fullwidth(char *dst, const char *src)
{
	for (; *src; src++) {
		if (*src >= '0' && *src <= '9') {
			*dst++ = (char)0xEF;
			*dst++ = (char)0xBC;
			*dst++ = (char)(0x90 + (*src - '0'));
		} else if (*src == '-') {
			*dst++ = (char)0xEF;
			*dst++ = (char)0xBC;
			*dst++ = (char)0x8D;
		} else {
			*dst++ = *src;
		}
	}
	*dst = '\0';
}

struct expect {
	long xmjbxxb, xmdwxxb, blxxxxb;            /* records the outbox should hold */
	long bad_uscc, bad_date, bad_code, bad_blzt, bad_row; /* quarantine entries */
	long bad_seq; /* steps after a refused 受理: out of order without it (sequence.c) */
};

static int open_out(struct out *o, const struct opts *op, const char *table, long n)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s_%s_%04ld.%s", op->out, table, op->region, n,
		 op->jsonl ? "jsonl" : "csv");
	o->f = fopen(path, "wb");
	if (!o->f) {
		fprintf(stderr, "spgw-gen-drops: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* mkdir -p: the drop directory may be several levels deep */
static int make_dirs(const char *path)
{
	char tmp[4096];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: spgw-gen-drops --out DIR [--region 220100] [--projects N] [--seed S]\n"
		   "                      [--dirty PERCENT] [--jsonl] [--gbk] [--rows-per-file N]\n"
		   "                      [--cases PER_PROJECT (default 2, 4 steps each)]\n");
}

int main(int argc, char **argv)
{
	static const char *const pcols[] = {
		"id", "xmdm", "gcdm", "gcfw", "xmmc", "xmtzly", "tdhqfs", "tdsfdsjfa", "sfwcqypg",
		"splclx", "lxlx", "gcfl", "jsxz", "xmzjsx", "gbhy", "nkgsj", "njcsj", "ztze",
		"jsddxzqh", "jsdd", "jsgmjnr", "ydmj", "jzmj", "sbsj", "splcbm", "splcbbh", "jsdw",
		"jsdwdm", "xmsfwqbj", "xmwqbjsj", "spdw",
	};
	static const char *const scols[] = { "gcdm", "spsxslbm", "blcs", "blr", "blzt",
					     "blyj", "blsj", "dwmc", "dwdm" };
	static const char *const splclx[] = { "政府投资房屋建筑类", "一般社会投资类",
					      "社会投资中小型工程" };
	static const char *const lxlx[] = { "审批", "核准", "备案" };
	struct opts op = { 1, 100, 5, 0, 0, 100000, 2, "220100", NULL };
	struct expect ex;
	struct out po, so;
	long i, pfile = 0, prow = 0, srow = 0, sfile = 0;
	int a;
	FILE *ef;
	char path[4096];

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--out") && a + 1 < argc)
			op.out = argv[++a];
		else if (!strcmp(argv[a], "--region") && a + 1 < argc)
			op.region = argv[++a];
		else if (!strcmp(argv[a], "--projects") && a + 1 < argc)
			op.projects = atol(argv[++a]);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			op.seed = strtoull(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--dirty") && a + 1 < argc)
			op.dirty_pct = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--rows-per-file") && a + 1 < argc)
			op.rows_per_file = atol(argv[++a]);
		else if (!strcmp(argv[a], "--cases") && a + 1 < argc)
			op.cases = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--jsonl"))
			op.jsonl = 1;
		else if (!strcmp(argv[a], "--gbk"))
			op.gbk = 1;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!op.out || strlen(op.region) != 6 || op.projects < 0 || op.rows_per_file < 1 ||
	    op.dirty_pct < 0 || op.dirty_pct > 100 || op.cases < 0) {
		usage(stderr);
		return 2;
	}
	if (make_dirs(op.out)) {
		fprintf(stderr, "spgw-gen-drops: %s: %s\n", op.out, strerror(errno));
		return 1;
	}
	rng_state = op.seed * 1000003u + (uint64_t)atol(op.region);
	memset(&ex, 0, sizeof(ex));
	memset(&po, 0, sizeof(po));
	memset(&so, 0, sizeof(so));
	po.gbk = so.gbk = op.gbk;
	if (op.gbk) {
		po.cd = iconv_open("GB18030", "UTF-8");
		so.cd = iconv_open("GB18030", "UTF-8");
		if (po.cd == (iconv_t)-1 || so.cd == (iconv_t)-1) {
			fprintf(stderr, "spgw-gen-drops: iconv has no GB18030\n");
			return 1;
		}
	}
	for (i = 0; i < op.projects; i++) {
		char id[32], xmdm[32], xmdm_out[96], xmmc[256], ztze[32], nkgsj[32], njcsj[32];
		char sbsj[40], jsgmjnr[2048], jsdd[256], ydmj[32], jzmj[32], jsdwdm[19], jsdw[256];
		char spdw[2048], gcfl[8], tdhqfs[8], jsxz[8], xmzjsx[8], county[8], gbhy[8];
		const char *vals[31];
		int dirty = (int)pick(100) < op.dirty_pct ? 1 + (int)pick(5) : 0;
		int y = 2026, m = 1 + (int)pick(11), d = 1 + (int)pick(28), nu, u, k, nsteps, c, broken;
		char *p;

		if (prow == 0) {
			if (po.f)
				fclose(po.f);
			if (open_out(&po, &op, "projects", pfile++))
				return 1;
			emit_header(&po, op.jsonl, pcols, 31);
		}
		prow = (prow + 1) % op.rows_per_file;
		snprintf(id, sizeof(id), "%s%08ld", op.region + 2, i + 1);
		snprintf(xmdm, sizeof(xmdm), "%04d-%.4s%02d-%02d-%02d-%06ld", 2500 + m,
			 op.region, 1 + (int)pick(9), 47 + (int)pick(3), 1 + (int)pick(3),
			 (i + 1) % 1000000);
		/* one in ten clerks types the code in full-width characters */
		if (pick(10) == 0)
			fullwidth(xmdm_out, xmdm);
		else
			snprintf(xmdm_out, sizeof(xmdm_out), "%s", xmdm);
		/* a real county-level code: every prefecture has an 02 district (Yanbian: 01),
		 * Changchun 02-06 */
		snprintf(county, sizeof(county), "%.4s%02d", op.region,
			 !strncmp(op.region, "2224", 4) ? 1
			 : !strncmp(op.region, "2201", 4) ? 2 + (int)pick(5) : 2);
		snprintf(xmmc, sizeof(xmmc), "%s%s%s项目", towns[pick(10)], phrases[pick(16)],
			 phrases[pick(16)]);
		p = jsgmjnr;
		for (k = 0; k < 20; k++)
			p += sprintf(p, "%s，", phrases[pick(16)]);
		sprintf(p, "总建筑面积约%ld平方米。", 1000 + pick(90000));
		snprintf(jsdd, sizeof(jsdd), "吉林省%s%s路%ld号", towns[pick(10)],
			 phrases[pick(16)], 1 + pick(999));
		snprintf(ztze, sizeof(ztze), "%ld.%02ld", 1000000 + pick(900000000), pick(100));
		snprintf(ydmj, sizeof(ydmj), "%ld.%02ld", 500 + pick(50000), pick(100));
		snprintf(jzmj, sizeof(jzmj), "%ld.%ld", 1000 + pick(90000), pick(10));
		snprintf(nkgsj, sizeof(nkgsj), "%d/%d/%d", y + 1, m, d);
		snprintf(njcsj, sizeof(njcsj), "%d年%d月%d日", y + 3, m, d);
		switch (pick(3)) {
		case 0: snprintf(sbsj, sizeof(sbsj), "%d/%d/%d", y, m, d); break;
		case 1: snprintf(sbsj, sizeof(sbsj), "%d%02d%02d", y, m, d); break;
		default: snprintf(sbsj, sizeof(sbsj), "%d-%02d-%02d 09:%02d", y, m, d,
				  (int)pick(60)); break;
		}
		make_uscc(jsdwdm, op.region, dirty == 1);
		snprintf(jsdw, sizeof(jsdw), "吉林省%s%s", towns[pick(10)], names[pick(6)]);
		snprintf(gcfl, sizeof(gcfl), "%d", 1 + (int)pick(31));
		snprintf(tdhqfs, sizeof(tdhqfs), "%d", 2 + 2 * (int)pick(2));
		snprintf(jsxz, sizeof(jsxz), "%d", 1 + (int)pick(4));
		snprintf(xmzjsx, sizeof(xmzjsx), "%d", 1 + (int)pick(3));
		snprintf(gbhy, sizeof(gbhy), "%s47%02d", pick(2) ? "E" : "", 10 + (int)pick(10));
		if (dirty == 2)
			snprintf(sbsj, sizeof(sbsj), "%d-02-30", y); /* no such day */
		nu = 1 + (int)pick(3);
		p = spdw;
		p += sprintf(p, "[");
		for (u = 0; u < nu; u++) {
			char uscc[19];

			if (u == 0)
				memcpy(uscc, jsdwdm, sizeof(uscc));
			else
				make_uscc(uscc, op.region, 0);
			if (u == 0 && dirty == 1)
				make_uscc(uscc, op.region, 0); /* the unit itself stays valid */
			p += sprintf(p, "%s{\"name\":\"%s%s\",\"uscc\":\"%s\",\"type\":\"%s\"}",
				     u ? "," : "", u ? towns[pick(10)] : jsdw,
				     u ? names[pick(6)] : "", uscc, units[u == 0 ? 0 : 1 + u]);
		}
		sprintf(p, "]");
		vals[0] = id; vals[1] = xmdm_out; vals[2] = ""; vals[3] = ""; vals[4] = xmmc;
		vals[5] = pick(2) ? "政府投资" : "社会投资"; vals[6] = tdhqfs;
		vals[7] = pick(2) ? "是" : "否"; vals[8] = "否"; vals[9] = splclx[pick(3)];
		vals[10] = dirty == 3 ? "特批" : lxlx[pick(3)]; vals[11] = gcfl; vals[12] = jsxz;
		vals[13] = xmzjsx; vals[14] = gbhy; vals[15] = nkgsj; vals[16] = njcsj;
		vals[17] = ztze; vals[18] = county; vals[19] = jsdd; vals[20] = jsgmjnr;
		vals[21] = ydmj; vals[22] = jzmj; vals[23] = sbsj; vals[24] = "JL-SPLC-01";
		vals[25] = "1.0"; vals[26] = jsdw; vals[27] = jsdwdm; vals[28] = "否";
		vals[29] = ""; vals[30] = spdw;
		emit_row(&po, op.jsonl, pcols, vals, 31);
		if (dirty == 1)
			ex.bad_uscc++;
		else if (dirty == 2)
			ex.bad_date++;
		else if (dirty == 3)
			ex.bad_code++;
		else
			ex.xmjbxxb++;
		ex.xmdwxxb += nu;

		/* the project's cases: received, accepted, processing, done */
		nsteps = 4;
		for (c = 0; c < op.cases; c++) {
			static const char *const labels[] = { "收件", "受理", "部门开始办理", "办结" };
			char slbm[48], blsj[40], dwdm[19], gcdm[32];

			snprintf(slbm, sizeof(slbm), "%s-%ld-%d", op.region, i + 1, c + 1);
			snprintf(gcdm, sizeof(gcdm), "%s", xmdm);
			make_uscc(dwdm, op.region, 0);
			broken = 0;
			for (k = 0; k < nsteps; k++) {
				const char *sv[9];
				int bad = dirty == 4 && c == 0 && k == 1;
				int badrow = dirty == 5 && c == 0 && k == 2;

				if (srow == 0) {
					if (so.f)
						fclose(so.f);
					if (open_out(&so, &op, "steps", sfile++))
						return 1;
					emit_header(&so, op.jsonl, scols, 9);
				}
				srow = (srow + 1) % op.rows_per_file;
				snprintf(blsj, sizeof(blsj), "%d-%02d-%02d %02d:%02d:%02d", y, m, d,
					 9 + k, (int)pick(60), (int)pick(60));
				sv[0] = gcdm; sv[1] = slbm; sv[2] = "行政审批科"; sv[3] = "张伟";
				sv[4] = bad ? "待定" : labels[k];
				sv[5] = k == 3 ? "同意" : ""; sv[6] = blsj;
				sv[7] = "长春市政务服务和数字化建设管理局"; sv[8] = dwdm;
				if (badrow && !op.jsonl) {
					/* a row cut short by the export: too few columns */
					char line[512];
					int n = snprintf(line, sizeof(line), "%s,%s,%s\n", gcdm, slbm,
							 "行政审批科");

					out_write(&so, line, (size_t)n);
					ex.bad_row++;
					continue;
				}
				if (badrow) {
					static const char junk[] = "{\"gcdm\": \"truncated\n";

					out_write(&so, junk, sizeof(junk) - 1);
					ex.bad_row++;
					continue;
				}
				emit_row(&so, op.jsonl, scols, sv, 9);
				if (bad)
					ex.bad_blzt++;
				else if (broken)
					ex.bad_seq++;
				else
					ex.blxxxxb++;
				/* with its 受理 (3) refused, the case's later steps break its order */
				broken |= bad;
			}
		}
	}
	if (po.f)
		fclose(po.f);
	if (so.f)
		fclose(so.f);
	snprintf(path, sizeof(path), "%s/expected.json", op.out);
	ef = fopen(path, "w");
	if (!ef) {
		fprintf(stderr, "spgw-gen-drops: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(ef,
		"{\"region\":\"%s\",\"seed\":%llu,\"projects\":%ld,\n"
		" \"outbox\":{\"SPGL_XMJBXXB\":%ld,\"SPGL_XMDWXXB\":%ld,\"SPGL_XMSPSXBLXXXXB\":%ld},\n"
		" \"quarantine\":{\"JSDWDM checkdigit\":%ld,\"SBSJ format\":%ld,\"LXLX code\":%ld,"
		"\"BLZT code\":%ld,\"BLZT sequence\":%ld,\"bad row\":%ld}}\n",
		op.region, (unsigned long long)op.seed, op.projects, ex.xmjbxxb, ex.xmdwxxb,
		ex.blxxxxb, ex.bad_uscc, ex.bad_date, ex.bad_code, ex.bad_blzt, ex.bad_seq,
		ex.bad_row);
	fclose(ef);
	if (op.gbk) {
		iconv_close(po.cd);
		iconv_close(so.cd);
	}
	return 0;
}
