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

/*
 * Eight bytes at a time. Each test below is exact for the first byte it flags (a borrow only
 * spreads upwards, from a byte already flagged): "some byte equals b" is has_zero(w ^ b*ONES),
 * "some ASCII byte is below b" is (w - b*ONES) & ~w & HIGH. Words are read little-endian, so
 * the lowest flagged bit names the first such byte; elsewhere the word paths are left out.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define U8_WORDS 1
#else
#define U8_WORDS 0
#endif
#define U8_ONES 0x0101010101010101ULL
#define U8_HIGH 0x8080808080808080ULL

static uint64_t has_byte(uint64_t w, unsigned char b)
{
	uint64_t t = w ^ (U8_ONES * b);

	return (t - U8_ONES) & ~t & U8_HIGH;
}

/* The bytes of w that end a run of plain JSON string text: from 0x80 up (examined one
 * character at a time), below 0x20, '"' and '\\'. */
static uint64_t json_stops(uint64_t w)
{
	return (w | ((w - U8_ONES * 0x20) & ~w) | has_byte(w, '"') | has_byte(w, '\\')) & U8_HIGH;
}

/* Offset of the first byte flagged in a nonzero mask of high bits. */
static size_t first_flagged(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) >> 3;
}

/*
 * The word at s[i] of s[0..len) into *w, so short values and the ends of long ones go a word
 * at a time too: the eight bytes there; else the last eight of s, with the high bits of the
 * bytes before i cleared from *keep; else (s is short) its bytes padded with '0', a byte no
 * test flags. A test's mask & *keep flags bytes from i on. Returns the bytes covered from i.
 */
static size_t word_from(const unsigned char *s, size_t i, size_t len, uint64_t *w, uint64_t *keep)
{
	size_t left = len - i;

	*keep = U8_HIGH;
	if (left >= 8) {
		memcpy(w, s + i, 8);
		return 8;
	}
	if (len >= 8) {
		memcpy(w, s + len - 8, 8);
		*w >>= 8 * (8 - left); /* s[i] in the low byte; zeros come in on top */
		*keep = U8_HIGH >> 8 * (8 - left);
		return left;
	}
	*w = U8_ONES * '0';
	memcpy(w, s + i, left);
	return left;
}

/* Leads E1..EF but ED: their three-byte forms can be neither overlong (E0) nor a surrogate
 * (ED), so the continuation bytes' shape is all there is to check. */
static int plain_lead3(unsigned c)
{
	return c - 0xE1u <= 0xEFu - 0xE1u && c != 0xED;
}

/* Two such three-byte characters at the start of w (Chinese text, a word at a time): the
 * shape 1110xxxx 10xxxxxx 10xxxxxx twice, and neither lead's low nibble 0 (E0) or D (ED). */
static int two_cjk(uint64_t w)
{
	const uint64_t nib = 0x0F00000FULL, carry = 0x10000010ULL;
	uint64_t t = w & nib, u = t ^ 0x0D00000DULL;

	return (w & 0x0000C0C0F0C0C0F0ULL) == 0x00008080E08080E0ULL &&
	       ((t + nib) & (u + nib) & carry) == carry;
}

size_t spgw_text_json_plain(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, start;
	uint64_t w, m, keep;
	uint32_t cp;
	unsigned c;

	/* Records are runs of Chinese (three-byte characters) and of ASCII codes and digits:
	 * each kind of run goes a word at a time while eight bytes are left. */
	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			if (c < 0x20 || c == '"' || c == '\\')
				return i;
			i++;
			while (U8_WORDS && i < len) {
				n = word_from(s, i, len, &w, &keep);
				m = json_stops(w) & keep;
				if (m) {
					i += first_flagged(m);
					break;
				}
				i += n;
			}
			continue;
		}
		for (start = i; U8_WORDS && len - i >= 8; i += 6) {
			memcpy(&w, s + i, 8);
			if (!two_cjk(w))
				break;
		}
		if (i != start)
			continue;
		if (plain_lead3(c) && len - i >= 3 && (s[i + 1] & 0xC0) == 0x80 &&
		    (s[i + 2] & 0xC0) == 0x80) {
			i += 3;
			continue;
		}
		n = u8_decode(s + i, len - i, &cp);
		if (!n)
			return i;
		i += n;
	}
	return i;
}

