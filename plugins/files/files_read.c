/*
 * From bytes to text: the streaming reader that cuts a file into records, the UTF-8 check, the
 * GBK/GB18030 conversion and the CSV field splitter.
 *
 * Records are found on the raw bytes and converted afterwards. That is safe for GBK and
 * GB18030 because the bytes that end a record (LF) or open and close a CSV quote (") never
 * occur inside their multi-byte characters (trail bytes are 0x30-0x39 and 0x40-0xFE). A
 * delimiter such as '|' (0x7C) can occur inside a GBK character, so fields are split only
 * after the record has been converted to UTF-8.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files_int.h"

int files_buf_reserve(struct fbuf *b, size_t n, size_t max)
{
	size_t cap;
	char *p;

	if (n > max || b->len > max - n)
		return 1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int files_buf_add(struct fbuf *b, const void *p, size_t n, size_t max)
{
	int rc = files_buf_reserve(b, n, max);

	if (rc)
		return rc;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void files_buf_free(struct fbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* --- the reader --- */

int files_reader_open(struct files_reader *r, int fd, uint64_t start, uint64_t end)
{
	r->fd = fd;
	r->pos = r->len = 0;
	r->off = start;
	r->end = end;
	if (!r->buf)
		r->buf = malloc(FILES_READ_CHUNK);
	return r->buf ? 0 : -1;
}

void files_reader_close(struct files_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Refill the (empty) buffer; bytes read, 0 at the end, -1 with errno. */
static ssize_t reader_fill(struct files_reader *r)
{
	size_t want;
	ssize_t got;

	r->pos = r->len = 0;
	if (r->off >= r->end)
		return 0;
	want = FILES_READ_CHUNK;
	if (r->end - r->off < want)
		want = (size_t)(r->end - r->off);
	do
		got = pread(r->fd, r->buf, want, (off_t)r->off);
	while (got < 0 && errno == EINTR);
	if (got > 0)
		r->len = (size_t)got;
	return got;
}

/* Keep `n` more bytes of a record: all of them while it is within max_line, then only the
 * first FILES_RAW_KEEP bytes (a bad-row record shows those). */
static int rec_keep(struct files_rec *rec, const char *p, size_t n, size_t max_line)
{
	if (!rec->too_long && rec->bytes + n > max_line) {
		rec->too_long = 1;
		if (rec->raw.len > FILES_RAW_KEEP)
			rec->raw.len = FILES_RAW_KEEP;
	}
	rec->bytes += n;
	if (rec->too_long) {
		if (rec->raw.len >= FILES_RAW_KEEP)
			return 0;
		if (n > FILES_RAW_KEEP - rec->raw.len)
			n = FILES_RAW_KEEP - rec->raw.len;
	}
	return files_buf_add(&rec->raw, p, n, FILES_MAX_LINE);
}

static int all_space(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Where a CSV row scan is: at a field's start, in an unquoted field, inside quotes, or just
 * after a quote inside quotes (either the closing one or the first of a doubled pair). */
enum csv_state { CSV_START, CSV_BARE, CSV_QUOTED, CSV_QUOTE };

/*
 * Scan CSV bytes for the end of a row from state *st. RFC 4180: a quote opens a quoted field
 * only at the field's start, and a newline inside quotes belongs to the field. A quote inside
 * a bare field is text, as every spreadsheet writes it. Returns the bytes before the newline
 * (*found) or all `n`; counts newlines inside quotes in *lines.
 */
static size_t csv_scan(const char *p, size_t n, char delim, enum csv_state *st, uint64_t *lines,
		       int *found)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (*st == CSV_QUOTED) {
			if (c == '"')
				*st = CSV_QUOTE;
			else if (c == '\n')
				(*lines)++;
		} else if (c == '\n') {
			*found = 1;
			return i;
		} else if (c == delim) {
			*st = CSV_START;
		} else if (c == '"' && *st != CSV_BARE) {
			*st = CSV_QUOTED; /* opening, or the second of "" */
		} else {
			*st = CSV_BARE;
		}
	}
	return n;
}

int files_reader_next(struct files_reader *r, int delim, size_t max_line, struct files_rec *rec)
{
	enum csv_state st = CSV_START;
	int found = 0;

	rec->raw.len = 0;
	rec->bytes = rec->lines = 0;
	rec->too_long = rec->open_quote = rec->blank = 0;
	rec->start = r->off;
	while (!found) {
		const char *p;
		size_t i, n;

		if (r->pos == r->len) {
			ssize_t got = reader_fill(r);

			if (got < 0)
				return -1;
			if (got == 0) {
				if (r->off == rec->start)
					return 0;
				rec->open_quote = st == CSV_QUOTED;
				break;
			}
		}
		p = r->buf + r->pos;
		n = r->len - r->pos;
		if (delim < 0) {
			const char *nl = memchr(p, '\n', n);

			i = nl ? (size_t)(nl - p) : n;
			found = nl != NULL;
		} else {
			const char *nl = memchr(p, '\n', n);

			/* Most rows hold no quote at all: then the row ends at the newline. */
			if (nl && st != CSV_QUOTED && !memchr(p, '"', (size_t)(nl - p))) {
				i = (size_t)(nl - p);
				found = 1;
			} else {
				i = csv_scan(p, n, (char)delim, &st, &rec->lines, &found);
			}
		}
		if (rec_keep(rec, p, i, max_line))
			return -2;
		r->pos += i + (size_t)found;
		r->off += i + (uint64_t)found;
	}
	if (found)
		rec->lines++;
	rec->next = r->off;
	/* CRLF: the CR belongs to the line end, not the last field. */
	if (found && !rec->too_long && rec->raw.len && rec->raw.p[rec->raw.len - 1] == '\r') {
		rec->raw.len--;
		rec->bytes--;
	}
	if (rec->raw.p)
		rec->raw.p[rec->raw.len] = '\0';
	rec->blank = !rec->too_long &&
		     (delim >= 0 ? rec->bytes == 0 : all_space(rec->raw.p, rec->raw.len));
	return 1;
}

