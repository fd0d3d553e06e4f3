/*
 * seed: a new store filled from a gateway's ledger without HTTP, holding exactly what the
 * platform would hold had every delivered version (outbox.state = 'delivered') come to it in
 * batches, in the order the ledger queued them (outbox.id): the same tables and columns,
 * versions numbered per key from 1, a version whose digest equals the key's newest answered
 * as a duplicate (moving the key when its day differs), `current` and day_counts as the
 * server keeps them. Digests are checked to be the digest of the data they come with, so
 * the store's digests are real ones the gateway's can match.
 *
 * Known differences for reconciliation tests, decided per key from --seed and the key
 * itself (a hash, as --reject-rate does), so the same ledger and seed always give the same
 * store:
 *   --drop R   the key is left out: the ledger has it, the platform does not
 *   --alter R  every version of the key is stored with its longest text member changed
 *              (its digest recomputed): the platform holds another version than the
 *              ledger's
 *   --extra N  N keys the ledger does not have, copies of sampled delivered records
 * --manifest lists each of them: kind, region, table, day, key.
 *
 * The ledger is read once in id order (sequential, whatever its size); only the keys that
 * have more than one version in it are kept in memory, to number their versions.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <time.h>

#include "buf.h"
#include "canonical.h"
#include "diag.h"
#include "mem.h"
#include "sim.h"

/* The gateway ledger's PRAGMA application_id ("SPGW") and the first layout with
 * outbox_data (gateway/ledger_open.c, migration 3). */
#define LEDGER_APP_ID 0x53504757
#define LEDGER_MIN_VERSION 3
/* What --alter appends to the member it changes. */
#define ALTER_MARK "（旧版本）"
/* Progress on stderr every this many versions read. */
#define PROGRESS_EVERY 1000000

enum fate { KEEP = 0, DROP, ALTER };

/* A key with more than one version in a ledger: its state while its versions stream by. */
struct mkey {
	char *names;      /* "region\0table\0key\0", new */
	const char *table, *key;
	long version;     /* versions stored so far */
	long moves;
	char digest[80], day[11];
	int valid, seen;
	enum fate fate;
};

struct mmap {
	struct mkey **slots;
	size_t cap, n;
};

struct tmpl {
	size_t ledger;
	sqlite3_int64 id;
};

struct seed {
	const struct sim_seed_opts *o;
	struct spgw_schema *schema;
	sqlite3 *ledgers[SIM_SEED_MAX_LEDGERS];
	struct sim_store_bulk *bulk;
	FILE *manifest;
	struct mmap multi;
	const EVP_MD *sm3, *sha256;
	struct spgw_buf canon;
	struct tmpl *tmpls;   /* the reservoir of --extra's templates */
	size_t n_tmpls;
	uint64_t rng;
	char now[21];
	struct timespec t0;
	struct sim_seed_result *res;
};

/* ---- small helpers ---- */

/* splitmix64, as sim_fault.c: the same fate on every machine. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h ^ 0xff) * 0x100000001b3ULL; /* a separator, so "ab"+"c" != "a"+"bc" */
}

static double unit(uint64_t h)
{
	return (double)(mix(h) >> 11) / 9007199254740992.0;
}

static enum fate fate_of(const struct seed *sd, const char *region, const char *table,
			 const char *key)
{
	double u = unit(fnv(fnv(fnv(0xcbf29ce484222325ULL ^ mix(sd->o->seed), region), table),
			    key));

	if (u < sd->o->drop)
		return DROP;
	if (u < sd->o->drop + sd->o->alter)
		return ALTER;
	return KEEP;
}

static uint64_t next_rand(struct seed *sd)
{
	sd->rng += 0x9e3779b97f4a7c15ULL;
	return mix(sd->rng);
}

