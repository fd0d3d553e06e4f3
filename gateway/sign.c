/*
 * Signing on OpenSSL 3 EVP: the gateway's key pair, request signatures and receipt
 * verification (PROTOCOL.md §1, §2, §5). Private key bytes stay inside OpenSSL and the
 * secure-memory BIO that writes them out; no message here quotes them.
 */
#define _GNU_SOURCE /* mkostemp: a temporary key file must not leak into a plugin child */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "mem.h"
#include "sign.h"

/* PROTOCOL.md §5: the signer id of GB/T 32918's examples, which both ends set explicitly
 * because OpenSSL 3 would otherwise hash an empty one into Z. */
static const char sm2_id[] = "1234567812345678";

static const char *const alg_names[] = {
	[SPGW_SIGN_SM2_SM3] = "sm2-sm3",
	[SPGW_SIGN_ECDSA_P256_SHA256] = "ecdsa-p256-sha256",
	[SPGW_SIGN_ED25519] = "ed25519",
};
#define NALGS (sizeof(alg_names) / sizeof(alg_names[0]))

struct spgw_key {
	EVP_PKEY *pkey;
	enum spgw_sign_alg alg;
	int has_private; /* can sign, not only verify */
};

const char *spgw_sign_alg_name(enum spgw_sign_alg alg)
{
	return (unsigned)alg < NALGS ? alg_names[alg] : "unknown";
}

enum spgw_rc spgw_sign_alg_parse(const char *name, enum spgw_sign_alg *alg,
				 struct spgw_error *err)
{
	size_t i;

	for (i = 0; name && i < NALGS; i++) {
		if (!strcmp(name, alg_names[i])) {
			*alg = (enum spgw_sign_alg)i;
			return SPGW_OK;
		}
	}
	return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
			      "unknown signature algorithm \"%s\": use sm2-sm3 (the default), "
			      "ecdsa-p256-sha256 or ed25519", name ? name : "");
}

enum spgw_digest_alg spgw_sign_alg_digest(enum spgw_sign_alg alg)
{
	return alg == SPGW_SIGN_SM2_SM3 ? SPGW_DIGEST_SM3 : SPGW_DIGEST_SHA256;
}

/* OpenSSL's reason for the last failure, for a message; empties its error queue so the
 * next operation starts clean. */
static const char *ossl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "no detail from OpenSSL");
	ERR_clear_error();
	return buf;
}

/* ---- files ---- */

/* Write all of `n` bytes, then fsync: a key must be on disk before its name is. */
static int write_all_sync(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return fsync(fd);
}

/* fsync the directory holding `path`, so a link or rename in it survives a crash. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (!slash)
		dir = spgw_strdup(".");
	else
		dir = spgw_strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	spgw_free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Write the content of memory BIO `b` to a new temporary file beside `path` with `mode`.
 * *tmp is its name, new (spgw_free), set whenever the file was created so that the caller
 * removes it on any path.
 */
static enum spgw_rc write_temp(const char *path, BIO *b, mode_t mode, char **tmp,
			       struct spgw_error *err)
{
	char *data = NULL;
	long len = BIO_get_mem_data(b, &data);
	size_t n = strlen(path) + sizeof(".tmp-XXXXXX");
	enum spgw_rc rc = SPGW_OK;
	int fd;

	*tmp = spgw_malloc(n);
	if (!*tmp)
		return spgw_error_nomem(err, "key file name");
	snprintf(*tmp, n, "%s.tmp-XXXXXX", path);
	/* mkostemp: O_EXCL and mode 0600 from the start, so a private key is never readable
	 * by others even for a moment */
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0,
				    "cannot create a file beside it: %s; check that the directory "
				    "exists and is writable", strerror(errno));
		spgw_free(*tmp);
		*tmp = NULL;
		return rc;
	}
	if (len <= 0 || (mode != 0600 && fchmod(fd, mode)) ||
	    write_all_sync(fd, data, (size_t)len))
		rc = spgw_error_set(err, SPGW_E_IO, *tmp, 0, 0, "writing the key failed: %s",
				    len <= 0 ? "nothing to write" : strerror(errno));
	if (close(fd) && !rc)
		rc = spgw_error_set(err, SPGW_E_IO, *tmp, 0, 0, "writing the key failed: %s",
				    strerror(errno));
	return rc;
}

