/*
 * spgw-national-sim: the national platform as the gateway's tests and demos meet it, on
 * loopback only. It implements the receiving side of PROTOCOL.md and nothing else; its
 * crypto is written here on OpenSSL EVP, independently of gateway/sign.c, so that a bug on
 * one side shows up as a refusal on the other instead of cancelling out.
 *
 * Modules, one per stage of a request:
 *   sim_main.c     command line: init, register, serve, stats, dump, seed
 *   sim_tls.c      the test CA, the server certificate and the receipt key (init)
 *   sim_crypto.c   digests, signatures, base64, key files (shared with sim_client.c)
 *   sim_gateways.c gateways.json: registered gateways, keys and regions
 *   sim_http.c     the HTTPS server (libmicrohttpd): read, route, answer, cut
 *   sim_auth.c     PROTOCOL.md §1 and §5: headers, content digest, signature, nonce
 *   sim_json.c     the batch body parser that pins canonical-form problems on one record
 *   sim_batch.c    POST BASE/batches: shape, per-record results, receipt, idempotency
 *   sim_store.c    SQLite: versions, newest version per key, batches, nonces
 *   sim_query.c    GET BASE/counts and BASE/keys
 *   sim_fault.c    fault injection and the lying-platform modes
 *   sim_seed.c     seed: a new store filled from a gateway ledger, without HTTP
 *   sim_common.c   dates, regions, tokens: helpers the client shares
 * and for spgw-sim-client (a gateway in miniature): sim_client.c, sim_ledger_gen.c.
 */
#ifndef SPGW_SIM_H
#define SPGW_SIM_H

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "schema.h"

/* PROTOCOL.md numbers, each used once through these names. */
#define SIM_BASE_DEFAULT "/spgl/v3"
#define SIM_LISTEN_DEFAULT "127.0.0.1:8443"
#define SIM_MAX_RECORDS 1000                 /* §2: records per batch */
#define SIM_MAX_BYTES (8u * 1024 * 1024)     /* §2: batch bytes before compression */
#define SIM_MAX_SKEW 300                     /* §1: timestamp distance from our clock */
#define SIM_NONCE_WINDOW 600                 /* §1: a nonce may not come back this long */
#define SIM_KEYS_PAGE 5000                   /* §3: keys per answer */
#define SIM_MAX_DAYS 366                     /* §5: days in one counts range */
#define SIM_SM2_ID "1234567812345678"        /* §5: SM2 signer id, both directions */
#define SIM_GATEWAY_ID_MAX 64                /* §5: [A-Za-z0-9._-]{1,64} */
#define SIM_BATCH_ID_MAX 128                 /* §5: [A-Za-z0-9._-]{1,128} */

/*
 * Our own ceilings. A compressed body is read up to the uncompressed limit plus this margin
 * (gzip can grow incompressible input by a few bytes per 16 KiB block); anything longer is
 * answered 413 without being inflated. Past SIM_DISCARD_MAX the connection is simply closed,
 * so a peer cannot keep a thread busy forever.
 */
#define SIM_GZIP_MARGIN (64u * 1024)
#define SIM_DISCARD_MAX (64u * 1024 * 1024)
/* A GET carries no body; anything beyond this is not a client of ours. */
#define SIM_MAX_GET_BODY (64u * 1024)
/* A request target (path and query): counts and keys queries are short. */
#define SIM_MAX_TARGET 8192
/* A record key in a batch: DFSJZJ is at most 100 characters in spgl-v3; 1 KiB of UTF-8 is
 * far above any real key and keeps log lines and SQLite rows bounded. */
#define SIM_MAX_KEY 1024

/* ---- sim_crypto.c ---- */

enum sim_alg {
	SIM_ALG_SM2_SM3 = 0,
	SIM_ALG_ECDSA_P256 = 1,
	SIM_ALG_ED25519 = 2,
};

