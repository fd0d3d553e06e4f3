/* A well-behaved plugin: emits settings.n records ({"id":i,"name":"项目i"}) into
 * settings.table (default "projects"), commits "rec-<i>" after every settings.k records and at
 * the end, resumes after the cursor, and counts (n projects and k items on the first day).
 * pull_range: record i was changed on 2026-01-(i % 31 + 1); it emits those of the range
 * ({"id":i,"day":"2026-01-DD"}), committing "range-<i+1>" (records 0..i looked at) after every
 * k emitted and at the end, and resumes after the cursor. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct good {
	long n, k;
	char table[80];
};

static long num(const char *s, const char *key, long def)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(s, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : def;
}

static int good_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	struct good *g = calloc(1, sizeof(*g));
	const char *t = strstr(settings, "\"table\":\"");

	(void)region;
	(void)host;
	if (!g) {
		snprintf(err->text, sizeof(err->text), "out of memory");
		return SPGW_PLUGIN_RETRY;
	}
	g->n = num(settings, "n", 10);
	g->k = num(settings, "k", 3);
	snprintf(g->table, sizeof(g->table), "%s", t ? t + 9 : "projects\"");
	*strchr(g->table, '"') = '\0';
	*ctx = g;
	return SPGW_PLUGIN_OK;
}

static int good_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		     struct spgw_plugin_error *err)
{
	struct good *g = ctx;
	char rec[128], cur[32];
	long i = cursor ? strtol(cursor + 4, NULL, 10) : 0;
	int rc;

	host->log(host->ctx, SPGW_LOG_INFO, "pulling from %s", cursor ? cursor : "the start");
	for (; i < g->n; i++) {
		snprintf(rec, sizeof(rec), "{\"id\":%ld,\"name\":\"项目%ld\"}", i, i);
		if (host->emit(host->ctx, g->table, rec, strlen(rec))) {
			snprintf(err->text, sizeof(err->text), "emit refused record %ld", i);
			return SPGW_PLUGIN_ERROR;
		}
		if ((i + 1) % g->k && i + 1 != g->n)
			continue;
		snprintf(cur, sizeof(cur), "rec-%ld", i + 1);
		rc = host->commit(host->ctx, cur);
		if (rc) {
			host->log(host->ctx, SPGW_LOG_WARNING, "commit returned %d", rc);
			snprintf(err->text, sizeof(err->text), "could not store up to %s", cur);
			return SPGW_PLUGIN_RETRY;
		}
	}
	return SPGW_PLUGIN_OK;
}

/* Day of January 2026 of a YYYY-MM-DD outside that month: before it 0, after it 32. */
static int jan_day(const char *s)
{
	if (strncmp(s, "2026-01", 7))
		return strcmp(s, "2026-01") < 0 ? 0 : 32;
	return (int)strtol(s + 8, NULL, 10);
}

static int good_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
			   const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct good *g = ctx;
	char rec[128], cur[32];
	long i = cursor ? strtol(cursor + 6, NULL, 10) : 0, pending = 0;
	int lo = jan_day(from), hi = jan_day(to), day;

	host->log(host->ctx, SPGW_LOG_INFO, "range %s..%s from %s", from, to,
		  cursor ? cursor : "the start");
	for (; i < g->n; i++) {
		day = (int)(i % 31) + 1;
		if (day < lo || day > hi)
			continue;
		snprintf(rec, sizeof(rec), "{\"id\":%ld,\"day\":\"2026-01-%02d\"}", i, day);
		if (host->emit(host->ctx, g->table, rec, strlen(rec))) {
			snprintf(err->text, sizeof(err->text), "emit refused record %ld", i);
			return SPGW_PLUGIN_ERROR;
		}
		if (++pending < g->k)
			continue;
		snprintf(cur, sizeof(cur), "range-%ld", i + 1);
		if (host->commit(host->ctx, cur)) {
			snprintf(err->text, sizeof(err->text), "could not store up to %s", cur);
			return SPGW_PLUGIN_RETRY;
		}
		pending = 0;
	}
	snprintf(cur, sizeof(cur), "range-%ld", g->n);
	if (pending && host->commit(host->ctx, cur)) {
		snprintf(err->text, sizeof(err->text), "could not store up to %s", cur);
		return SPGW_PLUGIN_RETRY;
	}
	return SPGW_PLUGIN_OK;
}

static int good_count(void *ctx, const char *table, const char *from, const char *to,
		      const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct good *g = ctx;

	(void)to;
	(void)err;
	if (!table || !strcmp(table, "projects"))
		host->count(host->ctx, "projects", from, (uint64_t)g->n);
	if (!table || !strcmp(table, "items"))
		host->count(host->ctx, "items", from, (uint64_t)g->k);
	return SPGW_PLUGIN_OK;
}

static void good_destroy(void *ctx)
{
	free(ctx);
}

static const char *const good_tables[] = {"projects", "items", NULL};
static const struct spgw_plugin_option good_options[] = {
	{.name = "n", .type = SPGW_OPT_INT, .default_value = "10", .help = "records to emit"},
	{.name = "k", .type = SPGW_OPT_INT, .default_value = "3", .help = "records per commit"},
	{.name = "table", .type = SPGW_OPT_STRING, .help = "table to emit into"},
	{.name = NULL},
};

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "good",
	.version = "1.0.0",
	.description = "test plugin that behaves",
	.tables = good_tables,
	.options = good_options,
	.create = good_create,
	.pull = good_pull,
	.count = good_count,
	.destroy = good_destroy,
	.pull_range = good_pull_range,
};
