/* Emits 2 records, commits, emits 1 more, then calls _exit(3) in the middle of pull(). */
#include <spgw/plugin.h>
#include <unistd.h>

static int ee_create(const char *settings, const char *region, const struct spgw_host *host,
		     void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int ee_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		   struct spgw_plugin_error *err)
{
	(void)ctx, (void)cursor, (void)err;
	host->emit(host->ctx, "t", "{}", 2);
	host->emit(host->ctx, "t", "{}", 2);
	host->commit(host->ctx, "c2");
	host->emit(host->ctx, "t", "{}", 2);
	_exit(3);
}

static void ee_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "early_exit",
	.version = "1",
	.create = ee_create,
	.pull = ee_pull,
	.destroy = ee_destroy,
};