/* "sm2-sm3", "ecdsa-p256-sha256", "ed25519". */
const char *sim_alg_name(enum sim_alg alg);
/* 0 and *alg set when `name` is one of the three names, -1 otherwise. */
int sim_alg_parse(const char *name, enum sim_alg *alg);
/* The digest an algorithm pairs with (§5): "sm3" or "sha-256". */
const char *sim_alg_digest(enum sim_alg alg);
/* The algorithm a key signs with: 0 with *alg set, -1 for any other kind of key. */
int sim_key_alg(EVP_PKEY *k, enum sim_alg *alg);
/* A public key from PEM text (SubjectPublicKeyInfo): new, EVP_PKEY_free(); NULL on error. */
EVP_PKEY *sim_key_public_pem(const char *pem, size_t len);
/* The public half of a key as PEM text: new string (spgw_free), NULL on error. */
char *sim_key_public_text(EVP_PKEY *k);
/* Load a private key PEM file: new, EVP_PKEY_free(); NULL with `err` set. */
EVP_PKEY *sim_key_load_private(const char *path, struct spgw_error *err);
/* Load a public key PEM file: new, EVP_PKEY_free(); NULL with `err` set. */
EVP_PKEY *sim_key_load_public(const char *path, struct spgw_error *err);
/* Digest `n` bytes with "sm3" or "sha-256" (digest_name) into md (32 bytes): 0 or -1. */
int sim_digest(const char *digest_name, const void *p, size_t n, unsigned char md[32]);
/* Sign `msg` (§1: DER for SM2 and ECDSA, raw 64 bytes for Ed25519): *sig new (spgw_free). */
int sim_sign(EVP_PKEY *k, enum sim_alg alg, const void *msg, size_t n, unsigned char **sig,
	     size_t *sig_len);
/* 1 when `sig` is a good signature of `msg` by `k`, 0 otherwise. */
int sim_verify(EVP_PKEY *k, enum sim_alg alg, const void *msg, size_t n,
	       const unsigned char *sig, size_t sig_len);
/* Standard base64 with padding, new string (spgw_free) or NULL. */
char *sim_b64_encode(const void *p, size_t n);
/* Strict decode (padding required, nothing else): *out new (spgw_free); 0 or -1. */
int sim_b64_decode(const char *s, size_t len, unsigned char **out, size_t *n);
/* Lowercase hex of `n` bytes into `hex` (2n+1 bytes). */
void sim_hex(const unsigned char *p, size_t n, char *hex);
/* Fill `n` bytes from OpenSSL's CSPRNG: 0 or -1. */
int sim_random(void *p, size_t n);
/* The whole file, NUL-terminated (*out new, spgw_free). SPGW_E_LIMIT beyond `max` bytes. */
enum spgw_rc sim_read_file(const char *path, size_t max, char **out, size_t *len,
			   struct spgw_error *err);
/* Write a file through a temporary name, fsync and rename, so no reader sees half of it. */
enum spgw_rc sim_write_file(const char *path, const void *p, size_t n, mode_t mode,
			    struct spgw_error *err);

/* ---- sim_tls.c ---- */

struct sim_init_opts {
	const char *dir;
	enum sim_alg alg;   /* of national.key */
	const char *hosts;  /* "127.0.0.1,localhost" */
	int force;
};
/* `spgw-national-sim init`: see README.md. */
enum spgw_rc sim_tls_init(const struct sim_init_opts *o, struct spgw_error *err);

/* ---- sim_gateways.c ---- */

/* One registered gateway: its public key and the regions it may report for. */
struct sim_gateway {
	char id[SIM_GATEWAY_ID_MAX + 1];
	enum sim_alg alg;
	EVP_PKEY *key;
	char **regions; /* "220100", or a prefix pattern "22*" */
	size_t n_regions;
};

/* The registered gateways as read from gateways.json, shared by request threads. */
struct sim_registry;

/* Read DIR/gateways.json: *out new, released with sim_registry_put(). */
enum spgw_rc sim_registry_load(const char *dir, struct sim_registry **out,
			       struct spgw_error *err);
/* One more reference (for a request in flight while SIGHUP swaps the registry). */
struct sim_registry *sim_registry_get(struct sim_registry *r);
/* Drop a reference; the last one frees. NULL is a no-op. */
void sim_registry_put(struct sim_registry *r);
/* The gateway with that id, borrowed from `r`; NULL when not registered. */
const struct sim_gateway *sim_registry_find(const struct sim_registry *r, const char *id);
size_t sim_registry_count(const struct sim_registry *r);
/* Nonzero when the gateway may report for `region` (six digits). */
int sim_gateway_allows(const struct sim_gateway *g, const char *region);
/* `spgw-national-sim register`: add or replace a gateway in DIR/gateways.json. */
enum spgw_rc sim_registry_register(const char *dir, const char *id, const char *key_path,
				   const char *regions, struct spgw_error *err);

/* ---- sim_store.c ---- */

struct sim_store;

