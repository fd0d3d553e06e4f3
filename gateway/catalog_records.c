/*
 * The SPGL definition records of one region from the approval catalog (catalog.h): its flows,
 * their stages, its items and which item sits in which stage of each flow, keyed so that a
 * changed catalog gives new versions of the same keys.
 */
#include <stdio.h>

#include "catalog_int.h"
#include "mem.h"

/* --- the SPGL definition records --- */

struct emit {
	spgw_catalog_record_fn fn;
	void *ud;
	const char *region;
	struct spgw_error *err;
};

/*
 * Hand one record to the callback: `rec` (stolen) gets the key and the members every
 * definition table has.
 */
static enum spgw_rc emit_record(struct emit *em, const char *table, const char *key, json_t *rec)
{
	enum spgw_rc rc;

	if (!rec || json_object_set_new(rec, "DFSJZJ", json_string(key)) ||
	    json_object_set_new(rec, "XZQHDM", json_string(em->region)) ||
	    json_object_set_new(rec, "SJYXBS", json_integer(1))) {
		json_decref(rec);
		return spgw_error_nomem(em->err, "building the catalog's records");
	}
	rc = em->fn(em->ud, table, key, rec);
	json_decref(rec);
	return rc;
}

/*
 * A version as a JSON number. 1.0 is written as the integer 1: the canonical form sends both
 * as "1" (PROTOCOL.md §2), and outbox_refs.c writes a key's decimal the same way, so a case
 * naming version 1.0 meets its link row. A version with a fraction (1.5) is a real.
 */
static json_t *version_number(int tenths)
{
	return tenths % 10 ? json_real(tenths / 10.0) : json_integer(tenths / 10);
}

/* `rec` with member `key` set to `v` (stolen); NULL, releasing both, when either is NULL or
 * memory runs out: an optional member is never dropped silently. */
static json_t *with(json_t *rec, const char *key, json_t *v)
{
	if (!rec) {
		json_decref(v);
		return NULL;
	}
	if (!v || json_object_set_new(rec, key, v)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

static json_t *flow_record(const struct cat_flow *fl)
{
	json_t *r = json_pack("{s:s, s:s, s:o, s:i, s:s}", "SPLCBM", fl->code, "SPLCMC", fl->name,
			      "SPLCBBH", version_number(fl->tenths), "DYBZSPLCLX", fl->type, "SXRQ",
			      fl->effective);

	if (fl->retired)
		r = with(r, "TYRQ", json_string(fl->retired));
	return r;
}

static json_t *stage_record(const struct cat_flow *fl, const struct cat_stage *st)
{
	json_t *r = json_pack("{s:s, s:o, s:s, s:s, s:i, s:s}", "SPLCBM", fl->code, "SPLCBBH",
			      version_number(fl->tenths), "SPJDBM", st->code, "SPJDMC", st->name,
			      "SPJDXH", st->seq, "DYBZSPJDXH", st->standard);

	if (st->limit_days)
		r = with(r, "SPJDSX", json_integer(st->limit_days));
	return r;
}

static json_t *item_record(const struct spgw_catalog *c, const struct cat_item *it,
			   const char *region)
{
	json_t *r =
		json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:i, s:s}", "SPSXBM", it->code, "SPSXBBH",
			  version_number(it->tenths), "SPSXMC", it->name, "DYBZSPSXBM",
			  it->standard_code, "SSZT", it->dept, "SSBMSSDQXZQHDM", region, "CNBJSX",
			  it->promised, "SXRQ", it->effective ? it->effective : c->first_effective);

	if (it->legal)
		r = with(r, "FDBJSX", json_integer(it->legal));
	if (it->local_code)
		r = with(r, "SSBM", json_string(it->local_code));
	if (it->retired)
		r = with(r, "TYRQ", json_string(it->retired));
	return r;
}

static json_t *link_record(const struct cat_flow *fl, const struct cat_item *it)
{
	return json_pack("{s:s, s:o, s:i, s:s, s:o}", "SPLCBM", fl->code, "SPLCBBH",
			 version_number(fl->tenths), "SPJDXH", it->stage, "SPSXBM", it->code,
			 "SPSXBBH", version_number(it->tenths));
}

enum spgw_rc spgw_catalog_records(const struct spgw_catalog *c, const char *region,
				  spgw_catalog_record_fn fn, void *ud, struct spgw_error *err)
{
	struct emit em = {fn, ud, region, err};
	char key[128];
	size_t f, i;
	enum spgw_rc rc = SPGW_OK;

	for (f = 0; rc == SPGW_OK && f < c->nflows; f++) {
		snprintf(key, sizeof(key), "LC-%s-%s", c->flows[f].code, c->flows[f].version);
		rc = emit_record(&em, "SPGL_SPLCXXB", key, flow_record(&c->flows[f]));
	}
	for (f = 0; rc == SPGW_OK && f < c->nflows; f++)
		for (i = 0; rc == SPGW_OK && i < SPGW_CATALOG_STAGES; i++) {
			snprintf(key, sizeof(key), "JD-%s-%s-%d", c->flows[f].code,
				 c->flows[f].version, c->stages[i].seq);
			rc = emit_record(&em, "SPGL_SPJDXXB", key,
					 stage_record(&c->flows[f], &c->stages[i]));
		}
	for (i = 0; rc == SPGW_OK && i < c->nitems; i++) {
		snprintf(key, sizeof(key), "SX-%s-%s", c->items[i].code, c->items[i].version);
		rc = emit_record(&em, "SPGL_SPSXJBXXB", key, item_record(c, &c->items[i], region));
	}
	/* every flow holds every item, in the item's stage (spec: one catalog, all flows) */
	for (f = 0; rc == SPGW_OK && f < c->nflows; f++)
		for (i = 0; rc == SPGW_OK && i < c->nitems; i++) {
			snprintf(key, sizeof(key), "LJ-%s-%s-%s-%s", c->flows[f].code,
				 c->flows[f].version, c->items[i].code, c->items[i].version);
			rc = emit_record(&em, "SPGL_SPLCJBLSXXXB", key,
					 link_record(&c->flows[f], &c->items[i]));
		}
	return rc;
}
