/*
 * Code values: 统一社会信用代码 (GB 32100-2015) with a real GB 11714 organisation code as its
 * body, the 项目代码 shape, full-width forms, and GBK through glibc iconv.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "jg.h"

/* GB 32100: the 31 characters, value = position (I, O, S, V and Z are never used) */
const char jg_uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
	const char *p = c ? strchr(jg_uscc_chars, c) : NULL;

	return p ? (int)(p - jg_uscc_chars) : -1;
}

static int uscc_check(const char *s17)
{
	/* weights 3^(i-1) mod 31 for positions 1..17 */
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int i, sum = 0;

	for (i = 0; i < 17; i++)
		sum += uscc_value(s17[i]) * w[i];
	return (31 - sum % 31) % 31;
}

int jg_uscc_valid(const char *s)
{
	int i;

	if (!s || strlen(s) != 18)
		return 0;
	for (i = 0; i < 18; i++)
		if (uscc_value(s[i]) < 0)
			return 0;
	return uscc_value(s[17]) == uscc_check(s);
}

/*
 * GB 11714 organisation code: 8 characters and a check character, weights 3 7 9 10 5 8 4 2,
 * C9 = 11 - (sum mod 11), 10 written X and 11 written 0. Letters count A = 10 ... Z = 35.
 * Bodies are drawn from the USCC set so that the whole code stays inside it.
 */
static void org_code(const char body[8], char out[9])
{
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	int i, sum = 0, c;

	for (i = 0; i < 8; i++) {
		int v = body[i] >= 'A' ? body[i] - 'A' + 10 : body[i] - '0';

		sum += v * w[i];
		out[i] = body[i];
	}
	c = 11 - sum % 11;
	out[8] = c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

static void uscc_from(uint64_t v, char out[19], char reg, char kind, const char *region, int wrong,
		      uint64_t v2)
{
	char body[8];
	int i, check;

	out[0] = reg;
	out[1] = kind;
	memcpy(out + 2, region, 6);
	/* since 2015 new bodies start "MA" (e.g. 91220101MA17ABCDE2); older ones are digits */
	if (v & 1) {
		body[0] = 'M';
		body[1] = 'A';
		for (i = 2; i < 8; i++, v /= 31)
			body[i] = jg_uscc_chars[v % 31];
	} else {
		v >>= 1;
		for (i = 0; i < 8; i++, v /= 10)
			body[i] = (char)('0' + v % 10);
	}
	org_code(body, out + 8);
	check = uscc_check(out);
	if (wrong)
		check = (check + 1 + (int)(v2 % 30)) % 31;
	out[17] = jg_uscc_chars[check];
	out[18] = '\0';
}

void jg_uscc(struct jg_rng *r, char out[19], char reg, char kind, const char *region, int wrong)
{
	uint64_t v = jg_next(r);

	uscc_from(v, out, reg, kind, region, wrong, jg_next(r));
}

void jg_uscc_fixed(uint64_t v, char out[19], char reg, char kind, const char *region)
{
	uscc_from(v, out, reg, kind, region, 0, 0);
}

int jg_xmdm_valid(const char *s)
{
	/* NNNN-NNNNNN-NN-NN-NNNNNN */
	static const char shape[] = "DDDD-DDDDDD-DD-DD-DDDDDD";
	int i;

	if (!s || strlen(s) != 24)
		return 0;
	for (i = 0; i < 24; i++)
		if (shape[i] == 'D' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != '-')
			return 0;
	return 1;
}

void jg_fullwidth(char *out, size_t n, const char *s)
{
	size_t k = 0;

	for (; *s && k + 4 < n; s++) {
		if ((*s >= '0' && *s <= '9') || *s == '-') {
			/* U+FF10.. digits, U+FF0D hyphen-minus: EF BC 90+d / EF BC 8D */
			out[k++] = (char)0xEF;
			out[k++] = (char)0xBC;
			out[k++] = (char)(*s == '-' ? 0x8D : 0x90 + (*s - '0'));
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
}

void jg_halfwidth(char *out, size_t n, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0;

	while (*u && k + 1 < n) {
		if (u[0] == 0xEF && u[1] == 0xBC && u[2] >= 0x81 && u[2] <= 0xBF) {
			out[k++] = (char)(u[2] - 0x60); /* U+FF01..U+FF3F -> '!'..'_' */
			u += 3;
		} else if (u[0] == 0xEF && u[1] == 0xBD && u[2] >= 0x80 && u[2] <= 0x9E) {
			out[k++] = (char)(u[2] - 0x20); /* U+FF40..U+FF5E -> '`'..'~' */
			u += 3;
		} else {
			out[k++] = (char)*u++;
		}
	}
	out[k] = '\0';
}

int jg_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		i += len;
	}
	return 1;
}

static long convert(const char *to, const char *from, const void *in, size_t len, void *out,
		    size_t n)
{
	iconv_t cd = iconv_open(to, from);
	char *ip = (char *)in, *op = out;
	size_t il = len, ol = n;
	long rc;

	if (cd == (iconv_t)-1)
		return -1;
	rc = iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il ? -1 : (long)(n - ol);
	if (rc >= 0 && iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		rc = -1;
	else if (rc >= 0)
		rc = (long)(n - ol);
	iconv_close(cd);
	return rc;
}

long jg_to_gbk(const char *utf8, unsigned char *out, size_t n)
{
	return convert("GBK", "UTF-8", utf8, strlen(utf8), out, n);
}

long jg_from_gbk(const unsigned char *in, size_t len, char *out, size_t n)
{
	long r = convert("UTF-8", "GBK", in, len, out, n - 1);

	if (r >= 0)
		out[r] = '\0';
	return r;
}
