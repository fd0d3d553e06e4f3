/*
 * spgw-plugin-runner: the program the plugin host starts for one source and one operation.
 * It reads START from fd 3, loads the plugin, checks its descriptor before trusting any of
 * it, calls it as include/spgw/plugin.h promises, turns the host callbacks into frames
 * (frame.h) and ends with DONE.
 *
 * The runner refuses a plugin's bad call itself (an oversized record, a bad table name, too
 * many uncommitted records) so the plugin gets SPGW_PLUGIN_ERROR with a reason, as plugin.h
 * promises. Once it refused one call it refuses every later emit/commit/count: committing after
 * a dropped record would advance the cursor past a record that was never stored.
 *
 * The host does not trust this: the plugin runs in this process and can write anything to
 * fd 3, so plugin_host.c checks every frame again. Links only frame.c, mem.c, libc, libdl and
 * jansson.
 */
#define _GNU_SOURCE /* dladdr1 and RTLD_DL_SYMENT: the size of the exported descriptor */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <link.h>
#include <signal.h>
#include <spgw/plugin.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "frame.h"
#include "spgw_limits.h"
#include "mem.h"

#define CHANNEL 3

/* The descriptor of ABI 1 as first released: every member up to fini. A plugin built then
 * says so in struct_size and is served; members appended since (pull_range) are read only
 * when its struct_size covers them. */
#define ABI1_BASE_SIZE (offsetof(struct spgw_plugin, fini) + sizeof(void (*)(void)))
/* Whether the plugin's descriptor holds `member` (appended after the first ABI 1). */
#define HAS_MEMBER(p, member) \
	((p)->struct_size >= offsetof(struct spgw_plugin, member) + sizeof((p)->member))

/* A descriptor's tables and options lists must end within these many entries: a list missing
 * its terminator would otherwise be read until the runner crashes. */
#define MAX_LIST 4096

#if defined(__SANITIZE_ADDRESS__)
#define RUNNER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNER_ASAN 1
#endif
#endif

enum op { OP_DESCRIBE, OP_PULL, OP_PULL_RANGE, OP_COUNT };
enum phase { PH_NONE, PH_PULL, PH_COUNT };

struct runner {
	enum op op;
	enum phase phase;
	char path[4096];
	const struct spgw_plugin *p;
	unsigned long pending;   /* records since the last acknowledged commit */
	int commit_failed;
	int broken;              /* fd 3 failed: nothing more can be reported */
	enum spgw_frame_done status;
	char why[512];           /* the first refusal, or the load failure */
};

static struct runner R;

static void send_frame(enum spgw_frame_type type, const void *a, size_t alen, const void *b,
		       size_t blen, const void *c, size_t clen)
{
	if (R.broken)
		return;
	if (spgw_frame_send(CHANNEL, type, a, alen, b, blen, c, clen))
		R.broken = 1;
}

