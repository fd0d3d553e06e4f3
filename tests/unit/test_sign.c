/*
 * Unit tests for signing (gateway/sign.c) and the key files (gateway/keys.c). Every test
 * works in its own temporary directory (mkdtemp) and removes it.
 *
 * What the code under test produces is checked by other means wherever it can be: signed
 * strings are built here with snprintf, digests computed with EVP_Digest, signatures
 * verified with raw EVP calls and, when the `openssl` program is on PATH, by the openssl
 * command line in both directions (its absence is reported and those checks are skipped).
 * The signature vectors in tests/vectors/signing, made with the openssl command line alone,
 * are checked last; their folder is found through SPGW_SOURCE_ROOT and must be there.
 */
/* nftw() removes the temporary directories: an XSI function */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <jansson.h>

#include "canonical.h"
#include "keys.h"
#include "mem.h"
#include "scratch.h"
#include "sign.h"

#define SM2_ID "1234567812345678"

static const enum spgw_sign_alg algs[] = {
	SPGW_SIGN_SM2_SM3,
	SPGW_SIGN_ECDSA_P256_SHA256,
	SPGW_SIGN_ED25519,
};

/* ---- temporary directories and files ---- */

static void setup(void)
{
	scratch_make("spgw-sign");
}

static void teardown(void)
{
	scratch_remove();
}

static void spit(const char *file, const void *p, size_t n, mode_t mode)
{
	FILE *f = fopen(file, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(file, mode), 0);
}

static mode_t mode_of(const char *file)
{
	struct stat st;

	ck_assert_int_eq(stat(file, &st), 0);
	return st.st_mode & 07777;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Generate a pair named <stem>.key/<stem>.pub in scratch_dir and load both halves. */
static void make_pair(enum spgw_sign_alg alg, const char *stem, struct spgw_key **priv,
		      struct spgw_key **pub)
{
	char kname[64], pname[64];
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	snprintf(kname, sizeof(kname), "%s.key", stem);
	snprintf(pname, sizeof(pname), "%s.pub", stem);
	ck_assert_msg(spgw_key_generate(alg, scratch_path(kname), scratch_path(pname), &err) ==
			      SPGW_OK,
		      "%s", err.text);
	ck_assert_msg(spgw_key_load_private(scratch_path(kname), priv, &err) == SPGW_OK, "%s",
		      err.text);
	if (pub)
		ck_assert_msg(spgw_key_load_public(scratch_path(pname), pub, &err) == SPGW_OK, "%s",
			      err.text);
}

/* ---- independent checks with raw EVP ---- */

static EVP_PKEY *raw_load(const char *file, int private)
{
	FILE *f = fopen(file, "r");
	EVP_PKEY *k;

	ck_assert_ptr_nonnull(f);
	if (private)
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	else
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

/*
 * Sign or verify with raw EVP as OpenSSL's SM2(7) shows it; `id` NULL leaves OpenSSL's
 * default (empty) SM2 id. For sign, *sig (malloc) and *len are set; returns 1 on success.
 */
static int raw_sigver(EVP_PKEY *k, const char *md, const char *id, int sign, const void *msg,
		      size_t n, unsigned char **sig, size_t *len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok;

	if (id) {
		pc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
		ck_assert_int_eq(EVP_PKEY_CTX_set1_id(pc, id, strlen(id)), 1);
		EVP_MD_CTX_set_pkey_ctx(m, pc);
	}
	if (sign) {
		*len = (size_t)EVP_PKEY_get_size(k);
		*sig = malloc(*len);
		ok = EVP_DigestSignInit_ex(m, NULL, md, NULL, NULL, k, NULL) == 1 &&
		     EVP_DigestSign(m, *sig, len, msg, n) == 1;
	} else {
		ok = EVP_DigestVerifyInit_ex(m, NULL, md, NULL, NULL, k, NULL) == 1 &&
		     EVP_DigestVerify(m, *sig, *len, msg, n) == 1;
	}
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	return ok;
}

static const char *raw_md(enum spgw_sign_alg alg)
{
	return alg == SPGW_SIGN_SM2_SM3 ? "SM3" : alg == SPGW_SIGN_ED25519 ? NULL : "SHA256";
}

/* ---- names ---- */

START_TEST(alg_names)
{
	struct spgw_error err;
	enum spgw_sign_alg a;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		ck_assert_int_eq(spgw_sign_alg_parse(spgw_sign_alg_name(algs[i]), &a, NULL),
				 SPGW_OK);
		ck_assert_int_eq(a, algs[i]);
	}
	ck_assert_str_eq(spgw_sign_alg_name(SPGW_SIGN_SM2_SM3), "sm2-sm3");
	ck_assert_str_eq(spgw_sign_alg_name(SPGW_SIGN_ECDSA_P256_SHA256), "ecdsa-p256-sha256");
	ck_assert_str_eq(spgw_sign_alg_name(SPGW_SIGN_ED25519), "ed25519");
	ck_assert_int_eq(spgw_sign_alg_digest(SPGW_SIGN_SM2_SM3), SPGW_DIGEST_SM3);
	ck_assert_int_eq(spgw_sign_alg_digest(SPGW_SIGN_ECDSA_P256_SHA256), SPGW_DIGEST_SHA256);
	ck_assert_int_eq(spgw_sign_alg_digest(SPGW_SIGN_ED25519), SPGW_DIGEST_SHA256);
	memset(&err, 0, sizeof(err));
	a = SPGW_SIGN_ED25519;
	ck_assert_int_eq(spgw_sign_alg_parse("SM2-SM3", &a, &err), SPGW_E_CONFIG);
	ck_assert_int_eq(a, SPGW_SIGN_ED25519);
	ck_assert_ptr_nonnull(strstr(err.text, "ecdsa-p256-sha256"));
	ck_assert_int_eq(spgw_sign_alg_parse(NULL, &a, NULL), SPGW_E_CONFIG);
}
END_TEST

/* ---- keys and signatures ---- */

START_TEST(round_trip)
{
	enum spgw_sign_alg alg = algs[_i];
	static const char msg[] = "SPGW1\nPOST\n/spgl/v3/batches\n220000-01\n1\n00\nsm3=x";
	struct spgw_key *priv = NULL, *pub = NULL, *mem = NULL, *other = NULL;
	unsigned char *sig = NULL, *sig2 = NULL;
	size_t len = 0, len2 = 0, n = 0;
	struct spgw_error err;
	char bad[sizeof(msg)], *text, *pem;

	make_pair(alg, "k", &priv, &pub);
	ck_assert_int_eq(mode_of(scratch_path("k.key")), 0600);
	ck_assert_int_eq(mode_of(scratch_path("k.pub")), 0644);
	ck_assert_int_eq(entries(scratch_dir), 2); /* no temporary file left behind */
	text = scratch_slurp(scratch_path("k.key"), NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28), "%.40s", text);
	free(text);
	text = scratch_slurp(scratch_path("k.pub"), &n);
	ck_assert_msg(!strncmp(text, "-----BEGIN PUBLIC KEY-----\n", 27), "%.40s", text);
	ck_assert_int_eq(spgw_key_alg(priv), alg);
	ck_assert_int_eq(spgw_key_alg(pub), alg);

	/* the public half, however obtained, is the file's text */
	pem = spgw_key_public_pem(priv);
	ck_assert_str_eq(pem, text);
	spgw_free(pem);
	ck_assert_int_eq(spgw_key_from_public_pem(text, n, &mem, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_key_alg(mem), alg);
	free(text);

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_sign(priv, msg, strlen(msg), &sig, &len, &err) == SPGW_OK, "%s",
		      err.text);
	if (alg == SPGW_SIGN_ED25519)
		ck_assert_uint_eq(len, 64);
	else
		ck_assert_uint_eq(sig[0], 0x30); /* DER SEQUENCE */
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_verify(mem, msg, strlen(msg), sig, len, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_verify(priv, msg, strlen(msg), sig, len, NULL), SPGW_OK);

	/* a second signature is good too (SM2 and ECDSA are randomised, Ed25519 is not) */
	ck_assert_int_eq(spgw_sign(priv, msg, strlen(msg), &sig2, &len2, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig2, len2, NULL), SPGW_OK);

	/* one changed byte in the message */
	memcpy(bad, msg, sizeof(msg));
	bad[6] = 'G';
	ck_assert_int_eq(spgw_verify(pub, bad, strlen(bad), sig, len, &err), SPGW_E_CRYPTO);
	ck_assert_ptr_nonnull(strstr(err.text, "does not verify"));
	/* one byte fewer */
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg) - 1, sig, len, NULL), SPGW_E_CRYPTO);
	/* one changed byte in the signature, then a cut one, then none */
	sig[len - 1] ^= 0x01;
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_E_CRYPTO);
	sig[len - 1] ^= 0x01;
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len - 1, NULL), SPGW_E_CRYPTO);
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, 0, NULL), SPGW_E_CRYPTO);
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_OK);

	/* another key of the same algorithm */
	make_pair(alg, "other", &other, NULL);
	ck_assert_int_eq(spgw_verify(other, msg, strlen(msg), sig, len, NULL), SPGW_E_CRYPTO);

	/* a public key cannot sign */
	spgw_free(sig2);
	sig2 = NULL;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_sign(pub, msg, strlen(msg), &sig2, &len2, &err), SPGW_E_CRYPTO);
	ck_assert_ptr_null(sig2);
	ck_assert_ptr_nonnull(strstr(err.text, "public key"));

	/* the empty message */
	ck_assert_int_eq(spgw_sign(priv, NULL, 0, &sig2, &len2, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_verify(pub, "", 0, sig2, len2, NULL), SPGW_OK);

	spgw_free(sig);
	spgw_free(sig2);
	spgw_key_free(priv);
	spgw_key_free(pub);
	spgw_key_free(mem);
	spgw_key_free(other);
}
END_TEST

