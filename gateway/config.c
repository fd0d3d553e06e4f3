/* Configuration files read with positions (see config.h; the format is config/README.md). */
#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config_int.h"
#include "jsonpos.h"
#include "spgw_limits.h"
#include "suggest.h"
#include "mem.h"
#include "text.h"

/* Where plugins named by name live when neither "plugin_dir" nor $SPGW_PLUGIN_DIR says; the
 * build defines it from its install prefix. */
#ifndef SPGW_PLUGINDIR
#define SPGW_PLUGINDIR "/usr/local/lib/spgw/plugins"
#endif

#define SOURCE_NAME_MAX 64


static const struct key_spec gateway_keys[] = {
	{ "state_dir", K_STRING, 1 },	 { "sources_dir", K_STRING, 0 },
	{ "mappings_dir", K_STRING, 0 }, { "schema", K_STRING, 0 },
	{ "plugin_dir", K_STRING, 0 },	 { "log", K_OBJECT, 0 },
	{ "national", K_OBJECT, 0 },	 { "catalog", K_STRING, 0 },
	{ "daemon", K_OBJECT, 0 },	 { "calendar", K_STRING, 0 },
};

static const struct key_spec log_keys[] = {
	{ "level", K_STRING, 0 },
	{ "format", K_STRING, 0 },
};

static const struct key_spec source_keys[] = {
	{ "name", K_STRING, 0 },      { "plugin", K_STRING, 1 },
	{ "region", K_STRING, 1 },    { "mapping", K_STRING, 1 },
	{ "settings", K_OBJECT, 0 },  { "timeout", K_INT, 0 },
	{ "memory_limit_mb", K_INT, 0 }, { "enabled", K_BOOL, 0 },
	{ "description", K_STRING, 0 },	 { "schedule", K_OBJECT, 0 },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* A problem in `file` at `at`: its key (value 0) or its value (value 1); at NULL: no place. */
void spgw_config_problem(struct spgw_diag *d, enum spgw_rc code, const char *file,
			const struct spgw_jsonpos_at *at, int value, const char *fmt, ...)
{
	struct spgw_error e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	va_start(ap, fmt);
	spgw_error_vset(&e, code, file, at ? (value ? at->value_line : at->line) : 0,
			at ? (value ? at->value_column : at->column) : 0, fmt, ap);
	va_end(ap);
	spgw_diag_add(d, &e);
}

/*
 * A key or value from a file, fit for a one-line message: at most 64 bytes, control
 * characters as '?', cut on a UTF-8 boundary. Only for names and codes, never a setting's
 * value (a secret's value must never reach a message).
 */
const char *spgw_config_show(const char *s, char out[80])
{
	size_t n;

	for (n = 0; s[n] && n < 64; n++)
		out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
	if (!s[n]) {
		out[n] = '\0';
		return out;
	}
	/* Cut before the code point that did not fit whole. */
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(out + n, "...", 4);
	return out;
}

const char *spgw_config_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a number";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The candidate nearest `key`, if near enough to be a likely typo. */
static const char *suggest(const char *key, const char *const *names, size_t n)
{
	struct spgw_suggest sg;
	size_t i;

	spgw_suggest_init(&sg, key);
	for (i = 0; i < n; i++)
		spgw_suggest_try(&sg, names[i]);
	return spgw_suggest_best(&sg);
}

/* "unknown key "x" (did you mean "y"?)" or the list of what is known; `what` is "key" or
 * "setting", `of` says whose ("" or " of plugin \"files\""). */
void spgw_config_unknown_key(struct spgw_diag *d, const char *file,
			     const struct spgw_jsonpos_at *at,
			const char *what, const char *of, const char *key,
			const char *const *names, size_t n)
{
	const char *near = suggest(key, names, n);
	char list[512], k[80];
	size_t i, used = 0;

	if (near) {
		spgw_config_problem(d, SPGW_E_CONFIG, file, at, 0,
			    "unknown %s \"%s\"%s (did you mean \"%s\"?)", what, spgw_config_show(key, k), of,
			    near);
		return;
	}
	list[0] = '\0';
	for (i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);

		used += w > 0 ? (size_t)w : 0;
	}
	if (n)
		spgw_config_problem(d, SPGW_E_CONFIG, file, at, 0, "unknown %s \"%s\"%s; known: %s", what,
			    spgw_config_show(key, k), of, list);
	else
		spgw_config_problem(d, SPGW_E_CONFIG, file, at, 0, "unknown %s \"%s\"%s; there are none",
			    what, spgw_config_show(key, k), of);
}

