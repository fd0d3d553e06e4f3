/*
 * Forming batches (PROTOCOL.md §2): ready outbox records of one region and one table, at most
 * the configured number of records and bytes, written as the exact body that will be sent,
 * and stored in the ledger with a fresh ULID before anything goes on the wire.
 */
#ifndef SPGW_BATCH_H
#define SPGW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ledger.h"

/* A batch in memory: what the uploader sends, again and again until it is settled. */
struct spgw_batch {
	char id[32];        /* ULID, 26 characters */
	char region[8];
	char table[64];
	unsigned char *body; /* owned: the exact uncompressed bytes */
	size_t body_len;
	int64_t records;
	int64_t attempts;   /* sends so far, across restarts */
	unsigned char sm3[32]; /* SM3 of body, computed once when formed or rebuilt */
	char content_digest[64]; /* X-SPGW-Content-Digest, "" until the first send */
};

/* A new ULID (48-bit milliseconds, 80 random bits, Crockford base32) into `out`. */
enum spgw_rc spgw_batch_ulid(char out[27], struct spgw_error *err);

/*
 * Form and store the next batch of (region, table) from records with an outbox id above
 * *after (advanced past what was taken), at most `max_records` records and `max_bytes` body
 * bytes. *out is new (spgw_batch_free), or NULL when nothing is ready. A single record larger
 * than `max_bytes` on its own goes to dead letters with a message, since no batch can carry
 * it (PROTOCOL.md: 8 MiB before compression).
 */
enum spgw_rc spgw_batch_form(struct spgw_ledger *l, const char *schema_id, const char *region,
			     const char *table, int max_records, size_t max_bytes, int64_t *after,
			     struct spgw_batch **out, struct spgw_error *err);

/*
 * A stored open batch, to send again after a restart: its body as it was sent, rebuilt from
 * its records and checked against the SM3 stored before the first send (SPGW_E_LEDGER when
 * it does not match). *out is new (spgw_batch_free).
 */
enum spgw_rc spgw_batch_from_row(struct spgw_ledger *l, const struct spgw_batch_row *row,
				 struct spgw_batch **out, struct spgw_error *err);

void spgw_batch_free(struct spgw_batch *b);

#endif
