/*
 * spgw-jilin-gen: deterministic approval cases for the nine Jilin prefectures (README.md
 * beside this file; the contract is the jilin spec, sections 2-6).
 *
 * Modules, in the order the data flows through them:
 *   jg_main.c        command line, the region loop, --list-kinds
 *   jg_catalog.c     config/catalog/jilin.json: stages, flows, items (jansson)
 *   jg_rand.c        the random source (splitmix64), one stream per project
 *   jg_cal.c         working days (Monday-Friday), dates and times, the formats written
 *   jg_codes.c       项目代码, 统一社会信用代码 (GB 32100 with the GB 11714 body), checks
 *   jg_names.c       Chinese names: projects, companies, people, addresses, departments
 *   jg_world.c       one project: engineerings, units, cases and their handling-step logs
 *   jg_dirty.c       the dirty kinds (one table), who gets which, and what the gateway does
 *   jg_out.c         buffered files, JSON Lines and PostgreSQL COPY CSV writing
 *   jg_changchun.c   a project as Changchun's API records (DIR/<entity>.jsonl)
 *   jg_provincial.c  a project as provincial-platform rows (DIR/<table>.csv)
 *   jg_expect.c      --expected: counts, dirty records, knock-on effects, violations
 *   jg_check*.c      --check: re-reads a dataset and verifies it against --expected
 *                    (jg_check.h: the checker's own parts)
 */
#ifndef JG_H
#define JG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- regions (jg_names.c) ---- */

enum jg_system { JG_CC = 1, JG_PROV = 2 };

struct jg_region {
	const char *code;		 /* 行政区划代码, e.g. "220100" */
	const char *name;		 /* 长春市 */
	const char *doc_abbr;		 /* prefix of document numbers: 长, 吉市, ... */
	const char *const *counties;	 /* county codes for JSDDXZQH (spec §0) */
	const char *const *county_names; /* the same counties' names */
	int ncounties;
	double lng, lat; /* around the city seat, for 经纬度 */
	enum jg_system sys;
	int index; /* 0..8, in spec order; part of provincial row ids */
};

#define JG_NREGIONS 9
extern const struct jg_region jg_regions[JG_NREGIONS];
const struct jg_region *jg_region_find(const char *code);

/* ---- catalog (jg_catalog.c) ---- */

enum jg_item_kind { JG_MAIN, JG_PARALLEL, JG_SPECIAL };

struct jg_item {
	char code[32], version[8], name[256], dept[96];
	int stage; /* 1..4 */
	enum jg_item_kind kind;
	int promised_days; /* SXBLSX, working days */
	int dept_idx;	   /* into jg_catalog.depts */
};

struct jg_flow {
	char code[32], version[8];
	int type; /* SPLCLX 1..5 */
};

#define JG_MAX_DEPTS 64
struct jg_catalog {
	struct jg_item *items; /* owned; jg_catalog_free() */
	int nitems;
	struct jg_flow flows[16];
	int nflows;
	int nstages;
	char depts[JG_MAX_DEPTS][96];
	int ndepts;
};

/* Load and check FILE into c (its items array is new: jg_catalog_free()); 0, or -1 with
 * "FILE: /json/pointer: what" (or FILE:LINE:COL for syntax) in err and nothing to free. */
int jg_catalog_load(const char *path, struct jg_catalog *c, char *err, size_t errlen);
void jg_catalog_free(struct jg_catalog *c);
/* The flow of SPLCLX `type`, or NULL. */
const struct jg_flow *jg_catalog_flow(const struct jg_catalog *c, int type);

/* ---- random source (jg_rand.c) ---- */

struct jg_rng {
	uint64_t s;
};

