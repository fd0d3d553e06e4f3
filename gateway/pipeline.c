/*
 * One source record through mapping, validation and the ledger (see pipeline.h).
 *
 * The rule that shapes this file: bad input never becomes an error. A record that cannot be
 * parsed, mapped, validated or put in canonical form goes to quarantine with its raw bytes
 * and every reason, inside the same transaction as the good records of its batch, so nothing
 * reaches the floor. Only a refusing ledger or exhausted memory is an error.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canonical.h"
#include "json_parse.h"
#include "spgw_limits.h"
#include "mem.h"
#include "outbox_refs.h"
#include "sequence.h"
#include "validate.h"

struct spgw_pipeline {
	const struct spgw_schema *schema;
	struct spgw_ledger *ledger; /* NULL: dry run */
	enum spgw_digest_alg alg;
	struct spgw_buf canon;         /* reused for every record's canonical form */
	struct spgw_reasons reasons;   /* reused for every record's validation */
	struct spgw_outbox_refs refs;  /* the last prepared record's relatives */
	int valid;                     /* ...and its SPGW_VALID_* */
	int rechecking;                /* inside recheck(): no nested re-judging */
	spgw_pipeline_observe_fn observe;
	void *observe_ud;
};

/* What the mapping callback needs to place one output record. */
struct record_ctx {
	struct spgw_pipeline *p;
	const struct spgw_pipeline_source *src;
	const char *source_table;
	const char *raw;
	size_t len;
	struct spgw_pipeline_stats *st;
	struct spgw_error *err;
	/* replay only: which outputs stand for the entry, and what became of them */
	const struct spgw_quarantine_row *row;
	int matched, failed;
	struct spgw_reasons *replay_reasons;
	char *replay_mapped;
	struct pending *pending;
};

/* A valid output held back during replay until every output of the entry is known good. */
struct pending {
	struct pending *next;
	char *table, *key, *day, *data;
	size_t data_len;
	char digest[80];
	struct spgw_outbox_refs refs;
	int valid;
};

enum spgw_rc spgw_pipeline_new(const struct spgw_schema *schema, struct spgw_ledger *ledger,
			       struct spgw_pipeline **out, struct spgw_error *err)
{
	struct spgw_pipeline *p = spgw_calloc(1, sizeof(*p));

	if (!p)
		return spgw_error_nomem(err, "creating the pipeline");
	p->schema = schema;
	p->ledger = ledger;
	p->alg = SPGW_DIGEST_SM3;
	/* Canonical form never grows a record by more than its escapes: twice the raw limit. */
	spgw_buf_init(&p->canon, 2 * (size_t)SPGW_MAX_RECORD, "canonical record");
	spgw_reasons_init(&p->reasons);
	*out = p;
	return SPGW_OK;
}

void spgw_pipeline_free(struct spgw_pipeline *p)
{
	if (!p)
		return;
	spgw_buf_free(&p->canon);
	spgw_reasons_free(&p->reasons);
	spgw_free(p);
}

void spgw_pipeline_observe(struct spgw_pipeline *p, spgw_pipeline_observe_fn fn, void *ud)
{
	p->observe = fn;
	p->observe_ud = ud;
}

static void observe(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
		    const char *table, const char *key, const json_t *record,
		    const struct spgw_reasons *reasons)
{
	if (p->observe)
		p->observe(p->observe_ud, src, table, key, record, reasons);
}

/* Keep a refused record with its raw bytes, its mapped form and every reason. */
/*
 * A mapped record as JSON text for the quarantine: its canonical form when it has one, so a
 * number reads as it was written (88381.4, not jansson's 17 digits 88381.399999999994 that
 * staff would otherwise see in every export), else jansson's. New string (free()).
 */
static char *mapped_text(const json_t *record)
{
	struct spgw_buf b;
	char *s;

	spgw_buf_init(&b, 2 * (size_t)SPGW_MAX_RECORD, "mapped record");
	if (spgw_canonical(record, &b, NULL) == SPGW_OK && b.len) {
		s = malloc(b.len + 1);
		if (s) {
			memcpy(s, b.data, b.len);
			s[b.len] = '\0';
		}
		spgw_buf_free(&b);
		return s;
	}
	spgw_buf_free(&b);
	return json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
}

