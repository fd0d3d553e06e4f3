/*
 * Digests, signatures and base64 for the simulator and its client, on OpenSSL 3 EVP and
 * written apart from gateway/sign.c on purpose: two implementations of PROTOCOL.md §1 and §5
 * that agree are evidence; one shared implementation would agree with itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "sim.h"

static const char *const alg_names[] = { "sm2-sm3", "ecdsa-p256-sha256", "ed25519" };

const char *sim_alg_name(enum sim_alg alg)
{
	return alg_names[alg];
}

int sim_alg_parse(const char *name, enum sim_alg *alg)
{
	size_t i;

	for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
		if (strcmp(name, alg_names[i]) == 0) {
			*alg = (enum sim_alg)i;
			return 0;
		}
	}
	return -1;
}

const char *sim_alg_digest(enum sim_alg alg)
{
	return alg == SIM_ALG_SM2_SM3 ? "sm3" : "sha-256";
}

int sim_key_alg(EVP_PKEY *k, enum sim_alg *alg)
{
	char group[64];
	size_t len = 0;

	if (EVP_PKEY_is_a(k, "SM2")) {
		*alg = SIM_ALG_SM2_SM3;
		return 0;
	}
	if (EVP_PKEY_is_a(k, "ED25519")) {
		*alg = SIM_ALG_ED25519;
		return 0;
	}
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &len)) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
			*alg = SIM_ALG_ECDSA_P256;
			return 0;
		}
	}
	return -1;
}

EVP_PKEY *sim_key_public_pem(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k;

	if (!b)
		return NULL;
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

char *sim_key_public_text(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long n;

	if (!b)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, k)) {
		n = BIO_get_mem_data(b, &p);
		if (n > 0)
			s = spgw_strndup(p, (size_t)n);
	}
	BIO_free(b);
	return s;
}

/* OpenSSL's first queued error as text, for messages; clears the queue. */
static const char *ossl_text(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return "no detail from OpenSSL";
	ERR_error_string_n(e, buf, size);
	return buf;
}

static EVP_PKEY *load_key(const char *path, int private, struct spgw_error *err)
{
	char t[256];
	EVP_PKEY *k;
	enum sim_alg alg;
	FILE *f = fopen(path, "r");

	if (!f) {
		spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot open the key: %s",
			       strerror(errno));
		return NULL;
	}
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
		    : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		spgw_error_set(err, SPGW_E_CRYPTO, path, 0, 0,
			       "not a %s key in PEM (%s); give %s",
			       private ? "private" : "public", ossl_text(t, sizeof(t)),
			       private ? "a PKCS#8 PEM private key"
				       : "a SubjectPublicKeyInfo PEM (openssl pkey -pubout)");
		return NULL;
	}
	if (sim_key_alg(k, &alg)) {
		spgw_error_set(err, SPGW_E_CRYPTO, path, 0, 0,
			       "the key is neither SM2, EC P-256 nor Ed25519, the three "
			       "algorithms of PROTOCOL.md §1");
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

EVP_PKEY *sim_key_load_private(const char *path, struct spgw_error *err)
{
	return load_key(path, 1, err);
}

EVP_PKEY *sim_key_load_public(const char *path, struct spgw_error *err)
{
	return load_key(path, 0, err);
}

int sim_digest(const char *digest_name, const void *p, size_t n, unsigned char md[32])
{
	const EVP_MD *m = strcmp(digest_name, "sm3") == 0 ? EVP_sm3() : EVP_sha256();
	unsigned int len = 0;

	if (!EVP_Digest(n ? p : "", n, md, &len, m, NULL) || len != 32)
		return -1;
	return 0;
}

/*
 * A digest-sign or digest-verify context for the algorithm: SM2 needs its signer id set on
 * the key context before init, because OpenSSL 3 otherwise hashes an empty id into Z and
 * every signature differs from what the other side computes (§5).
 */
static EVP_MD_CTX *md_ctx(EVP_PKEY *k, enum sim_alg alg, int sign, EVP_PKEY_CTX **pctx)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	const EVP_MD *md = NULL;
	int ok;

	*pctx = NULL;
	if (!m)
		return NULL;
	if (alg == SIM_ALG_SM2_SM3) {
		md = EVP_sm3();
		*pctx = EVP_PKEY_CTX_new(k, NULL);
		if (!*pctx || EVP_PKEY_CTX_set1_id(*pctx, SIM_SM2_ID, strlen(SIM_SM2_ID)) <= 0)
			goto fail;
		EVP_MD_CTX_set_pkey_ctx(m, *pctx);
	} else if (alg == SIM_ALG_ECDSA_P256) {
		md = EVP_sha256();
	}
	ok = sign ? EVP_DigestSignInit(m, NULL, md, NULL, k)
		  : EVP_DigestVerifyInit(m, NULL, md, NULL, k);
	if (ok != 1)
		goto fail;
	return m;
fail:
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(*pctx);
	*pctx = NULL;
	ERR_clear_error();
	return NULL;
}