static EVP_PKEY *generate(enum spgw_sign_alg alg)
{
	switch (alg) {
	case SPGW_SIGN_SM2_SM3:
		return EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	case SPGW_SIGN_ECDSA_P256_SHA256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case SPGW_SIGN_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	return NULL;
}

static enum spgw_rc key_exists(const char *path, struct spgw_error *err)
{
	return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
			      "a private key is already there and is never overwritten; "
			      "spgw keygen --force moves the old one aside first");
}

/*
 * Both files are written in full to temporary names and fsynced before they get their real
 * names: a crash leaves either no key or a whole one, never an empty gateway.key that a
 * later run would take for the key. link() gives the private key its name and, like O_EXCL,
 * fails if one is already there, so two runs cannot replace each other's key.
 */
enum spgw_rc spgw_key_generate(enum spgw_sign_alg alg, const char *priv_path,
			       const char *pub_path, struct spgw_error *err)
{
	char *priv_tmp = NULL, *pub_tmp = NULL;
	BIO *priv = NULL, *pub = NULL;
	EVP_PKEY *k = NULL;
	enum spgw_rc rc;
	struct stat st;
	char why[256];
	int linked = 0;

	if ((unsigned)alg >= NALGS) {
		rc = spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				    "unknown signature algorithm number %d", (int)alg);
		goto out;
	}
	if (!priv_path || !pub_path || !strcmp(priv_path, pub_path)) {
		rc = spgw_error_set(err, SPGW_E_CONFIG, priv_path, 0, 0,
				    "the private and the public key need two different file names");
		goto out;
	}
	if (lstat(priv_path, &st) == 0) {
		rc = key_exists(priv_path, err);
		goto out;
	}
	k = generate(alg);
	if (!k) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "generating a %s key failed: %s", alg_names[alg],
				    ossl_reason(why, sizeof(why)));
		goto out;
	}
	/* the secure-memory BIO wipes the private key text when it is freed */
	priv = BIO_new(BIO_s_secmem());
	pub = BIO_new(BIO_s_mem());
	if (!priv || !pub) {
		rc = spgw_error_nomem(err, "key PEM");
		goto out;
	}
	/* no cipher: PKCS#8 PrivateKeyInfo ("BEGIN PRIVATE KEY"), protected by mode 0600 */
	if (!PEM_write_bio_PrivateKey(priv, k, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(pub, k)) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "writing the %s key as PEM failed: %s", alg_names[alg],
				    ossl_reason(why, sizeof(why)));
		goto out;
	}
	rc = write_temp(priv_path, priv, 0600, &priv_tmp, err);
	if (rc)
		goto out;
	rc = write_temp(pub_path, pub, 0644, &pub_tmp, err);
	if (rc)
		goto out;
	if (link(priv_tmp, priv_path)) {
		if (errno == EEXIST)
			rc = key_exists(priv_path, err);
		else
			rc = spgw_error_set(err, SPGW_E_IO, priv_path, 0, 0,
					    "cannot create the private key: %s", strerror(errno));
		goto out;
	}
	linked = 1;
	if (rename(pub_tmp, pub_path)) {
		rc = spgw_error_set(err, SPGW_E_IO, pub_path, 0, 0,
				    "cannot create the public key: %s", strerror(errno));
		goto out;
	}
	spgw_free(pub_tmp);
	pub_tmp = NULL;
	unlink(priv_tmp);
	spgw_free(priv_tmp);
	priv_tmp = NULL;
	if (sync_parent(priv_path) || sync_parent(pub_path))
		rc = spgw_error_set(err, SPGW_E_IO, priv_path, 0, 0,
				    "cannot sync the key directory: %s", strerror(errno));
out:
	if (rc && linked)
		unlink(priv_path);
	if (priv_tmp)
		unlink(priv_tmp);
	if (pub_tmp)
		unlink(pub_tmp);
	spgw_free(priv_tmp);
	spgw_free(pub_tmp);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(k);
	return rc;
}

