/*
 * Forming batches (see batch.h). The body is written by hand around each record's stored
 * canonical JSON, which goes in byte for byte: re-serialising it could change a digest the
 * national side will recompute.
 */
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "buf.h"
#include "canonical.h"
#include "mem.h"

enum spgw_rc spgw_batch_ulid(char out[27], struct spgw_error *err)
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char v[16];
	struct timespec ts;
	uint64_t ms;
	int i, bit;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 0; i < 6; i++)
		v[i] = (unsigned char)(ms >> (40 - 8 * i));
	if (RAND_bytes(v + 6, 10) != 1)
		return spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				      "the random generator failed making a batch id");
	/* 128 bits as 26 base32 digits: the first digit carries the top 3 bits */
	for (i = 0; i < 26; i++) {
		int idx = 0, k;

		for (k = 0; k < 5; k++) {
			bit = i * 5 + k - 2; /* 130 bits with two leading zeros */
			idx <<= 1;
			if (bit >= 0 && (v[bit / 8] >> (7 - bit % 8)) & 1)
				idx |= 1;
		}
		out[i] = b32[idx];
	}
	out[26] = '\0';
	return SPGW_OK;
}

/* Append `s` as a JSON string with only the escapes JSON requires (keys and days are plain,
 * but a key comes from a city system and may hold anything). */
static enum spgw_rc add_string(struct spgw_buf *b, const char *s, struct spgw_error *err)
{
	enum spgw_rc rc = spgw_buf_addc(b, '"', err);

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = spgw_buf_printf(b, err, "\\%c", c);
		else if (c < 0x20)
			rc = spgw_buf_printf(b, err, "\\u%04x", c);
		else
			rc = spgw_buf_addc(b, (char)c, err);
	}
	return rc ? rc : spgw_buf_addc(b, '"', err);
}

/* SM3 of a body, raw and as hex: one pass serves the ledger's proof and the request's
 * content digest. */
static enum spgw_rc digest(const void *p, size_t n, unsigned char raw[32], char hex[65],
			   struct spgw_error *err)
{
	static const char digits[] = "0123456789abcdef";
	enum spgw_rc rc = spgw_digest_raw(SPGW_DIGEST_SM3, p, n, raw, err);
	int i;

	for (i = 0; !rc && i < 32; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[64] = '\0';
	return rc;
}

/* The body's fixed start; records follow, then "]}". */
static enum spgw_rc body_start(struct spgw_buf *b, const char *id, const char *region,
			       const char *schema_id, const char *table, struct spgw_error *err)
{
	return spgw_buf_printf(b, err,
			       "{\"batch_id\":\"%s\",\"region\":\"%s\",\"schema\":\"%s\","
			       "\"table\":\"%s\",\"records\":[",
			       id, region, schema_id, table);
}

struct form {
	struct spgw_ledger *l;
	struct spgw_buf body;
	size_t max_bytes;
	int64_t *ids;
	size_t n, cap;
	int64_t last;
	int64_t oversized; /* a record too large for any batch, to dead-letter */
	struct spgw_error *err;
};

static enum spgw_rc add_record(void *ud, const struct spgw_ready_record *r)
{
	struct form *f = ud;
	size_t mark = f->body.len, need;
	enum spgw_rc rc;

	/* 3 bytes close the array and object; 80 cover the record's fixed members */
	need = r->data_len + strlen(r->key) * 6 + 80 + 3;
	if (f->n && mark + need > f->max_bytes)
		return SPGW_E_LIMIT; /* full: this record starts the next batch */
	if (!f->n && f->body.len + need > f->max_bytes) {
		f->oversized = r->id;
		f->last = r->id;
		return SPGW_E_LIMIT;
	}
	rc = spgw_buf_addstr(&f->body, f->n ? ",{\"key\":" : "{\"key\":", f->err);
	if (!rc)
		rc = add_string(&f->body, r->key, f->err);
	if (!rc)
		rc = spgw_buf_printf(&f->body, f->err, ",\"day\":\"%s\",\"digest\":", r->day);
	if (!rc)
		rc = add_string(&f->body, r->digest, f->err);
	if (!rc)
		rc = spgw_buf_addstr(&f->body, ",\"data\":", f->err);
	if (!rc)
		rc = spgw_buf_add(&f->body, r->data, r->data_len, f->err);
	if (!rc)
		rc = spgw_buf_addc(&f->body, '}', f->err);
	if (rc)
		return rc;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 256;
		int64_t *p = spgw_realloc(f->ids, cap * sizeof(*p));

		if (!p)
			return spgw_error_nomem(f->err, "forming a batch");
		f->ids = p;
		f->cap = cap;
	}
	f->ids[f->n++] = r->id;
	f->last = r->id;
	return SPGW_OK;
}

static enum spgw_rc dead_oversized(struct spgw_ledger *l, const char *region,
				   const char *table, int64_t id, size_t max_bytes,
				   struct spgw_error *err)
{
	char reason[400], bid[27];
	int64_t one = id;
	enum spgw_rc rc;

	/* Stored as a one-record batch that is dead at once, so the dead letter names a
	 * batch like every other and `spgw dlq retry` works the same way. */
	rc = spgw_batch_ulid(bid, err);
	if (!rc)
		rc = spgw_ledger_batch_store(l, bid, region, table, "-", "-", &one, 1, err);
	snprintf(reason, sizeof(reason),
		 "[{\"field\":null,\"code\":\"too_large\","
		 "\"message\":\"单条记录超过批次大小上限，请在源系统修正\","
		 "\"en\":\"the record alone is larger than a batch may be (%zu bytes): fix it "
		 "at the source\"}]",
		 max_bytes);
	if (!rc)
		rc = spgw_ledger_batch_dead(l, bid, 413, reason, err);
	return rc;
}

