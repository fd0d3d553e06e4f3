/*
 * Reading the national platform's answers (see upload_answer.h).
 */
#include <stdio.h>
#include <string.h>

#include "json_parse.h"
#include "mem.h"
#include "upload_answer.h"

void spgw_answer_free(struct spgw_answer *a)
{
	size_t i;

	for (i = 0; a->errors && i < a->n; i++)
		free(a->errors[i]); /* json_dumps */
	spgw_free(a->errors);
	spgw_free(a->results);
	json_decref(a->root);
	memset(a, 0, sizeof(*a));
}

const char *spgw_answer_code_en(const char *code)
{
	static const char *const names[][2] = {
		{ "digest", "the record's digest does not match its canonical form" },
		{ "day", "the business day does not match the count-date field" },
		{ "canonical", "the record has no canonical form" },
		{ "required", "a required field is missing" },
		{ "type", "a field has the wrong type" },
		{ "length", "a field is too long" },
		{ "code", "a value is not in its code table" },
		{ "format", "a field has the wrong format" },
		{ "checkdigit", "a check character is wrong" },
		{ "reference", "a referenced parent record is unknown" },
		{ "sequence", "records are out of sequence" },
	};
	size_t i;

	for (i = 0; code && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(code, names[i][0]))
			return names[i][1];
	return "rejected by the national platform";
}

/* A copy of a rejection's errors with an English line added to each, as JSON text. */
static char *errors_json(const json_t *errors)
{
	json_t *copy = json_array(), *e;
	size_t i;
	char *s;

	if (!copy)
		return NULL;
	json_array_foreach(errors, i, e) {
		json_t *o = json_is_object(e) ? json_copy(e) : json_object();
		const char *code = json_string_value(json_object_get(e, "code"));

		if (!o || json_object_set_new(o, "en", json_string(spgw_answer_code_en(code))) ||
		    json_array_append_new(copy, o)) {
			json_decref(o);
			json_decref(copy);
			return NULL;
		}
	}
	if (!json_array_size(copy))
		json_array_append_new(copy, json_pack("{s:n,s:s,s:s,s:s}", "field", "code",
						      "unknown", "message",
						      "national platform gave no reason", "en",
						      "rejected without a reason"));
	s = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	return s;
}

static int get_count(const json_t *o, const char *k, long long *v)
{
	const json_t *x = json_object_get(o, k);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return 0;
	*v = json_integer_value(x);
	return 1;
}

#define BAD(...) spgw_error_set(err, SPGW_E_INVALID, b->id, 0, 0, __VA_ARGS__)

static enum spgw_rc check_receipt(const json_t *r, const struct spgw_batch *b,
				  const char *content_digest, const struct spgw_key *national,
				  long long counts[3], struct spgw_receipt_row *row,
				  struct spgw_error *err)
{
	struct spgw_receipt rc;
	long long v[3];
	struct spgw_error verr;
	int i;

	if (!json_is_object(r))
		return BAD("the answer has no receipt object");
	memset(&rc, 0, sizeof(rc));
	rc.batch_id = json_string_value(json_object_get(r, "batch_id"));
	rc.received_at = json_string_value(json_object_get(r, "received_at"));
	rc.content_digest = json_string_value(json_object_get(r, "content_digest"));
	rc.alg = json_string_value(json_object_get(r, "alg"));
	rc.sig = json_string_value(json_object_get(r, "sig"));
	if (!rc.batch_id || !rc.received_at || !rc.content_digest || !rc.alg || !rc.sig ||
	    !get_count(r, "accepted", &v[0]) || !get_count(r, "duplicate", &v[1]) ||
	    !get_count(r, "rejected", &v[2]))
		return BAD("the receipt lacks batch_id, received_at, content_digest, counts, alg "
			   "or sig");
	if (strcmp(rc.batch_id, b->id))
		return BAD("the receipt names batch %s", rc.batch_id);
	if (strcmp(rc.content_digest, content_digest))
		return BAD("the receipt names content digest %s, not the %s that was sent",
			   rc.content_digest, content_digest);
	for (i = 0; i < 3; i++)
		if (v[i] != counts[i])
			return BAD("the receipt counts %lld accepted, %lld duplicate, %lld "
				   "rejected but the results say %lld, %lld, %lld",
				   v[0], v[1], v[2], counts[0], counts[1], counts[2]);
	rc.accepted = v[0];
	rc.duplicate = v[1];
	rc.rejected = v[2];
	memset(&verr, 0, sizeof(verr));
	if (spgw_receipt_verify(national, &rc, &verr))
		return BAD("the receipt's signature is not the national platform's: %s",
			   verr.text);
	row->batch_id = rc.batch_id;
	row->received_at = rc.received_at;
	row->content_digest = rc.content_digest;
	row->accepted = v[0];
	row->duplicate = v[1];
	row->rejected = v[2];
	row->alg = rc.alg;
	row->sig = rc.sig;
	row->region = b->region;
	row->table = b->table;
	row->stored_at = NULL;
	return SPGW_OK;
}

