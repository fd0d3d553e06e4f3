/*
 * spgw-sim-client make-ledger: a gateway ledger with delivered records, made without a
 * gateway run, for `spgw-national-sim seed` and for reconciliation tests and benchmarks.
 *
 *   spgw-sim-client make-ledger --ledger STATE_DIR --template RECORD.json
 *       --regions R1,R2 --tables T1,T2 --records N --from YYYY-MM-DD [--days D]
 *       [--changed F] [--seed N] [--prefix P] [--schema FILE]
 *
 * The ledger is opened with the gateway's own spgw_ledger_open() (its migrations, so the
 * layout is the real one) and rows are then written straight into outbox and outbox_data,
 * as delivery would have left them. For every region and table, N keys
 * "<P>-<region>-<table>-<n>" get the template's data with DFSJZJ, XZQHDM and the table's
 * count-date field (when the template has it) set, day from + n mod D, the digest the
 * canonical form's SM3. The template's data goes under every --tables name: a load shape
 * for the platform's counts, not valid records of those tables.
 *
 * --changed F gives a share of the keys (decided by a hash of --seed and the key) a history,
 * one of four by n mod 4, so that seeding meets every case a real ledger holds:
 *   0  v1 delivered; v2 delivered, changed, one day later
 *   1  v1 delivered; v2 delivered, changed, same day; v3 pending (not delivered)
 *   2  v1 delivered; v2 dead (changed); v3 delivered with v1's data two days later (the
 *      platform answers it duplicate and moves the key, as for an inherited day)
 *   3  v1 delivered; v2 dead (changed): the platform holds v1
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "canonical.h"
#include "diag.h"
#include "ledger.h"
#include "mem.h"
#include "schema.h"
#include "sim.h"

#ifndef SIM_SCHEMA_DEFAULT
#define SIM_SCHEMA_DEFAULT "config/schema/spgl-v3.json"
#endif

/* Rows per transaction. */
#define GEN_TXN 50000
/* Versions per batch_id written on delivered rows. */
#define GEN_BATCH 1000
/* What a changed version appends to the member it changes. */
#define GEN_CHANGE "（变更）"

struct gen {
	const char *ledger, *template_path, *regions, *tables, *from, *prefix, *schema_path;
	long records, days;
	double changed;
	uint64_t seed;
	/* runtime */
	sqlite3 *db;
	sqlite3_stmt *outbox, *data;
	struct spgw_schema *schema;
	json_t *tmpl;
	struct spgw_buf canon;
	char now[21];
	long rows, delivered, pending_txn, batch_no;
};

static int usage(const char *what)
{
	fprintf(stderr, "spgw-sim-client make-ledger: %s\n(see the comment at the top of "
		"sim_ledger_gen.c or contrib/national-sim/README.md)\n", what);
	return 2;
}

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int gen_fail(struct gen *g, const char *what)
{
	fprintf(stderr, "spgw-sim-client make-ledger: %s: %s: %s\n", g->ledger, what,
		sqlite3_errmsg(g->db));
	return -1;
}

