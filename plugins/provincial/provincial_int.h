/*
 * Internals of the "provincial" plugin, shared by its .c files and invisible outside the .so
 * (built with -fvisibility=hidden; only `spgw_plugin` is exported).
 *
 *   provincial.c         the descriptor, the settings, create/destroy, shared helpers
 *   provincial_db.c      the connection: password, session settings, what a failure means
 *   provincial_cursor.c  the cursor: (upd_time, row_id) per table
 *   provincial_row.c     a result row -> the JSON object handed to the host
 *   provincial_pull.c    pull() and pull_range(): keyset paging, one read-only transaction and
 *                        commit per page
 *   provincial_count.c   count(): rows per table and business day, GROUP BY in SQL
 */
#ifndef PROVINCIAL_INT_H
#define PROVINCIAL_INT_H

#include <libpq-fe.h>
#include <spgw/plugin.h>
#include <stddef.h>
#include <stdint.h>

/* The host's limit on one record (the gateway's SPGW_MAX_RECORD). A row whose JSON would be
 * larger is emitted as a bad-row record (_error) with its control columns, so the host never
 * refuses a record of ours for its size and the row is quarantined rather than lost. */
#define PROV_MAX_RECORD (16u * 1024 * 1024)
/* The largest page: plugin.h lets a plugin hold at most 5000 uncommitted records, and one page
 * is committed at once. */
#define PROV_MAX_PAGE 5000
/* The tables of the provincial platform this plugin knows (shared spec section 5). */
#define PROV_NTABLES 8
/* An SQL identifier (schema name) as the settings may give it: PostgreSQL's NAMEDATALEN - 1. */
#define PROV_MAX_IDENT 63
/* A text upd_time as PostgreSQL writes a timestamp (ISO): "2026-03-01 10:00:00.123" is 23;
 * room for years past 9999, BC and infinity. */
#define PROV_MAX_TIME 40

/* A growable byte buffer; the ceiling is given on every reserve. */
struct pbuf {
	char *p;
	size_t len, cap;
};
/* 0; 1 when `len + n` would pass `max`; -1 when memory is short. */
int prov_buf_reserve(struct pbuf *b, size_t n, size_t max);
int prov_buf_add(struct pbuf *b, const void *p, size_t n, size_t max);
int prov_buf_str(struct pbuf *b, const char *s, size_t max);
void prov_buf_free(struct pbuf *b);

/* One table of the platform: its name and what count() takes as its business day. */
struct prov_table {
	const char *name;
	/* count(): SELECT day, count(*) with $1 area, $2 from, $3 to; {s} stands for the
	 * schema */
	const char *day_sql;
};
extern const struct prov_table prov_tables[PROV_NTABLES];
/* Index of a table name in prov_tables, or -1. */
int prov_table_index(const char *name);

/* Where reading of one table stands: after (upd_time, row_id); `set` 0 = from the start. */
struct prov_pos {
	int set;
	char upd_time[PROV_MAX_TIME + 1];
	long long row_id;
};

/* One source's settings after create(). */
struct prov_settings {
	char *conninfo;       /* without a password (refused at create) */
	char *password;       /* from password_file or password; NULL: libpq's own (.pgpass) */
	char area[7];         /* area_code: the city's rows */
	char region[7];       /* the source's region, for messages */
	char schema[PROV_MAX_IDENT + 1];
	int table[PROV_NTABLES]; /* indexes into prov_tables, in reading order */
	int ntables;
	long page_size;
	long statement_timeout_ms;
	long connect_timeout_s;
	long settle_seconds;
};

/* One configured source: create() builds it, destroy() releases it. */
struct prov_source {
	struct prov_settings s;
	const struct spgw_host *host; /* lent by the host for the current call */
	PGconn *conn;
	struct prov_pos pos[PROV_NTABLES]; /* by prov_tables index */
	/* pull_range(): the days asked for (YYYY-MM-DD); empty in pull() */
	char range_from[11], range_to[11];
	struct pbuf json;                  /* the record being built */
	struct pbuf cursor;                /* the cursor text being committed */
	int *kind;                         /* per result column: enum prov_kind */
	struct pbuf keys;                  /* per result column: "name": back to back */
	size_t *key_off;                   /* where each column's "name": starts in keys */
	int ncols_cap;
};

