/*
 * spgw-jilin-gen: the command line. See README.md for what it writes and why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg.h"

/* per city: far above any test (a million steps is ~10,000 projects), and the 6-digit serial
 * of 项目代码 must stay below the 900000 range kept for missing_parent codes */
#define JG_MAX_PROJECTS 800000L

static void usage(FILE *f)
{
	fputs("usage: spgw-jilin-gen --catalog FILE [--seed N] [--projects N | --target-steps N]\n"
	      "         [--regions all|220100,220200,...] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	      "         [--dirty F] [--kinds default|all|none|LIST] [--changchun DIR]\n"
	      "         [--provincial DIR] [--expected FILE]\n"
	      "       spgw-jilin-gen --check [--changchun DIR] [--provincial DIR] --expected FILE\n"
	      "       spgw-jilin-gen --list-kinds [--kinds ...]\n"
	      "\n"
	      "Deterministic approval cases for the nine Jilin prefectures: Changchun (220100) as\n"
	      "its API's records (DIR/<entity>.jsonl), the other eight as the provincial\n"
	      "platform's tables (DIR/<table>.csv), and what the gateway should make of them.\n"
	      "Defaults: --seed 1 --projects 200 --regions all --from 2026-01-01 --to 2026-10-31\n"
	      "--dirty 0.03 --kinds default. --target-steps N makes about N handling steps per "
	      "city\n"
	      "instead of a number of projects. --check re-reads a dataset and verifies it "
	      "against\n"
	      "its --expected file (exit 1 when anything is wrong). README.md has the details.\n",
	      f);
}

static int parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		fprintf(stderr, "spgw-jilin-gen: %s \"%s\": expected an integer %ld..%ld\n", opt, v,
			lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

struct opts {
	const char *catalog, *regions, *from, *to, *kinds, *cc_dir, *prov_dir, *expected;
	unsigned long long seed;
	long projects, target;
	double dirty;
	int check, list, help;
};

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->regions = "all";
	o->from = "2026-01-01";
	o->to = "2026-10-31";
	o->kinds = "default";
	o->seed = 1;
	o->projects = 200;
	o->dirty = 0.03;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = 1;
			continue;
		} else if (!strcmp(a, "--check")) {
			o->check = 1;
			continue;
		} else if (!strcmp(a, "--list-kinds")) {
			o->list = 1;
			continue;
		}
		if (strncmp(a, "--", 2) || !v) {
			fprintf(stderr, "spgw-jilin-gen: %s: %s\n", a,
				strncmp(a, "--", 2) ? "unexpected argument" : "needs a value");
			return -1;
		}
		i++;
		if (!strcmp(a, "--catalog")) {
			o->catalog = v;
		} else if (!strcmp(a, "--seed")) {
			char *end;

			errno = 0;
			o->seed = strtoull(v, &end, 10);
			if (errno || end == v || *end || v[0] == '-') {
				fprintf(stderr,
					"spgw-jilin-gen: --seed \"%s\": expected a "
					"non-negative integer\n",
					v);
				return -1;
			}
		} else if (!strcmp(a, "--projects")) {
			if (parse_long(a, v, 0, JG_MAX_PROJECTS, &n))
				return -1;
			o->projects = n;
		} else if (!strcmp(a, "--target-steps")) {
			if (parse_long(a, v, 1, 100000000L, &n))
				return -1;
			o->target = n;
		} else if (!strcmp(a, "--regions")) {
			o->regions = v;
		} else if (!strcmp(a, "--from")) {
			o->from = v;
		} else if (!strcmp(a, "--to")) {
			o->to = v;
		} else if (!strcmp(a, "--dirty")) {
			char *end;

			o->dirty = strtod(v, &end);
			if (end == v || *end || !(o->dirty >= 0 && o->dirty <= 1)) {
				fprintf(stderr,
					"spgw-jilin-gen: --dirty \"%s\": expected a fraction "
					"0..1 (0.03 = 3%% of records)\n",
					v);
				return -1;
			}
		} else if (!strcmp(a, "--kinds")) {
			o->kinds = v;
		} else if (!strcmp(a, "--changchun")) {
			o->cc_dir = v;
		} else if (!strcmp(a, "--provincial")) {
			o->prov_dir = v;
		} else if (!strcmp(a, "--expected")) {
			o->expected = v;
		} else {
			fprintf(stderr, "spgw-jilin-gen: unknown option %s (see --help)\n", a);
			return -1;
		}
	}
	return 0;
}

