/*
 * Unit tests for gateway/config.c.
 *
 * Most of them are data: each folder in tests/cases/config/ is a small configuration tree
 * (spgw.json, sources/, mappings/ ...) with
 *   expected          one problem per line, "FILE:LINE:COL: text fragment" (FILE relative to
 *                     the case folder; the problem must be at exactly that place and contain
 *                     the fragment), or the single word "ok". The number of problems must
 *                     match too.
 *   resolved          (optional) "FIELD = VALUE" lines checked against the loaded struct:
 *                     gateway fields (state_dir, sources_dir, ..., sources = count) and
 *                     "source NAME FIELD = VALUE"; paths are relative to the case folder,
 *                     $PLUGINS is the test's plugin directory; "gateway = PATH" names the
 *                     gateway file when it is not spgw.json.
 *   plugin-info.json  (optional) a plugin description as spgw_host_describe gives it: every
 *                     loaded source's settings are checked against it too.
 *   secret            (optional) a string that must appear in no problem.
 *
 * Environment: SPGW_TEST_CASES, the absolute path of tests/cases.
 */
/* nftw(), to remove the test's temporary folders, is an XSI function. */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "spgw_limits.h"
#include "mem.h"

#ifndef SPGW_PLUGINDIR
#define SPGW_PLUGINDIR "/usr/local/lib/spgw/plugins"
#endif

#define MAX_CASES 256

static const char *cases_dir;
static char *case_names[MAX_CASES];
static int n_cases;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *t;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	t = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(t, 1, (size_t)n, f), (size_t)n);
	t[n] = '\0';
	fclose(f);
	return t;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Folders this process made in /tmp, removed when it exits (each forked test exits). */
