/*
 * spgw-changchun-sim: Changchun's approval-system API (jilin spec §4) on loopback, serving a
 * dataset directory, with the faults a real city system shows. README.md beside this file is
 * the user's guide.
 *
 *   ccsim_main.c   the command line, start and stop
 *   ccsim_data.c   the dataset: loading, order, pages, mutation
 *   ccsim_day.c    business days (for /stats/daily): the dates Changchun writes
 *   ccsim_http.c   the HTTP server (libmicrohttpd): routes, tokens, faults
 *   ccsim_gbk.c    pages served in GBK
 *   ccsim_scan.c   checking a record line and finding its members without building it
 */
#ifndef CCSIM_H
#define CCSIM_H

#include <iconv.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The entities of the API, in parent-before-child order. */
#define CCSIM_ENTITIES 8
extern const char *const ccsim_entity_names[CCSIM_ENTITIES];
/* Index of `name` in ccsim_entity_names, or -1. */
int ccsim_entity_find(const char *name);

/* The most a page may hold: the API's documented page_size ceiling. */
#define CCSIM_MAX_PAGE 500
/* The longest record line accepted in a dataset file: a real record is a few KiB. */
#define CCSIM_MAX_LINE (1u << 20)

/* One record as the API serves it. */
struct ccsim_rec {
	int64_t ut;       /* update_time, seconds since 1970-01-01 00:00:00 (Beijing wall time) */
	const char *id;   /* NUL-terminated, in the dataset's arena */
	char *line;       /* the JSON object as served: UTF-8, or GBK bytes when `gbk` */
	uint32_t len;
	uint32_t ut_off;  /* offset of update_time's 19 characters in `line` */
	int32_t day;      /* business day (days since 1970-01-01), or -1 when it has none */
	uint8_t gbk;      /* `line` holds raw GBK bytes: its page is served as charset=GBK */
	uint8_t deleted;  /* is_deleted = 1 */
};

struct ccsim_entity {
	const char *name;
	struct ccsim_rec *v; /* sorted by (ut, id) */
	size_t n;
	int pages;            /* page requests answered (for --mutate-while-paging) */
	int mutated;          /* the mutation happened */
	size_t last_start;    /* where the previous page began (for --repeat-page) */
	int have_last;
};

struct ccsim_arena;

struct ccsim_data {
	struct ccsim_entity e[CCSIM_ENTITIES];
	struct ccsim_arena *arena; /* ids, lines */
	int64_t max_ut;            /* newest update_time loaded */
	pthread_rwlock_t lock;     /* mutation writes, pages read */
};

struct ccsim_load_opts {
	const char *dir;
	int64_t as_of;   /* only versions with update_time <= as_of; INT64_MAX: all */
	int quiet;
};

/* Load DIR/<entity>.jsonl for every entity (a missing file is an empty entity). 0, or -1
 * after printing what is wrong (file:line: why) to stderr. */
int ccsim_data_load(struct ccsim_data *d, const struct ccsim_load_opts *o);
void ccsim_data_free(struct ccsim_data *d);
/* Index of the first record of `e` after (ut, id) (id "" = before every id). */
size_t ccsim_data_after(const struct ccsim_entity *e, int64_t ut, const char *id);
/*
 * Move `n` random records of `e` to update_time `now` (and later seconds when `now` is
 * taken), as a user editing them would; the caller holds the write lock. Each change is
 * printed to stderr unless `quiet`. `rnd` is the simulator's random source.
 */
void ccsim_data_mutate(struct ccsim_data *d, struct ccsim_entity *e, size_t n, int64_t now,
		       uint64_t *rnd, int quiet);

/* --- ccsim_day.c --- */

/* "YYYY-MM-DD HH:MM:SS" -> seconds; -1 when it is not exactly that. */
int64_t ccsim_time_parse(const char *s, size_t n);
/* seconds -> "YYYY-MM-DD HH:MM:SS" (20 bytes with the NUL). */
void ccsim_time_format(int64_t t, char out[20]);
/* days since 1970 <-> "YYYY-MM-DD" (11 bytes with the NUL); parse returns -1 on error. */
int32_t ccsim_day_parse(const char *s, size_t n);
void ccsim_day_format(int32_t day, char out[11]);
/*
 * The day of a date the way Changchun writes them: "2026-11-03", "2026/11/3", "20261103",
 * "2026年11月3日", each optionally followed by a time; 13 digits are Unix milliseconds and
 * 10 digits Unix seconds (Beijing time). -1 when it is none of these or the day does not exist.
 */
int32_t ccsim_day_of_text(const char *s, size_t n);
/* Days from civil date. */
int32_t ccsim_days_from_civil(int y, int m, int d);

/* --- ccsim_gbk.c --- */

/* GB18030 (a superset of GBK) from UTF-8, appended to *out (grown with realloc). 0, or -1
 * when memory is short or the text is not UTF-8. */
int ccsim_gbk_append(iconv_t cd, const char *in, size_t n, char **out, size_t *len,
		     size_t *cap);
/*
 * A record marked "_charset": "gbk" in the dataset: its text `utf8` (a JSON object whose
 * strings hold one byte per character U+0000..U+00FF, as the generator writes GBK bytes) as
 * the bytes a GBK system sends, without the marker. *out is new (free). 0, or -1 with why.
 */
int ccsim_gbk_record(const char *utf8, size_t n, char **out, size_t *out_len, char *why,
		     size_t whylen);

/* --- ccsim_scan.c --- */

enum { CCSIM_STRING = 1, CCSIM_NUMBER = 2, CCSIM_LITERAL = 3, CCSIM_OTHER = 4 };
/* A top-level member to find: `name` in; the rest out (type 0: absent). A string's span is
 * its content between the quotes as written; `esc` says it holds escapes. */
struct ccsim_member {
	const char *name;
	const char *v;
	size_t len;
	int type;
	int esc;
};
/* 0 when p[0..n) is one JSON object in UTF-8 (its members found in m), else -1 with why. */
int ccsim_scan_object(const char *p, size_t n, struct ccsim_member *m, size_t nm,
		      const char **why);

/* --- ccsim_http.c --- */

struct ccsim_faults {
	long slow_ms;
	double fail_500;
	long rate_limit;        /* requests per second, 0: none */
	long expire_token_after;/* requests per token, 0: only the TTL */
	long html_every, truncate_every, repeat_every, skip_every;
	long mutate;            /* records to move during a pull */
};

struct ccsim_server {
	struct ccsim_data *data;
	struct ccsim_faults f;
	const char *app_id;
	char *app_secret;       /* owned */
	long token_ttl;
	int quiet;
	uint64_t seed;
};

struct ccsim_daemon;
/* Listen on 127.0.0.1:port (0: any free one); *bound gets the port. 0 or -1 (printed). */
int ccsim_http_start(struct ccsim_server *s, unsigned port, struct ccsim_daemon **out,
		     unsigned *bound);
void ccsim_http_stop(struct ccsim_daemon *dm);

/* --- ccsim_data.c --- */

/* A small deterministic generator (splitmix64). */
uint64_t ccsim_rand(uint64_t *state);

#endif