/* Whether every reason is a sequence fault (sequence.c). */
static int only_sequence(const struct spgw_reasons *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->items[i].code, "sequence"))
			return 0;
	return r->n > 0 && !r->truncated;
}

static enum spgw_rc quarantine(struct record_ctx *c, const char *table, const char *key,
			       const json_t *record, const struct spgw_reasons *reasons)
{
	struct spgw_quarantine_record q;
	json_t *rj = NULL;
	char *mapped = NULL, *rtext = NULL;
	enum spgw_rc rc = SPGW_OK;

	observe(c->p, c->src, table, key, record, reasons);
	c->st->quarantined++;
	if (!c->p->ledger)
		return SPGW_OK;
	rj = spgw_reasons_to_json(reasons);
	rtext = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
	if (record)
		mapped = mapped_text(record);
	if (!rtext || (record && !mapped)) {
		rc = spgw_error_nomem(c->err, "writing a quarantine entry");
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.source = c->src->name;
	q.region = c->src->region;
	q.source_table = c->source_table;
	q.table = table;
	q.key = key;
	q.raw = c->raw;
	q.raw_len = c->len;
	q.mapped = mapped;
	q.reasons = rtext;
	/* refused only for the order of its case's steps: an earlier step may still come (a
	 * source's read order is not event order), and its arrival judges this one again */
	if (only_sequence(reasons) && c->p->refs.parent_ref[0])
		q.wait_ref = c->p->refs.parent_ref;
	rc = spgw_ledger_quarantine_put(c->p->ledger, &q, NULL, c->err);
out:
	free(mapped);
	free(rtext);
	json_decref(rj);
	return rc;
}

/* One reason about the whole source record, then quarantine. */
static enum spgw_rc quarantine_whole(struct record_ctx *c, const char *code, const char *en,
				     const char *zh)
{
	struct spgw_reasons r;
	enum spgw_rc rc;

	spgw_reasons_init(&r);
	rc = spgw_reasons_add(&r, NULL, code, "%s", "%s", en, zh);
	if (rc == SPGW_OK)
		rc = quarantine(c, NULL, NULL, NULL, &r);
	else
		rc = spgw_error_nomem(c->err, "recording a quarantine reason");
	spgw_reasons_free(&r);
	return rc;
}

/* A record's 数据有效标识 (SJYXBS) as SPGW_VALID_*. */
static int valid_of(const struct spgw_table *t, const json_t *record)
{
	const json_t *v = json_object_get(record, "SJYXBS");

	if (!t || !spgw_table_field(t, "SJYXBS"))
		return SPGW_VALID_NONE;
	return json_is_integer(v) && json_integer_value(v) == 0 ? SPGW_VALID_NO : SPGW_VALID_YES;
}

/*
 * Validate a mapped record and compute what the outbox needs. Returns SPGW_OK with
 * p->canon holding the canonical form, p->refs its relatives, `digest` and `day` filled (day
 * "" when the schema's rule derives it later), or SPGW_E_INVALID with p->reasons filled.
 */
static enum spgw_rc prepare(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
			    const char *table, const char *key, json_t *record, char digest[80],
			    char day[11], struct spgw_error *err)
{
	const struct spgw_table *t;
	const struct spgw_table *parent = NULL;
	const char *const *pfields = NULL;
	struct spgw_error cerr;
	char hex[65];
	enum spgw_rc rc;

	spgw_reasons_clear(&p->reasons);
	if (spgw_validate(p->schema, table, src->region, record, &p->reasons) > 0)
		return SPGW_E_INVALID;
	spgw_buf_reset(&p->canon);
	memset(&cerr, 0, sizeof(cerr));
	rc = spgw_canonical(record, &p->canon, &cerr);
	if (rc == SPGW_E_NOMEM)
		return spgw_error_nomem(err, "writing a record's canonical form");
	if (rc) {
		if (spgw_reasons_add(&p->reasons, NULL, "canonical",
				     "the record has no canonical form (PROTOCOL.md §2): %s",
				     "记录无法规范化（PROTOCOL.md §2）：%s", cerr.text, cerr.text))
			return spgw_error_nomem(err, "recording a reason");
		return SPGW_E_INVALID;
	}
	rc = spgw_digest_hex(p->alg, p->canon.data, p->canon.len, hex, err);
	if (rc)
		return rc;
	snprintf(digest, 80, "%s:%s", spgw_digest_name(p->alg), hex);
	day[0] = '\0';
	t = spgw_schema_table(p->schema, table);
	if (t && spgw_schema_day(t, record, day, &parent, &pfields) == SPGW_DAY_MISSING) {
		/* validation requires the count-date field, so this is a date it accepted but
		 * cannot place on a Beijing day: refuse rather than guess */
		if (spgw_reasons_add(&p->reasons, NULL, "day",
				     "the record's business day cannot be determined from its "
				     "count-date field",
				     "无法根据计数日期字段确定记录的业务日期"))
			return spgw_error_nomem(err, "recording a reason");
		return SPGW_E_INVALID;
	}
	if (t)
		spgw_outbox_refs(t, record, &p->refs);
	else
		memset(&p->refs, 0, sizeof(p->refs));
	p->valid = valid_of(t, record);
	if (t && p->ledger && spgw_table_sequence(t)) {
		rc = spgw_sequence_check(p->ledger, src->region, t, &p->refs, key, record,
					 &p->reasons, err);
		if (rc)
			return rc;
		if (p->reasons.n)
			return SPGW_E_INVALID;
	}
	return SPGW_OK;
}

/* One version as the outbox takes it. */
struct version {
	const char *table, *key, *day, *digest, *data;
	size_t data_len;
	const struct spgw_outbox_refs *refs;
	int valid;
};

static enum spgw_rc put_one(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
			    const struct version *v, int hold, enum spgw_put_result *res,
			    struct spgw_ledger_head *head, struct spgw_pipeline_stats *st,
			    struct spgw_error *err);

/* What a withdrawal or correction says in SJWXYY when the source gives no reason. */
#define CORRECTED_REASON "地方系统已更正此记录，原数据作废（corrected at source）"
#define WITHDRAWN_REASON "地方系统已撤销此记录（withdrawn at source）"

/*
 * Store `head_data` (an earlier version's canonical JSON) again marked invalid (SJYXBS 0)
 * with SJWXYY `why`: the invalidation row of shared/spgl/README.md. Validated and put like
 * any record; SPGW_E_INVALID with p->reasons when it does not validate.
 */
static enum spgw_rc put_invalidation(struct spgw_pipeline *p,
				     const struct spgw_pipeline_source *src, const char *table,
				     const char *key, const char *head_data, size_t head_len,
				     const char *why, struct spgw_pipeline_stats *st,
				     struct spgw_error *err)
{
	json_t *rec = spgw_json_parse(head_data, head_len, NULL);
	enum spgw_put_result res;
	struct version v;
	char digest[80], day[11];
	enum spgw_rc rc;

	if (!rec || json_object_set_new(rec, "SJYXBS", json_integer(0)) ||
	    json_object_set_new(rec, "SJWXYY", json_string(why))) {
		json_decref(rec);
		return spgw_error_nomem(err, "building an invalidation row");
	}
	rc = prepare(p, src, table, key, rec, digest, day, err);
	if (!rc) {
		v.table = table;
		v.key = key;
		v.day = day;
		v.digest = digest;
		v.data = p->canon.data;
		v.data_len = p->canon.len;
		v.refs = &p->refs;
		v.valid = SPGW_VALID_NO;
		rc = put_one(p, src, &v, 0, &res, NULL, st, err);
	}
	json_decref(rec);
	return rc;
}

/*
 * Store a validated version; the national side is append-only (shared/spgl/README.md,
 * "Corrections are append-only"). A changed version of a key is never a silent overwrite:
 *   - a withdrawal (SJYXBS 0) is stored as the newest earlier data marked invalid with the
 *     new reason, so the national side sees what it is withdrawing;
 *   - a correction of a valid version stores that version marked invalid first, then the
 *     new data; the uploader sends versions of one key in order, never two in one batch;
 *   - data after a withdrawal (a record restored at source) is stored as it is.
 * Returns SPGW_E_INVALID (p->reasons) when the invalidation row does not validate.
 */
static enum spgw_rc put(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
			const char *table, const char *key, const char *day, const char *digest,
			const char *data, size_t data_len, const struct spgw_outbox_refs *refs,
			int valid, struct spgw_pipeline_stats *st, struct spgw_error *err)
{
	struct version v = { table, key, day, digest, data, data_len, refs, valid };
	struct spgw_outbox_refs *saved_refs = NULL;
	struct spgw_ledger_head head;
	enum spgw_put_result res;
	char *head_data = NULL, *saved = NULL, saved_day[11], saved_digest[80];
	const char *why = NULL;
	json_t *mine = NULL;
	size_t head_len = 0;
	enum spgw_rc rc;

	if (!p->ledger)
		return SPGW_OK;
	rc = put_one(p, src, &v, valid != SPGW_VALID_NONE, &res, &head, st, err);
	if (rc || res != SPGW_PUT_CHANGED)
		return rc;
	if (valid == SPGW_VALID_YES && head.valid != SPGW_VALID_YES)
		return put_one(p, src, &v, 0, &res, NULL, st, err); /* restored after withdrawal */
	rc = spgw_ledger_version_data(p->ledger, head.id, &head_data, &head_len, err);
	if (rc)
		return rc;
	if (valid == SPGW_VALID_NO) {
		mine = spgw_json_parse(data, data_len, NULL);
		why = json_string_value(json_object_get(mine, "SJWXYY"));
		rc = put_invalidation(p, src, table, key, head_data, head_len,
				      why && why[0] ? why : WITHDRAWN_REASON, st, err);
		goto out;
	}
	/* a correction: the new data and its relatives may live in p->canon and p->refs,
	 * which building the invalidation row reuses */
	saved = spgw_strndup(data, data_len);
	saved_refs = spgw_malloc(sizeof(*saved_refs));
	if (!saved || !saved_refs) {
		rc = spgw_error_nomem(err, "storing a corrected record");
		goto out;
	}
	*saved_refs = *refs;
	snprintf(saved_day, sizeof(saved_day), "%s", day ? day : "");
	snprintf(saved_digest, sizeof(saved_digest), "%s", digest);
	rc = put_invalidation(p, src, table, key, head_data, head_len, CORRECTED_REASON, st, err);
	if (rc)
		goto out;
	v.data = saved;
	v.day = saved_day;
	v.digest = saved_digest;
	v.refs = saved_refs;
	rc = put_one(p, src, &v, 0, &res, NULL, st, err);
out:
	json_decref(mine);
	spgw_free(head_data);
	spgw_free(saved);
	spgw_free(saved_refs);
	return rc;
}

static enum spgw_rc put_one(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
			    const struct version *v, int hold, enum spgw_put_result *result,
			    struct spgw_ledger_head *head, struct spgw_pipeline_stats *st,
			    struct spgw_error *err)
{
	const char *table = v->table, *key = v->key, *day = v->day;
	const struct spgw_outbox_refs *refs = v->refs;
	struct spgw_outbox_record r;
	enum spgw_put_result res = SPGW_PUT_NEW;
	enum spgw_rc rc;

	r.source = src->name;
	r.region = src->region;
	r.table = table;
	r.key = key;
	r.day = day && day[0] ? day : NULL;
	r.digest = v->digest;
	r.data = v->data;
	r.data_len = v->data_len;
	r.valid = v->valid;
	r.hold_changes = hold;
	r.bkey = refs->bkey;
	r.day_rule = refs->day_rule;
	r.day_table = refs->day_table;
	r.day_ref = refs->day_ref;
	r.parent_table = refs->parent_table;
	r.parent_ref = refs->parent_ref;
	rc = spgw_ledger_put(p->ledger, &r, &res, head, err);
	if (rc)
		return rc;
	*result = res;
	if (res == SPGW_PUT_CHANGED)
		return SPGW_OK; /* nothing written yet: put() decides */
	if (res == SPGW_PUT_NEW)
		st->added++;
	else if (res == SPGW_PUT_VERSION)
		st->versions++;
	else
		st->unchanged++;
	return SPGW_OK;
}

/* The record's 地方数据主键: the mapping's derived key, else the record's own DFSJZJ. */
static const char *record_key(const char *key, const json_t *record)
{
	if (key)
		return key;
	return json_string_value(json_object_get(record, "DFSJZJ"));
}

struct recheck_ctx {
	struct spgw_pipeline *p;
	const struct spgw_pipeline_source *src;
	struct spgw_pipeline_stats *st;
	struct spgw_error *err;
	size_t resolved;
};

static enum spgw_rc recheck_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct recheck_ctx *rc = ud;
	struct spgw_pipeline_stats st = { 0 };
	int resolved = 0;
	enum spgw_rc r;

	/* only this source's mapping can read the entry's raw record */
	if (!row->source || strcmp(row->source, rc->src->name))
		return SPGW_OK;
	r = spgw_pipeline_replay(rc->p, rc->src, row, &resolved, &st, rc->err);
	/* the record was counted when it came; what it adds to the outbox now counts too */
	rc->st->added += st.added;
	rc->st->versions += st.versions;
	rc->st->unchanged += st.unchanged;
	rc->resolved += resolved;
	return r;
}