size_t spgw_config_check_keys(const struct cfile *f, const json_t *obj,
			 const struct spgw_jsonpos_at *at, const char *where,
			 const struct key_spec *spec, size_t n, struct spgw_diag *d)
{
	static const char *const expect[] = { "a string", "an integer", "true or false",
					      "an object", "an array" };
	const char *names[24];
	const char *key;
	json_t *v;
	size_t i, problems = 0;
	char k[80];

	assert(n <= 24);
	for (i = 0; i < n; i++)
		names[i] = spec[i].name;
	json_object_foreach((json_t *)obj, key, v) {
		const struct spgw_jsonpos_at *kat = spgw_jsonpos_child(f->pos, at, key);
		int ok;

		for (i = 0; i < n && strcmp(spec[i].name, key); i++)
			;
		if (i == n) {
			spgw_config_unknown_key(d, f->path, kat, "key", "", key, names, n);
			problems++;
			continue;
		}
		switch (spec[i].type) {
		case K_STRING:
			ok = json_is_string(v);
			break;
		case K_INT:
			ok = json_is_integer(v);
			break;
		case K_BOOL:
			ok = json_is_boolean(v);
			break;
		case K_ARRAY:
			ok = json_is_array(v);
			break;
		default:
			ok = json_is_object(v);
			break;
		}
		if (!ok) {
			spgw_config_problem(d, SPGW_E_CONFIG, f->path, kat, 1,
				    "\"%s\": expected %s, got %s%s", spgw_config_show(key, k),
				    expect[spec[i].type], spgw_config_json_kind(v),
				    json_is_integer(v) && spec[i].type == K_STRING
					    ? " (write it in quotes)"
					    : "");
			problems++;
		}
	}
	for (i = 0; i < n; i++)
		if (spec[i].required && !json_object_get(obj, spec[i].name)) {
			spgw_config_problem(d, SPGW_E_CONFIG, f->path, at, at != f->root_at ? 0 : 1,
				    "missing required key \"%s\" in %s", spec[i].name, where);
			problems++;
		}
	return problems;
}

/* Line and column of byte `off`, counted as jsonpos.h and jansson count. */
static void line_col(const char *s, size_t off, struct spgw_jsonpos_at *at)
{
	size_t i;

	memset(at, 0, sizeof(*at));
	at->line = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			at->line++;
			at->column = 0;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			at->column++;
		}
	}
	at->column++;
	at->value_line = at->line;
	at->value_column = at->column;
}

void spgw_config_file_free(struct cfile *f)
{
	spgw_free(f->text);
	json_decref(f->root);
	spgw_jsonpos_free(f->pos);
	memset(f, 0, sizeof(*f));
}

static enum spgw_rc read_all(struct cfile *f, struct spgw_diag *d)
{
	struct spgw_buf b;
	struct spgw_error e;
	char chunk[65536];
	ssize_t got;
	enum spgw_rc rc = SPGW_OK;
	int fd;

