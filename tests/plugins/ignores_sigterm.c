/* Ignores SIGTERM and hangs in pull(): only SIGKILL stops it. */
#include <signal.h>
#include <spgw/plugin.h>
#include <unistd.h>

static int ist_create(const char *settings, const char *region, const struct spgw_host *host,
		      void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int ist_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		    struct spgw_plugin_error *err)
{
	(void)ctx, (void)cursor, (void)host, (void)err;
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
	return SPGW_PLUGIN_OK;
}

static void ist_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "ignores_sigterm",
	.version = "1",
	.create = ist_create,
	.pull = ist_pull,
	.destroy = ist_destroy,
};
