/*
 * Who is asking, and is it really them (PROTOCOL.md §1, §5). The checks run in the order §5
 * fixes (gateway, timestamp, content digest, signature, nonce) and each refusal carries the
 * status and code §5 gives it, so a gateway's handling of each can be tested one at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

/* A timestamp longer than this is not a Unix time in seconds (2^63 has 19 digits). */
#define TS_MAX_DIGITS 18

int sim_auth_identify(struct sim_server *s, const struct sim_registry *reg,
		      const struct sim_request *r, const struct sim_gateway **gw,
		      struct sim_answer *a)
{
	const char *ts = r->h_timestamp, *p;
	long long t, skew;

	(void)s;
	if (!r->h_gateway) {
		sim_answer_error(a, 401, "unknown_gateway", "X-SPGW-Gateway is missing");
		return -1;
	}
	if (!sim_is_token(r->h_gateway, SIM_GATEWAY_ID_MAX)) {
		sim_answer_error(a, 401, "unknown_gateway",
				 "X-SPGW-Gateway must match [A-Za-z0-9._-]{1,64}");
		return -1;
	}
	*gw = sim_registry_find(reg, r->h_gateway);
	if (!*gw) {
		sim_answer_error(a, 401, "unknown_gateway",
				 "gateway %s is not registered with the platform; ask the "
				 "platform to register its public key", r->h_gateway);
		return -1;
	}
	if (!ts || !*ts) {
		sim_answer_error(a, 401, "stale_timestamp", "X-SPGW-Timestamp is missing");
		return -1;
	}
	for (p = ts; *p >= '0' && *p <= '9'; p++)
		;
	if (*p || (ts[0] == '0' && ts[1]) || p - ts > TS_MAX_DIGITS) {
		sim_answer_error(a, 401, "stale_timestamp",
				 "X-SPGW-Timestamp must be Unix seconds in decimal digits without "
				 "leading zeros");
		return -1;
	}
	t = strtoll(ts, NULL, 10);
	skew = t - (long long)r->now;
	if (skew > SIM_MAX_SKEW || skew < -SIM_MAX_SKEW) {
		sim_answer_error(a, 401, "stale_timestamp",
				 "X-SPGW-Timestamp %s is %lld s %s the platform clock (%lld); at "
				 "most %d s is accepted: check the gateway's clock (NTP)", ts,
				 skew < 0 ? -skew : skew, skew < 0 ? "behind" : "ahead of",
				 (long long)r->now, SIM_MAX_SKEW);
		return -1;
	}
	return 0;
}

/* The content digest header value for `body`: "sm3=<b64>" or "sha-256=<b64>". */
static int content_digest(const char *name, const unsigned char *body, size_t n, char out[80])
{
	unsigned char md[32];
	char *b64;

	if (sim_digest(name, body, n, md))
		return -1;
	b64 = sim_b64_encode(md, sizeof(md));
	if (!b64)
		return -1;
	snprintf(out, 80, "%s=%s", name, b64);
	spgw_free(b64);
	return 0;
}

static int check_digest(const struct sim_gateway *gw, const struct sim_request *r,
			struct sim_answer *a)
{
	const char *h = r->h_digest, *eq;
	const char *want = sim_alg_digest(gw->alg);
	char expect[80];
	size_t name_len;

	if (!h) {
		sim_answer_error(a, 400, "bad_digest", "X-SPGW-Content-Digest is missing");
		return -1;
	}
	eq = strchr(h, '=');
	name_len = eq ? (size_t)(eq - h) : 0;
	if (!eq || !((name_len == 3 && strncmp(h, "sm3", 3) == 0) ||
		     (name_len == 7 && strncmp(h, "sha-256", 7) == 0))) {
		sim_answer_error(a, 400, "bad_digest",
				 "X-SPGW-Content-Digest must be sm3=<base64> or "
				 "sha-256=<base64>");
		return -1;
	}
	if (name_len != strlen(want) || strncmp(h, want, name_len) != 0) {
		sim_answer_error(a, 400, "bad_digest",
				 "X-SPGW-Content-Digest is %.*s but gateway %s signs with %s, "
				 "which pairs with %s (PROTOCOL.md §5)", (int)name_len, h, gw->id,
				 sim_alg_name(gw->alg), want);
		return -1;
	}
	if (content_digest(want, r->body, r->body_len, expect)) {
		sim_answer_error(a, 500, "unavailable", "digest computation failed");
		return -1;
	}
	if (strcmp(expect, h) != 0) {
		sim_answer_error(a, 400, "bad_digest",
				 "X-SPGW-Content-Digest does not match the %zu body bytes (before "
				 "any Content-Encoding): expected %s", r->body_len, expect);
		return -1;
	}
	return 0;
}

