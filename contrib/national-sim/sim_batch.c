/*
 * POST BASE/batches (PROTOCOL.md §2, §5): the batch's shape, then each record's result, then
 * one transaction that stores the new versions and the answer, then the signed receipt.
 *
 * The expensive part (validation, canonical form, digest) runs before the store's lock, so
 * concurrent batches use both cores; only the lookups and writes are serialised. The batch_id
 * is looked up before that work (a replay costs nothing) and again under the lock (two copies
 * of one batch in flight at once still store it once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "canonical.h"
#include "mem.h"
#include "reasons.h"
#include "validate.h"
#include "sim.h"

/* One record of the batch while it is judged. Strings borrowed from the parsed body. */
struct rec {
	const char *key, *day, *digest;
	const json_t *data;
	const char *issue;     /* the parser's canonical-form problem, or NULL */
	json_t *errors;        /* new array when rejected */
	char mine[80];         /* our digest of its canonical form */
	size_t canon_at, canon_len; /* its canonical bytes in batch.canon (the version's data) */
	int valid;             /* SJYXBS is the number 1 (§3) */
	const char *status;
};

struct batch {
	const char *batch_id, *region, *table;
	const struct spgw_table *t;
	const char *count_field; /* the table's count-date field, NULL when it has none */
	enum spgw_digest_alg dalg;
	const char *dname;       /* "sm3" / "sha-256" */
	struct rec *recs;
	size_t n;
	char sha[65];            /* sha256 of the uncompressed body */
	/* The canonical forms of the accepted records, one after another: one growing buffer
	 * instead of a 1.5 KB allocation per record, which made glibc consolidate its free
	 * lists on every record (a fifth of the server's time, measured with perf). */
	struct spgw_buf canon;
};

static int add_error(struct rec *rc, const char *field, const char *code, char *msg)
{
	json_t *e;

	/* a message may quote a cut value: keep it UTF-8, which json_pack insists on */
	sim_utf8_fix(msg);

	if (!rc->errors) {
		rc->errors = json_array();
		if (!rc->errors)
			return -1;
	}
	e = json_pack("{s:s?, s:s, s:s}", "field", field, "code", code, "message", msg);
	return e ? json_array_append_new(rc->errors, e) : -1;
}

static int has_code(const struct rec *rc, const char *code)
{
	size_t i;
	json_t *e;

	json_array_foreach(rc->errors, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
			return 1;
	}
	return 0;
}

/* ---- shape (§5): any problem here refuses the whole batch ---- */

static int only_members(const json_t *o, const char *const *allowed, const char **bad)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; allowed[i]; i++) {
			if (strcmp(k, allowed[i]) == 0)
				break;
		}
		if (!allowed[i]) {
			*bad = k;
			return -1;
		}
	}
	return 0;
}

/* Content-Type: application/json, with charset=utf-8 as its only parameter if any. */
static int content_type_ok(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (!*ct)
		return 1;
	if (*ct++ != ';')
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "charset=", 8) != 0)
		return 0;
	ct += 8;
	if (strncasecmp(ct, "utf-8", 5) == 0)
		ct += 5;
	else if (strncasecmp(ct, "\"utf-8\"", 7) == 0)
		ct += 7;
	else
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int shape(struct sim_server *s, const json_t *root, const json_t *issues,
		 struct batch *b, struct sim_answer *a)
{
	static const char *const top[] = { "batch_id", "region", "schema", "table", "records",
					   NULL };
	static const char *const rec_members[] = { "key", "day", "digest", "data", NULL };
	const json_t *records, *r, *schema;
	const char *bad = NULL, **keys = NULL;
	char name[32];
	size_t i;
	int rc = -1;