	memset(&e, 0, sizeof(e));
	spgw_buf_init(&b, SPGW_MAX_CONFIG_FILE, "configuration file");
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = spgw_diag_addf(d, SPGW_E_IO, f->path, 0, 0, "cannot open: %s",
				    strerror(errno));
		goto out;
	}
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = spgw_diag_addf(d, SPGW_E_IO, f->path, 0, 0, "cannot read: %s",
					    strerror(errno));
			goto out;
		}
		rc = spgw_buf_add(&b, chunk, (size_t)got, &e);
		if (rc == SPGW_E_LIMIT) {
			rc = spgw_diag_addf(d, rc, f->path, 0, 0,
					    "larger than SPGW_MAX_CONFIG_FILE (%u MiB); a "
					    "configuration file is written by people, so this is "
					    "not one",
					    SPGW_MAX_CONFIG_FILE / (1024 * 1024));
			goto out;
		}
		if (rc) {
			rc = spgw_diag_addf(d, rc, f->path, 0, 0, "%s", e.text);
			goto out;
		}
	}
	if (!b.data && spgw_buf_reserve(&b, 1, &e)) { /* an empty file: jansson reports it */
		rc = spgw_diag_addf(d, SPGW_E_NOMEM, f->path, 0, 0, "%s", e.text);
		goto out;
	}
	f->len = b.len;
	f->text = spgw_buf_take(&b);
out:
	if (fd >= 0)
		close(fd);
	spgw_buf_free(&b);
	return rc;
}

/* jansson's text without its " near '...'" part, which may quote a secret setting. */
static void strip_near(char *text)
{
	char *p = strstr(text, " near ");

	if (p)
		*p = '\0';
}

/* Read, check and index one file; every problem goes to `d`. */
enum spgw_rc spgw_config_file_load(struct cfile *f, const char *path, struct spgw_diag *d)
{
	struct spgw_jsonpos_at at;
	struct spgw_error e;
	json_error_t jerr;
	size_t off;
	enum spgw_rc rc;

	memset(f, 0, sizeof(*f));
	memset(&e, 0, sizeof(e));
	f->path = path;
	if ((rc = read_all(f, d)))
		return rc;
	f->json = f->text;
	/* Windows editors save UTF-8 with a byte order mark; it is not a column. */
	if (f->len >= 3 && !memcmp(f->text, "\xEF\xBB\xBF", 3)) {
		f->json += 3;
		f->len -= 3;
	}
	if (!spgw_text_utf8_valid(f->json, f->len, &off)) {
		line_col(f->json, off, &at);
		spgw_config_problem(d, SPGW_E_TEXT, path, &at, 0,
			    "not valid UTF-8 (byte 0x%02x): configuration files are UTF-8; "
			    "convert it (e.g. iconv -f GB18030 -t UTF-8) and save it again",
			    (unsigned char)f->json[off]);
		return SPGW_E_TEXT;
	}
	f->root = json_loadb(f->json, f->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!f->root) {
		const struct spgw_jsonpos_at *dup = NULL, *first = NULL;
		const char *key = NULL;
		char k[80];

		if (json_error_code(&jerr) == json_error_duplicate_key &&
		    !spgw_jsonpos_new(f->json, f->len, path, &f->pos, NULL))
			dup = spgw_jsonpos_duplicate(f->pos, &first, &key);
		if (dup) {
			spgw_config_problem(d, SPGW_E_CONFIG, path, dup, 0,
				    "duplicate key \"%s\" (first at line %d, column %d): keep one",
				    spgw_config_show(key, k), first->line, first->column);
			return SPGW_E_CONFIG;
		}
		strip_near(jerr.text);
		return spgw_diag_addf(d, SPGW_E_SYNTAX, path, jerr.line, jerr.column,
				      "not valid JSON: %s", jerr.text);
	}
	if ((rc = spgw_jsonpos_new(f->json, f->len, path, &f->pos, &e)))
		return spgw_diag_addf(d, rc, path, e.line, e.column, "%s", e.text);
	f->root_at = spgw_jsonpos_find(f->pos, "");
	if (!json_is_object(f->root)) {
		spgw_config_problem(d, SPGW_E_CONFIG, path, f->root_at, 1,
			    "expected an object { ... } at the top, got %s", spgw_config_json_kind(f->root));
		return SPGW_E_CONFIG;
	}
	return SPGW_OK;
}

