/*
 * plugin_host_mock: see plugin_host_mock.h. Plain malloc here, not spgw_malloc: the mock is
 * meant to be copied out of the tree by city teams, with nothing of the gateway around it.
 */
#include "plugin_host_mock.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The host's limits. The first three are promises of plugin.h; the record and log-line limits
 * are the gateway's (gateway/limits.h: SPGW_MAX_RECORD, SPGW_MAX_LOG_LINE).
 */
#define MOCK_MAX_TABLE 64
#define MOCK_MAX_CURSOR 4096
#define MOCK_MAX_UNCOMMITTED 5000
#define MOCK_MAX_RECORD (16u * 1024 * 1024)
#define MOCK_MAX_LOG_LINE 2048
/* Options or tables beyond this are taken for a descriptor without its NULL terminator. */
#define MOCK_MAX_LIST 1024

/* The size of an ABI 1 descriptor as first released: every member up to fini. Members
 * appended since (pull_range) exist only when the plugin's struct_size covers them. */
#define ABI1_SIZE (offsetof(struct spgw_plugin, fini) + sizeof(void (*)(void)))

struct mock_record {
	char table[MOCK_MAX_TABLE + 1];
	char *json;
	size_t len;
};

struct mock_commit {
	char *cursor;
	size_t records;
};

struct mock_log {
	enum spgw_log_level level;
	char *line;
};

struct mock_count {
	char table[MOCK_MAX_TABLE + 1];
	char day[11];
	uint64_t records;
};

/* A growable array of `size`-byte items. */
struct vec {
	void *v;
	size_t n, cap;
};

enum mock_op { MOCK_IDLE, MOCK_PULL, MOCK_COUNT };

struct spgw_mock {
	void *dl;
	struct spgw_plugin desc; /* the plugin's descriptor, members past its struct_size NULL */
	struct spgw_host host;
	enum mock_op op;
	int keep;
	int refused;             /* emit or commit answered ERROR in this run */
	long emit_left, commit_left;
	size_t uncommitted;
	char *start_cursor;
	struct vec records, commits, logs, counts;
	size_t violations;
	char error[512];
};

static void *vec_push(struct vec *a, size_t size)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *v = realloc(a->v, cap * size);

		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	return memset((char *)a->v + a->n++ * size, 0, size);
}

static void mock_addlog(struct spgw_mock *m, enum spgw_log_level level, const char *line)
{
	struct mock_log *l = vec_push(&m->logs, sizeof(*l));

	if (l) {
		l->level = level;
		l->line = strdup(line);
	}
}

