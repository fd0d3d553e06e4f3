/* Forks a child that lingers for ever (holding the channel and the output pipe), logs its
 * pid ("forked <pid>"), then hangs; with settings {"then":"return"} it returns OK instead. */
#include <spgw/plugin.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int forker_create(const char *settings, const char *region, const struct spgw_host *host,
			 void **ctx, struct spgw_plugin_error *err)
{
	(void)region, (void)host, (void)err;
	*ctx = strstr(settings, "\"then\":\"return\"") ? (void *)1 : NULL;
	return SPGW_PLUGIN_OK;
}

static int forker_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		       struct spgw_plugin_error *err)
{
	pid_t pid;

	(void)cursor, (void)err;
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	host->log(host->ctx, SPGW_LOG_INFO, "forked %d", (int)pid);
	if (ctx)
		return SPGW_PLUGIN_OK;
	for (;;)
		pause();
	return SPGW_PLUGIN_OK;
}

static void forker_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "forker",
	.version = "1",
	.create = forker_create,
	.pull = forker_pull,
	.destroy = forker_destroy,
};