	if (!json_is_object(root)) {
		sim_answer_error(a, 400, "bad_schema", "the body must be a JSON object");
		return -1;
	}
	if (only_members(root, top, &bad)) {
		sim_answer_error(a, 400, "bad_schema", "unknown member \"%.60s\" in the batch; a "
				 "batch has batch_id, region, schema, table and records", bad);
		return -1;
	}
	b->batch_id = json_string_value(json_object_get(root, "batch_id"));
	b->region = json_string_value(json_object_get(root, "region"));
	b->table = json_string_value(json_object_get(root, "table"));
	schema = json_object_get(root, "schema");
	records = json_object_get(root, "records");
	if (!b->batch_id || !sim_is_token(b->batch_id, SIM_BATCH_ID_MAX)) {
		sim_answer_error(a, 400, "bad_schema",
				 "batch_id must be a string matching [A-Za-z0-9._-]{1,128}");
		return -1;
	}
	if (!b->region || !sim_is_region(b->region)) {
		sim_answer_error(a, 400, "bad_schema", "region must be six digits");
		return -1;
	}
	if (!json_is_string(schema) ||
	    strcmp(json_string_value(schema), spgw_schema_id(s->schema)) != 0) {
		sim_answer_error(a, 400, "bad_schema", "schema must be \"%s\"",
				 spgw_schema_id(s->schema));
		return -1;
	}
	if (!b->table || !(b->t = spgw_schema_table(s->schema, b->table))) {
		sim_answer_error(a, 400, "bad_schema", "table must name a table of %s",
				 spgw_schema_id(s->schema));
		return -1;
	}
	if (!json_is_array(records) || json_array_size(records) == 0) {
		sim_answer_error(a, 400, "bad_schema", "records must be a non-empty list");
		return -1;
	}
	b->n = json_array_size(records);
	if ((long)b->n > s->max_records) {
		sim_answer_error(a, 413, "too_large",
				 "%zu records; at most %ld per batch: split the batch and resend",
				 b->n, s->max_records);
		return -1;
	}
	b->recs = spgw_calloc(b->n, sizeof(*b->recs));
	keys = spgw_calloc(b->n, sizeof(*keys));
	if (!b->recs || !keys) {
		sim_answer_error(a, 500, "unavailable", "out of memory");
		goto out;
	}
	json_array_foreach(records, i, r) {
		struct rec *rc2 = &b->recs[i];

		if (!json_is_object(r)) {
			sim_answer_error(a, 400, "bad_schema", "records[%zu] is not an object", i);
			goto out;
		}
		if (only_members(r, rec_members, &bad)) {
			sim_answer_error(a, 400, "bad_schema",
					 "records[%zu]: unknown member \"%.60s\"; a record has "
					 "key, day, digest and data", i, bad);
			goto out;
		}
		rc2->key = json_string_value(json_object_get(r, "key"));
		rc2->day = json_string_value(json_object_get(r, "day"));
		rc2->digest = json_string_value(json_object_get(r, "digest"));
		rc2->data = json_object_get(r, "data");
		if (!rc2->key || !rc2->day || !rc2->digest || !json_is_object(rc2->data)) {
			sim_answer_error(a, 400, "bad_schema",
					 "records[%zu] must have string key, day and digest and an "
					 "object data", i);
			goto out;
		}
		/* a NUL inside the key would cut it short everywhere C strings go */
		if (!rc2->key[0] ||
		    strlen(rc2->key) != json_string_length(json_object_get(r, "key")) ||
		    strlen(rc2->key) > SIM_MAX_KEY) {
			sim_answer_error(a, 400, "bad_schema",
					 "records[%zu]: key must be non-empty text of at most %d "
					 "bytes without NUL", i, SIM_MAX_KEY);
			goto out;
		}
		keys[i] = rc2->key;
		if (json_object_size(issues)) {
			snprintf(name, sizeof(name), "%zu", i);
			rc2->issue = json_string_value(json_object_get(issues, name));
		}
	}
	/* keys unique within the batch: sorted, twins are neighbours */
	qsort(keys, b->n, sizeof(*keys), cmp_str);
	for (i = 1; i < b->n; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			sim_answer_error(a, 400, "bad_schema",
					 "key \"%.100s\" appears twice in the batch; keys are "
					 "unique within a batch", keys[i]);
			goto out;
		}
	}
	rc = 0;
out:
	spgw_free(keys);
	return rc;
}

/* §5: sm3: record digests with sm2-sm3, sha-256: with the other two; else 400 bad_digest. */
static int digest_pairing(const struct batch *b, const struct sim_gateway *gw,
			  struct sim_answer *a)
{
	size_t i, n = strlen(b->dname);

