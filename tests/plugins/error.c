/* create() returns ERROR "setting url is missing" with key "K-1"; pull() is never reached. */
#include <spgw/plugin.h>
#include <stdio.h>

static int error_create(const char *settings, const char *region, const struct spgw_host *host,
			void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)ctx;
	snprintf(err->text, sizeof(err->text), "setting url is missing");
	snprintf(err->key, sizeof(err->key), "K-1");
	return SPGW_PLUGIN_ERROR;
}

static int error_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		      struct spgw_plugin_error *err)
{
	(void)ctx, (void)cursor, (void)err;
	host->emit(host->ctx, "t", "{}", 2);
	return SPGW_PLUGIN_OK;
}

static void error_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "error",
	.version = "1",
	.create = error_create,
	.pull = error_pull,
	.destroy = error_destroy,
};