static const char *col(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

/* ---- the keys with several versions ---- */

static uint64_t names_hash(const char *region, const char *table, const char *key)
{
	return mix(fnv(fnv(fnv(0xcbf29ce484222325ULL, region), table), key));
}

/* The slot of a key: its entry, or the empty slot where it would go. */
static struct mkey **mmap_slot(struct mmap *m, const char *region, const char *table,
			       const char *key)
{
	size_t i = (size_t)names_hash(region, table, key) & (m->cap - 1);
	struct mkey *e;

	while ((e = m->slots[i])) {
		if (strcmp(e->key, key) == 0 && strcmp(e->table, table) == 0 &&
		    strcmp(e->names, region) == 0)
			break;
		i = (i + 1) & (m->cap - 1);
	}
	return &m->slots[i];
}

static int mmap_grow(struct mmap *m)
{
	struct mmap bigger = { NULL, m->cap ? m->cap * 2 : 1024, m->n };
	size_t i;

	bigger.slots = spgw_calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -1;
	for (i = 0; i < m->cap; i++) {
		struct mkey *e = m->slots[i];

		if (e)
			*mmap_slot(&bigger, e->names, e->table, e->key) = e;
	}
	spgw_free(m->slots);
	*m = bigger;
	return 0;
}

static int mmap_add(struct mmap *m, const char *region, const char *table, const char *key)
{
	size_t lr = strlen(region) + 1, lt = strlen(table) + 1, lk = strlen(key) + 1;
	struct mkey **slot, *e;

	if ((m->n + 1) * 2 > m->cap && mmap_grow(m))
		return -1;
	slot = mmap_slot(m, region, table, key);
	if (*slot)
		return 0;
	e = spgw_calloc(1, sizeof(*e));
	if (!e || !(e->names = spgw_malloc(lr + lt + lk))) {
		spgw_free(e);
		return -1;
	}
	memcpy(e->names, region, lr);
	memcpy(e->names + lr, table, lt);
	memcpy(e->names + lr + lt, key, lk);
	e->table = e->names + lr;
	e->key = e->names + lr + lt;
	*slot = e;
	m->n++;
	return 0;
}

static struct mkey *mmap_get(struct mmap *m, const char *region, const char *table,
			     const char *key)
{
	return m->n ? *mmap_slot(m, region, table, key) : NULL;
}

static void mmap_free(struct mmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (m->slots[i]) {
			spgw_free(m->slots[i]->names);
			spgw_free(m->slots[i]);
		}
	}
	spgw_free(m->slots);
}

/* ---- a record's data ---- */

static long skip_string(const char *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return (long)i + 1;
	}
	return -1;
}