uint64_t files_bom_len(int fd, enum files_encoding enc, uint64_t size)
{
	unsigned char b[4];

	if (size < 3 || pread(fd, b, size < 4 ? 3 : 4, 0) < 3)
		return 0;
	if (enc == FILES_UTF8 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		return 3;
	if (enc == FILES_GB18030 && size >= 4 && b[0] == 0x84 && b[1] == 0x31 && b[2] == 0x95 &&
	    b[3] == 0x33)
		return 4;
	return 0;
}

/* --- UTF-8 --- */

/*
 * The sequence at p: its length when complete and valid; 0 when invalid; -1 when the n bytes
 * available are a valid beginning of a longer sequence. Follows RFC 3629 table 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
static int utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	int len;
	size_t i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i < (size_t)len; i++) {
		if (i >= n)
			return -1;
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return len;
}

size_t files_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		int len;

		if (c < 0x80) {
			/* ASCII eight bytes at a time: digits, codes and punctuation. */
			while (i + 8 <= n) {
				uint64_t w;

				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			while (i < n && p[i] < 0x80)
				i++;
			continue;
		}
		/* The common three-byte case (all of CJK) without the general checks. */
		if (((c >= 0xE1 && c <= 0xEC) || c >= 0xEE) && c <= 0xEF && i + 2 < n &&
		    (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
			i += 3;
			continue;
		}
		len = utf8_seq(p + i, n - i);
		if (len <= 0)
			break;
		i += (size_t)len;
	}
	return i;
}

int files_detect(int fd, uint64_t size, enum files_encoding *out)
{
	unsigned char *buf;
	uint64_t off = 0;
	size_t keep = 0;
	int rc = 0;

	*out = FILES_UTF8;
	if (files_bom_len(fd, FILES_UTF8, size))
		return 0; /* a UTF-8 byte order mark declares the file UTF-8 */
	buf = malloc(FILES_READ_CHUNK);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while (off < size) {
		size_t want = FILES_READ_CHUNK - keep, n, ok;
		ssize_t got;

		if (size - off < want)
			want = (size_t)(size - off);
		do
			got = pread(fd, buf + keep, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		off += (uint64_t)got;
		n = keep + (size_t)got;
		ok = files_utf8_valid(buf, n);
		if (ok < n) {
			/* A character cut by the chunk boundary is checked with the next chunk. */
			if (off < size && n - ok < 4 && utf8_seq(buf + ok, n - ok) < 0) {
				keep = n - ok;
				memmove(buf, buf + ok, keep);
				continue;
			}
			*out = FILES_GB18030;
			break;
		}
		keep = 0;
	}
	free(buf);
	return rc;
}

/* --- conversion --- */

int files_text_open(struct files_text *t, enum files_encoding enc)
{
	t->enc = enc;
	t->cd = (iconv_t)-1;
	memset(&t->out, 0, sizeof(t->out));
	if (enc == FILES_GBK)
		t->cd = iconv_open("UTF-8", "GBK");
	else if (enc == FILES_GB18030)
		t->cd = iconv_open("UTF-8", "GB18030");
	else
		return 0;
	return t->cd == (iconv_t)-1 ? -1 : 0;
}

void files_text_close(struct files_text *t)
{
	if (t->cd != (iconv_t)-1)
		iconv_close(t->cd);
	t->cd = (iconv_t)-1;
	files_buf_free(&t->out);
}

static int add_hexbyte(struct fbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	return files_buf_add(b, e, 4, FILES_MAX_TEXT);
}

/* UTF-8 input with invalid bytes and NULs shown as \xNN. */
static int utf8_render(struct fbuf *b, const unsigned char *p, size_t n, int *invalid)
{
	while (n) {
		size_t ok = files_utf8_valid(p, n);
		const unsigned char *nul = memchr(p, 0, ok);

		if (nul)
			ok = (size_t)(nul - p);
		if (files_buf_add(b, p, ok, FILES_MAX_TEXT))
			return -1;
		p += ok;
		n -= ok;
		if (n) {
			*invalid = 1;
			if (add_hexbyte(b, *p))
				return -1;
			p++;
			n--;
		}
	}
	return 0;
}

/* GBK or GB18030 input (without NULs) converted by iconv, invalid bytes shown as \xNN. */
static int iconv_render(struct files_text *t, const char *p, size_t n, int *invalid)
{
	char *in = (char *)p;
	size_t inleft = n;

	while (inleft) {
		char *out;
		size_t outleft, r;

		/* Two GBK bytes become at most three UTF-8 bytes, four become four. */
		if (files_buf_reserve(&t->out, inleft + inleft / 2 + 16, FILES_MAX_TEXT))
			return -1;
		out = t->out.p + t->out.len;
		outleft = t->out.cap - t->out.len - 1;
		r = iconv(t->cd, &in, &inleft, &out, &outleft);
		t->out.len = (size_t)(out - t->out.p);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL for a character cut short by the end of the row. */
		*invalid = 1;
		iconv(t->cd, NULL, NULL, NULL, NULL);
		if (add_hexbyte(&t->out, (unsigned char)*in))
			return -1;
		in++;
		inleft--;
	}
	return 0;
}

static int is_ascii(const unsigned char *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (w & 0x8080808080808080ull)
			return 0;
	}
	for (; i < n; i++)
		if (p[i] & 0x80)
			return 0;
	return 1;
}

