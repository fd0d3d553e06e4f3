/* Prints 20000 lines to stdout and to stderr, one 5000-byte line, a line with control
 * characters and invalid UTF-8, then emits 100 records ({"id":i}) committing every 10. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <string.h>

static int flood_create(const char *settings, const char *region, const struct spgw_host *host,
			void **ctx, struct spgw_plugin_error *err)
{
	(void)settings, (void)region, (void)host, (void)err;
	*ctx = NULL;
	return SPGW_PLUGIN_OK;
}

static int flood_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		      struct spgw_plugin_error *err)
{
	char rec[64], cur[16], big[5001];
	int i;

	(void)ctx, (void)cursor, (void)err;
	printf("first line\n");
	printf("bell\a and \xff\xfe bytes\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	printf("%s\n", big);
	fflush(stdout);
	for (i = 0; i < 20000; i++) {
		printf("flood line %d\n", i);
		fprintf(stderr, "flood error %d\n", i);
	}
	for (i = 0; i < 100; i++) {
		snprintf(rec, sizeof(rec), "{\"id\":%d}", i);
		if (host->emit(host->ctx, "t", rec, strlen(rec)))
			return SPGW_PLUGIN_ERROR;
		if (i % 10 == 9) {
			snprintf(cur, sizeof(cur), "c%d", i + 1);
			if (host->commit(host->ctx, cur))
				return SPGW_PLUGIN_RETRY;
		}
	}
	printf("last line without newline");
	return SPGW_PLUGIN_OK;
}

static void flood_destroy(void *ctx)
{
	(void)ctx;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "stdout_flood",
	.version = "1",
	.create = flood_create,
	.pull = flood_pull,
	.destroy = flood_destroy,
};