/* Keys of one algorithm do not verify another's signatures. */
START_TEST(cross_algorithm)
{
	struct spgw_key *k[3], *p[3];
	unsigned char *sig;
	size_t len, i, j;
	char stem[8];

	for (i = 0; i < 3; i++) {
		snprintf(stem, sizeof(stem), "k%zu", i);
		make_pair(algs[i], stem, &k[i], &p[i]);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(spgw_sign(k[i], "m", 1, &sig, &len, NULL), SPGW_OK);
		for (j = 0; j < 3; j++)
			ck_assert_int_eq(spgw_verify(p[j], "m", 1, sig, len, NULL),
					 i == j ? SPGW_OK : SPGW_E_CRYPTO);
		spgw_free(sig);
	}
	for (i = 0; i < 3; i++) {
		spgw_key_free(k[i]);
		spgw_key_free(p[i]);
	}
}
END_TEST

/*
 * SM2 signer id: a signature made with the protocol's id verifies, one made with another id
 * or with OpenSSL's default empty id does not; and what spgw_sign makes verifies only with
 * the protocol's id.
 */
START_TEST(sm2_signer_id)
{
	static const char msg[] = "SPGW1-RECEIPT\nb\n2026-11-22T12:00:00Z\nsm3=x\n1\n0\n0";
	struct spgw_key *priv = NULL, *pub = NULL;
	unsigned char *sig = NULL;
	size_t len = 0;
	EVP_PKEY *raw, *rawpub;

	make_pair(SPGW_SIGN_SM2_SM3, "sm2", &priv, &pub);
	raw = raw_load(scratch_path("sm2.key"), 1);
	rawpub = raw_load(scratch_path("sm2.pub"), 0);

	ck_assert(raw_sigver(raw, "SM3", SM2_ID, 1, msg, strlen(msg), &sig, &len));
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_OK);
	free(sig);
	ck_assert(raw_sigver(raw, "SM3", "1234567812345679", 1, msg, strlen(msg), &sig, &len));
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_E_CRYPTO);
	free(sig);
	ck_assert(raw_sigver(raw, "SM3", NULL, 1, msg, strlen(msg), &sig, &len));
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), sig, len, NULL), SPGW_E_CRYPTO);
	free(sig);

	ck_assert_int_eq(spgw_sign(priv, msg, strlen(msg), &sig, &len, NULL), SPGW_OK);
	ck_assert(raw_sigver(rawpub, "SM3", SM2_ID, 0, msg, strlen(msg), &sig, &len));
	ck_assert(!raw_sigver(rawpub, "SM3", "1234567812345679", 0, msg, strlen(msg), &sig,
			      &len));
	ck_assert(!raw_sigver(rawpub, "SM3", NULL, 0, msg, strlen(msg), &sig, &len));
	spgw_free(sig);

	EVP_PKEY_free(raw);
	EVP_PKEY_free(rawpub);
	spgw_key_free(priv);
	spgw_key_free(pub);
}
END_TEST

/* A private key others may read or write is refused, with the fix in the message. */
START_TEST(key_mode_refused)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0660, 0602, 0601, 0610 };
	struct spgw_key *k = NULL;
	struct spgw_error err;
	char want[512];
	size_t i;

	make_pair(SPGW_SIGN_SM2_SM3, "g", &k, NULL);
	spgw_key_free(k);
	k = NULL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(scratch_path("g.key"), bad[i]), 0);
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(spgw_key_load_private(scratch_path("g.key"), &k, &err),
				 SPGW_E_STATE);
		ck_assert_ptr_null(k);
		ck_assert_str_eq(err.source, scratch_path("g.key"));
		snprintf(want, sizeof(want), "mode %04o lets others", (unsigned)bad[i]);
		ck_assert_msg(strstr(err.text, want), "%s", err.text);
		snprintf(want, sizeof(want), "run chmod 600 %s", scratch_path("g.key"));
		ck_assert_msg(strstr(err.text, want), "%s", err.text);
	}
	ck_assert_int_eq(chmod(scratch_path("g.key"), 0644), 0);
	memset(&err, 0, sizeof(err));
	spgw_key_load_private(scratch_path("g.key"), &k, &err);
	ck_assert_msg(strstr(err.text, "mode 0644 lets others read the private key"), "%s",
		      err.text);
	ck_assert_int_eq(chmod(scratch_path("g.key"), 0400), 0);
	ck_assert_int_eq(spgw_key_load_private(scratch_path("g.key"), &k, NULL), SPGW_OK);
	spgw_key_free(k);
}
END_TEST

/* An existing private key is never replaced, and nothing else is written either. */
START_TEST(existing_key_kept)
{
	static const char sentinel[] = "not a key, but someone's file\n";
	struct spgw_error err;
	char *text;
	size_t i;

	spit(scratch_path("gateway.key"), sentinel, strlen(sentinel), 0600);
	for (i = 0; i < 3; i++) {
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(spgw_key_generate(algs[i], scratch_path("gateway.key"),
						   scratch_path("gateway.pub"), &err),
				 SPGW_E_STATE);
		ck_assert_str_eq(err.source, scratch_path("gateway.key"));
		ck_assert_msg(strstr(err.text, "already there") && strstr(err.text, "--force"),
			      "%s", err.text);
	}
	text = scratch_slurp(scratch_path("gateway.key"), NULL);
	ck_assert_str_eq(text, sentinel);
	free(text);
	ck_assert_int_eq(mode_of(scratch_path("gateway.key")), 0600);
	ck_assert_int_eq(access(scratch_path("gateway.pub"), F_OK), -1);
	ck_assert_int_eq(entries(scratch_dir), 1);

	/* a dangling link counts as "there" too */
	ck_assert_int_eq(symlink(scratch_path("nowhere"), scratch_path("link.key")), 0);
	ck_assert_int_eq(spgw_key_generate(SPGW_SIGN_ED25519, scratch_path("link.key"),
					   scratch_path("link.pub"), NULL),
			 SPGW_E_STATE);
	ck_assert_int_eq(access(scratch_path("nowhere"), F_OK), -1);

	/* the same name twice, or a missing directory: refused, nothing left */
	ck_assert_int_eq(
		spgw_key_generate(SPGW_SIGN_ED25519, scratch_path("x"), scratch_path("x"), NULL),
		SPGW_E_CONFIG);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_key_generate(SPGW_SIGN_ED25519, scratch_path("x.key"),
					   scratch_path("missing/x.pub"), &err),
			 SPGW_E_IO);
	ck_assert_int_eq(entries(scratch_dir), 2);
}
END_TEST

