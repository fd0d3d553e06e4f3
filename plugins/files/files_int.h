/*
 * Internals of the "files" plugin, shared by its .c files and invisible outside the .so (it is
 * built with -fvisibility=hidden; only `spgw_plugin` is exported).
 *
 *   files.c        the descriptor, the settings, shared helpers
 *   files_pull.c   pull() and pull_range(): arrival order, readiness, resume, commits
 *   files_count.c  count(): rows per table and business day
 *   files_scan.c   which files are in the drop directory, in what order, and which are ready
 *   files_cursor.c the cursor: where reading stopped, and the recently finished files
 *   files_rows.c   the rows of one file, each decoded and judged
 *   files_read.c   bytes -> records (CSV rows, JSON lines) -> UTF-8 text -> CSV fields
 *   files_json.c   checking a JSON line without building it
 *   files_emit.c   records -> the JSON objects handed to the host
 */
#ifndef FILES_INT_H
#define FILES_INT_H

#include <iconv.h>
#include <spgw/plugin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/*
 * The host's limit on one record (the gateway's SPGW_MAX_RECORD, documented in
 * plugins/files/README.md). A row whose JSON would be larger is emitted as a bad row with its
 * raw text cut, so the host never refuses a record of ours for its size.
 */
#define FILES_MAX_RECORD (16u * 1024 * 1024)
/* Default and largest max_line: a row near the record limit cannot become a record anyway. */
#define FILES_MAX_LINE FILES_MAX_RECORD
/* A row as UTF-8 text: at most max_line bytes, each shown as four characters (\xNN) when
 * it is not valid in the encoding. */
#define FILES_MAX_TEXT (4 * (size_t)FILES_MAX_LINE + 64)
/* How much of a row's raw bytes a bad-row record keeps when the whole row cannot be kept. */
#define FILES_RAW_KEEP (64u * 1024)
/* read() size: large enough that system calls cost nothing next to parsing. */
#define FILES_READ_CHUNK (256u * 1024)
/* Columns in one CSV header: a real export has 20-100; a file whose "header" has more is not
 * an export (binary, wrong delimiter), and every row of it is emitted as a bad row. */
#define FILES_MAX_COLUMNS 4096
/* Finished files remembered in the cursor to notice one that changes after being read. 64
 * entries of 24 hex digits keep the cursor under plugin.h's 4096 bytes with the longest file
 * name (255 bytes, escaped). */
#define FILES_RECENT 64
/* JSON nesting accepted in a JSON Lines row: the gateway's limit on records
 * (SPGW_MAX_JSON_DEPTH); deeper is an attack on a parser's stack, never real data. */
#define FILES_MAX_DEPTH 64
/* count(): the widest from..to range, in days (ten years). */
#define FILES_MAX_COUNT_DAYS 3660

/* A growable byte buffer; the caller states the ceiling on every reserve. */
struct fbuf {
	char *p;
	size_t len, cap;
};
/* 0; 1 when `len + n` would pass `max`; -1 when memory is short. */
int files_buf_reserve(struct fbuf *b, size_t n, size_t max);
int files_buf_add(struct fbuf *b, const void *p, size_t n, size_t max);
void files_buf_free(struct fbuf *b);

enum files_format { FILES_CSV = 0, FILES_JSONL = 1, FILES_FORMAT_AUTO = 2 };
enum files_encoding { FILES_UTF8 = 0, FILES_GBK = 1, FILES_GB18030 = 2, FILES_ENC_AUTO = 3 };

/* One source's settings after create(). */
struct files_settings {
	char *dir;
	char **patterns; /* lower-case globs, NULL-terminated */
	enum files_format format;
	enum files_encoding encoding;
	char *table;     /* fixed table, or NULL */
	int table_stem;  /* table_from "stem" (else "prefix") */
	char delimiter;
	long commit_every;
	char *done_suffix; /* NULL: readiness by age and final newline */
	long stable_seconds;
	size_t max_line;
	int reread_changed;
	char *day_column;  /* NULL: count() is not available */
};

/* --- files_scan.c --- */

/* A file's place in reading order: when it last changed (ctime, which no copy tool can set
 * back, so it is the order of arrival), then its name. */
struct files_key {
	int64_t sec;
	long nsec;
	char *name;
};
int files_key_cmp(const struct files_key *a, const struct files_key *b);