int sim_sign(EVP_PKEY *k, enum sim_alg alg, const void *msg, size_t n, unsigned char **sig,
	     size_t *sig_len)
{
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *m = md_ctx(k, alg, 1, &pctx);
	unsigned char *s = NULL;
	size_t len = 0;
	int rc = -1;

	if (!m)
		return -1;
	if (EVP_DigestSign(m, NULL, &len, msg, n) != 1)
		goto out;
	s = spgw_malloc(len);
	if (!s || EVP_DigestSign(m, s, &len, msg, n) != 1)
		goto out;
	*sig = s;
	*sig_len = len;
	s = NULL;
	rc = 0;
out:
	spgw_free(s);
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return rc;
}

int sim_verify(EVP_PKEY *k, enum sim_alg alg, const void *msg, size_t n,
	       const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *m = md_ctx(k, alg, 0, &pctx);
	int ok;

	if (!m)
		return 0;
	ok = EVP_DigestVerify(m, sig, sig_len, msg, n) == 1;
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok;
}

char *sim_b64_encode(const void *p, size_t n)
{
	char *s = spgw_malloc(4 * ((n + 2) / 3) + 1);

	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

static int b64_value(unsigned char c)
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
 * Our own decoder: EVP_DecodeBlock accepts white space and does not say how much padding it
 * saw. Here the text must be whole quads of the alphabet, '=' only as the last one or two
 * characters, and the unused bits of the last character zero, so that every byte string has
 * exactly one accepted spelling.
 */
int sim_b64_decode(const char *s, size_t len, unsigned char **out, size_t *n)
{
	unsigned char *d;
	size_t i, o = 0, pad = 0;
	int v[4], j;

	if (len == 0 || len % 4)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	d = spgw_malloc(len / 4 * 3 + 1);
	if (!d)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (j = 0; j < 4; j++) {
			if (i + 4 == len && j >= 4 - (int)pad) {
				v[j] = 0;
				continue;
			}
			v[j] = b64_value((unsigned char)s[i + (size_t)j]);
			if (v[j] < 0)
				goto bad;
		}
		d[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (i + 4 < len || pad < 2)
			d[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (i + 4 < len || pad < 1)
			d[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	if ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3)))
		goto bad;
	*out = d;
	*n = o;
	return 0;
bad:
	spgw_free(d);
	return -1;
}

void sim_hex(const unsigned char *p, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sim_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

enum spgw_rc sim_read_file(const char *path, size_t max, char **out, size_t *len,
			   struct spgw_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;
	enum spgw_rc rc = SPGW_OK;

	if (!f)
		return spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot open: %s",
				      strerror(errno));
	do {
		if (n > max) {
			rc = spgw_error_set(err, SPGW_E_LIMIT, path, 0, 0,
					    "file larger than %zu bytes", max);
			goto out;
		}
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 65536;
			nb = spgw_realloc(buf, cap + 1);
			if (!nb) {
				rc = spgw_error_nomem(err, "reading a file");
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		rc = spgw_error_set(err, SPGW_E_IO, path, 0, 0, "read failed: %s", strerror(errno));
		goto out;
	}
	if (n > max) {
		rc = spgw_error_set(err, SPGW_E_LIMIT, path, 0, 0, "file larger than %zu bytes",
				    max);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	spgw_free(buf);
	fclose(f);
	return rc;
}

enum spgw_rc sim_write_file(const char *path, const void *p, size_t n, mode_t mode,
			    struct spgw_error *err)
{
	char tmp[4200];
	const char *c = p;
	ssize_t w;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return spgw_error_set(err, SPGW_E_IO, path, 0, 0, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return spgw_error_set(err, SPGW_E_IO, tmp, 0, 0, "cannot create: %s",
				      strerror(errno));
	/* open() applies the umask; the mode asked for is what the file must have (0600) */
	if (fchmod(fd, mode))
		goto fail;
	while (n) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		c += w;
		n -= (size_t)w;
	}
	if (fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path)) {
		fd = -1;
		goto fail;
	}
	return SPGW_OK;
fail:
	spgw_error_set(err, SPGW_E_IO, path, 0, 0, "cannot write: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return SPGW_E_IO;
}
