/*
 * Allocation for the whole gateway. Everything allocates through these so that a test can make
 * the N-th allocation fail (spgw_mem_fail_after) and check that the failure is reported and
 * nothing is lost or stored twice. Semantics are those of the C library calls they wrap.
 */
#ifndef SPGW_MEM_H
#define SPGW_MEM_H

#include <stddef.h>

void *spgw_malloc(size_t size);
void *spgw_calloc(size_t n, size_t size);
void *spgw_realloc(void *p, size_t size);
/* A copy of `s` (NULL when `s` is NULL or memory is short); release with spgw_free(). */
char *spgw_strdup(const char *s);
/* A NUL-terminated copy of the first `n` bytes of `s`. */
char *spgw_strndup(const char *s, size_t n);
void spgw_free(void *p);

/*
 * Test seam: after `n` more successful allocations, every further one fails until reset with
 * a negative `n`. Not thread-safe; tests only.
 */
void spgw_mem_fail_after(long n);

#endif
