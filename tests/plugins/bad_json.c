/* Emits records that are not valid JSON objects or not UTF-8, then commits "end". These are
 * not plugin errors: the host must deliver their bytes unchanged. */
#include <spgw/plugin.h>
#include <string.h>

static const char rec_nul[] = "{\"a\":\"x\0y\"}";

static int bad_create(const char *settings, const char *region, const struct spgw_host *host,
		      void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int bad_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		    struct spgw_plugin_error *err)
{
	static const char *const recs[] = {"not json", "{\"a\":", "\xff\xfe{}", "[1,2]", ""};
	size_t i;

	(void)ctx, (void)cursor, (void)err;
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		if (host->emit(host->ctx, "t", recs[i], strlen(recs[i])))
			return SPGW_PLUGIN_ERROR;
	}
	if (host->emit(host->ctx, "t", rec_nul, sizeof(rec_nul) - 1))
		return SPGW_PLUGIN_ERROR;
	return host->commit(host->ctx, "end") ? SPGW_PLUGIN_RETRY : SPGW_PLUGIN_OK;
}

static void bad_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "bad_json",
	.version = "1",
	.create = bad_create,
	.pull = bad_pull,
	.destroy = bad_destroy,
};