/* "alg=<alg>, sig=<b64>": the algorithm name and the signature bytes (*sig new). */
static int parse_signature(const char *h, char alg[32], unsigned char **sig, size_t *len)
{
	const char *comma, *b64;
	size_t n;

	if (strncmp(h, "alg=", 4) != 0)
		return -1;
	h += 4;
	comma = strchr(h, ',');
	if (!comma || (size_t)(comma - h) >= 32)
		return -1;
	n = (size_t)(comma - h);
	memcpy(alg, h, n);
	alg[n] = '\0';
	if (strncmp(comma, ", sig=", 6) != 0)
		return -1;
	b64 = comma + 6;
	return sim_b64_decode(b64, strlen(b64), sig, len);
}

static int check_signature(const struct sim_gateway *gw, const struct sim_request *r,
			   struct sim_answer *a)
{
	char alg_name[32], *msg = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0, n;
	enum sim_alg alg;
	int ok = -1;

	if (!r->h_signature) {
		sim_answer_error(a, 401, "bad_signature", "X-SPGW-Signature is missing");
		return -1;
	}
	if (parse_signature(r->h_signature, alg_name, &sig, &sig_len)) {
		sim_answer_error(a, 401, "bad_signature",
				 "X-SPGW-Signature must be \"alg=<alg>, sig=<base64>\"");
		goto out;
	}
	if (sim_alg_parse(alg_name, &alg) || alg != gw->alg) {
		sim_answer_error(a, 401, "bad_signature",
				 "X-SPGW-Signature names alg %.31s but gateway %s is registered "
				 "with a %s key", alg_name, gw->id, sim_alg_name(gw->alg));
		goto out;
	}
	/* §1: seven lines joined by \n, no trailing newline; a missing nonce is an empty line
	 * here and refused at the nonce check if the signature holds */
	n = strlen(r->method) + strlen(r->target) + strlen(r->h_gateway) +
	    strlen(r->h_timestamp) + (r->h_nonce ? strlen(r->h_nonce) : 0) + strlen(r->h_digest) +
	    16;
	msg = spgw_malloc(n);
	if (!msg) {
		sim_answer_error(a, 500, "unavailable", "out of memory");
		goto out;
	}
	n = (size_t)snprintf(msg, n, "SPGW1\n%s\n%s\n%s\n%s\n%s\n%s", r->method, r->target,
			     r->h_gateway, r->h_timestamp, r->h_nonce ? r->h_nonce : "",
			     r->h_digest);
	if (!sim_verify(gw->key, gw->alg, msg, n, sig, sig_len)) {
		sim_answer_error(a, 401, "bad_signature",
				 "the signature does not verify with gateway %s's registered %s "
				 "key over the seven lines of PROTOCOL.md §1 (method %s, target "
				 "%.200s)", gw->id, sim_alg_name(gw->alg), r->method, r->target);
		goto out;
	}
	ok = 0;
out:
	spgw_free(msg);
	spgw_free(sig);
	return ok;
}

static int is_nonce(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[32] == '\0';
}

static int check_nonce(struct sim_server *s, const struct sim_gateway *gw,
		       const struct sim_request *r, struct sim_answer *a)
{
	struct spgw_error err;
	int fresh;

	if (!r->h_nonce || !is_nonce(r->h_nonce)) {
		sim_answer_error(a, 401, "bad_signature",
				 "X-SPGW-Nonce must be exactly 32 lowercase hex digits");
		return -1;
	}
	memset(&err, 0, sizeof(err));
	fresh = sim_store_nonce_use(s->store, gw->id, r->h_nonce, r->now, &err);
	if (fresh < 0) {
		sim_answer_error(a, 500, "unavailable", "the store failed: %s", err.text);
		return -1;
	}
	if (!fresh) {
		sim_answer_error(a, 409, "replay",
				 "nonce %s was already used by gateway %s in the last %d s; sign "
				 "the request again with a fresh nonce", r->h_nonce, gw->id,
				 SIM_NONCE_WINDOW);
		return -1;
	}
	return 0;
}

int sim_auth_verify(struct sim_server *s, const struct sim_gateway *gw,
		    const struct sim_request *r, struct sim_answer *a)
{
	if (check_digest(gw, r, a) || check_signature(gw, r, a) || check_nonce(s, gw, r, a))
		return -1;
	return 0;
}