enum spgw_rc spgw_answer_parse(const char *body, size_t len, const struct spgw_batch *b,
			       const char *content_digest, const struct spgw_key *national,
			       struct spgw_answer *out, struct spgw_error *err)
{
	struct spgw_json_error jerr;
	const json_t *results, *e;
	long long counts[3] = { 0, 0, 0 };
	const char *id;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&jerr, 0, sizeof(jerr));
	out->root = spgw_json_parse(body, len, &jerr);
	if (!out->root || !json_is_object(out->root))
		return BAD("the answer is not a JSON object (%zu bytes%s%s)", len,
			   out->root ? "" : ": ", out->root ? "" : jerr.text);
	id = json_string_value(json_object_get(out->root, "batch_id"));
	if (!id || strcmp(id, b->id))
		return BAD("the answer names batch \"%s\"", id ? id : "");
	results = json_object_get(out->root, "results");
	if (!json_is_array(results) || (long long)json_array_size(results) != b->records)
		return BAD("the answer has %zu results for %lld records",
			   json_is_array(results) ? json_array_size(results) : 0,
			   (long long)b->records);
	out->n = json_array_size(results);
	out->results = spgw_calloc(out->n ? out->n : 1, sizeof(*out->results));
	out->errors = spgw_calloc(out->n ? out->n : 1, sizeof(*out->errors));
	if (!out->results || !out->errors)
		return spgw_error_nomem(err, "reading a national answer");
	json_array_foreach(results, i, e) {
		const char *key = json_string_value(json_object_get(e, "key"));
		const char *st = json_string_value(json_object_get(e, "status"));

		if (!key || !st)
			return BAD("result %zu has no key or status", i + 1);
		out->results[i].key = key;
		if (!strcmp(st, "accepted")) {
			out->results[i].status = SPGW_REC_ACCEPTED;
			counts[0]++;
		} else if (!strcmp(st, "duplicate")) {
			out->results[i].status = SPGW_REC_DUPLICATE;
			counts[1]++;
		} else if (!strcmp(st, "rejected")) {
			out->results[i].status = SPGW_REC_REJECTED;
			counts[2]++;
			out->errors[i] = errors_json(json_object_get(e, "errors"));
			if (!out->errors[i])
				return spgw_error_nomem(err, "reading a national rejection");
			out->results[i].errors = out->errors[i];
		} else {
			return BAD("result %zu has status \"%s\"", i + 1, st);
		}
	}
	return check_receipt(json_object_get(out->root, "receipt"), b, content_digest, national,
			     counts, &out->receipt, err);
}

void spgw_answer_error(const char *body, size_t len, char code[32], char message[256])
{
	struct spgw_json_error jerr;
	json_t *root;
	const char *c, *m;

	code[0] = message[0] = '\0';
	memset(&jerr, 0, sizeof(jerr));
	root = body && len ? spgw_json_parse(body, len, &jerr) : NULL;
	c = json_string_value(json_object_get(root, "error"));
	m = json_string_value(json_object_get(root, "message"));
	if (c)
		snprintf(code, 32, "%s", c);
	if (m)
		snprintf(message, 256, "%s", m);
	json_decref(root);
}