/* A stream for (seed, a, b): the same triple always gives the same sequence. */
void jg_rng_init(struct jg_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t jg_next(struct jg_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t jg_below(struct jg_rng *r, uint32_t n);
/* Uniform in [lo, hi]. */
int jg_range(struct jg_rng *r, int lo, int hi);
/* 1 with probability p. */
int jg_chance(struct jg_rng *r, double p);
/* Index by weights w[0..n). */
int jg_weighted(struct jg_rng *r, const int *w, int n);
#define JG_PICK(r, arr) ((arr)[jg_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- calendar (jg_cal.c) ---- */

/*
 * Days are counted from 1970-01-01 (day 0, a Thursday); a working day (Monday-Friday; the
 * holiday calendar is a later issue) also has an index `wd` that counts working days only,
 * so "N working days later" is wd + N. Times are Beijing wall-clock seconds since
 * 1970-01-01 00:00:00 (no zone arithmetic anywhere except epoch milliseconds).
 */
int64_t jg_days_from_civil(int y, int m, int d);
void jg_civil_from_days(int64_t day, int *y, int *m, int *d);
int64_t jg_wd_to_day(int64_t wd);
/* The index of `day` if it is a working day, else of the next working day. */
int64_t jg_day_to_wd(int64_t day);
int jg_is_workday(int64_t day);
/* "YYYY-MM-DD" -> day; -1 when malformed or not on the calendar. */
int64_t jg_parse_date(const char *s);
/* Seconds of a Beijing time -> text. */
enum jg_tfmt {
	JG_T_ISO,     /* 2026-11-03 09:05:07 */
	JG_T_SLASH,   /* 2026/11/3 9:05 (no seconds: only for times with :00) */
	JG_T_COMPACT, /* 20261103090507 */
	JG_T_MS,      /* 2026-11-03 09:05:07.123 (provincial upd_time; ms from the low bits) */
};
void jg_fmt_time(char *out, size_t n, int64_t t, enum jg_tfmt f);
void jg_fmt_day(char *out, size_t n, int64_t day); /* 2026-11-03 */
/* Working-day minute m (0..449: 08:30-11:30, 13:00-17:30) -> minutes after midnight. */
int jg_work_minute(int m);

/* ---- codes (jg_codes.c) ---- */

extern const char jg_uscc_chars[];
/* A 统一社会信用代码: reg (登记管理部门, kind) + 6-digit region + GB 11714 body; `wrong`
 * gives a wrong check character on purpose. out[19]. */
void jg_uscc(struct jg_rng *r, char out[19], char reg, char kind, const char *region, int wrong);
/* The same, from a fixed 64-bit value instead of the stream (departments). */
void jg_uscc_fixed(uint64_t v, char out[19], char reg, char kind, const char *region);
/* 1 when s is 18 characters of the set with the right check character. */
int jg_uscc_valid(const char *s);
/* 1 when s has the shape NNNN-NNNNNN-NN-NN-NNNNNN. */
int jg_xmdm_valid(const char *s);
/* Full-width digits and hyphen for ASCII ones (a clerk's IME), and back. */
void jg_fullwidth(char *out, size_t n, const char *s);
void jg_halfwidth(char *out, size_t n, const char *s);
/* 1 when the bytes are valid UTF-8. */
int jg_utf8_valid(const unsigned char *s, size_t n);
/* UTF-8 text -> GBK bytes (out, n) via iconv; returns the byte count or -1. */
long jg_to_gbk(const char *utf8, unsigned char *out, size_t n);
/* GBK bytes -> UTF-8 text; returns the length or -1 when the bytes are not valid GBK. */
long jg_from_gbk(const unsigned char *in, size_t len, char *out, size_t n);

/* ---- names (jg_names.c) ---- */

struct jg_project;
void jg_name_person(struct jg_rng *r, char *out, size_t n);
void jg_name_mobile(struct jg_rng *r, char out[12]);
void jg_name_company(struct jg_rng *r, const struct jg_region *g, int role, char *out, size_t n);
void jg_name_gov_builder(struct jg_rng *r, const struct jg_region *g, int county, int type,
			 char *out, size_t n);
void jg_name_project(struct jg_rng *r, const struct jg_region *g, int county, int type, char *out,
		     size_t n);
void jg_name_address(struct jg_rng *r, const struct jg_region *g, int county, char *out, size_t n);
void jg_name_scale(struct jg_rng *r, const struct jg_project *p, char *out, size_t n);
/* The department as a city names it ("长春市住房和城乡建设局"), its USCC and document
 * abbreviation ("长住建"). */
void jg_dept_name(const struct jg_region *g, const char *dept, char *out, size_t n);
void jg_dept_uscc(const struct jg_region *g, int dept_idx, char out[19]);
void jg_dept_abbr(const struct jg_region *g, const char *dept, char *out, size_t n);
const char *jg_dept_office(struct jg_rng *r, const char *dept);
/* Fixed vocabularies the writers index. */
extern const char *const jg_material_names[];
extern const int jg_nmaterial_names;
extern const char *const jg_opinion_texts[];
extern const int jg_nopinion_texts;
extern const char *const jg_return_reasons[];
extern const int jg_nreturn_reasons;
extern const char *const jg_refuse_reasons[];
extern const int jg_nrefuse_reasons;
extern const char *const jg_void_reasons[];
extern const int jg_nvoid_reasons;
extern const char *const jg_proc_names[4][3];

/* ---- the world (jg_world.c) ---- */

enum jg_fate { JG_DELIVERED, JG_QUARANTINE, JG_HELD };
enum jg_entity {
	JG_E_PROJECT,
	JG_E_UNIT,
	JG_E_CASE,
	JG_E_STEP,
	JG_E_DOC,
	JG_E_PROC,
	JG_E_MAT,
	JG_E_OPINION,
	JG_E_COUNT
};

struct jg_entity_info {
	const char *cc;	    /* Changchun entity, DIR/<cc>.jsonl */
	const char *prov;   /* provincial table, DIR/<prov>.csv */
	const char *table;  /* SPGL table */
	const char *prefix; /* DFSJZJ prefix (spec §3) */
};
extern const struct jg_entity_info jg_entities[JG_E_COUNT];

/* A record's dirt and what becomes of it; `dirt` is a JG_W_* or -1. */
struct jg_mark {
	int dirt;
	enum jg_fate fate;
	int knock;	   /* fate comes from a parent: 1 (listed in knock_on) */
	int change;	   /* 0; 1 corrected later; 2 withdrawn later */
	int64_t upd, upd2; /* update time, and of the later version */
	int eligible;	   /* could have been given a defect */
};

struct jg_eng {
	long id;
	char sub[8];	 /* "" or "-01".. */
	char scope[128]; /* 工程范围 */
	struct jg_mark m;
	int64_t finish_day; /* -1: not finished */
	long steps;
};

struct jg_unit {
	long id;
	int eng, role; /* role 1 建设 2 勘察 3 设计 4 施工 5 监理 */
	char uscc[19], name[160];
	int orphan; /* missing_parent: written with a project code that does not exist */
	struct jg_mark m;
};

struct jg_step {
	long id;
	int cs;		   /* its case */
	int blzt;	   /* national code 1..15 */
	int64_t wd, t;	   /* working-day index, Beijing time */
	enum jg_tfmt tfmt; /* how Changchun writes handle_time */
	int text;	   /* opinion text index (4/5/13), else -1 */
	struct jg_mark m;
};

struct jg_case {
	long id; /* case serial (case number) */
	int eng, item, dept;
	long parallel; /* 并联审批实例 serial, 0 none */
	int pair;      /* the (engineering, item) chain it belongs to */
	int first, n;  /* its steps */
	int end;       /* last BLZT if it ends the case (4, 11, 12, 13), else 0 (open) */
	int accepted;  /* reached 3 */
	int elapsed;   /* working days 3 -> end minus pauses (ended cases) */
	int violation; /* in a second return or an overrun */
	int slfs;      /* 1 窗口受理, 4 网上申请 */
	char contact[24], mobile[12];
	int64_t t1, t3; /* times of the first event and of the 3 */
	struct jg_mark m;
};

struct jg_doc {
	long id;
	int cs;
	int64_t day;   /* PFRQ */
	int64_t until; /* PFWJYXQX day, or -1 for no expiry */
	int seq;       /* number within its department and year */
	struct jg_mark m;
};

struct jg_proc {
	long id;
	int cs, kind; /* kind 0 听证 1 专家评审 2 公示 3 其他 */
	int64_t day;
	int natural; /* 时限类型 自然日 */
	int limit;
	struct jg_mark m;
};

struct jg_mat {
	long id;
	int cs, name, copies, paper;
	int orphan; /* missing_parent: written with a case number that does not exist */
	struct jg_mark m;
};

struct jg_opinion {
	long id;
	int cs, dept, text;
	int64_t t;
	struct jg_mark m;
};

struct jg_violation {
	int second_return; /* else overrun */
	int pair;
	int cases[4], ncases;
};

#define JG_VEC(T)           \
	struct {            \
		T *v;       \
		int n, cap; \
	}

struct jg_project {
	const struct jg_region *g;
	long index;
	char xmdm[25];	   /* the true code */
	char xmdm_out[40]; /* as written (bad_xmdm changes it for every record) */
	int type, county, year, lxlx;
	int industry; /* 47 48 49 50 70 78 */
	char gbhy[8]; /* 4710 */
	int land;     /* 0 划拨 1 出让 2 其他 */
	int with_design, assessed, nature, fund, gcfl_house;
	int64_t sbsj;		      /* day */
	int64_t plan_start, plan_end; /* days */
	int start_month_only;	      /* plan_start known to the month only */
	double invest_yuan, land_area, floor_area;
	char name[200], builder[160], builder_uscc[19], address[200], scale[400];
	int builder_gov;
	double lng, lat;
	JG_VEC(struct jg_eng) engs;
	JG_VEC(struct jg_unit) units;
	JG_VEC(struct jg_case) cases;
	JG_VEC(struct jg_step) steps;
	JG_VEC(struct jg_doc) docs;
	JG_VEC(struct jg_proc) procs;
	JG_VEC(struct jg_mat) mats;
	JG_VEC(struct jg_opinion) ops;
	JG_VEC(struct jg_violation) viol;
	int npairs;
	struct jg_rng rng; /* the project's own stream: generation, then writing */
};

/* Per-region serials: ids are unique per region and never reused. */
struct jg_serials {
	long project, eng, unit, cases, step, doc, proc, mat, op, parallel, xmdm, orphan;
	long doc_no[JG_MAX_DEPTS];
};

struct jg_world_opts {
	uint64_t seed;
	int64_t from_wd, to_wd; /* the reporting window, working-day indices */
};

/* Generate project `index` of region g into p, reusing p's arrays (grown as needed, owned
 * by p: jg_world_free()). 0, or -1 when memory ran out. */
int jg_world_project(struct jg_project *p, const struct jg_region *g, long index,
		     const struct jg_catalog *c, const struct jg_world_opts *o,
		     struct jg_serials *s);
void jg_world_free(struct jg_project *p);
/* Working days of a case, as the violation rules count them (README.md "Time"). */
int jg_world_elapsed(const struct jg_project *p, const struct jg_case *cs);

/* ---- dirty kinds (jg_dirty.c) ---- */

enum jg_what {
	JG_W_XMDM,
	JG_W_USCC_UNIT,
	JG_W_USCC_BUILDER,
	JG_W_CODE_JSXZ,
	JG_W_CODE_DWLX,
	JG_W_CODE_SLFS,
	JG_W_CODE_BLZT,
	JG_W_CODE_TBCX,
	JG_W_DATE_NKGSJ,
	JG_W_DATE_NJCSJ,
	JG_W_DATE_BLSJ,
	JG_W_DATE_YXQX,
	JG_W_GBK_XMMC,
	JG_W_GBK_DWMC,
	JG_W_BADGBK_XMMC,
	JG_W_BADGBK_DWMC,
	JG_W_ORPHAN_UNIT,
	JG_W_ORPHAN_MAT,
	JG_W_SEQUENCE,
	JG_W_START_AFTER_END,
	JG_W_COUNT
};

struct jg_kind {
	enum jg_what what;
	const char *kind; /* spec §2 name */
	unsigned systems; /* JG_CC | JG_PROV */
	enum jg_entity entity;
	const char *cc_field;	/* what is wrong in the Changchun record */
	const char *prov_field; /* ... in the provincial row */
	const char *field;	/* SPGL field of the expected reason */
	const char *code;	/* its code ("" for held / delivered) */
	enum jg_fate outcome;
	int weight;
	int on;		 /* in the default set (README.md says why one is off) */
	const char *how; /* what the generator writes */
};
extern const struct jg_kind jg_kinds[JG_W_COUNT];
extern int jg_kind_on[JG_W_COUNT];

/* "--kinds" list: "all", "default", or a comma list of kind names (each with an optional
 * leading "-" to turn one off from the default set). 0, or -1 with err. */
int jg_dirty_select(const char *spec, char *err, size_t errlen);
void jg_dirty_list(FILE *f);
/* Give records their defects (probability d each), compute every record's fate, and pick
 * later corrections and withdrawals. */
void jg_dirty_apply(struct jg_project *p, enum jg_system sys, double d);

/* ---- output (jg_out.c) ---- */

struct jg_out {
	FILE *f;
	char *path;
	char *buf;
	size_t n, cap;
	long lines;
	int failed;
};

/* Create DIR/NAME (and its directories); o holds a buffer and the path until
 * jg_out_close(). 0, or -1 with err naming the file. */
int jg_out_open(struct jg_out *o, const char *dir, const char *name, char *err, size_t errlen);
/* Flush, close and release; 0, or -1 with err naming the file (a failed write included). */
int jg_out_close(struct jg_out *o, char *err, size_t errlen);
void jg_out_mem(struct jg_out *o, const void *s, size_t n);
void jg_out_str(struct jg_out *o, const char *s);
void jg_out_long(struct jg_out *o, long v);
void jg_out_nl(struct jg_out *o);

struct jg_json {
	struct jg_out *o;
	int n;
};
void jg_json_begin(struct jg_json *j, struct jg_out *o);
void jg_json_str(struct jg_json *j, const char *k, const char *v);
/* Bytes (GBK) written one "\u00XX" per byte at or above 0x80. */
void jg_json_bytes(struct jg_json *j, const char *k, const unsigned char *v, size_t n);
void jg_json_long(struct jg_json *j, const char *k, long v);
void jg_json_num(struct jg_json *j, const char *k, const char *digits);
void jg_json_end(struct jg_json *j);
/* A JSON string literal into o (with quotes). */
void jg_out_jstr(struct jg_out *o, const char *s);

struct jg_csv {
	struct jg_out *o;
	int n;
};
void jg_csv_begin(struct jg_csv *c, struct jg_out *o);
/* NULL or "" -> NULL (unquoted empty field); text quoted when it must be. */
void jg_csv_str(struct jg_csv *c, const char *v);
void jg_csv_bytes(struct jg_csv *c, const unsigned char *v, size_t n);
void jg_csv_long(struct jg_csv *c, long v);
void jg_csv_end(struct jg_csv *c);

/* ---- writers ---- */

struct jg_expect;

struct jg_sink {
	struct jg_out out[JG_E_COUNT];
	struct jg_out changes[JG_E_COUNT]; /* provincial: later versions, DIR/changes/ */
	int open;
};

/* Open every file of a dataset in DIR; the sink owns them until jg_sink_close(). */
int jg_changchun_open(struct jg_sink *s, const char *dir, char *err, size_t errlen);
void jg_changchun_write(struct jg_sink *s, struct jg_project *p, const struct jg_catalog *c,
			struct jg_serials *ser, struct jg_expect *e);
int jg_provincial_open(struct jg_sink *s, const char *dir, char *err, size_t errlen);
void jg_provincial_write(struct jg_sink *s, struct jg_project *p, const struct jg_catalog *c,
			 struct jg_serials *ser, struct jg_expect *e);
int jg_sink_close(struct jg_sink *s, char *err, size_t errlen);

/* ---- expectations (jg_expect.c) ---- */

/* New (temporary files for the lists): jg_expect_free(); NULL with err. */
struct jg_expect *jg_expect_new(char *err, size_t errlen);
void jg_expect_free(struct jg_expect *e);
void jg_expect_region(struct jg_expect *e, const struct jg_region *g);
/* A record written: entity, its source id (as text), its mark. `value` is the text a
 * gbk_text record must arrive with (else NULL). */
void jg_expect_record(struct jg_expect *e, const struct jg_project *p, enum jg_entity ent,
		      const char *id, const struct jg_mark *m, const char *value,
		      const char *parent_key);
void jg_expect_violations(struct jg_expect *e, const struct jg_project *p,
			  const struct jg_catalog *c,
			  void (*case_no)(const struct jg_project *, const struct jg_case *, char *,
					  size_t));
void jg_expect_project_done(struct jg_expect *e, const struct jg_project *p);
struct jg_expect_meta {
	uint64_t seed;
	const char *from, *to;
	double dirty;
	const struct jg_catalog *cat;
	const struct jg_sink *cc, *prov;
};
int jg_expect_write(struct jg_expect *e, const char *path, const struct jg_expect_meta *m,
		    char *err, size_t errlen);
long jg_expect_region_steps(const struct jg_expect *e);

/* ---- checker (jg_check.c) ---- */

struct jg_check_opts {
	const char *cc_dir, *prov_dir, *expected;
};
/* 0 when everything holds; prints one line per failed check. */
int jg_check(const struct jg_check_opts *o);

#endif