/* A rule of plugin.h broken by the plugin: count it and say which. */
static void violation(struct spgw_mock *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void violation(struct spgw_mock *m, const char *fmt, ...)
{
	char line[MOCK_MAX_LOG_LINE] = "mock: ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + 6, sizeof(line) - 6, fmt, ap);
	va_end(ap);
	m->violations++;
	mock_addlog(m, SPGW_LOG_ERROR, line);
}

static void set_error(struct spgw_mock *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct spgw_mock *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
}

/* --- what the plugin calls --- */

static void host_log(void *ctx, enum spgw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_log(void *ctx, enum spgw_log_level level, const char *fmt, ...)
{
	char line[MOCK_MAX_LOG_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mock_addlog(ctx, level, line);
}

/* plugin.h: ASCII, at most 64 bytes, and in the descriptor's list when it has one. */
static int table_ok(struct spgw_mock *m, const char *table)
{
	size_t n, i;

	if (!table || !(n = strnlen(table, MOCK_MAX_TABLE + 1)) || n > MOCK_MAX_TABLE) {
		violation(m, "a table name that is missing, empty or longer than %d bytes",
			  MOCK_MAX_TABLE);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)table[i] < 0x21 || (unsigned char)table[i] > 0x7E) {
			violation(m, "table \"%s\" is not printable ASCII", table);
			return 0;
		}
	}
	if (m->desc.tables) {
		for (i = 0; m->desc.tables[i] && strcmp(m->desc.tables[i], table); i++)
			;
		if (!m->desc.tables[i]) {
			violation(m, "table \"%s\" is not in the plugin's tables list", table);
			return 0;
		}
	}
	return 1;
}

static int host_emit(void *ctx, const char *table, const char *json, size_t len)
{
	struct spgw_mock *m = ctx;
	struct mock_record *r;

	if (m->op != MOCK_PULL) {
		violation(m, "emit() called outside pull() and pull_range()");
		return SPGW_PLUGIN_ERROR;
	}
	if (m->refused) {
		violation(m, "emit() called after the host refused a record or commit");
		return SPGW_PLUGIN_ERROR;
	}
	if (m->emit_left == 0) {
		m->refused = 1; /* the fault seam: as if the gateway were stopping */
		return SPGW_PLUGIN_ERROR;
	}
	if (!table_ok(m, table) || !json || len > MOCK_MAX_RECORD ||
	    m->uncommitted >= MOCK_MAX_UNCOMMITTED) {
		if (json && len > MOCK_MAX_RECORD)
			violation(m, "a record of %zu bytes, over the %u-byte limit", len,
				  MOCK_MAX_RECORD);
		else if (m->uncommitted >= MOCK_MAX_UNCOMMITTED)
			violation(m, "more than %d records without a commit", MOCK_MAX_UNCOMMITTED);
		else if (!json)
			violation(m, "emit() with a NULL record");
		m->refused = 1;
		return SPGW_PLUGIN_ERROR;
	}
	if (m->emit_left > 0)
		m->emit_left--;
	r = vec_push(&m->records, sizeof(*r));
	if (!r)
		return SPGW_PLUGIN_ERROR;
	strcpy(r->table, table);
	r->len = len;
	if (m->keep) {
		r->json = malloc(len + 1);
		if (!r->json)
			return SPGW_PLUGIN_ERROR;
		memcpy(r->json, json, len);
		r->json[len] = '\0';
	}
	m->uncommitted++;
	return SPGW_PLUGIN_OK;
}

static int host_commit(void *ctx, const char *cursor)
{
	struct spgw_mock *m = ctx;
	struct mock_commit *c;

	if (m->op != MOCK_PULL) {
		violation(m, "commit() called outside pull() and pull_range()");
		return SPGW_PLUGIN_ERROR;
	}
	if (m->refused) {
		violation(m, "commit() called after the host refused a record or commit");
		return SPGW_PLUGIN_ERROR;
	}
	if (!cursor || strnlen(cursor, MOCK_MAX_CURSOR) >= MOCK_MAX_CURSOR) {
		violation(m, "a cursor that is NULL or not under %d bytes with its NUL",
			  MOCK_MAX_CURSOR);
		m->refused = 1;
		return SPGW_PLUGIN_ERROR;
	}
	if (m->commit_left == 0) {
		m->refused = 1; /* the fault seam: as if the ledger could not write */
		return SPGW_PLUGIN_ERROR;
	}
	if (m->commit_left > 0)
		m->commit_left--;
	c = vec_push(&m->commits, sizeof(*c));
	if (!c || !(c->cursor = strdup(cursor)))
		return SPGW_PLUGIN_ERROR;
	c->records = m->records.n;
	m->uncommitted = 0;
	return SPGW_PLUGIN_OK;
}

static int host_count(void *ctx, const char *table, const char *day, uint64_t records)
{
	struct spgw_mock *m = ctx;
	struct mock_count *c;
	int y, mo, d, used = 0;

	if (m->op != MOCK_COUNT) {
		violation(m, "count() callback called outside count()");
		return SPGW_PLUGIN_ERROR;
	}
	if (!table_ok(m, table))
		return SPGW_PLUGIN_ERROR;
	if (!day || sscanf(day, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10 ||
	    day[10]) {
		violation(m, "count day \"%s\" is not YYYY-MM-DD", day ? day : "(null)");
		return SPGW_PLUGIN_ERROR;
	}
	c = vec_push(&m->counts, sizeof(*c));
	if (!c)
		return SPGW_PLUGIN_ERROR;
	strcpy(c->table, table);
	memcpy(c->day, day, 11);
	c->records = records;
	return SPGW_PLUGIN_OK;
}

/* --- loading --- */

static int name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n < 1 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* The descriptor's own rules (plugin.h); NULL when it keeps them, else what is wrong. */
static const char *check_descriptor(const struct spgw_plugin *d, char *why, size_t len)
{
	size_t i;

	if (!name_ok(d->name))
		return "name is not 1-32 of [a-z0-9_-]";
	if (!d->version || !*d->version)
		return "version is missing";
	if (!d->create || !d->pull || !d->destroy)
		return "create, pull and destroy are required";
	for (i = 0; d->tables && d->tables[i]; i++) {
		if (i == MOCK_MAX_LIST || !*d->tables[i] || strlen(d->tables[i]) > MOCK_MAX_TABLE)
			return "tables has an empty or over-long name, or no NULL at its end";
	}
	for (i = 0; d->options && d->options[i].name; i++) {
		if (i == MOCK_MAX_LIST)
			return "options has no {NULL} entry at its end";
		if ((unsigned)d->options[i].type > SPGW_OPT_SECRET) {
			snprintf(why, len, "option \"%s\" has an unknown type %d",
				 d->options[i].name, (int)d->options[i].type);
			return why;
		}
	}
	return NULL;
}

int spgw_mock_load(const char *path, struct spgw_mock **out, char *errbuf, size_t errlen)
{
	const struct spgw_plugin *d;
	struct spgw_mock *m = calloc(1, sizeof(*m));
	const char *bad;
	char why[160];
	int rc = -1;

	if (!m) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -1;
	}
	m->keep = 1;
	m->emit_left = m->commit_left = -1;
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!m->dl) {
		snprintf(errbuf, errlen, "%s: cannot load: %s", path, dlerror());
		goto out;
	}
	d = dlsym(m->dl, "spgw_plugin");
	if (!d) {
		snprintf(errbuf, errlen, "%s: exports no spgw_plugin descriptor (is it marked "
			 "SPGW_EXPORT?)", path);
		goto out;
	}
	/* abi_version and struct_size first: nothing else is read from another ABI. */
	if (d->abi_version != SPGW_PLUGIN_ABI) {
		snprintf(errbuf, errlen,
			 "%s: built for plugin ABI %u, this host speaks %d; rebuild "
			 "it against spgw-plugin %d",
			 path, (unsigned)d->abi_version, SPGW_PLUGIN_ABI, SPGW_PLUGIN_ABI);
		goto out;
	}
	if (d->struct_size < ABI1_SIZE) {
		snprintf(errbuf, errlen,
			 "%s: descriptor struct_size %u is smaller than ABI %d's %zu", path,
			 (unsigned)d->struct_size, SPGW_PLUGIN_ABI, ABI1_SIZE);
		goto out;
	}
	/* A larger struct_size is a newer plugin of the same ABI: members we do not know of are
	 * ignored. A smaller one (but at least ABI1_SIZE) is an older plugin: the members it
	 * lacks stay NULL, and nothing past its descriptor is read. */
	memcpy(&m->desc, d, d->struct_size < sizeof(m->desc) ? d->struct_size : sizeof(m->desc));
	bad = check_descriptor(&m->desc, why, sizeof(why));
	if (bad) {
		snprintf(errbuf, errlen, "%s: malformed descriptor: %s", path, bad);
		goto out;
	}
	m->host.struct_size = sizeof(m->host);
	m->host.ctx = m;
	m->host.log = host_log;
	m->host.emit = host_emit;
	m->host.commit = host_commit;
	m->host.count = host_count;
	*out = m;
	m = NULL;
	rc = 0;
out:
	spgw_mock_free(m);
	return rc;
}

