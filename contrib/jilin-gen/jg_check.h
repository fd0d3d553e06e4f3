/*
 * The checker's parts (jg_check.c drives, jg_check_read.c reads the files, jg_check_steps.c
 * checks the step logs); nothing outside the checker includes this.
 */
#ifndef JG_CHECK_H
#define JG_CHECK_H

#include <jansson.h>

#include "jg.h"

/* A string -> int map (open addressing); keys are copied. */
struct smap {
	char **k;
	int *v;
	size_t n, cap;
};

/* The slot of `key`, added when `add` (*found says whether it was there); NULL when memory
 * is short, or (add = 0) when absent. */
int *jg_smap_at(struct smap *m, const char *key, int add, int *found);
/* 1 and *v set when `key` is there. */
int jg_smap_get(struct smap *m, const char *key, int *v);
void jg_smap_free(struct smap *m);

/* A case as the files give it: its number, (GCDM, item) pair, region and time limit. */
struct ccase {
	char id[48], pair[160];
	int region, limit;
	int dirty_steps; /* steps of it that are dirty (then no violation is computed) */
	int nsteps;	 /* clean steps */
};

/* A clean handling step: its case, national BLZT, time, line in its file. */
struct cstep {
	int cs, blzt;
	int64_t t;
	int line;
};

struct chk {
	json_t *exp; /* the --expected file */
	int failures;
	struct smap marks; /* "sys\x1fentity\x1fid" -> dirty[i] as i+1, knock_on[i] as -i-1 */
	struct smap ids[JG_NREGIONS][JG_E_COUNT];
	long fate_seen[JG_NREGIONS][JG_E_COUNT][3];
	struct smap case_ix; /* "region\x1fcase number" -> index into cases */
	struct ccase *cases;
	size_t ncases, capcases;
	struct cstep *steps;
	size_t nsteps, capsteps;
	long checked_clean, checked_dirty;
};

/* One record being read, whatever its system: get() a field by its Changchun or provincial
 * name, raw() its bytes (GBK names). */

struct rec {
	int sys, region, line;
	enum jg_entity ent;
	const char *file, *id;
	const char *(*get)(void *, const char *cc, const char *prov);
	void *ctx;
	const unsigned char *(*raw)(void *, const char *cc, const char *prov, size_t *n);
};

#define JG_GET(r, a, b) ((r)->get((r)->ctx, (a), (b)))

/* One line of the report: "FAIL: ..." (the first 200 are printed, all are counted). */
void jg_chk_fail(struct chk *c, const char *fmt, ...);
/* Region index of a city code, or -1. */
int jg_chk_region(const char *code);
const char *jg_chk_jstr(json_t *o, const char *k);
/* "YYYY-MM-DD HH:MM:SS", "YYYY/M/D H:MM" or "YYYYMMDDHHMMSS" on the calendar: 0 and *t. */
int jg_chk_parse_time(const char *s, int64_t *t);
/* Check and take in one record; -1 only when memory ran out. */
int jg_chk_record(struct chk *c, const struct rec *r);
/* DIR/<entity>.jsonl and DIR/<table>.csv (PostgreSQL COPY CSV); -1 when memory ran out. */
int jg_chk_read_jsonl(struct chk *c, const char *dir, enum jg_entity ent, long *lines);
int jg_chk_read_csv(struct chk *c, const char *dir, const char *name, enum jg_entity ent,
		    long *rows);
/* Order, sequence rules, office hours and violations of every case's steps. */
int jg_chk_steps(struct chk *c);

#endif
