/*
 * A record's canonical form and digest, exactly as PROTOCOL.md §2 and §5: keys sorted by code
 * point, compact, strings with only the escapes JSON requires (RFC 8785), integers in plain
 * digits, other numbers as the shortest round-trip decimal in plain notation.
 */
#ifndef SPGW_CANONICAL_H
#define SPGW_CANONICAL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

enum spgw_digest_alg {
	SPGW_DIGEST_SM3 = 0,    /* default; pairs with sm2-sm3 signatures */
	SPGW_DIGEST_SHA256 = 1, /* pairs with ecdsa-p256-sha256 and ed25519 */
};

/*
 * Append the canonical form of `v` to `out`. SPGW_E_INVALID (message names the member path)
 * for a number outside the canonical range (|integral| >= 2^53, magnitude < 1e-6 or >= 1e21
 * for non-integers, NaN, infinity), a string with invalid UTF-8 or a lone surrogate, or
 * nesting deeper than SPGW_MAX_JSON_DEPTH.
 */
enum spgw_rc spgw_canonical(const json_t *v, struct spgw_buf *out, struct spgw_error *err);

/* "sm3" or "sha-256": the name used in record digests ("sm3:<hex>") and content digests. */
const char *spgw_digest_name(enum spgw_digest_alg alg);
/* Parse "sm3" / "sha-256"; SPGW_E_CONFIG when unknown. */
enum spgw_rc spgw_digest_parse(const char *name, enum spgw_digest_alg *alg,
			       struct spgw_error *err);

/* Lowercase hex digest of `n` bytes into `hex` (65 bytes: 64 digits and a NUL). */
enum spgw_rc spgw_digest_hex(enum spgw_digest_alg alg, const void *p, size_t n, char hex[65],
			     struct spgw_error *err);
/* Raw digest (32 bytes for both algorithms). */
enum spgw_rc spgw_digest_raw(enum spgw_digest_alg alg, const void *p, size_t n,
			     unsigned char md[32], struct spgw_error *err);

#endif
