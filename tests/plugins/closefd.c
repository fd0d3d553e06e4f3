/* Closes fd 3 (its channel to the host), then goes on emitting and returns OK. */
#include <spgw/plugin.h>
#include <unistd.h>

static int closefd_create(const char *settings, const char *region,
			  const struct spgw_host *host, void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int closefd_pull(void *ctx, const char *cursor, const struct spgw_host *host,
			struct spgw_plugin_error *err)
{
	int i;

	(void)ctx, (void)cursor, (void)err;
	close(3);
	for (i = 0; i < 3; i++)
		host->emit(host->ctx, "t", "{}", 2);
	return SPGW_PLUGIN_OK;
}

static void closefd_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "closefd",
	.version = "1",
	.create = closefd_create,
	.pull = closefd_pull,
	.destroy = closefd_destroy,
};
