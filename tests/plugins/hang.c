/* Sleeps for ever in pull(). */
#include <spgw/plugin.h>
#include <unistd.h>

static int hang_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int hang_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		     struct spgw_plugin_error *err)
{
	(void)ctx, (void)cursor, (void)host, (void)err;
	for (;;)
		pause();
	return SPGW_PLUGIN_OK;
}

/* Counting hangs too: reconciliation must say "not counted", never wait for ever. */
static int hang_count(void *ctx, const char *table, const char *from, const char *to,
		      const struct spgw_host *host, struct spgw_plugin_error *err)
{
	(void)ctx, (void)table, (void)from, (void)to, (void)host, (void)err;
	for (;;)
		pause();
	return SPGW_PLUGIN_OK;
}

static void hang_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "hang",
	.version = "1",
	.create = hang_create,
	.pull = hang_pull,
	.count = hang_count,
	.destroy = hang_destroy,
};
