/* "Did you mean" (see suggest.h). */
#include "suggest.h"

#include <string.h>

static int lower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

size_t spgw_suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = lower_ascii(a[i - 1]), cb = lower_ascii(b[j - 1]);
			size_t v = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == lower_ascii(b[j - 2]) &&
			    lower_ascii(a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

void spgw_suggest_init(struct spgw_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = (size_t)-1;
}

void spgw_suggest_try(struct spgw_suggest *s, const char *candidate)
{
	size_t d = spgw_suggest_distance(s->word, candidate);

	if (d < s->dist) {
		s->dist = d;
		s->best = candidate;
	}
}

const char *spgw_suggest_best(const struct spgw_suggest *s)
{
	size_t len = strlen(s->word);

	if (s->best && (s->dist <= 2 || s->dist * 3 <= len) && s->dist < len)
		return s->best;
	return NULL;
}