int files_text_decode(struct files_text *t, const char *in, size_t n, const char **utf8,
		      size_t *utf8_len, int *invalid)
{
	const unsigned char *u = (const unsigned char *)in;

	*invalid = 0;
	if (!memchr(in, 0, n) &&
	    (t->enc == FILES_UTF8 ? files_utf8_valid(u, n) == n : is_ascii(u, n))) {
		*utf8 = in;
		*utf8_len = n;
		return 0;
	}
	t->out.len = 0;
	if (t->enc == FILES_UTF8) {
		if (utf8_render(&t->out, u, n, invalid))
			return -1;
	} else {
		/* NUL is never part of a GBK character: convert the runs between NULs. */
		while (n) {
			const char *nul = memchr(in, 0, n);
			size_t run = nul ? (size_t)(nul - in) : n;

			if (iconv_render(t, in, run, invalid))
				return -1;
			in += run;
			n -= run;
			if (nul) {
				*invalid = 1;
				if (add_hexbyte(&t->out, 0))
					return -1;
				in++;
				n--;
			}
		}
	}
	if (files_buf_reserve(&t->out, 0, FILES_MAX_TEXT))
		return -1;
	t->out.p[t->out.len] = '\0';
	*utf8 = t->out.p;
	*utf8_len = t->out.len;
	return 0;
}

/* --- CSV fields --- */

static int field_add(struct files_fields *f, size_t off, size_t len)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		size_t *o = realloc(f->off, cap * sizeof(*o)), *l;

		if (!o)
			return -1;
		f->off = o;
		l = realloc(f->len, cap * sizeof(*l));
		if (!l)
			return -1;
		f->len = l;
		f->cap = cap;
	}
	f->off[f->n] = off;
	f->len[f->n] = len;
	f->n++;
	return 0;
}

int files_csv_split(const char *p, size_t n, char delim, struct files_fields *f, char *why,
		    size_t whylen)
{
	char *t;
	size_t i = 0;

	f->n = 0;
	f->text.len = 0;
	/* Unquoted values are never longer than the row. */
	if (files_buf_reserve(&f->text, n, FILES_MAX_TEXT))
		return -2;
	t = f->text.p;
	for (;;) {
		size_t start = f->text.len;

		if (f->n == FILES_MAX_COLUMNS) {
			snprintf(why, whylen, "more than %d fields", FILES_MAX_COLUMNS);
			return -1;
		}
		if (i < n && p[i] == '"') {
			i++;
			for (;;) {
				const char *q = memchr(p + i, '"', n - i);

				if (!q) {
					snprintf(why, whylen,
						 "the quote that opens field %zu is never closed",
						 f->n + 1);
					return -1;
				}
				memcpy(t + f->text.len, p + i, (size_t)(q - (p + i)));
				f->text.len += (size_t)(q - (p + i));
				i = (size_t)(q - p) + 1;
				if (i < n && p[i] == '"') {
					t[f->text.len++] = '"'; /* "" inside quotes is one quote */
					i++;
					continue;
				}
				break;
			}
			if (i < n && p[i] != delim) {
				snprintf(why, whylen, "text after the closing quote of field %zu",
					 f->n + 1);
				return -1;
			}
		} else {
			const char *d = memchr(p + i, delim, n - i);
			size_t e = d ? (size_t)(d - p) : n;

			memcpy(t + f->text.len, p + i, e - i);
			f->text.len += e - i;
			i = e;
		}
		if (field_add(f, start, f->text.len - start))
			return -2;
		if (i >= n)
			return 0;
		i++; /* the delimiter; a row ending in one has an empty last field */
	}
}

void files_fields_free(struct files_fields *f)
{
	files_buf_free(&f->text);
	free(f->off);
	free(f->len);
	memset(f, 0, sizeof(*f));
}