/* A key of another kind, or no key at all, is refused naming the file and what it holds. */
START_TEST(wrong_key_type)
{
	struct spgw_key *k = NULL;
	struct spgw_error err;
	EVP_PKEY *rsa, *p384;
	FILE *f;
	char *pem;
	size_t n;

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	ck_assert_ptr_nonnull(rsa);
	ck_assert_ptr_nonnull(p384);
	f = fopen(scratch_path("rsa.key"), "w");
	ck_assert(PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	f = fopen(scratch_path("rsa.pub"), "w");
	ck_assert(PEM_write_PUBKEY(f, rsa));
	fclose(f);
	f = fopen(scratch_path("p384.key"), "w");
	ck_assert(PEM_write_PrivateKey(f, p384, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	ck_assert_int_eq(chmod(scratch_path("rsa.key"), 0600), 0);
	ck_assert_int_eq(chmod(scratch_path("p384.key"), 0600), 0);

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_key_load_private(scratch_path("rsa.key"), &k, &err), SPGW_E_CRYPTO);
	ck_assert_ptr_null(k);
	ck_assert_str_eq(err.source, scratch_path("rsa.key"));
	ck_assert_msg(strstr(err.text, "RSA key") && strstr(err.text, "SM2"), "%s", err.text);

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_key_load_public(scratch_path("rsa.pub"), &k, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "RSA key"), "%s", err.text);
	pem = scratch_slurp(scratch_path("rsa.pub"), &n);
	ck_assert_int_eq(spgw_key_from_public_pem(pem, n, &k, NULL), SPGW_E_CRYPTO);
	free(pem);

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_key_load_private(scratch_path("p384.key"), &k, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "EC key on curve secp384r1"), "%s", err.text);

	/* not a key at all; a public key where the private one belongs; nothing there */
	spit(scratch_path("junk.key"), "hello\n", 6, 0600);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_key_load_private(scratch_path("junk.key"), &k, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "no private key"), "%s", err.text);
	ck_assert_int_eq(chmod(scratch_path("rsa.pub"), 0600), 0);
	ck_assert_int_eq(spgw_key_load_private(scratch_path("rsa.pub"), &k, NULL), SPGW_E_CRYPTO);
	ck_assert_int_eq(spgw_key_load_public(scratch_path("junk.key"), &k, NULL), SPGW_E_CRYPTO);
	ck_assert_int_eq(spgw_key_load_private(scratch_path("absent.key"), &k, NULL),
			 SPGW_E_NOTFOUND);
	ck_assert_int_eq(spgw_key_load_public(scratch_path("absent.pub"), &k, NULL),
			 SPGW_E_NOTFOUND);
	ck_assert_ptr_null(k);

	/* an encrypted key is refused without asking a terminal for its passphrase */
	f = fopen(scratch_path("enc.key"), "w");
	ck_assert(PEM_write_PKCS8PrivateKey(f, p384, EVP_aes_128_cbc(), "pass", 4, NULL, NULL));
	fclose(f);
	ck_assert_int_eq(chmod(scratch_path("enc.key"), 0600), 0);
	ck_assert_int_eq(spgw_key_load_private(scratch_path("enc.key"), &k, NULL), SPGW_E_CRYPTO);

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}
END_TEST

/* ---- base64, random, digests ---- */

START_TEST(base64_vectors)
{
	/* RFC 4648 §10 */
	static const char *const v[][2] = {
		{ "", "" },	    { "f", "Zg==" },	     { "fo", "Zm8=" },
		{ "foo", "Zm9v" },  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const unsigned char bin[] = { 0x00, 0xff, 0xfe, 0x3e, 0x3f, 0x80 };
	unsigned char *out;
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = spgw_base64_encode(v[i][0], strlen(v[i][0]));
		ck_assert_str_eq(s, v[i][1]);
		spgw_free(s);
		out = NULL;
		n = 99;
		ck_assert_int_eq(spgw_base64_decode(v[i][1], &out, &n, NULL), SPGW_OK);
		ck_assert_uint_eq(n, strlen(v[i][0]));
		ck_assert(!memcmp(out, v[i][0], n));
		spgw_free(out);
	}
	s = spgw_base64_encode(bin, sizeof(bin));
	ck_assert_str_eq(s, "AP/+Pj+A");
	ck_assert_int_eq(spgw_base64_decode(s, &out, &n, NULL), SPGW_OK);
	ck_assert_uint_eq(n, sizeof(bin));
	ck_assert(!memcmp(out, bin, n));
	spgw_free(out);
	spgw_free(s);
}
END_TEST

START_TEST(base64_strict)
{
	static const char *const bad[] = {
		"Zg",	      /* no padding */
		"Zg=",	      /* short padding */
		"Zm9",	      /* length */
		"Z===",	      /* three = */
		"====",	      /* padding only */
		"Zm9vYmFy====", /* a whole quantum of padding */
		"Zm=v",	      /* = inside */
		"Zg==Zg==",   /* = inside, after a quantum */
		"Zh==",	      /* bits set under the padding */
		"Zm9=",	      /* bits set under the padding */
		"Zm9v\n",     /* trailing newline */
		" Zm9v",      /* leading space */
		"Zm9v ",      /* trailing space */
		"Zm 9v",      /* inner space */
		"Zm 9",	      /* inner space, length a multiple of 4 */
		"Zm9\n",      /* newline, length a multiple of 4 */
		"\tZm9vYg=",  /* leading tab, length a multiple of 4 */
		"Zm9v\r\nYg==", /* CRLF, length a multiple of 4 */
		"Zm9v\r\nYmFy", /* line break */
		"Zm-v",	      /* URL-safe alphabet */
		"Zm_v",	      /* URL-safe alphabet */
		"Zm9v!A==",   /* not base64 */
		"Zm9v\xc3\xa9" "A=", /* non-ASCII */
	};
	struct spgw_error err;
	unsigned char *out;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		out = NULL;
		n = 99;
		ck_assert_msg(spgw_base64_decode(bad[i], &out, &n, &err) == SPGW_E_INVALID,
			      "accepted \"%s\"", bad[i]);
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(n, 99);
		ck_assert(err.text[0]);
	}
	ck_assert_int_eq(spgw_base64_decode(NULL, &out, &n, NULL), SPGW_E_INVALID);
}
END_TEST