enum spgw_rc spgw_batch_form(struct spgw_ledger *l, const char *schema_id, const char *region,
			     const char *table, int max_records, size_t max_bytes, int64_t *after,
			     struct spgw_batch **out, struct spgw_error *err)
{
	struct form f;
	struct spgw_batch *b = NULL;
	enum spgw_rc rc;
	char id[27], sm3[65];
	unsigned char raw[32];

	*out = NULL;
	memset(&f, 0, sizeof(f));
	f.l = l;
	f.max_bytes = max_bytes;
	f.err = err;
	f.last = *after;
	spgw_buf_init(&f.body, max_bytes + 4096, "batch body");
	for (;;) {
		rc = spgw_batch_ulid(id, err);
		if (rc)
			goto out;
		spgw_buf_reset(&f.body);
		rc = body_start(&f.body, id, region, schema_id, table, err);
		if (rc)
			goto out;
		f.oversized = 0;
		rc = spgw_ledger_ready_each(l, region, table, f.last, max_records, add_record, &f,
					    err);
		if (rc)
			goto out;
		if (f.oversized && !f.n) {
			rc = dead_oversized(l, region, table, f.oversized, max_bytes, err);
			if (rc)
				goto out;
			continue; /* the next record may fit */
		}
		break;
	}
	*after = f.last;
	if (!f.n)
		goto out;
	rc = spgw_buf_addstr(&f.body, "]}", err);
	if (!rc)
		rc = digest(f.body.data, f.body.len, raw, sm3, err);
	if (!rc)
		rc = spgw_ledger_batch_store(l, id, region, table, schema_id, sm3, f.ids, f.n,
					     err);
	if (rc)
		goto out;
	b = spgw_calloc(1, sizeof(*b));
	if (!b) {
		rc = spgw_error_nomem(err, "forming a batch");
		goto out; /* stored: it is sent after the next start */
	}
	snprintf(b->id, sizeof(b->id), "%s", id);
	snprintf(b->region, sizeof(b->region), "%s", region);
	snprintf(b->table, sizeof(b->table), "%s", table);
	b->body_len = f.body.len;
	b->body = (unsigned char *)spgw_buf_take(&f.body);
	b->records = (int64_t)f.n;
	memcpy(b->sm3, raw, sizeof(raw));
	*out = b;
out:
	spgw_buf_free(&f.body);
	spgw_free(f.ids);
	return rc;
}

/* Rebuild a stored batch's body from its records, exactly as spgw_batch_form() wrote it,
 * and prove it with the digest stored before the first send. */
static enum spgw_rc rebuild(struct spgw_ledger *l, const struct spgw_batch_row *row,
			    struct spgw_batch *b, struct spgw_error *err)
{
	struct form f;
	enum spgw_rc rc;
	char sm3[65];

	memset(&f, 0, sizeof(f));
	f.l = l;
	f.max_bytes = (size_t)-1 / 2; /* it fitted when it was formed */
	f.err = err;
	spgw_buf_init(&f.body, SIZE_MAX / 2, "batch body");
	rc = body_start(&f.body, row->id, row->region, row->schema, row->table, err);
	if (!rc)
		rc = spgw_ledger_batch_records(l, row->id, add_record, &f, err);
	if (!rc)
		rc = spgw_buf_addstr(&f.body, "]}", err);
	if (!rc)
		rc = digest(f.body.data, f.body.len, b->sm3, sm3, err);
	if (!rc && ((int64_t)f.n != row->records || strcmp(sm3, row->body_sm3)))
		rc = spgw_error_set(err, SPGW_E_LEDGER, row->id, 0, 0,
				    "the batch cannot be rebuilt as it was sent (%zu of %lld "
				    "records, digest %s, stored %s): the ledger changed under it",
				    f.n, (long long)row->records, sm3, row->body_sm3);
	if (!rc) {
		b->body_len = f.body.len;
		b->body = (unsigned char *)spgw_buf_take(&f.body);
	}
	spgw_buf_free(&f.body);
	spgw_free(f.ids);
	return rc;
}

enum spgw_rc spgw_batch_from_row(struct spgw_ledger *l, const struct spgw_batch_row *row,
				 struct spgw_batch **out, struct spgw_error *err)
{
	struct spgw_batch *b = spgw_calloc(1, sizeof(*b));
	enum spgw_rc rc = SPGW_OK;

	if (!b)
		return spgw_error_nomem(err, "reading a stored batch");
	snprintf(b->id, sizeof(b->id), "%s", row->id);
	snprintf(b->region, sizeof(b->region), "%s", row->region);
	snprintf(b->table, sizeof(b->table), "%s", row->table);
	b->records = row->records;
	b->attempts = row->attempts;
	if (row->body) {
		b->body = spgw_malloc(row->body_len ? row->body_len : 1);
		if (b->body) {
			char hex[65];

			memcpy(b->body, row->body, row->body_len);
			b->body_len = row->body_len;
			rc = digest(b->body, b->body_len, b->sm3, hex, err);
		} else {
			rc = spgw_error_nomem(err, "reading a stored batch");
		}
	} else {
		rc = rebuild(l, row, b, err);
	}
	if (rc) {
		spgw_batch_free(b);
		return rc;
	}
	*out = b;
	return SPGW_OK;
}

void spgw_batch_free(struct spgw_batch *b)
{
	if (!b)
		return;
	spgw_free(b->body);
	spgw_free(b);
}