static long skip_value(const char *p, size_t n, size_t i)
{
	long depth = 0, e;

	if (i >= n)
		return -1;
	if (p[i] == '"')
		return skip_string(p, n, i);
	if (p[i] != '{' && p[i] != '[') {
		while (i < n && !strchr(",}] \t\r\n", p[i]))
			i++;
		return (long)i;
	}
	while (i < n) {
		if (p[i] == '"') {
			e = skip_string(p, n, i);
			if (e < 0)
				return -1;
			i = (size_t)e;
			continue;
		}
		if (p[i] == '{' || p[i] == '[')
			depth++;
		else if ((p[i] == '}' || p[i] == ']') && --depth == 0)
			return (long)i + 1;
		i++;
	}
	return -1;
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/*
 * §3's valid: the data's top-level SJYXBS is the number 1 (1, 1.0), as the server judges it
 * with jansson; read with a scan of the top level instead of a parse, which would cost
 * more than the rest of the seed. 1 or 0; -1 when the data is not a JSON object.
 */
static int data_valid(const char *p, size_t n)
{
	size_t i = skip_ws(p, n, 0), name;
	long e, v;
	int valid = 0;

	if (i >= n || p[i] != '{')
		return -1;
	i = skip_ws(p, n, i + 1);
	if (i < n && p[i] == '}')
		return 0;
	for (;;) {
		if (i >= n || p[i] != '"' || (e = skip_string(p, n, i)) < 0)
			return -1;
		name = i + 1;
		i = skip_ws(p, n, (size_t)e);
		if (i >= n || p[i] != ':')
			return -1;
		i = skip_ws(p, n, i + 1);
		if ((v = skip_value(p, n, i)) < 0 || (size_t)v == i)
			return -1;
		if ((size_t)e - name - 1 == 6 && memcmp(p + name, "SJYXBS", 6) == 0) {
			char num[64];
			size_t len = (size_t)v - i;

			valid = 0;
			if (len < sizeof(num) && strchr("-0123456789", p[i])) {
				memcpy(num, p + i, len);
				num[len] = '\0';
				valid = strtod(num, NULL) == 1.0;
			}
		}
		i = skip_ws(p, n, (size_t)v);
		if (i < n && p[i] == ',') {
			i = skip_ws(p, n, i + 1);
			continue;
		}
		return i < n && p[i] == '}' ? valid : -1;
	}
}

/* "sm3:<hex>" of the data, with the algorithm the given digest names: 0, or -1 when that
 * digest names none of ours. */
static int digest_like(struct seed *sd, const char *like, const void *p, size_t n,
		       char out[80])
{
	const EVP_MD *md = strncmp(like, "sm3:", 4) == 0	  ? sd->sm3
			   : strncmp(like, "sha-256:", 8) == 0 ? sd->sha256 : NULL;
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[65];

	if (!md || !EVP_Digest(n ? p : "", n, raw, &len, md, NULL) || len != 32)
		return -1;
	sim_hex(raw, 32, hex);
	snprintf(out, 80, "%s:%s", md == sd->sm3 ? "sm3" : "sha-256", hex);
	return 0;
}

/* A member --alter must leave alone: the key, the region, validity, the day, key fields. */
static int alter_keeps(const struct spgw_table *t, const char *name)
{
	const char *const *keyf;
	const struct spgw_field *f;

	if (!strcmp(name, "DFSJZJ") || !strcmp(name, "XZQHDM") || !strcmp(name, "SJYXBS"))
		return 1;
	if (!t)
		return 0;
	f = spgw_table_field(t, name);
	if (f && spgw_field_rules(f)->count_date)
		return 1;
	for (keyf = spgw_table_key(t); keyf && *keyf; keyf++) {
		if (!strcmp(*keyf, name))
			return 1;
	}
	return 0;
}

/*
 * Another version of a record, or a copy under another key: the data parsed, changed and
 * written canonically again into sd->canon, with its digest. For --alter (`new_key` NULL)
 * the longest text member that alter_keeps() allows (the first in canonical order among
 * equals) gets ALTER_MARK appended (a record without one gets "NATIONAL_SIM_OLD": true);
 * for --extra, DFSJZJ becomes `new_key`. 0, or -1 with err set.
 */
static int remake(struct seed *sd, const char *table, const char *data, size_t n,
		  const char *like, const char *new_key, char digest[80], struct spgw_error *err)
{
	const struct spgw_table *t = sd->schema ? spgw_schema_table(sd->schema, table) : NULL;
	json_error_t je;
	json_t *j = json_loadb(data, n, 0, &je), *v, *pick = NULL;
	const char *name, *pick_name = NULL;
	char *text;
	int rc = -1;

	if (!json_is_object(j)) {
		spgw_error_set(err, SPGW_E_SYNTAX, NULL, 0, 0, "the data is not a JSON object: %s",
			       je.text);
		goto out;
	}
	if (new_key) {
		if (json_object_get(j, "DFSJZJ"))
			json_object_set_new(j, "DFSJZJ", json_string(new_key));
	} else {
		/* the longest text is a name or a description rather than a code; jansson
		 * keeps members in the order parsed, the canonical order, for ties */
		json_object_foreach(j, name, v) {
			if (json_is_string(v) && !alter_keeps(t, name) &&
			    (!pick || json_string_length(v) > json_string_length(pick))) {
				pick = v;
				pick_name = name;
			}
		}
		if (pick) {
			text = spgw_malloc(json_string_length(pick) + sizeof(ALTER_MARK));
			if (!text) {
				spgw_error_nomem(err, "altering a record");
				goto out;
			}
			memcpy(text, json_string_value(pick), json_string_length(pick));
			memcpy(text + json_string_length(pick), ALTER_MARK, sizeof(ALTER_MARK));
			json_object_set_new(j, pick_name, json_string(text));
			spgw_free(text);
		} else {
			json_object_set_new(j, "NATIONAL_SIM_OLD", json_true());
		}
	}
	spgw_buf_reset(&sd->canon);
	if (spgw_canonical(j, &sd->canon, err))
		goto out;
	if (digest_like(sd, like, sd->canon.data, sd->canon.len, digest)) {
		spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0, "cannot compute the digest");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static void manifest_line(struct seed *sd, const char *kind, const char *region,
			  const char *table, const char *day, const char *key)
{
	if (sd->manifest)
		fprintf(sd->manifest, "%s\t%s\t%s\t%s\t%s\n", kind, region, table, day, key);
}

/* ---- the ledgers ---- */

static enum spgw_rc ledger_open(const char *arg, sqlite3 **db, struct spgw_error *err)
{
	char path[4096];
	struct stat sb;
	sqlite3_stmt *s = NULL;
	long long app = 0, uv = 0;

	/* a state directory names its spgw.db */
	if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode))
		snprintf(path, sizeof(path), "%s/spgw.db", arg);
	else
		snprintf(path, sizeof(path), "%s", arg);
	if (stat(path, &sb) != 0)
		return spgw_error_set(err, SPGW_E_NOTFOUND, path, 0, 0,
				      "no such ledger: give a gateway's spgw.db or its state "
				      "directory");
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(*db, "SELECT (SELECT application_id FROM pragma_application_id),"
			       " (SELECT user_version FROM pragma_user_version)", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		spgw_error_set(err, SPGW_E_LEDGER, path, 0, 0, "cannot read it as SQLite: %s",
			       sqlite3_errmsg(*db));
		sqlite3_finalize(s);
		return SPGW_E_LEDGER;
	}
	app = sqlite3_column_int64(s, 0);
	uv = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	if (app != LEDGER_APP_ID)
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "is not an spgw ledger (application_id 0x%08llx)",
				      (unsigned long long)app & 0xffffffffULL);
	if (uv < LEDGER_MIN_VERSION)
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "ledger schema version %lld has no outbox_data yet: open it "
				      "once with a current spgw (spgw status) to migrate it", uv);
	return SPGW_OK;
}