/* ---- loading ---- */

/* Never prompt on a terminal for an encrypted key: a daemon has nobody to answer. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * The same key as an "SM2" key. Some OpenSSL 3.0 builds decode an SM2 PEM as an "EC" key on
 * curve SM2, which would sign ECDSA-with-SM3 instead of SM2; moving its parameters to the
 * SM2 key manager fixes the type. *k is replaced on success.
 */
static int ec_to_sm2(EVP_PKEY **k, int has_private)
{
	int sel = has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
	OSSL_PARAM *params = NULL, *p;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *sm2 = NULL;
	int ok = 0;

	if (EVP_PKEY_todata(*k, sel, &params) != 1)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &sm2, sel, params) != 1)
		goto out;
	EVP_PKEY_free(*k);
	*k = sm2;
	ok = 1;
out:
	/* OpenSSL 3.0 has no OSSL_PARAM_clear_free(): wipe the private scalar by hand */
	for (p = params; p && p->key; p++)
		if (p->data)
			OPENSSL_cleanse(p->data, p->data_size);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* Which of our algorithms `k` signs with. On success *k may have been replaced. */
static enum spgw_rc classify(EVP_PKEY **k, int has_private, const char *what,
			     enum spgw_sign_alg *alg, struct spgw_error *err)
{
	const char *type = EVP_PKEY_get0_type_name(*k);
	char group[80] = "", why[256];
	size_t glen = 0;

	if (EVP_PKEY_is_a(*k, "SM2")) {
		*alg = SPGW_SIGN_SM2_SM3;
		return SPGW_OK;
	}
	if (EVP_PKEY_is_a(*k, "ED25519")) {
		*alg = SPGW_SIGN_ED25519;
		return SPGW_OK;
	}
	if (EVP_PKEY_is_a(*k, "EC")) {
		if (!EVP_PKEY_get_group_name(*k, group, sizeof(group), &glen))
			snprintf(group, sizeof(group), "(unnamed)");
		if (!strcmp(group, "SM2")) {
			if (!ec_to_sm2(k, has_private))
				return spgw_error_set(err, SPGW_E_CRYPTO, what, 0, 0,
						      "cannot use the EC key on curve SM2 as an "
						      "SM2 key: %s", ossl_reason(why, sizeof(why)));
			*alg = SPGW_SIGN_SM2_SM3;
			return SPGW_OK;
		}
		if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
			*alg = SPGW_SIGN_ECDSA_P256_SHA256;
			return SPGW_OK;
		}
	}
	ERR_clear_error();
	return spgw_error_set(err, SPGW_E_CRYPTO, what, 0, 0,
			      "a %s key%s%s, which spgw does not sign with: use an SM2 "
			      "(sm2-sm3), EC P-256 (ecdsa-p256-sha256) or Ed25519 key, as "
			      "spgw keygen makes", type ? type : "(unknown type)",
			      group[0] ? " on curve " : "", group);
}

/* Wrap `*k` (taken: freed on failure, NULL afterwards either way) in a new spgw_key. */
static enum spgw_rc key_new(EVP_PKEY **k, int has_private, const char *what,
			    struct spgw_key **out, struct spgw_error *err)
{
	struct spgw_key *key = NULL;
	enum spgw_sign_alg alg;
	enum spgw_rc rc;

	rc = classify(k, has_private, what, &alg, err);
	if (rc)
		goto out;
	key = spgw_calloc(1, sizeof(*key));
	if (!key) {
		rc = spgw_error_nomem(err, "key");
		goto out;
	}
	key->pkey = *k;
	key->alg = alg;
	key->has_private = has_private;
	*k = NULL;
	*out = key;
out:
	EVP_PKEY_free(*k);
	*k = NULL;
	return rc;
}

