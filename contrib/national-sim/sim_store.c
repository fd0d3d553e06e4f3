/*
 * What the national platform holds, in DIR/national.db (SQLite, WAL):
 *
 *   versions    every version of every key ever accepted, with its canonical data: the
 *               record of what was received, never updated
 *   current     the newest version of each key, its business day and validity: what counts,
 *               keys and duplicate judgements read
 *   day_counts  per region, table and business day, the keys whose newest version is on
 *               that day and how many of them are valid: what GET counts answers, at most
 *               366 rows to read for a year whatever the store holds (counting `current`
 *               instead reads every key: 0.1 s per million keys with the index in memory,
 *               far more when it is not). Its changes are summed per day while a batch is
 *               stored and written just before that batch's COMMIT, in its transaction:
 *               triggers on `current` did the same at ~11 µs per record, a quarter more CPU
 *               per batch
 *   batches     each answered batch_id of each gateway with the sha256 of its body and the
 *               exact 200 answer, replayed byte for byte when the batch comes again
 *   nonces      request nonces seen in the last SIM_NONCE_WINDOW seconds
 *
 * "Stored twice" is what exactly-once forbids: two consecutive versions of a key with the
 * same digest (a resent record stored again instead of answered duplicate). A digest may
 * legitimately come back later (A, B, A: a change undone), so the check compares neighbours,
 * and stats reports it; it must always be 0.
 *
 * Writes go through one connection under one lock, one transaction per batch; reads (counts,
 * keys) use a second connection so a query never waits behind a batch.
 *
 * `seed` fills a new store without HTTP through the bulk functions at the end of this file:
 * the same tables, with the indexes, `current` and `day_counts` built once at the end
 * instead of row by row.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "sim.h"

/* "SPNS" in ASCII: marks the file as the simulator's store. */
#define STORE_APP_ID 0x53504e53
/*
 * PRAGMA user_version of the store's layout. 0: the first layout (versions with an inline
 * UNIQUE constraint, no day_counts); 1: day_counts, and in a new store the
 * versions' uniqueness as the named index versions_key, which seed can build after loading.
 */
#define STORE_VERSION 1
/* A ~1.5 KB record per version: 16 KiB pages keep the WAL writes few (as the ledger found). */
#define STORE_PAGE_SIZE 16384
/* Page cache of the writer: the newest-version index of a few million keys stays in memory,
 * so a batch's lookups do not read the file. */
#define STORE_CACHE_KIB 65536
/* Prune expired nonces every this many requests, not on each one. */
#define NONCE_PRUNE_EVERY 256

/* The tables. `versions` has no inline UNIQUE: its uniqueness is versions_key (index_sql),
 * which a bulk load builds after the rows instead of row by row. */
static const char tables_sql[] =
	"CREATE TABLE IF NOT EXISTS versions("
	" region TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,"
	" digest TEXT NOT NULL, day TEXT NOT NULL, valid INTEGER NOT NULL, data BLOB NOT NULL,"
	" gateway TEXT NOT NULL, batch_id TEXT NOT NULL, received_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS current("
	" region TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,"
	" digest TEXT NOT NULL, day TEXT NOT NULL, valid INTEGER NOT NULL,"
	" moves INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(region, tbl, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS day_counts("
	" region TEXT NOT NULL, tbl TEXT NOT NULL, day TEXT NOT NULL,"
	" records INTEGER NOT NULL, valid INTEGER NOT NULL,"
	" PRIMARY KEY(region, tbl, day)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS batches("
	" gateway TEXT NOT NULL, batch_id TEXT NOT NULL, body_sha256 TEXT NOT NULL,"
	" region TEXT NOT NULL, tbl TEXT NOT NULL, received_at TEXT NOT NULL,"
	" records INTEGER NOT NULL, accepted INTEGER NOT NULL, duplicate INTEGER NOT NULL,"
	" rejected INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0, answer BLOB NOT NULL,"
	" UNIQUE(gateway, batch_id));"
	"CREATE TABLE IF NOT EXISTS nonces("
	" gateway TEXT NOT NULL, nonce TEXT NOT NULL, seen_at INTEGER NOT NULL,"
	" PRIMARY KEY(gateway, nonce)) WITHOUT ROWID;";

/* current_day serves keys (one seek, then a page in key order, covering) and day moves. */
static const char versions_index_sql[] =
	"CREATE UNIQUE INDEX IF NOT EXISTS versions_key ON versions(region, tbl, key, version);";
static const char current_index_sql[] =
	"CREATE INDEX IF NOT EXISTS current_day ON current(region, tbl, day, key, digest, valid);";

/*
 * day_counts from `current` as it is (a new layout-1 store, a migrated one, a seeded one).
 * From then on the writes keep it (day_delta below). A key counts once, on its newest
 * version's day (§3): a new key adds to its day, a new version or a duplicate on another
 * day moves it, and validity follows the newest version. A day that drops to 0 keeps its
 * row; counts leave it out.
 */
static const char counts_sql[] =
	"INSERT INTO day_counts(region, tbl, day, records, valid)"
	" SELECT region, tbl, day, count(*), total(valid) FROM current GROUP BY 1, 2, 3;";