/* Pass 1: the keys with more than one version (of any state), from the ledger's own
 * (region, spgl_table, record_key, version) index without reading a row. */
static enum spgw_rc find_multi(struct seed *sd, sqlite3 *db, const char *name,
			       struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	int src;

	if (sqlite3_prepare_v2(db, "SELECT region, spgl_table, record_key FROM outbox"
			       " GROUP BY region, spgl_table, record_key HAVING count(*) > 1",
			       -1, &s, NULL) != SQLITE_OK)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0, "reading the outbox: %s",
				      sqlite3_errmsg(db));
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (mmap_add(&sd->multi, col(s, 0), col(s, 1), col(s, 2))) {
			sqlite3_finalize(s);
			return spgw_error_nomem(err, "listing keys with several versions");
		}
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0, "reading the outbox: %s",
				      sqlite3_errmsg(db));
	return SPGW_OK;
}

static void progress(struct seed *sd)
{
	struct timespec t;

	if (sd->res->read % PROGRESS_EVERY)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "seed: %ld versions read, %.0f s\n", sd->res->read,
		(double)(t.tv_sec - sd->t0.tv_sec) + (double)(t.tv_nsec - sd->t0.tv_nsec) / 1e9);
}

/* One delivered version of the ledger: judged and stored as a batch would. */
static enum spgw_rc one_row(struct seed *sd, size_t li, sqlite3_stmt *s, const char *name,
			    struct spgw_error *err)
{
	sqlite3_int64 id = sqlite3_column_int64(s, 0);
	const char *region = col(s, 1), *table = col(s, 2), *key = col(s, 3), *day = col(s, 4);
	const char *digest = col(s, 5), *batch_id = col(s, 6), *at = col(s, 7);
	const char *data = (const char *)sqlite3_column_blob(s, 8);
	size_t n = (size_t)sqlite3_column_bytes(s, 8);
	char mine[80], altered[80];
	struct sim_version_row v;
	struct sim_current_row c;
	struct mkey *e = mmap_get(&sd->multi, region, table, key);
	enum fate fate;
	int valid;

