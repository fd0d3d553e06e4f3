/* Writes hand-made frames straight to fd 3, bypassing the runner's own checks, to prove the
 * host enforces the protocol by itself. settings {"mode": ...}:
 *   long_table  a RECORD whose table name is 100 bytes
 *   undeclared  a RECORD of table "secret", not in its tables ["t"]
 *   big_frame   a frame header claiming 2 GiB
 *   flood       5001 RECORDs without a commit
 *   info_twice  a second INFO
 *   done_garbage  a DONE, then bytes after it
 *   bad_cursor  a COMMIT whose cursor is not UTF-8
 *   bad_log     a LOG of level 9
 *   commit_flood  100000 COMMITs without reading a single answer
 *   api_long_cursor  (through the API, for the runner's check) commit() of a 5000-byte cursor
 * The frame format is that of gateway/frame.h, spelled out here on purpose: a plugin has only
 * include/spgw/plugin.h. */
#include <spgw/plugin.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int frame(unsigned type, const void *p, size_t n)
{
	unsigned char hdr[5];
	size_t len = n + 1;

	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	hdr[4] = (unsigned char)type;
	return write(3, hdr, 5) == 5 && (!n || write(3, p, n) == (ssize_t)n) ? 0 : -1;
}

static int forge_create(const char *settings, const char *region, const struct spgw_host *host,
			void **ctx, struct spgw_plugin_error *err)
{
	static char mode[32];
	const char *m = strstr(settings, "\"mode\":\"");

	(void)region, (void)host, (void)err;
	snprintf(mode, sizeof(mode), "%s", m ? m + 8 : "");
	if (strchr(mode, '"'))
		*strchr(mode, '"') = '\0';
	*ctx = mode;
	return SPGW_PLUGIN_OK;
}

static int forge_pull(void *ctx, const char *cursor, const struct spgw_host *host,
		      struct spgw_plugin_error *err)
{
	const char *mode = ctx;
	static char buf[5001];
	int i;

	(void)cursor, (void)err;
	if (!strcmp(mode, "long_table")) {
		memset(buf, 'a', 100);
		memcpy(buf + 100, "\0{}", 3);
		frame(4, buf, 103);
	} else if (!strcmp(mode, "undeclared")) {
		frame(4, "secret\0{}", 9);
	} else if (!strcmp(mode, "big_frame")) {
		if (write(3, "\x7f\xff\xff\xff\x04", 5) != 5)
			return SPGW_PLUGIN_ERROR;
	} else if (!strcmp(mode, "flood")) {
		for (i = 0; i < 5001; i++)
			frame(4, "t\0{}", 4);
	} else if (!strcmp(mode, "info_twice")) {
		frame(3, "{}", 2);
	} else if (!strcmp(mode, "bad_cursor")) {
		frame(5, "\xff\xfe", 2);
	} else if (!strcmp(mode, "bad_log")) {
		frame(7, "\x09hello", 6);
	} else if (!strcmp(mode, "commit_flood")) {
		for (i = 0; i < 100000 && !frame(5, "c", 1); i++)
			;
	} else if (!strcmp(mode, "api_long_cursor")) {
		memset(buf, 'c', 5000);
		return host->commit(host->ctx, buf) ? SPGW_PLUGIN_ERROR : SPGW_PLUGIN_OK;
	} else if (!strcmp(mode, "done_garbage")) {
		frame(8, "\0\0\0", 3);
		if (write(3, "xyz", 3) != 3)
			return SPGW_PLUGIN_ERROR;
	}
	/* wait to be stopped: the host must act on what it read, not on our exit */
	for (;;)
		pause();
	return SPGW_PLUGIN_OK;
}

static void forge_destroy(void *ctx)
{
	(void)ctx;
}

static const char *const forge_tables[] = {"t", NULL};

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "forge",
	.version = "1",
	.tables = forge_tables,
	.create = forge_create,
	.pull = forge_pull,
	.destroy = forge_destroy,
};