/*
 * A step of case `ref` was stored: judge again the steps of that case that wait in
 * quarantine for their predecessors (pipeline.c quarantine(), sequence.c), in id order,
 * until a pass resolves none (one resolved may be what the next waited for).
 */
static enum spgw_rc recheck(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
			    const char *table, const char *ref, struct spgw_pipeline_stats *st,
			    struct spgw_error *err)
{
	struct recheck_ctx rc = { p, src, st, err, 0 };
	enum spgw_rc r;
	size_t n, before;

	p->rechecking = 1;
	do {
		before = rc.resolved;
		r = spgw_ledger_quarantine_waiting(p->ledger, src->region, table, ref, recheck_row,
						   &rc, &n, err);
	} while (!r && n && rc.resolved > before);
	p->rechecking = 0;
	return r;
}

static enum spgw_rc on_output(void *ud, const char *table, const char *key, json_t *record,
			      const struct spgw_reasons *mreasons)
{
	struct record_ctx *c = ud;
	struct spgw_pipeline *p = c->p;
	char digest[80], day[11], waited[SPGW_REFS_KEY_MAX] = "";
	enum spgw_rc rc;

	c->st->outputs++;
	key = record_key(key, record);
	if (mreasons && mreasons->n) {
		rc = quarantine(c, table, key, record, mreasons);
		goto out;
	}
	rc = prepare(p, c->src, table, key, record, digest, day, c->err);
	if (rc == SPGW_E_INVALID) {
		rc = quarantine(c, table, key, record, &p->reasons);
		goto out;
	}
	if (rc)
		goto out;
	observe(p, c->src, table, key, record, &p->reasons);
	if (p->valid == SPGW_VALID_YES && p->refs.parent_ref[0] &&
	    spgw_table_sequence(spgw_schema_table(p->schema, table)))
		snprintf(waited, sizeof(waited), "%s", p->refs.parent_ref);
	rc = put(p, c->src, table, key, day, digest, p->canon.data, p->canon.len, &p->refs,
		 p->valid, c->st, c->err);
	if (rc == SPGW_E_INVALID) /* the earlier version it corrects cannot be invalidated */
		rc = quarantine(c, table, key, record, &p->reasons);
	else if (!rc && waited[0] && p->ledger && !p->rechecking)
		rc = recheck(p, c->src, table, waited, c->st, c->err);
out:
	json_decref(record);
	return rc;
}

