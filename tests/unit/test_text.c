/* Unit tests for gateway/text.c: UTF-8, GB18030, clean-up, dates and numbers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "text.h"

/* --- UTF-8 --- */

START_TEST(utf8_valid_text)
{
	const char *s = "长春 abc ＡＢ 𠀀";
	size_t bad = 99;

	ck_assert(spgw_text_utf8_valid(s, strlen(s), &bad));
	ck_assert_uint_eq(bad, 99);
	ck_assert_uint_eq(spgw_text_codepoints("长春ab", strlen("长春ab")), 4);
}
END_TEST

static const struct {
	const char *s;
	size_t len, bad;
} bad_utf8[] = {
	{ "ab\xC3", 3, 2 },               /* cut short */
	{ "a\xE4\xB8", 3, 1 },            /* cut short, 3-byte */
	{ "\xC0\xAF", 2, 0 },             /* overlong '/' */
	{ "xy\xED\xA0\x80", 5, 2 },       /* UTF-16 surrogate */
	{ "\xF4\x90\x80\x80", 4, 0 },     /* above U+10FFFF */
	{ "长\x80春", 7, 3 },             /* stray continuation byte */
	{ "abc\xFF", 4, 3 },              /* never valid */
	{ "\xE4\xB8\x41", 3, 0 },         /* continuation missing */
};

START_TEST(utf8_invalid_offsets)
{
	size_t bad = 999;

	ck_assert(!spgw_text_utf8_valid(bad_utf8[_i].s, bad_utf8[_i].len, &bad));
	ck_assert_uint_eq(bad, bad_utf8[_i].bad);
}
END_TEST

START_TEST(utf8_cut)
{
	char a[] = "ab\xe9\x95\xbf\xe6\x98", b[] = "ab\xe9\x95\xbf", c[] = "a\xf0\x9f\x98";

	spgw_text_utf8_cut(a); /* 长 then the first two bytes of 春 */
	ck_assert_str_eq(a, "ab长");
	spgw_text_utf8_cut(b);
	ck_assert_str_eq(b, "ab长");
	spgw_text_utf8_cut(c);
	ck_assert_str_eq(c, "a");
}
END_TEST

/* --- GB18030 --- */

START_TEST(gbk_to_utf8)
{
	/* 中文€é𠀀 in GB18030: two 2-byte, one 2-byte (€ = A2E3), two 4-byte sequences */
	const char in[] = "\xd6\xd0\xce\xc4\xa2\xe3\xa8\xa6\x95\x32\x82\x36";
	struct spgw_buf b;
	struct spgw_error e;
	size_t bad = 99;

	memset(&e, 0, sizeof(e));
	spgw_buf_init(&b, 1024, "test");
	ck_assert_int_eq(spgw_text_gb18030_to_utf8(in, sizeof(in) - 1, &b, &bad, &e), SPGW_OK);
	ck_assert_str_eq(b.data, "中文€é𠀀");
	spgw_buf_reset(&b);
	/* 长春市 in GBK, with ASCII around it */
	ck_assert_int_eq(spgw_text_gb18030_to_utf8("A\xb3\xa4\xb4\xba\xca\xd0-1", 10, &b, &bad,
						   &e),
			 SPGW_OK);
	ck_assert_str_eq(b.data, "A长春市-1");
	spgw_buf_free(&b);
}
END_TEST

START_TEST(gbk_invalid)
{
	struct spgw_buf b;
	struct spgw_error e;
	size_t bad = 99;

	memset(&e, 0, sizeof(e));
	spgw_buf_init(&b, 1024, "test");
	/* 0xFF is never a GB18030 byte: it sits at offset 4, after 中 and "ab" */
	ck_assert_int_eq(spgw_text_gb18030_to_utf8("\xd6\xd0" "ab\xff" "cd", 7, &b, &bad, &e),
			 SPGW_E_TEXT);
	ck_assert_uint_eq(bad, 4);
	ck_assert_str_eq(b.data, "中ab"); /* what came before the bad byte */
	ck_assert_ptr_nonnull(strstr(e.text, "offset 4"));
	/* a lead byte at the very end: cut short */
	spgw_buf_reset(&b);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(spgw_text_gb18030_to_utf8("ab\xd6", 3, &b, &bad, &e), SPGW_E_TEXT);
	ck_assert_uint_eq(bad, 2);
	spgw_buf_free(&b);
}
END_TEST

START_TEST(gbk_output_limit)
{
	struct spgw_buf b;
	struct spgw_error e;

	memset(&e, 0, sizeof(e));
	spgw_buf_init(&b, 5, "decoded text"); /* room for one character and a bit */
	ck_assert_int_eq(spgw_text_gb18030_to_utf8("\xd6\xd0\xce\xc4\xd6\xd0", 6, &b, NULL, &e),
			 SPGW_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(e.text, "decoded text"));
	ck_assert_uint_le(b.len, 5);
	spgw_buf_free(&b);
}
END_TEST