/* The mode check is on the open descriptor, so the file checked is the file read. */
enum spgw_rc spgw_key_load_private(const char *path, struct spgw_key **out,
				   struct spgw_error *err)
{
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	enum spgw_rc rc = SPGW_OK;
	struct stat st;
	char why[256];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return spgw_error_set(err, errno == ENOENT ? SPGW_E_NOTFOUND : SPGW_E_IO, path,
				      0, 0, "cannot open the private key: %s%s", strerror(errno),
				      errno == ENOENT ? " (spgw keygen makes one)" : "");
	if (fstat(fd, &st)) {
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot stat the private key: %s",
				    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				    "not a regular file; the private key must be a PEM file");
		goto out;
	}
	if (st.st_mode & 077) {
		rc = spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				    "mode %04o lets others %s the private key; run chmod 600 %s",
				    (unsigned)(st.st_mode & 07777),
				    st.st_mode & 044   ? "read"
				    : st.st_mode & 022 ? "replace"
						       : "use",
				    path);
		goto out;
	}
	b = BIO_new_fd(fd, BIO_NOCLOSE);
	if (!b) {
		rc = spgw_error_nomem(err, "key file");
		goto out;
	}
	k = PEM_read_bio_PrivateKey_ex(b, NULL, no_passphrase, NULL, NULL, NULL);
	if (!k) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, path, 0, 0,
				    "no private key could be read (%s); spgw needs an unencrypted "
				    "PKCS#8 PEM key as spgw keygen writes",
				    ossl_reason(why, sizeof(why)));
		goto out;
	}
	rc = key_new(&k, 1, path, out, err);
out:
	BIO_free(b);
	close(fd);
	return rc;
}

/* Read a SubjectPublicKeyInfo PEM from `b`; `what` names it in messages. */
static enum spgw_rc load_public(BIO *b, const char *what, struct spgw_key **out,
				struct spgw_error *err)
{
	EVP_PKEY *k;
	char why[256];

	k = PEM_read_bio_PUBKEY_ex(b, NULL, no_passphrase, NULL, NULL, NULL);
	if (!k)
		return spgw_error_set(err, SPGW_E_CRYPTO, what, 0, 0,
				      "no public key could be read (%s); expected a PEM "
				      "\"BEGIN PUBLIC KEY\" block", ossl_reason(why, sizeof(why)));
	return key_new(&k, 0, what, out, err);
}

enum spgw_rc spgw_key_load_public(const char *path, struct spgw_key **out,
				  struct spgw_error *err)
{
	enum spgw_rc rc;
	BIO *b;

	b = BIO_new_file(path, "r");
	if (!b) {
		int e = errno;

		ERR_clear_error();
		return spgw_error_set(err, e == ENOENT ? SPGW_E_NOTFOUND : SPGW_E_IO, path, 0, 0,
				      "cannot open the public key: %s", strerror(e));
	}
	rc = load_public(b, path, out, err);
	BIO_free(b);
	return rc;
}

enum spgw_rc spgw_key_from_public_pem(const char *pem, size_t len, struct spgw_key **out,
				      struct spgw_error *err)
{
	enum spgw_rc rc;
	BIO *b;

	if (len > INT_MAX)
		return spgw_error_set(err, SPGW_E_LIMIT, NULL, 0, 0,
				      "a public key PEM of %zu bytes is far too long", len);
	b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return spgw_error_nomem(err, "public key PEM");
	rc = load_public(b, "public key PEM", out, err);
	BIO_free(b);
	return rc;
}

void spgw_key_free(struct spgw_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	spgw_free(k);
}

enum spgw_sign_alg spgw_key_alg(const struct spgw_key *k)
{
	return k->alg;
}

char *spgw_key_public_pem(const struct spgw_key *k)
{
	char *data = NULL, *s = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	long len;

	if (b && PEM_write_bio_PUBKEY(b, k->pkey)) {
		len = BIO_get_mem_data(b, &data);
		if (len > 0)
			s = spgw_strndup(data, (size_t)len);
	}
	ERR_clear_error();
	BIO_free(b);
	return s;
}

/* ---- signatures ---- */

/*
 * A digest-sign or digest-verify context for `k`. For SM2 the signer id goes on a key
 * context attached before init (the pattern of OpenSSL's SM2(7)): the id enters Z, which is
 * hashed ahead of the message (GB/T 32918.2). The digest context does not own a key context
 * attached this way: *pctx is the caller's to free after *mctx. Ed25519 is pure: no digest.
 */