long spgw_text_utf8_count(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, start;
	uint64_t w, m, keep;
	uint32_t cp;
	long cps = 0;
	unsigned c;

	/* spgw_text_json_plain's runs, counted */
	while (i < len) {
		c = s[i];
		if (c - 1u < 0x7Fu) {
			i++;
			cps++;
			while (U8_WORDS && i < len) {
				n = word_from(s, i, len, &w, &keep);
				m = (w | has_byte(w, 0)) & keep;
				if (m)
					n = first_flagged(m);
				i += n;
				cps += (long)n;
				if (m)
					break;
			}
			continue;
		}
		for (start = i; U8_WORDS && len - i >= 8; i += 6, cps += 2) {
			memcpy(&w, s + i, 8);
			if (!two_cjk(w))
				break;
		}
		if (i != start)
			continue;
		if (plain_lead3(c) && len - i >= 3 && (s[i + 1] & 0xC0) == 0x80 &&
		    (s[i + 2] & 0xC0) == 0x80)
			n = 3;
		else if (!c || !(n = u8_decode(s + i, len - i, &cp)))
			return -1;
		i += n;
		cps++;
	}
	return cps;
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

/* Whether a cleaner of `steps` acts on the text at s[i] (a character's first byte or any
 * later one: a continuation byte is never acted on by itself). */
static int acts_at(const unsigned char *s, size_t i, size_t len, unsigned steps)
{
	unsigned c = s[i];
	uint32_t cp;
	size_t n;

	if ((steps & SPGW_TEXT_STRIP_CONTROL) && is_control_at(s, i, len, &n))
		return 1;
	if ((steps & SPGW_TEXT_UPPER) && c >= 'a' && c <= 'z')
		return 1;
	if ((steps & SPGW_TEXT_LOWER) && c >= 'A' && c <= 'Z')
		return 1;
	if ((steps & SPGW_TEXT_HALFWIDTH) && (c == 0xEF || c == 0xE3) &&
	    u8_decode(s + i, len - i, &cp) == 3 && ((cp >= 0xFF01 && cp <= 0xFF5E) || cp == 0x3000))
		return 1;
	if ((steps & SPGW_TEXT_COLLAPSE) && may_start_space((unsigned char)c) &&
	    u8_decode(s + i, len - i, &cp) && is_space(cp)) {
		/* a lone ' ' stays; any other space, or one followed by a space, changes */
		if (cp != ' ' || i + 1 >= len || !may_start_space(s[i + 1]))
			return cp != ' ';
		n = u8_decode(s + i + 1, len - i - 1, &cp);
		return n && is_space(cp);
	}
	return 0;
}

/* Bytes of w with a value in (lo, hi), each flagged exactly (no carry crosses a byte);
 * lo < 0x80, hi <= 0x80 (Hacker's Delight's "has between"). */
static uint64_t bytes_between(uint64_t w, unsigned lo, unsigned hi)
{
	uint64_t low7 = w & (U8_ONES * 0x7F);

	return (U8_ONES * (0x7F + hi) - low7) & ~w & (low7 + U8_ONES * (0x7F - lo)) & U8_HIGH;
}

/*
 * The bytes of w that may start something a step in `steps` acts on: below '!' (controls,
 * spaces), DEL, letters, and the lead bytes of C1 controls, full-width forms and Unicode
 * spaces. The lowest one flagged is exact, and acts_at() decides. Whatever the steps, the
 * first tests run: they are what strip_control, in nearly every rule, needs, and a byte
 * flagged for another step only costs a look.
 */
static uint64_t clean_looks(uint64_t w, unsigned steps)
{
	uint64_t m = ((w - U8_ONES * 0x21) & ~w) | has_byte(w, 0x7F) | has_byte(w, 0xC2);

	if (steps &
	    (SPGW_TEXT_HALFWIDTH | SPGW_TEXT_COLLAPSE | SPGW_TEXT_UPPER | SPGW_TEXT_LOWER)) {
		m |= has_byte(w, 0xEF) | has_byte(w, 0xE3) | has_byte(w, 0xE1) | has_byte(w, 0xE2);
		if (steps & SPGW_TEXT_UPPER)
			m |= bytes_between(w, 'a' - 1, 'z' + 1);
		if (steps & SPGW_TEXT_LOWER)
			m |= bytes_between(w, 'A' - 1, 'Z' + 1);
	}
	return m & U8_HIGH;
}

int spgw_text_may_change(const char *str, size_t len, unsigned steps)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	uint64_t w, m, keep;
	uint32_t cp;

	if (!len)
		return 0;
	if (steps & SPGW_TEXT_TRIM) {
		/* what spgw_text_trim looks at: the first and the last character */
		if (may_start_space(s[0]) && u8_decode(s, len, &cp) && is_space(cp))
			return 1;
		if (s[len - 1] < 0x80)
			cp = s[len - 1];
		else if (len >= 2 &&
			 (s[len - 2] == 0x80 || s[len - 2] == 0x81 || s[len - 2] == 0x9A ||
			  s[len - 2] == 0xBB || s[len - 2] == 0xC2))
			u8_prev(str, len, &cp);
		else
			cp = 0xFFFD; /* only those bytes precede a Unicode space's last byte */
		if (is_space(cp))
			return 1;
	}
	while (i < len) {
		if (U8_WORDS) {
			/* skip to the first byte worth a look */
			n = word_from(s, i, len, &w, &keep);
			m = clean_looks(w, steps) & keep;
			if (!m) {
				i += n;
				continue;
			}
			i += first_flagged(m);
		}
		if (acts_at(s, i, len, steps))
			return 1;
		i++;
	}
	return 0;
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