enum {
	S_NONCE_USE,
	S_NONCE_PRUNE,
	S_BATCH_GET,
	S_BATCH_REPLAY,
	S_BATCH_PUT,
	S_CUR_GET,
	S_VER_PUT,
	S_CUR_PUT,
	S_CUR_DAY,
	S_DAY_ADD,
	S_COUNT_W
};

static const char *const wsql[S_COUNT_W] = {
	[S_NONCE_USE] = "INSERT INTO nonces(gateway, nonce, seen_at) VALUES(?1, ?2, ?3)"
			" ON CONFLICT(gateway, nonce) DO UPDATE SET seen_at = excluded.seen_at"
			" WHERE nonces.seen_at <= ?4",
	[S_NONCE_PRUNE] = "DELETE FROM nonces WHERE seen_at <= ?1",
	[S_BATCH_GET] = "SELECT body_sha256, answer FROM batches WHERE gateway = ?1 AND"
			" batch_id = ?2",
	[S_BATCH_REPLAY] = "UPDATE batches SET replays = replays + 1 WHERE gateway = ?1 AND"
			   " batch_id = ?2",
	[S_BATCH_PUT] = "INSERT INTO batches(gateway, batch_id, body_sha256, region, tbl,"
			" received_at, records, accepted, duplicate, rejected, answer)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_CUR_GET] = "SELECT version, digest, day, valid FROM current WHERE region = ?1 AND"
		      " tbl = ?2 AND key = ?3",
	[S_VER_PUT] = "INSERT INTO versions(region, tbl, key, version, digest, day, valid, data,"
		      " gateway, batch_id, received_at)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_CUR_PUT] = "INSERT INTO current(region, tbl, key, version, digest, day, valid)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(region, tbl, key) DO UPDATE"
		      " SET version = excluded.version, digest = excluded.digest,"
		      " day = excluded.day, valid = excluded.valid",
	[S_CUR_DAY] = "UPDATE current SET day = ?4, moves = moves + 1 WHERE region = ?1 AND"
		      " tbl = ?2 AND key = ?3",
	[S_DAY_ADD] = "INSERT INTO day_counts(region, tbl, day, records, valid)"
		      " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(region, tbl, day) DO UPDATE"
		      " SET records = records + excluded.records, valid = valid + excluded.valid",
};

enum { S_COUNTS, S_KEYS, S_KEYS_FROM, S_COUNT_R };

/* Both answer from one index range: day_counts' primary key, current_day. */
static const char *const rsql[S_COUNT_R] = {
	[S_COUNTS] = "SELECT day, records, valid FROM day_counts WHERE region = ?1 AND"
		     " tbl = ?2 AND day BETWEEN ?3 AND ?4 AND records > 0 ORDER BY day",
	[S_KEYS] = "SELECT key, digest FROM current WHERE region = ?1 AND tbl = ?2 AND"
		   " day = ?3 AND key > ?4 ORDER BY key LIMIT ?5",
	/* `after` itself included: only --lie-keys repeat asks for it */
	[S_KEYS_FROM] = "SELECT key, digest FROM current WHERE region = ?1 AND tbl = ?2 AND"
			" day = ?3 AND key >= ?4 ORDER BY key LIMIT ?5",
};

/* A change of day_counts pending in the open transaction. */
struct day_delta {
	char region[8], table[64], day[11];
	long records, valid;
};

struct sim_store {
	char path[4096];
	sqlite3 *db;  /* writer (or the only connection when read-only) */
	sqlite3 *rdb; /* reader; NULL when read-only */
	sqlite3_stmt *w[S_COUNT_W];
	sqlite3_stmt *r[S_COUNT_R];
	pthread_mutex_t wlock, rlock;
	unsigned long nonce_uses;
	/* day_counts changes of the open transaction, written by sim_store_commit() */
	struct day_delta *deltas;
	size_t n_deltas, cap_deltas, last_delta;
};

static enum spgw_rc db_fail(struct sim_store *st, sqlite3 *db, const char *what,
			    struct spgw_error *err)
{
	return spgw_error_set(err, SPGW_E_LEDGER, st->path, 0, 0, "%s: %s", what,
			      sqlite3_errmsg(db));
}

static enum spgw_rc db_exec(struct sim_store *st, sqlite3 *db, const char *sql,
			    struct spgw_error *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, db, sql, err);
	return SPGW_OK;
}

static enum spgw_rc db_open(struct sim_store *st, int flags, sqlite3 **db,
			    struct spgw_error *err)
{
	if (sqlite3_open_v2(st->path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		enum spgw_rc rc = db_fail(st, *db, "cannot open", err);

		sqlite3_close(*db);
		*db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*db, 10000);
	return SPGW_OK;
}

/* One integer from a PRAGMA or a query; 0 when there is no row. */
static int db_int(sqlite3 *db, const char *sql, long long *v)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Bring the layout to STORE_VERSION in one transaction. A new file gets everything; a store
 * of layout 0 keeps its inline UNIQUE (the same guard as versions_key) and gains day_counts,
 * filled from `current` as it stands.
 */
static enum spgw_rc db_layout(struct sim_store *st, struct spgw_error *err)
{
	long long uv = 0, had = 0;
	char sql[64];
	enum spgw_rc rc;

