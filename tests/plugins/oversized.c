/* Emits one record, commits, then a record of 16 MiB + 1 byte (beyond SPGW_MAX_RECORD), and
 * commits again whatever emit() said. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG ((size_t)16 * 1024 * 1024 + 1)

static int big_create(const char *settings, const char *region, const struct spgw_host *host,
		      void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int big_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		    struct spgw_plugin_error *err)
{
	char *rec;
	int rc;

	(void)ctx, (void)cursor;
	host->emit(host->ctx, "t", "{}", 2);
	host->commit(host->ctx, "c1");
	rec = malloc(BIG);
	if (!rec)
		return SPGW_PLUGIN_RETRY;
	memset(rec, ' ', BIG);
	rec[0] = '{';
	rec[BIG - 1] = '}';
	rc = host->emit(host->ctx, "t", rec, BIG);
	free(rec);
	/* careless: commits past the refused record; the host must refuse this commit too, or
	 * the cursor would move past a record that was never stored */
	host->commit(host->ctx, "c2");
	if (rc) {
		snprintf(err->text, sizeof(err->text), "the host refused the big record");
		return SPGW_PLUGIN_ERROR;
	}
	return SPGW_PLUGIN_OK;
}

static void big_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "oversized",
	.version = "1",
	.create = big_create,
	.pull = big_pull,
	.destroy = big_destroy,
};
