/*
 * Text clean-up and value normalisation for the mapping engine: UTF-8 checks, GB18030/GBK to
 * UTF-8, full-width to half-width, trimming and collapsing of ASCII and Unicode spaces,
 * control characters (text.c), and the date and number forms real city systems write
 * (text_value.c).
 *
 * The in-place functions work on a UTF-8 buffer the caller owns and return its new length;
 * they never lengthen it, so a caller can clean a copy without reallocating. None allocates,
 * except spgw_text_gb18030_to_utf8 (it appends to the caller's buffer, within its ceiling).
 */
#ifndef SPGW_TEXT_H
#define SPGW_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Nonzero when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF). Otherwise *bad (if not NULL) gets the byte offset of the first bad sequence. */
int spgw_text_utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * Length of the longest prefix of s[0..len) that is valid UTF-8 (as spgw_text_utf8_valid) and
 * holds no byte a JSON string must escape: no C0 control, '"' or '\\'. Where a JSON string's
 * plain run ends, for the parser and the canonical writer; the byte there (if any) is an
 * escape, a quote, a control character or the start of invalid UTF-8.
 */
size_t spgw_text_json_plain(const char *s, size_t len);

/* Write code point `cp` (<= U+10FFFF, not a surrogate) as UTF-8 into `out`; returns 1-4. */
size_t spgw_text_utf8_encode(unsigned cp, char out[4]);

/*
 * Decode GB18030 (a superset of GBK and GB2312) bytes and append the UTF-8 text to `out`
 * (its ceiling bounds the output). SPGW_E_TEXT when a byte sequence is invalid or cut short:
 * *bad (if not NULL) gets the byte offset of the first bad byte and err says where; then
 * `out` holds the text decoded before it. SPGW_E_LIMIT / SPGW_E_NOMEM from the buffer.
 */
enum spgw_rc spgw_text_gb18030_to_utf8(const char *in, size_t len, struct spgw_buf *out,
				       size_t *bad, struct spgw_error *err);

/*
 * A string whose code points are all U+0000..U+00FF is often raw bytes a system passed
 * through as Latin-1 (a legacy GBK column). Writes those bytes to `out` (room for `len` bytes
 * always suffices) and returns their count; returns (size_t)-1 when some code point is above
 * U+00FF, i.e. the text is real text, not bytes. `s` must be valid UTF-8.
 */
size_t spgw_text_latin1_bytes(const char *s, size_t len, char *out);

/* In place: full-width forms U+FF01..U+FF5E become ASCII 0x21..0x7E, U+3000 (ideographic
 * space) a space. Returns the new length. */
size_t spgw_text_halfwidth(char *s, size_t len);

/*
 * The spaces trim and collapse know: ASCII space, tab, LF, VT, FF, CR, U+00A0, U+1680,
 * U+2000..U+200B, U+2028, U+2029, U+202F, U+205F, U+3000 and U+FEFF (a stray byte-order mark
 * or zero-width no-break space is invisible and as unwanted at either end as a space).
 */
size_t spgw_text_trim(char *s, size_t len);           /* drop them at both ends */
size_t spgw_text_collapse_space(char *s, size_t len); /* each run of them becomes one ' ' */

/*
 * In place: drop control characters: C0 except tab, LF and CR (they carry meaning in long
 * texts such as 办理意见), DEL, and C1 (U+0080..U+009F, what a mis-decoded Windows-1252 byte
 * becomes). Returns the new length.
 */
size_t spgw_text_strip_control(char *s, size_t len);

/* In place, ASCII letters only (code letters; Chinese has no case). */
void spgw_text_upper(char *s, size_t len);
void spgw_text_lower(char *s, size_t len);

/* The in-place cleaners above, as bits for spgw_text_may_change. */
enum {
	SPGW_TEXT_STRIP_CONTROL = 1u << 0,
	SPGW_TEXT_HALFWIDTH = 1u << 1,
	SPGW_TEXT_COLLAPSE = 1u << 2,
	SPGW_TEXT_TRIM = 1u << 3,
	SPGW_TEXT_UPPER = 1u << 4,
	SPGW_TEXT_LOWER = 1u << 5,
};

/*
 * Whether one of the cleaners in `steps` could change the valid UTF-8 text s[0..len): 0 when
 * every one would leave it as it is, so a caller may use the text without copying it;
 * nonzero when one may change it. One quick pass, eight bytes at a time over ordinary text.
 */
int spgw_text_may_change(const char *s, size_t len, unsigned steps);

/* Drop an incomplete character at the end of the NUL-terminated UTF-8 string `s`: what
 * snprintf leaves when it truncates a message in the middle of a Chinese character. */
void spgw_text_utf8_cut(char *s);