/*
 * Open the store at `path` (DIR/national.db), created with its tables when absent. With
 * `readonly` (stats, dump) nothing is created: SPGW_E_NOTFOUND when there is no file yet.
 */
enum spgw_rc sim_store_open(const char *path, int readonly, struct sim_store **out,
			    struct spgw_error *err);
void sim_store_close(struct sim_store *st);

/*
 * Writes go through one connection, serialised by the store's lock: take it with
 * sim_store_lock(), then begin/commit/rollback inside it. Commit also writes the day
 * counts the transaction's versions and moves changed.
 */
void sim_store_lock(struct sim_store *st);
void sim_store_unlock(struct sim_store *st);
enum spgw_rc sim_store_begin(struct sim_store *st, struct spgw_error *err);
enum spgw_rc sim_store_commit(struct sim_store *st, struct spgw_error *err);
void sim_store_rollback(struct sim_store *st);

/*
 * Use up a nonce (takes the lock itself): 1 when it was fresh (now remembered), 0 when the
 * gateway sent it within SIM_NONCE_WINDOW seconds before `now`, -1 on a store error.
 */
int sim_store_nonce_use(struct sim_store *st, const char *gateway, const char *nonce, time_t now,
			struct spgw_error *err);

/* A stored batch answer (lock held). 1 found (*answer new, spgw_free), 0 not, -1 error. */
int sim_store_batch_get(struct sim_store *st, const char *gateway, const char *batch_id,
			char sha[65], char **answer, size_t *len, struct spgw_error *err);
/* Count one replay of a stored answer (lock held). */
enum spgw_rc sim_store_batch_replayed(struct sim_store *st, const char *gateway,
				      const char *batch_id, struct spgw_error *err);

struct sim_batch_row {
	const char *gateway, *batch_id, *body_sha256, *region, *table, *received_at;
	long records, accepted, duplicate, rejected;
	const char *answer;
	size_t answer_len;
};
enum spgw_rc sim_store_batch_put(struct sim_store *st, const struct sim_batch_row *b,
				 struct spgw_error *err);

/* The newest version of a key (lock held): 1 found, 0 not, -1 error. */
int sim_store_current(struct sim_store *st, const char *region, const char *table,
		      const char *key, long *version, char digest[80], char day[11], int *valid,
		      struct spgw_error *err);

struct sim_version_row {
	const char *region, *table, *key, *digest, *day;
	long version;
	int valid; /* SJYXBS is the number 1 */
	const char *data;
	size_t data_len;
	const char *gateway, *batch_id, *received_at;
	/* the key's newest version until now, as sim_store_current() gave it: its day
	 * (NULL for a new key) and validity, which the day counts take back */
	const char *prev_day;
	int prev_valid;
};
/* Store a new version and make it the key's newest (lock held). */
enum spgw_rc sim_store_version_put(struct sim_store *st, const struct sim_version_row *v,
				   struct spgw_error *err);
/* Move the key's newest version from day `from` to `day` (lock held); `valid` is its
 * validity, for the day counts. */
enum spgw_rc sim_store_move_day(struct sim_store *st, const char *region, const char *table,
				const char *key, const char *from, const char *day, int valid,
				struct spgw_error *err);

/* Reads (their own connection and lock; safe beside writes thanks to WAL). */
typedef int (*sim_store_day_fn)(void *ud, const char *day, long records, long valid);
enum spgw_rc sim_store_counts(struct sim_store *st, const char *region, const char *table,
			      const char *from, const char *to, sim_store_day_fn fn, void *ud,
			      struct spgw_error *err);
typedef int (*sim_store_key_fn)(void *ud, const char *key, const char *digest);
/* Up to `limit` keys of a day after `after` (NULL: from the first; with `inclusive`,
 * `after` itself too), in key order. */
enum spgw_rc sim_store_keys(struct sim_store *st, const char *region, const char *table,
			    const char *day, const char *after, int inclusive, long limit,
			    sim_store_key_fn fn, void *ud, struct spgw_error *err);
/* What the store holds, per region and table (stats command): new JSON object. */
json_t *sim_store_stats(struct sim_store *st, struct spgw_error *err);
/* dump: the newest version of every key of a table, or every version. */
typedef int (*sim_store_dump_fn)(void *ud, const char *key, long version, const char *digest,
				 const char *day, int current);
enum spgw_rc sim_store_dump(struct sim_store *st, const char *region, const char *table,
			    int all_versions, sim_store_dump_fn fn, void *ud,
			    struct spgw_error *err);