struct files_entry {
	struct files_key key; /* key.name owned */
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
};

struct files_list {
	struct files_entry *v;
	size_t n, cap;
};
void files_list_free(struct files_list *l);

/*
 * The files of `dirfd` the settings select (pattern, not hidden, not .tmp/.part, not a
 * marker, regular), whose key is after `after` (or equal to it when `include_equal`), sorted
 * by key. `after` NULL: all of them. Returns 0, or an errno value.
 */
int files_scan(int dirfd, const struct files_settings *s, const struct files_key *after,
	       int include_equal, struct files_list *out);

/*
 * Whether a file may be read now. 1 ready; 0 not yet, with `why` saying what it waits for;
 * -1 with errno when it could not be checked.
 */
int files_ready(int dirfd, const struct files_settings *s, const struct files_entry *e,
		const struct timespec *now, char *why, size_t whylen);

/* Whether p[0..n) is a table name: 1-64 of A-Z a-z 0-9 _ - (plugin.h: ASCII, 64 bytes). */
int files_table_name_ok(const char *p, size_t n);
/* The source table of a file by the settings, in `out`; 0, or -1 with the reason in out. */
int files_table(const struct files_settings *s, const char *name, char *out, size_t outlen);
/* The format of a file by the settings and its extension. */
enum files_format files_format_of(const struct files_settings *s, const char *name);

/* --- files_cursor.c --- */

struct files_recent {
	uint64_t name_hash;
	uint32_t ident; /* size and mtime when the file was finished */
};

struct files_cursor {
	int set;          /* 0: no cursor yet (first pull) */
	struct files_key key; /* the file in progress or finished last; key.name owned */
	int done;         /* that file was read to its end */
	uint64_t size;    /* in progress: the file as it was when reading began */
	int64_t mtime_sec;
	long mtime_nsec;
	uint64_t offset;  /* in progress: first byte not yet committed */
	uint64_t line;    /* in progress: lines before offset */
	enum files_encoding enc; /* in progress: the encoding decided for the file */
	struct files_recent recent[FILES_RECENT];
	size_t n_recent;  /* oldest first */
};

/* Parse a cursor this plugin wrote; 0, or -1 with the reason in `why`. */
int files_cursor_parse(const char *text, struct files_cursor *c, char *why, size_t whylen);
/* The cursor as text in `out` (NUL-terminated, at most 4096 bytes); 0 or -1. */
int files_cursor_format(const struct files_cursor *c, struct fbuf *out);
void files_cursor_free(struct files_cursor *c);
uint64_t files_name_hash(const char *name);
uint32_t files_ident(const struct files_entry *e);
/* The entry for `name_hash`, or NULL. */
struct files_recent *files_recent_find(struct files_cursor *c, uint64_t name_hash);
/* Remember a finished file (replacing its older entry; forgetting the oldest when full). */
void files_recent_add(struct files_cursor *c, uint64_t name_hash, uint32_t ident);

/* --- files_read.c --- */

/* Reads one file sequentially, never past `end` (its size when it was found ready). */
struct files_reader {
	int fd;
	char *buf;
	size_t pos, len;
	uint64_t off; /* file offset of buf[pos] */
	uint64_t end;
};

/* One record's bytes: a CSV row (which may span lines) or a JSON line, without its line end. */
struct files_rec {
	struct fbuf raw;  /* the bytes, cut to FILES_RAW_KEEP when the row passes max_line */
	uint64_t start;   /* file offset of the first byte */
	uint64_t next;    /* file offset after its line end */
	uint64_t bytes;   /* its real length (more than raw.len when too long) */
	uint64_t lines;   /* newlines consumed, the terminator included */
	int too_long;
	int open_quote;   /* CSV: the file ended inside a quoted field */
	int blank;        /* empty or white space only: skipped, not a row */
};

int files_reader_open(struct files_reader *r, int fd, uint64_t start, uint64_t end);
void files_reader_close(struct files_reader *r);
/* The next record: a CSV row with delimiter `delim`, or a line when `delim` < 0. 1; 0 at the
 * end; -1 with errno on a read error; -2 when memory is short. */
int files_reader_next(struct files_reader *r, int delim, size_t max_line, struct files_rec *rec);
/* Skip a UTF-8 (or GB18030) byte order mark at the start; returns its length. */
uint64_t files_bom_len(int fd, enum files_encoding enc, uint64_t size);
/* Decide "auto" for a file: FILES_UTF8 when all of its bytes are UTF-8, else FILES_GB18030.
 * -1 with errno on a read error. */