/* Code points in s[0..len) when it is valid UTF-8 holding no NUL byte, else -1. */
long spgw_text_utf8_count(const char *s, size_t len);

/* Code points in s[0..len) (valid UTF-8 assumed). */
size_t spgw_text_codepoints(const char *s, size_t len);

/* A date and time of day, Beijing time. */
struct spgw_text_time {
	int year, month, day;
	int hour, min, sec;
	int precision; /* SPGW_TEXT_YEAR / _MONTH / _DAY / _TIME: what the input gave */
};

enum {
	SPGW_TEXT_YEAR = 1,  /* "2026", "2026年": only with SPGW_TEXT_PARTIAL */
	SPGW_TEXT_MONTH = 2, /* "2026-11", "2026/11", "2026年11月", "202611": likewise */
	SPGW_TEXT_DAY = 3,
	SPGW_TEXT_TIME = 4,
};

/* How to read a date value (spgw_text_parse_date's `mode`). */
enum spgw_text_date_input {
	SPGW_TEXT_AUTO = 0, /* by form, see below */
	SPGW_TEXT_EPOCH_S = 1,  /* a number of seconds since 1970-01-01T00:00:00Z */
	SPGW_TEXT_EPOCH_MS = 2, /* milliseconds, likewise */
	SPGW_TEXT_EXCEL = 3,    /* Excel serial days (1900 system; a fraction is the time) */
};

/* Flag for spgw_text_parse_date: accept year or year-month precision. */
#define SPGW_TEXT_PARTIAL 1u

/*
 * Parse a date or date-time as city systems write it into Beijing time. SPGW_TEXT_AUTO takes:
 *   2026-11-03, 2026/11/3, 2026.11.03, 2026年11月3日 (1- or 2-digit month and day);
 *   each optionally followed by a time after a space or 'T': 9:05, 09:05:07, 09:05:07.123,
 *   9时5分, 9点5分3秒; an ISO zone after the time (Z, +08:00, +0800) converts to Beijing time;
 *   digits only: 8 = YYYYMMDD, 12 = YYYYMMDDHHMM, 14 = YYYYMMDDHHMMSS, 9-10 = epoch seconds,
 *   13 = epoch milliseconds (both UTC instants), 5 (optionally with a fraction) = Excel serial
 *   days (10000..99999, 1927..2173), and with SPGW_TEXT_PARTIAL 4 = YYYY and 6 = YYYYMM;
 *   with SPGW_TEXT_PARTIAL also 2026-11, 2026/11, 2026年11月, 2026年.
 * Leading and trailing ASCII spaces are ignored. The date must exist (2026-02-30 does not).
 * Returns 0 and fills *out, or -1 with *why (if not NULL) pointing at a static English reason.
 */
int spgw_text_parse_date(const char *s, size_t len, enum spgw_text_date_input mode,
			 unsigned flags, struct spgw_text_time *out, const char **why);

/* The Chinese text of a reason spgw_text_parse_date gave in *why (static; `why` itself when
 * it is not one of them). */
const char *spgw_text_why_zh(const char *why);

/* Beijing time of a UTC instant given in seconds since the epoch (any int64 from 1000 AD). */
void spgw_text_from_epoch(int64_t secs, struct spgw_text_time *out);

/* Days in a month of the proleptic Gregorian calendar (0 for a month outside 1..12). */
int spgw_text_days_in_month(int year, int month);

/* "YYYY-MM-DD" into out[11] / "YYYY-MM-DD HH:MM:SS" into out[20]; return `out`. */
char *spgw_text_format_date(const struct spgw_text_time *t, char out[11]);
char *spgw_text_format_datetime(const struct spgw_text_time *t, char out[20]);

/*
 * Parse a number as sources write it: optional sign, digits with optional ',' thousands
 * separators, optional fraction and exponent; surrounding ASCII spaces allowed. No hex, inf
 * or nan. Returns 0 and sets *out, or -1. *integral is set nonzero when the text has neither
 * fraction nor exponent and fits int64 (then *ival holds it exactly); either may be NULL.
 */
int spgw_text_parse_number(const char *s, size_t len, double *out, int *integral,
			   int64_t *ival);

/*
 * Multiply a number written as text by 10^shift (-18..18) and round it to `decimals` places
 * (0..18, half away from zero; -1: keep every digit), in decimal, so that 123456789.5 元
 * becomes exactly 12345.6790 万元 instead of whatever binary floating point makes of it.
 * Writes plain decimal text (no exponent, no trailing fraction zeros, no '.' when whole) to
 * out[size]. Returns 0, or -1 when `s` is not such a number without exponent or out is short.
 */
int spgw_text_decimal_shift(const char *s, size_t len, int shift, int decimals, char *out,
			    size_t size);

#endif
