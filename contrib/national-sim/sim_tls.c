/*
 * `spgw-national-sim init`: a directory holding a test CA, a server certificate for the
 * loopback names, the platform's receipt key, and an empty gateway registry. Everything is
 * made with OpenSSL's X509 API so a test needs no `openssl req` incantations.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "sim.h"

/* Ten years: a test CA must not expire under a long-lived demo set-up. */
#define CA_DAYS 3650
#define SERVER_DAYS 3650

static enum spgw_rc ossl_fail(struct spgw_error *err, const char *what)
{
	char t[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (e)
		ERR_error_string_n(e, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "no detail from OpenSSL");
	return spgw_error_set(err, SPGW_E_CRYPTO, NULL, 0, 0, "%s failed: %s", what, t);
}

static EVP_PKEY *keygen(enum sim_alg alg)
{
	switch (alg) {
	case SIM_ALG_SM2_SM3:
		return EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	case SIM_ALG_ECDSA_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case SIM_ALG_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	return NULL;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for `key`, to be signed by `issuer` (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, long days)
{
	X509 *c = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (!c || sim_random(serial, sizeof(serial)))
		goto out;
	serial[0] &= 0x7F; /* a positive serial, as RFC 5280 asks */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)))
		goto out;
	if (!X509_set_version(c, 2) || !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
	    !X509_time_adj_ex(X509_getm_notAfter(c), (int)days, 0, NULL) ||
	    !X509_set_pubkey(c, key))
		goto out;
	name = X509_get_subject_name(c);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)"spgw national-sim (test only)",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0))
		goto out;
	if (!X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name))
		goto out;
	if (!add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash"))
		goto out;
	if (!issuer) {
		if (!add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
		    !add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"))
			goto out;
	} else {
		if (!add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") ||
		    !add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		    !add_ext(c, issuer, NID_key_usage, "critical,digitalSignature") ||
		    !add_ext(c, issuer, NID_ext_key_usage, "serverAuth"))
			goto out;
	}
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

/*
 * "127.0.0.1,localhost" -> "IP:127.0.0.1,DNS:localhost". Each name must be an IPv4 or IPv6
 * literal or a DNS name of letters, digits, '-' and '.', so nothing odd reaches the
 * extension parser.
 */
static enum spgw_rc san_value(const char *hosts, char *out, size_t size, char *first,
			      size_t first_size, struct spgw_error *err)
{
	char buf[1024], *save = NULL, *h, *p;
	unsigned char addr[16];
	size_t n = 0;
	int w;

	if (snprintf(buf, sizeof(buf), "%s", hosts) >= (int)sizeof(buf))
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "--hosts is too long");
	out[0] = first[0] = '\0';
	for (h = strtok_r(buf, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		const char *kind;

		if (inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1) {
			kind = "IP";
		} else {
			for (p = h; *p; p++) {
				if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
					return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
							      "--hosts: \"%s\" is neither an IP "
							      "address nor a DNS name", h);
			}
			if (!*h)
				continue;
			kind = "DNS";
		}
		if (!first[0])
			snprintf(first, first_size, "%s", h);
		w = snprintf(out + n, size - n, "%s%s:%s", n ? "," : "", kind, h);
		if (w < 0 || (size_t)w >= size - n)
			return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0, "--hosts is too long");
		n += (size_t)w;
	}
	if (!n)
		return spgw_error_set(err, SPGW_E_USAGE, NULL, 0, 0,
				      "--hosts names no host (e.g. 127.0.0.1,localhost)");
	return SPGW_OK;
}

static enum spgw_rc write_pem(const char *dir, const char *name, int (*fn)(BIO *, void *),
			      void *obj, mode_t mode, struct spgw_error *err)
{
	char path[4096], *p;
	BIO *b = BIO_new(BIO_s_mem());
	long n;
	enum spgw_rc rc;

	if (!b)
		return spgw_error_nomem(err, "writing a PEM file");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!fn(b, obj)) {
		BIO_free(b);
		return ossl_fail(err, "writing PEM");
	}
	n = BIO_get_mem_data(b, &p);
	rc = sim_write_file(path, p, (size_t)n, mode, err);
	BIO_free(b);
	return rc;
}

