/*
 * The gateway registry, DIR/gateways.json: which gateway ids exist, the public key each signs
 * with, and the regions each may report for (PROTOCOL.md §1 unknown gateway, §5 forbidden).
 *
 *   { "gateways": [ { "id": "220000-01", "alg": "sm2-sm3", "regions": ["220100", "22*"],
 *                     "key": "-----BEGIN PUBLIC KEY-----\n..." } ] }
 *
 * The key is kept as PEM text inside the file, not as a path, so the directory is complete on
 * its own. The server reads the file at start and on SIGHUP; a request in flight keeps the
 * registry it started with (reference counted), so a reload never frees a key under it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

/* Gateways in one registry: a province has a handful; the ceiling only bounds a bad file. */
#define REGISTRY_MAX 4096

struct sim_registry {
	atomic_int refs;
	struct sim_gateway *gw;
	size_t n;
};

static void gateway_clear(struct sim_gateway *g)
{
	size_t i;

	EVP_PKEY_free(g->key);
	for (i = 0; i < g->n_regions; i++)
		spgw_free(g->regions[i]);
	spgw_free(g->regions);
	memset(g, 0, sizeof(*g));
}

static void registry_free(struct sim_registry *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		gateway_clear(&r->gw[i]);
	spgw_free(r->gw);
	spgw_free(r);
}

struct sim_registry *sim_registry_get(struct sim_registry *r)
{
	atomic_fetch_add(&r->refs, 1);
	return r;
}

void sim_registry_put(struct sim_registry *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		registry_free(r);
}

const struct sim_gateway *sim_registry_find(const struct sim_registry *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->gw[i].id, id) == 0)
			return &r->gw[i];
	}
	return NULL;
}

size_t sim_registry_count(const struct sim_registry *r)
{
	return r->n;
}

/* "220100" or a prefix pattern "22*" (any region whose code starts with 22). */
static int region_pattern_ok(const char *p)
{
	size_t n = strlen(p), i;

	if (n == 6 && sim_is_region(p))
		return 1;
	if (n < 1 || n > 6 || p[n - 1] != '*')
		return 0;
	for (i = 0; i + 1 < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
	}
	return 1;
}

int sim_gateway_allows(const struct sim_gateway *g, const char *region)
{
	size_t i, n;

	for (i = 0; i < g->n_regions; i++) {
		n = strlen(g->regions[i]);
		if (g->regions[i][n - 1] == '*') {
			if (strncmp(region, g->regions[i], n - 1) == 0)
				return 1;
		} else if (strcmp(region, g->regions[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

static enum spgw_rc gateway_from_json(const json_t *j, const char *path, size_t idx,
				      struct sim_gateway *g, struct spgw_error *err)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *pem = json_string_value(json_object_get(j, "key"));
	const char *alg_name = json_string_value(json_object_get(j, "alg"));
	const json_t *regions = json_object_get(j, "regions"), *v;
	enum sim_alg alg;
	size_t i;

	if (!id || !sim_is_token(id, SIM_GATEWAY_ID_MAX))
		return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
				      "gateways[%zu]: \"id\" must match [A-Za-z0-9._-]{1,64}", idx);
	snprintf(g->id, sizeof(g->id), "%s", id);
	if (!pem || !(g->key = sim_key_public_pem(pem, strlen(pem))) ||
	    sim_key_alg(g->key, &g->alg))
		return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
				      "gateway %s: \"key\" is not an SM2, EC P-256 or Ed25519 "
				      "public key in PEM; register it again", id);
	if (alg_name && (sim_alg_parse(alg_name, &alg) || alg != g->alg))
		return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
				      "gateway %s: \"alg\" %s does not match its key (%s)", id,
				      alg_name, sim_alg_name(g->alg));
	if (!json_is_array(regions) || json_array_size(regions) == 0)
		return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
				      "gateway %s: \"regions\" must be a non-empty list", id);
	g->regions = spgw_calloc(json_array_size(regions), sizeof(char *));
	if (!g->regions)
		return spgw_error_nomem(err, "reading gateways.json");
	json_array_foreach(regions, i, v) {
		if (!json_is_string(v) || !region_pattern_ok(json_string_value(v)))
			return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
					      "gateway %s: region %zu is neither six digits nor a "
					      "prefix like 22*", id, i);
		g->regions[i] = spgw_strdup(json_string_value(v));
		if (!g->regions[i])
			return spgw_error_nomem(err, "reading gateways.json");
		g->n_regions++;
	}
	return SPGW_OK;
}

/* Read and parse DIR/gateways.json: *out new (json_decref). */
static enum spgw_rc read_json(const char *dir, char *path, size_t size, json_t **out,
			      struct spgw_error *err)
{
	json_error_t je;
	json_t *j;