static void set_why(enum spgw_frame_done status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_why(enum spgw_frame_done status, const char *fmt, ...)
{
	va_list ap;

	if (R.why[0])
		return;
	R.status = status;
	va_start(ap, fmt);
	vsnprintf(R.why, sizeof(R.why), fmt, ap);
	va_end(ap);
}

/* Refuse a call: remember the first reason; every later emit/commit/count fails too. */
#define REFUSE(...) (set_why(SPGW_FRAME_DONE_REFUSED, __VA_ARGS__), SPGW_PLUGIN_ERROR)

static int stopped(void)
{
	return R.broken || R.status == SPGW_FRAME_DONE_REFUSED;
}

static void host_log(void *ctx, enum spgw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_log(void *ctx, enum spgw_log_level level, const char *fmt, ...)
{
	char line[SPGW_MAX_LOG_LINE + 1];
	unsigned char lv;
	va_list ap;
	int n;

	(void)ctx;
	if (!fmt)
		return;
	lv = (unsigned)level > SPGW_LOG_DEBUG ? SPGW_LOG_DEBUG : (unsigned char)level;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	send_frame(SPGW_FRAME_LOG, &lv, 1, line, strlen(line), NULL, 0);
}

static int table_declared(const char *table)
{
	const char *const *t;

	if (!R.p->tables)
		return 1;
	for (t = R.p->tables; *t; t++) {
		if (!strcmp(*t, table))
			return 1;
	}
	return 0;
}

static int host_emit(void *ctx, const char *table, const char *json, size_t len)
{
	const char *why;
	size_t tl;

	(void)ctx;
	if (stopped())
		return SPGW_PLUGIN_ERROR;
	if (R.phase != PH_PULL)
		return REFUSE("emit() was called outside pull() and pull_range()");
	if (!table)
		return REFUSE("emit() was given no table name");
	tl = strnlen(table, SPGW_MAX_TABLE_NAME + 1);
	why = spgw_frame_check_table(table, tl);
	if (why)
		return REFUSE("emit(): the table name \"%.64s\" %s", table, why);
	if (!json && len)
		return REFUSE("emit() was given no record bytes for table %s", table);
	if (len > SPGW_MAX_RECORD)
		return REFUSE("a record of %zu bytes from table %s exceeds the gateway's limit of "
			      "%u bytes (SPGW_MAX_RECORD); it was not stored, fix the source "
			      "record", len, table, SPGW_MAX_RECORD);
	if (!table_declared(table))
		return REFUSE("emit(): table \"%s\" is not in the plugin's declared tables", table);
	if (R.commit_failed)
		return REFUSE("emit() after a failed commit(); pull() must return "
			      "SPGW_PLUGIN_RETRY instead");
	if (R.pending >= SPGW_MAX_UNCOMMITTED)
		return REFUSE("more than %d records were emitted without a commit(); plugin.h "
			      "asks for a commit at least every %d records",
			      SPGW_MAX_UNCOMMITTED, SPGW_MAX_UNCOMMITTED);
	send_frame(SPGW_FRAME_RECORD, table, tl + 1, json, len, NULL, 0);
	if (R.broken)
		return SPGW_PLUGIN_ERROR;
	R.pending++;
	return SPGW_PLUGIN_OK;
}

static int host_commit(void *ctx, const char *cursor)
{
	unsigned type;
	char *ack = NULL;
	size_t len, n;
	const char *why;
	int rc;

	(void)ctx;
	if (stopped())
		return SPGW_PLUGIN_ERROR;
	if (R.phase != PH_PULL)
		return REFUSE("commit() was called outside pull() and pull_range()");
	if (!cursor)
		return REFUSE("commit() was given no cursor");
	n = strnlen(cursor, SPGW_MAX_CURSOR + 1);
	why = spgw_frame_check_cursor(cursor, n);
	if (why)
		return REFUSE("commit(): the cursor %s", why);
	if (R.commit_failed)
		return REFUSE("commit() after a failed commit(); pull() must return "
			      "SPGW_PLUGIN_RETRY instead");
	send_frame(SPGW_FRAME_COMMIT, cursor, n, NULL, 0, NULL, 0);
	if (R.broken)
		return SPGW_PLUGIN_ERROR;
	/* the host answers every COMMIT before reading anything else from us */
	if (spgw_frame_read(CHANNEL, &type, &ack, &len) || type != SPGW_FRAME_ACK || len < 1) {
		R.broken = 1;
		spgw_free(ack);
		return SPGW_PLUGIN_ERROR;
	}
	if (ack[0] == 0) {
		R.pending = 0;
		rc = SPGW_PLUGIN_OK;
	} else {
		R.commit_failed = 1;
		rc = SPGW_PLUGIN_ERROR;
	}
	spgw_free(ack);
	return rc;
}

static int host_count(void *ctx, const char *table, const char *day, uint64_t records)
{
	unsigned char num[8];
	const char *why;
	size_t tl;

	(void)ctx;
	if (stopped())
		return SPGW_PLUGIN_ERROR;
	if (R.phase != PH_COUNT)
		return REFUSE("count() was called outside the plugin's count()");
	if (!table || !day)
		return REFUSE("count() was given no table or no day");
	tl = strnlen(table, SPGW_MAX_TABLE_NAME + 1);
	why = spgw_frame_check_table(table, tl);
	if (why)
		return REFUSE("count(): the table name \"%.64s\" %s", table, why);
	why = spgw_frame_check_day(day, strnlen(day, 11));
	if (why)
		return REFUSE("count(): the day \"%.16s\" %s", day, why);
	spgw_frame_put_u64(num, records);
	send_frame(SPGW_FRAME_COUNT, num, 8, table, tl + 1, day, 10);
	return R.broken ? SPGW_PLUGIN_ERROR : SPGW_PLUGIN_OK;
}

static const char *type_name(enum spgw_option_type t)
{
	static const char *const names[] = {"string", "int", "bool", "number",
					    "array", "object", "secret"};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : NULL;
}

/* A JSON string of `s`, or json null for NULL; NULL (with R.why set) when not UTF-8. */
static json_t *jstr(const char *s, const char *what)
{
	json_t *j;

	if (!s)
		return json_null();
	j = json_string(s);
	if (!j)
		set_why(SPGW_FRAME_DONE_LOAD, "%s: the descriptor's %s is not valid UTF-8", R.path,
			what);
	return j;
}

/* The descriptor as the INFO object; NULL with R.why set when it is malformed. */
static json_t *describe(void)
{
	const struct spgw_plugin *p = R.p;
	const struct spgw_plugin_option *o;
	json_t *info, *arr, *opt;
	size_t i;
	int bad = 0;

	info = json_object();
	if (!info)
		return NULL;
	bad |= json_object_set_new(info, "name", jstr(p->name, "name"));
	bad |= json_object_set_new(info, "version", jstr(p->version, "version"));
	bad |= json_object_set_new(info, "description", jstr(p->description, "description"));
	bad |= json_object_set_new(info, "abi", json_integer(p->abi_version));
	bad |= json_object_set_new(info, "struct_size", json_integer(p->struct_size));
	bad |= json_object_set_new(info, "count", json_boolean(p->count != NULL));
	bad |= json_object_set_new(info, "pull_range", json_boolean(HAS_MEMBER(p, pull_range) &&
								  p->pull_range != NULL));
	arr = p->tables ? json_array() : json_null();
	for (i = 0; p->tables && p->tables[i] && !bad; i++) {
		const char *why = spgw_frame_check_table(p->tables[i],
							 strnlen(p->tables[i], 65));

		if (i >= MAX_LIST || why) {
			set_why(SPGW_FRAME_DONE_LOAD, "%s: tables[%zu] %s", R.path, i,
				why ? why : "is past the end: the list lacks its NULL terminator");
			bad = 1;
			break;
		}
		bad |= json_array_append_new(arr, json_string(p->tables[i]));
	}
	bad |= json_object_set_new(info, "tables", arr);
	arr = json_array();
	for (i = 0, o = p->options; o && o->name && !bad; i++, o++) {
		if (i >= MAX_LIST || !type_name(o->type)) {
			set_why(SPGW_FRAME_DONE_LOAD, "%s: options[%zu] %s", R.path, i,
				i >= MAX_LIST ? "is past the end: the list lacks its {NULL} entry"
					      : "has an unknown type");
			bad = 1;
			break;
		}
		opt = json_object();
		bad |= json_object_set_new(opt, "name", jstr(o->name, "option name"));
		bad |= json_object_set_new(opt, "type", json_string(type_name(o->type)));
		bad |= json_object_set_new(opt, "required", json_boolean(o->required));
		bad |= json_object_set_new(opt, "default", jstr(o->default_value, "default"));
		bad |= json_object_set_new(opt, "help", jstr(o->help, "help"));
		bad |= json_array_append_new(arr, opt);
	}
	bad |= json_object_set_new(info, "options", arr);
	if (bad) {
		set_why(SPGW_FRAME_DONE_RUNNER, "%s: cannot describe the plugin (out of memory)",
			R.path);
		json_decref(info);
		return NULL;
	}
	return info;
}

/* dlopen the plugin and check its descriptor; 0, or -1 with R.why set. */
static int load(void)
{
	const struct spgw_plugin *p;
	const ElfW(Sym) *sym = NULL;
	Dl_info dli;
	void *h, *addr;
	uint32_t abi, size;
	const char *why;

	h = dlopen(R.path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		set_why(SPGW_FRAME_DONE_LOAD, "cannot load plugin %s: %s; check the path and that "
			"it is a shared object built for this system", R.path, dlerror());
		return -1;
	}
	addr = dlsym(h, "spgw_plugin");
	if (!addr) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s does not export the symbol spgw_plugin; mark its "
			"descriptor SPGW_EXPORT (see include/spgw/plugin.h)", R.path);
		return -1;
	}
	if (!dladdr1(addr, &dli, (void **)&sym, RTLD_DL_SYMENT))
		sym = NULL;
	if (sym && sym->st_size && sym->st_size < 8) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s: spgw_plugin is only %zu bytes, not a plugin "
			"descriptor", R.path, (size_t)sym->st_size);
		return -1;
	}
	/* abi_version and struct_size first: nothing else may be read from another ABI */
	abi = ((const uint32_t *)addr)[0];
	size = ((const uint32_t *)addr)[1];
	if (abi != SPGW_PLUGIN_ABI) {
		set_why(SPGW_FRAME_DONE_ABI, "%s was built for plugin ABI %u; this spgw speaks ABI "
			"%d: rebuild it against this spgw's include/spgw/plugin.h", R.path, abi,
			SPGW_PLUGIN_ABI);
		return -1;
	}
	if (size < ABI1_BASE_SIZE) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s: its descriptor says struct_size %u but ABI 1's "
			"descriptor is at least %zu bytes; set .struct_size = sizeof(struct "
			"spgw_plugin) and rebuild against include/spgw/plugin.h", R.path, size,
			ABI1_BASE_SIZE);
		return -1;
	}
	if (sym && sym->st_size && sym->st_size < size) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s: its descriptor says struct_size %u but the "
			"symbol spgw_plugin is only %zu bytes; set .struct_size = sizeof(struct "
			"spgw_plugin)", R.path, size, (size_t)sym->st_size);
		return -1;
	}
	p = addr;
	why = p->name ? spgw_frame_check_name(p->name, strnlen(p->name, 33)) : "is missing";
	if (why) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s: the descriptor's name %s", R.path, why);
		return -1;
	}
	if (!p->version || !p->version[0] || !p->create || !p->pull || !p->destroy) {
		set_why(SPGW_FRAME_DONE_LOAD, "%s: the descriptor lacks %s, which ABI 1 requires",
			R.path, !p->version || !p->version[0] ? "version" : !p->create ? "create()"
			: !p->pull ? "pull()" : "destroy()");
		return -1;
	}
	R.p = p;
	return 0;
}

