/* `spgw keygen`: the gateway's signing key pair, for the national platform to register. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "keys.h"
#include "mem.h"
#include "sign.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] keygen [--alg sm2-sm3|ecdsa-p256-sha256|ed25519]\n"
		"                             [--out DIR] [--force]\n"
		"\n"
		"Generates the key pair the gateway signs its requests with (PROTOCOL.md §1): the\n"
		"private key as PKCS#8 PEM with mode 0600, and its public half. They go where the\n"
		"configuration's national.key and national.public_key say (by default\n"
		"<state_dir>/keys/gateway.key and gateway.pub), or with --out DIR to\n"
		"DIR/gateway.key and DIR/gateway.pub. A missing directory is created with\n"
		"mode 0700.\n"
		"\n"
		"  -a, --alg ALG  the algorithm: the configuration's national.alg, else sm2-sm3\n"
		"                 (with both --out and --alg the configuration is not read)\n"
		"  -o, --out DIR  write to DIR instead of the configured paths\n"
		"  -f, --force    if a private key is already there, rename it to\n"
		"                 gateway.key.<UTC time>.old first; no key is ever deleted\n"
		"\n"
		"Prints the public key: register it with the national platform together with the\n"
		"gateway id before the first upload.\n"
		"Exit status 0; 4 when a private key is already there and --force was not\n"
		"given.\n");
}

/* "dir/name": new (spgw_free), NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = spgw_malloc(n);

	if (s)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* Print the public key just written and what the operator does with it. */
static int show(const char *priv, const char *pub, enum spgw_sign_alg alg,
		const char *gateway_id)
{
	struct spgw_key *k = NULL;
	struct spgw_error err;
	char *pem = NULL;
	int status = SPGW_EXIT_OK;

	memset(&err, 0, sizeof(err));
	if (spgw_key_load_public(pub, &k, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	pem = spgw_key_public_pem(k);
	if (!pem) {
		fprintf(stderr, "spgw: keygen: out of memory printing the public key\n");
		status = SPGW_EXIT_ERROR;
		goto out;
	}
	printf("%s", pem);
	printf("Wrote the %s private key %s (mode 0600) and its public key %s.\n",
	       spgw_sign_alg_name(alg), priv, pub);
	if (gateway_id)
		printf("Register this public key with the national platform together with the "
		       "gateway id %s.\n", gateway_id);
	else
		printf("Register this public key with the national platform together with the "
		       "gateway id (national.gateway_id in the configuration).\n");
out:
	spgw_free(pem);
	spgw_key_free(k);
	return status;
}

int spgw_cmd_keygen(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_error err;
	const char *alg_arg = NULL, *out_dir = NULL, *gateway_id = NULL;
	char *priv = NULL, *pub = NULL, *moved = NULL;
	enum spgw_sign_alg alg = SPGW_SIGN_SM2_SM3;
	struct stat st;
	int opt, force = 0, status = SPGW_EXIT_OK;

	memset(&err, 0, sizeof(err));
	while ((opt = getopt_long(argc, argv, "a:o:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			alg_arg = optarg;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			help(stdout);
			return SPGW_EXIT_OK;
		default:
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	if (optind != argc || (out_dir && !*out_dir)) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if (alg_arg && spgw_sign_alg_parse(alg_arg, &alg, &err)) {
		fprintf(stderr, "spgw: keygen: %s\n", err.text);
		return SPGW_EXIT_USAGE;
	}
	/* the configuration gives the paths, the algorithm and the id to register with */
	if (!out_dir || !alg_arg) {
		status = spgw_cmd_open(ctx, &c, &s, NULL);
		if (status)
			goto out;
		gateway_id = c->national.gateway_id;
		if (!alg_arg && c->national.alg && spgw_sign_alg_parse(c->national.alg, &alg,
								       &err)) {
			fprintf(stderr, "spgw: %s: national.alg: %s\n", c->path, err.text);
			status = SPGW_EXIT_CONFIG;
			goto out;
		}
	}
	if (out_dir) {
		priv = join(out_dir, "gateway.key");
		pub = join(out_dir, "gateway.pub");
	} else if (c->national.key && c->national.public_key) {
		priv = spgw_strdup(c->national.key);
		pub = spgw_strdup(c->national.public_key);
	} else {
		fprintf(stderr, "spgw: %s: the configuration names no file for the gateway's key "
				"(national.key); give one there or use spgw keygen --out DIR\n",
			c->path);
		status = SPGW_EXIT_CONFIG;
		goto out;
	}
	if (!priv || !pub) {
		fprintf(stderr, "spgw: keygen: out of memory\n");
		status = SPGW_EXIT_ERROR;
		goto out;
	}
	if (force && lstat(priv, &st) == 0 && spgw_keys_retire(priv, time(NULL), &moved, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	if (moved)
		printf("Moved the old private key to %s.\n", moved);
	if (spgw_keys_create(alg, priv, pub, &err)) {
		spgw_cmd_perror(&err);
		if (moved)
			fprintf(stderr, "spgw: the old private key is at %s; rename it back to "
					"%s to keep using it\n", moved, priv);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	status = show(priv, pub, alg, gateway_id);
out:
	spgw_free(moved);
	spgw_free(priv);
	spgw_free(pub);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
