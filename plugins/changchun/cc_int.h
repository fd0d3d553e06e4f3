/*
 * Internals of the "changchun" plugin, shared by its .c files and invisible outside the .so
 * (built with -fvisibility=hidden; only `spgw_plugin` is exported).
 *
 *   changchun.c  the descriptor, the settings, create/destroy, shared helpers
 *   cc_http.c    one HTTP exchange (libcurl), and the retry loop around it: tokens,
 *                429 + Retry-After, 5xx, timeouts, HTML pages, backoff
 *   cc_json.c    a JSON scanner over bytes (UTF-8, or GBK where a trail byte may be '\')
 *   cc_page.c    a page's bytes -> its records as UTF-8 JSON, each with (update_time, id)
 *   cc_pull.c    pull() and pull_range(): the cursor, entity by entity, page by page,
 *                commit after each
 *   cc_count.c   count(): /stats/daily
 */
#ifndef CC_INT_H
#define CC_INT_H

#include <curl/curl.h>
#include <iconv.h>
#include <spgw/plugin.h>
#include <stddef.h>
#include <stdint.h>

/* The API's entities, parent before child: pulled in this order, so a case's project is
 * normally in the ledger before the case. */
#define CC_ENTITIES 8
extern const char *const cc_entity_names[CC_ENTITIES];
int cc_entity_find(const char *name, size_t len);

/* The API's ceiling on page_size (jilin spec §4). */
#define CC_MAX_PAGE 500
/* Records per commit, at most: below the host's 5000 uncommitted (plugin.h) by more than a page. */
#define CC_COMMIT_RECORDS 4000ul
/* The largest answer accepted: 500 records of a few KiB are ~2 MiB; far beyond this is not a
 * page but a fault, and the memory limit of the plugin process must not be the one to say so. */
#define CC_MAX_BODY (64u * 1024 * 1024)
/* The longest single wait: a Retry-After beyond it ends the pull with RETRY (the next run
 * goes on) instead of holding the plugin process silent for minutes. */
#define CC_MAX_WAIT_MS 60000L
/* The longest backoff step between two attempts. */
#define CC_MAX_BACKOFF_MS 30000L
/* Record ids: the API's are 11-14 characters; DFSJZJ (prefix + id) holds 100. */
#define CC_MAX_ID 96
/* JSON nesting accepted in an answer: a record is an object of scalars; deeper is garbage. */
#define CC_MAX_DEPTH 64
/* New tokens in a row refused by the API before the pull gives up (a token that expires at
 * once would otherwise loop forever). */
#define CC_MAX_REAUTH 3