/* Parse the plugin's bytes; on failure quarantine them and return NULL with *rc set. */
static json_t *parse_raw(struct record_ctx *c, enum spgw_rc *rc)
{
	struct spgw_json_error jerr;
	json_t *src;
	char en[400], zh[400];

	*rc = SPGW_OK;
	src = spgw_json_parse(c->raw, c->len, &jerr);
	if (!src) {
		snprintf(en, sizeof(en), "the source record is not valid UTF-8 JSON: %s (byte %zu)",
			 jerr.text, jerr.position);
		snprintf(zh, sizeof(zh), "源记录不是有效的 UTF-8 JSON：%s（第 %zu 字节）", jerr.text,
			 jerr.position);
		*rc = quarantine_whole(c, "json", en, zh);
		return NULL;
	}
	if (!json_is_object(src)) {
		json_decref(src);
		*rc = quarantine_whole(c, "json",
				       "the source record is JSON but not an object",
				       "源记录是 JSON 但不是对象");
		return NULL;
	}
	return src;
}

/* The mapping has no rules for this source table: keep the record until it has. */
static enum spgw_rc quarantine_unmapped(struct record_ctx *c, const struct spgw_error *merr)
{
	char en[700], zh[700];

	snprintf(en, sizeof(en),
		 "no mapping rules for source table \"%s\" in %s: add them, then replay (%s)",
		 c->source_table, spgw_mapping_path(c->src->mapping), merr->text);
	snprintf(zh, sizeof(zh), "映射文件 %s 中没有源表“%s”的规则：补充后重放", 
		 spgw_mapping_path(c->src->mapping), c->source_table);
	return quarantine_whole(c, "mapping", en, zh);
}