	if (db_int(st->db, "PRAGMA user_version", &uv))
		return db_fail(st, st->db, "reading the store's layout version", err);
	if (uv == STORE_VERSION)
		return SPGW_OK;
	if (uv > STORE_VERSION)
		return spgw_error_set(err, SPGW_E_STATE, st->path, 0, 0,
				      "made by a newer national-sim (layout %lld, this one knows "
				      "%d): use that build or move the store away", uv,
				      STORE_VERSION);
	rc = db_exec(st, st->db, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	if (db_int(st->db, "SELECT count(*) FROM sqlite_schema WHERE name = 'versions'", &had)) {
		rc = db_fail(st, st->db, "reading the store's tables", err);
		goto out;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_VERSION);
	rc = db_exec(st, st->db, tables_sql, err);
	if (!rc && !had)
		rc = db_exec(st, st->db, versions_index_sql, err);
	if (!rc)
		rc = db_exec(st, st->db, current_index_sql, err);
	if (!rc)
		rc = db_exec(st, st->db, counts_sql, err);
	if (!rc)
		rc = db_exec(st, st->db, sql, err);
	if (!rc)
		rc = db_exec(st, st->db, "COMMIT", err);
out:
	if (rc)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Make a new file ours, or check that an existing one is. */
static enum spgw_rc db_setup(struct sim_store *st, struct spgw_error *err)
{
	char sql[160];
	long long app = 0;
	enum spgw_rc rc;

	if (db_int(st->db, "PRAGMA application_id", &app))
		return db_fail(st, st->db, "reading the application id", err);
	if (app == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", STORE_PAGE_SIZE);
		rc = db_exec(st, st->db, sql, err);
		if (rc)
			return rc;
	} else if (app != STORE_APP_ID) {
		return spgw_error_set(err, SPGW_E_STATE, st->path, 0, 0,
				      "is not a national-sim store (application_id %lld); move it "
				      "away", app);
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%d;"
		 " PRAGMA application_id = %d",
		 STORE_CACHE_KIB, STORE_APP_ID);
	rc = db_exec(st, st->db, sql, err);
	if (!rc)
		rc = db_layout(st, err);
	return rc;
}

enum spgw_rc sim_store_open(const char *path, int readonly, struct sim_store **out,
			    struct spgw_error *err)
{
	struct sim_store *st = spgw_calloc(1, sizeof(*st));
	struct stat sb;
	enum spgw_rc rc;
	int i;

	if (!st)
		return spgw_error_nomem(err, "opening the store");
	snprintf(st->path, sizeof(st->path), "%s", path);
	pthread_mutex_init(&st->wlock, NULL);
	pthread_mutex_init(&st->rlock, NULL);
	if (readonly) {
		if (stat(path, &sb)) {
			rc = spgw_error_set(err, SPGW_E_NOTFOUND, path, 0, 0,
					    "no store yet: the server has not run in this "
					    "directory");
			goto out;
		}
		/* read-write without create: a WAL file needs its -shm, which a read-only
		 * connection may be unable to make; nothing here writes */
		rc = db_open(st, SQLITE_OPEN_READWRITE, &st->db, err);
		goto out;
	}
	rc = db_open(st, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &st->db, err);
	if (!rc)
		rc = db_setup(st, err);
	if (!rc)
		rc = db_open(st, SQLITE_OPEN_READONLY, &st->rdb, err);
	for (i = 0; !rc && i < S_COUNT_W; i++) {
		if (sqlite3_prepare_v3(st->db, wsql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->w[i],
				       NULL) != SQLITE_OK)
			rc = db_fail(st, st->db, wsql[i], err);
	}
	for (i = 0; !rc && i < S_COUNT_R; i++) {
		if (sqlite3_prepare_v3(st->rdb, rsql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->r[i],
				       NULL) != SQLITE_OK)
			rc = db_fail(st, st->rdb, rsql[i], err);
	}
out:
	if (rc) {
		sim_store_close(st);
		return rc;
	}
	*out = st;
	return SPGW_OK;
}

void sim_store_close(struct sim_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < S_COUNT_W; i++)
		sqlite3_finalize(st->w[i]);
	for (i = 0; i < S_COUNT_R; i++)
		sqlite3_finalize(st->r[i]);
	sqlite3_close(st->rdb);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->rlock);
	spgw_free(st->deltas);
	spgw_free(st);
}

void sim_store_lock(struct sim_store *st)
{
	pthread_mutex_lock(&st->wlock);
}

void sim_store_unlock(struct sim_store *st)
{
	pthread_mutex_unlock(&st->wlock);
}

enum spgw_rc sim_store_begin(struct sim_store *st, struct spgw_error *err)
{
	st->n_deltas = 0;
	return db_exec(st, st->db, "BEGIN IMMEDIATE", err);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v);
static int step_done(sqlite3_stmt *s);

/*
 * Add to the day_counts change of region/table/day. A batch is one region and table and
 * usually a few days, so the list stays short; the entry used last is tried first.
 */
static enum spgw_rc day_delta(struct sim_store *st, const char *region, const char *table,
			      const char *day, long records, long valid, struct spgw_error *err)
{
	struct day_delta *d;
	size_t i;

	if (strlen(region) >= sizeof(d->region) || strlen(table) >= sizeof(d->table) ||
	    strlen(day) >= sizeof(d->day))
		return spgw_error_set(err, SPGW_E_LIMIT, st->path, 0, 0,
				      "region, table or day too long to count: %.20s %.80s %.20s",
				      region, table, day);
	for (i = 0; i < st->n_deltas; i++) {
		d = &st->deltas[(st->last_delta + i) % st->n_deltas];
		if (!strcmp(d->day, day) && !strcmp(d->table, table) && !strcmp(d->region, region))
			goto found;
	}
	if (st->n_deltas == st->cap_deltas) {
		size_t cap = st->cap_deltas ? st->cap_deltas * 2 : 64;
		struct day_delta *nd = spgw_realloc(st->deltas, cap * sizeof(*nd));

		if (!nd)
			return spgw_error_nomem(err, "counting a day");
		st->deltas = nd;
		st->cap_deltas = cap;
	}
	d = &st->deltas[st->n_deltas++];
	memcpy(d->region, region, strlen(region) + 1);
	memcpy(d->table, table, strlen(table) + 1);
	memcpy(d->day, day, strlen(day) + 1);
	d->records = d->valid = 0;
found:
	st->last_delta = (size_t)(d - st->deltas);
	d->records += records;
	d->valid += valid;
	return SPGW_OK;
}

enum spgw_rc sim_store_commit(struct sim_store *st, struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_DAY_ADD];
	size_t i;

