/*
 * The frames spoken between the plugin host (plugin_host.c) and a plugin child
 * (spgw-plugin-runner, plugin_runner.c) over the socketpair the child holds as fd 3.
 *
 * A frame is [u32 big-endian length of the rest][u8 type][payload]; the length counts the type
 * byte, so it is at least 1 and at most SPGW_MAX_FRAME. Multi-byte numbers are big-endian.
 *
 *   host -> child
 *     START   JSON object: {"op": "describe"|"pull"|"pull_range"|"count", "plugin": path,
 *             "source": name, "region": code|null, "settings": JSON text, "cursor": text|null,
 *             "table": name|null, "from": day|null, "to": day|null, "memory_limit": bytes}
 *             (pull_range: "from" and "to" are the range, "cursor" the range's own)
 *     ACK     the answer to one COMMIT: [u8 0 ok | 1 failed] then one line of text
 *   child -> host
 *     INFO    always the first frame after a plugin loaded: the descriptor as JSON (the
 *             describe object of plugin_host.h, without "path")
 *     RECORD  table name, a NUL, then the record's bytes (any bytes: not checked here)
 *     COMMIT  the cursor's bytes (no NUL)
 *     COUNT   [u64 records] table name, a NUL, then the day (YYYY-MM-DD)
 *     LOG     [u8 enum spgw_log_level] then the text
 *     DONE    the last frame: [u8 enum spgw_frame_done][u8 enum spgw_plugin_rc] text, a NUL,
 *             then the record key the plugin gave (may be empty)
 *
 * Valid order, child side: INFO, then LOG any time and, by op, RECORD/COMMIT (pull and
 * pull_range) or COUNT (count), then DONE, then nothing. DONE may come without INFO when
 * loading failed. After each COMMIT the child waits for its ACK before sending anything else.
 *
 * The checks below are shared so that the runner refuses a plugin's bad call with the same rule
 * the host enforces against a forged frame (the plugin shares the runner's process).
 */
#ifndef SPGW_FRAME_H
#define SPGW_FRAME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The length word and the type byte. */
#define SPGW_FRAME_HEADER 5

enum spgw_frame_type {
	SPGW_FRAME_START = 1,
	SPGW_FRAME_ACK = 2,
	SPGW_FRAME_INFO = 3,
	SPGW_FRAME_RECORD = 4,
	SPGW_FRAME_COMMIT = 5,
	SPGW_FRAME_COUNT = 6,
	SPGW_FRAME_LOG = 7,
	SPGW_FRAME_DONE = 8,
};

/* How a child ended, in DONE. */
enum spgw_frame_done {
	SPGW_FRAME_DONE_RETURNED = 0,    /* the plugin's functions ran; the rc byte is theirs */
	SPGW_FRAME_DONE_LOAD = 1,        /* the .so could not be loaded or its descriptor is bad */
	SPGW_FRAME_DONE_ABI = 2,         /* the .so was built for another plugin ABI */
	SPGW_FRAME_DONE_REFUSED = 3,     /* the runner refused a call (text says which, why) */
	SPGW_FRAME_DONE_UNSUPPORTED = 4, /* count or pull_range asked of a plugin without it */
	SPGW_FRAME_DONE_RUNNER = 5,      /* the runner itself failed (memory, bad START) */
};

/* One complete frame inside a buffer; payload is borrowed from it. */
struct spgw_frame {
	unsigned type;
	const char *payload;
	size_t len; /* payload bytes, without the type byte */
};

/* Fill the header of a frame of `type` carrying `len` payload bytes (len < SPGW_MAX_FRAME). */
void spgw_frame_header(unsigned char hdr[SPGW_FRAME_HEADER], enum spgw_frame_type type,
		       size_t len);

/*
 * Look at the `avail` bytes at `data`: 1 when they begin with a complete frame (*f filled,
 * *used = its size with header), 0 when more bytes are needed, -1 when the header is invalid
 * (*why names the problem: length beyond SPGW_MAX_FRAME, zero, or an unknown type).
 */
int spgw_frame_parse(const void *data, size_t avail, struct spgw_frame *f, size_t *used,
		     const char **why);

/*
 * Blocking: send one frame made of up to three payload parts (NULL/0 parts are skipped),
 * EINTR-safe, never raising SIGPIPE. Returns 0, or -1 with errno set. The runner's side.
 */
int spgw_frame_send(int fd, enum spgw_frame_type type, const void *a, size_t alen,
		    const void *b, size_t blen, const void *c, size_t clen);

/*
 * Blocking: read one frame. On success returns 0 with *type and *payload (a new buffer of
 * *len bytes plus a NUL, release with spgw_free()). Returns -1 with errno set: EPROTO for an
 * invalid header, 0 errno at end of file. The runner's side.
 */
int spgw_frame_read(int fd, unsigned *type, char **payload, size_t *len);

void spgw_frame_put_u64(unsigned char p[8], uint64_t v);
uint64_t spgw_frame_get_u64(const unsigned char p[8]);

/*
 * Checks shared by both ends. Each returns NULL when the value is acceptable, else a short
 * reason phrase ("is longer than 64 bytes") to put after the value's name in a message.
 */
/* A source table name: 1..SPGW_MAX_TABLE_NAME bytes of printable ASCII (plugin.h). */
const char *spgw_frame_check_table(const char *s, size_t n);
/* A cursor: at most SPGW_MAX_CURSOR bytes of UTF-8 text without NUL. UTF-8 because it travels
 * back to the plugin in the JSON START frame and is shown to operators. */
const char *spgw_frame_check_cursor(const char *s, size_t n);
/* A business day: YYYY-MM-DD. */
const char *spgw_frame_check_day(const char *s, size_t n);
/* A plugin name: [a-z0-9_-]{1,32} (plugin.h). */
const char *spgw_frame_check_name(const char *s, size_t n);
/* Length in bytes of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t spgw_frame_utf8_char(const unsigned char *s, size_t n);
/* Nonzero when all n bytes are valid UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
int spgw_frame_utf8_valid(const char *s, size_t n);
/* Copy n bytes a plugin sent as text for people into dst (size > 0, NUL-terminated): control
 * characters become spaces (no forged log lines), invalid UTF-8 becomes '?'. Returns the
 * length written. */
size_t spgw_frame_clean_text(char *dst, size_t size, const char *src, size_t n);
/* The INFO object's shape (the plugin can forge it): NULL when good, else what is wrong. */
const char *spgw_frame_check_info(const json_t *info);

#endif