static int sig_ctx(const struct spgw_key *k, int sign, EVP_MD_CTX **mctx, EVP_PKEY_CTX **pctx)
{
	const char *md = k->alg == SPGW_SIGN_SM2_SM3		 ? "SM3"
			 : k->alg == SPGW_SIGN_ECDSA_P256_SHA256 ? "SHA256"
								 : NULL;

	*pctx = NULL;
	*mctx = EVP_MD_CTX_new();
	if (!*mctx)
		return 0;
	if (k->alg == SPGW_SIGN_SM2_SM3) {
		*pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
		if (!*pctx || EVP_PKEY_CTX_set1_id(*pctx, sm2_id, sizeof(sm2_id) - 1) <= 0)
			return 0;
		EVP_MD_CTX_set_pkey_ctx(*mctx, *pctx);
	}
	if (sign)
		return EVP_DigestSignInit_ex(*mctx, NULL, md, NULL, NULL, k->pkey, NULL) == 1;
	return EVP_DigestVerifyInit_ex(*mctx, NULL, md, NULL, NULL, k->pkey, NULL) == 1;
}

enum spgw_rc spgw_sign(const struct spgw_key *k, const void *msg, size_t n, unsigned char **sig,
		       size_t *sig_len, struct spgw_error *err)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	size_t len;
	char why[256];
	int max;

	if (!k->has_private) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "cannot sign with a public key: load the private key");
		goto out;
	}
	max = EVP_PKEY_get_size(k->pkey);
	s = max > 0 ? spgw_malloc((size_t)max) : NULL;
	if (!s) {
		rc = spgw_error_nomem(err, "signature");
		goto out;
	}
	len = (size_t)max;
	if (!sig_ctx(k, 1, &mctx, &pctx) ||
	    EVP_DigestSign(mctx, s, &len, n ? msg : (const void *)"", n) != 1) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0, "signing with %s failed: %s",
				    alg_names[k->alg], ossl_reason(why, sizeof(why)));
		goto out;
	}
	*sig = s;
	*sig_len = len;
	s = NULL;
out:
	spgw_free(s);
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

enum spgw_rc spgw_verify(const struct spgw_key *k, const void *msg, size_t n,
			 const unsigned char *sig, size_t sig_len, struct spgw_error *err)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum spgw_rc rc = SPGW_OK;

	/* a malformed DER signature is just a signature that does not verify */
	if (!sig || !sig_ctx(k, 0, &mctx, &pctx) ||
	    EVP_DigestVerify(mctx, sig, sig_len, n ? msg : (const void *)"", n) != 1)
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "%s signature does not verify", alg_names[k->alg]);
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

/* ---- base64 and random ---- */

char *spgw_base64_encode(const void *p, size_t n)
{
	char *s;

	/* EVP_EncodeBlock counts in int */
	if (n > (size_t)INT_MAX / 4 * 3)
		return NULL;
	s = spgw_malloc((n + 2) / 3 * 4 + 1);
	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, n ? p : (const void *)"", (int)n);
	return s;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * EVP_DecodeBlock alone is lenient (it skips white space at both ends) and counts padding as
 * zero bytes, so the text is checked here first: only alphabet characters, a length that is
 * a multiple of 4, at most two '=' and only at the end, and zero bits under the padding
 * (RFC 4648 §3.5), so that each byte string has exactly one accepted text.
 */
enum spgw_rc spgw_base64_decode(const char *s, unsigned char **out, size_t *n,
				struct spgw_error *err)
{
	unsigned char *buf;
	size_t len, pad = 0, i;
	int got;