	for (i = 0; i < b->n; i++) {
		const char *d = b->recs[i].digest;

		if (strncmp(d, b->dname, n) != 0 || d[n] != ':') {
			sim_answer_error(a, 400, "bad_digest",
					 "records[%zu] (key \"%.100s\"): digest \"%.20s...\" is "
					 "not %s:<hex>; gateway %s signs with %s, which pairs with "
					 "%s record digests (PROTOCOL.md §5)", i, b->recs[i].key, d,
					 b->dname, gw->id, sim_alg_name(gw->alg), b->dname);
			return -1;
		}
	}
	return 0;
}

/* ---- each record (§2, §4) ---- */

static const char *count_field(const struct spgw_table *t)
{
	size_t i;

	for (i = 0; i < spgw_table_field_count(t); i++) {
		const struct spgw_field *f = spgw_table_field_at(t, i);

		if (spgw_field_rules(f)->count_date)
			return spgw_field_name(f);
	}
	return NULL;
}

static int check_record(struct sim_server *s, struct batch *b, struct rec *rc,
			struct spgw_reasons *reasons)
{
	struct spgw_buf *canon = &b->canon;
	struct spgw_error cerr;
	char msg[600], hex[65], day[11];
	const json_t *sj;
	size_t i;

	if (rc->issue) {
		/* the data as parsed is not what was sent: no other check means anything */
		snprintf(msg, sizeof(msg), "记录数据没有规范化形式（PROTOCOL.md §2）：%s",
			 rc->issue);
		return add_error(rc, NULL, "canonical", msg);
	}
	spgw_reasons_clear(reasons);
	spgw_validate(s->schema, b->table, b->region, rc->data, reasons);
	for (i = 0; i < reasons->n; i++) {
		const struct spgw_reason *re = &reasons->items[i];

		if (add_error(rc, re->field[0] ? re->field : NULL, re->code, re->zh))
			return -1;
	}
	rc->canon_at = canon->len;
	memset(&cerr, 0, sizeof(cerr));
	if (spgw_canonical(rc->data, canon, &cerr) == SPGW_OK) {
		rc->canon_len = canon->len - rc->canon_at;
		if (spgw_digest_hex(b->dalg, canon->data + rc->canon_at, rc->canon_len, hex, NULL))
			return -1;
		snprintf(rc->mine, sizeof(rc->mine), "%s:%s", b->dname, hex);
		if (strcmp(rc->mine, rc->digest) != 0) {
			snprintf(msg, sizeof(msg),
				 "记录摘要与其规范化形式不符：应为 %s，收到 %.100s", rc->mine,
				 rc->digest);
			if (add_error(rc, NULL, "digest", msg))
				return -1;
		}
	} else if (cerr.code == SPGW_E_NOMEM) {
		return -1;
	} else if (!has_code(rc, "canonical")) {
		snprintf(msg, sizeof(msg), "记录没有规范化形式（PROTOCOL.md §2）：%s", cerr.text);
		if (add_error(rc, NULL, "canonical", msg))
			return -1;
	}
	if (!sim_is_date(rc->day)) {
		snprintf(msg, sizeof(msg), "业务日期 day “%.40s” 不是有效的 YYYY-MM-DD 日期",
			 rc->day);
		if (add_error(rc, NULL, "day", msg))
			return -1;
	} else if (b->count_field) {
		switch (spgw_schema_day(b->t, rc->data, day, NULL, NULL)) {
		case SPGW_DAY_OK:
			if (strcmp(day, rc->day) != 0) {
				snprintf(msg, sizeof(msg),
					 "业务日期 day 为 %s，但计数日期字段 %s 的"
					 "北京时间日期是 %s", rc->day, b->count_field, day);
				if (add_error(rc, b->count_field, "day", msg))
					return -1;
			}
			break;
		case SPGW_DAY_MISSING:
			if (!has_code(rc, "day")) {
				snprintf(msg, sizeof(msg),
					 "计数日期字段 %s 缺失或无法解析，无法确定业务日期",
					 b->count_field);
				if (add_error(rc, b->count_field, "day", msg))
					return -1;
			}
			break;
		default:
			break;
		}
	}
	/* §3: valid means SJYXBS is the number 1 (1 or 1.0), never the string "1" */
	sj = json_object_get(rc->data, "SJYXBS");
	rc->valid = json_is_number(sj) && json_number_value(sj) == 1.0;
	sim_fault_reject(&s->faults, b->region, b->table, rc->key, rc->digest, rc->data,
			 rc->errors ? rc->errors : (rc->errors = json_array()));
	if (json_array_size(rc->errors) == 0) {
		json_decref(rc->errors);
		rc->errors = NULL;
	} else {
		/* a rejected record's bytes are not stored: give the space back */
		canon->len = rc->canon_at;
		rc->canon_len = 0;
	}
	return 0;
}