static void clear_run(struct spgw_mock *m)
{
	size_t i;

	for (i = 0; i < m->records.n; i++)
		free(((struct mock_record *)m->records.v)[i].json);
	for (i = 0; i < m->commits.n; i++)
		free(((struct mock_commit *)m->commits.v)[i].cursor);
	for (i = 0; i < m->logs.n; i++)
		free(((struct mock_log *)m->logs.v)[i].line);
	m->records.n = m->commits.n = m->logs.n = m->counts.n = 0;
	free(m->start_cursor);
	m->start_cursor = NULL;
	m->violations = 0;
	m->refused = 0;
	m->uncommitted = 0;
	m->error[0] = '\0';
}

void spgw_mock_free(struct spgw_mock *m)
{
	if (!m)
		return;
	clear_run(m);
	free(m->records.v);
	free(m->commits.v);
	free(m->logs.v);
	free(m->counts.v);
	if (m->dl)
		dlclose(m->dl);
	free(m);
}

const struct spgw_plugin *spgw_mock_plugin(const struct spgw_mock *m)
{
	return &m->desc;
}

/* --- running --- */

static const char *const type_names[] = { "a string", "an integer", "true or false", "a number",
					  "an array", "an object", "a string (secret)" };

static int type_ok(enum spgw_option_type t, const json_t *v)
{
	switch (t) {
	case SPGW_OPT_STRING:
	case SPGW_OPT_SECRET:
		return json_is_string(v);
	case SPGW_OPT_INT:
		return json_is_integer(v);
	case SPGW_OPT_BOOL:
		return json_is_boolean(v);
	case SPGW_OPT_NUMBER:
		return json_is_number(v);
	case SPGW_OPT_ARRAY:
		return json_is_array(v);
	case SPGW_OPT_OBJECT:
		return json_is_object(v);
	}
	return 0;
}

