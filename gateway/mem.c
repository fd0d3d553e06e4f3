/* Allocation wrappers with a failure seam for tests (see mem.h). */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;

static int should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown == 0)
		return 1;
	fail_countdown--;
	return 0;
}

void spgw_mem_fail_after(long n)
{
	fail_countdown = n;
}

void *spgw_malloc(size_t size)
{
	return should_fail() ? NULL : malloc(size ? size : 1);
}

void *spgw_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *spgw_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : realloc(p, size ? size : 1);
}

char *spgw_strndup(const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = spgw_malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *spgw_strdup(const char *s)
{
	return s ? spgw_strndup(s, strlen(s)) : NULL;
}

void spgw_free(void *p)
{
	free(p);
}