/* A growable byte buffer; every reserve states its ceiling. */
struct cc_buf {
	char *p;
	size_t len, cap;
};
/* 0, 1 when len + n would pass max, -1 when memory is short. */
int cc_buf_reserve(struct cc_buf *b, size_t n, size_t max);
int cc_buf_add(struct cc_buf *b, const void *p, size_t n, size_t max);
int cc_buf_addf(struct cc_buf *b, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cc_buf_free(struct cc_buf *b);

struct cc_settings {
	char *base_url;    /* without a trailing '/' */
	char *app_id;
	char *secret;      /* app_secret, or the first line of app_secret_file */
	long page_size;
	long commit_records; /* commit once this many records are pending (≤ CC_COMMIT_RECORDS) */
	int want[CC_ENTITIES]; /* which entities to pull */
	long timeout;      /* seconds per request */
	long max_retries;
	long retry_base_ms;
	char *ca_file;
};

/* One position in an entity: the last (update_time, id) committed. */
struct cc_pos {
	int set;
	char t[20];
	char id[CC_MAX_ID + 1];
};

/* One record of a page: where its UTF-8 JSON is, and its place in the order. */
struct cc_item {
	int in_scratch;   /* json is in page.scratch (converted) rather than in the body */
	size_t off, len;
	char t[20];
	char id[CC_MAX_ID + 1];
};

struct cc_page {
	struct cc_item *v;
	size_t n, cap;
	int has_more;
	struct cc_buf scratch;  /* records converted from GBK, back to back */
	size_t raw_strings;     /* strings passed on as raw bytes (not valid text) */
};

/* One configured source: create() builds it, destroy() releases it. */
struct cc_source {
	struct cc_settings s;
	const struct spgw_host *host; /* the current call's */
	char region[8];
	CURL *curl;
	iconv_t gbk;          /* GB18030 -> UTF-8 */
	char *token;
	int64_t token_until;  /* monotonic ms after which the token is renewed first */
	/* the last answer */
	long status;
	struct cc_buf body;
	char content_type[128];
	long retry_after;     /* seconds, -1 when absent */
	int body_over;        /* the body passed CC_MAX_BODY */
	char curl_err[CURL_ERROR_SIZE];
	struct cc_page page;
	struct cc_pos pos[CC_ENTITIES];
	/* pull_range(): the days asked for (YYYY-MM-DD); empty in pull() */
	char range_from[11], range_to[11];
	struct cc_buf cursor;
	unsigned rnd;         /* backoff jitter */
};

/* --- changchun.c --- */

/* Log through the host (tagged with the source by the host); secrets are masked. */
void cc_log(struct cc_source *src, enum spgw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fill err->text (first error kept; secrets masked) and return rc. */
int cc_fail(struct cc_source *src, struct spgw_plugin_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Replace every occurrence of the secret and the token in text with "***". */
void cc_mask(const struct cc_source *src, char *text);
/* A short, printable, masked description of the bytes that came back, for messages. */
void cc_describe(const struct cc_source *src, const char *p, size_t n, char *out, size_t cap);
int64_t cc_now_ms(void);
/* Whether s is written YYYY-MM-DD (digits; the calendar is the API's to check). */
int cc_day_ok(const char *s);
/* Whether p[0..n) is valid UTF-8. */
int cc_utf8_valid(const unsigned char *p, size_t n);

/* --- cc_http.c --- */

/* What a parser says about a 2xx answer. */
enum cc_verdict {
	CC_OK = 0,
	CC_AGAIN = 1,   /* not the JSON expected (cut, garbage): ask again, then RETRY */
	CC_REAUTH = 2,  /* the API says the token is expired or unknown */
	CC_FATAL = 3,   /* the API refuses the request: ERROR with `why` */
	CC_STOP = 4,    /* asking again gives the same answer: RETRY now with `why` */
};
typedef enum cc_verdict (*cc_parse_fn)(struct cc_source *src, void *ud, char *why, size_t cap);

/*
 * GET (post == NULL) or POST `path` (after base_url, with its query) until a parser says OK,
 * retrying what passes (no answer, timeouts, 429, 5xx, HTML, JSON cut short) up to
 * max_retries with backoff, and renewing the token when the API says it expired. `what`
 * names the request in messages ("steps", "the token"), `where` says where the pull stands
 * ("after (2026-11-01 08:00:00, CCB00000012)"). Returns SPGW_PLUGIN_OK, or RETRY / ERROR
 * with err filled.
 */
int cc_request(struct cc_source *src, const char *what, const char *where, const char *path,
	       const char *post, cc_parse_fn parse, void *ud, struct spgw_plugin_error *err);
/* `s` escaped for a URL query, into out; 0 or -1. */
int cc_escape(struct cc_source *src, const char *s, char *out, size_t cap);

/* --- cc_json.c --- */

/* A cursor over JSON text. In GBK mode a byte 0x81-0xFE inside a string takes the next byte
 * with it (a GBK trail byte may be '\' or '[' and is no JSON syntax). */
struct ccj {
	const unsigned char *start, *p, *end;
	int gbk;
	int depth;
	const char *why;  /* static text, when a call failed */
};
void ccj_init(struct ccj *j, const char *p, size_t n, int gbk);
/* The next byte after white space, or -1 at the end. */
int ccj_peek(struct ccj *j);
/* Consume the byte `c` (after white space); 0 or -1. */
int ccj_expect(struct ccj *j, int c);
/* A string: its content between the quotes as written (escapes not decoded); 0 or -1. */
int ccj_string(struct ccj *j, const char **s, size_t *n);
/* Skip any value, checking it; 0 or -1. */
int ccj_skip(struct ccj *j);
/* Consume '{' or '[' (after white space), counting the depth; 0 or -1. */
int ccj_open(struct ccj *j, int c);
/* Object members: call with *first = 1 after ccj_open(j, '{'); 1 with the key and the cursor
 * at the value, 0 at the closing '}' (consumed), -1 on error. */
int ccj_member(struct ccj *j, int *first, const char **key, size_t *klen);
/* Array elements likewise: 1 at an element, 0 after ']', -1. */
int ccj_element(struct ccj *j, int *first);
/* Offset of the cursor, for messages. */
size_t ccj_offset(const struct ccj *j);

/* --- cc_page.c --- */

/*
 * The answer in src->body as a page of `entity`: its records in src->page (each as UTF-8
 * JSON with its update_time and id), has_more. `gbk`: the answer declared a GBK charset.
 */
enum cc_verdict cc_page_parse(struct cc_source *src, int entity, int gbk, char *why, size_t cap);
/* Where item i's JSON is. */
const char *cc_item_json(const struct cc_source *src, const struct cc_item *it);
void cc_page_free(struct cc_page *pg);
/* Whether the Content-Type names a GBK family charset (gbk, gb2312, gb18030, cp936). */
int cc_charset_gbk(const char *content_type);

/* --- cc_pull.c, cc_count.c --- */

int cc_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	    struct spgw_plugin_error *err);
int cc_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		  const struct spgw_host *host, struct spgw_plugin_error *err);
int cc_count(void *ctx, const char *table, const char *from, const char *to,
	     const struct spgw_host *host, struct spgw_plugin_error *err);
/* A JSON answer's "code" and "msg" (for errors); code -1 when absent. */
void cc_answer_code(struct cc_source *src, long *code, char *msg, size_t cap);

#endif