	for (i = 0; i < st->n_deltas; i++) {
		const struct day_delta *d = &st->deltas[i];

		if (!d->records && !d->valid)
			continue;
		bind_text(s, 1, d->region);
		bind_text(s, 2, d->table);
		bind_text(s, 3, d->day);
		sqlite3_bind_int64(s, 4, d->records);
		sqlite3_bind_int64(s, 5, d->valid);
		if (step_done(s))
			return db_fail(st, st->db, "counting the batch's days", err);
	}
	st->n_deltas = 0;
	return db_exec(st, st->db, "COMMIT", err);
}

void sim_store_rollback(struct sim_store *st)
{
	st->n_deltas = 0;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Run a writing statement to its end and reset it: 0 or -1. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

int sim_store_nonce_use(struct sim_store *st, const char *gateway, const char *nonce, time_t now,
			struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_NONCE_USE];
	int fresh = -1;

	sim_store_lock(st);
	if (++st->nonce_uses % NONCE_PRUNE_EVERY == 0) {
		sqlite3_bind_int64(st->w[S_NONCE_PRUNE], 1, (sqlite3_int64)now - SIM_NONCE_WINDOW);
		step_done(st->w[S_NONCE_PRUNE]);
	}
	bind_text(s, 1, gateway);
	bind_text(s, 2, nonce);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	/* a nonce seen at or before now - window is outside "the last 600 s" and fresh again */
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now - SIM_NONCE_WINDOW);
	if (step_done(s))
		db_fail(st, st->db, "remembering a nonce", err);
	else
		fresh = sqlite3_changes(st->db) == 1;
	sim_store_unlock(st);
	return fresh;
}

int sim_store_batch_get(struct sim_store *st, const char *gateway, const char *batch_id,
			char sha[65], char **answer, size_t *len, struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_BATCH_GET];
	const void *blob;
	int rc = 0, n;

	bind_text(s, 1, gateway);
	bind_text(s, 2, batch_id);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		snprintf(sha, 65, "%s", (const char *)sqlite3_column_text(s, 0));
		blob = sqlite3_column_blob(s, 1);
		n = sqlite3_column_bytes(s, 1);
		*answer = spgw_malloc((size_t)n + 1);
		if (!*answer) {
			spgw_error_nomem(err, "reading a stored answer");
			rc = -1;
			break;
		}
		memcpy(*answer, blob, (size_t)n);
		(*answer)[n] = '\0';
		*len = (size_t)n;
		rc = 1;
		break;
	case SQLITE_DONE:
		break;
	default:
		db_fail(st, st->db, "looking up a batch", err);
		rc = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

enum spgw_rc sim_store_batch_replayed(struct sim_store *st, const char *gateway,
				      const char *batch_id, struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_BATCH_REPLAY];

	bind_text(s, 1, gateway);
	bind_text(s, 2, batch_id);
	if (step_done(s))
		return db_fail(st, st->db, "counting a replay", err);
	return SPGW_OK;
}

enum spgw_rc sim_store_batch_put(struct sim_store *st, const struct sim_batch_row *b,
				 struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_BATCH_PUT];

	bind_text(s, 1, b->gateway);
	bind_text(s, 2, b->batch_id);
	bind_text(s, 3, b->body_sha256);
	bind_text(s, 4, b->region);
	bind_text(s, 5, b->table);
	bind_text(s, 6, b->received_at);
	sqlite3_bind_int64(s, 7, b->records);
	sqlite3_bind_int64(s, 8, b->accepted);
	sqlite3_bind_int64(s, 9, b->duplicate);
	sqlite3_bind_int64(s, 10, b->rejected);
	sqlite3_bind_blob(s, 11, b->answer, (int)b->answer_len, SQLITE_STATIC);
	if (step_done(s))
		return db_fail(st, st->db, "storing a batch answer", err);
	return SPGW_OK;
}

