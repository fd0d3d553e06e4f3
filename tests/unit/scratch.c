/* Shared test helpers (see scratch.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <check.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "scratch.h"

char scratch_dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void scratch_make(const char *prefix)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/%s-XXXXXX", prefix);
	ck_assert_ptr_nonnull(mkdtemp(scratch_dir));
}

void scratch_remove(void)
{
	chmod(scratch_dir, 0700);
	nftw(scratch_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *scratch_path(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", scratch_dir, name);
	return p[i];
}

char *scratch_slurp(const char *file, size_t *n)
{
	FILE *f = fopen(file, "rb");
	char *s = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		s = malloc((size_t)len + 1);
		if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
			free(s);
			s = NULL;
		}
		if (s) {
			s[len] = '\0';
			if (n)
				*n = (size_t)len;
		}
	}
	fclose(f);
	return s;
}

const char *scratch_db(void)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/spgw.db", scratch_dir);
	return p;
}

long long scratch_peek_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_open_v2(scratch_db(), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

char *scratch_peek_text(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *v = NULL;

	if (sqlite3_open_v2(scratch_db(), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = strdup(sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
						     : "");
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v ? v : strdup("?");
}

char *scratch_peek_rows(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&out, &n);
	int i, src;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(sqlite3_open_v2(scratch_db(), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++) {
			const char *v = (const char *)sqlite3_column_text(s, i);

			fprintf(m, "%s%s", i ? "|" : "", v ? v : "~");
		}
		fputc(';', m);
	}
	ck_assert_int_eq(src, SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);
	fclose(m);
	return out;
}

void scratch_poke(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(scratch_db(), &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
}

void scratch_poke_fails(const char *sql)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(scratch_db(), &db), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}