/* The directory part of `path` with its slash ("a/b.json" -> "a/", "b.json" -> ""). */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) + 1 : 0;
}

char *spgw_config_resolve(const char *file, const char *rel)
{
	size_t n = rel[0] == '/' ? 0 : dir_len(file), m = strlen(rel);
	char *p = spgw_malloc(n + m + 1);

	if (p) {
		memcpy(p, file, n);
		memcpy(p + n, rel, m + 1);
	}
	return p;
}

/* `name` under directory `dir`. New string. */
static char *join(const char *dir, const char *prefix, const char *name, const char *suffix)
{
	size_t n = strlen(dir);
	int slash = n && dir[n - 1] != '/';
	size_t size = n + 1 + strlen(prefix) + strlen(name) + strlen(suffix) + 1;
	char *p = spgw_malloc(size);

	if (p)
		snprintf(p, size, "%s%s%s%s%s", dir, slash ? "/" : "", prefix, name, suffix);
	return p;
}

static int is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static int is_name(const char *s, size_t max, const char *extra, int upper)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		      (upper && s[n] >= 'A' && s[n] <= 'Z') || strchr(extra, s[n])))
			return 0;
	return n >= 1 && n <= max;
}

static int is_region(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n == 6;
}

/* A string member of `o`, or `def` when absent or of another type (already reported). */
const char *spgw_config_str_or(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

int spgw_config_nomem(struct spgw_diag *d, const char *file, const char *what)
{
	spgw_diag_addf(d, SPGW_E_NOMEM, file, 0, 0, "out of memory while %s", what);
	return 1;
}

void spgw_config_source_clear(struct spgw_source *s)
{
	if (!s)
		return;
	spgw_free(s->name);
	spgw_free(s->file);
	spgw_free(s->plugin);
	spgw_free(s->plugin_path);
	spgw_free(s->region);
	spgw_free(s->mapping);
	spgw_free(s->settings);
	json_decref(s->settings_json);
	spgw_free(s->pull_cron);
	spgw_free(s->endpoint);
	memset(s, 0, sizeof(*s));
}

/* The source's name: "name" or the file name without ".json". New string, or NULL. */
static char *source_name(const struct cfile *f)
{
	const char *given = json_string_value(json_object_get(f->root, "name"));
	const char *base = f->path + dir_len(f->path);
	size_t n = strlen(base);

	if (given)
		return spgw_strdup(given);
	if (n > 5 && !strcmp(base + n - 5, ".json"))
		n -= 5;
	return spgw_strndup(base, n);
}

/* An integer member within [lo, hi], or `def` when absent; out of range is a problem. */
static long long int_in(const struct cfile *f, const char *key, long long lo, long long hi,
			long long def, const char *unit, size_t *problems, struct spgw_diag *d)
{
	const json_t *v = json_object_get(f->root, key);

	if (!json_is_integer(v))
		return def; /* absent, or a wrong type already reported */
	if (json_integer_value(v) >= lo && json_integer_value(v) <= hi)
		return json_integer_value(v);
	spgw_config_problem(d, SPGW_E_CONFIG, f->path, spgw_jsonpos_child(f->pos, f->root_at, key), 1,
		    "\"%s\" is %" JSON_INTEGER_FORMAT " %s; give %lld to %lld", key,
		    json_integer_value(v), unit, lo, hi);
	(*problems)++;
	return def;
}

/* The plugin and mapping a source names, resolved, and whether their files exist. */
static size_t source_files(const struct spgw_config *c, const struct cfile *f,
			   struct spgw_source *s, struct spgw_diag *d)
{
	const char *plugin = spgw_config_str_or(f->root, "plugin", NULL);
	const char *mapping = spgw_config_str_or(f->root, "mapping", NULL);
	const struct spgw_jsonpos_at *at;
	size_t problems = 0;
	char k[80];

	at = spgw_jsonpos_child(f->pos, f->root_at, "plugin");
	if (plugin && !strchr(plugin, '/') && !is_name(plugin, 64, "_-", 0)) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, at, 1,
			    "plugin \"%s\" is neither a name (a-z 0-9 _ -, e.g. \"files\") nor a "
			    "path with a '/' (e.g. \"./spgw-mine.so\")",
			    spgw_config_show(plugin, k));
		problems++;
	} else if (plugin) {
		s->plugin = spgw_strdup(plugin);
		s->plugin_path = strchr(plugin, '/') ? spgw_config_resolve(f->path, plugin)
						     : join(c->plugin_dir, "spgw-", plugin, ".so");
		if (!s->plugin || !s->plugin_path)
			return problems + (size_t)spgw_config_nomem(d, f->path, "reading a source");
		/* A disabled source may name a plugin not deployed yet: checked once enabled. */
		if (s->enabled && !is_file(s->plugin_path)) {
			if (strchr(plugin, '/'))
				spgw_config_problem(d, SPGW_E_CONFIG, f->path, at, 1,
					    "plugin file %s does not exist", s->plugin_path);
			else
				spgw_config_problem(d, SPGW_E_CONFIG, f->path, at, 1,
					    "plugin \"%s\" not found: no file %s "
					    "(set \"plugin_dir\" in the gateway file, or "
					    "$SPGW_PLUGIN_DIR)",
					    spgw_config_show(plugin, k), s->plugin_path);
			problems++;
		}
	}
	if (!mapping)
		return problems;
	s->mapping = strchr(mapping, '/') ? spgw_config_resolve(f->path, mapping)
					  : join(c->mappings_dir, "", mapping, "");
	if (!s->mapping)
		return problems + (size_t)spgw_config_nomem(d, f->path, "reading a source");
	if (s->enabled && !is_file(s->mapping)) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path,
			    spgw_jsonpos_child(f->pos, f->root_at, "mapping"), 1,
			    "mapping file %s does not exist%s", s->mapping,
			    strchr(mapping, '/') ? ""
						 : " (a mapping named without a '/' is looked up "
						   "in mappings_dir)");
		problems++;
	}
	return problems;
}