/* Apply the job's memory limit to ourselves before the plugin is loaded. Done here, not in
 * the host before exec, because only the runner knows whether it was built with
 * AddressSanitizer, whose shadow memory cannot live under an address-space limit. */
static void limit_memory(json_int_t bytes)
{
	struct rlimit rl;

#ifdef RUNNER_ASAN
	(void)rl;
	(void)bytes;
	host_log(NULL, SPGW_LOG_WARNING, "memory limit not applied: this spgw-plugin-runner was "
		 "built with AddressSanitizer");
#else
	if (bytes <= 0)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)bytes;
	/* soft and hard: the plugin cannot raise it again */
	if (setrlimit(RLIMIT_AS, &rl))
		host_log(NULL, SPGW_LOG_WARNING, "cannot apply the memory limit of %lld bytes: %s",
			 (long long)bytes, strerror(errno));
#endif
}

/* init? -> create -> pull|count -> destroy -> fini?, as plugin.h orders them. */
static int run_plugin(const json_t *start, struct spgw_plugin_error *perr)
{
	const struct spgw_host host = {
		.struct_size = sizeof(struct spgw_host),
		.ctx = &R,
		.log = host_log,
		.emit = host_emit,
		.commit = host_commit,
		.count = host_count,
	};
	const char *settings = json_string_value(json_object_get(start, "settings"));
	const char *region = json_string_value(json_object_get(start, "region"));
	const char *cursor = json_string_value(json_object_get(start, "cursor"));
	void *ctx = NULL;
	int rc, created;

	if (R.p->init) {
		rc = R.p->init(&host, perr);
		/* "nothing else of the plugin is called then" */
		if (rc != SPGW_PLUGIN_OK)
			return rc;
	}
	rc = R.p->create(settings ? settings : "{}", region ? region : "", &host, &ctx, perr);
	created = rc == SPGW_PLUGIN_OK;
	if (created && R.op == OP_PULL) {
		R.phase = PH_PULL;
		rc = R.p->pull(ctx, cursor, &host, perr);
	} else if (created && R.op == OP_PULL_RANGE) {
		/* the same host services and rules as pull(): emit, commit, the ceilings */
		R.phase = PH_PULL;
		rc = R.p->pull_range(ctx, json_string_value(json_object_get(start, "from")),
				     json_string_value(json_object_get(start, "to")), cursor, &host,
				     perr);
	} else if (created) {
		R.phase = PH_COUNT;
		rc = R.p->count(ctx, json_string_value(json_object_get(start, "table")),
				json_string_value(json_object_get(start, "from")),
				json_string_value(json_object_get(start, "to")), &host, perr);
	}
	R.phase = PH_NONE;
	/* destroy() pairs with a create() that succeeded, even one that left *ctx NULL */
	if (created)
		R.p->destroy(ctx);
	/* fini undoes init, which succeeded, even when create() failed */
	if (R.p->fini)
		R.p->fini();
	return rc;
}