static char tmp_dirs[4][64];
static int n_tmp_dirs;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmp_dirs(void)
{
	while (n_tmp_dirs)
		nftw(tmp_dirs[--n_tmp_dirs], remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void made_tmp_dir(const char *dir)
{
	if (!n_tmp_dirs)
		atexit(remove_tmp_dirs);
	ck_assert_int_lt(n_tmp_dirs, 4);
	snprintf(tmp_dirs[n_tmp_dirs++], sizeof(tmp_dirs[0]), "%s", dir);
}

/*
 * A fresh plugin directory holding an (empty) spgw-files.so, named by $SPGW_PLUGIN_DIR, so
 * plugins named by name resolve the same on every machine.
 */
static const char *plugin_dir(void)
{
	static char dir[64];
	char path[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/spgw-test-config-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		made_tmp_dir(dir);
		snprintf(path, sizeof(path), "%s/spgw-files.so", dir);
		write_file(path, "", 0);
	}
	setenv("SPGW_PLUGIN_DIR", dir, 1); /* again: a test may have changed it (CK_FORK=no) */
	return dir;
}

/* `path` with the case folder (or the plugin directory) taken off its front. */
static const char *rel(const char *path, const char *casedir, char *buf, size_t size)
{
	size_t n = strlen(casedir), p = strlen(plugin_dir());

	if (!path)
		return "(null)";
	if (!strncmp(path, casedir, n) && path[n] == '/')
		return path + n + 1;
	if (!strncmp(path, plugin_dir(), p)) {
		snprintf(buf, size, "$PLUGINS%s", path + p);
		return buf;
	}
	return path;
}

static void describe(const struct spgw_diag *d, const char *casedir, char *out, size_t size)
{
	size_t i, used = 0;
	char b[64];

	out[0] = '\0';
	for (i = 0; i < d->n && used < size; i++) {
		int w = snprintf(out + used, size - used, "\n  %s:%d:%d: %s",
				 rel(d->items[i].source, casedir, b, sizeof(b)), d->items[i].line,
				 d->items[i].column, d->items[i].text);

		used += w > 0 ? (size_t)w : 0;
	}
}

/* Each expected line matches a problem of its own, at exactly its place. */
static void check_expected(const struct spgw_diag *d, const char *casedir, const char *name)
{
	char path[1200], all[16384], place[512], b[64];
	char *text, *line, *save = NULL;
	unsigned char used[256] = { 0 };
	size_t nexp = 0, i;

	snprintf(path, sizeof(path), "%s/expected", casedir);
	text = slurp(path);
	ck_assert_msg(text != NULL, "%s: no expected file", name);
	describe(d, casedir, all, sizeof(all));
	ck_assert_uint_eq(d->dropped, 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *frag = strstr(line, ": ");

		if (!strcmp(line, "ok"))
			continue;
		ck_assert_msg(frag != NULL, "%s: bad expected line \"%s\"", name, line);
		*frag = '\0';
		frag += 2;
		nexp++;
		for (i = 0; i < d->n && i < sizeof(used); i++) {
			snprintf(place, sizeof(place), "%s:%d:%d",
				 rel(d->items[i].source, casedir, b, sizeof(b)), d->items[i].line,
				 d->items[i].column);
			if (!used[i] && !strcmp(place, line) && strstr(d->items[i].text, frag)) {
				used[i] = 1;
				break;
			}
		}
		ck_assert_msg(i < d->n, "%s: no problem \"%s: %s\"; got:%s", name, line, frag, all);
	}
	ck_assert_msg(d->n == nexp, "%s: %zu problems, expected %zu:%s", name, d->n, nexp, all);
	free(text);
}

/* The value of a loaded field as the resolved file writes it. */
static const char *field(const struct spgw_config *c, const char *casedir, const char *f,
			 char *buf, size_t size)
{
	const struct spgw_source *s;
	char name[128], sub[64], b[64];

	if (!strcmp(f, "state_dir"))
		return rel(c->state_dir, casedir, buf, size);
	if (!strcmp(f, "sources_dir"))
		return rel(c->sources_dir, casedir, buf, size);
	if (!strcmp(f, "mappings_dir"))
		return rel(c->mappings_dir, casedir, buf, size);
	if (!strcmp(f, "schema_path"))
		return rel(c->schema_path, casedir, buf, size);
	if (!strcmp(f, "plugin_dir"))
		return rel(c->plugin_dir, casedir, buf, size);
	if (!strcmp(f, "log_level")) {
		static const char *const lv[] = { "error", "warning", "info", "debug" };
		return lv[c->log_level];
	}
	if (!strcmp(f, "log_format"))
		return c->log_format == SPGW_LOG_JSON ? "json" : "plain";
	if (!strcmp(f, "sources")) {
		snprintf(buf, size, "%zu", c->nsources);
		return buf;
	}
	ck_assert_msg(sscanf(f, "source %127s %63s", name, sub) == 2, "bad field \"%s\"", f);
	s = spgw_config_source(c, name);
	ck_assert_msg(s != NULL, "no source \"%s\"", name);
	if (!strcmp(sub, "file"))
		return rel(s->file, casedir, buf, size);
	if (!strcmp(sub, "plugin"))
		return s->plugin;
	if (!strcmp(sub, "plugin_path")) {
		snprintf(buf, size, "%s", rel(s->plugin_path, casedir, b, sizeof(b)));
		return buf;
	}
	if (!strcmp(sub, "region"))
		return s->region;
	if (!strcmp(sub, "mapping"))
		return rel(s->mapping, casedir, buf, size);
	if (!strcmp(sub, "settings"))
		return s->settings;
	if (!strcmp(sub, "timeout_ms"))
		snprintf(buf, size, "%d", s->timeout_ms);
	else if (!strcmp(sub, "memory_limit"))
		snprintf(buf, size, "%zu", s->memory_limit);
	else if (!strcmp(sub, "enabled"))
		snprintf(buf, size, "%d", s->enabled);
	else
		ck_abort_msg("unknown source field \"%s\"", sub);
	return buf;
}

static void check_resolved(const struct spgw_config *c, const char *casedir, char *text)
{
	char *line, *save = NULL, buf[1024];

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = ");
		const char *got;

		ck_assert_msg(eq != NULL, "bad resolved line \"%s\"", line);
		*eq = '\0';
		if (!strcmp(line, "gateway"))
			continue;
		got = field(c, casedir, line, buf, sizeof(buf));
		ck_assert_msg(got && !strcmp(got, eq + 3), "%s: \"%s\", expected \"%s\"", line,
			      got ? got : "(null)", eq + 3);
	}
}

/*
 * A case whose configuration names plugins that must exist lists them in `make-plugins`
 * (paths relative to the case, one per line): the case runs from a temporary copy where
 * they are created empty, so no build output has to live in the source tree.
 */
static void copy_with_plugins(char *casedir, size_t size)
{
	char path[1200], cmd[2600], *list, *line, *save = NULL;
	static char dir[64];

	snprintf(path, sizeof(path), "%s/make-plugins", casedir);
	list = slurp(path);
	if (!list)
		return;
	snprintf(dir, sizeof(dir), "/tmp/spgw-test-case-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	made_tmp_dir(dir);
	snprintf(cmd, sizeof(cmd), "cp -R '%s/.' '%s/'", casedir, dir);
	ck_assert_int_eq(system(cmd), 0);
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
		ck_assert_int_eq(system(cmd), 0);
		write_file(path, "", 0);
	}
	free(list);
	snprintf(casedir, size, "%s", dir);
}

START_TEST(config_case)
{
	const char *name = case_names[_i];
	char casedir[1024], path[1200], *resolved, *secret, *gw = NULL, *p;
	struct spgw_config *c = NULL;
	struct spgw_diag diag;
	json_t *info;
	size_t i;

	plugin_dir();
	snprintf(casedir, sizeof(casedir), "%s/config/%s", cases_dir, name);
	copy_with_plugins(casedir, sizeof(casedir));
	snprintf(path, sizeof(path), "%s/resolved", casedir);
	resolved = slurp(path);
	if (resolved && (p = strstr(resolved, "gateway = "))) {
		gw = strndup(p + 10, strcspn(p + 10, "\n"));
		snprintf(path, sizeof(path), "%s/%s", casedir, gw);
	} else {
		snprintf(path, sizeof(path), "%s/spgw.json", casedir);
	}
	spgw_diag_init(&diag);
	spgw_config_load(path, &c, &diag);
	snprintf(path, sizeof(path), "%s/plugin-info.json", casedir);
	info = json_load_file(path, 0, NULL);
	for (i = 0; info && c && i < c->nsources; i++)
		spgw_config_check_settings(&c->sources[i], info, &diag);
	check_expected(&diag, casedir, name);
	snprintf(path, sizeof(path), "%s/secret", casedir);
	secret = slurp(path);
	if (secret) {
		secret[strcspn(secret, "\n")] = '\0';
		for (i = 0; i < diag.n; i++)
			ck_assert_msg(!strstr(diag.items[i].text, secret),
				      "%s: the secret is in \"%s\"", name, diag.items[i].text);
	}
	if (resolved) {
		ck_assert_msg(c != NULL, "%s: no config", name);
		check_resolved(c, casedir, resolved);
	}
	spgw_config_free(c);
	spgw_diag_free(&diag);
	json_decref(info);
	free(resolved);
	free(secret);
	free(gw);
}
END_TEST

/* The export-files configuration in config/ loads cleanly and says what the README says. */
START_TEST(demo_config)
{
	char path[1024];
	struct spgw_config *c = NULL;
	struct spgw_diag diag;
	const struct spgw_source *a, *b;
	json_t *info;

	plugin_dir();
	snprintf(path, sizeof(path), "%s/../../config/spgw-files.json", cases_dir);
	spgw_diag_init(&diag);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_OK);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_uint_eq(c->nsources, 2);
	a = spgw_config_source(c, "220100-files");
	b = spgw_config_source(c, "220300-files");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(a, &c->sources[0]); /* sorted by name */
	ck_assert_str_eq(a->region, "220100");
	ck_assert_str_eq(b->region, "220300");
	ck_assert_str_eq(a->plugin, "files");
	ck_assert(strstr(a->mapping, "config/mappings/files-demo.json") != NULL);
	ck_assert(strstr(c->schema_path, "config/schema/spgl-v3.json") != NULL);
	ck_assert(strstr(c->state_dir, "config/../var/state") != NULL);
	ck_assert(a->enabled && b->enabled);
	/* the files plugin's options, as it declares them (plugins/files) */
	info = json_pack("{s:s,s:[{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},"
			 "{s:s,s:s,s:b},{s:s,s:s,s:b}]}",
			 "name", "files", "options", "name", "dir", "type", "string", "required", 1,
			 "name", "encoding", "type", "string", "required", 0, "name",
			 "stable_seconds", "type", "int", "required", 0, "name", "pattern", "type",
			 "string", "required", 0, "name", "format", "type", "string", "required", 0,
			 "name", "table_from", "type", "string", "required", 0);
	ck_assert_ptr_nonnull(info);
	ck_assert_int_eq(spgw_config_check_settings(a, info, &diag), SPGW_OK);
	ck_assert_int_eq(spgw_config_check_settings(b, info, &diag), SPGW_OK);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_str_eq(json_string_value(json_object_get(b->settings_json, "encoding")), "gbk");
	json_decref(info);
	spgw_config_free(c);
	spgw_diag_free(&diag);
}
END_TEST