static int check_records(struct sim_server *s, struct batch *b)
{
	struct spgw_reasons reasons;
	size_t i;
	int rc = 0;

	spgw_reasons_init(&reasons);
	/* Canonical forms are about as long as the JSON they came from; only numbers grow
	 * (9e15 is written 9000000000000000: 4 bytes to 16), so five times the body bounds
	 * them all. Reserved once for the usual case. */
	spgw_buf_init(&b->canon, 5 * s->max_bytes + 4096, "canonical records");
	if (spgw_buf_reserve(&b->canon, b->n * 2048, NULL))
		rc = -1;
	for (i = 0; i < b->n && !rc; i++)
		rc = check_record(s, b, &b->recs[i], &reasons);
	spgw_reasons_free(&reasons);
	return rc;
}

/* ---- the answer and its receipt ---- */

char *sim_receipt_sign(struct sim_server *s, const char *batch_id, const char *received_at,
		       const char *content_digest, long accepted, long duplicate, long rejected)
{
	char *msg, *b64 = NULL;
	unsigned char *sig = NULL;
	size_t n, sig_len;

	n = strlen(batch_id) + strlen(received_at) + strlen(content_digest) + 100;
	msg = spgw_malloc(n);
	if (!msg)
		return NULL;
	n = (size_t)snprintf(msg, n, "SPGW1-RECEIPT\n%s\n%s\n%s\n%ld\n%ld\n%ld", batch_id,
			     received_at, content_digest, accepted, duplicate, rejected);
	if (sim_sign(s->national, s->national_alg, msg, n, &sig, &sig_len) == 0)
		b64 = sim_b64_encode(sig, sig_len);
	spgw_free(sig);
	spgw_free(msg);
	return b64;
}

/* Append `v` as a JSON string. Keys are valid UTF-8 (the parser saw to that), so only the
 * quote, the backslash and control characters need escapes. */
static enum spgw_rc add_json_string(struct spgw_buf *o, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = v;
	char esc[7];

	if (spgw_buf_addc(o, '"', NULL))
		return SPGW_E_NOMEM;
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (spgw_buf_add(o, run, (size_t)(v - run), NULL))
			return SPGW_E_NOMEM;
		run = v + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
		}
		if (spgw_buf_addstr(o, esc, NULL))
			return SPGW_E_NOMEM;
	}
	if (spgw_buf_add(o, run, (size_t)(v - run), NULL) || spgw_buf_addc(o, '"', NULL))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

/* Append a JSON value as jansson writes it compactly. */
static enum spgw_rc add_json(struct spgw_buf *o, const json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	enum spgw_rc rc = t ? spgw_buf_addstr(o, t, NULL) : SPGW_E_NOMEM;

	free(t);
	return rc;
}

/*
 * The 200 answer of §2, written straight into `o`: a thousand results as jansson objects
 * would cost a dozen allocations each, for text that is the same every time.
 */
static enum spgw_rc answer_text(struct sim_server *s, const struct batch *b,
				const char *received_at, const char *content_digest, long acc,
				long dup, long rej, struct spgw_buf *o)
{
	char *sig = sim_receipt_sign(s, b->batch_id, received_at, content_digest, acc, dup, rej);
	json_t *receipt = NULL;
	enum spgw_rc rc = SPGW_E_NOMEM;
	size_t i;

	if (!sig)
		goto out;
	if (spgw_buf_addstr(o, "{\"batch_id\":", NULL) || add_json_string(o, b->batch_id) ||
	    spgw_buf_addstr(o, ",\"results\":[", NULL))
		goto out;
	for (i = 0; i < b->n; i++) {
		const struct rec *rc2 = &b->recs[i];

		if (spgw_buf_addstr(o, i ? ",{\"key\":" : "{\"key\":", NULL) ||
		    add_json_string(o, rc2->key) ||
		    spgw_buf_printf(o, NULL, ",\"status\":\"%s\"", rc2->status) ||
		    (rc2->errors && (spgw_buf_addstr(o, ",\"errors\":", NULL) ||
				     add_json(o, rc2->errors))) ||
		    spgw_buf_addc(o, '}', NULL))
			goto out;
	}
	receipt = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "batch_id", b->batch_id,
			    "received_at", received_at, "content_digest", content_digest,
			    "accepted", (json_int_t)acc, "duplicate", (json_int_t)dup,
			    "rejected", (json_int_t)rej, "alg", sim_alg_name(s->national_alg),
			    "sig", sig);
	if (!receipt || spgw_buf_addstr(o, "],\"receipt\":", NULL) || add_json(o, receipt) ||
	    spgw_buf_addc(o, '}', NULL))
		goto out;
	rc = SPGW_OK;