static void send_done(int rc, const struct spgw_plugin_error *perr)
{
	unsigned char head[2];
	char text[1100]; /* a refusal (512) and the plugin's own text (512) */
	const char *names[] = {"OK", "RETRY", "ERROR"};

	if (R.status == SPGW_FRAME_DONE_RETURNED && (rc < 0 || rc > SPGW_PLUGIN_ERROR))
		set_why(SPGW_FRAME_DONE_REFUSED, "the plugin returned %d, which is not an "
			"spgw_plugin_rc", rc);
	if (rc < 0 || rc > SPGW_PLUGIN_ERROR)
		rc = SPGW_PLUGIN_ERROR;
	if (R.status == SPGW_FRAME_DONE_REFUSED && perr->text[0])
		snprintf(text, sizeof(text), "%s (then it returned %s: %s)", R.why, names[rc],
			 perr->text);
	else
		snprintf(text, sizeof(text), "%s", R.why[0] ? R.why : perr->text);
	head[0] = (unsigned char)R.status;
	head[1] = (unsigned char)rc;
	send_frame(SPGW_FRAME_DONE, head, 2, text, strlen(text) + 1, perr->key,
		   strnlen(perr->key, sizeof(perr->key)));
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * In a sanitizer build the runner must still die of a plugin's crash by the signal itself:
 * the host reports "crashed with signal 11", which it cannot do when ASan turns the signal
 * into exit status 1. ASan reads these defaults before ASAN_OPTIONS.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0";
}
#endif