START_TEST(random_hex)
{
	char a[33], b[33], big[2 * 200 + 1];
	size_t i;

	memset(a, 'x', sizeof(a));
	ck_assert_int_eq(spgw_random_hex(16, a, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_random_hex(16, b, NULL), SPGW_OK);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_str_ne(a, b);
	/* more than one chunk */
	ck_assert_int_eq(spgw_random_hex(200, big, NULL), SPGW_OK);
	ck_assert_uint_eq(strlen(big), 400);
	for (i = 0; i < 400; i++)
		ck_assert(strchr("0123456789abcdef", big[i]));
}
END_TEST

START_TEST(content_digests)
{
	char out[64];

	/* expected values from `openssl dgst -binary | base64` */
	ck_assert_int_eq(spgw_content_digest(SPGW_DIGEST_SM3, NULL, 0, out, NULL), SPGW_OK);
	ck_assert_str_eq(out, "sm3=GrIdg1XPoX+OYRlIMegajyK+yMco/vt0ftA161CCqis=");
	ck_assert_int_eq(spgw_content_digest(SPGW_DIGEST_SHA256, "", 0, out, NULL), SPGW_OK);
	ck_assert_str_eq(out, "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	ck_assert_int_eq(spgw_content_digest(SPGW_DIGEST_SM3, "hello", 5, out, NULL), SPGW_OK);
	ck_assert_str_eq(out, "sm3=vsu/quZUi4vwz8rVonGDzRvmCTsczszDA9nGHQpkUmg=");
}
END_TEST

/* ---- requests and receipts ---- */

/* "sm3=<b64>" / "sha-256=<b64>" of `body`, computed here with EVP alone. */
static void expected_digest(enum spgw_sign_alg alg, const char *body, size_t n, char *out)
{
	unsigned char md[32], b64[64];
	unsigned int len = 0;

	ck_assert(EVP_Digest(body ? body : "", n, md, &len,
			     alg == SPGW_SIGN_SM2_SM3 ? EVP_sm3() : EVP_sha256(), NULL));
	ck_assert_uint_eq(len, 32);
	EVP_EncodeBlock(b64, md, 32);
	sprintf(out, "%s=%s", alg == SPGW_SIGN_SM2_SM3 ? "sm3" : "sha-256", (char *)b64);
}

/* Decode the sig= part of a signature header with EVP alone. *sig malloc. */
static void header_sig(const char *header, enum spgw_sign_alg alg, unsigned char **sig,
		       size_t *len)
{
	char prefix[64];
	const char *b64;
	size_t n, pad;
	int got;

	snprintf(prefix, sizeof(prefix), "alg=%s, sig=", spgw_sign_alg_name(alg));
	ck_assert_msg(!strncmp(header, prefix, strlen(prefix)), "%s", header);
	b64 = header + strlen(prefix);
	n = strlen(b64);
	ck_assert_uint_eq(n % 4, 0);
	pad = n && b64[n - 1] == '=' ? (b64[n - 2] == '=' ? 2 : 1) : 0;
	*sig = malloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(*sig, (const unsigned char *)b64, (int)n);
	ck_assert_int_eq(got, (int)(n / 4 * 3));
	*len = (size_t)got - pad;
}

/* A precomputed content digest signs the same string as the body would, and one of the
 * other pairing (PROTOCOL.md §5) is refused. */
START_TEST(request_signing_with_digest)
{
	enum spgw_sign_alg alg = algs[_i];
	static const char body[] = "{\"records\":[]}";
	struct spgw_request_auth a;
	struct spgw_key *priv = NULL, *pub = NULL;
	struct spgw_error err;
	unsigned char *sig = NULL;
	char digest[64], want[512];
	size_t len = 0;

	make_pair(alg, "d", &priv, &pub);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_content_digest(spgw_sign_alg_digest(alg), body, strlen(body), digest,
					     &err),
			 SPGW_OK);
	ck_assert_int_eq(spgw_sign_request_digest(priv, "220000-01", "POST", "/b", digest, 1700000000,
						  &a, &err),
			 SPGW_OK);
	ck_assert_str_eq(a.content_digest, digest);
	snprintf(want, sizeof(want), "SPGW1\nPOST\n/b\n220000-01\n1700000000\n%s\n%s", a.nonce,
		 digest);
	ck_assert_ptr_nonnull(strstr(a.signature, "sig="));
	ck_assert_int_eq(spgw_base64_decode(strstr(a.signature, "sig=") + 4, &sig, &len, &err),
			 SPGW_OK);
	ck_assert_int_eq(spgw_verify(pub, want, strlen(want), sig, len, &err), SPGW_OK);
	spgw_free(sig);
	ck_assert_int_eq(spgw_sign_request_digest(priv, "220000-01", "POST", "/b",
						  alg == SPGW_SIGN_SM2_SM3 ? "sha-256=AAAA" : "sm3=AAAA",
						  1700000000, &a, NULL),
			 SPGW_E_INVALID);
	spgw_key_free(priv);
	spgw_key_free(pub);
}
END_TEST

START_TEST(request_signing)
{
	enum spgw_sign_alg alg = algs[_i];
	static const char body[] = "{\"batch_id\":\"01JD3Y8M6Q0000000000000000\",\"records\":[]}";
	static const char pq[] = "/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01"
				 "&to=2026-11-21";
	struct spgw_request_auth a, b;
	struct spgw_key *priv = NULL;
	struct spgw_error err;
	unsigned char *sig;
	char want[1024], digest[80];
	EVP_PKEY *pub;
	size_t len;

	make_pair(alg, "r", &priv, NULL);
	pub = raw_load(scratch_path("r.pub"), 0);
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_sign_request(priv, "220000-01", "POST", "/spgl/v3/batches", body,
					strlen(body), (time_t)1763812800, &a, &err) == SPGW_OK,
		      "%s", err.text);
	ck_assert_str_eq(a.timestamp, "1763812800");
	ck_assert_uint_eq(strlen(a.nonce), 32);
	ck_assert_uint_eq(strspn(a.nonce, "0123456789abcdef"), 32);
	expected_digest(alg, body, strlen(body), digest);
	ck_assert_str_eq(a.content_digest, digest);
	snprintf(want, sizeof(want), "SPGW1\nPOST\n/spgl/v3/batches\n220000-01\n1763812800\n%s\n%s",
		 a.nonce, digest);
	header_sig(a.signature, alg, &sig, &len);
	ck_assert_msg(raw_sigver(pub, raw_md(alg), alg == SPGW_SIGN_SM2_SM3 ? SM2_ID : NULL, 0,
				 want, strlen(want), &sig, &len),
		      "signature is not over:\n%s", want);
	/* not over the same string with a trailing newline, nor with another method */
	strcat(want, "\n");
	ck_assert(!raw_sigver(pub, raw_md(alg), alg == SPGW_SIGN_SM2_SM3 ? SM2_ID : NULL, 0,
			      want, strlen(want), &sig, &len));
	want[strlen(want) - 1] = '\0';
	memcpy(want + 6, "PUT ", 4);
	ck_assert(!raw_sigver(pub, raw_md(alg), alg == SPGW_SIGN_SM2_SM3 ? SM2_ID : NULL, 0,
			      want, strlen(want), &sig, &len));
	free(sig);

	/* a GET: empty body, fresh nonce */
	ck_assert_int_eq(spgw_sign_request(priv, "220000-01", "GET", pq, NULL, 0,
					   (time_t)1763812801, &b, NULL),
			 SPGW_OK);
	ck_assert_str_ne(a.nonce, b.nonce);
	expected_digest(alg, NULL, 0, digest);
	ck_assert_str_eq(b.content_digest, digest);
	snprintf(want, sizeof(want), "SPGW1\nGET\n%s\n220000-01\n1763812801\n%s\n%s", pq, b.nonce,
		 digest);
	header_sig(b.signature, alg, &sig, &len);
	ck_assert(raw_sigver(pub, raw_md(alg), alg == SPGW_SIGN_SM2_SM3 ? SM2_ID : NULL, 0, want,
			     strlen(want), &sig, &len));
	free(sig);

	/* what would make the string ambiguous is refused, and *out is left alone */
	memset(&b, 0x5a, sizeof(b));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_sign_request(priv, "220000 01", "GET", "/", NULL, 0, 1, &b, &err),
			 SPGW_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.text, "gateway id"));
	ck_assert_int_eq(spgw_sign_request(priv, "", "GET", "/", NULL, 0, 1, &b, NULL),
			 SPGW_E_CONFIG);
	ck_assert_int_eq(spgw_sign_request(priv, "g", "GET\nX", "/", NULL, 0, 1, &b, NULL),
			 SPGW_E_INVALID);
	ck_assert_int_eq(spgw_sign_request(priv, "g", "GET", "/a\nb", NULL, 0, 1, &b, NULL),
			 SPGW_E_INVALID);
	ck_assert_int_eq(spgw_sign_request(priv, "g", "GET", "/", NULL, 0, -1, &b, NULL),
			 SPGW_E_INVALID);
	ck_assert_uint_eq((unsigned char)b.nonce[0], 0x5a);

	EVP_PKEY_free(pub);
	spgw_key_free(priv);
}
END_TEST

/* Sign a receipt's string (built here) with `k`; the base64 signature is new (spgw_free). */
static char *sign_receipt(const struct spgw_key *k, const char *batch, long long acc,
			  long long dup, long long rej)
{
	unsigned char *sig;
	char text[512], *b64;
	size_t len;

	snprintf(text, sizeof(text),
		 "SPGW1-RECEIPT\n%s\n2026-11-22T12:00:00Z\nsm3=abc=\n%lld\n%lld\n%lld", batch, acc,
		 dup, rej);
	ck_assert_int_eq(spgw_sign(k, text, strlen(text), &sig, &len, NULL), SPGW_OK);
	b64 = spgw_base64_encode(sig, len);
	spgw_free(sig);
	return b64;
}