static int gen_exec(struct gen *g, const char *sql)
{
	return sqlite3_exec(g->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : gen_fail(g, sql);
}

/* The count-date field of a table, or NULL. */
static const char *count_field(const struct spgw_schema *s, const char *table)
{
	const struct spgw_table *t = spgw_schema_table(s, table);
	size_t i;

	for (i = 0; t && i < spgw_table_field_count(t); i++) {
		const struct spgw_field *f = spgw_table_field_at(t, i);

		if (spgw_field_rules(f)->count_date)
			return spgw_field_name(f);
	}
	return NULL;
}

/* The template's data for one version: key, region and day set; a changed version
 * (`changed` > 0) has GEN_CHANGE appended `changed` times to its longest other text. */
static json_t *record(struct gen *g, const char *table, const char *key, const char *region,
		      const char *day, int changed)
{
	json_t *r = json_deep_copy(g->tmpl), *v, *pick = NULL;
	const char *cf = count_field(g->schema, table), *name, *pick_name = NULL;
	char text[4200];
	int k;

	if (!r)
		return NULL;
	json_object_set_new(r, "DFSJZJ", json_string(key));
	json_object_set_new(r, "XZQHDM", json_string(region));
	v = cf ? json_object_get(r, cf) : NULL;
	if (json_is_string(v) && json_string_length(v) >= 10) {
		/* keep the value's form (date or date and time), change its date */
		snprintf(text, sizeof(text), "%s", json_string_value(v));
		memcpy(text, day, 10);
		json_object_set_new(r, cf, json_string(text));
	}
	if (changed) {
		/* the longest text: a name or a description, where a change stays valid */
		json_object_foreach(r, name, v) {
			if (!json_is_string(v) || !strcmp(name, "DFSJZJ") ||
			    !strcmp(name, "XZQHDM") || (cf && !strcmp(name, cf)) ||
			    json_string_length(v) > 4000)
				continue;
			if (!pick || json_string_length(v) > json_string_length(pick)) {
				pick = v;
				pick_name = name;
			}
		}
		if (pick) {
			snprintf(text, sizeof(text), "%s", json_string_value(pick));
			for (k = 0; k < changed; k++)
				strcat(text, GEN_CHANGE);
			json_object_set_new(r, pick_name, json_string(text));
		}
	}
	return r;
}

/* One outbox row and its data: state "delivered", "pending" or "dead". */
static int put(struct gen *g, const char *region, const char *table, const char *key,
	       long version, const char *day, const json_t *rec, const char *state)
{
	unsigned char md[32];
	char hex[65], digest[80], batch[64];
	const json_t *sj = json_object_get(rec, "SJYXBS");
	sqlite3_stmt *s = g->outbox;

	spgw_buf_reset(&g->canon);
	if (spgw_canonical(rec, &g->canon, NULL) ||
	    sim_digest("sm3", g->canon.data, g->canon.len, md)) {
		fprintf(stderr, "spgw-sim-client make-ledger: the template has no canonical "
			"form\n");
		return -1;
	}
	sim_hex(md, 32, hex);
	snprintf(digest, sizeof(digest), "sm3:%s", hex);
	sqlite3_bind_text(s, 1, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, version);
	sqlite3_bind_text(s, 5, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 7, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, g->now, -1, SQLITE_STATIC);
	if (strcmp(state, "pending") != 0) {
		snprintf(batch, sizeof(batch), "make-ledger-%ld", g->batch_no);
		sqlite3_bind_text(s, 9, batch, -1, SQLITE_TRANSIENT);
	}
	if (strcmp(state, "delivered") == 0) {
		sqlite3_bind_text(s, 10, g->now, -1, SQLITE_STATIC);
		if (++g->delivered % GEN_BATCH == 0)
			g->batch_no++;
	}
	if (strcmp(state, "dead") == 0) {
		sqlite3_bind_text(s, 11, "[{\"field\":null,\"code\":\"format\","
				  "\"message\":\"make-ledger: refused\"}]", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 12, g->now, -1, SQLITE_STATIC);
	}
	if (json_is_number(sj))
		sqlite3_bind_int(s, 13, json_number_value(sj) == 1.0);
	if (sqlite3_step(s) != SQLITE_DONE)
		return gen_fail(g, "writing the outbox");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_int64(g->data, 1, sqlite3_last_insert_rowid(g->db));
	sqlite3_bind_text(g->data, 2, g->canon.data, (int)g->canon.len, SQLITE_STATIC);
	if (sqlite3_step(g->data) != SQLITE_DONE)
		return gen_fail(g, "writing outbox_data");
	sqlite3_reset(g->data);
	g->rows++;
	if (++g->pending_txn == GEN_TXN) {
		g->pending_txn = 0;
		if (gen_exec(g, "COMMIT; BEGIN"))
			return -1;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* One key and its history. */
static int one_key(struct gen *g, const char *region, const char *table, long n)
{
	char key[200], d0[11], d1[11], d2[11];
	long base = sim_days_of(g->from) + n % g->days;
	json_t *a, *b = NULL, *c = NULL;
	int changed, rc;

	snprintf(key, sizeof(key), "%s-%s-%s-%07ld", g->prefix, region,
		 strncmp(table, "SPGL_", 5) == 0 ? table + 5 : table, n);
	changed = (double)(mix(fnv(0xcbf29ce484222325ULL ^ mix(g->seed), key)) >> 11) /
		  9007199254740992.0 < g->changed;
	sim_date_of(base, d0);
	sim_date_of(base + 1, d1);
	sim_date_of(base + 2, d2);
	a = record(g, table, key, region, d0, 0);
	if (!a)
		return -1;
	rc = put(g, region, table, key, 1, d0, a, "delivered");
	if (!rc && changed) {
		switch (n % 4) {
		case 0:
			b = record(g, table, key, region, d1, 1);
			rc = !b || put(g, region, table, key, 2, d1, b, "delivered");
			break;
		case 1:
			b = record(g, table, key, region, d0, 1);
			c = record(g, table, key, region, d0, 2);
			rc = !b || !c || put(g, region, table, key, 2, d0, b, "delivered") ||
			     put(g, region, table, key, 3, d0, c, "pending");
			break;
		case 2:
			b = record(g, table, key, region, d0, 1);
			rc = !b || put(g, region, table, key, 2, d0, b, "dead") ||
			     put(g, region, table, key, 3, d2, a, "delivered");
			break;
		default:
			b = record(g, table, key, region, d0, 1);
			rc = !b || put(g, region, table, key, 2, d0, b, "dead");
			break;
		}
	}
	json_decref(a);
	json_decref(b);
	json_decref(c);
	return rc ? -1 : 0;
}

static int run(struct gen *g)
{
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	struct spgw_diag diag;
	json_error_t je;
	char rbuf[4096], tbuf[4096], path[4200], *regions[256], *tables[64], *p, *save;
	size_t nr = 0, nt = 0, i, t;
	struct timespec t0, t1;
	long n;
	int rc = -1;

	memset(&err, 0, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sim_rfc3339(time(NULL), g->now);
	snprintf(rbuf, sizeof(rbuf), "%s", g->regions);
	for (p = strtok_r(rbuf, ",", &save); p && nr < 256; p = strtok_r(NULL, ",", &save)) {
		if (!sim_is_region(p))
			return usage("--regions: six digits each");
		regions[nr++] = p;
	}
	snprintf(tbuf, sizeof(tbuf), "%s", g->tables);
	for (p = strtok_r(tbuf, ",", &save); p && nt < 64; p = strtok_r(NULL, ",", &save))
		tables[nt++] = p;
	if (!nr || !nt)
		return usage("--regions and --tables need at least one each");
	spgw_diag_init(&diag);
	spgw_schema_load(g->schema_path, &g->schema, &diag);
	if (diag.n || !g->schema) {
		fprintf(stderr, "spgw-sim-client make-ledger: %s: cannot load the schema\n",
			g->schema_path);
		spgw_diag_free(&diag);
		goto out;
	}
	spgw_diag_free(&diag);
	g->tmpl = json_load_file(g->template_path, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(g->tmpl)) {
		fprintf(stderr, "spgw-sim-client make-ledger: %s: %s\n", g->template_path, je.text);
		goto out;
	}
	/* the gateway's own open: creates or migrates the ledger to its current layout */
	if (spgw_ledger_open(g->ledger, &l, &err)) {
		fprintf(stderr, "spgw-sim-client make-ledger: %s: %s\n", err.source, err.text);
		goto out;
	}
	snprintf(path, sizeof(path), "%s", spgw_ledger_path(l));
	spgw_ledger_close(l);
	if (sqlite3_open_v2(path, &g->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		gen_fail(g, "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(g->db, 10000);
	if (gen_exec(g, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144") ||
	    sqlite3_prepare_v2(g->db, "INSERT INTO outbox(region, spgl_table, record_key, version,"
			       " day, digest, source, state, created_at, batch_id, delivered_at,"
			       " dead_reason, dead_at, valid) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
			       " 'make-ledger', ?7, ?8, ?9, ?10, ?11, ?12, ?13)", -1, &g->outbox,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(g->db, "INSERT INTO outbox_data(id, data) VALUES(?1, ?2)", -1,
			       &g->data, NULL) != SQLITE_OK) {
		gen_fail(g, "preparing");
		goto out;
	}
	if (gen_exec(g, "BEGIN"))
		goto out;
	for (i = 0; i < nr; i++) {
		for (t = 0; t < nt; t++) {
			for (n = 0; n < g->records; n++) {
				if (one_key(g, regions[i], tables[t], n))
					goto out;
			}
		}
	}
	if (gen_exec(g, "COMMIT"))
		goto out;
	{
		/* the rows went in around spgw_ledger_put: the tallies of spgw status and
		 * reconciliation are counted again from them */
		struct spgw_ledger *led = NULL;
		struct spgw_error e;

		memset(&e, 0, sizeof(e));
		if (spgw_ledger_open_unchecked(g->ledger, &led, &e) ||
		    spgw_ledger_rebuild_tallies(led, &e)) {
			fprintf(stderr, "spgw-sim-client make-ledger: %s: %s\n", g->ledger, e.text);
			spgw_ledger_close(led);
			goto out;
		}
		spgw_ledger_close(led);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("make-ledger %s: %ld keys, %ld versions (%ld delivered) in %.1f s\n", path,
	       (long)(nr * nt) * g->records, g->rows, g->delivered,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
out:
	sqlite3_finalize(g->outbox);
	sqlite3_finalize(g->data);
	if (g->db) {
		if (!sqlite3_get_autocommit(g->db))
			sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(g->db);
	}
	json_decref(g->tmpl);
	spgw_schema_free(g->schema);
	spgw_buf_free(&g->canon);
	return rc ? 1 : 0;
}

int sim_ledger_gen_main(int argc, char **argv)
{
	struct gen g;
	char *end;
	int i;

	memset(&g, 0, sizeof(g));
	g.days = 1;
	g.prefix = "L";
	g.schema_path = SIM_SCHEMA_DEFAULT;
	spgw_buf_init(&g.canon, 16u << 20, "record");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (i + 1 >= argc)
			return usage("an option needs a value");
		v = argv[++i];
		errno = 0;
		if (strcmp(a, "--ledger") == 0) {
			g.ledger = v;
		} else if (strcmp(a, "--template") == 0) {
			g.template_path = v;
		} else if (strcmp(a, "--regions") == 0) {
			g.regions = v;
		} else if (strcmp(a, "--tables") == 0) {
			g.tables = v;
		} else if (strcmp(a, "--from") == 0) {
			if (!sim_is_date(v))
				return usage("--from: a date YYYY-MM-DD");
			g.from = v;
		} else if (strcmp(a, "--prefix") == 0) {
			g.prefix = v;
		} else if (strcmp(a, "--schema") == 0) {
			g.schema_path = v;
		} else if (strcmp(a, "--records") == 0) {
			g.records = strtol(v, &end, 10);
			if (errno || *end || g.records < 1 || g.records > 9999999)
				return usage("--records: 1 to 9999999 per region and table");
		} else if (strcmp(a, "--days") == 0) {
			g.days = strtol(v, &end, 10);
			if (errno || *end || g.days < 1 || g.days > 100000)
				return usage("--days: at least 1");
		} else if (strcmp(a, "--changed") == 0) {
			g.changed = strtod(v, &end);
			if (errno || *end || !(g.changed >= 0 && g.changed <= 1))
				return usage("--changed: a fraction from 0 to 1");
		} else if (strcmp(a, "--seed") == 0) {
			g.seed = strtoull(v, &end, 10);
			if (errno || *end)
				return usage("--seed: a whole number");
		} else {
			return usage("unknown option");
		}
	}
	if (!g.ledger || !g.template_path || !g.regions || !g.tables || !g.records || !g.from)
		return usage("needs --ledger, --template, --regions, --tables, --records and "
			     "--from");
	return run(&g);
}