/* A temporary tree for the tests that need what is not kept as case data. */
static void tmp_tree(char *dir, size_t size, const char *gateway)
{
	char path[256];

	snprintf(dir, size, "/tmp/spgw-test-config-tree-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	made_tmp_dir(dir);
	snprintf(path, sizeof(path), "%s/spgw.json", dir);
	write_file(path, gateway, strlen(gateway));
	snprintf(path, sizeof(path), "%s/sources", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/mappings", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/mappings/m.json", dir);
	write_file(path, "{}", 2);
}

START_TEST(file_over_the_limit)
{
	char dir[64], path[256];
	size_t n = SPGW_MAX_CONFIG_FILE + 10, i;
	char *big = malloc(n);
	struct spgw_config *c = NULL;
	struct spgw_diag diag;

	plugin_dir();
	tmp_tree(dir, sizeof(dir), "{\"state_dir\": \"s\"}");
	/* valid JSON, so only its size is wrong */
	memcpy(big, "{\"description\": \"", 17);
	for (i = 17; i < n - 2; i++)
		big[i] = 'x';
	memcpy(big + n - 2, "\"}", 2);
	snprintf(path, sizeof(path), "%s/sources/big.json", dir);
	write_file(path, big, n);
	spgw_diag_init(&diag);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_E_LIMIT); /* as a gateway file */
	ck_assert_ptr_null(c);
	ck_assert(strstr(diag.items[0].text, "SPGW_MAX_CONFIG_FILE") != NULL);
	spgw_diag_free(&diag);
	spgw_diag_init(&diag);
	snprintf(path, sizeof(path), "%s/spgw.json", dir);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_E_LIMIT); /* as a source */
	ck_assert_uint_eq(diag.n, 1);
	ck_assert(strstr(diag.items[0].source, "sources/big.json") != NULL);
	ck_assert_uint_eq(c->nsources, 0);
	spgw_config_free(c);
	spgw_diag_free(&diag);
	free(big);
}
END_TEST