START_TEST(receipt_verify)
{
	struct spgw_key *nat = NULL, *natpub = NULL, *ed = NULL;
	struct spgw_receipt r;
	struct spgw_error err;
	char *b64, *edsig;

	make_pair(SPGW_SIGN_SM2_SM3, "national", &nat, &natpub);
	make_pair(SPGW_SIGN_ED25519, "ed", &ed, NULL);
	b64 = sign_receipt(nat, "01JD3Y8M6Q0000000000000000", 997, 1, 2);
	memset(&r, 0, sizeof(r));
	r.batch_id = "01JD3Y8M6Q0000000000000000";
	r.received_at = "2026-11-22T12:00:00Z";
	r.content_digest = "sm3=abc=";
	r.accepted = 997;
	r.duplicate = 1;
	r.rejected = 2;
	r.alg = "sm2-sm3";
	r.sig = b64;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_receipt_verify(natpub, &r, &err) == SPGW_OK, "%s", err.text);

	/* counts moved between fields */
	r.accepted = 999;
	r.rejected = 0;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "does not verify"), "%s", err.text);
	r.accepted = 997;
	r.rejected = 1;
	r.duplicate = 2;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	r.rejected = 2;
	r.duplicate = 1;
	r.received_at = "2026-11-22T12:00:01Z";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	r.received_at = "2026-11-22T12:00:00Z";
	r.batch_id = "01JD3Y8M6Q0000000000000001";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	r.batch_id = "01JD3Y8M6Q0000000000000000";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_OK);

	/* an algorithm that is not the national key's */
	memset(&err, 0, sizeof(err));
	r.alg = "ed25519";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "\"ed25519\"") && strstr(err.text, "sm2-sm3"), "%s",
		      err.text);
	r.alg = NULL;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	/* ... even with a good signature by a key of that algorithm */
	edsig = sign_receipt(ed, r.batch_id, 997, 1, 2);
	r.alg = "ed25519";
	r.sig = edsig;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	r.alg = "sm2-sm3";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);

	/* a signature that is not base64 */
	memset(&err, 0, sizeof(err));
	r.sig = "not base64!";
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, &err), SPGW_E_CRYPTO);
	ck_assert_msg(strstr(err.text, "not base64"), "%s", err.text);
	r.sig = NULL;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);
	r.sig = b64;
	r.batch_id = NULL;
	ck_assert_int_eq(spgw_receipt_verify(natpub, &r, NULL), SPGW_E_CRYPTO);

	spgw_free(b64);
	spgw_free(edsig);
	spgw_key_free(nat);
	spgw_key_free(natpub);
	spgw_key_free(ed);
}
END_TEST

/* ---- the openssl command line, both ways ---- */

static int have_openssl(void)
{
	return system("command -v openssl >/dev/null 2>&1") == 0;
}

/* Run a shell command; 1 when it exits 0. Its output goes to the test log on failure only. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

START_TEST(openssl_interop)
{
	enum spgw_sign_alg alg = algs[_i];
	static const char msg[] = "SPGW1\nGET\n/spgl/v3/keys?region=220100\n220000-01\n1\nab\n";
	const char *opts = alg == SPGW_SIGN_SM2_SM3 ? "-digest sm3 -pkeyopt distid:" SM2_ID
			   : alg == SPGW_SIGN_ECDSA_P256_SHA256 ? "-digest sha256"
								 : "";
	const char *gen = alg == SPGW_SIGN_SM2_SM3 ? "-algorithm SM2"
			  : alg == SPGW_SIGN_ECDSA_P256_SHA256
				  ? "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
				  : "-algorithm ED25519";
	struct spgw_key *priv = NULL, *pub = NULL, *cli = NULL, *clipub = NULL;
	struct spgw_error err;
	unsigned char *sig;
	char *cli_sig;
	size_t len;

	if (!have_openssl()) {
		printf("openssl_interop: skipped: no openssl program on PATH\n");
		return;
	}
	spit(scratch_path("msg"), msg, strlen(msg), 0644);

	/* ours, checked by openssl */
	make_pair(alg, "ours", &priv, &pub);
	ck_assert_int_eq(spgw_sign(priv, msg, strlen(msg), &sig, &len, NULL), SPGW_OK);
	spit(scratch_path("ours.sig"), sig, len, 0644);
	spgw_free(sig);
	ck_assert_msg(sh("openssl pkeyutl -verify -rawin %s -pubin -inkey %s -in %s -sigfile %s "
			 ">/dev/null",
			 opts, scratch_path("ours.pub"), scratch_path("msg"),
			 scratch_path("ours.sig")),
		      "openssl does not verify our %s signature", spgw_sign_alg_name(alg));
	/* openssl reads our private key and its signature verifies with our public key */
	ck_assert(sh("openssl pkeyutl -sign -rawin %s -inkey %s -in %s -out %s", opts,
		     scratch_path("ours.key"), scratch_path("msg"), scratch_path("ours.cli.sig")));
	cli_sig = scratch_slurp(scratch_path("ours.cli.sig"), &len);
	ck_assert_int_eq(spgw_verify(pub, msg, strlen(msg), (unsigned char *)cli_sig, len, NULL),
			 SPGW_OK);
	free(cli_sig);
	if (alg == SPGW_SIGN_SM2_SM3) {
		/* the id matters: with another one openssl refuses our signature */
		ck_assert(!sh("openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt "
			      "distid:1234567812345679 -pubin -inkey %s -in %s -sigfile %s "
			      ">/dev/null 2>&1",
			      scratch_path("ours.pub"), scratch_path("msg"),
			      scratch_path("ours.sig")));
		ck_assert(sh("openssl dgst -sm3 -sigopt distid:" SM2_ID " -verify %s -signature "
			     "%s %s >/dev/null",
			     scratch_path("ours.pub"), scratch_path("ours.sig"),
			     scratch_path("msg")));
	}

	/* openssl's key and signature, checked by us */
	ck_assert(sh("openssl genpkey %s -out %s 2>/dev/null", gen, scratch_path("cli.key")));
	ck_assert(sh("openssl pkey -in %s -pubout -out %s", scratch_path("cli.key"),
		     scratch_path("cli.pub")));
	ck_assert(sh("openssl pkeyutl -sign -rawin %s -inkey %s -in %s -out %s", opts,
		     scratch_path("cli.key"), scratch_path("msg"), scratch_path("cli.sig")));
	ck_assert_int_eq(chmod(scratch_path("cli.key"), 0600), 0);
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_key_load_private(scratch_path("cli.key"), &cli, &err) == SPGW_OK, "%s",
		      err.text);
	ck_assert_int_eq(spgw_key_alg(cli), alg);
	ck_assert_int_eq(spgw_key_load_public(scratch_path("cli.pub"), &clipub, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_key_alg(clipub), alg);
	cli_sig = scratch_slurp(scratch_path("cli.sig"), &len);
	ck_assert_int_eq(spgw_verify(clipub, msg, strlen(msg), (unsigned char *)cli_sig, len, NULL),
			 SPGW_OK);
	ck_assert_int_eq(spgw_verify(clipub, msg, strlen(msg) - 1, (unsigned char *)cli_sig, len,
				     NULL),
			 SPGW_E_CRYPTO);
	free(cli_sig);
	/* and what we sign with openssl's key, openssl verifies */
	ck_assert_int_eq(spgw_sign(cli, msg, strlen(msg), &sig, &len, NULL), SPGW_OK);
	spit(scratch_path("cli.ours.sig"), sig, len, 0644);
	spgw_free(sig);
	ck_assert(sh("openssl pkeyutl -verify -rawin %s -pubin -inkey %s -in %s -sigfile %s "
		     ">/dev/null",
		     opts, scratch_path("cli.pub"), scratch_path("msg"),
		     scratch_path("cli.ours.sig")));

	spgw_key_free(priv);
	spgw_key_free(pub);
	spgw_key_free(cli);
	spgw_key_free(clipub);
}
END_TEST

/* ---- the signature vectors (tests/vectors/signing; tests/vectors/README.md) ---- */

#ifndef SPGW_SOURCE_ROOT
#error "SPGW_SOURCE_ROOT must name the source tree"
#endif
#define VECTORS SPGW_SOURCE_ROOT "/tests/vectors/signing"

/*
 * The cases that must be there, with what a receiver answers. A folder lost in a merge would
 * otherwise just check nothing; folders beyond these are checked too.
 */