out:
	json_decref(receipt);
	spgw_free(sig);
	return rc;
}

/* A stored answer for this gateway's batch_id: replay it (1), refuse (1), or none (0). */
static int replay(struct sim_server *s, const struct sim_gateway *gw, const struct batch *b,
		  struct sim_answer *a, struct spgw_error *err)
{
	char sha[65], *answer = NULL;
	size_t len = 0;
	int found = sim_store_batch_get(s->store, gw->id, b->batch_id, sha, &answer, &len, err);

	if (found < 0)
		return -1;
	if (!found)
		return 0;
	if (strcmp(sha, b->sha) == 0) {
		if (sim_store_batch_replayed(s->store, gw->id, b->batch_id, err)) {
			spgw_free(answer);
			return -1;
		}
		sim_answer_bytes(a, 200, answer, len);
		snprintf(a->log, sizeof(a->log), "batch %s replayed (same body)", b->batch_id);
	} else {
		sim_answer_error(a, 409, "batch_conflict",
				 "batch_id %s was already answered for another body (sha256 %s, "
				 "this one %s); use a new batch_id", b->batch_id, sha, b->sha);
	}
	spgw_free(answer);
	return 1;
}

/* Judge each checked record against the newest version of its key and store (lock held). */
static int store_records(struct sim_server *s, const struct sim_gateway *gw, struct batch *b,
			 const char *received_at, long *acc, long *dup, long *rej,
			 struct spgw_error *err)
{
	struct sim_version_row v;
	char digest[80], day[11];
	long version;
	size_t i;
	int found, valid;

	for (i = 0; i < b->n; i++) {
		struct rec *rc = &b->recs[i];

		if (rc->errors) {
			rc->status = "rejected";
			(*rej)++;
			continue;
		}
		found = sim_store_current(s->store, b->region, b->table, rc->key, &version, digest,
					  day, &valid, err);
		if (found < 0)
			return -1;
		if (found && strcmp(digest, rc->mine) == 0) {
			/* §5: a duplicate of the newest version; another day moves the key */
			if (strcmp(day, rc->day) != 0 &&
			    sim_store_move_day(s->store, b->region, b->table, rc->key, day,
					       rc->day, valid, err))
				return -1;
			rc->status = "duplicate";
			(*dup)++;
			continue;
		}
		memset(&v, 0, sizeof(v));
		v.region = b->region;
		v.table = b->table;
		v.key = rc->key;
		v.digest = rc->mine;
		v.day = rc->day;
		v.version = found ? version + 1 : 1;
		v.prev_day = found ? day : NULL;
		v.prev_valid = found ? valid : 0;
		v.valid = rc->valid;
		v.data = b->canon.data + rc->canon_at;
		v.data_len = rc->canon_len;
		v.gateway = gw->id;
		v.batch_id = b->batch_id;
		v.received_at = received_at;
		if (sim_store_version_put(s->store, &v, err))
			return -1;
		rc->status = "accepted";
		(*acc)++;
	}
	return 0;
}

