/*
 * The random source: splitmix64, small and the same on every machine and compiler, so a
 * seed gives byte-identical output everywhere. Each project draws from its own stream,
 * seeded from (seed, region, project index), so one project's numbers never depend on how
 * many numbers an earlier one drew.
 */
#include "jg.h"

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void jg_rng_init(struct jg_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
	r->s = mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ (a * 0xd1b54a32d192ed03ULL)) ^
	       mix(b + 0x632be59bd9b4e019ULL);
}

uint64_t jg_next(struct jg_rng *r)
{
	return mix(r->s += 0x9e3779b97f4a7c15ULL);
}

uint32_t jg_below(struct jg_rng *r, uint32_t n)
{
	/* the top 32 bits times n: no modulo bias worth mentioning, and no division */
	return (uint32_t)(((jg_next(r) >> 32) * (uint64_t)n) >> 32);
}

int jg_range(struct jg_rng *r, int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)jg_below(r, (uint32_t)(hi - lo + 1));
}

int jg_chance(struct jg_rng *r, double p)
{
	/* 53 random bits as a double in [0, 1) */
	return (double)(jg_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

int jg_weighted(struct jg_rng *r, const int *w, int n)
{
	int i, total = 0, x;

	for (i = 0; i < n; i++)
		total += w[i];
	if (total <= 0)
		return 0;
	x = (int)jg_below(r, (uint32_t)total);
	for (i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}
