/*
 * GET BASE/counts and GET BASE/keys (PROTOCOL.md §3, §5): what the platform holds per
 * business day, for the gateway's reconciliation. A key counts once, on the day of its
 * newest version; `valid` counts those whose SJYXBS is the number 1.
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

/* ---- query strings (§5): percent-decoded, '+' literal, unknown or repeated refused ---- */

struct param {
	const char *name;
	int required;
	char *value; /* owned once seen */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode `n` bytes into a new string; NULL when malformed, holding NUL, or not
 * UTF-8 (a key in `after` is compared as text). */
static char *pct_decode(const char *s, size_t n)
{
	char *out = spgw_malloc(n + 1);
	size_t i, o = 0;
	json_t *check;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
				goto bad;
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	/* jansson checks UTF-8 for us */
	check = json_stringn(out, o);
	if (!check)
		goto bad;
	json_decref(check);
	return out;
bad:
	spgw_free(out);
	return NULL;
}

static int parse_query(const char *q, struct param *ps, size_t np, struct sim_answer *a)
{
	const char *part, *end, *eq;
	char *name;
	size_t i;

	for (part = q; part && *part; part = *end ? end + 1 : NULL) {
		end = part + strcspn(part, "&");
		eq = memchr(part, '=', (size_t)(end - part));
		if (!eq || eq == part) {
			sim_answer_error(a, 400, "bad_request",
					 "query part \"%.*s\" is not name=value", (int)(end - part),
					 part);
			return -1;
		}
		name = pct_decode(part, (size_t)(eq - part));
		for (i = 0; name && i < np; i++) {
			if (strcmp(name, ps[i].name) == 0)
				break;
		}
		if (!name || i == np) {
			sim_answer_error(a, 400, "bad_request", "unknown query parameter \"%.*s\"",
					 (int)(eq - part), part);
			spgw_free(name);
			return -1;
		}
		spgw_free(name);
		if (ps[i].value) {
			sim_answer_error(a, 400, "bad_request", "query parameter %s is repeated",
					 ps[i].name);
			return -1;
		}
		ps[i].value = pct_decode(eq + 1, (size_t)(end - eq - 1));
		if (!ps[i].value) {
			sim_answer_error(a, 400, "bad_request",
					 "query parameter %s is not percent-encoded UTF-8",
					 ps[i].name);
			return -1;
		}
		if (!*end)
			break;
	}
	for (i = 0; i < np; i++) {
		if (ps[i].required && !ps[i].value) {
			sim_answer_error(a, 400, "bad_request", "query parameter %s is missing",
					 ps[i].name);
			return -1;
		}
	}
	return 0;
}

static void params_free(struct param *ps, size_t np)
{
	size_t i;

	for (i = 0; i < np; i++)
		spgw_free(ps[i].value);
}

/* region and table: 400 when malformed or unknown, 403 when not the gateway's. */
static int region_table(struct sim_server *s, const struct sim_gateway *gw, const char *region,
			const char *table, struct sim_answer *a)
{
	if (!sim_is_region(region)) {
		sim_answer_error(a, 400, "bad_request", "region must be six digits");
		return -1;
	}
	if (!spgw_schema_table(s->schema, table)) {
		sim_answer_error(a, 400, "bad_request", "table \"%.60s\" is not a table of %s",
				 table, spgw_schema_id(s->schema));
		return -1;
	}
	if (!sim_gateway_allows(gw, region)) {
		sim_answer_error(a, 403, "forbidden", "gateway %s is not registered for region %s",
				 gw->id, region);
		return -1;
	}
	return 0;
}

struct counts_acc {
	json_t *days;
	long records, valid;
};

static int on_day(void *ud, const char *day, long records, long valid)
{
	struct counts_acc *c = ud;

	c->records += records;
	c->valid += valid;
	return json_array_append_new(c->days, json_pack("{s:s, s:I, s:I}", "date", day,
							"records", (json_int_t)records,
							"valid", (json_int_t)valid));
}

void sim_query_counts(struct sim_server *s, const struct sim_gateway *gw,
		      const struct sim_request *r, struct sim_answer *a)
{
	struct param ps[] = { { "region", 1, NULL }, { "table", 1, NULL }, { "from", 1, NULL },
			      { "to", 1, NULL } };
	struct counts_acc c = { NULL, 0, 0 };
	struct sim_faults *f = &s->faults;
	enum sim_lie_counts lie = SIM_LIE_COUNTS_NONE;
	struct spgw_error err;
	long span;

	memset(&err, 0, sizeof(err));
	if (parse_query(r->query, ps, 4, a) || region_table(s, gw, ps[0].value, ps[1].value, a))
		goto out;
	if (!sim_is_date(ps[2].value) || !sim_is_date(ps[3].value)) {
		sim_answer_error(a, 400, "bad_request", "from and to must be dates YYYY-MM-DD");
		goto out;
	}
	span = sim_days_of(ps[3].value) - sim_days_of(ps[2].value) + 1;
	if (span < 1 || span > SIM_MAX_DAYS) {
		sim_answer_error(a, 400, "bad_request",
				 "from %s to %s is %ld days; give from <= to and at most %d days",
				 ps[2].value, ps[3].value, span, SIM_MAX_DAYS);
		goto out;
	}
	c.days = json_array();
	if (!c.days || sim_store_counts(s->store, ps[0].value, ps[1].value, ps[2].value,
					ps[3].value, on_day, &c, &err)) {
		sim_answer_error(a, 500, "unavailable", "counting failed: %s", err.text);
		goto out;
	}
	if (f->lie_counts && sim_fault_query_strikes(f, f->lie_counts_rate))
		lie = f->lie_counts;
	if (lie)
		sim_fault_counts(lie, ps[2].value, ps[3].value, c.days, &c.records, &c.valid);
	sim_answer_json(a, 200, json_pack("{s:s, s:s, s:o, s:{s:I, s:I}}", "region", ps[0].value,
					  "table", ps[1].value, "days", c.days, "total",
					  "records", (json_int_t)c.records, "valid",
					  (json_int_t)c.valid));
	c.days = NULL;
	snprintf(a->log, sizeof(a->log), "counts %s/%s %s..%s: %ld records%s%s%s", ps[0].value,
		 ps[1].value, ps[2].value, ps[3].value, c.records, lie ? " [lie-counts " : "",
		 lie ? sim_lie_counts_name(lie) : "", lie ? "]" : "");
out:
	json_decref(c.days);
	params_free(ps, 4);
}

struct keys_acc {
	json_t *keys;
	long n;
	char *last; /* the last key listed */
	int more;
};

static int on_key(void *ud, const char *key, const char *digest)
{
	struct keys_acc *k = ud;

	if (k->n == SIM_KEYS_PAGE) {
		k->more = 1; /* the one asked for beyond the page: only says more follow */
		return 0;
	}
	k->n++;
	spgw_free(k->last);
	k->last = spgw_strdup(key);
	if (!k->last)
		return -1;
	return json_array_append_new(k->keys, json_pack("{s:s, s:s}", "key", key, "digest",
							digest));
}

/* Keep the day's first key in *(char **)ud as a new string: --lie-keys loop points the
 * last page's `next` back to it. */
static int first_key(void *ud, const char *key, const char *digest)
{
	char **out = ud;

	(void)digest;
	*out = spgw_strdup(key);
	return *out ? 0 : -1;
}

void sim_query_keys(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a)
{
	struct param ps[] = { { "region", 1, NULL }, { "table", 1, NULL }, { "date", 1, NULL },
			      { "after", 0, NULL } };
	struct keys_acc k = { NULL, 0, NULL, 0 };
	struct sim_faults *f = &s->faults;
	enum sim_lie_keys lie = SIM_LIE_KEYS_NONE;
	struct spgw_error err;
	char *first = NULL;
	json_t *ans;

	memset(&err, 0, sizeof(err));
	if (parse_query(r->query, ps, 4, a) || region_table(s, gw, ps[0].value, ps[1].value, a))
		goto out;
	if (!sim_is_date(ps[2].value)) {
		sim_answer_error(a, 400, "bad_request", "date must be a date YYYY-MM-DD");
		goto out;
	}
	if (f->lie_keys && sim_fault_query_strikes(f, f->lie_keys_rate))
		lie = f->lie_keys;
	k.keys = json_array();
	/* --lie-keys repeat: `after` taken as inclusive, the off-by-one of a careless server */
	if (!k.keys || sim_store_keys(s->store, ps[0].value, ps[1].value, ps[2].value,
				      ps[3].value, lie == SIM_LIE_KEYS_REPEAT, SIM_KEYS_PAGE + 1,
				      on_key, &k, &err)) {
		sim_answer_error(a, 500, "unavailable", "listing keys failed: %s", err.text);
		goto out;
	}
	/* --lie-keys loop: the page that ends the listing sends the client back to the start */
	if (lie == SIM_LIE_KEYS_LOOP && !k.more &&
	    sim_store_keys(s->store, ps[0].value, ps[1].value, ps[2].value, NULL, 0, 1, first_key,
			   &first, &err)) {
		sim_answer_error(a, 500, "unavailable", "listing keys failed: %s", err.text);
		goto out;
	}
	ans = json_pack("{s:s, s:s, s:s, s:O}", "region", ps[0].value, "table", ps[1].value,
			"date", ps[2].value, "keys", k.keys);
	if (ans && k.more)
		json_object_set_new(ans, "next", json_string(k.last));
	else if (ans && first)
		json_object_set_new(ans, "next", json_string(first));
	sim_answer_json(a, 200, ans);
	snprintf(a->log, sizeof(a->log), "keys %s/%s %s: %ld%s%s%s%s", ps[0].value, ps[1].value,
		 ps[2].value, k.n, k.more ? " and more" : "", lie ? " [lie-keys " : "",
		 lie ? sim_lie_keys_name(lie) : "", lie ? "]" : "");
out:
	json_decref(k.keys);
	spgw_free(k.last);
	spgw_free(first);
	params_free(ps, 4);
}