enum spgw_rc spgw_pipeline_record(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				  const char *source_table, const char *raw, size_t len,
				  struct spgw_pipeline_stats *st, struct spgw_error *err)
{
	struct record_ctx c;
	struct spgw_mapping_env env;
	struct spgw_error merr;
	json_t *rec;
	enum spgw_rc rc;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.src = src;
	c.source_table = source_table;
	c.raw = raw;
	c.len = len;
	c.st = st;
	c.err = err;
	st->records++;
	rec = parse_raw(&c, &rc);
	if (!rec)
		return rc;
	if (json_is_string(json_object_get(rec, "_error"))) {
		/* the plugin could not read this row (a CSV row with the wrong column count,
		 * undecodable text...): its own words are the reason, its bytes the raw form */
		const char *why = json_string_value(json_object_get(rec, "_error"));

		rc = quarantine_whole(&c, "source", why, why);
		json_decref(rec);
		return rc;
	}
	env.region = src->region;
	env.source = src->name;
	memset(&merr, 0, sizeof(merr));
	rc = spgw_mapping_apply(src->mapping, source_table, rec, &env, on_output, &c, &merr);
	json_decref(rec);
	if (rc == SPGW_E_NOTFOUND)
		return quarantine_unmapped(&c, &merr);
	if (rc && merr.code && err && !err->code)
		*err = merr;
	return rc;
}