	sd->res->read++;
	progress(sd);
	if (sqlite3_column_type(s, 8) == SQLITE_NULL)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0,
				      "outbox id %lld (%s %s %s) has no outbox_data row",
				      (long long)id, region, table, key);
	if (!sim_is_region(region) || !key[0] || !sim_is_date(day))
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0,
				      "outbox id %lld: delivered with region \"%.20s\", key "
				      "\"%.60s\", day \"%.20s\"; a delivered version needs six "
				      "digits, a key and a YYYY-MM-DD day", (long long)id, region,
				      key, day);
	if (digest_like(sd, digest, data, n, mine))
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0,
				      "outbox id %lld (%s %s %s): digest \"%.80s\" is neither "
				      "sm3:<hex> nor sha-256:<hex>", (long long)id, region, table,
				      key, digest);
	if (strcmp(mine, digest) != 0)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0,
				      "outbox id %lld (%s %s %s): digest %.80s is not the digest "
				      "of its data (%s); the platform would have refused it, so "
				      "seed will not store it", (long long)id, region, table, key,
				      digest, mine);
	valid = data_valid(data, n);
	if (valid < 0)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0,
				      "outbox id %lld (%s %s %s): the data is not a JSON object",
				      (long long)id, region, table, key);
	/* the reservoir of --extra's templates: every delivered version has the same chance */
	if (sd->o->extra > 0) {
		uint64_t j = (uint64_t)sd->res->read - 1;

		if (j < (uint64_t)sd->o->extra) {
			sd->tmpls[sd->n_tmpls].ledger = li;
			sd->tmpls[sd->n_tmpls++].id = id;
		} else if ((j = next_rand(sd) % (j + 1)) < (uint64_t)sd->o->extra) {
			sd->tmpls[j].ledger = li;
			sd->tmpls[j].id = id;
		}
	}
	fate = e && e->seen ? e->fate : fate_of(sd, region, table, key);
	if (e && !e->seen) {
		e->seen = 1;
		e->fate = fate;
	}
	if (fate == DROP) {
		if (e) {
			snprintf(e->day, sizeof(e->day), "%s", day);
		} else {
			manifest_line(sd, "dropped", region, table, day, key);
			sd->res->dropped++;
		}
		return SPGW_OK;
	}
	if (fate == ALTER) {
		if (remake(sd, table, data, n, digest, NULL, altered, err)) {
			spgw_error_key(err, key);
			return err ? err->code : SPGW_E_INVALID;
		}
		data = sd->canon.data;
		n = sd->canon.len;
		digest = altered;
	}
	memset(&v, 0, sizeof(v));
	v.region = region;
	v.table = table;
	v.key = key;
	v.digest = digest;
	v.day = day;
	v.valid = valid;
	v.data = data;
	v.data_len = n;
	v.gateway = sd->o->gateway;
	v.batch_id = batch_id[0] ? batch_id : "seed";
	v.received_at = at[0] ? at : sd->now;
	if (e) {
		/* §5: the newest version's digest again is a duplicate; another day moves it */
		if (e->version > 0 && strcmp(e->digest, digest) == 0) {
			sd->res->duplicates++;
			if (strcmp(e->day, day) != 0) {
				snprintf(e->day, sizeof(e->day), "%s", day);
				e->moves++;
			}
			return SPGW_OK;
		}
		v.version = ++e->version;
		snprintf(e->digest, sizeof(e->digest), "%s", digest);
		snprintf(e->day, sizeof(e->day), "%s", day);
		e->valid = valid;
		sd->res->versions++;
		return sim_store_bulk_version(sd->bulk, &v, err);
	}
	v.version = 1;
	sd->res->versions++;
	sd->res->keys++;
	if (fate == ALTER) {
		manifest_line(sd, "altered", region, table, day, key);
		sd->res->altered++;
	}
	memset(&c, 0, sizeof(c));
	c.region = region;
	c.table = table;
	c.key = key;
	c.digest = digest;
	c.day = day;
	c.version = 1;
	c.valid = valid;
	if (sim_store_bulk_version(sd->bulk, &v, err))
		return err ? err->code : SPGW_E_LEDGER;
	return sim_store_bulk_current(sd->bulk, &c, err);
}

/* Pass 2: every delivered version, in the order the ledger queued them. */
static enum spgw_rc load_ledger(struct seed *sd, size_t li, const char *name,
				struct spgw_error *err)
{
	sqlite3 *db = sd->ledgers[li];
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	int src;