/*
 * Bulk load (seed): a new store at `path` (which must not exist), filled by
 * sim_store_bulk_version() for every version and sim_store_bulk_current() once per key with
 * its newest state; sim_store_bulk_finish() builds the indexes, `current` and day_counts
 * and puts the file in place. The caller numbers versions and judges duplicates; the store
 * takes what it is given. *out new, sim_store_bulk_free() (which, unfinished, removes the
 * half-built file).
 */
struct sim_store_bulk;
struct sim_current_row {
	const char *region, *table, *key, *digest, *day;
	long version, moves;
	int valid;
};
enum spgw_rc sim_store_bulk_new(const char *path, struct sim_store_bulk **out,
				struct spgw_error *err);
enum spgw_rc sim_store_bulk_version(struct sim_store_bulk *b, const struct sim_version_row *v,
				    struct spgw_error *err);
enum spgw_rc sim_store_bulk_current(struct sim_store_bulk *b, const struct sim_current_row *c,
				    struct spgw_error *err);
enum spgw_rc sim_store_bulk_finish(struct sim_store_bulk *b, struct spgw_error *err);
void sim_store_bulk_free(struct sim_store_bulk *b);

/* ---- sim_fault.c ---- */

enum sim_lie {
	SIM_LIE_NONE = 0,
	SIM_LIE_RECEIPT_SIG,     /* the receipt's signature does not verify */
	SIM_LIE_RECEIPT_COUNTS,  /* well signed, but the counts disagree with the results */
	SIM_LIE_NOT_JSON,        /* 200 with a body that is not JSON */
	SIM_LIE_TRUNCATED,       /* 200 with the JSON cut in half (complete HTTP message) */
	SIM_LIE_RESULTS_FEWER,   /* the last result left out */
	SIM_LIE_RESULTS_MORE,    /* one result too many */
};

/* --lie-counts: GET counts answers that a careful reconciliation must not take as they are. */
enum sim_lie_counts {
	SIM_LIE_COUNTS_NONE = 0,
	SIM_LIE_COUNTS_SHIFT,    /* every day listed one day later than it is */
	SIM_LIE_COUNTS_OUTSIDE,  /* a day before `from` and one after `to` listed too */
	SIM_LIE_COUNTS_PLUS_ONE, /* `records` of the first day one more than its keys */
	SIM_LIE_COUNTS_TOTAL,    /* `total.records` one more than the days add up to */
};

/* --lie-keys: GET keys paging that a client following `next` blindly gets wrong. */
enum sim_lie_keys {
	SIM_LIE_KEYS_NONE = 0,
	SIM_LIE_KEYS_LOOP,   /* the last page's `next` is the day's first key: paging never ends */
	SIM_LIE_KEYS_REPEAT, /* a page after the first starts with `after` again */
};

struct sim_reject_rule {
	char field[48];
	char *pattern; /* owned, for messages */
	regex_t re;
};

struct sim_faults {
	double fail_5xx, fail_429, hang, reset, reject_rate, lie_rate;
	long retry_after;   /* seconds; -1: not given (429 then says 1) */
	long hang_seconds;
	long slow_ms;
	uint64_t seed;
	struct sim_reject_rule *rejects; /* owned */
	size_t n_rejects;
	int force_status;   /* 0: none */
	long force_left;    /* answers still to force; -1: all */
	enum sim_lie lie;
	/* GET counts and keys */
	enum sim_lie_counts lie_counts;
	enum sim_lie_keys lie_keys;
	double lie_counts_rate, lie_keys_rate;
	long slow_query_ms;
	/* runtime */
	pthread_mutex_t lock;
	uint64_t rng;
	uint64_t rng_query;     /* a stream of its own: GETs never shift the batches' faults */
	unsigned long requests; /* POST /batches seen, for log lines */
};

/* What to do with one POST /batches, decided before it is read further. */
struct sim_fault_plan {
	int status;    /* answer this status without processing (0: process) */
	const char *why; /* "--fail-5xx", "--force-status", ... */
	int hang;      /* hold the request, then close without an answer */
	int reset;     /* process, then cut the answer */
	enum sim_lie lie;
};

void sim_faults_init(struct sim_faults *f);
void sim_faults_free(struct sim_faults *f);
/* Parse one fault option of `serve` with its value. 1: it was one and is set; 0: not a fault
 * option; -1: bad value (message in err). */