/*
 * Check one source file and fill `s` from it. `c` gives plugin_dir and mappings_dir;
 * `others` (n of them) are the sources read before, whose names this one must not repeat.
 * Returns how many problems were added; `s` is filled as far as it could be either way.
 */
static size_t parse_source(const struct spgw_config *c, const struct cfile *f,
			   const struct spgw_source *others, size_t n, struct spgw_source *s,
			   struct spgw_diag *d)
{
	const struct spgw_jsonpos_at *name_at = spgw_jsonpos_child(f->pos, f->root_at, "name");
	const struct spgw_jsonpos_at *place = name_at ? name_at : f->root_at;
	const char *region = spgw_config_str_or(f->root, "region", NULL);
	json_t *settings = json_object_get(f->root, "settings");
	const json_t *enabled = json_object_get(f->root, "enabled");
	size_t problems, i;
	char k[80];

	problems = spgw_config_check_keys(f, f->root, f->root_at, "the source file", source_keys,
			      NKEYS(source_keys), d);
	s->file = spgw_strdup(f->path);
	s->name = source_name(f);
	if (!s->file || !s->name)
		return problems + (size_t)spgw_config_nomem(d, f->path, "reading a source");
	if (!is_name(s->name, SOURCE_NAME_MAX, "._-", 1)) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, place, !name_at,
			    "source name \"%s\"%s is not 1 to 64 of A-Z a-z 0-9 . _ -%s",
			    spgw_config_show(s->name, k), name_at ? "" : " (from the file name)",
			    name_at ? "" : "; rename the file or add a \"name\" key");
		problems++;
	}
	for (i = 0; i < n && strcmp(others[i].name, s->name); i++)
		;
	if (i < n) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path, place, !name_at,
			    "source name \"%s\" is already used by %s; each source needs its own "
			    "name (set \"name\")",
			    spgw_config_show(s->name, k), others[i].file);
		problems++;
	}
	if (region && !is_region(region)) {
		spgw_config_problem(d, SPGW_E_CONFIG, f->path,
			    spgw_jsonpos_child(f->pos, f->root_at, "region"), 1,
			    "region \"%s\" is not a six-digit region code (行政区划代码), e.g. "
			    "\"220100\"",
			    spgw_config_show(region, k));
		problems++;
	}
	s->timeout_ms = (int)int_in(f, "timeout", 1, 3600, 60, "seconds", &problems, d) * 1000;
	s->memory_limit = (size_t)int_in(f, "memory_limit_mb", 16, 65536, 1024, "MiB",
					 &problems, d) << 20;
	s->enabled = json_is_boolean(enabled) ? json_is_true(enabled) : 1;
	problems += source_files(c, f, s, d);
	problems += spgw_config_schedule(s, f, d);
	s->region = region ? spgw_strdup(region) : NULL;
	s->settings_json = json_is_object(settings) ? json_incref(settings) : json_object();
	s->settings = s->settings_json ? json_dumps(s->settings_json, JSON_COMPACT) : NULL;
	if ((region && !s->region) || !s->settings)
		return problems + (size_t)spgw_config_nomem(d, f->path, "reading a source");
	return problems;
}
/* The first code added to `d` since it held `n0` problems (and `dropped0` dropped). */
enum spgw_rc spgw_config_first_code(const struct spgw_diag *d, size_t n0, size_t dropped0)
{
	if (d->n > n0)
		return d->items[n0].code;
	return d->dropped > dropped0 ? SPGW_E_NOMEM : SPGW_OK;
}