	snprintf(path, size, "%s/gateways.json", dir);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return spgw_error_set(err, SPGW_E_CONFIG, path, je.line, je.column, "%s (run "
				      "spgw-national-sim init first)", je.text);
	if (!json_is_array(json_object_get(j, "gateways"))) {
		json_decref(j);
		return spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
				      "must be an object with a \"gateways\" list");
	}
	*out = j;
	return SPGW_OK;
}

enum spgw_rc sim_registry_load(const char *dir, struct sim_registry **out,
			       struct spgw_error *err)
{
	char path[4096];
	json_t *j = NULL, *list, *g;
	struct sim_registry *r;
	enum spgw_rc rc;
	size_t i, k;

	r = spgw_calloc(1, sizeof(*r));
	if (!r)
		return spgw_error_nomem(err, "reading gateways.json");
	atomic_init(&r->refs, 1);
	rc = read_json(dir, path, sizeof(path), &j, err);
	if (rc)
		goto out;
	list = json_object_get(j, "gateways");
	if (json_array_size(list) > REGISTRY_MAX) {
		rc = spgw_error_set(err, SPGW_E_LIMIT, path, 0, 0, "more than %d gateways",
				    REGISTRY_MAX);
		goto out;
	}
	r->gw = spgw_calloc(json_array_size(list) + 1, sizeof(*r->gw));
	if (!r->gw) {
		rc = spgw_error_nomem(err, "reading gateways.json");
		goto out;
	}
	json_array_foreach(list, i, g) {
		rc = gateway_from_json(g, path, i, &r->gw[r->n], err);
		r->n++;
		if (rc)
			goto out;
		for (k = 0; k + 1 < r->n; k++) {
			if (strcmp(r->gw[k].id, r->gw[r->n - 1].id) == 0) {
				rc = spgw_error_set(err, SPGW_E_CONFIG, path, 0, 0,
						    "gateway %s is listed twice", r->gw[k].id);
				goto out;
			}
		}
	}
	*out = r;
	r = NULL;
out:
	json_decref(j);
	if (r)
		registry_free(r);
	return rc;
}

/* Split "220100,22*" into a JSON list, each checked. */
static enum spgw_rc regions_json(const char *regions, json_t *list, struct spgw_error *err)
{
	char buf[4096], *save = NULL, *t;

	if (snprintf(buf, sizeof(buf), "%s", regions) >= (int)sizeof(buf))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "--regions is too long");
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!region_pattern_ok(t))
			return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
					      "--regions: \"%s\" is neither six digits (220100) "
					      "nor a prefix with * (22*)", t);
		if (json_array_append_new(list, json_string(t)))
			return spgw_error_nomem(err, "registering a gateway");
	}
	if (json_array_size(list) == 0)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "--regions names no region");
	return SPGW_OK;
}

enum spgw_rc sim_registry_register(const char *dir, const char *id, const char *key_path,
				   const char *regions, struct spgw_error *err)
{
	char path[4096], *pem = NULL, *text = NULL;
	json_t *j = NULL, *list, *entry = NULL, *g;
	EVP_PKEY *k = NULL;
	enum sim_alg alg;
	enum spgw_rc rc;
	size_t i;

	if (!sim_is_token(id, SIM_GATEWAY_ID_MAX))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--gateway \"%s\" must match [A-Za-z0-9._-]{1,64} "
				      "(PROTOCOL.md §5)", id);
	k = sim_key_load_public(key_path, err);
	if (!k)
		return SPGW_E_CRYPTO;
	sim_key_alg(k, &alg);
	pem = sim_key_public_text(k);
	entry = json_object();
	list = json_array();
	if (!pem || !entry || !list || json_object_set_new(entry, "id", json_string(id)) ||
	    json_object_set_new(entry, "alg", json_string(sim_alg_name(alg))) ||
	    json_object_set_new(entry, "regions", list) ||
	    json_object_set_new(entry, "key", json_string(pem))) {
		rc = spgw_error_nomem(err, "registering a gateway");
		goto out;
	}
	rc = regions_json(regions, list, err);
	if (rc)
		goto out;
	rc = read_json(dir, path, sizeof(path), &j, err);
	if (rc)
		goto out;
	list = json_object_get(j, "gateways");
	json_array_foreach(list, i, g) {
		if (json_is_string(json_object_get(g, "id")) &&
		    strcmp(json_string_value(json_object_get(g, "id")), id) == 0)
			break;
	}
	if (i < json_array_size(list) ? json_array_set(list, i, entry)
				      : json_array_append(list, entry)) {
		rc = spgw_error_nomem(err, "registering a gateway");
		goto out;
	}
	text = json_dumps(j, JSON_INDENT(2));
	if (!text) {
		rc = spgw_error_nomem(err, "registering a gateway");
		goto out;
	}
	rc = sim_write_file(path, text, strlen(text), 0644, err);
out:
	free(text);
	json_decref(j);
	json_decref(entry);
	spgw_free(pem);
	EVP_PKEY_free(k);
	return rc;
}