/* Which regions, in spec order; 0, or -1 with the message printed. */
static int select_regions(const char *spec, int on[JG_NREGIONS])
{
	const char *p = spec;
	int i;

	memset(on, 0, JG_NREGIONS * sizeof(on[0]));
	if (!strcmp(spec, "all")) {
		for (i = 0; i < JG_NREGIONS; i++)
			on[i] = 1;
		return 0;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char code[16];
		const struct jg_region *g;

		snprintf(code, sizeof(code), "%.*s", (int)(len < 15 ? len : 15), p);
		g = jg_region_find(code);
		if (!g || len != 6) {
			fprintf(stderr,
				"spgw-jilin-gen: --regions: \"%.*s\" is not one of the nine "
				"Jilin prefectures (220100 220200 220300 220400 220500 "
				"220600 220700 220800 222400)\n",
				(int)len, p);
			return -1;
		}
		on[g->index] = 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int generate(const struct opts *o)
{
	struct jg_catalog cat;
	struct jg_sink cc, prov;
	struct jg_expect *e = NULL;
	struct jg_project p;
	struct jg_world_opts wo;
	int on[JG_NREGIONS], i, rc = 4, need_cc = 0, need_prov = 0;
	int64_t from, to;
	char err[4600];

	memset(&cc, 0, sizeof(cc));
	memset(&prov, 0, sizeof(prov));
	memset(&p, 0, sizeof(p));
	if (!o->catalog) {
		fprintf(stderr, "spgw-jilin-gen: --catalog FILE is required "
				"(config/catalog/jilin.json)\n");
		return 2;
	}
	from = jg_parse_date(o->from);
	to = jg_parse_date(o->to);
	if (from < 0 || to < 0 || from > to) {
		fprintf(stderr,
			"spgw-jilin-gen: --from %s --to %s: need two dates YYYY-MM-DD, "
			"the first not after the second\n",
			o->from, o->to);
		return 2;
	}
	wo.seed = o->seed;
	wo.from_wd = jg_day_to_wd(from);
	wo.to_wd = jg_day_to_wd(to);
	if (!jg_is_workday(to))
		wo.to_wd--; /* the last working day on or before --to */
	if (wo.to_wd < wo.from_wd) {
		fprintf(stderr, "spgw-jilin-gen: --from %s --to %s holds no working day\n", o->from,
			o->to);
		return 2;
	}
	if (select_regions(o->regions, on))
		return 2;
	for (i = 0; i < JG_NREGIONS; i++) {
		need_cc |= on[i] && jg_regions[i].sys == JG_CC;
		need_prov |= on[i] && jg_regions[i].sys == JG_PROV;
	}
	if ((need_cc && !o->cc_dir) || (need_prov && !o->prov_dir)) {
		fprintf(stderr,
			"spgw-jilin-gen: the regions chosen need %s (or choose other "
			"--regions)\n",
			need_cc && !o->cc_dir ? "--changchun DIR for 220100"
					      : "--provincial DIR for the eight "
						"provincial-platform cities");
		return 2;
	}
	if (jg_catalog_load(o->catalog, &cat, err, sizeof(err))) {
		fprintf(stderr, "spgw-jilin-gen: %s\n", err);
		return 3;
	}
	e = jg_expect_new(err, sizeof(err));
	if (!e)
		goto fail;
	if (need_cc && jg_changchun_open(&cc, o->cc_dir, err, sizeof(err)))
		goto fail;
	if (need_prov && jg_provincial_open(&prov, o->prov_dir, err, sizeof(err)))
		goto fail;
	for (i = 0; i < JG_NREGIONS; i++) {
		const struct jg_region *g = &jg_regions[i];
		struct jg_serials ser;
		long k;

		if (!on[i])
			continue;
		memset(&ser, 0, sizeof(ser));
		jg_expect_region(e, g);
		for (k = 0; k < JG_MAX_PROJECTS; k++) {
			if (o->target ? jg_expect_region_steps(e) >= o->target : k >= o->projects)
				break;
			if (jg_world_project(&p, g, k, &cat, &wo, &ser)) {
				snprintf(err, sizeof(err),
					 "out of memory generating project %ld of %s", k, g->code);
				goto fail;
			}
			jg_dirty_apply(&p, g->sys, o->dirty);
			if (g->sys == JG_CC)
				jg_changchun_write(&cc, &p, &cat, &ser, e);
			else
				jg_provincial_write(&prov, &p, &cat, &ser, e);
		}
	}
	rc = 0;
	if (cc.open && jg_sink_close(&cc, err, sizeof(err)))
		rc = 4;
	if (prov.open && jg_sink_close(&prov, err, sizeof(err)))
		rc = 4;
	if (rc)
		goto fail;
	if (o->expected) {
		struct jg_expect_meta m = {o->seed,
					   o->from,
					   o->to,
					   o->dirty,
					   &cat,
					   need_cc ? &cc : NULL,
					   need_prov ? &prov : NULL};

		if (jg_expect_write(e, o->expected, &m, err, sizeof(err)))
			goto fail;
	}
	goto out;
fail:
	fprintf(stderr, "spgw-jilin-gen: %s\n", err);
	rc = 4;
	if (cc.open)
		jg_sink_close(&cc, err, sizeof(err));
	if (prov.open)
		jg_sink_close(&prov, err, sizeof(err));
out:
	jg_expect_free(e);
	jg_world_free(&p);
	jg_catalog_free(&cat);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[256];

	if (parse(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (jg_dirty_select(o.kinds, err, sizeof(err))) {
		fprintf(stderr, "spgw-jilin-gen: %s\n", err);
		return 2;
	}
	if (o.list) {
		jg_dirty_list(stdout);
		return 0;
	}
	if (o.check) {
		struct jg_check_opts co = {o.cc_dir, o.prov_dir, o.expected};

		if (!o.expected || (!o.cc_dir && !o.prov_dir)) {
			fprintf(stderr, "spgw-jilin-gen: --check needs --expected FILE and "
					"--changchun DIR and/or --provincial DIR\n");
			return 2;
		}
		return jg_check(&co) ? 1 : 0;
	}
	return generate(&o);
}