int sim_store_current(struct sim_store *st, const char *region, const char *table,
		      const char *key, long *version, char digest[80], char day[11], int *valid,
		      struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_CUR_GET];
	int rc = 0;

	bind_text(s, 1, region);
	bind_text(s, 2, table);
	bind_text(s, 3, key);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		*version = (long)sqlite3_column_int64(s, 0);
		snprintf(digest, 80, "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(day, 11, "%s", (const char *)sqlite3_column_text(s, 2));
		*valid = sqlite3_column_int(s, 3);
		rc = 1;
		break;
	case SQLITE_DONE:
		break;
	default:
		db_fail(st, st->db, "looking up a key", err);
		rc = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

enum spgw_rc sim_store_version_put(struct sim_store *st, const struct sim_version_row *v,
				   struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_VER_PUT], *c = st->w[S_CUR_PUT];
	enum spgw_rc rc;

	bind_text(s, 1, v->region);
	bind_text(s, 2, v->table);
	bind_text(s, 3, v->key);
	sqlite3_bind_int64(s, 4, v->version);
	bind_text(s, 5, v->digest);
	bind_text(s, 6, v->day);
	sqlite3_bind_int(s, 7, v->valid);
	sqlite3_bind_blob(s, 8, v->data, (int)v->data_len, SQLITE_STATIC);
	bind_text(s, 9, v->gateway);
	bind_text(s, 10, v->batch_id);
	bind_text(s, 11, v->received_at);
	if (step_done(s))
		return db_fail(st, st->db, "storing a version", err);
	bind_text(c, 1, v->region);
	bind_text(c, 2, v->table);
	bind_text(c, 3, v->key);
	sqlite3_bind_int64(c, 4, v->version);
	bind_text(c, 5, v->digest);
	bind_text(c, 6, v->day);
	sqlite3_bind_int(c, 7, v->valid);
	if (step_done(c))
		return db_fail(st, st->db, "storing a key's newest version", err);
	if (v->prev_day &&
	    (rc = day_delta(st, v->region, v->table, v->prev_day, -1, -v->prev_valid, err)))
		return rc;
	return day_delta(st, v->region, v->table, v->day, 1, v->valid, err);
}

enum spgw_rc sim_store_move_day(struct sim_store *st, const char *region, const char *table,
				const char *key, const char *from, const char *day, int valid,
				struct spgw_error *err)
{
	sqlite3_stmt *s = st->w[S_CUR_DAY];
	enum spgw_rc rc;

	bind_text(s, 1, region);
	bind_text(s, 2, table);
	bind_text(s, 3, key);
	bind_text(s, 4, day);
	if (step_done(s))
		return db_fail(st, st->db, "moving a key to another day", err);
	rc = day_delta(st, region, table, from, -1, -valid, err);
	return rc ? rc : day_delta(st, region, table, day, 1, valid, err);
}

enum spgw_rc sim_store_counts(struct sim_store *st, const char *region, const char *table,
			      const char *from, const char *to, sim_store_day_fn fn, void *ud,
			      struct spgw_error *err)
{
	sqlite3_stmt *s = st->r[S_COUNTS];
	enum spgw_rc rc = SPGW_OK;
	int src;

	pthread_mutex_lock(&st->rlock);
	bind_text(s, 1, region);
	bind_text(s, 2, table);
	bind_text(s, 3, from);
	bind_text(s, 4, to);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn(ud, (const char *)sqlite3_column_text(s, 0),
		       (long)sqlite3_column_int64(s, 1), (long)sqlite3_column_int64(s, 2))) {
			rc = spgw_error_nomem(err, "answering counts");
			break;
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = db_fail(st, st->rdb, "counting", err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&st->rlock);
	return rc;
}

enum spgw_rc sim_store_keys(struct sim_store *st, const char *region, const char *table,
			    const char *day, const char *after, int inclusive, long limit,
			    sim_store_key_fn fn, void *ud, struct spgw_error *err)
{
	sqlite3_stmt *s = st->r[inclusive ? S_KEYS_FROM : S_KEYS];
	enum spgw_rc rc = SPGW_OK;
	int src;

	pthread_mutex_lock(&st->rlock);
	bind_text(s, 1, region);
	bind_text(s, 2, table);
	bind_text(s, 3, day);
	/* every key is greater than the empty string, so "no after" reads from the first */
	bind_text(s, 4, after ? after : "");
	sqlite3_bind_int64(s, 5, limit);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn(ud, (const char *)sqlite3_column_text(s, 0),
		       (const char *)sqlite3_column_text(s, 1))) {
			rc = spgw_error_nomem(err, "answering keys");
			break;
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = db_fail(st, st->rdb, "listing keys", err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&st->rlock);
	return rc;
}

/* ---- stats and dump (the command-line tools; the server does not call these) ---- */

/* The row of stats for region/table, created with zeros on first use (borrowed). */
static json_t *stats_row(json_t *rows, const char *region, const char *table)
{
	static const char *const fields[] = { "keys", "versions", "batches", "records",
					      "accepted", "duplicate", "rejected", "replays",
					      "day_moves", "stored_twice", "digest_repeats",
					      "inconsistent", "counts_drift" };
	char name[128];
	json_t *row;
	size_t i;

	snprintf(name, sizeof(name), "%s/%s", region, table);
	row = json_object_get(rows, name);
	if (row)
		return row;
	row = json_object();
	if (!row)
		return NULL;
	json_object_set_new(row, "region", json_string(region));
	json_object_set_new(row, "table", json_string(table));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_set_new(row, fields[i], json_integer(0));
	json_object_set_new(rows, name, row);
	return row;
}