	if (!s)
		return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0, "no base64 text");
	len = strlen(s);
	if (len % 4)
		return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
				      "base64 text of %zu characters: the length must be a "
				      "multiple of 4, with = padding", len);
	if (len > INT_MAX)
		return spgw_error_set(err, SPGW_E_LIMIT, NULL, 0, 0,
				      "base64 text of %zu characters is far too long", len);
	if (len && s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (b64_value(s[i]) < 0)
			return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
					      "character %zu (0x%02x) of the base64 text is not "
					      "in the base64 alphabet", i + 1, (unsigned char)s[i]);
	if ((pad == 2 && (b64_value(s[len - 3]) & 0x0f)) ||
	    (pad == 1 && (b64_value(s[len - 2]) & 0x03)))
		return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
				      "the base64 text has bits set under its padding");
	buf = spgw_malloc(len / 4 * 3 + 1);
	if (!buf)
		return spgw_error_nomem(err, "base64 decoding");
	got = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
	if (got < 0 || (size_t)got != len / 4 * 3) {
		spgw_free(buf);
		return spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0, "the text is not base64");
	}
	*out = buf;
	*n = (size_t)got - pad;
	return SPGW_OK;
}

enum spgw_rc spgw_random_hex(size_t n, char *hex, struct spgw_error *err)
{
	static const char digit[] = "0123456789abcdef";
	unsigned char b[64];
	size_t done = 0, i, k;

	while (done < n) {
		k = n - done < sizeof(b) ? n - done : sizeof(b);
		if (RAND_bytes(b, (int)k) != 1) {
			ERR_clear_error();
			return spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
					      "OpenSSL's random generator failed (not seeded?)");
		}
		for (i = 0; i < k; i++) {
			hex[2 * (done + i)] = digit[b[i] >> 4];
			hex[2 * (done + i) + 1] = digit[b[i] & 0xf];
		}
		done += k;
	}
	hex[2 * n] = '\0';
	return SPGW_OK;
}

/* ---- the protocol's strings ---- */

enum spgw_rc spgw_content_digest(enum spgw_digest_alg alg, const void *body, size_t len,
				 char out[64], struct spgw_error *err)
{
	unsigned char md[32];
	enum spgw_rc rc;
	char *b64;

	rc = spgw_digest_raw(alg, body, len, md, err);
	if (rc)
		return rc;
	b64 = spgw_base64_encode(md, sizeof(md));
	if (!b64)
		return spgw_error_nomem(err, "content digest");
	/* 44 base64 characters after at most "sha-256=": always fits */
	snprintf(out, 64, "%s=%s", spgw_digest_name(alg), b64);
	spgw_free(b64);
	return SPGW_OK;
}

/*
 * The signed string's lines cannot hold a line break or other control character, or one
 * string could be read as two different requests. NULL is never valid.
 */
static int line_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* PROTOCOL.md §5: [A-Za-z0-9._-]{1,64}. */
static int gateway_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* Sign `text` and put "alg=<alg>, sig=<b64>" into out[size]. */
static enum spgw_rc sign_header(const struct spgw_key *k, const struct spgw_buf *text,
				char *out, size_t size, struct spgw_error *err)
{
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	char *b64 = NULL;
	enum spgw_rc rc;

	rc = spgw_sign(k, text->data, text->len, &sig, &sig_len, err);
	if (rc)
		goto out;
	b64 = spgw_base64_encode(sig, sig_len);
	if (!b64) {
		rc = spgw_error_nomem(err, "signature");
		goto out;
	}
	if ((size_t)snprintf(out, size, "alg=%s, sig=%s", alg_names[k->alg], b64) >= size)
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "a %zu-byte %s signature does not fit the signature header",
				    sig_len, alg_names[k->alg]);
out:
	spgw_free(sig);
	spgw_free(b64);
	return rc;
}

enum spgw_rc spgw_sign_request(const struct spgw_key *k, const char *gateway_id,
			       const char *method, const char *path_query, const void *body,
			       size_t body_len, time_t now, struct spgw_request_auth *out,
			       struct spgw_error *err)
{
	char digest[64];
	enum spgw_rc rc;

	rc = spgw_content_digest(spgw_sign_alg_digest(k->alg), body, body_len, digest, err);
	if (rc)
		return rc;
	return spgw_sign_request_digest(k, gateway_id, method, path_query, digest, now, out,
					err);
}

enum spgw_rc spgw_sign_request_digest(const struct spgw_key *k, const char *gateway_id,
				      const char *method, const char *path_query,
				      const char *content_digest, time_t now,
				      struct spgw_request_auth *out, struct spgw_error *err)
{
	const char *prefix;
	struct spgw_request_auth a;
	struct spgw_buf text;
	enum spgw_rc rc;

