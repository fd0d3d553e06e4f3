/* The gateway's key files on disk: their directories, first-run generation, retiring. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "mem.h"

/* The directory part of `path` ("." when none): new (spgw_free), NULL when out of memory. */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return spgw_strdup(".");
	return spgw_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* Create the directory of `path` and any missing one above it, each with mode 0700: a key
 * directory is nobody else's business. Existing directories are left as they are. */
static enum spgw_rc make_parent(const char *path, struct spgw_error *err)
{
	char *dir = parent_of(path), *p;
	enum spgw_rc rc = SPGW_OK;
	struct stat st;
	char c;

	if (!dir)
		return spgw_error_nomem(err, "key directory");
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			rc = spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
					    "cannot create the key directory: %s; create it with "
					    "mode 0700 or change the key path", strerror(errno));
			goto out;
		}
		*p = c;
		if (!c)
			break;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		rc = spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
				    "not a directory, so the key cannot go there; change the key "
				    "path");
out:
	spgw_free(dir);
	return rc;
}

enum spgw_rc spgw_keys_create(enum spgw_sign_alg alg, const char *priv_path,
			      const char *pub_path, struct spgw_error *err)
{
	enum spgw_rc rc;

	rc = make_parent(priv_path, err);
	if (!rc)
		rc = make_parent(pub_path, err);
	if (!rc)
		rc = spgw_key_generate(alg, priv_path, pub_path, err);
	return rc;
}

enum spgw_rc spgw_keys_ensure(const struct spgw_national *n, enum spgw_sign_alg alg,
			      int *created, struct spgw_error *err)
{
	enum spgw_rc rc;
	struct stat st;

	if (!n->key || !n->public_key)
		return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0,
				      "the configuration names no file for the gateway's key "
				      "(national.key and national.public_key)");
	/* lstat: a dangling link is "a key is there" too, and spgw_key_generate would refuse
	 * to replace it anyway */
	if (lstat(n->key, &st) == 0) {
		*created = 0;
		return SPGW_OK;
	}
	if (errno != ENOENT)
		return spgw_error_set(err, SPGW_E_STATE, n->key, 0, 0,
				      "cannot look for the private key: %s", strerror(errno));
	rc = spgw_keys_create(alg, n->key, n->public_key, err);
	if (!rc)
		*created = 1;
	return rc;
}

enum spgw_rc spgw_keys_retire(const char *priv_path, time_t now, char **moved_to,
			      struct spgw_error *err)
{
	char stamp[32], *to = NULL, *dir = NULL;
	enum spgw_rc rc = SPGW_OK;
	struct tm tm;
	size_t n;
	int fd;

	if (!priv_path || !priv_path[0])
		return spgw_error_set(err, SPGW_E_CONFIG, NULL, 0, 0, "no private key path given");
	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm)) {
		rc = spgw_error_set(err, SPGW_E_STATE, priv_path, 0, 0,
				    "the clock gives no usable time to name the old key");
		goto out;
	}
	n = strlen(priv_path) + strlen(stamp) + sizeof("..old");
	to = spgw_malloc(n);
	dir = parent_of(priv_path);
	if (!to || !dir) {
		rc = spgw_error_nomem(err, "old key name");
		goto out;
	}
	snprintf(to, n, "%s.%s.old", priv_path, stamp);
	/* link, then unlink: rename() would silently replace an old key already at `to` */
	if (link(priv_path, to)) {
		rc = spgw_error_set(err, errno == ENOENT ? SPGW_E_NOTFOUND : SPGW_E_STATE, to, 0,
				    0, "cannot move the old private key %s here: %s%s", priv_path,
				    strerror(errno),
				    errno == EEXIST ? "; try again in a second" : "");
		goto out;
	}
	if (unlink(priv_path)) {
		rc = spgw_error_set(err, SPGW_E_STATE, priv_path, 0, 0,
				    "cannot move the old private key aside: %s", strerror(errno));
		unlink(to);
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		rc = spgw_error_set(err, SPGW_E_IO, dir, 0, 0,
				    "cannot sync the key directory: %s (the old key is now %s)",
				    strerror(errno), to);
	if (fd >= 0)
		close(fd);
	if (rc)
		goto out;
	*moved_to = to;
	to = NULL;
out:
	spgw_free(to);
	spgw_free(dir);
	return rc;
}
