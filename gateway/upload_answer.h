/*
 * Reading the national platform's answers (PROTOCOL.md §2, §4). A 200 answer is taken as
 * proof only when it is whole and true: JSON, one result per record in order, a receipt
 * whose counts match the results and name the content digest that was sent, signed by the
 * national key. Anything less is a lying or broken platform: the batch stays pending.
 */
#ifndef SPGW_UPLOAD_ANSWER_H
#define SPGW_UPLOAD_ANSWER_H

#include <jansson.h>
#include <stddef.h>

#include "batch.h"
#include "error.h"
#include "ledger.h"
#include "sign.h"

struct spgw_answer {
	json_t *root;                        /* owned: the parsed answer */
	struct spgw_record_result *results;  /* owned, one per record */
	char **errors;                       /* owned: each rejection's errors as JSON */
	size_t n;
	struct spgw_receipt_row receipt;     /* strings borrowed from root */
};

/*
 * Parse and check a 200 answer to `b`, sent with `content_digest`. SPGW_E_INVALID (message
 * says what is wrong) for an answer that is not JSON, names another batch, has more or fewer
 * results than records, an unknown status, or a receipt that is missing, miscounted, names
 * another content digest or does not verify with `national`. On SPGW_OK `out` is filled;
 * release it with spgw_answer_free() in every case.
 */
enum spgw_rc spgw_answer_parse(const char *body, size_t len, const struct spgw_batch *b,
			       const char *content_digest, const struct spgw_key *national,
			       struct spgw_answer *out, struct spgw_error *err);
void spgw_answer_free(struct spgw_answer *a);

/* The {"error", "message"} of a non-200 answer, cut to fit; "" when absent. */
void spgw_answer_error(const char *body, size_t len, char code[32], char message[256]);

/* English for a national record error code ("format" -> "wrong format"), never NULL. */
const char *spgw_answer_code_en(const char *code);

#endif
