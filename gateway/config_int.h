/*
 * Private to the configuration readers (config*.c, and catalog.c for the catalog file the
 * gateway file names): one configuration file read with the positions of its members, and
 * the helpers they use to report problems at file:line:column.
 */
#ifndef SPGW_CONFIG_INT_H
#define SPGW_CONFIG_INT_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "jsonpos.h"

/* One configuration file, read and indexed. */
struct cfile {
	const char *path; /* borrowed */
	char *text;       /* owned: the bytes read */
	const char *json; /* into text, after a UTF-8 byte order mark if there was one */
	size_t len;       /* bytes at json */
	json_t *root;     /* owned: the top-level object */
	struct spgw_jsonpos *pos; /* owned */
	const struct spgw_jsonpos_at *root_at; /* borrowed from pos */
};

/* What a configuration object's members may be (spgw_config_check_keys). */
enum ktype { K_STRING, K_INT, K_BOOL, K_OBJECT, K_ARRAY };

struct key_spec {
	const char *name;
	enum ktype type;
	int required;
};

/*
 * Check the members of `obj` (at `at`, named `where` in messages) against `spec` (at most 24
 * keys): unknown keys, wrong types, missing required keys. Returns how many problems were
 * added.
 */
size_t spgw_config_check_keys(const struct cfile *f, const json_t *obj,
			      const struct spgw_jsonpos_at *at, const char *where,
			      const struct key_spec *spec, size_t n, struct spgw_diag *d);
/* `rel` taken from the directory of `file`; absolute paths as they are. New string. */
char *spgw_config_resolve(const char *file, const char *rel);

struct spgw_config;
struct spgw_national;
/* The gateway file's "national" object into c->national (config_national.c). */
void spgw_config_national(struct spgw_config *c, const struct cfile *f, struct spgw_diag *d);
/* The gateway file's "daemon" object into c->daemon (config_daemon.c). */
struct spgw_daemon_conf;
void spgw_config_daemon(struct spgw_config *c, const struct cfile *f, struct spgw_diag *d);
void spgw_config_daemon_clear(struct spgw_daemon_conf *dc);
/* A source file's "schedule" object into s (config_daemon.c); returns problems added. */
struct spgw_source;
size_t spgw_config_schedule(struct spgw_source *s, const struct cfile *f, struct spgw_diag *d);
/* Release what spgw_config_national() allocated. */
void spgw_config_national_clear(struct spgw_national *n);

/* Read, parse and index `path` (problems to `d`); release with spgw_config_file_free(). */
enum spgw_rc spgw_config_file_load(struct cfile *f, const char *path, struct spgw_diag *d);
void spgw_config_file_free(struct cfile *f);

/* A problem in `file` at `at`: its key (value 0) or its value (value 1); at NULL: no place. */
void spgw_config_problem(struct spgw_diag *d, enum spgw_rc code, const char *file,
			 const struct spgw_jsonpos_at *at, int value, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* "unknown key "x" (did you mean "y"?)" or the list of what is known. */
void spgw_config_unknown_key(struct spgw_diag *d, const char *file,
			     const struct spgw_jsonpos_at *at, const char *what, const char *of,
			     const char *key, const char *const *names, size_t n);
/* `s` cut to fit a message, in `out` (returned). */
const char *spgw_config_show(const char *s, char out[80]);
/* "a string", "a number"...: what a JSON value is, for "expected X, got Y". */
const char *spgw_config_json_kind(const json_t *v);
/* The string member `key` of `o`, or `def`. */
const char *spgw_config_str_or(const json_t *o, const char *key, const char *def);
/* An out-of-memory problem about `file`; returns nonzero. */
int spgw_config_nomem(struct spgw_diag *d, const char *file, const char *what);
/* The code of the first problem added since the diag held n0 (and dropped0), or SPGW_OK. */
enum spgw_rc spgw_config_first_code(const struct spgw_diag *d, size_t n0, size_t dropped0);

#endif