int files_detect(int fd, uint64_t size, enum files_encoding *out);

/* Text conversion to UTF-8 for one encoding. */
struct files_text {
	enum files_encoding enc;
	iconv_t cd; /* (iconv_t)-1 for UTF-8 */
	struct fbuf out;
};
int files_text_open(struct files_text *t, enum files_encoding enc);
void files_text_close(struct files_text *t);
/*
 * `n` bytes as UTF-8. *utf8 points at the text (the input itself when it is already clean
 * UTF-8, else t->out). A byte that is not valid in the encoding, and a NUL, appear as the four
 * characters \xNN and set *invalid. 0, or -1 when memory is short.
 */
int files_text_decode(struct files_text *t, const char *in, size_t n, const char **utf8,
		      size_t *utf8_len, int *invalid);
size_t files_utf8_valid(const unsigned char *p, size_t n);

/* CSV fields of one row of UTF-8 text. */
struct files_fields {
	struct fbuf text; /* field values, unquoted, back to back */
	size_t *off, *len;
	size_t n, cap;
};
/* Split a row; 0, or -1 with a reason in `why` (text after a closing quote, a quote left open,
 * more than FILES_MAX_COLUMNS fields), or -2 when memory is short. */
int files_csv_split(const char *p, size_t n, char delim, struct files_fields *f, char *why,
		    size_t whylen);
void files_fields_free(struct files_fields *f);

/* --- files_json.c --- */

/* What files_json_check learns about a row's top level. */
struct files_json {
	struct {
		const char *p;
		size_t len;
		uint32_t hash;
	} keys[FILES_MAX_COLUMNS]; /* member names as written (escapes not decoded) */
	size_t n_keys;
	const char *member;  /* the requested member's string content as written, or NULL */
	size_t member_len;
};

/*
 * Check that p[0..n) (UTF-8) is one JSON value. 0: an object, described in *out (`member`:
 * which top-level member's string value to report, or NULL); 1: valid JSON but not an object;
 * -1: not acceptable JSON, with what and where in `why`.
 */
int files_json_check(const char *p, size_t n, const char *member, struct files_json *out,
		     char *why, size_t whylen);

/* --- files_rows.c --- */

/* files_rows_next() results. */
enum { FILES_ROW_END = 0, FILES_ROW_OK = 1, FILES_ROW_BAD = 2, FILES_ROW_EIO = -1,
       FILES_ROW_NOMEM = -2 };

/* The rows of one file, each decoded and checked. */
struct files_rows {
	const struct files_settings *s;
	int delim;                /* CSV delimiter, or -1 for JSON Lines */
	struct files_text *text;  /* borrowed: the file's encoding */
	struct files_reader rd;
	struct files_rec rec;     /* the current row's bytes */
	struct files_fields header, fields;
	int has_header;           /* CSV: a header row was found */
	char header_err[256];     /* CSV: why the header is unusable, or "" */
	uint64_t header_line;
	uint64_t line;            /* lines before the next row */
	uint64_t row_line;        /* the line the current row starts on */
	const char *utf8;         /* the current row as UTF-8 */
	size_t utf8_len;
	int invalid;              /* it held bytes not valid in the encoding */
	struct files_json *json;  /* JSON Lines: the current row's top level (allocated once) */
	char why[512];            /* FILES_ROW_BAD: the reason, for the _error member */
};

/*
 * Start reading `fd` (`size` bytes as found ready) at `start`, a row boundary after `line`
 * lines; `start` 0: at the first row. A CSV header is read first either way. Returns 0, or
 * FILES_ROW_EIO / FILES_ROW_NOMEM.
 */
int files_rows_open(struct files_rows *w, const struct files_settings *s, struct files_text *text,
		    enum files_format fmt, int fd, uint64_t size, uint64_t start, uint64_t line);
/* The next row: FILES_ROW_OK (CSV: w->fields; JSON Lines: w->json), FILES_ROW_BAD (w->why),
 * FILES_ROW_END, or FILES_ROW_EIO (errno) / FILES_ROW_NOMEM. */
int files_rows_next(struct files_rows *w);
/* Release what the rows hold (w may be reused by files_rows_open). */
void files_rows_free(struct files_rows *w);