/* Run a query whose rows are (region, table, n1, n2, ...) into the named columns. */
static enum spgw_rc stats_query(struct sim_store *st, json_t *rows, const char *sql,
				const char *const *cols, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	json_t *row;
	int src, i;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, st->db, "reading statistics", err);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		row = stats_row(rows, (const char *)sqlite3_column_text(s, 0),
				(const char *)sqlite3_column_text(s, 1));
		if (!row)
			break;
		for (i = 0; cols[i]; i++)
			json_object_set_new(row, cols[i],
					    json_integer(sqlite3_column_int64(s, i + 2)));
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return db_fail(st, st->db, "reading statistics", err);
	return SPGW_OK;
}

json_t *sim_store_stats(struct sim_store *st, struct spgw_error *err)
{
	static const char *const c_cur[] = { "keys", "day_moves", NULL };
	static const char *const c_ver[] = { "versions", NULL };
	static const char *const c_bat[] = { "batches", "records", "accepted", "duplicate",
					     "rejected", "replays", NULL };
	static const char *const c_twice[] = { "stored_twice", NULL };
	static const char *const c_rep[] = { "digest_repeats", NULL };
	static const char *const c_inc[] = { "inconsistent", NULL };
	static const char *const c_drift[] = { "counts_drift", NULL };
	static const struct {
		const char *sql;
		const char *const *cols;
	} q[] = {
		{ "SELECT region, tbl, count(*), sum(moves) FROM current GROUP BY 1, 2", c_cur },
		{ "SELECT region, tbl, count(*) FROM versions GROUP BY 1, 2", c_ver },
		{ "SELECT region, tbl, count(*), sum(records), sum(accepted), sum(duplicate),"
		  " sum(rejected), sum(replays) FROM batches GROUP BY 1, 2", c_bat },
		/* exactly-once: a version followed by one with the same digest */
		{ "SELECT a.region, a.tbl, count(*) FROM versions a JOIN versions b"
		  " ON b.region = a.region AND b.tbl = a.tbl AND b.key = a.key"
		  " AND b.version = a.version + 1 WHERE b.digest = a.digest GROUP BY 1, 2",
		  c_twice },
		/* informational: a digest back after another one (A, B, A) */
		{ "SELECT region, tbl, count(*) FROM (SELECT region, tbl, key, digest FROM versions"
		  " GROUP BY region, tbl, key, digest HAVING count(*) > 1) GROUP BY 1, 2", c_rep },
		/* self-check: the newest version is the highest stored and has its digest */
		{ "SELECT c.region, c.tbl, count(*) FROM current c LEFT JOIN versions v"
		  " ON v.region = c.region AND v.tbl = c.tbl AND v.key = c.key"
		  " AND v.version = c.version WHERE v.digest IS NULL OR v.digest <> c.digest"
		  " OR EXISTS (SELECT 1 FROM versions w WHERE w.region = c.region AND"
		  " w.tbl = c.tbl AND w.key = c.key AND w.version > c.version) GROUP BY 1, 2",
		  c_inc },
		/* self-check: day_counts says what counting `current` says, day by day */
		{ "SELECT region, tbl, count(*) FROM ("
		  " SELECT c.region, c.tbl FROM (SELECT region, tbl, day, count(*) AS r,"
		  "  sum(valid) AS v FROM current GROUP BY 1, 2, 3) c"
		  "  LEFT JOIN day_counts d ON d.region = c.region AND d.tbl = c.tbl"
		  "  AND d.day = c.day WHERE d.records IS NOT c.r OR d.valid IS NOT c.v"
		  " UNION ALL"
		  " SELECT d.region, d.tbl FROM day_counts d WHERE (d.records <> 0 OR"
		  "  d.valid <> 0) AND NOT EXISTS (SELECT 1 FROM current c WHERE"
		  "  c.region = d.region AND c.tbl = d.tbl AND c.day = d.day))"
		  " GROUP BY 1, 2", c_drift },
	};
	long long layout = 0;
	json_t *rows = json_object(), *list = NULL, *total = NULL, *out = NULL, *row, *v;
	const char *name, *k;
	size_t i;

	if (!rows)
		goto nomem;
	/* stats opens without migrating: a store of layout 0 has no day_counts to check */
	db_int(st->db, "PRAGMA user_version", &layout);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (q[i].cols == c_drift && layout < 1)
			continue;
		if (stats_query(st, rows, q[i].sql, q[i].cols, err))
			goto fail;
	}
	list = json_array();
	total = json_object();
	out = json_object();
	if (!list || !total || !out)
		goto nomem;
	/* rows keyed "region/table": jansson keeps insertion order, so sort for a stable
	 * listing by going through the keys sorted */
	{
		const char **names = spgw_calloc(json_object_size(rows) + 1, sizeof(char *));
		size_t n = 0, a, b;

		if (!names)
			goto nomem;
		json_object_foreach(rows, name, row)
			names[n++] = name;
		for (a = 1; a < n; a++) {
			for (b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
				const char *t = names[b];

				names[b] = names[b - 1];
				names[b - 1] = t;
			}
		}
		for (a = 0; a < n; a++) {
			row = json_object_get(rows, names[a]);
			json_array_append(list, row);
			json_object_foreach(row, k, v) {
				if (json_is_integer(v))
					json_object_set_new(
						total, k,
						json_integer(json_integer_value(
								     json_object_get(total, k)) +
							     json_integer_value(v)));
			}
		}
		spgw_free(names);
	}
	json_object_set_new(out, "tables", list);
	json_object_set_new(out, "total", total);
	json_decref(rows);
	return out;