/* What the host checks before create(): the settings against the declared options. */
static int check_settings(struct spgw_mock *m, const char *settings, const char *region)
{
	const struct spgw_plugin_option *o = m->desc.options;
	json_error_t je;
	json_t *s, *v;
	const char *key;
	size_t i;
	int ok = 0;

	if (!region || strlen(region) != 6 || strspn(region, "0123456789") != 6) {
		set_error(m, "region \"%s\" is not six digits", region ? region : "(null)");
		return 0;
	}
	s = json_loads(settings, JSON_REJECT_DUPLICATES, &je);
	if (!s) {
		set_error(m, "settings:%d:%d: %s", je.line, je.column, je.text);
		goto out;
	}
	if (!json_is_object(s)) {
		set_error(m, "settings: not a JSON object");
		goto out;
	}
	json_object_foreach(s, key, v) {
		for (i = 0; o && o[i].name && strcmp(o[i].name, key); i++)
			;
		if (!o || !o[i].name) {
			set_error(m, "settings: unknown key \"%s\" (the plugin declares no such "
				  "option)", key);
			goto out;
		}
		if (!type_ok(o[i].type, v)) {
			set_error(m, "settings: \"%s\" must be %s", key, type_names[o[i].type]);
			goto out;
		}
	}
	for (i = 0; o && o[i].name; i++) {
		if (o[i].required && !json_object_get(s, o[i].name)) {
			set_error(m, "settings: \"%s\" is required (%s)", o[i].name,
				  o[i].help ? o[i].help : "no help given");
			goto out;
		}
	}
	ok = 1;
out:
	json_decref(s);
	return ok;
}

/* The end of a run: the plugin's answer checked against plugin.h. */
static int finish(struct spgw_mock *m, int rc, const struct spgw_plugin_error *err)
{
	if (rc != SPGW_PLUGIN_OK && rc != SPGW_PLUGIN_RETRY && rc != SPGW_PLUGIN_ERROR) {
		violation(m, "returned %d, which is not OK, RETRY or ERROR", rc);
		rc = SPGW_PLUGIN_ERROR;
	}
	if (!memchr(err->text, 0, sizeof(err->text)) || !memchr(err->key, 0, sizeof(err->key)))
		violation(m, "err->text or err->key is not NUL-terminated");
	else if (rc != SPGW_PLUGIN_OK && !err->text[0])
		violation(m, "returned RETRY or ERROR without saying why in err->text");
	if (rc == SPGW_PLUGIN_OK && m->refused)
		violation(m, "returned OK after the host refused a record or commit");
	if (rc != SPGW_PLUGIN_OK)
		snprintf(m->error, sizeof(m->error), "%.*s", (int)sizeof(err->text), err->text);
	return rc;
}