enum spgw_rc spgw_pipeline_spgl(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				const char *table, const json_t *record,
				struct spgw_pipeline_stats *st, struct spgw_error *err)
{
	struct record_ctx c;
	char *raw = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
	enum spgw_rc rc;

	if (!raw)
		return spgw_error_nomem(err, "reading a record");
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.src = src;
	c.source_table = table;
	c.raw = raw;
	c.len = strlen(raw);
	c.st = st;
	c.err = err;
	st->records++;
	/* on_output takes a reference and releases it */
	rc = on_output(&c, table, NULL, json_incref((json_t *)record), NULL);
	free(raw);
	return rc;
}

/* --- replay --- */

static void pending_free(struct pending *pd)
{
	while (pd) {
		struct pending *next = pd->next;

		spgw_free(pd->table);
		spgw_free(pd->key);
		spgw_free(pd->day);
		spgw_free(pd->data);
		spgw_free(pd);
		pd = next;
	}
}

static int stands_for_entry(const struct spgw_quarantine_row *row, const char *table,
			    const char *key)
{
	if (!row->table)
		return 1; /* the whole source record was refused: every output counts */
	if (strcmp(row->table, table))
		return 0;
	return !row->key || (key && !strcmp(row->key, key));
}

static enum spgw_rc on_replay_output(void *ud, const char *table, const char *key,
				     json_t *record, const struct spgw_reasons *mreasons)
{
	struct record_ctx *c = ud;
	struct spgw_pipeline *p = c->p;
	struct pending *pd;
	char digest[80], day[11];
	enum spgw_rc rc = SPGW_OK;

	key = record_key(key, record);
	if (!stands_for_entry(c->row, table, key))
		goto out;
	c->matched++;
	if (mreasons && mreasons->n) {
		c->failed++;
		rc = spgw_reasons_merge(c->replay_reasons, mreasons);
		goto keep_mapped;
	}
	rc = prepare(p, c->src, table, key, record, digest, day, c->err);
	if (rc == SPGW_E_INVALID) {
		c->failed++;
		rc = spgw_reasons_merge(c->replay_reasons, &p->reasons);
		goto keep_mapped;
	}
	if (rc)
		goto out;
	pd = spgw_calloc(1, sizeof(*pd));
	if (!pd || !(pd->table = spgw_strdup(table)) || !(pd->key = spgw_strdup(key ? key : "")) ||
	    !(pd->day = spgw_strdup(day)) ||
	    !(pd->data = spgw_strndup(p->canon.data, p->canon.len))) {
		pending_free(pd);
		rc = spgw_error_nomem(c->err, "replaying a quarantine entry");
		goto out;
	}
	pd->data_len = p->canon.len;
	pd->refs = p->refs;
	pd->valid = p->valid;
	snprintf(pd->digest, sizeof(pd->digest), "%s", digest);
	pd->next = c->pending;
	c->pending = pd;
	goto out;
keep_mapped:
	free(c->replay_mapped);
	c->replay_mapped = mapped_text(record);
out:
	json_decref(record);
	return rc;
}