nomem:
	spgw_error_nomem(err, "reading statistics");
fail:
	json_decref(rows);
	json_decref(list);
	json_decref(total);
	json_decref(out);
	return NULL;
}

enum spgw_rc sim_store_dump(struct sim_store *st, const char *region, const char *table,
			    int all_versions, sim_store_dump_fn fn, void *ud,
			    struct spgw_error *err)
{
	static const char cur_sql[] =
		"SELECT key, version, digest, day, 1 FROM current WHERE region = ?1 AND tbl = ?2"
		" ORDER BY key";
	static const char all_sql[] =
		"SELECT v.key, v.version, v.digest, v.day, v.version = c.version FROM versions v"
		" JOIN current c ON c.region = v.region AND c.tbl = v.tbl AND c.key = v.key"
		" WHERE v.region = ?1 AND v.tbl = ?2 ORDER BY v.key, v.version";
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src;

	if (sqlite3_prepare_v2(st->db, all_versions ? all_sql : cur_sql, -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(st, st->db, "dumping", err);
	bind_text(s, 1, region);
	bind_text(s, 2, table);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn(ud, (const char *)sqlite3_column_text(s, 0),
		       (long)sqlite3_column_int64(s, 1), (const char *)sqlite3_column_text(s, 2),
		       (const char *)sqlite3_column_text(s, 3), sqlite3_column_int(s, 4)))
			break;
	}
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_fail(st, st->db, "dumping", err);
	sqlite3_finalize(s);
	return rc;
}

/* ---- bulk load (seed): a new store filled without HTTP ---- */

/* Rows per transaction of a bulk load: with the journal off a commit only writes the dirty
 * pages; this bounds the page cache they take. */
#define BULK_TXN 100000
/* Page cache of a bulk load (KiB), also the sorter's memory when the indexes are built. */
#define BULK_CACHE_KIB (256 * 1024)

struct sim_store_bulk {
	char path[4096], tmp[4200];
	sqlite3 *db;
	sqlite3_stmt *ver, *cur;
	long pending;
	int in_txn;
};

static enum spgw_rc bulk_fail(struct sim_store_bulk *b, const char *what, struct spgw_error *err)
{
	return spgw_error_set(err, SPGW_E_LEDGER, b->path, 0, 0, "%s: %s", what,
			      sqlite3_errmsg(b->db));
}

static enum spgw_rc bulk_exec(struct sim_store_bulk *b, const char *sql, struct spgw_error *err)
{
	if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return bulk_fail(b, sql, err);
	return SPGW_OK;
}

enum spgw_rc sim_store_bulk_new(const char *path, struct sim_store_bulk **out,
				struct spgw_error *err)
{
	struct sim_store_bulk *b;
	struct stat sb;
	char sql[300];
	enum spgw_rc rc = SPGW_OK;