int sim_faults_option(struct sim_faults *f, const char *opt, const char *val,
		      struct spgw_error *err);
/* A one-line description of the faults in force, for the start-up line. */
void sim_faults_describe(const struct sim_faults *f, char *buf, size_t size);
/* Decide the plan for the next POST /batches (draws from the seeded PRNG in a fixed order). */
void sim_fault_plan(struct sim_faults *f, struct sim_fault_plan *p);
/*
 * The injected rejections for one record, decided from the seed and the record itself (not
 * from request order, so a resent record meets the same fate). Appends {field, code,
 * message} objects to `errors`; returns how many.
 */
size_t sim_fault_reject(const struct sim_faults *f, const char *region, const char *table,
			const char *key, const char *digest, const json_t *data, json_t *errors);

/*
 * Whether a --lie-counts / --lie-keys of fraction `rate` strikes this GET: one draw from the
 * queries' own PRNG stream (seeded by --seed) per counts or keys request that has such a
 * fault configured.
 */
int sim_fault_query_strikes(struct sim_faults *f, double rate);
/* The mode's name as on the command line ("shift", "loop"), for log lines. */
const char *sim_lie_counts_name(enum sim_lie_counts m);
const char *sim_lie_keys_name(enum sim_lie_keys m);
/*
 * Spoil a counts answer the way `m` says: `days` is its "days" array (from..to, in order),
 * *records and *valid its totals. `from` and `to` are the dates asked for.
 */
void sim_fault_counts(enum sim_lie_counts m, const char *from, const char *to, json_t *days,
		      long *records, long *valid);

/* ---- sim_http.c ---- */

struct sim_server;

/* What the handler answers. */
struct sim_answer {
	int status;
	char *body;        /* owned (spgw_malloc) */
	size_t len;
	const char *content_type; /* static; NULL: application/json; charset=utf-8 */
	long retry_after;  /* seconds; < 0: no Retry-After */
	const char *allow; /* for 405 */
	int reset;         /* send part of the answer, then cut the connection */
	int drop;          /* close the connection without any answer */
	char log[160];     /* a short note for the request log line */
};

