/* Text clean-up: UTF-8, GB18030, spaces, controls, full-width forms (see text.h). Dates and
 * numbers are in text_value.c. */
#include "text.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

/* --- UTF-8 --- */

/*
 * Decode one code point at s[0..len). Returns its length (1..4) or 0 when the bytes there are
 * not a valid, shortest-form UTF-8 sequence of a scalar value.
 */
static size_t u8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (!len)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2)
		return 0; /* continuation byte, or an overlong 2-byte lead */
	if (c < 0xE0) {
		n = 2;
		c &= 0x1F;
	} else if (c < 0xF0) {
		n = 3;
		c &= 0x0F;
	} else if (c < 0xF5) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Like u8_decode, but an invalid byte counts as one code point of its own (U+FFFD) so the
 * in-place cleaners never stall; they are given valid text anyway. */
static size_t u8_next(const char *s, size_t len, uint32_t *cp)
{
	size_t n = u8_decode((const unsigned char *)s, len, cp);

	if (n)
		return n;
	*cp = 0xFFFD;
	return 1;
}

int spgw_text_utf8_valid(const char *s, size_t len, size_t *bad)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		n = u8_decode((const unsigned char *)s + i, len - i, &cp);
		if (!n) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

void spgw_text_utf8_cut(char *s)
{
	size_t len = strlen(s), start = len, need;
	unsigned char c;

	while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return;
	c = (unsigned char)s[start - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (len - (start - 1) < need)
		s[start - 1] = '\0';
}

size_t spgw_text_codepoints(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* --- GB18030 --- */

enum spgw_rc spgw_text_gb18030_to_utf8(const char *in, size_t len, struct spgw_buf *out,
				       size_t *bad, struct spgw_error *err)
{
	iconv_t cd;
	char *ip = (char *)in, *op;
	size_t il = len, ol, room, before, r;
	enum spgw_rc rc = SPGW_OK;

	cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return spgw_error_set(err, SPGW_E_TEXT, NULL, 0, 0,
				      "iconv cannot convert GB18030 to UTF-8 (%s): install glibc's "
				      "gconv modules",
				      strerror(errno));
	while (il) {
		/* A GB18030 character never takes more UTF-8 bytes than 1.5 times its own. */
		room = il + il / 2 + 4;
		if (room > out->max - out->len)
			room = out->max - out->len;
		rc = spgw_buf_reserve(out, room, err);
		if (rc)
			goto out;
		before = out->len;
		op = out->data + out->len;
		ol = room;
		r = iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->data);
		out->data[out->len] = '\0';
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG && out->len > before)
			continue;
		if (errno == E2BIG) {
			rc = spgw_error_set(err, SPGW_E_LIMIT, NULL, 0, 0,
					    "%s exceeds its limit of %zu bytes", out->what,
					    out->max);
			goto out;
		}
		if (bad)
			*bad = (size_t)(ip - in);
		rc = spgw_error_set(err, SPGW_E_TEXT, NULL, 0, 0,
				    errno == EINVAL ? "GB18030 text cut short at byte %zu (0x%02X)"
						    : "invalid GB18030 byte at offset %zu (0x%02X)",
				    (size_t)(ip - in), (unsigned)(unsigned char)*ip);
		goto out;
	}
	/* Flush any shift state (GB18030 has none, but iconv's contract asks for it). */
	op = NULL;
	iconv(cd, NULL, NULL, &op, &ol);
out:
	iconv_close(cd);
	return rc;
}

size_t spgw_text_latin1_bytes(const char *s, size_t len, char *out)
{
	size_t i = 0, o = 0, n;
	uint32_t cp;

	while (i < len) {
		n = u8_next(s + i, len - i, &cp);
		if (cp > 0xFF)
			return (size_t)-1;
		out[o++] = (char)cp;
		i += n;
	}
	return o;
}

/* --- in-place cleaners --- */

