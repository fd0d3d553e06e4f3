/* Emits one record, commits, then returns RETRY: "server busy, try later". Built as a plugin
 * from before pull_range() was appended to ABI 1: its struct_size ends at fini, so the host
 * must neither refuse it nor read past it. */
#include <spgw/plugin.h>
#include <stddef.h>
#include <stdio.h>

static int retry_create(const char *settings, const char *region, const struct spgw_host *host,
			void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int retry_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		      struct spgw_plugin_error *err)
{
	(void)ctx, (void)cursor;
	host->emit(host->ctx, "t", "{}", 2);
	host->commit(host->ctx, "c1");
	snprintf(err->text, sizeof(err->text), "server busy, try later");
	return SPGW_PLUGIN_RETRY;
}

/* Past its struct_size, so never to be called: a host that reads members the plugin does not
 * declare would call it, and the test would see its error instead of "cannot re-pull". */
static int retry_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
			    const struct spgw_host *host, struct spgw_plugin_error *err)
{
	(void)ctx, (void)from, (void)to, (void)cursor, (void)host;
	snprintf(err->text, sizeof(err->text), "pull_range() was called past struct_size");
	return SPGW_PLUGIN_ERROR;
}

static void retry_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = offsetof(struct spgw_plugin, fini) + sizeof(void (*)(void)),
	.name = "retry",
	.version = "1",
	.create = retry_create,
	.pull = retry_pull,
	.destroy = retry_destroy,
	.pull_range = retry_pull_range, /* beyond struct_size: must be ignored */
};
