/* Emits 6000 records without a commit, ignoring what emit() returns, and returns OK. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <string.h>

static int nc_create(const char *settings, const char *region, const struct spgw_host *host,
		     void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int nc_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		   struct spgw_plugin_error *err)
{
	char rec[32];
	int i;

	(void)ctx, (void)cursor, (void)err;
	for (i = 0; i < 6000; i++) {
		snprintf(rec, sizeof(rec), "{\"id\":%d}", i);
		host->emit(host->ctx, "t", rec, strlen(rec));
	}
	return SPGW_PLUGIN_OK;
}

static void nc_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "no_commit",
	.version = "1",
	.create = nc_create,
	.pull = nc_pull,
	.destroy = nc_destroy,
};