int main(int argc, char **argv)
{
	struct spgw_plugin_error perr;
	json_t *start = NULL, *info = NULL;
	json_error_t jerr;
	unsigned type;
	char *payload = NULL, *dump;
	size_t len;
	const char *op, *path;
	int rc = SPGW_PLUGIN_OK;

	(void)argc;
	(void)argv;
	memset(&perr, 0, sizeof(perr));
	/* a plugin writing to a closed socket gets EPIPE, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(CHANNEL, F_GETFD) < 0) {
		fprintf(stderr, "spgw-plugin-runner: spgw starts this program for each plugin "
			"run; it is not meant to be run by hand\n");
		return 2;
	}
	if (spgw_frame_read(CHANNEL, &type, &payload, &len) || type != SPGW_FRAME_START)
		_exit(2);
	start = json_loadb(payload, len, 0, &jerr);
	spgw_free(payload);
	op = json_string_value(json_object_get(start, "op"));
	path = json_string_value(json_object_get(start, "plugin"));
	if (!op || !path) {
		set_why(SPGW_FRAME_DONE_RUNNER, "the START frame is malformed: %s", jerr.text);
		goto done;
	}
	if (!strcmp(op, "pull"))
		R.op = OP_PULL;
	else if (!strcmp(op, "pull_range"))
		R.op = OP_PULL_RANGE;
	else if (!strcmp(op, "count"))
		R.op = OP_COUNT;
	else
		R.op = OP_DESCRIBE;
	/* without a slash dlopen would search the library path, not the current directory */
	snprintf(R.path, sizeof(R.path), "%s%s", strchr(path, '/') ? "" : "./", path);
	limit_memory(json_integer_value(json_object_get(start, "memory_limit")));
	if (load())
		goto done;
	info = describe();
	if (!info)
		goto done;
	dump = json_dumps(info, JSON_COMPACT);
	if (!dump) {
		set_why(SPGW_FRAME_DONE_RUNNER, "%s: cannot describe the plugin (out of memory)",
			R.path);
		goto done;
	}
	send_frame(SPGW_FRAME_INFO, dump, strlen(dump), NULL, 0, NULL, 0);
	free(dump);
	if (R.op == OP_COUNT && !R.p->count)
		set_why(SPGW_FRAME_DONE_UNSUPPORTED, "%s has no count()", R.path);
	else if (R.op == OP_PULL_RANGE && !(HAS_MEMBER(R.p, pull_range) && R.p->pull_range))
		set_why(SPGW_FRAME_DONE_UNSUPPORTED, "%s has no pull_range()", R.path);
	else if (R.op == OP_PULL_RANGE &&
		 (spgw_frame_check_day(json_string_value(json_object_get(start, "from")),
				       json_string_length(json_object_get(start, "from"))) ||
		  spgw_frame_check_day(json_string_value(json_object_get(start, "to")),
				       json_string_length(json_object_get(start, "to")))))
		set_why(SPGW_FRAME_DONE_RUNNER, "%s: pull_range was asked for a range that is "
			"not two days YYYY-MM-DD", R.path);
	else if (R.op != OP_DESCRIBE)
		rc = run_plugin(start, &perr);
done:
	perr.text[sizeof(perr.text) - 1] = '\0';
	perr.key[sizeof(perr.key) - 1] = '\0';
	/* the plugin's printf output sits in stdio buffers; _exit below would lose it */
	fflush(NULL);
	send_done(rc, &perr);
	json_decref(info);
	json_decref(start);
	/* _exit: the plugin's destructors and atexit handlers could still crash or hang after
	 * the outcome was reported */
	_exit(R.broken ? 1 : 0);
}