	if (stat(path, &sb) == 0)
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "exists already: seed makes a new store; remove it (with its "
				      "-wal and -shm) or seed another --dir");
	b = spgw_calloc(1, sizeof(*b));
	if (!b)
		return spgw_error_nomem(err, "opening the store");
	snprintf(b->path, sizeof(b->path), "%s", path);
	/* built under another name and renamed when complete: a failed or interrupted seed
	 * never leaves a half-filled national.db that a server would take for real */
	snprintf(b->tmp, sizeof(b->tmp), "%s.seeding", path);
	unlink(b->tmp);
	if (sqlite3_open_v2(b->tmp, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = bulk_fail(b, "cannot create", err);
		goto out;
	}
	/* no journal, no fsync while loading: the file is not national.db until it is
	 * complete; finish syncs it once */
	snprintf(sql, sizeof(sql),
		 "PRAGMA page_size = %d; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		 " PRAGMA cache_size = -%d; PRAGMA locking_mode = EXCLUSIVE; PRAGMA threads = 2;"
		 " PRAGMA application_id = %d",
		 STORE_PAGE_SIZE, BULK_CACHE_KIB, STORE_APP_ID);
	rc = bulk_exec(b, sql, err);
	if (!rc)
		rc = bulk_exec(b, tables_sql, err);
	/* the newest version of each key waits in a private temporary database until it can
	 * go into `current` in key order */
	if (!rc)
		rc = bulk_exec(b, "ATTACH DATABASE '' AS seed; CREATE TABLE seed.cur(region TEXT,"
			       " tbl TEXT, key TEXT, version INTEGER, digest TEXT, day TEXT,"
			       " valid INTEGER, moves INTEGER)", err);
	if (!rc && (sqlite3_prepare_v3(b->db, "INSERT INTO versions(region, tbl, key, version,"
				       " digest, day, valid, data, gateway, batch_id, received_at)"
				       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1,
				       SQLITE_PREPARE_PERSISTENT, &b->ver, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v3(b->db, "INSERT INTO seed.cur VALUES(?1, ?2, ?3, ?4, ?5,"
				       " ?6, ?7, ?8)", -1, SQLITE_PREPARE_PERSISTENT, &b->cur,
				       NULL) != SQLITE_OK))
		rc = bulk_fail(b, "preparing the bulk load", err);
	if (!rc)
		rc = bulk_exec(b, "BEGIN", err);
	b->in_txn = !rc;
out:
	if (rc) {
		sim_store_bulk_free(b);
		return rc;
	}
	*out = b;
	return SPGW_OK;
}

/* One more row: a new transaction every BULK_TXN rows. */
static enum spgw_rc bulk_tick(struct sim_store_bulk *b, struct spgw_error *err)
{
	enum spgw_rc rc;

	if (++b->pending < BULK_TXN)
		return SPGW_OK;
	b->pending = 0;
	rc = bulk_exec(b, "COMMIT", err);
	b->in_txn = 0;
	if (!rc)
		rc = bulk_exec(b, "BEGIN", err);
	b->in_txn = !rc;
	return rc;
}

enum spgw_rc sim_store_bulk_version(struct sim_store_bulk *b, const struct sim_version_row *v,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = b->ver;

	bind_text(s, 1, v->region);
	bind_text(s, 2, v->table);
	bind_text(s, 3, v->key);
	sqlite3_bind_int64(s, 4, v->version);
	bind_text(s, 5, v->digest);
	bind_text(s, 6, v->day);
	sqlite3_bind_int(s, 7, v->valid);
	sqlite3_bind_blob(s, 8, v->data, (int)v->data_len, SQLITE_STATIC);
	bind_text(s, 9, v->gateway);
	bind_text(s, 10, v->batch_id);
	bind_text(s, 11, v->received_at);
	if (step_done(s))
		return bulk_fail(b, "storing a version", err);
	return bulk_tick(b, err);
}

enum spgw_rc sim_store_bulk_current(struct sim_store_bulk *b, const struct sim_current_row *c,
				    struct spgw_error *err)
{
	sqlite3_stmt *s = b->cur;

	bind_text(s, 1, c->region);
	bind_text(s, 2, c->table);
	bind_text(s, 3, c->key);
	sqlite3_bind_int64(s, 4, c->version);
	bind_text(s, 5, c->digest);
	bind_text(s, 6, c->day);
	sqlite3_bind_int(s, 7, c->valid);
	sqlite3_bind_int64(s, 8, c->moves);
	if (step_done(s))
		return bulk_fail(b, "noting a key's newest version", err);
	return bulk_tick(b, err);
}

/* fsync a file or directory by name. */
static int sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

enum spgw_rc sim_store_bulk_finish(struct sim_store_bulk *b, struct spgw_error *err)
{
	char sql[64], dir[4096];
	enum spgw_rc rc;

	rc = bulk_exec(b, "COMMIT", err);
	b->in_txn = 0;
	if (rc)
		return rc;
	sqlite3_finalize(b->ver);
	sqlite3_finalize(b->cur);
	b->ver = b->cur = NULL;
	rc = bulk_exec(b, "BEGIN", err);
	b->in_txn = !rc;
	/* in key order, so `current` grows at its end instead of everywhere at once */
	if (!rc && sqlite3_exec(b->db, "INSERT INTO current(region, tbl, key, version, digest,"
				" day, valid, moves) SELECT region, tbl, key, version, digest, day,"
				" valid, moves FROM seed.cur ORDER BY region, tbl, key", NULL, NULL,
				NULL) != SQLITE_OK)
		rc = spgw_error_set(err, SPGW_E_STATE, b->path, 0, 0,
				    "building the newest versions: %s (seed takes each region, "
				    "table and key from one ledger: do two --from-ledger files "
				    "hold the same key?)", sqlite3_errmsg(b->db));
	if (!rc)
		rc = bulk_exec(b, versions_index_sql, err);
	if (!rc)
		rc = bulk_exec(b, current_index_sql, err);
	if (!rc)
		rc = bulk_exec(b, counts_sql, err);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_VERSION);
	if (!rc)
		rc = bulk_exec(b, sql, err);
	if (!rc)
		rc = bulk_exec(b, "COMMIT", err);
	b->in_txn = 0;
	if (!rc)
		rc = bulk_exec(b, "DETACH DATABASE seed; PRAGMA locking_mode = NORMAL;"
			       " PRAGMA journal_mode = WAL", err);
	if (rc)
		return rc;
	if (sqlite3_close(b->db) != SQLITE_OK)
		return bulk_fail(b, "closing", err);
	b->db = NULL;
	snprintf(dir, sizeof(dir), "%s", b->path);
	if (sync_path(b->tmp, 0) || rename(b->tmp, b->path) || sync_path(dirname(dir), 1))
		return spgw_error_set(err, SPGW_E_IO, b->path, 0, 0,
				      "cannot put the seeded store in place from %s: %s", b->tmp,
				      strerror(errno));
	b->tmp[0] = '\0';
	return SPGW_OK;
}

void sim_store_bulk_free(struct sim_store_bulk *b)
{
	if (!b)
		return;
	sqlite3_finalize(b->ver);
	sqlite3_finalize(b->cur);
	if (b->db) {
		if (b->in_txn)
			sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(b->db);
	}
	/* not finished: the half-built file goes */
	if (b->tmp[0])
		unlink(b->tmp);
	spgw_free(b);
}
