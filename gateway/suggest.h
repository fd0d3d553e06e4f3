/*
 * "Did you mean": the known name nearest to a mistyped one, for messages about configuration,
 * mapping and schema files. One distance and one notion of "close enough" for all of them.
 */
#ifndef SPGW_SUGGEST_H
#define SPGW_SUGGEST_H

#include <stddef.h>

/*
 * Optimal-string-alignment distance (a swap of neighbours costs 1), ASCII case ignored since
 * a wrong case is the commonest typo ("From"). (size_t)-1 when either is over 64 bytes.
 */
size_t spgw_suggest_distance(const char *a, const char *b);

/* Collects the nearest candidate; `word` and candidates are borrowed. */
struct spgw_suggest {
	const char *word;
	const char *best;
	size_t dist;
};

void spgw_suggest_init(struct spgw_suggest *s, const char *word);
void spgw_suggest_try(struct spgw_suggest *s, const char *candidate);
/* The nearest candidate when it is a likely typo (at most 2 edits, or a third of the word),
 * else NULL. */
const char *spgw_suggest_best(const struct spgw_suggest *s);

#endif
