/* Loops for ever without a system call in pull(). */
#include <spgw/plugin.h>

static int spin_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int spin_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		     struct spgw_plugin_error *err)
{
	volatile unsigned long n = 0;

	(void)ctx, (void)cursor, (void)host, (void)err;
	for (;;)
		n++;
	return SPGW_PLUGIN_OK;
}

static void spin_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "spin",
	.version = "1",
	.create = spin_create,
	.pull = spin_pull,
	.destroy = spin_destroy,
};