static const struct {
	const char *name;
	const char *expect;
} vector_cases[] = {
	{ "request-sm2-sm3", "ok" },
	{ "request-ecdsa-p256-sha256", "ok" },
	{ "request-ed25519", "ok" },
	{ "request-sm2-sm3-bad-signature", "bad_signature" },
	{ "request-ecdsa-p256-sha256-bad-signature", "bad_signature" },
	{ "request-ed25519-bad-signature", "bad_signature" },
	{ "request-sm2-sm3-empty-signer-id", "bad_signature" },
	{ "request-sm2-sm3-sha256-digest", "bad_digest" },
	{ "receipt-sm2-sm3", "ok" },
	{ "receipt-ecdsa-p256-sha256", "ok" },
	{ "receipt-ed25519", "ok" },
	{ "receipt-sm2-sm3-bad-signature", "bad_signature" },
	{ "receipt-sm2-sm3-empty-signer-id", "bad_signature" },
};
#define NVECTOR_CASES (sizeof(vector_cases) / sizeof(vector_cases[0]))

static void vec_path(const char *name, const char *file, char *out, size_t size)
{
	ck_assert_uint_lt((size_t)snprintf(out, size, "%s/%s/%s", VECTORS, name, file), size);
}

static int vec_has(const char *name, const char *file)
{
	char p[1024];

	vec_path(name, file, p, sizeof(p));
	return access(p, F_OK) == 0;
}

/* <case>/<file>, NUL-terminated (malloc); a file that cannot be read fails the test. */
static char *vec_file(const char *name, const char *file, size_t *n)
{
	char p[1024];
	char *s;

	vec_path(name, file, p, sizeof(p));
	s = scratch_slurp(p, n);
	ck_assert_msg(s != NULL, "cannot read %s: %s", p, strerror(errno));
	return s;
}

/* A one-value file: the value, then one newline, which is dropped (malloc). */
static char *vec_value(const char *name, const char *file)
{
	size_t n = 0;
	char *s = vec_file(name, file, &n);

	ck_assert_msg(n > 1 && s[n - 1] == '\n' && !memchr(s, '\n', n - 1),
		      "%s/%s: not one value on one line ending in a newline", name, file);
	s[n - 1] = '\0';
	return s;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The case folders, sorted (a malloc array of malloc names, NULL-terminated). A missing or
 * empty vector folder fails the test: these checks must not pass by finding nothing.
 */
static char **vec_cases(void)
{
	DIR *d = opendir(VECTORS);
	char **names = NULL, p[1024];
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;

	ck_assert_msg(d != NULL, "%s: %s; the signature vectors are missing", VECTORS,
		      strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", VECTORS, e->d_name);
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 32;
			names = realloc(names, cap * sizeof(*names));
			ck_assert_ptr_nonnull(names);
		}
		names[n] = strdup(e->d_name);
		ck_assert_ptr_nonnull(names[n]);
		n++;
	}
	closedir(d);
	ck_assert_msg(n > 0, "%s holds no case folders", VECTORS);
	qsort(names, n, sizeof(*names), name_cmp);
	names[n] = NULL;
	return names;
}

static void vec_cases_free(char **names)
{
	char **p;

	for (p = names; *p; p++)
		free(*p);
	free(names);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* The public key of a case, read from PEM text as the gateway reads the national key. */
static struct spgw_key *vec_public(const char *name)
{
	struct spgw_key *k = NULL;
	struct spgw_error err;
	size_t n = 0;
	char *pem = vec_file(name, "public.pem", &n);

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_key_from_public_pem(pem, n, &k, &err) == SPGW_OK, "%s/public.pem: %s",
		      name, err.text);
	free(pem);
	return k;
}

/* The raw public key of a case, for the checks with OpenSSL alone. */
static EVP_PKEY *vec_raw_public(const char *name)
{
	char p[1024];

	vec_path(name, "public.pem", p, sizeof(p));
	return raw_load(p, 0);
}

/* The empty-id cases hold a good SM2 signature, only under OpenSSL's default (empty) id. */
static void check_empty_id(const char *name, const char *msg, size_t n, unsigned char *sig,
			   size_t len)
{
	EVP_PKEY *raw = vec_raw_public(name);

	ck_assert_msg(raw_sigver(raw, "SM3", NULL, 0, msg, n, &sig, &len),
		      "%s: the signature does not verify with the empty SM2 id either", name);
	ck_assert(!raw_sigver(raw, "SM3", SM2_ID, 0, msg, n, &sig, &len));
	EVP_PKEY_free(raw);
}

/* The seven lines of §1 (malloc). */
static char *request_string(const char *method, const char *pq, const char *gw, const char *ts,
			    const char *nonce, const char *digest)
{
	size_t n = strlen(method) + strlen(pq) + strlen(gw) + strlen(ts) + strlen(nonce) +
		   strlen(digest) + sizeof("SPGW1\n\n\n\n\n\n");
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "SPGW1\n%s\n%s\n%s\n%s\n%s\n%s", method, pq, gw, ts, nonce, digest);
	return s;
}

/*
 * body.json is a batch body (§2, §5 "batch shape") of two records, each with the digest of
 * its data's canonical form under the digest `alg` pairs with.
 */
static void check_body(const char *name, const char *body, size_t n, enum spgw_digest_alg alg)
{
	json_error_t jerr;
	json_t *b = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
	json_t *records, *r;
	struct spgw_error err;
	struct spgw_buf canon;
	char hex[65], want[80];
	const char *digest;
	size_t i;

	ck_assert_msg(b != NULL, "%s/body.json: %s at line %d", name, jerr.text, jerr.line);
	ck_assert(json_is_string(json_object_get(b, "batch_id")));
	ck_assert_str_eq(json_string_value(json_object_get(b, "region")), "220100");
	ck_assert_str_eq(json_string_value(json_object_get(b, "schema")), "spgl-v3");
	ck_assert_str_eq(json_string_value(json_object_get(b, "table")), "SPGL_XMJBXXB");
	records = json_object_get(b, "records");
	ck_assert_msg(json_array_size(records) == 2, "%s/body.json: not 2 records", name);
	json_array_foreach(records, i, r) {
		ck_assert(json_is_string(json_object_get(r, "key")));
		ck_assert(json_is_string(json_object_get(r, "day")));
		ck_assert(json_is_object(json_object_get(r, "data")));
		spgw_buf_init(&canon, 1 << 20, "canonical form");
		memset(&err, 0, sizeof(err));
		ck_assert_msg(spgw_canonical(json_object_get(r, "data"), &canon, &err) == SPGW_OK,
			      "%s: records[%zu]: %s", name, i, err.text);
		ck_assert_int_eq(spgw_digest_hex(alg, canon.data, canon.len, hex, NULL), SPGW_OK);
		snprintf(want, sizeof(want), "%s:%s", spgw_digest_name(alg), hex);
		digest = json_string_value(json_object_get(r, "digest"));
		ck_assert_msg(digest && !strcmp(digest, want), "%s: records[%zu].digest is not %s",
			      name, i, want);
		spgw_buf_free(&canon);
	}
	ck_assert_str_ne(json_string_value(json_object_get(json_array_get(records, 0), "key")),
			 json_string_value(json_object_get(json_array_get(records, 1), "key")));
	json_decref(b);
}