START_TEST(missing_gateway_file)
{
	struct spgw_config *c = NULL;
	struct spgw_diag diag;

	spgw_diag_init(&diag);
	ck_assert_int_eq(spgw_config_load("/nonexistent/spgw.json", &c, &diag), SPGW_E_IO);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(diag.n, 1);
	ck_assert_str_eq(diag.items[0].source, "/nonexistent/spgw.json");
	ck_assert(strstr(diag.items[0].text, "No such file") != NULL);
	spgw_diag_free(&diag);
}
END_TEST

/* Without "plugin_dir", $SPGW_PLUGIN_DIR wins over the built-in directory. */
START_TEST(plugin_dir_default_and_env)
{
	char dir[64], path[256];
	struct spgw_config *c = NULL;
	struct spgw_diag diag;

	tmp_tree(dir, sizeof(dir), "{\"state_dir\": \"s\"}");
	snprintf(path, sizeof(path), "%s/spgw.json", dir);
	unsetenv("SPGW_PLUGIN_DIR");
	spgw_diag_init(&diag);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_OK);
	ck_assert_str_eq(c->plugin_dir, SPGW_PLUGINDIR);
	spgw_config_free(c);
	c = NULL;
	setenv("SPGW_PLUGIN_DIR", "/opt/build/plugins", 1);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_OK);
	ck_assert_str_eq(c->plugin_dir, "/opt/build/plugins");
	spgw_config_free(c);
	spgw_diag_free(&diag);
}
END_TEST

/* `spgw ingest --source FILE`: one file from anywhere, paths from its own directory. */
START_TEST(load_single_source)
{
	char casedir[1024], path[1200];
	struct spgw_config *c = NULL;
	struct spgw_source s;
	struct spgw_diag diag;

	plugin_dir();
	snprintf(casedir, sizeof(casedir), "%s/config", cases_dir);
	snprintf(path, sizeof(path), "%s/valid-minimal/spgw.json", casedir);
	spgw_diag_init(&diag);
	ck_assert_int_eq(spgw_config_load(path, &c, &diag), SPGW_OK);
	/* a source with a pathed plugin and mapping, read against valid-minimal's config */
	snprintf(path, sizeof(path), "%s/relative-paths/etc/conf/src/pathed.json", casedir);
	memset(&s, 0xAA, sizeof(s));
	ck_assert_int_eq(spgw_config_load_source(c, path, &s, &diag), SPGW_OK);
	ck_assert_str_eq(s.name, "pathed");
	ck_assert_str_eq(s.region, "220300");
	ck_assert(strstr(s.mapping, "relative-paths/etc/conf/src/../../../maps/sub/n.json"));
	spgw_config_source_clear(&s);
	ck_assert_ptr_null(s.name);
	spgw_config_source_clear(&s); /* twice is fine */
	/* a source with problems leaves *out alone */
	snprintf(path, sizeof(path), "%s/bad-region/sources/a.json", casedir);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(spgw_config_load_source(c, path, &s, &diag), SPGW_E_CONFIG);
	ck_assert_ptr_null(s.name);
	ck_assert_uint_eq(diag.n, 1);
	ck_assert_ptr_null(spgw_config_source(c, "nosuch"));
	ck_assert_ptr_nonnull(spgw_config_source(c, "220100"));
	spgw_config_free(c);
	spgw_config_free(NULL);
	spgw_diag_free(&diag);
}
END_TEST

