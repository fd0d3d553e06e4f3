/*
 * Shared by the unit suites: a scratch directory per test, files in it, and the ledger file
 * in it looked at through an SQLite connection of the test's own, so a test sees what is on
 * disk rather than what the code under test believes.
 */
#ifndef SPGW_TEST_SCRATCH_H
#define SPGW_TEST_SCRATCH_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The current test's directory, "/tmp/<prefix>-XXXXXX". */
extern char scratch_dir[64];

/* Make a fresh scratch directory (a Check fixture calls it in setup). */
void scratch_make(const char *prefix);
/* Remove it and everything in it, making it writable first. */
void scratch_remove(void);
/* scratch_dir/<name>; one of a few rotating static buffers. */
const char *scratch_path(const char *name);
/* The whole file, NUL-terminated (malloc); NULL when it cannot be read. */
char *scratch_slurp(const char *file, size_t *n);

/* scratch_dir/spgw.db */
const char *scratch_db(void);
/* One integer from `sql`; -1 on any failure. */
long long scratch_peek_int(const char *sql);
/* One text value (malloc'd, "" when NULL, "?" on failure). */
char *scratch_peek_text(const char *sql);
/* Every row of `sql` as "a|b|c;" (NULL as "~"), malloc'd; fails the test on an SQL error. */
char *scratch_peek_rows(const char *sql);
/* Run `sql` (creating the file), to build what the API would not. */
void scratch_poke(const char *sql);
/* `sql` must fail: a constraint the file keeps. */
void scratch_poke_fails(const char *sql);

/* Compare the rows of `sql` with `want`. */
#define ck_rows(sql, want)                                                                     \
	do {                                                                                   \
		char *got_ = scratch_peek_rows(sql);                                           \
		ck_assert_msg(!strcmp(got_, want), "%s\n got: %s\nwant: %s", sql, got_, want); \
		free(got_);                                                                    \
	} while (0)

#endif