/* --- files_emit.c --- */

/*
 * Whether none of the 8 bytes at p is below 0x20, '"' or '\\': the bytes a JSON string cannot
 * hold raw, so runs of them are skipped eight at a time. SWAR: "has a byte below k" is
 * (x - k*0x0101..) & ~x & 0x8080..; "has a zero byte" is the same with k = 1, applied to
 * x ^ '"' and x ^ '\\'. A false alarm only ends a run early.
 */
static inline int files_plain8(const void *p)
{
	uint64_t w, q, e;

	memcpy(&w, p, 8);
	q = w ^ 0x2222222222222222ull;
	e = w ^ 0x5c5c5c5c5c5c5c5cull;
	return !((((w - 0x2020202020202020ull) & ~w) | ((q - 0x0101010101010101ull) & ~q) |
		  ((e - 0x0101010101010101ull) & ~e)) & 0x8080808080808080ull);
}

/* Append `n` bytes of UTF-8 as the inside of a JSON string. Returns as files_buf_add. */
int files_json_escape(struct fbuf *b, const char *p, size_t n, size_t max);

/* What every record of one file shares. */
struct files_out {
	struct fbuf json;      /* the record being built */
	struct fbuf tail;      /* ,"_file":"<name>","_line": */
	struct fbuf keys;      /* CSV: "<column>": for each column, back to back */
	size_t *key_off;       /* CSV: start of each column's key in keys */
	size_t n_keys;
	struct fbuf hex;       /* scratch for _raw_hex */
};
/* Start a file: its name as shown in _file (already UTF-8). */
int files_out_begin(struct files_out *o, const char *name_utf8, size_t name_len);
/* CSV: set the header's column names (UTF-8). */
int files_out_columns(struct files_out *o, const struct files_fields *header);
void files_out_free(struct files_out *o);
/* A CSV row as {column: value, ..., "_file", "_line"} in o->json; 0, or 1 when it would
 * pass FILES_MAX_RECORD, or -1 when memory is short. */
int files_out_csv(struct files_out *o, const struct files_fields *f, uint64_t line);
/* A JSON line (a valid object; `empty` when it has no members) with _file and _line added
 * before its closing brace. Same returns. */
int files_out_jsonl(struct files_out *o, const char *p, size_t n, int empty, uint64_t line);
/*
 * A bad row: {"_error", "_file", "_line", "_raw", and "_raw_hex" when the raw bytes were not
 * valid text, "_raw_bytes" and "_truncated" when they were cut}. `text` is the raw bytes as
 * UTF-8 (\xNN for invalid bytes). 0 or -1.
 */
int files_out_bad(struct files_out *o, const char *error, uint64_t line,
		  const struct files_rec *rec, const char *text, size_t text_len, int invalid);

/* --- files.c, files_pull.c, files_count.c --- */

/* One configured source: create() builds it, destroy() releases it. */
struct files_source {
	struct files_settings s;
	struct files_text text[3]; /* by enum files_encoding, opened at create() */
	struct files_text names;   /* UTF-8, for file names in messages and _file */
	struct files_rows rows;
	struct files_out out;
	struct fbuf cursor;        /* the cursor text being committed */
};

/* Log through the host, if it lends a log function. */
void files_log(const struct spgw_host *host, enum spgw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fill err->text (printf-style) and return `rc`. */
int files_fail(struct spgw_plugin_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Open the drop directory; on failure fill err with what to do and return RETRY or ERROR. */
int files_open_dir(const struct files_source *src, int *dirfd, struct spgw_plugin_error *err);
/* A file name as UTF-8 for messages and _file (\xNN for bytes that are not UTF-8); valid
 * until the next call. */
const char *files_name_utf8(struct files_source *src, const char *name, size_t *len);

/* A date at the start of `p`: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (what follows, such as a
 * time, is ignored), a day the calendar has. 1 with its day number since 1970-01-01 in *day,
 * or 0 when there is none. */
int files_parse_day(const char *p, size_t n, long *day);

int files_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	       struct spgw_plugin_error *err);
int files_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		     const struct spgw_host *host, struct spgw_plugin_error *err);
int files_count(void *ctx, const char *table, const char *from, const char *to,
		const struct spgw_host *host, struct spgw_plugin_error *err);

#endif
