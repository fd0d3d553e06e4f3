/*
 * Validation across records: the handling-step log of one case (办理状态 BLZT) must follow the
 * rules of shared/spgl/codes.md ("spgw sequence check"). A step is judged together with the
 * steps of its case already in the outbox; the schema's "sequence" entry says which table
 * keeps such a log and which key fields hold the code and the time.
 */
#ifndef SPGW_SEQUENCE_H
#define SPGW_SEQUENCE_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "ledger.h"
#include "outbox_refs.h"
#include "reasons.h"
#include "schema.h"

/* One event of a log. */
struct spgw_seq_event {
	int code;       /* BLZT */
	char time[20];  /* "YYYY-MM-DD HH:MM:SS" (or a date): compared as text */
	int is_new;     /* the record being judged */
};

/*
 * Judge a log already in time order against rule "blzt". Returns -1 when it is sound, else
 * the index of the first event at fault, with one line in English and one in Chinese saying
 * why (`en`, `zh`: buffers of `cap` bytes, may be NULL).
 */
long spgw_sequence_blzt(const struct spgw_seq_event *ev, size_t n, char *en, char *zh,
			size_t cap);

/*
 * For a record of table `t` (which has a sequence rule) about to be stored: read its case's
 * other events from the ledger (`refs->parent_ref` names the case), add the record's own and
 * judge the log. When the record breaks a log that was sound, or is itself the first fault
 * of one that was not, a reason with code "sequence" on the code field goes to `reasons`.
 * A record whose 数据有效标识 is 0 (a withdrawal) is not judged. Returns SPGW_OK (also when a
 * reason was added) or a ledger error.
 */
enum spgw_rc spgw_sequence_check(struct spgw_ledger *l, const char *region,
				 const struct spgw_table *t, const struct spgw_outbox_refs *refs,
				 const char *key, const json_t *record,
				 struct spgw_reasons *reasons, struct spgw_error *err);

#endif