	if (sqlite3_prepare_v2(db, "SELECT o.id, o.region, o.spgl_table, o.record_key, o.day,"
			       " o.digest, o.batch_id, o.delivered_at, d.data FROM outbox o"
			       " LEFT JOIN outbox_data d ON d.id = o.id"
			       " WHERE o.state = 'delivered' ORDER BY o.id", -1, &s,
			       NULL) != SQLITE_OK)
		return spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0, "reading the outbox: %s",
				      sqlite3_errmsg(db));
	while (!rc && (src = sqlite3_step(s)) == SQLITE_ROW)
		rc = one_row(sd, li, s, name, err);
	if (!rc && src != SQLITE_DONE)
		rc = spgw_error_set(err, SPGW_E_LEDGER, name, 0, 0, "reading the outbox: %s",
				    sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

/* The keys with several versions, once all their versions went by. */
static enum spgw_rc finish_multi(struct seed *sd, struct spgw_error *err)
{
	struct sim_current_row c;
	size_t i;

	for (i = 0; i < sd->multi.cap; i++) {
		struct mkey *e = sd->multi.slots[i];

		if (!e || !e->seen)
			continue;
		if (e->fate == DROP) {
			manifest_line(sd, "dropped", e->names, e->table, e->day, e->key);
			sd->res->dropped++;
			continue;
		}
		if (e->fate == ALTER) {
			manifest_line(sd, "altered", e->names, e->table, e->day, e->key);
			sd->res->altered++;
		}
		sd->res->keys++;
		sd->res->moves += e->moves;
		memset(&c, 0, sizeof(c));
		c.region = e->names;
		c.table = e->table;
		c.key = e->key;
		c.digest = e->digest;
		c.day = e->day;
		c.version = e->version;
		c.valid = e->valid;
		c.moves = e->moves;
		if (sim_store_bulk_current(sd->bulk, &c, err))
			return err ? err->code : SPGW_E_LEDGER;
	}
	return SPGW_OK;
}

/* --extra: copies of the sampled delivered versions under keys the ledger does not have. */
static enum spgw_rc add_extras(struct seed *sd, struct spgw_error *err)
{
	sqlite3_stmt *s[SIM_SEED_MAX_LEDGERS] = { NULL };
	struct sim_version_row v;
	struct sim_current_row c;
	char key[SIM_MAX_KEY + 1], digest[80];
	enum spgw_rc rc = SPGW_OK;
	long i;
	size_t li;

	if (sd->o->extra > 0 && sd->n_tmpls == 0)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--extra %ld: the ledger has no delivered version to copy",
				      sd->o->extra);
	for (i = 0; !rc && i < sd->o->extra; i++) {
		const struct tmpl *t = &sd->tmpls[(size_t)i % sd->n_tmpls];
		sqlite3_stmt **q = &s[t->ledger];
		const char *region, *table, *okey, *day, *like;

		li = t->ledger;
		if (!*q && sqlite3_prepare_v2(sd->ledgers[li], "SELECT o.region, o.spgl_table,"
					      " o.record_key, o.day, o.digest, d.data FROM outbox o"
					      " JOIN outbox_data d ON d.id = o.id WHERE o.id = ?1",
					      -1, q, NULL) != SQLITE_OK) {
			rc = spgw_error_set(err, SPGW_E_LEDGER, sd->o->ledgers[li], 0, 0,
					    "reading the outbox: %s",
					    sqlite3_errmsg(sd->ledgers[li]));
			break;
		}
		sqlite3_bind_int64(*q, 1, t->id);
		if (sqlite3_step(*q) != SQLITE_ROW) {
			rc = spgw_error_set(err, SPGW_E_LEDGER, sd->o->ledgers[li], 0, 0,
					    "outbox id %lld went away while seeding",
					    (long long)t->id);
			break;
		}
		region = col(*q, 0);
		table = col(*q, 1);
		okey = col(*q, 2);
		day = col(*q, 3);
		like = col(*q, 4);
		snprintf(key, sizeof(key), "%.980s-extra-%ld", okey, i + 1);
		if (remake(sd, table, (const char *)sqlite3_column_blob(*q, 5),
			   (size_t)sqlite3_column_bytes(*q, 5), like, key, digest, err)) {
			spgw_error_key(err, okey);
			rc = err ? err->code : SPGW_E_INVALID;
			break;
		}
		memset(&v, 0, sizeof(v));
		v.region = region;
		v.table = table;
		v.key = key;
		v.digest = digest;
		v.day = day;
		v.version = 1;
		v.valid = data_valid(sd->canon.data, sd->canon.len) == 1;
		v.data = sd->canon.data;
		v.data_len = sd->canon.len;
		v.gateway = sd->o->gateway;
		v.batch_id = "seed-extra";
		v.received_at = sd->now;
		memset(&c, 0, sizeof(c));
		c.region = region;
		c.table = table;
		c.key = key;
		c.digest = digest;
		c.day = day;
		c.version = 1;
		c.valid = v.valid;
		rc = sim_store_bulk_version(sd->bulk, &v, err);
		if (!rc)
			rc = sim_store_bulk_current(sd->bulk, &c, err);
		manifest_line(sd, "extra", region, table, day, key);
		sd->res->extra++;
		sd->res->keys++;
		sd->res->versions++;
		sqlite3_reset(*q);
	}
	for (li = 0; li < SIM_SEED_MAX_LEDGERS; li++)
		sqlite3_finalize(s[li]);
	return rc;
}

