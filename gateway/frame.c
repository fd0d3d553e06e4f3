/* Frames between the plugin host and its children (see frame.h). Needs only libc, jansson and
 * mem.c, because the runner links it and stays small. */
#include "frame.h"

#include <errno.h>
#include <spgw/plugin.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spgw_limits.h"
#include "mem.h"

void spgw_frame_header(unsigned char hdr[SPGW_FRAME_HEADER], enum spgw_frame_type type,
		       size_t len)
{
	uint32_t n = (uint32_t)len + 1;

	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	hdr[4] = (unsigned char)type;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int spgw_frame_parse(const void *data, size_t avail, struct spgw_frame *f, size_t *used,
		     const char **why)
{
	const unsigned char *p = data;
	uint32_t n;

	if (avail < 4)
		return 0;
	n = get_u32(p);
	if (n == 0 || n > SPGW_MAX_FRAME) {
		*why = n ? "a frame longer than SPGW_MAX_FRAME" : "a frame of length zero";
		return -1;
	}
	if (avail < 5)
		return 0;
	if (p[4] < SPGW_FRAME_START || p[4] > SPGW_FRAME_DONE) {
		*why = "a frame of unknown type";
		return -1;
	}
	if (avail - 4 < n)
		return 0;
	f->type = p[4];
	f->payload = (const char *)p + SPGW_FRAME_HEADER;
	f->len = n - 1;
	*used = (size_t)n + 4;
	return 1;
}

int spgw_frame_send(int fd, enum spgw_frame_type type, const void *a, size_t alen,
		    const void *b, size_t blen, const void *c, size_t clen)
{
	unsigned char hdr[SPGW_FRAME_HEADER];
	struct iovec iov[4];
	struct msghdr msg;
	size_t total = alen + blen + clen;
	int n = 0;
	ssize_t w;

	if (total >= SPGW_MAX_FRAME) {
		errno = EMSGSIZE;
		return -1;
	}
	spgw_frame_header(hdr, type, total);
	iov[n].iov_base = hdr;
	iov[n++].iov_len = sizeof(hdr);
	if (alen) {
		iov[n].iov_base = (void *)a;
		iov[n++].iov_len = alen;
	}
	if (blen) {
		iov[n].iov_base = (void *)b;
		iov[n++].iov_len = blen;
	}
	if (clen) {
		iov[n].iov_base = (void *)c;
		iov[n++].iov_len = clen;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)n;
	while (msg.msg_iovlen) {
		/* MSG_NOSIGNAL: a host that went away must not kill the child with SIGPIPE */
		w = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		while (msg.msg_iovlen && (size_t)w >= msg.msg_iov->iov_len) {
			w -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + w;
			msg.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* 0 on success; -1 with errno (0 for end of file) otherwise. */
static int read_full(int fd, void *p, size_t n)
{
	char *q = p;
	ssize_t r;

	while (n) {
		r = read(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

int spgw_frame_read(int fd, unsigned *type, char **payload, size_t *len)
{
	unsigned char hdr[SPGW_FRAME_HEADER];
	uint32_t n;
	char *p;

	if (read_full(fd, hdr, sizeof(hdr)))
		return -1;
	n = get_u32(hdr);
	if (n == 0 || n > SPGW_MAX_FRAME || hdr[4] < SPGW_FRAME_START ||
	    hdr[4] > SPGW_FRAME_DONE) {
		errno = EPROTO;
		return -1;
	}
	p = spgw_malloc(n);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	if (read_full(fd, p, n - 1)) {
		spgw_free(p);
		return -1;
	}
	p[n - 1] = '\0';
	*type = hdr[4];
	*payload = p;
	*len = n - 1;
	return 0;
}

void spgw_frame_put_u64(unsigned char p[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

uint64_t spgw_frame_get_u64(const unsigned char p[8])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

size_t spgw_frame_utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and values beyond Unicode are not text */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int spgw_frame_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	while (n) {
		if (*p < 0x80) {
			p++;
			n--;
			continue;
		}
		k = spgw_frame_utf8_char(p, n);
		if (!k)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

const char *spgw_frame_check_table(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "is empty";
	if (n > SPGW_MAX_TABLE_NAME)
		return "is longer than 64 bytes (SPGW_MAX_TABLE_NAME)";
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return "holds a byte that is not printable ASCII";
	}
	return NULL;
}

const char *spgw_frame_check_cursor(const char *s, size_t n)
{
	if (n > SPGW_MAX_CURSOR)
		return "is longer than 4096 bytes (SPGW_MAX_CURSOR)";
	if (memchr(s, '\0', n))
		return "holds a NUL byte";
	if (!spgw_frame_utf8_valid(s, n))
		return "is not valid UTF-8 text";
	return NULL;
}

const char *spgw_frame_check_day(const char *s, size_t n)
{
	size_t i;
	int month, day;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return "is not a day written YYYY-MM-DD";
	for (i = 0; i < n; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return "is not a day written YYYY-MM-DD";
	}
	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return "is not a calendar day";
	return NULL;
}

const char *spgw_frame_check_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32)
		return "must be 1 to 32 characters";
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return "may hold only a-z, 0-9, '_' and '-'";
	}
	return NULL;
}

size_t spgw_frame_clean_text(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, k;

	while (i < n && o + 1 < size) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			dst[o++] = ' ';
			i++;
		} else if (s[i] < 0x80) {
			dst[o++] = (char)s[i++];
		} else if ((k = spgw_frame_utf8_char(s + i, n - i)) && o + k < size) {
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
		} else {
			dst[o++] = '?';
			i++;
		}
	}
	dst[o] = '\0';
	return o;
}

static int str_or_null(const json_t *j)
{
	return json_is_string(j) || json_is_null(j);
}

static int option_type_known(const char *s)
{
	static const char *const types[] = {"string", "int",    "bool",  "number",
					    "array",  "object", "secret"};
	size_t k;

	for (k = 0; s && k < sizeof(types) / sizeof(types[0]); k++) {
		if (!strcmp(s, types[k]))
			return 1;
	}
	return 0;
}

const char *spgw_frame_check_info(const json_t *info)
{
	const json_t *v, *o;
	size_t i;

	if (!json_is_object(info))
		return "it is not a JSON object";
	v = json_object_get(info, "name");
	if (!json_is_string(v) ||
	    spgw_frame_check_name(json_string_value(v), json_string_length(v)))
		return "its name is missing or not [a-z0-9_-]{1,32}";
	v = json_object_get(info, "version");
	if (!json_is_string(v) || !json_string_length(v))
		return "its version is missing";
	if (!str_or_null(json_object_get(info, "description")))
		return "its description is not text";
	if (json_integer_value(json_object_get(info, "abi")) != SPGW_PLUGIN_ABI ||
	    !json_is_integer(json_object_get(info, "struct_size")) ||
	    !json_is_boolean(json_object_get(info, "count")))
		return "abi, struct_size or count is missing";
	/* appended to ABI 1 with pull_range: absent from an older runner's description */
	v = json_object_get(info, "pull_range");
	if (v && !json_is_boolean(v))
		return "pull_range is not true or false";
	v = json_object_get(info, "tables");
	if (!json_is_null(v) && !json_is_array(v))
		return "its tables are not a list";
	json_array_foreach(v, i, o) {
		if (!json_is_string(o) ||
		    spgw_frame_check_table(json_string_value(o), json_string_length(o)))
			return "a table name is not 1 to 64 printable ASCII characters";
	}
	v = json_object_get(info, "options");
	if (!json_is_array(v))
		return "its options are not a list";
	json_array_foreach(v, i, o) {
		if (!json_is_string(json_object_get(o, "name")) ||
		    !option_type_known(json_string_value(json_object_get(o, "type"))) ||
		    !json_is_boolean(json_object_get(o, "required")) ||
		    !str_or_null(json_object_get(o, "default")) ||
		    !str_or_null(json_object_get(o, "help")))
			return "an option lacks name, type, required, default or help";
	}
	return NULL;
}
