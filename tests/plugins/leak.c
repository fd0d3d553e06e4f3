/* Allocates and touches 1 MiB at a time until malloc fails, then aborts as an xmalloc would.
 * Stops at 256 MiB with ERROR "no memory limit" so a missing limit fails the test, not the
 * machine. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int leak_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int leak_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		     struct spgw_plugin_error *err)
{
	size_t total;
	char *p;

	(void)ctx, (void)cursor, (void)host;
	for (total = 0; total < ((size_t)256 << 20); total += (size_t)1 << 20) {
		p = malloc((size_t)1 << 20);
		if (!p)
			abort();
		memset(p, 1, (size_t)1 << 20);
	}
	snprintf(err->text, sizeof(err->text), "no memory limit in force");
	return SPGW_PLUGIN_ERROR;
}

static void leak_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "leak",
	.version = "1",
	.create = leak_create,
	.pull = leak_pull,
	.destroy = leak_destroy,
};
