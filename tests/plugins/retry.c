/* Emits one record, commits, then returns RETRY: "server busy, try later". */
#include <spgw/plugin.h>
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

static void retry_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "retry",
	.version = "1",
	.create = retry_create,
	.pull = retry_pull,
	.destroy = retry_destroy,
};
