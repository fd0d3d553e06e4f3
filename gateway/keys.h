/*
 * The gateway's key files on disk: where they live and how they come to be. sign.c knows
 * keys; this module knows the directories they go in and what happens to an old key.
 */
#ifndef SPGW_KEYS_H
#define SPGW_KEYS_H

#include <time.h>

#include "config.h"
#include "error.h"
#include "sign.h"

/*
 * Generate a key pair at `priv_path` and `pub_path` (spgw_key_generate), first creating any
 * missing directory on the way to either with mode 0700. SPGW_E_STATE when a private key is
 * already there: it is never overwritten.
 */
enum spgw_rc spgw_keys_create(enum spgw_sign_alg alg, const char *priv_path,
			      const char *pub_path, struct spgw_error *err);

/*
 * First run: generate the key pair at n->key and n->public_key when no file is at n->key;
 * otherwise do nothing (the key there is not read or checked). *created is set to 1 when a
 * pair was generated, 0 when not. SPGW_E_CONFIG when the configuration names no key path.
 */
enum spgw_rc spgw_keys_ensure(const struct spgw_national *n, enum spgw_sign_alg alg,
			      int *created, struct spgw_error *err);

/*
 * Move the private key at `priv_path` aside to "<priv_path>.<UTC time of now>.old", e.g.
 * gateway.key.20261122T120000Z.old. Never replaces a file already at that name and never
 * deletes anything. *moved_to is the new name, new (spgw_free).
 */
enum spgw_rc spgw_keys_retire(const char *priv_path, time_t now, char **moved_to,
			      struct spgw_error *err);

#endif