/* One load of the case (and a settings check of its sources): its problems, as text. */
static char *load_case(const char *path, struct spgw_diag *diag, long fail_after,
		       int *untouched)
{
	char all[16384];

	struct spgw_config *c = NULL;
	json_t *info;
	void *probe;
	size_t i;

	info = json_pack("{s:s,s:[{s:s,s:s,s:b}]}", "name", "files", "options", "name", "dir",
			 "type", "string", "required", 1);
	spgw_mem_fail_after(fail_after);
	spgw_config_load(path, &c, diag);
	for (i = 0; c && i < c->nsources; i++)
		spgw_config_check_settings(&c->sources[i], info, diag);
	/* The probe is one allocation more: when it fails, either one in the run failed or
	 * the run used exactly `fail_after` of them. */
	probe = spgw_malloc(1);
	spgw_mem_fail_after(-1);
	*untouched = probe != NULL;
	spgw_free(probe);
	spgw_config_free(c);
	json_decref(info);
	describe(diag, "", all, sizeof(all));
	return strdup(all);
}

/* Make each allocation fail in turn: an error and no leak (ASan), never a crash. */
static void load_with_failures(const char *casename)
{
	struct spgw_diag diag;
	char path[1200], *baseline;
	int untouched;
	long n;

	plugin_dir();
	snprintf(path, sizeof(path), "%s/config/%s/spgw.json", cases_dir, casename);
	spgw_diag_init(&diag);
	baseline = load_case(path, &diag, -1, &untouched);
	spgw_diag_free(&diag);
	for (n = 0;; n++) {
		char *got;
		size_t i;

		spgw_diag_init(&diag);
		got = load_case(path, &diag, n, &untouched);
		for (i = 0; i < diag.n && diag.items[i].code != SPGW_E_NOMEM; i++)
			;
		/* a failure is told: as a problem, or counted as dropped */
		ck_assert_msg(untouched || i < diag.n || diag.dropped || !strcmp(got, baseline),
			      "%s: allocation %ld failed silently:%s", casename, n, got);
		spgw_diag_free(&diag);
		if (untouched)
			ck_assert_str_eq(got, baseline);
		free(got);
		if (untouched)
			break;
	}
	free(baseline);
	ck_assert_int_gt(n, 10);
}

START_TEST(allocation_failures)
{
	load_with_failures("several-problems");
	load_with_failures("valid-minimal");
	load_with_failures("duplicate-source-names");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("cases");
	TCase *tu = tcase_create("api");

	tcase_add_loop_test(tc, config_case, 0, n_cases);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tu, 60);
	tcase_add_test(tu, demo_config);
	tcase_add_test(tu, file_over_the_limit);
	tcase_add_test(tu, missing_gateway_file);
	tcase_add_test(tu, plugin_dir_default_and_env);
	tcase_add_test(tu, load_single_source);
	tcase_add_test(tu, allocation_failures);
	suite_add_tcase(s, tu);
	return s;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char path[1024];
	struct dirent *de;
	SRunner *sr;
	DIR *dh;
	int failed;

	cases_dir = getenv("SPGW_TEST_CASES");
	if (!cases_dir || !*cases_dir) {
		fprintf(stderr, "test_config: set SPGW_TEST_CASES to the absolute path of "
				"tests/cases\n");
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/config", cases_dir);
	dh = opendir(path);
	while (dh && (de = readdir(dh)) && n_cases < MAX_CASES)
		if (de->d_name[0] != '.')
			case_names[n_cases++] = strdup(de->d_name);
	if (dh)
		closedir(dh);
	if (!n_cases) {
		fprintf(stderr, "test_config: no cases in %s\n", path);
		return EXIT_FAILURE;
	}
	qsort(case_names, (size_t)n_cases, sizeof(case_names[0]), by_name);
	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	while (n_cases)
		free(case_names[--n_cases]);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