/* --- provincial.c --- */

/* Log through the host, if it lends a log function. */
void prov_log(const struct spgw_host *host, enum spgw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fill err->text (printf-style) unless it is already set, and return `rc`. */
int prov_fail(struct spgw_plugin_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* `sql` with each {s} replaced by the source's schema and each {t} by `table`, in `out`
 * (NUL-terminated); 0 or -1. (No '{' may come before a placeholder except another one.) */
int prov_sql(const struct prov_source *src, const char *sql, const char *table,
	     struct pbuf *out);
/* Whether s is written YYYY-MM-DD (digits; the calendar is the server's to check). */
int prov_day_ok(const char *s);
/* "吉林市 220200" for the source's city, for messages. */
const char *prov_city(const struct prov_source *src, char *buf, size_t len);

/* --- provincial_db.c --- */

/* Connect (if not connected) and set up the session: read-only, statement_timeout, ISO dates,
 * Beijing time, no encoding conversion. `what` names the table about to be read, for the
 * message. OK, or RETRY/ERROR with err filled (never a password in it). */
int prov_db_open(struct prov_source *src, const char *what, struct spgw_plugin_error *err);
void prov_db_close(struct prov_source *src);
/*
 * Judge a failed command: RETRY for a passing fault (connection lost or refused, the server
 * shutting down or starting, a timeout, a serialization failure), ERROR for one a person must
 * fix (permission, a missing table or column). Fills err with the city, `table`, `where` (the
 * cursor position, or NULL) and what to do. `res` may be NULL.
 */
int prov_db_fail(struct prov_source *src, const PGresult *res, const char *table,
		 const char *where, struct spgw_plugin_error *err);
/* libpq's message tidied into one line (no line ends, no runs of spaces) in `out`. */
void prov_db_message(const char *msg, char *out, size_t len);

/* --- provincial_cursor.c --- */

/* Parse a cursor this plugin wrote into src->pos; 0, or -1 with the reason in `why`. In
 * pull_range() (src->range_from set) it must be that range's cursor, in pull() no range's. */
int prov_cursor_parse(struct prov_source *src, const char *text, char *why, size_t whylen);
/* The cursor for src->pos as text in src->cursor (NUL-terminated); 0, or -1 (no memory). */
int prov_cursor_format(struct prov_source *src);
/* Whether `s` looks like a timestamp PostgreSQL wrote in ISO style (digits, - : . space +,
 * infinity, BC), at most PROV_MAX_TIME bytes: safe to keep in the cursor unescaped. */
int prov_time_ok(const char *s);
/* "after (2026-03-01 10:00:00.123, 12345)" or "from its first row" for a position, in
 * `out`. */
const char *prov_pos_text(const struct prov_pos *p, char *out, size_t len);

/* --- provincial_row.c --- */

/* How a result column is written into JSON. */
enum prov_kind { PROV_TEXT = 0, PROV_NUMBER = 1, PROV_BOOL = 2 };
/* The kind and the "name": prefix of each column of `res` in src->kind, src->keys and
 * src->key_off, once per page; 0 or -1 (no memory). */
int prov_row_columns(struct prov_source *src, const PGresult *res);
/* Row `r` of `res` as a JSON object in src->json. 0; 1 when it would pass PROV_MAX_RECORD
 * (src->json then holds a bad-row record with the control columns); -1 when memory is short. */
int prov_row_json(struct prov_source *src, const PGresult *res, int r);
/* Whether p[0..n) is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int prov_utf8_valid(const unsigned char *p, size_t n);

/* --- provincial_pull.c, provincial_count.c --- */

int prov_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	      struct spgw_plugin_error *err);
int prov_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		    const struct spgw_host *host, struct spgw_plugin_error *err);
int prov_count(void *ctx, const char *table, const char *from, const char *to,
	       const struct spgw_host *host, struct spgw_plugin_error *err);

#endif