/* One request case: returns 1 when the gateway's code finds it fully valid. */
static int check_request(const char *name)
{
	char *gw = vec_value(name, "gateway.txt"), *method = vec_value(name, "method.txt");
	char *pq = vec_value(name, "path.txt"), *ts = vec_value(name, "timestamp.txt");
	char *nonce = vec_value(name, "nonce.txt"), *cd = vec_value(name, "content-digest.txt");
	char *hdr = vec_value(name, "signature-header.txt");
	char *b64 = vec_value(name, "signature.b64"), *expect = vec_value(name, "expect.txt");
	size_t body_len = 0, signed_len = 0, sig_len = 0, ours_len = 0;
	char *body = vec_file(name, "body.json", &body_len);
	char *signed_txt = vec_file(name, "signed.txt", &signed_len);
	char want[256], stated[64], paired_digest[64], dname[16], *text;
	struct spgw_key *pub = vec_public(name), *priv = NULL, *mine = NULL;
	enum spgw_sign_alg alg = spgw_key_alg(pub);
	unsigned char *sig = NULL, *ours = NULL;
	struct spgw_request_auth a;
	enum spgw_digest_alg dalg;
	struct spgw_error err;
	const char *got, *eq;
	int paired, verified;

	memset(&err, 0, sizeof(err));
	/* no private key is published with the vectors: the gateway side signs with its own */
	make_pair(alg, name, &priv, &mine);

	/* X-SPGW-Signature is alg=<the key's algorithm>, sig=<signature.b64> */
	snprintf(want, sizeof(want), "alg=%s, sig=%s", spgw_sign_alg_name(alg), b64);
	ck_assert_msg(!strcmp(hdr, want), "%s: signature-header.txt is not \"%s\"", name, want);

	/* X-SPGW-Content-Digest is right for the body under the digest it names ... */
	eq = strchr(cd, '=');
	ck_assert_msg(eq && (size_t)(eq - cd) < sizeof(dname), "%s: content digest \"%s\"", name,
		      cd);
	snprintf(dname, sizeof(dname), "%.*s", (int)(eq - cd), cd);
	ck_assert_msg(spgw_digest_parse(dname, &dalg, &err) == SPGW_OK, "%s: %s", name,
		      err.text);
	ck_assert_int_eq(spgw_content_digest(dalg, body, body_len, stated, &err), SPGW_OK);
	ck_assert_msg(!strcmp(stated, cd), "%s: content-digest.txt is not %s", name, stated);
	/* ... and that digest pairs with the signature algorithm, or the receiver answers 400 */
	ck_assert_int_eq(spgw_content_digest(spgw_sign_alg_digest(alg), body, body_len,
					     paired_digest, &err),
			 SPGW_OK);
	paired = !strcmp(paired_digest, cd);

	/* signed.txt is the seven lines built from the parts */
	text = request_string(method, pq, gw, ts, nonce, cd);
	ck_assert_msg(strlen(text) == signed_len && !memcmp(text, signed_txt, signed_len),
		      "%s: signed.txt is not\n%s", name, text);
	free(text);

	check_body(name, body, body_len, spgw_sign_alg_digest(alg));

	ck_assert_msg(spgw_base64_decode(b64, &sig, &sig_len, &err) == SPGW_OK, "%s: %s", name,
		      err.text);
	verified = spgw_verify(pub, signed_txt, signed_len, sig, sig_len, NULL) == SPGW_OK;
	got = !paired ? "bad_digest" : verified ? "ok" : "bad_signature";
	ck_assert_msg(!strcmp(got, expect), "%s: expect.txt says %s, the gateway's code finds %s",
		      name, expect, got);
	/* in the pairing case the signature is good: the pairing alone is wrong */
	ck_assert_msg(paired || verified, "%s: the signature does not verify either", name);
	if (ends_with(name, "-empty-signer-id"))
		check_empty_id(name, signed_txt, signed_len, sig, sig_len);

	/*
	 * spgw_sign_request with a key of the case's algorithm and the case's inputs. It picks its own nonce, so the
	 * string it signed is rebuilt with that nonce: the same lines as signed.txt apart from
	 * it (and from the digest, in the pairing case, where the gateway pairs correctly).
	 */
	ck_assert_msg(spgw_sign_request(priv, gw, method, pq, body, body_len,
					(time_t)strtoll(ts, NULL, 10), &a, &err) == SPGW_OK,
		      "%s: %s", name, err.text);
	ck_assert_str_eq(a.timestamp, ts);
	ck_assert_str_eq(a.content_digest, paired_digest);
	text = request_string(method, pq, gw, a.timestamp, a.nonce, a.content_digest);
	header_sig(a.signature, alg, &ours, &ours_len);
	ck_assert_msg(spgw_verify(mine, text, strlen(text), ours, ours_len, NULL) == SPGW_OK,
		      "%s: spgw_sign_request's signature does not verify over\n%s", name, text);
	free(text);
	free(ours);

	spgw_free(sig);
	spgw_key_free(pub);
	spgw_key_free(priv);
	spgw_key_free(mine);
	free(gw);
	free(method);
	free(pq);
	free(ts);
	free(nonce);
	free(cd);
	free(hdr);
	free(b64);
	free(expect);
	free(body);
	free(signed_txt);
	return paired && verified;
}

/* A receipt member that must be a string (borrowed from `o`). */
static const char *receipt_str(const char *name, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s/receipt.json: %s is not a string", name, key);
	return json_string_value(v);
}

static long long receipt_int(const char *name, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s/receipt.json: %s is not an integer", name, key);
	return (long long)json_integer_value(v);
}

/* One receipt case: returns 1 when spgw_receipt_verify accepts it. */
static int check_receipt(const char *name)
{
	char *b64 = vec_value(name, "signature.b64"), *expect = vec_value(name, "expect.txt");
	size_t json_len = 0, signed_len = 0, sig_len = 0;
	char *json = vec_file(name, "receipt.json", &json_len);
	char *signed_txt = vec_file(name, "signed.txt", &signed_len);
	struct spgw_key *pub = vec_public(name), *priv = NULL, *mine = NULL;
	unsigned char *sig = NULL, *fresh = NULL;
	char text[1024], *fresh_b64;
	struct spgw_receipt r;
	struct spgw_error err;
	json_error_t jerr;
	size_t fresh_len = 0;
	enum spgw_rc rc;
	json_t *o;
	int verified;

	o = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(o != NULL, "%s/receipt.json: %s at line %d", name, jerr.text, jerr.line);
	memset(&r, 0, sizeof(r));
	r.batch_id = receipt_str(name, o, "batch_id");
	r.received_at = receipt_str(name, o, "received_at");
	r.content_digest = receipt_str(name, o, "content_digest");
	r.accepted = receipt_int(name, o, "accepted");
	r.duplicate = receipt_int(name, o, "duplicate");
	r.rejected = receipt_int(name, o, "rejected");
	r.alg = receipt_str(name, o, "alg");
	r.sig = receipt_str(name, o, "sig");
	ck_assert_msg(!strcmp(r.sig, b64), "%s: receipt.json's sig is not signature.b64", name);
	ck_assert_str_eq(r.alg, spgw_sign_alg_name(spgw_key_alg(pub)));

	/* signed.txt is the receipt's lines */
	snprintf(text, sizeof(text), "SPGW1-RECEIPT\n%s\n%s\n%s\n%lld\n%lld\n%lld", r.batch_id,
		 r.received_at, r.content_digest, r.accepted, r.duplicate, r.rejected);
	ck_assert_msg(strlen(text) == signed_len && !memcmp(text, signed_txt, signed_len),
		      "%s: signed.txt is not\n%s", name, text);

	memset(&err, 0, sizeof(err));
	rc = spgw_receipt_verify(pub, &r, &err);
	ck_assert_msg(!strcmp(rc == SPGW_OK ? "ok" : "bad_signature", expect),
		      "%s: expect.txt says %s, spgw_receipt_verify answers %d (%s)", name, expect,
		      (int)rc, err.text);
	if (rc != SPGW_OK) {
		ck_assert_int_eq(rc, SPGW_E_CRYPTO);
		ck_assert_msg(strstr(err.text, "does not verify"), "%s: %s", name, err.text);
	}
	/* the same answer from the bare signature over signed.txt */
	ck_assert_int_eq(spgw_base64_decode(b64, &sig, &sig_len, NULL), SPGW_OK);
	verified = spgw_verify(pub, signed_txt, signed_len, sig, sig_len, NULL) == SPGW_OK;
	ck_assert_int_eq(verified, rc == SPGW_OK);
	if (ends_with(name, "-empty-signer-id"))
		check_empty_id(name, signed_txt, signed_len, sig, sig_len);

	/* a national key of the same algorithm signs signed.txt so that spgw_receipt_verify,
	 * given that key, accepts it */
	make_pair(spgw_key_alg(pub), name, &priv, &mine);
	ck_assert_int_eq(spgw_sign(priv, signed_txt, signed_len, &fresh, &fresh_len, NULL),
			 SPGW_OK);
	fresh_b64 = spgw_base64_encode(fresh, fresh_len);
	ck_assert_ptr_nonnull(fresh_b64);
	r.sig = fresh_b64;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_receipt_verify(mine, &r, &err) == SPGW_OK, "%s: %s", name, err.text);

	spgw_free(fresh_b64);
	spgw_free(fresh);
	spgw_free(sig);
	json_decref(o);
	spgw_key_free(pub);
	spgw_key_free(priv);
	spgw_key_free(mine);
	free(b64);
	free(expect);
	free(json);
	free(signed_txt);
	return rc == SPGW_OK;
}

