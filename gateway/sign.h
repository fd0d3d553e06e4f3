/*
 * Signing: the gateway's key pair, request signatures and receipt verification, exactly as
 * PROTOCOL.md §1 and §2 say, on OpenSSL 3 EVP. Three algorithms: sm2-sm3 (the default; signer
 * id 1234567812345678, set explicitly because OpenSSL defaults to an empty id),
 * ecdsa-p256-sha256 and ed25519. Private key bytes never leave this module: nothing here logs,
 * prints or returns them.
 */
#ifndef SPGW_SIGN_H
#define SPGW_SIGN_H

#include <stddef.h>
#include <time.h>

#include "canonical.h"
#include "error.h"

enum spgw_sign_alg {
	SPGW_SIGN_SM2_SM3 = 0,
	SPGW_SIGN_ECDSA_P256_SHA256 = 1,
	SPGW_SIGN_ED25519 = 2,
};

/* "sm2-sm3", "ecdsa-p256-sha256", "ed25519". */
const char *spgw_sign_alg_name(enum spgw_sign_alg alg);
/* Parse one of those names; SPGW_E_CONFIG naming the accepted ones otherwise. */
enum spgw_rc spgw_sign_alg_parse(const char *name, enum spgw_sign_alg *alg,
				 struct spgw_error *err);
/* The digest an algorithm pairs with (PROTOCOL.md §5): SM3 for sm2-sm3, SHA-256 otherwise. */
enum spgw_digest_alg spgw_sign_alg_digest(enum spgw_sign_alg alg);

/* A public or private key and the algorithm it signs with. */
struct spgw_key;

/*
 * Generate a key pair: the private key as PKCS#8 PEM at `priv_path`, created with mode 0600
 * and O_EXCL (an existing file is never overwritten: SPGW_E_STATE saying so), and the public
 * key as SubjectPublicKeyInfo PEM at `pub_path` (mode 0644, replaced if present). Both files
 * are fsynced. On failure nothing half-written is left behind.
 */
enum spgw_rc spgw_key_generate(enum spgw_sign_alg alg, const char *priv_path,
			       const char *pub_path, struct spgw_error *err);

/*
 * Load a private key PEM. Refuses (SPGW_E_STATE) a file that group or others may read or
 * write, with a message naming the file, its mode and `chmod 600`; refuses a key that is
 * none of the three algorithms (SPGW_E_CRYPTO). *out is new, released with spgw_key_free().
 */
enum spgw_rc spgw_key_load_private(const char *path, struct spgw_key **out,
				   struct spgw_error *err);
/* Load a public key PEM (SubjectPublicKeyInfo). *out is new (spgw_key_free). */
enum spgw_rc spgw_key_load_public(const char *path, struct spgw_key **out,
				  struct spgw_error *err);
/* Read a public key from PEM text in memory. *out is new (spgw_key_free). */
enum spgw_rc spgw_key_from_public_pem(const char *pem, size_t len, struct spgw_key **out,
				      struct spgw_error *err);
void spgw_key_free(struct spgw_key *k);
enum spgw_sign_alg spgw_key_alg(const struct spgw_key *k);
/* The public half as PEM text: new string (spgw_free), NULL when out of memory. */
char *spgw_key_public_pem(const struct spgw_key *k);

/*
 * Sign `msg` with a private key: for sm2-sm3 and ecdsa-p256-sha256 a DER (r,s) signature
 * over the message with the paired digest, for ed25519 the raw 64-byte pure signature.
 * *sig is new (spgw_free), *sig_len its length.
 */
enum spgw_rc spgw_sign(const struct spgw_key *k, const void *msg, size_t n, unsigned char **sig,
		       size_t *sig_len, struct spgw_error *err);
/* Verify: SPGW_OK when the signature is good, SPGW_E_CRYPTO ("signature does not verify")
 * when it is not or cannot be parsed. */
enum spgw_rc spgw_verify(const struct spgw_key *k, const void *msg, size_t n,
			 const unsigned char *sig, size_t sig_len, struct spgw_error *err);

/* Standard base64 with padding. Returns a new NUL-terminated string (spgw_free) or NULL. */
char *spgw_base64_encode(const void *p, size_t n);
/* Strict decode (padding required, no white space): *out new (spgw_free). SPGW_E_INVALID on
 * any other input. */
enum spgw_rc spgw_base64_decode(const char *s, unsigned char **out, size_t *n,
				struct spgw_error *err);

/* `n` random bytes from OpenSSL's CSPRNG as lowercase hex into `hex` (2n+1 bytes). */
enum spgw_rc spgw_random_hex(size_t n, char *hex, struct spgw_error *err);

/* The headers of one signed request (PROTOCOL.md §1), values only. */
struct spgw_request_auth {
	char timestamp[24];       /* X-SPGW-Timestamp */
	char nonce[33];           /* X-SPGW-Nonce: 32 lowercase hex */
	char content_digest[64];  /* X-SPGW-Content-Digest: "sm3=<b64>" / "sha-256=<b64>" */
	char signature[160];      /* X-SPGW-Signature: "alg=<alg>, sig=<b64>" */
};

/*
 * Sign one request: digest `body` (the bytes before any Content-Encoding; NULL/0 for GET)
 * with the key's paired digest, pick a fresh nonce, and sign the seven-line string
 * "SPGW1\n<method>\n<path_query>\n<gateway_id>\n<timestamp>\n<nonce>\n<content digest>"
 * at time `now`.
 */
enum spgw_rc spgw_sign_request(const struct spgw_key *k, const char *gateway_id,
			       const char *method, const char *path_query, const void *body,
			       size_t body_len, time_t now, struct spgw_request_auth *out,
			       struct spgw_error *err);

/* The same with the X-SPGW-Content-Digest value already computed (a batch resent keeps its
 * digest); it must pair with the key's algorithm (SPGW_E_INVALID otherwise). */
enum spgw_rc spgw_sign_request_digest(const struct spgw_key *k, const char *gateway_id,
				      const char *method, const char *path_query,
				      const char *content_digest, time_t now,
				      struct spgw_request_auth *out, struct spgw_error *err);

/* The content digest header value of `body` with `alg`: "sm3=<b64>" or "sha-256=<b64>". */
enum spgw_rc spgw_content_digest(enum spgw_digest_alg alg, const void *body, size_t len,
				 char out[64], struct spgw_error *err);

/* A receipt as it arrives in a 200 answer (PROTOCOL.md §2). Strings borrowed. */
struct spgw_receipt {
	const char *batch_id;
	const char *received_at;
	const char *content_digest;
	long long accepted, duplicate, rejected;
	const char *alg; /* must match the national key's algorithm */
	const char *sig; /* base64 */
};

/*
 * Verify a receipt's signature with the national platform's public key over
 * "SPGW1-RECEIPT\n<batch_id>\n<received_at>\n<content_digest>\n<accepted>\n<duplicate>\n
 * <rejected>". SPGW_E_CRYPTO with a message saying which part is wrong (algorithm that is
 * not the key's, signature not base64, signature does not verify).
 */
enum spgw_rc spgw_receipt_verify(const struct spgw_key *national, const struct spgw_receipt *r,
				 struct spgw_error *err);

#endif