START_TEST(latin1_bytes)
{
	char out[16];

	/* "Ö\xd0" as code points U+00D6 U+00D0 is the GBK byte pair of 中 */
	ck_assert_uint_eq(spgw_text_latin1_bytes("\xc3\x96\xc3\x90x", 5, out), 3);
	ck_assert_int_eq((unsigned char)out[0], 0xD6);
	ck_assert_int_eq((unsigned char)out[1], 0xD0);
	ck_assert_int_eq(out[2], 'x');
	ck_assert_uint_eq(spgw_text_latin1_bytes("中", 3, out), (size_t)-1);
}
END_TEST

/* --- clean-up --- */

static char *run(size_t (*fn)(char *, size_t), const char *in)
{
	static char buf[256];
	size_t n = strlen(in);

	memcpy(buf, in, n);
	n = fn(buf, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(halfwidth)
{
	ck_assert_str_eq(run(spgw_text_halfwidth, "ＡＢＣ１２３－　（ｘ）！～"), "ABC123- (x)!~");
	/* U+FF5F and CJK punctuation are not full-width ASCII: left alone */
	ck_assert_str_eq(run(spgw_text_halfwidth, "｟。、长春"), "｟。、长春");
	ck_assert_str_eq(run(spgw_text_halfwidth, "２０２０-２２０１０４"), "2020-220104");
}
END_TEST

START_TEST(trim)
{
	ck_assert_str_eq(run(spgw_text_trim, "\xe3\x80\x80 \xc2\xa0" "a b\xe3\x80\x80\t\r\n"),
			 "a b");
	ck_assert_str_eq(run(spgw_text_trim, "\xef\xbb\xbf" "abc"), "abc"); /* stray BOM */
	ck_assert_str_eq(run(spgw_text_trim, " \xe3\x80\x80 "), "");
	ck_assert_str_eq(run(spgw_text_trim, "长春"), "长春");
	ck_assert_str_eq(run(spgw_text_trim, ""), "");
}
END_TEST

START_TEST(collapse_space)
{
	ck_assert_str_eq(run(spgw_text_collapse_space, "a  \xe3\x80\x80 b\n\nc"), "a b c");
	ck_assert_str_eq(run(spgw_text_collapse_space, " x "), " x ");
}
END_TEST

START_TEST(strip_control)
{
	ck_assert_str_eq(run(spgw_text_strip_control, "a\x01" "b\tc\nd\r\x7f" "e\xc2\x85" "f\x1b"),
			 "ab\tc\nd\ref");
	ck_assert_str_eq(run(spgw_text_strip_control, "长春\xc2\xa0"), "长春\xc2\xa0");
}
END_TEST

START_TEST(upper_lower)
{
	char s[] = "e4710-ab长";

	spgw_text_upper(s, strlen(s));
	ck_assert_str_eq(s, "E4710-AB长");
	spgw_text_lower(s, strlen(s));
	ck_assert_str_eq(s, "e4710-ab长");
}
END_TEST

/* --- dates --- */

static const struct {
	const char *in;
	enum spgw_text_date_input mode;
	unsigned flags;
	const char *want; /* "YYYY-MM-DD HH:MM:SS", or NULL: must fail */
	int precision;
} dates[] = {
	{ "2026-11-03", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "2026-11-3", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "2026/11/3 9:05", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:00", SPGW_TEXT_TIME },
	{ "2026/11/03 09:05:07", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:07", SPGW_TEXT_TIME },
	{ "2026.11.03", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "2026年11月3日", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "2026年11月03号", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "2026年11月3日 9时5分", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:00", SPGW_TEXT_TIME },
	{ "2026年11月3日9点5分3秒", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:03", SPGW_TEXT_TIME },
	{ "20261103", SPGW_TEXT_AUTO, 0, "2026-11-03 00:00:00", SPGW_TEXT_DAY },
	{ "202611030905", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:00", SPGW_TEXT_TIME },
	{ "20261103090507", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:07", SPGW_TEXT_TIME },
	{ "2026-11-03 09:05:07.123", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:07", SPGW_TEXT_TIME },
	{ "  2026-11-03T09:05:07  ", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:07", SPGW_TEXT_TIME },
	/* zones convert to Beijing time, across midnight too */
	{ "2026-11-03T01:05:00Z", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:00", SPGW_TEXT_TIME },
	{ "2026-11-03T20:00:00+00:00", SPGW_TEXT_AUTO, 0, "2026-11-04 04:00:00", SPGW_TEXT_TIME },
	{ "2026-11-03T09:05:00+0800", SPGW_TEXT_AUTO, 0, "2026-11-03 09:05:00", SPGW_TEXT_TIME },
	{ "2026-11-03T00:30:00-05:00", SPGW_TEXT_AUTO, 0, "2026-11-03 13:30:00", SPGW_TEXT_TIME },
	/* epoch seconds and milliseconds are UTC instants: 15:59:59Z is 23:59:59 in Beijing,
	 * one second later is the next day there while still 11-03 in UTC */
	{ "1793721599", SPGW_TEXT_AUTO, 0, "2026-11-03 23:59:59", SPGW_TEXT_TIME },
	{ "1793721600", SPGW_TEXT_AUTO, 0, "2026-11-04 00:00:00", SPGW_TEXT_TIME },
	{ "1793721599999", SPGW_TEXT_AUTO, 0, "2026-11-03 23:59:59", SPGW_TEXT_TIME },
	{ "1793721600000", SPGW_TEXT_AUTO, 0, "2026-11-04 00:00:00", SPGW_TEXT_TIME },
	{ "45000", SPGW_TEXT_EPOCH_S, 0, "1970-01-01 20:30:00", SPGW_TEXT_TIME },
	{ "1793721600000", SPGW_TEXT_EPOCH_MS, 0, "2026-11-04 00:00:00", SPGW_TEXT_TIME },
	/* Excel serial days (1900 system) */
	{ "45000", SPGW_TEXT_AUTO, 0, "2023-03-15 00:00:00", SPGW_TEXT_DAY },
	{ "45000.5", SPGW_TEXT_AUTO, 0, "2023-03-15 12:00:00", SPGW_TEXT_TIME },
	{ "61", SPGW_TEXT_EXCEL, 0, "1900-03-01 00:00:00", SPGW_TEXT_DAY },
	{ "59", SPGW_TEXT_EXCEL, 0, "1900-02-28 00:00:00", SPGW_TEXT_DAY },
	{ "1", SPGW_TEXT_EXCEL, 0, "1900-01-01 00:00:00", SPGW_TEXT_DAY },
	{ "60", SPGW_TEXT_EXCEL, 0, NULL, 0 }, /* Lotus's 1900-02-29 */
	/* partial dates only when allowed */
	{ "2026-11", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-11", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-11-01 00:00:00", SPGW_TEXT_MONTH },
	{ "2026/7", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-07-01 00:00:00", SPGW_TEXT_MONTH },
	{ "2026年11月", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-11-01 00:00:00", SPGW_TEXT_MONTH },
	{ "2026年", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-01-01 00:00:00", SPGW_TEXT_YEAR },
	{ "2026", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-01-01 00:00:00", SPGW_TEXT_YEAR },
	{ "2026", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "202611", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, "2026-11-01 00:00:00", SPGW_TEXT_MONTH },
	/* dates that do not exist, and things that are no dates */
	{ "2026-02-30", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2025-02-29", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2024-02-29", SPGW_TEXT_AUTO, 0, "2024-02-29 00:00:00", SPGW_TEXT_DAY },
	{ "2100-02-29", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-13-01", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-04-31", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "20260230", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-11-03 24:00", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-11-03 09:60", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026/11-03", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026.11", SPGW_TEXT_AUTO, SPGW_TEXT_PARTIAL, NULL, 0 },
	{ "2026-11-03x", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-11-0309:05", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "11/03/2026", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "12345678901", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "123", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "abc", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "", SPGW_TEXT_AUTO, 0, NULL, 0 },
	{ "2026-11-03", SPGW_TEXT_EPOCH_S, 0, NULL, 0 },
};

START_TEST(parse_dates)
{
	struct spgw_text_time t;
	const char *why = NULL;
	char out[20];
	int rc = spgw_text_parse_date(dates[_i].in, strlen(dates[_i].in), dates[_i].mode,
				      dates[_i].flags, &t, &why);

	if (!dates[_i].want) {
		ck_assert_msg(rc == -1, "\"%s\" was accepted as %s", dates[_i].in,
			      spgw_text_format_datetime(&t, out));
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused: %s", dates[_i].in, why ? why : "?");
	ck_assert_str_eq(spgw_text_format_datetime(&t, out), dates[_i].want);
	ck_assert_int_eq(t.precision, dates[_i].precision);
}
END_TEST

START_TEST(format_and_calendar)
{
	struct spgw_text_time t = { 9999, 1, 1, 0, 0, 0, SPGW_TEXT_DAY };
	char d[11], dt[20];

	ck_assert_str_eq(spgw_text_format_date(&t, d), "9999-01-01");
	spgw_text_from_epoch(0, &t);
	ck_assert_str_eq(spgw_text_format_datetime(&t, dt), "1970-01-01 08:00:00");
	spgw_text_from_epoch(-8 * 3600 - 1, &t); /* before 1970: floor, not truncation */
	ck_assert_str_eq(spgw_text_format_datetime(&t, dt), "1969-12-31 23:59:59");
	ck_assert_int_eq(spgw_text_days_in_month(2000, 2), 29);
	ck_assert_int_eq(spgw_text_days_in_month(1900, 2), 28);
	ck_assert_int_eq(spgw_text_days_in_month(2026, 13), 0);
}
END_TEST

/* --- numbers --- */

START_TEST(numbers)
{
	double d;
	int integral;
	int64_t iv;

	ck_assert_int_eq(spgw_text_parse_number("1,234,567.89", 12, &d, &integral, &iv), 0);
	ck_assert(d == 1234567.89 && !integral);
	ck_assert_int_eq(spgw_text_parse_number(" -12 ", 5, &d, &integral, &iv), 0);
	ck_assert(integral && iv == -12 && d == -12);
	ck_assert_int_eq(spgw_text_parse_number("9007199254740993", 16, &d, &integral, &iv), 0);
	ck_assert(integral && iv == 9007199254740993LL); /* exact beyond double's 2^53 */
	ck_assert_int_eq(spgw_text_parse_number("1e3", 3, &d, &integral, NULL), 0);
	ck_assert(d == 1000 && !integral);
	ck_assert_int_eq(spgw_text_parse_number("0.0001", 6, &d, NULL, NULL), 0);
	ck_assert_int_eq(spgw_text_parse_number("99999999999999999999", 20, &d, &integral, NULL),
			 0);
	ck_assert(!integral);
	/* not numbers */
	ck_assert_int_eq(spgw_text_parse_number("12,34", 5, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("1234,567", 8, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("abc", 3, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("inf", 3, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("nan", 3, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("0x10", 4, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("12元", strlen("12元"), &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("", 0, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("1e", 2, &d, NULL, NULL), -1);
	ck_assert_int_eq(spgw_text_parse_number("1e999", 5, &d, NULL, NULL), -1);
}
END_TEST

static const struct {
	const char *in;
	int shift, decimals;
	const char *want; /* NULL: refused */
} shifts[] = {
	{ "123456789.50", -4, 4, "12345.679" },	/* 元 to 万元: 12345.67895 rounds up */
	{ "123456789.45", -4, 4, "12345.6789" },
	{ "1,000,000", -4, 4, "100" },
	{ "0.00005", 0, 4, "0.0001" },
	{ "-0.00004", 0, 4, "0" },		/* no negative zero */
	{ "9999.99995", 0, 4, "10000" },	/* the carry runs through every digit */
	{ "99.5", 0, 0, "100" },
	{ "0.5", 0, 0, "1" },
	{ "-0.5", 0, 0, "-1" },			/* half away from zero */
	{ "-1234.5", -1, 0, "-123" },
	{ "12", 3, -1, "12000" },
	{ "5", -4, -1, "0.0005" },
	{ " 007.100 ", 0, -1, "7.1" },
	{ "1.0", 0, 1, "1" },
	{ "1e5", 0, 2, NULL },			/* exponents take the binary path */
	{ "abc", 0, 2, NULL },
	{ "12", 19, 2, NULL },
};

START_TEST(decimal_shift)
{
	char out[64];
	int rc = spgw_text_decimal_shift(shifts[_i].in, strlen(shifts[_i].in), shifts[_i].shift,
					 shifts[_i].decimals, out, sizeof(out));

	if (!shifts[_i].want) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", shifts[_i].in);
	ck_assert_str_eq(out, shifts[_i].want);
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("utf8");

	tcase_add_test(tc, utf8_valid_text);
	tcase_add_test(tc, utf8_cut);
	tcase_add_loop_test(tc, utf8_invalid_offsets, 0, sizeof(bad_utf8) / sizeof(bad_utf8[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("gb18030");
	tcase_add_test(tc, gbk_to_utf8);
	tcase_add_test(tc, gbk_invalid);
	tcase_add_test(tc, gbk_output_limit);
	tcase_add_test(tc, latin1_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("clean");
	tcase_add_test(tc, halfwidth);
	tcase_add_test(tc, trim);
	tcase_add_test(tc, collapse_space);
	tcase_add_test(tc, strip_control);
	tcase_add_test(tc, upper_lower);
	suite_add_tcase(s, tc);
	tc = tcase_create("dates");
	tcase_add_loop_test(tc, parse_dates, 0, sizeof(dates) / sizeof(dates[0]));
	tcase_add_test(tc, format_and_calendar);
	suite_add_tcase(s, tc);
	tc = tcase_create("numbers");
	tcase_add_test(tc, numbers);
	tcase_add_loop_test(tc, decimal_shift, 0, sizeof(shifts) / sizeof(shifts[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(text_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
