/*
 * The gateway file's "national" object: where the national platform is, who this gateway is
 * to it, which keys sign and verify, and how hard to push the link. Checked like the rest of
 * the configuration: every problem at file:line:column, all of them at once.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "mem.h"

static const struct key_spec national_keys[] = {
	{ "url", K_STRING, 1 },
	{ "gateway_id", K_STRING, 1 },
	{ "alg", K_STRING, 0 },
	{ "key", K_STRING, 0 },
	{ "public_key", K_STRING, 0 },
	{ "national_public_key", K_STRING, 1 },
	{ "ca_file", K_STRING, 0 },
	{ "client_cert", K_STRING, 0 },
	{ "client_key", K_STRING, 0 },
	{ "insecure_skip_verify", K_BOOL, 0 },
	{ "gzip", K_BOOL, 0 },
	{ "max_in_flight", K_INT, 0 },
	{ "batch_records", K_INT, 0 },
	{ "batch_bytes", K_INT, 0 },
	{ "max_upload_rate", K_INT, 0 },
	{ "timeout", K_INT, 0 },
	{ "connect_timeout", K_INT, 0 },
	{ "retry_base_ms", K_INT, 0 },
	{ "retry_max_ms", K_INT, 0 },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

struct nctx {
	const struct cfile *f;
	const json_t *obj;
	const struct spgw_jsonpos_at *at;
	struct spgw_diag *d;
};

/* An integer member within [lo, hi], or `def` when absent; out of range is a problem. */
static long long num(const struct nctx *x, const char *key, long long lo, long long hi,
		     long long def, const char *unit)
{
	const json_t *v = json_object_get(x->obj, key);

	if (!json_is_integer(v))
		return def; /* absent, or its wrong type is already reported */
	if (json_integer_value(v) >= lo && json_integer_value(v) <= hi)
		return json_integer_value(v);
	spgw_config_problem(x->d, SPGW_E_CONFIG, x->f->path,
			    spgw_jsonpos_child(x->f->pos, x->at, key), 1,
			    "\"%s\" is %" JSON_INTEGER_FORMAT " %s; give %lld to %lld", key,
			    json_integer_value(v), unit, lo, hi);
	return def;
}

/* A path member resolved from the gateway file's folder, or `def` (already resolved). */
static char *path_or(const struct nctx *x, const char *key, char *def)
{
	const char *s = spgw_config_str_or(x->obj, key, NULL);

	if (!s)
		return def;
	spgw_free(def);
	return spgw_config_resolve(x->f->path, s);
}

