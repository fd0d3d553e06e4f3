/*
 * Result codes and error detail shared by every stage of the gateway.
 *
 * A function returns an enum spgw_rc; detail goes into a struct spgw_error the caller lends
 * (NULL is fine). The first error set is kept: a later failure on the way out does not
 * overwrite the message that explains what went wrong first.
 */
#ifndef SPGW_ERROR_H
#define SPGW_ERROR_H

#include <stdarg.h>

/* Never renumbered; retired codes stay as SPGW_E_OBSOLETE_n. */
enum spgw_rc {
	SPGW_OK = 0,
	SPGW_E_NOMEM = 1,    /* an allocation failed */
	SPGW_E_IO = 2,       /* a read, write or system call failed (errno text in the message) */
	SPGW_E_SYNTAX = 3,   /* a file is not valid JSON (or CSV...) at line:column */
	SPGW_E_CONFIG = 4,   /* a configuration value is wrong: unknown key, wrong type, missing */
	SPGW_E_SCHEMA = 5,   /* the schema definition itself is inconsistent */
	SPGW_E_MAPPING = 6,  /* a mapping rule is wrong or cannot be applied */
	SPGW_E_INVALID = 7,  /* a record failed validation (reasons are listed separately) */
	SPGW_E_LEDGER = 8,   /* the SQLite ledger refused or is damaged */
	SPGW_E_PLUGIN = 9,   /* a plugin misbehaved: crash, hang, garbage, limit exceeded */
	SPGW_E_ABI = 10,     /* a plugin was built for another ABI version */
	SPGW_E_LIMIT = 11,   /* an input exceeded a documented limit (spgw/limits.h) */
	SPGW_E_TEXT = 12,    /* text is not valid UTF-8 / GBK, or cannot be converted */
	SPGW_E_NOTFOUND = 13,/* a named thing (table, source, record) does not exist */
	SPGW_E_RETRY = 14,   /* a passing fault: try again later */
	SPGW_E_USAGE = 15,   /* a command line was wrong */
	SPGW_E_CRYPTO = 16,  /* a digest, key or signature operation failed */
	SPGW_E_STATE = 17,   /* the state directory is unusable (read-only, full, foreign) */
	SPGW_E_BUSY = 18,    /* someone else holds it now (a source pulled by another process) */
};

struct spgw_error {
	enum spgw_rc code;
	char source[256]; /* file, source name or URL */
	int line, column; /* 0 when not from a file */
	char key[128];    /* table/地方数据主键 when about a record */
	char text[512];   /* one line: what failed and what to do */
};

/* The fixed English name of a code, e.g. "out of memory". Never NULL. */
const char *spgw_strerror(enum spgw_rc code);

/*
 * Record an error unless `err` is NULL or already holds one. `source` may be NULL; line and
 * column 0 mean "not from a file". Returns `code`, so a caller can write
 *     return spgw_error_set(err, SPGW_E_CONFIG, path, line, col, "unknown key \"%s\"", k);
 */
enum spgw_rc spgw_error_set(struct spgw_error *err, enum spgw_rc code, const char *source,
			    int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
enum spgw_rc spgw_error_vset(struct spgw_error *err, enum spgw_rc code, const char *source,
			     int line, int column, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* Shorthand for an allocation failure while doing `what`. */
enum spgw_rc spgw_error_nomem(struct spgw_error *err, const char *what);

/* Set the record key of an error already set (or being set), if not yet set. */
void spgw_error_key(struct spgw_error *err, const char *key);

/* Forget a recorded error so the struct can be reused. */
void spgw_error_clear(struct spgw_error *err);

/*
 * Format an error as one line for a person: "source:line:col: text" (parts omitted when
 * absent), plus " [key]" when a key is set. Writes at most `size` bytes, NUL-terminated.
 * Returns `buf`.
 */
char *spgw_error_format(const struct spgw_error *err, char *buf, unsigned size);

#endif