/* Every required case is there with its expected answer; every folder is one of two kinds. */
START_TEST(vectors_present)
{
	char **names = vec_cases(), **p, *expect;
	size_t i;
	int found;

	for (i = 0; i < NVECTOR_CASES; i++) {
		found = 0;
		for (p = names; *p; p++)
			found |= !strcmp(*p, vector_cases[i].name);
		ck_assert_msg(found, "%s/%s is missing", VECTORS, vector_cases[i].name);
		expect = vec_value(vector_cases[i].name, "expect.txt");
		ck_assert_msg(!strcmp(expect, vector_cases[i].expect),
			      "%s: expect.txt says %s, not %s", vector_cases[i].name, expect,
			      vector_cases[i].expect);
		free(expect);
	}
	for (p = names; *p; p++) {
		ck_assert_msg(vec_has(*p, "expect.txt"), "%s: no expect.txt", *p);
		ck_assert_msg(vec_has(*p, "body.json") != vec_has(*p, "receipt.json"),
			      "%s: a case has body.json (a request) or receipt.json, not both",
			      *p);
		ck_assert_msg(vec_has(*p, "public.pem"), "%s: public.pem missing", *p);
	}
	vec_cases_free(names);
}
END_TEST

START_TEST(vectors_requests)
{
	char **names = vec_cases(), **p;
	int n = 0, good = 0;

	for (p = names; *p; p++) {
		if (!vec_has(*p, "body.json"))
			continue;
		good += check_request(*p);
		n++;
	}
	printf("vectors_requests: %d request cases, %d valid, %d refused as expected\n", n, good,
	       n - good);
	/* one good case per algorithm at least, and the negative ones */
	ck_assert_int_ge(good, 3);
	ck_assert_int_ge(n - good, 5);
	vec_cases_free(names);
}
END_TEST

START_TEST(vectors_receipts)
{
	char **names = vec_cases(), **p;
	int n = 0, good = 0;

	for (p = names; *p; p++) {
		if (!vec_has(*p, "receipt.json"))
			continue;
		good += check_receipt(*p);
		n++;
	}
	printf("vectors_receipts: %d receipt cases, %d valid, %d refused as expected\n", n, good,
	       n - good);
	ck_assert_int_ge(good, 3);
	ck_assert_int_ge(n - good, 2);
	vec_cases_free(names);
}
END_TEST

/* ---- key files (keys.c) ---- */

START_TEST(keys_first_run)
{
	struct spgw_national n;
	struct spgw_error err;
	struct spgw_key *k = NULL;
	char key[256], pub[256], *before, *after;
	int created = -1;

	memset(&n, 0, sizeof(n));
	snprintf(key, sizeof(key), "%s/state/keys/gateway.key", scratch_dir);
	snprintf(pub, sizeof(pub), "%s/state/keys/gateway.pub", scratch_dir);
	n.key = key;
	n.public_key = pub;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_keys_ensure(&n, SPGW_SIGN_ECDSA_P256_SHA256, &created, &err) == SPGW_OK,
		      "%s", err.text);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(mode_of(scratch_path("state")), 0700);
	ck_assert_int_eq(mode_of(scratch_path("state/keys")), 0700);
	ck_assert_int_eq(mode_of(key), 0600);
	ck_assert_int_eq(mode_of(pub), 0644);
	ck_assert_int_eq(spgw_key_load_private(key, &k, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_key_alg(k), SPGW_SIGN_ECDSA_P256_SHA256);
	spgw_key_free(k);

	/* the second run finds it and leaves it, whatever the algorithm asked for */
	before = scratch_slurp(key, NULL);
	created = -1;
	ck_assert_int_eq(spgw_keys_ensure(&n, SPGW_SIGN_SM2_SM3, &created, NULL), SPGW_OK);
	ck_assert_int_eq(created, 0);
	after = scratch_slurp(key, NULL);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* an existing directory keeps its mode */
	ck_assert_int_eq(chmod(scratch_path("state"), 0755), 0);
	ck_assert_int_eq(unlink(key), 0);
	ck_assert_int_eq(spgw_keys_ensure(&n, SPGW_SIGN_SM2_SM3, &created, NULL), SPGW_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(mode_of(scratch_path("state")), 0755);

	/* no path configured; a file where a directory should be */
	n.key = NULL;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_keys_ensure(&n, SPGW_SIGN_SM2_SM3, &created, &err), SPGW_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.text, "national.key"));
	spit(scratch_path("plain"), "x", 1, 0600);
	snprintf(key, sizeof(key), "%s/plain/gateway.key", scratch_dir);
	n.key = key;
	ck_assert_int_eq(spgw_keys_ensure(&n, SPGW_SIGN_SM2_SM3, &created, NULL), SPGW_E_STATE);
}
END_TEST

START_TEST(keys_retire)
{
	struct spgw_error err;
	struct spgw_key *k = NULL;
	char *moved = NULL, *before, *after, want[256];

	make_pair(SPGW_SIGN_SM2_SM3, "gateway", &k, NULL);
	spgw_key_free(k);
	before = scratch_slurp(scratch_path("gateway.key"), NULL);
	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_keys_retire(scratch_path("gateway.key"), (time_t)1763812800, &moved,
				       &err) == SPGW_OK,
		      "%s", err.text);
	snprintf(want, sizeof(want), "%s/gateway.key.20251122T120000Z.old", scratch_dir);
	ck_assert_str_eq(moved, want);
	ck_assert_int_eq(access(scratch_path("gateway.key"), F_OK), -1);
	after = scratch_slurp(moved, NULL);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(mode_of(moved), 0600);
	free(after);

	/* a new key, retired within the same second: refused, both kept */
	ck_assert_int_eq(spgw_keys_create(SPGW_SIGN_SM2_SM3, scratch_path("gateway.key"),
					  scratch_path("gateway.pub"), NULL),
			 SPGW_OK);
	ck_assert_int_eq(spgw_keys_create(SPGW_SIGN_SM2_SM3, scratch_path("gateway.key"),
					  scratch_path("gateway.pub"), NULL),
			 SPGW_E_STATE);
	spgw_free(moved);
	moved = NULL;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(
		spgw_keys_retire(scratch_path("gateway.key"), (time_t)1763812800, &moved, &err),
		SPGW_E_STATE);
	ck_assert_ptr_null(moved);
	ck_assert_ptr_nonnull(strstr(err.text, "try again"));
	ck_assert_int_eq(access(scratch_path("gateway.key"), F_OK), 0);
	after = scratch_slurp(want, NULL);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);

	ck_assert_int_eq(spgw_keys_retire(scratch_path("absent.key"), 0, &moved, NULL),
			 SPGW_E_NOTFOUND);
}
END_TEST

static Suite *sign_suite(void)
{
	Suite *s = suite_create("sign");
	int nalgs = (int)(sizeof(algs) / sizeof(algs[0]));
	TCase *tc;

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, alg_names);
	tcase_add_loop_test(tc, round_trip, 0, nalgs);
	tcase_add_test(tc, cross_algorithm);
	tcase_add_test(tc, sm2_signer_id);
	tcase_add_test(tc, key_mode_refused);
	tcase_add_test(tc, existing_key_kept);
	tcase_add_test(tc, wrong_key_type);
	tcase_add_test(tc, keys_first_run);
	tcase_add_test(tc, keys_retire);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoding");
	tcase_add_test(tc, base64_vectors);
	tcase_add_test(tc, base64_strict);
	tcase_add_test(tc, random_hex);
	tcase_add_test(tc, content_digests);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, request_signing, 0, nalgs);
	tcase_add_loop_test(tc, request_signing_with_digest, 0, nalgs);
	tcase_add_test(tc, receipt_verify);
	tcase_add_loop_test(tc, openssl_interop, 0, nalgs);
	suite_add_tcase(s, tc);

	tc = tcase_create("vectors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, vectors_present);
	tcase_add_test(tc, vectors_requests);
	tcase_add_test(tc, vectors_receipts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(sign_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