/* plugin.h: the host checks a range before pull_range() sees it. */
static int range_ok(const char *from, const char *to)
{
	int y, mo, d, used = 0;

	if (!from || !to || strlen(from) != 10 || strlen(to) != 10 || strcmp(from, to) > 0)
		return 0;
	return sscanf(from, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10 &&
	       sscanf(to, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10;
}

static int run(struct spgw_mock *m, enum mock_op op, const char *settings, const char *region,
	       const char *cursor, const char *table, const char *from, const char *to,
	       int range)
{
	struct spgw_plugin_error err;
	void *ctx = NULL;
	int rc;

	clear_run(m);
	if (cursor && !(m->start_cursor = strdup(cursor))) {
		set_error(m, "out of memory");
		return SPGW_MOCK_REFUSED;
	}
	if (!settings)
		settings = "{}";
	if (!check_settings(m, settings, region))
		return SPGW_MOCK_REFUSED;
	if (op == MOCK_COUNT && !m->desc.count) {
		set_error(m, "the plugin has no count(): the source shows \"not counted\"");
		return SPGW_MOCK_REFUSED;
	}
	if (range && !m->desc.pull_range) {
		set_error(m, "the plugin has no pull_range(): it cannot re-pull a date range");
		return SPGW_MOCK_REFUSED;
	}
	if (range && !range_ok(from, to)) {
		set_error(m, "the range %s..%s is not two days YYYY-MM-DD, the first not after "
			  "the second", from ? from : "(null)", to ? to : "(null)");
		return SPGW_MOCK_REFUSED;
	}
	memset(&err, 0, sizeof(err));
	if (m->desc.init) {
		rc = finish(m, m->desc.init(&m->host, &err), &err);
		if (rc != SPGW_PLUGIN_OK)
			return rc;
	}
	rc = finish(m, m->desc.create(settings, region, &m->host, &ctx, &err), &err);
	if (rc == SPGW_PLUGIN_OK) {
		m->op = op;
		if (op == MOCK_PULL && range)
			rc = m->desc.pull_range(ctx, from, to, cursor, &m->host, &err);
		else if (op == MOCK_PULL)
			rc = m->desc.pull(ctx, cursor, &m->host, &err);
		else
			rc = m->desc.count(ctx, table, from, to, &m->host, &err);
		m->op = MOCK_IDLE;
		rc = finish(m, rc, &err);
		m->desc.destroy(ctx);
	}
	if (m->desc.fini)
		m->desc.fini();
	return rc;
}

int spgw_mock_pull(struct spgw_mock *m, const char *settings, const char *region,
		   const char *cursor)
{
	return run(m, MOCK_PULL, settings, region, cursor, NULL, NULL, NULL, 0);
}

int spgw_mock_pull_range(struct spgw_mock *m, const char *settings, const char *region,
			 const char *from, const char *to, const char *cursor)
{
	return run(m, MOCK_PULL, settings, region, cursor, NULL, from, to, 1);
}

int spgw_mock_count(struct spgw_mock *m, const char *settings, const char *region,
		    const char *table, const char *from, const char *to)
{
	return run(m, MOCK_COUNT, settings, region, NULL, table, from, to, 0);
}

const char *spgw_mock_error(const struct spgw_mock *m)
{
	return m->error;
}

/* --- what the test reads --- */

#define AT(vec, type, i) (&((type *)(vec).v)[i])

size_t spgw_mock_records(const struct spgw_mock *m)
{
	return m->records.n;
}

const char *spgw_mock_record_table(const struct spgw_mock *m, size_t i)
{
	return i < m->records.n ? AT(m->records, struct mock_record, i)->table : NULL;
}

const char *spgw_mock_record_json(const struct spgw_mock *m, size_t i, size_t *len)
{
	const struct mock_record *r;

	if (i >= m->records.n)
		return NULL;
	r = AT(m->records, struct mock_record, i);
	if (len)
		*len = r->len;
	return r->json;
}

size_t spgw_mock_kept(const struct spgw_mock *m)
{
	return m->commits.n ? AT(m->commits, struct mock_commit, m->commits.n - 1)->records : 0;
}

void spgw_mock_keep_records(struct spgw_mock *m, int keep)
{
	m->keep = keep;
}

size_t spgw_mock_commits(const struct spgw_mock *m)
{
	return m->commits.n;
}

const char *spgw_mock_commit_cursor(const struct spgw_mock *m, size_t i)
{
	return i < m->commits.n ? AT(m->commits, struct mock_commit, i)->cursor : NULL;
}

size_t spgw_mock_commit_records(const struct spgw_mock *m, size_t i)
{
	return i < m->commits.n ? AT(m->commits, struct mock_commit, i)->records : 0;
}

const char *spgw_mock_cursor(const struct spgw_mock *m)
{
	return m->commits.n ? spgw_mock_commit_cursor(m, m->commits.n - 1) : m->start_cursor;
}

size_t spgw_mock_counts(const struct spgw_mock *m)
{
	return m->counts.n;
}

const char *spgw_mock_count_table(const struct spgw_mock *m, size_t i)
{
	return i < m->counts.n ? AT(m->counts, struct mock_count, i)->table : NULL;
}

const char *spgw_mock_count_day(const struct spgw_mock *m, size_t i)
{
	return i < m->counts.n ? AT(m->counts, struct mock_count, i)->day : NULL;
}

uint64_t spgw_mock_count_records(const struct spgw_mock *m, size_t i)
{
	return i < m->counts.n ? AT(m->counts, struct mock_count, i)->records : 0;
}

size_t spgw_mock_logs(const struct spgw_mock *m)
{
	return m->logs.n;
}

enum spgw_log_level spgw_mock_log_level(const struct spgw_mock *m, size_t i)
{
	return i < m->logs.n ? AT(m->logs, struct mock_log, i)->level : SPGW_LOG_DEBUG;
}

const char *spgw_mock_log_line(const struct spgw_mock *m, size_t i)
{
	return i < m->logs.n ? AT(m->logs, struct mock_log, i)->line : NULL;
}

int spgw_mock_logged(const struct spgw_mock *m, const char *text)
{
	size_t i;

	for (i = 0; i < m->logs.n; i++) {
		const char *l = AT(m->logs, struct mock_log, i)->line;

		if (l && strstr(l, text))
			return 1;
	}
	return 0;
}

size_t spgw_mock_violations(const struct spgw_mock *m)
{
	return m->violations;
}

void spgw_mock_fail_emit_after(struct spgw_mock *m, long n)
{
	m->emit_left = n < 0 ? -1 : n;
}

void spgw_mock_fail_commit_after(struct spgw_mock *m, long n)
{
	m->commit_left = n < 0 ? -1 : n;
}
