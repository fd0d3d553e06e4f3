/* Emits 10 records, commits, emits 5 more, then crashes with SIGSEGV. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <string.h>

static int segv_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int segv_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		     struct spgw_plugin_error *err)
{
	char rec[64];
	int i;

	(void)ctx, (void)cursor, (void)err;
	for (i = 0; i < 15; i++) {
		snprintf(rec, sizeof(rec), "{\"id\":%d}", i);
		host->emit(host->ctx, "t", rec, strlen(rec));
		if (i == 9)
			host->commit(host->ctx, "c10");
	}
	*(volatile int *)0 = 1;
	return SPGW_PLUGIN_OK;
}

static void segv_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "segv",
	.version = "1",
	.create = segv_create,
	.pull = segv_pull,
	.destroy = segv_destroy,
};