static void process(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct batch *b, struct sim_answer *a)
{
	struct spgw_error err;
	struct sim_batch_row row;
	struct spgw_buf text;
	char received_at[21];
	long acc = 0, dup = 0, rej = 0;
	int k;

	memset(&err, 0, sizeof(err));
	/* an answer is ~60 bytes per record plus its errors (at most SPGW_MAX_REASONS each) */
	spgw_buf_init(&text, 64u * 1024 * 1024, "batch answer");
	sim_rfc3339(r->now, received_at);
	sim_store_lock(s->store);
	if (sim_store_begin(s->store, &err))
		goto fail;
	k = replay(s, gw, b, a, &err);
	if (k) {
		if (k < 0)
			goto fail;
		sim_store_commit(s->store, &err);
		goto out;
	}
	if (store_records(s, gw, b, received_at, &acc, &dup, &rej, &err))
		goto fail;
	if (answer_text(s, b, received_at, r->h_digest, acc, dup, rej, &text)) {
		spgw_error_nomem(&err, "writing the answer");
		goto fail;
	}
	memset(&row, 0, sizeof(row));
	row.gateway = gw->id;
	row.batch_id = b->batch_id;
	row.body_sha256 = b->sha;
	row.region = b->region;
	row.table = b->table;
	row.received_at = received_at;
	row.records = (long)b->n;
	row.accepted = acc;
	row.duplicate = dup;
	row.rejected = rej;
	row.answer = text.data;
	row.answer_len = text.len;
	if (sim_store_batch_put(s->store, &row, &err) || sim_store_commit(s->store, &err))
		goto fail;
	sim_answer_bytes(a, 200, text.data, text.len);
	snprintf(a->log, sizeof(a->log), "batch %.60s %s/%s: %ld accepted, %ld duplicate, %ld "
		 "rejected", b->batch_id, b->region, b->table, acc, dup, rej);
	goto out;
fail:
	sim_store_rollback(s->store);
	sim_answer_error(a, 500, "unavailable", "the platform's store failed: %s; retry later",
			 err.text);
out:
	sim_store_unlock(s->store);
	spgw_buf_free(&text);
}

void sim_batch_post(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a)
{
	struct spgw_error err;
	struct batch b;
	json_t *issues = json_object(), *root = NULL;
	unsigned char md[32];
	char errtext[200];
	size_t i;
	int k;

	memset(&b, 0, sizeof(b));
	memset(&err, 0, sizeof(err));
	if (!issues) {
		sim_answer_error(a, 500, "unavailable", "out of memory");
		return;
	}
	if (!content_type_ok(r->h_content_type)) {
		sim_answer_error(a, 400, "bad_schema", "Content-Type must be application/json "
				 "(charset, if given, utf-8); got \"%.60s\"",
				 r->h_content_type ? r->h_content_type : "");
		goto out;
	}
	root = sim_json_parse_batch((const char *)r->body, r->body_len, issues, errtext);
	if (!root) {
		sim_answer_error(a, 400, "bad_json", "the body is not JSON: %s", errtext);
		goto out;
	}
	if (shape(s, root, issues, &b, a))
		goto out;
	if (!sim_gateway_allows(gw, b.region)) {
		sim_answer_error(a, 403, "forbidden", "gateway %s is not registered for region %s",
				 gw->id, b.region);
		goto out;
	}
	b.dalg = gw->alg == SIM_ALG_SM2_SM3 ? SPGW_DIGEST_SM3 : SPGW_DIGEST_SHA256;
	b.dname = spgw_digest_name(b.dalg);
	if (digest_pairing(&b, gw, a))
		goto out;
	if (sim_digest("sha-256", r->body, r->body_len, md)) {
		sim_answer_error(a, 500, "unavailable", "digest computation failed");
		goto out;
	}
	sim_hex(md, sizeof(md), b.sha);
	/* a replay answers without judging a single record again */
	sim_store_lock(s->store);
	k = replay(s, gw, &b, a, &err);
	sim_store_unlock(s->store);
	if (k) {
		if (k < 0)
			sim_answer_error(a, 500, "unavailable", "the platform's store failed: %s",
					 err.text);
		goto out;
	}
	b.count_field = count_field(b.t);
	if (check_records(s, &b)) {
		sim_answer_error(a, 500, "unavailable", "out of memory checking records");
		goto out;
	}
	process(s, gw, r, &b, a);
out:
	for (i = 0; i < b.n && b.recs; i++)
		json_decref(b.recs[i].errors);
	spgw_free(b.recs);
	spgw_buf_free(&b.canon);
	json_decref(root);
	json_decref(issues);
}