size_t spgw_text_halfwidth(char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o;

	/* nothing moves before the first lead byte of a full-width form */
	while (i < len && u[i] != 0xEF && u[i] != 0xE3)
		i++;
	for (o = i; i < len;) {
		/* U+FF01..U+FF5E are EF BC 81..EF BC BF and EF BD 80..EF BD 9E;
		 * U+3000 is E3 80 80 */
		if (u[i] == 0xEF && i + 2 < len && (u[i + 1] == 0xBC || u[i + 1] == 0xBD)) {
			uint32_t cp = 0xF000u | ((uint32_t)(u[i + 1] & 0x3F) << 6) |
				      (u[i + 2] & 0x3F);

			if (cp >= 0xFF01 && cp <= 0xFF5E && (u[i + 2] & 0xC0) == 0x80) {
				s[o++] = (char)(cp - 0xFF01 + 0x21);
				i += 3;
				continue;
			}
		} else if (u[i] == 0xE3 && i + 2 < len && u[i + 1] == 0x80 && u[i + 2] == 0x80) {
			s[o++] = ' ';
			i += 3;
			continue;
		}
		s[o++] = s[i++];
	}
	return o;
}

static int is_space(uint32_t cp)
{
	switch (cp) {
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
	case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
	case 0x3000: case 0xFEFF:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200B;
	}
}

/* Bytes that can begin a space: ASCII whitespace, and the lead bytes of U+00A0 (C2), U+1680
 * (E1), U+2000..U+205F (E2), U+3000 (E3) and U+FEFF (EF). */
static int may_start_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xC2 || c == 0xE1 || c == 0xE2 ||
	       c == 0xE3 || c == 0xEF;
}

/* The code point ending at s[len - 1] and where it starts (walking back over continuation
 * bytes), so trimming the end costs the spaces, not the text. */
static size_t u8_prev(const char *s, size_t len, uint32_t *cp)
{
	size_t start = len - 1, back = 0;

	while (start > 0 && back < 3 && ((unsigned char)s[start] & 0xC0) == 0x80) {
		start--;
		back++;
	}
	if (u8_decode((const unsigned char *)s + start, len - start, cp) != len - start) {
		*cp = 0xFFFD; /* not a whole character: keep the byte */
		return len - 1;
	}
	return start;
}

size_t spgw_text_trim(char *s, size_t len)
{
	size_t start = 0, n, p;
	uint32_t cp;

	if (!len || (!may_start_space((unsigned char)s[0]) && (unsigned char)s[len - 1] > ' ' &&
		     (unsigned char)s[len - 1] < 0x80))
		return len; /* the common case: nothing to trim */

	while (start < len) {
		n = u8_next(s + start, len - start, &cp);
		if (!is_space(cp))
			break;
		start += n;
	}
	while (len > start) {
		p = u8_prev(s, len, &cp);
		if (!is_space(cp))
			break;
		len = p;
	}
	if (start)
		memmove(s, s + start, len - start);
	return len - start;
}

size_t spgw_text_collapse_space(char *s, size_t len)
{
	size_t i = 0, o = 0, n;
	uint32_t cp;
	int in_run = 0;

	while (i < len) {
		if (!may_start_space((unsigned char)s[i])) {
			/* the common case: an ordinary byte, copied as is */
			s[o++] = s[i++];
			in_run = 0;
			continue;
		}
		n = u8_next(s + i, len - i, &cp);
		if (is_space(cp)) {
			if (!in_run)
				s[o++] = ' ';
			in_run = 1;
			i += n;
			continue;
		}
		in_run = 0;
		memmove(s + o, s + i, n);
		o += n;
		i += n;
	}
	return o;
}

static int is_control_at(const unsigned char *u, size_t i, size_t len, size_t *n)
{
	*n = 1;
	if (u[i] < 0x20)
		return u[i] != '\t' && u[i] != '\n' && u[i] != '\r';
	if (u[i] == 0x7F)
		return 1;
	/* C1 controls U+0080..U+009F are C2 80..C2 9F */
	if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F) {
		*n = 2;
		return 1;
	}
	return 0;
}

size_t spgw_text_strip_control(char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o, n;

	/* most text has none: find the first before moving anything */
	while (i < len && !is_control_at(u, i, len, &n))
		i++;
	for (o = i; i < len;) {
		if (is_control_at(u, i, len, &n)) {
			i += n;
			continue;
		}
		s[o++] = s[i++];
	}
	return o;
}

void spgw_text_upper(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
}

void spgw_text_lower(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

size_t spgw_text_utf8_encode(unsigned cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}
