/*
 * The checker's step logs: per case, in time order, the shared/spgl/codes.md "spgw sequence
 * check", office hours, and the violations (second returns, overruns) recomputed from the
 * steps and compared with --expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_check.h"

/* ---- steps: order, sequence, violations ---- */

static int by_case_time(const void *a, const void *b)
{
	const struct cstep *x = a, *y = b;

	if (x->cs != y->cs)
		return x->cs < y->cs ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* codes.md "spgw sequence check" over one case's log; NULL when it holds, else why. */
static const char *sequence(const struct cstep *s, int n)
{
	int i, seen[16] = {0}, accepted = 0, ended = 0, open6 = 0, open9 = 0;

	for (i = 0; i < n; i++) {
		int b = s[i].blzt;

		if (i && s[i].t <= s[i - 1].t)
			return "handling times do not strictly increase";
		if (ended) {
			if (b != 15)
				return "an event after the case ended";
			continue;
		}
		if (i == 0 && b != 1 && b != 3)
			return "the first event is neither 1 nor 3";
		if (b != 9 && b != 10 && seen[b])
			return "an event repeated";
		seen[b] = 1;
		switch (b) {
		case 1:
			if (i)
				return "1 not first";
			break;
		case 2:
		case 4:
		case 5:
			if (accepted)
				return "2/4/5 after a 3";
			ended = 1;
			break;
		case 3:
			accepted = 1;
			break;
		case 6:
			if (!accepted)
				return "6 before 3";
			open6 = 1;
			break;
		case 7:
			if (!open6)
				return "7 without an open 6";
			open6 = 0;
			break;
		case 8:
			if (!accepted)
				return "8 before 3";
			break;
		case 9:
			if (!accepted || open9)
				return "9 before 3 or nested";
			open9 = 1;
			break;
		case 10:
			if (!open9)
				return "10 without an open 9";
			open9 = 0;
			break;
		case 11:
		case 12:
		case 13:
			if (!accepted || open6 || open9)
				return "an end before 3 or while 6/9 is open";
			ended = 1;
			break;
		default:
			ended = 1;
			break;
		}
	}
	return NULL;
}

static int in_office_hours(int64_t t)
{
	int64_t day = t / 86400;
	int m = (int)(t % 86400) / 60;

	return jg_is_workday(day) && ((m >= 510 && m <= 690) || (m >= 780 && m <= 1050));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct vlist {
	char **v;
	size_t n, cap;
};

static int vadd(struct vlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, nc * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n] = strdup(s);
	return l->v[l->n++] ? 0 : -1;
}

static void vfree(struct vlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

struct ret {
	const struct ccase *cs;
};

static int by_pair_then_id(const void *a, const void *b)
{
	const struct ccase *x = ((const struct ret *)a)->cs, *y = ((const struct ret *)b)->cs;
	int d = x->region - y->region;

	if (d)
		return d;
	d = strcmp(x->pair, y->pair);
	return d ? d : strcmp(x->id, y->id);
}

int jg_chk_steps(struct chk *c)
{
	struct vlist got = {0}, want = {0};
	struct ret *rets = NULL;
	size_t i = 0, k, nret = 0;
	json_t *a = json_object_get(c->exp, "violations"), *o;
	char line[1024];
	int rc = -1;

	qsort(c->steps, c->nsteps, sizeof(*c->steps), by_case_time);
	rets = calloc(c->ncases + 1, sizeof(*rets));
	if (!rets)
		goto out;
	while (i < c->nsteps) {
		size_t j = i;
		struct ccase *cs = &c->cases[c->steps[i].cs];
		const char *why;
		int64_t w3 = -1, w6 = -1, w9 = -1, paused = 0, end = -1;
		int last;

		while (j < c->nsteps && c->steps[j].cs == c->steps[i].cs)
			j++;
		why = sequence(c->steps + i, (int)(j - i));
		if (why)
			jg_chk_fail(c, "case %s: %s", cs->id, why);
		for (k = i; k < j; k++)
			if (!in_office_hours(c->steps[k].t))
				jg_chk_fail(c, "case %s: a step outside Monday-Friday office hours",
					    cs->id);
		cs->nsteps = (int)(j - i);
		i = j;
		/* violations come from cases whose whole log is there */
		if (cs->dirty_steps)
			continue;
		last = c->steps[j - 1].blzt;
		if (last == 4 || last == 5)
			rets[nret++].cs = cs;
		for (k = j - (size_t)cs->nsteps; k < j; k++) {
			int64_t wd = jg_day_to_wd(c->steps[k].t / 86400);

			switch (c->steps[k].blzt) {
			case 3:
				w3 = wd;
				break;
			case 6:
				w6 = wd;
				break;
			case 7:
				paused += wd - w6;
				break;
			case 9:
				w9 = wd;
				break;
			case 10:
				paused += wd - w9;
				break;
			case 11:
			case 12:
			case 13:
				end = wd;
				break;
			default:
				break;
			}
		}
		if (w3 >= 0 && end >= 0 && end - w3 - paused > cs->limit) {
			snprintf(line, sizeof(line), "%s|overrun|%s|%s",
				 jg_regions[cs->region].code, cs->pair, cs->id);
			if (vadd(&got, line))
				goto out;
		}
	}
	/* second returns: a pair (GCDM, item) with two or more returned cases */
	qsort(rets, nret, sizeof(*rets), by_pair_then_id);
	for (i = 0; i < nret;) {
		size_t j = i, n;

		while (j < nret && rets[j].cs->region == rets[i].cs->region &&
		       !strcmp(rets[j].cs->pair, rets[i].cs->pair))
			j++;
		if (j - i >= 2) {
			n = (size_t)snprintf(line, sizeof(line), "%s|second_return|%s|",
					     jg_regions[rets[i].cs->region].code, rets[i].cs->pair);
			for (k = i; k < j && n < sizeof(line); k++)
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
						      k > i ? "," : "", rets[k].cs->id);
			if (vadd(&got, line))
				goto out;
		}
		i = j;
	}
	json_array_foreach(a, k, o)
	{
		json_t *cases = json_object_get(o, "cases"), *v;
		size_t z, n;
		const char *gcdm = jg_chk_jstr(o, "gcdm"), *item = jg_chk_jstr(o, "item");

		n = (size_t)snprintf(line, sizeof(line), "%s|%s|%s %s|",
				     jg_chk_jstr(o, "region") ? jg_chk_jstr(o, "region") : "",
				     jg_chk_jstr(o, "kind") ? jg_chk_jstr(o, "kind") : "",
				     gcdm ? gcdm : "", item ? item : "");
		json_array_foreach(cases, z, v) if (n < sizeof(line)) n +=
			(size_t)snprintf(line + n, sizeof(line) - n, "%s%s", z ? "," : "",
					 json_string_value(v) ? json_string_value(v) : "");
		if (vadd(&want, line))
			goto out;
	}
	qsort(got.v, got.n, sizeof(char *), cmp_str);
	qsort(want.v, want.n, sizeof(char *), cmp_str);
	for (i = 0, k = 0; i < got.n || k < want.n;) {
		int d = i == got.n ? 1 : k == want.n ? -1 : strcmp(got.v[i], want.v[k]);

		if (d < 0)
			jg_chk_fail(c, "violation in the data but not in --expected: %s",
				    got.v[i++]);
		else if (d > 0)
			jg_chk_fail(c, "violation in --expected but not in the data: %s",
				    want.v[k++]);
		else
			i++, k++;
	}
	printf("ok: %zu cases checked for step order; %zu violations recomputed, %zu expected\n",
	       c->ncases, got.n, want.n);
	rc = 0;
out:
	free(rets);
	vfree(&got);
	vfree(&want);
	return rc;
}