/* An error answer per §4: {"error": code, "message": text}. */
void sim_answer_error(struct sim_answer *a, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A 200 (or other) answer whose body is exactly these bytes (copied). */
void sim_answer_bytes(struct sim_answer *a, int status, const char *p, size_t n);
/* A JSON answer (`j` stolen). */
void sim_answer_json(struct sim_answer *a, int status, json_t *j);
void sim_answer_clear(struct sim_answer *a);

/* One request as the stages see it, MHD kept out of them. Strings borrowed. */
struct sim_request {
	const char *method;
	const char *target;  /* path and query exactly as sent */
	const char *path;    /* target up to '?' */
	const char *query;   /* after '?', NULL when none */
	const char *h_gateway, *h_timestamp, *h_nonce, *h_digest, *h_signature;
	const char *h_content_type, *h_content_encoding;
	const unsigned char *body; /* after Content-Encoding was undone */
	size_t body_len;
	time_t now;          /* our clock, --clock-offset applied */
};

/* ---- the server as a whole (sim_main.c fills it, the modules read it) ---- */

struct sim_server {
	const char *dir;
	const char *base;         /* "/spgl/v3" */
	const struct spgw_schema *schema;
	struct sim_store *store;
	EVP_PKEY *national;       /* receipt key */
	enum sim_alg national_alg;
	long max_records;
	size_t max_bytes;
	long clock_offset;
	int quiet;
	struct sim_faults faults;

	pthread_mutex_t reg_lock; /* guards `reg` (swapped on SIGHUP) */
	struct sim_registry *reg;

	/* shutdown: waits (hang, slow) end early when `stopping` is set */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int stopping;
};

/* Our clock: the system clock plus --clock-offset. */
time_t sim_now(const struct sim_server *s);
/* Wait up to `ms` milliseconds, less if the server is stopping. */
void sim_sleep_ms(struct sim_server *s, long ms);
/* The registry in force, with a reference (sim_registry_put when done). */
struct sim_registry *sim_server_registry(struct sim_server *s);

struct sim_daemon;
/* Start serving on `addr` (IPv4 in 127.0.0.0/8); *port gets the bound port. */
enum spgw_rc sim_http_start(struct sim_server *s, const char *addr, unsigned port,
			    const char *cert_pem, const char *key_pem, struct sim_daemon **out,
			    unsigned *bound, struct spgw_error *err);
void sim_http_stop(struct sim_daemon *d);

/* ---- sim_auth.c ---- */

/*
 * §1 and §5 in their order: gateway, timestamp (sim_auth_identify, before the body is
 * decoded), then content digest, signature, nonce (sim_auth_verify, over the decoded body).
 * Each returns 0 when the request passes; otherwise it fills `a` and returns -1. *gw is
 * borrowed from `reg`.
 */
int sim_auth_identify(struct sim_server *s, const struct sim_registry *reg,
		      const struct sim_request *r, const struct sim_gateway **gw,
		      struct sim_answer *a);
int sim_auth_verify(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a);

/* ---- sim_batch.c ---- */

/* POST BASE/batches from an authenticated gateway. */
void sim_batch_post(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a);
/* Sign a receipt (§2) with the national key: new base64 string (spgw_free), NULL on error. */
char *sim_receipt_sign(struct sim_server *s, const char *batch_id, const char *received_at,
		       const char *content_digest, long accepted, long duplicate, long rejected);

/* ---- sim_fault.c, the part that needs the server ---- */

/* Corrupt a 200 batch answer the way --lie says; the batch itself was stored. */
void sim_fault_lie(struct sim_server *s, enum sim_lie lie, struct sim_answer *a);

/* ---- sim_seed.c ---- */

#define SIM_SEED_MAX_LEDGERS 64

struct sim_seed_opts {
	const char *dir;                            /* DIR: DIR/national.db must not exist */
	const char *ledgers[SIM_SEED_MAX_LEDGERS];  /* spgw.db files or state directories */
	size_t n_ledgers;
	const char *gateway;  /* the versions' gateway column */
	const char *schema;   /* for --alter: the fields it leaves alone */
	const char *manifest; /* NULL: none */
	double drop, alter;   /* shares of keys, drop + alter <= 1 */
	long extra;
	uint64_t seed;
};

struct sim_seed_result {
	long read;        /* delivered versions read from the ledgers */
	long keys;        /* keys stored (extra included) */
	long versions;    /* versions stored */
	long duplicates;  /* delivered versions equal to their key's newest: not stored */
	long moves;       /* of those, the ones that moved their key to another day */
	long dropped, altered, extra;
	double load_seconds, seconds; /* reading and storing; all with the indexes built */
};

/* `spgw-national-sim seed`: README.md "seed". */
enum spgw_rc sim_seed_run(const struct sim_seed_opts *o, struct sim_seed_result *res,
			  struct spgw_error *err);

/* ---- sim_ledger_gen.c (spgw-sim-client make-ledger) ---- */

/* argv[0] is "make-ledger": 0 done, 1 failed, 2 bad command line. */
int sim_ledger_gen_main(int argc, char **argv);

/* ---- sim_json.c ---- */

/*
 * Parse a batch body. Problems that make one record's data have no canonical form (a
 * duplicate member name, a lone surrogate, bytes that are not UTF-8, a number no double
 * holds) are not fatal when they are inside records[i].data: the value is kept in a
 * readable form and `issues` gets { "<i>": "<text>" } so that record alone is rejected with
 * code "canonical". The same problems anywhere else, and any syntax error, fail the parse.
 * Returns a new reference, or NULL with `errtext` set.
 */
json_t *sim_json_parse_batch(const char *p, size_t n, json_t *issues, char errtext[200]);

/* ---- sim_query.c ---- */

void sim_query_counts(struct sim_server *s, const struct sim_gateway *gw,
		      const struct sim_request *r, struct sim_answer *a);
void sim_query_keys(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a);

/* ---- sim_common.c: small helpers shared by the server and the client ---- */

/* Days since 1970-01-01 of a valid YYYY-MM-DD, and back (out: 11 bytes). */
long sim_days_of(const char *date);
void sim_date_of(long days, char out[11]);
int sim_is_date(const char *s);              /* YYYY-MM-DD that exists */
int sim_is_region(const char *s);            /* six ASCII digits */
int sim_is_token(const char *s, size_t max); /* [A-Za-z0-9._-]{1,max} */
/* Make `s` valid UTF-8 in place, for JSON: a multi-byte character cut at the end of a
 * bounded "%.40s" is dropped, any other invalid byte becomes '?'. */
void sim_utf8_fix(char *s);
/* RFC 3339 UTC with seconds and Z. */
void sim_rfc3339(time_t t, char out[21]);

#endif