static int is_gateway_id(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static char *state_path(const struct spgw_config *c, const char *name)
{
	size_t n;
	char *p;

	if (!c->state_dir)
		return NULL;
	n = strlen(c->state_dir) + strlen(name) + 8;
	p = spgw_malloc(n);
	if (p)
		snprintf(p, n, "%s/keys/%s", c->state_dir, name);
	return p;
}

static void check_url(const struct nctx *x, const char *url)
{
	const struct spgw_jsonpos_at *at = spgw_jsonpos_child(x->f->pos, x->at, "url");
	char k[80];

	if (strncmp(url, "https://", 8)) {
		spgw_config_problem(x->d, SPGW_E_CONFIG, x->f->path, at, 1,
				    "\"url\" is \"%s\"; the national platform is reached over HTTPS "
				    "only: write https://host[:port]/path",
				    spgw_config_show(url, k));
		return;
	}
	if (!url[8] || url[8] == '/' || strpbrk(url, " \t\r\n?#"))
		spgw_config_problem(x->d, SPGW_E_CONFIG, x->f->path, at, 1,
				    "\"url\" is \"%s\"; expected https://host[:port]/path with no "
				    "query, fragment or spaces",
				    spgw_config_show(url, k));
}

void spgw_config_national(struct spgw_config *c, const struct cfile *f, struct spgw_diag *d)
{
	struct spgw_national *n = &c->national;
	struct nctx x = { f, json_object_get(f->root, "national"), NULL, d };
	const char *s;
	char k[80];

	memset(n, 0, sizeof(*n));
	n->max_in_flight = 4;
	n->batch_records = 1000;
	n->batch_bytes = 8u << 20;
	n->timeout_ms = 30000;
	n->connect_timeout_ms = 10000;
	n->retry_base_ms = 500;
	n->retry_max_ms = 60000;
	if (!json_is_object(x.obj))
		return; /* absent: nothing is uploaded; a wrong type is already reported */
	x.at = spgw_jsonpos_child(f->pos, f->root_at, "national");
	spgw_config_check_keys(f, x.obj, x.at, "\"national\"", national_keys, NKEYS(national_keys),
			       d);

	s = spgw_config_str_or(x.obj, "url", NULL);
	if (s) {
		check_url(&x, s);
		n->url = spgw_strdup(s);
		/* a trailing slash would double in "BASE/batches" */
		while (n->url && strlen(n->url) > 8 && n->url[strlen(n->url) - 1] == '/')
			n->url[strlen(n->url) - 1] = '\0';
	}
	s = spgw_config_str_or(x.obj, "gateway_id", NULL);
	if (s && !is_gateway_id(s))
		spgw_config_problem(d, SPGW_E_CONFIG, f->path,
				    spgw_jsonpos_child(f->pos, x.at, "gateway_id"), 1,
				    "\"gateway_id\" is \"%s\"; the id registered with the national "
				    "platform is 1 to 64 of A-Z a-z 0-9 . _ -",
				    spgw_config_show(s, k));
	if (s)
		n->gateway_id = spgw_strdup(s);
	s = spgw_config_str_or(x.obj, "alg", "sm2-sm3");
	if (strcmp(s, "sm2-sm3") && strcmp(s, "ecdsa-p256-sha256") && strcmp(s, "ed25519"))
		spgw_config_problem(d, SPGW_E_CONFIG, f->path,
				    spgw_jsonpos_child(f->pos, x.at, "alg"), 1,
				    "\"alg\" is \"%s\"; give sm2-sm3 (the default), "
				    "ecdsa-p256-sha256 or ed25519",
				    spgw_config_show(s, k));
	n->alg = spgw_strdup(s);
	n->key = path_or(&x, "key", state_path(c, "gateway.key"));
	n->public_key = path_or(&x, "public_key", state_path(c, "gateway.pub"));
	n->national_public_key = path_or(&x, "national_public_key", NULL);
	n->ca_file = path_or(&x, "ca_file", NULL);
	n->client_cert = path_or(&x, "client_cert", NULL);
	n->client_key = path_or(&x, "client_key", NULL);
	if (!n->client_cert != !n->client_key)
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, x.at, 0,
				    "\"national\": mutual TLS needs both \"client_cert\" and "
				    "\"client_key\"");
	n->insecure = json_is_true(json_object_get(x.obj, "insecure_skip_verify"));
	n->gzip = json_is_true(json_object_get(x.obj, "gzip"));
	n->max_in_flight = (int)num(&x, "max_in_flight", 1, 64, 4, "transfers");
	n->batch_records = (int)num(&x, "batch_records", 1, 1000, 1000, "records");
	n->batch_bytes = (size_t)num(&x, "batch_bytes", 4096, 8 << 20, 8 << 20, "bytes");
	n->max_upload_rate = num(&x, "max_upload_rate", 0, 100000000000LL, 0, "bytes/s");
	n->timeout_ms = (int)num(&x, "timeout", 1, 3600, 30, "seconds") * 1000;
	n->connect_timeout_ms = (int)num(&x, "connect_timeout", 1, 600, 10, "seconds") * 1000;
	n->retry_base_ms = (int)num(&x, "retry_base_ms", 10, 600000, 500, "ms");
	n->retry_max_ms = (int)num(&x, "retry_max_ms", 100, 3600000, 60000, "ms");
	if (n->retry_max_ms < n->retry_base_ms)
		n->retry_max_ms = n->retry_base_ms;
	if (!n->alg || (json_object_get(x.obj, "url") && !n->url) ||
	    (json_object_get(x.obj, "gateway_id") && !n->gateway_id) ||
	    (c->state_dir && (!n->key || !n->public_key)))
		spgw_config_nomem(d, f->path, "reading \"national\"");
}

void spgw_config_national_clear(struct spgw_national *n)
{
	spgw_free(n->url);
	spgw_free(n->gateway_id);
	spgw_free(n->alg);
	spgw_free(n->key);
	spgw_free(n->public_key);
	spgw_free(n->national_public_key);
	spgw_free(n->ca_file);
	spgw_free(n->client_cert);
	spgw_free(n->client_key);
	memset(n, 0, sizeof(*n));
}