static int pem_cert(BIO *b, void *o)
{
	return PEM_write_bio_X509(b, o);
}

static int pem_private(BIO *b, void *o)
{
	return PEM_write_bio_PrivateKey(b, o, NULL, NULL, 0, NULL, NULL);
}

static int pem_public(BIO *b, void *o)
{
	return PEM_write_bio_PUBKEY(b, o);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

enum spgw_rc sim_tls_init(const struct sim_init_opts *o, struct spgw_error *err)
{
	static const char *const keys[] = { "ca.key", "server.key", "national.key" };
	char san[1100], cn[256];
	EVP_PKEY *ca_key = NULL, *srv_key = NULL, *nat_key = NULL;
	X509 *ca = NULL, *srv = NULL;
	enum spgw_rc rc;
	size_t i;

	rc = san_value(o->hosts, san, sizeof(san), cn, sizeof(cn), err);
	if (rc)
		return rc;
	if (mkdir(o->dir, 0700) && errno != EEXIST)
		return spgw_error_set(err, SPGW_E_IO, o->dir, 0, 0, "cannot create: %s",
				      strerror(errno));
	if (chmod(o->dir, 0700))
		return spgw_error_set(err, SPGW_E_IO, o->dir, 0, 0, "cannot chmod 0700: %s",
				      strerror(errno));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && !o->force; i++) {
		if (exists(o->dir, keys[i]))
			return spgw_error_set(err, SPGW_E_STATE, o->dir, 0, 0,
					      "already holds %s; refusing to replace the keys "
					      "(--force makes new ones and keeps gateways.json "
					      "and national.db)", keys[i]);
	}
	ca_key = keygen(SIM_ALG_ECDSA_P256);
	srv_key = keygen(SIM_ALG_ECDSA_P256);
	nat_key = keygen(o->alg);
	if (!ca_key || !srv_key || !nat_key) {
		rc = ossl_fail(err, "key generation");
		goto out;
	}
	ca = make_cert(ca_key, "spgw national-sim test CA", NULL, CA_DAYS);
	if (!ca || !X509_sign(ca, ca_key, EVP_sha256())) {
		rc = ossl_fail(err, "making the CA certificate");
		goto out;
	}
	srv = make_cert(srv_key, cn, ca, SERVER_DAYS);
	if (!srv || !add_ext(srv, ca, NID_subject_alt_name, san) ||
	    !X509_sign(srv, ca_key, EVP_sha256())) {
		rc = ossl_fail(err, "making the server certificate");
		goto out;
	}
	rc = write_pem(o->dir, "ca.key", pem_private, ca_key, 0600, err);
	if (!rc)
		rc = write_pem(o->dir, "ca.pem", pem_cert, ca, 0644, err);
	if (!rc)
		rc = write_pem(o->dir, "server.key", pem_private, srv_key, 0600, err);
	if (!rc)
		rc = write_pem(o->dir, "server.pem", pem_cert, srv, 0644, err);
	if (!rc)
		rc = write_pem(o->dir, "national.key", pem_private, nat_key, 0600, err);
	if (!rc)
		rc = write_pem(o->dir, "national.pub", pem_public, nat_key, 0644, err);
	if (!rc && !exists(o->dir, "gateways.json")) {
		char path[4096];
		static const char empty[] = "{\n  \"gateways\": []\n}\n";

		snprintf(path, sizeof(path), "%s/gateways.json", o->dir);
		rc = sim_write_file(path, empty, sizeof(empty) - 1, 0644, err);
	}
out:
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(nat_key);
	return rc;
}