enum spgw_rc sim_seed_run(const struct sim_seed_opts *o, struct sim_seed_result *res,
			  struct spgw_error *err)
{
	struct seed sd;
	struct spgw_diag diag;
	struct timespec t1;
	struct stat sb;
	char path[4096];
	enum spgw_rc rc = SPGW_OK;
	size_t i;

	memset(&sd, 0, sizeof(sd));
	memset(res, 0, sizeof(*res));
	sd.o = o;
	sd.res = res;
	sd.rng = o->seed;
	sim_rfc3339(time(NULL), sd.now);
	clock_gettime(CLOCK_MONOTONIC, &sd.t0);
	spgw_buf_init(&sd.canon, 64u << 20, "a seeded record");
	sd.sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
	sd.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sd.sm3 || !sd.sha256) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "OpenSSL offers no SM3 or SHA-256 digest");
		goto out;
	}
	if (o->alter > 0) {
		/* for the members --alter must not touch: count-date and key fields */
		spgw_diag_init(&diag);
		spgw_schema_load(o->schema, &sd.schema, &diag);
		if (diag.n || !sd.schema) {
			rc = spgw_error_set(err, SPGW_E_SCHEMA, o->schema, 0, 0,
					    "cannot load the schema (--schema FILE)%s%s",
					    diag.n ? ": " : "", diag.n ? diag.items[0].text : "");
			spgw_diag_free(&diag);
			goto out;
		}
		spgw_diag_free(&diag);
	}
	if (o->extra > 0) {
		sd.tmpls = spgw_calloc((size_t)o->extra, sizeof(*sd.tmpls));
		if (!sd.tmpls) {
			rc = spgw_error_nomem(err, "sampling --extra templates");
			goto out;
		}
	}
	for (i = 0; !rc && i < o->n_ledgers; i++) {
		rc = ledger_open(o->ledgers[i], &sd.ledgers[i], err);
		if (!rc)
			rc = find_multi(&sd, sd.ledgers[i], o->ledgers[i], err);
	}
	if (rc)
		goto out;
	if (stat(o->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		rc = spgw_error_set(err, SPGW_E_NOTFOUND, o->dir, 0, 0,
				    "no such directory: run `spgw-national-sim init --dir %s` "
				    "first", o->dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/national.db", o->dir);
	rc = sim_store_bulk_new(path, &sd.bulk, err);
	if (rc)
		goto out;
	if (o->manifest && !(sd.manifest = fopen(o->manifest, "w"))) {
		rc = spgw_error_set(err, SPGW_E_IO, o->manifest, 0, 0, "cannot write the manifest");
		goto out;
	}
	for (i = 0; !rc && i < o->n_ledgers; i++)
		rc = load_ledger(&sd, i, o->ledgers[i], err);
	if (!rc)
		rc = finish_multi(&sd, err);
	if (!rc)
		rc = add_extras(&sd, err);
	if (!rc && sd.manifest && (fflush(sd.manifest) || ferror(sd.manifest)))
		rc = spgw_error_set(err, SPGW_E_IO, o->manifest, 0, 0, "cannot write the manifest");
	if (!rc) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		res->load_seconds = (double)(t1.tv_sec - sd.t0.tv_sec) +
				    (double)(t1.tv_nsec - sd.t0.tv_nsec) / 1e9;
		rc = sim_store_bulk_finish(sd.bulk, err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - sd.t0.tv_sec) +
		       (double)(t1.tv_nsec - sd.t0.tv_nsec) / 1e9;
out:
	if (sd.manifest && fclose(sd.manifest) && !rc)
		rc = spgw_error_set(err, SPGW_E_IO, o->manifest, 0, 0, "cannot write the manifest");
	sim_store_bulk_free(sd.bulk);
	for (i = 0; i < o->n_ledgers; i++)
		sqlite3_close(sd.ledgers[i]);
	mmap_free(&sd.multi);
	spgw_free(sd.tmpls);
	spgw_buf_free(&sd.canon);
	spgw_schema_free(sd.schema);
	EVP_MD_free((EVP_MD *)sd.sm3);
	EVP_MD_free((EVP_MD *)sd.sha256);
	return rc;
}
