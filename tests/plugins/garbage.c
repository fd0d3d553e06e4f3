/* Emits 3 records, commits, emits 2 more, then writes random bytes to fd 3 (its channel to
 * the host) as a plugin with a stray write() would. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int garbage_create(const char *settings, const char *region,
			  const struct spgw_host *host, void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int garbage_pull(void *ctx, const char *cursor, const struct spgw_host *host,
			struct spgw_plugin_error *err)
{
	unsigned char junk[4096];
	unsigned x = 12345;
	size_t i;

	(void)ctx, (void)cursor, (void)err;
	for (i = 0; i < 5; i++) {
		host->emit(host->ctx, "t", "{}", 2);
		if (i == 2)
			host->commit(host->ctx, "c3");
	}
	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	junk[0] = 0x7f; /* a length far beyond any frame, whatever the seed gives */
	if (write(3, junk, sizeof(junk)) < 0)
		return SPGW_PLUGIN_ERROR;
	return SPGW_PLUGIN_OK;
}

static void garbage_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "garbage",
	.version = "1",
	.create = garbage_create,
	.pull = garbage_pull,
	.destroy = garbage_destroy,
};