enum spgw_rc spgw_config_load_source(const struct spgw_config *c, const char *file,
				     struct spgw_source *out, struct spgw_diag *diag)
{
	size_t n0 = diag->n, dropped0 = diag->dropped;
	struct spgw_source s;
	struct cfile f;

	memset(&s, 0, sizeof(s));
	if (!spgw_config_file_load(&f, file, diag) && !parse_source(c, &f, NULL, 0, &s, diag)) {
		*out = s;
		memset(&s, 0, sizeof(s));
	}
	spgw_config_file_free(&f);
	spgw_config_source_clear(&s);
	return spgw_config_first_code(diag, n0, dropped0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_source_name(const void *a, const void *b)
{
	return strcmp(((const struct spgw_source *)a)->name, ((const struct spgw_source *)b)->name);
}

/* The *.json file names in `dir`, sorted so problems come in the same order every time.
 * Hidden files (editor backups) are skipped. New array of new strings. */
static int list_sources(const char *dir, const char *gw, const struct spgw_jsonpos_at *at,
			char ***names, size_t *n, struct spgw_diag *d)
{
	struct dirent *de;
	DIR *dh = opendir(dir);

	*names = NULL;
	*n = 0;
	if (!dh) {
		spgw_config_problem(d, SPGW_E_CONFIG, gw, at, 1,
			    "sources directory %s cannot be read: %s (create it or set "
			    "\"sources_dir\")",
			    dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		char **grown;

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (*n == SPGW_MAX_SOURCES) {
			spgw_config_problem(d, SPGW_E_LIMIT, gw, at, 1,
				    "more than SPGW_MAX_SOURCES (%d) source files in %s",
				    SPGW_MAX_SOURCES, dir);
			break;
		}
		grown = spgw_realloc(*names, (*n + 1) * sizeof(**names));
		if (!grown || !(grown[*n] = spgw_strdup(de->d_name))) {
			if (grown)
				*names = grown;
			spgw_config_nomem(d, dir, "listing sources");
			break;
		}
		*names = grown;
		(*n)++;
	}
	closedir(dh);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

static void load_sources(struct spgw_config *c, const struct cfile *gw, struct spgw_diag *d)
{
	const struct spgw_jsonpos_at *at = spgw_jsonpos_child(gw->pos, gw->root_at, "sources_dir");
	unsigned char *ok = NULL;
	char **names;
	size_t i, n, kept;

	if (list_sources(c->sources_dir, gw->path, at ? at : gw->root_at, &names, &n, d))
		return;
	c->sources = spgw_calloc(n ? n : 1, sizeof(*c->sources));
	ok = spgw_calloc(n ? n : 1, 1);
	if (!c->sources || !ok) {
		spgw_config_nomem(d, gw->path, "reading sources");
		goto out;
	}
	/* Every source that has a name stays in the list until all are read, so a name used
	 * twice is found even when the first file has problems of its own. */
	for (i = 0; i < n; i++) {
		struct spgw_source *s = &c->sources[c->nsources];
		char *path = join(c->sources_dir, "", names[i], "");
		struct cfile f;

		memset(&f, 0, sizeof(f));
		if (!path)
			spgw_config_nomem(d, c->sources_dir, "reading sources");
		else if (!spgw_config_file_load(&f, path, d)) {
			ok[c->nsources] = !parse_source(c, &f, c->sources, c->nsources, s, d);
			if (s->name)
				c->nsources++;
			else
				spgw_config_source_clear(s);
		}
		spgw_config_file_free(&f);
		spgw_free(path);
	}
	/* A source with problems is left out (config.h). */
	for (i = kept = 0; i < c->nsources; i++) {
		if (ok[i])
			c->sources[kept++] = c->sources[i];
		else
			spgw_config_source_clear(&c->sources[i]);
	}
	c->nsources = kept;
	if (kept)
		qsort(c->sources, c->nsources, sizeof(*c->sources), by_source_name);
out:
	for (i = 0; i < n; i++)
		spgw_free(names[i]);
	spgw_free(names);
	spgw_free(ok);
}

/* "catalog" (the approval catalog, catalog.c reads it) or "calendar" (the working-day
 * calendar, calendar.c): the file's path into *out, when the file exists. */
static void gateway_data_file(const struct cfile *f, struct spgw_diag *d, const char *key,
			      char **out)
{
	const char *name = spgw_config_str_or(f->root, key, NULL);

	if (!name)
		return;
	*out = spgw_config_resolve(f->path, name);
	if (!*out) {
		spgw_config_nomem(d, f->path, "reading the gateway file");
		return;
	}
	if (is_file(*out))
		return;
	spgw_config_problem(d, SPGW_E_CONFIG, f->path,
			    spgw_jsonpos_child(f->pos, f->root_at, key), 1,
			    "%s file %s does not exist (a relative path is taken from the "
			    "gateway file's folder)",
			    key, *out);
	spgw_free(*out);
	*out = NULL;
}

/* The gateway file's own keys into `c`. */
static void parse_gateway(struct spgw_config *c, const struct cfile *f, struct spgw_diag *d)
{
	const json_t *log = json_object_get(f->root, "log");
	const char *state = spgw_config_str_or(f->root, "state_dir", NULL), *env = getenv("SPGW_PLUGIN_DIR");
	const char *plugin_dir = spgw_config_str_or(f->root, "plugin_dir", NULL), *s;
	char k[80];

	spgw_config_check_keys(f, f->root, f->root_at, "the gateway file", gateway_keys, NKEYS(gateway_keys),
		   d);
	c->log_level = SPGW_LOG_INFO;
	c->log_format = SPGW_LOG_PLAIN;
	if (json_is_object(log)) {
		const struct spgw_jsonpos_at *at = spgw_jsonpos_child(f->pos, f->root_at, "log");
		int level;

		spgw_config_check_keys(f, log, at, "\"log\"", log_keys, NKEYS(log_keys), d);
		s = spgw_config_str_or(log, "level", NULL);
		if (s && (level = spgw_log_level_parse(s)) < 0)
			spgw_config_problem(d, SPGW_E_CONFIG, f->path,
				    spgw_jsonpos_child(f->pos, at, "level"), 1,
				    "log level \"%s\" is not one of error, warning, info, debug",
				    spgw_config_show(s, k));
		else if (s)
			c->log_level = (enum spgw_log_level)level;
		s = spgw_config_str_or(log, "format", "plain");
		if (!strcmp(s, "json"))
			c->log_format = SPGW_LOG_JSON;
		else if (!strcmp(s, "journal"))
			c->log_format = SPGW_LOG_JOURNAL;
		else if (strcmp(s, "plain"))
			spgw_config_problem(d, SPGW_E_CONFIG, f->path,
				    spgw_jsonpos_child(f->pos, at, "format"), 1,
				    "log format \"%s\" is not one of plain, json, journal",
				    spgw_config_show(s, k));
	}
	c->state_dir = state ? spgw_config_resolve(f->path, state) : NULL;
	c->sources_dir = spgw_config_resolve(f->path, spgw_config_str_or(f->root, "sources_dir", "sources"));
	c->mappings_dir = spgw_config_resolve(f->path, spgw_config_str_or(f->root, "mappings_dir", "mappings"));
	c->schema_path = spgw_config_resolve(f->path, spgw_config_str_or(f->root, "schema", "schema/spgl-v3.json"));
	if (plugin_dir)
		c->plugin_dir = spgw_config_resolve(f->path, plugin_dir);
	else
		c->plugin_dir = spgw_strdup(env && *env ? env : SPGW_PLUGINDIR);
	if ((state && !c->state_dir) || !c->sources_dir || !c->mappings_dir || !c->schema_path ||
	    !c->plugin_dir)
		spgw_config_nomem(d, f->path, "reading the gateway file");
	else
		spgw_config_national(c, f, d);
	spgw_config_daemon(c, f, d);
	gateway_data_file(f, d, "catalog", &c->catalog_path);
	gateway_data_file(f, d, "calendar", &c->calendar_path);
}

enum spgw_rc spgw_config_load(const char *path, struct spgw_config **out, struct spgw_diag *diag)
{
	size_t n0 = diag->n, dropped0 = diag->dropped;
	struct spgw_config *c = NULL;
	struct cfile f;

	if (spgw_config_file_load(&f, path, diag))
		goto out;
	c = spgw_calloc(1, sizeof(*c));
	if (!c || !(c->path = spgw_strdup(path))) {
		spgw_config_nomem(diag, path, "reading the gateway file");
		goto out;
	}
	parse_gateway(c, &f, diag);
	if (c->sources_dir && c->mappings_dir && c->plugin_dir)
		load_sources(c, &f, diag);
	*out = c;
	c = NULL;
out:
	spgw_config_file_free(&f);
	spgw_config_free(c);
	return spgw_config_first_code(diag, n0, dropped0);
}

void spgw_config_free(struct spgw_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nsources; i++)
		spgw_config_source_clear(&c->sources[i]);
	spgw_free(c->sources);
	spgw_free(c->path);
	spgw_free(c->state_dir);
	spgw_free(c->sources_dir);
	spgw_free(c->mappings_dir);
	spgw_free(c->schema_path);
	spgw_free(c->plugin_dir);
	spgw_free(c->catalog_path);
	spgw_free(c->calendar_path);
	spgw_config_national_clear(&c->national);
	spgw_config_daemon_clear(&c->daemon);
	spgw_free(c);
}

const struct spgw_source *spgw_config_source(const struct spgw_config *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->nsources; i++)
		if (!strcmp(c->sources[i].name, name))
			return &c->sources[i];
	return NULL;
}