	/* the path and query may be long; the rest of the string is small */
	spgw_buf_init(&text, 64 * 1024, "signed request string");
	memset(&a, 0, sizeof(a));
	if (!gateway_id_ok(gateway_id)) {
		rc = spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				    "gateway id \"%s\" is not 1 to 64 of A-Z a-z 0-9 . _ -; fix "
				    "national.gateway_id", gateway_id ? gateway_id : "");
		goto out;
	}
	if (!line_ok(method) || !line_ok(path_query) || now < 0) {
		rc = spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
				    "cannot sign a request with an empty method or path, a "
				    "control character in them, or a time before 1970");
		goto out;
	}
	snprintf(a.timestamp, sizeof(a.timestamp), "%lld", (long long)now);
	rc = spgw_random_hex(16, a.nonce, err);
	if (rc)
		goto out;
	prefix = spgw_sign_alg_digest(k->alg) == SPGW_DIGEST_SM3 ? "sm3=" : "sha-256=";
	if (!content_digest || strlen(content_digest) >= sizeof(a.content_digest) ||
	    strncmp(content_digest, prefix, strlen(prefix))) {
		rc = spgw_error_set(err, SPGW_E_INVALID, NULL, 0, 0,
				    "content digest \"%.40s\" does not pair with %s (PROTOCOL.md "
				    "§5)", content_digest ? content_digest : "", alg_names[k->alg]);
		goto out;
	}
	snprintf(a.content_digest, sizeof(a.content_digest), "%s", content_digest);
	rc = spgw_buf_printf(&text, err, "SPGW1\n%s\n%s\n%s\n%s\n%s\n%s", method, path_query,
			     gateway_id, a.timestamp, a.nonce, a.content_digest);
	if (rc)
		goto out;
	rc = sign_header(k, &text, a.signature, sizeof(a.signature), err);
	if (rc)
		goto out;
	*out = a;
out:
	spgw_buf_free(&text);
	return rc;
}

/* Copy an error kept aside into `err` unless it already holds one (first error wins). */
static enum spgw_rc keep_first(struct spgw_error *err, const struct spgw_error *e)
{
	if (err && !err->code)
		*err = *e;
	return e->code;
}

enum spgw_rc spgw_receipt_verify(const struct spgw_key *national, const struct spgw_receipt *r,
				 struct spgw_error *err)
{
	const char *alg = alg_names[national->alg];
	unsigned char *sig = NULL;
	struct spgw_error e;
	struct spgw_buf text;
	size_t sig_len = 0;
	enum spgw_rc rc;

	spgw_buf_init(&text, 64 * 1024, "receipt string");
	memset(&e, 0, sizeof(e));
	if (!line_ok(r->batch_id) || !line_ok(r->received_at) || !line_ok(r->content_digest)) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "the receipt lacks batch_id, received_at or content_digest, "
				    "or one holds a control character");
		goto out;
	}
	if (!r->alg || strcmp(r->alg, alg)) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "receipt for batch %s is signed with \"%s\" but the national "
				    "public key is %s; check national.national_public_key",
				    r->batch_id, r->alg ? r->alg : "", alg);
		goto out;
	}
	if (spgw_base64_decode(r->sig, &sig, &sig_len, &e)) {
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "receipt for batch %s: its signature is not base64 (%s)",
				    r->batch_id, e.text);
		goto out;
	}
	rc = spgw_buf_printf(&text, &e, "SPGW1-RECEIPT\n%s\n%s\n%s\n%lld\n%lld\n%lld",
			     r->batch_id, r->received_at, r->content_digest, r->accepted,
			     r->duplicate, r->rejected);
	if (rc) {
		keep_first(err, &e);
		goto out;
	}
	if (spgw_verify(national, text.data, text.len, sig, sig_len, NULL))
		rc = spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0,
				    "receipt for batch %s: the %s signature does not verify with "
				    "the national public key; the receipt was altered or the key "
				    "is not the platform's", r->batch_id, alg);
out:
	spgw_free(sig);
	spgw_buf_free(&text);
	return rc;
}