enum spgw_rc spgw_pipeline_replay(struct spgw_pipeline *p, const struct spgw_pipeline_source *src,
				  const struct spgw_quarantine_row *row, int *resolved,
				  struct spgw_pipeline_stats *st, struct spgw_error *err)
{
	struct record_ctx c;
	struct spgw_mapping_env env;
	struct spgw_error merr;
	struct spgw_reasons rr;
	struct pending *pd;
	json_t *rec = NULL, *rj = NULL;
	char *rtext = NULL;
	enum spgw_rc rc;

	*resolved = 0;
	spgw_reasons_init(&rr);
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.src = src;
	c.source_table = row->source_table;
	c.raw = row->raw;
	c.len = row->raw_len;
	c.st = st;
	c.err = err;
	c.row = row;
	c.replay_reasons = &rr;
	st->records++;
	rec = spgw_json_parse(row->raw, row->raw_len, NULL);
	if (!rec || !json_is_object(rec) || json_is_string(json_object_get(rec, "_error"))) {
		/* the bytes themselves are bad, or the plugin could not read the row: only the
		 * source can fix them, and the reason already given stays */
		rc = SPGW_OK;
		goto out;
	}
	env.region = src->region;
	env.source = src->name;
	memset(&merr, 0, sizeof(merr));
	rc = spgw_mapping_apply(src->mapping, row->source_table, rec, &env, on_replay_output, &c,
				&merr);
	if (rc == SPGW_E_NOTFOUND) {
		rc = spgw_reasons_add(&rr, NULL, "mapping", "no mapping rules for source table \"%s\"",
				      "没有源表“%s”的映射规则", row->source_table, row->source_table);
		c.failed++;
	}
	if (rc)
		goto out;
	if (c.matched && !c.failed) {
		for (pd = c.pending; pd; pd = pd->next) {
			rc = put(p, src, pd->table, pd->key, pd->day, pd->digest, pd->data,
				 pd->data_len, &pd->refs, pd->valid, st, err);
			if (rc)
				goto out;
		}
		if (p->ledger)
			rc = spgw_ledger_quarantine_resolve(p->ledger, row->id, err);
		if (rc == SPGW_OK)
			*resolved = 1;
		goto out;
	}
	if (!c.matched && spgw_reasons_add(&rr, NULL, "mapping",
					   "the mapping no longer produces this record (%s %s)",
					   "映射已不再产生此记录（%s %s）",
					   row->table ? row->table : "-", row->key ? row->key : "-")) {
		rc = spgw_error_nomem(err, "replaying");
		goto out;
	}
	if (p->ledger) {
		rj = spgw_reasons_to_json(&rr);
		rtext = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
		if (!rtext) {
			rc = spgw_error_nomem(err, "replaying");
			goto out;
		}
		rc = spgw_ledger_quarantine_update(p->ledger, row->id, c.replay_mapped, rtext, err);
	}
out:
	pending_free(c.pending);
	free(c.replay_mapped);
	free(rtext);
	json_decref(rj);
	json_decref(rec);
	spgw_reasons_free(&rr);
	return rc;
}
