/*
 * Check one mapped SPGL record against the compiled schema (validate.h). Every reason is
 * collected; per field, checking stops at the first problem (a value of the wrong type has
 * no length worth measuring). Nothing is allocated unless a reason is found: messages are
 * built in stack buffers and copied by spgw_reasons_add() only then.
 */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Code points of a value quoted in a message: enough to recognise it, short enough to read. */
#define VALUE_SHOWN 64
/* 2^53: PROTOCOL.md §2, integers beyond it do not survive a round trip through a double. */
#define CANON_INT_LIMIT 9007199254740992.0

struct ctx {
	const struct spgw_table *t;
	const char *region;
	const json_t *rec;
	struct spgw_reasons *out;
	size_t found;
	size_t matched; /* record members that are fields the gateway may send */
};

/* A message pair for one reason; both name the field in both languages. */
struct msg {
	char en[768], zh[768];
};

static void reason(struct ctx *c, const char *field, const char *code, const struct msg *m)
{
	c->found++;
	/* the texts are finished: "%s%.0s" prints the first argument only, "%.0s%s" the second.
	 * A failure to store (NOMEM) still counts in c->found, see validate.h. */
	spgw_reasons_add(c->out, field, code, "%s%.0s", "%.0s%s", m->en, m->zh);
}

/* ---- showing values ---- */

/* Text as messages quote it: in quotes, cut after VALUE_SHOWN code points, one line. */
static const char *show_text(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, cps = 0;

	buf[n++] = '"';
	while (*p && cps < VALUE_SHOWN && n + 8 < size) {
		size_t len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4, i;

		/* control characters would break the line */
		for (i = 0; i < len && p[i]; i++)
			buf[n++] = (char)(p[i] < 0x20 ? '?' : p[i]);
		p += i;
		cps++;
	}
	if (*p) {
		memcpy(buf + n, "…", 3);
		n += 3;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* A value as messages quote it. */
static const char *show(const json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		return show_text(json_string_value(v), buf, size);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, size, "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			snprintf(buf, size, "%.17g", json_real_value(v));
	} else {
		/* symbols, not words: the same text serves the English and the Chinese message */
		snprintf(buf, size, "%s",
			 json_is_true(v)     ? "true"
			 : json_is_false(v)  ? "false"
			 : json_is_object(v) ? "{…}"
			 : json_is_array(v)  ? "[…]"
					     : "null");
	}
	return buf;
}

/* ---- the format checks ---- */

static const char uscc_set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* The value of a character of uscc_set, or -1: a table rather than strchr(), as every USCC
 * of every record goes through here twice (its shape, then its check character). */
static int uscc_value(char ch)
{
	/* A..Y; I, O, S and V are not used (they read like 1, 0, 5 and U) */
	static const signed char letter[25] = { 10, 11, 12, 13, 14, 15, 16, 17, -1, 18, 19, 20, 21,
						22, -1, 23, 24, 25, -1, 26, 27, -1, 28, 29, 30 };

	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'Y')
		return letter[ch - 'A'];
	return -1;
}

char spgw_validate_uscc_check(const char *prefix17)
{
	/* GB 32100-2015: weight i is 3^(i-1) mod 31 */
	static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	int i, v, sum = 0;

	if (!prefix17)
		return 0;
	for (i = 0; i < 17; i++) {
		v = uscc_value(prefix17[i]);
		if (v < 0)
			return 0;
		sum += v * w[i];
	}
	return uscc_set[(31 - sum % 31) % 31];
}

static int uscc_shape(const char *s)
{
	return s && strlen(s) == 18 && spgw_validate_uscc_check(s) && uscc_value(s[17]) >= 0;
}

int spgw_validate_uscc(const char *s)
{
	return uscc_shape(s) && s[17] == spgw_validate_uscc_check(s);
}

int spgw_validate_xmdm(const char *s)
{
	static const char shape[] = "NNNN-NNNNNN-NN-NN-NNNNNN";
	size_t i;

	if (!s || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'N' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
			return 0;
	return 1;
}

int spgw_validate_date(const char *s)
{
	return spgw_schema_time(s, NULL) == SPGW_TIME_DATE;
}

int spgw_validate_datetime(const char *s)
{
	return spgw_schema_time(s, NULL) == SPGW_TIME_DATETIME;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* GB/T 4754: optional section letter, 2-4 digits; the division (first two) in the section. */
static int gbhy_ok(const struct spgw_format *fm, const char *s)
{
	int letter = -1, div, i;
	size_t n;

	if (*s >= 'A' && *s <= 'Z')
		letter = *s++ - 'A';
	n = strlen(s);
	if (n < 2 || n > 4 || !all_digits(s, n))
		return 0;
	div = (s[0] - '0') * 10 + (s[1] - '0');
	if (letter >= 0)
		return fm->section_hi[letter] && div >= fm->section_lo[letter] &&
		       div <= fm->section_hi[letter];
	for (i = 0; i < 26; i++)
		if (fm->section_hi[i] && div >= fm->section_lo[i] && div <= fm->section_hi[i])
			return 1;
	return 0;
}

/* The record's `base` field, then nothing or "-" and suffix digits (工程代码 from 项目代码). */
static int prefix_ok(const struct spgw_format *fm, const json_t *rec, const char *s)
{
	const json_t *b = json_object_get(rec, fm->base);
	size_t n, rest;

	/* without a base value there is nothing to compare; its own reason says so */
	if (!json_is_string(b) || !json_string_length(b))
		return 1;
	n = json_string_length(b);
	if (strncmp(s, json_string_value(b), n))
		return 0;
	s += n;
	if (!*s)
		return 1;
	rest = strlen(s + 1);
	return s[0] == '-' && rest >= (size_t)fm->suffix_min && rest <= (size_t)fm->suffix_max &&
	       all_digits(s + 1, rest);
}

/* ---- field checks ---- */

static const char *code_of(const struct spgw_field *f, const char *code)
{
	return spgw_field_rules(f)->count_date ? "day" : code;
}

static void bad_format(struct ctx *c, const struct spgw_field *f, const char *item)
{
	const struct spgw_format *fm = spgw_field_rules(f)->format;
	const char *name = spgw_field_name(f), *zh = spgw_field_zh(f);
	const json_t *base = fm->check == SPGW_CHECK_PREFIX ? json_object_get(c->rec, fm->base)
							    : NULL;
	char v[300], b[300], more_en[400] = "", more_zh[400] = "";
	struct msg m;

	show_text(item, v, sizeof(v));
	/* a 工程代码 is judged against this record's 项目代码: show that too */
	if (base) {
		show(base, b, sizeof(b));
		snprintf(more_en, sizeof(more_en), "; this record's %s is %s", fm->base, b);
		snprintf(more_zh, sizeof(more_zh), "；本记录的 %s 为 %s", fm->base, b);
	}
	snprintf(m.en, sizeof(m.en), "%s (%s) %s is not a valid %s (format %s): expected %s%s",
		 name, zh, v, fm->zh, fm->name, fm->hint, more_en);
	snprintf(m.zh, sizeof(m.zh), "%s（%s）%s 不是有效的%s，应为%s%s", zh, name, v, fm->zh,
		 fm->hint_zh, more_zh);
	reason(c, name, code_of(f, "format"), &m);
}

/* One value or list item against the field's format, then its code table. `num` is the
 * number an int field's item was written from (messages show it unquoted), else NULL. */
static void check_item(struct ctx *c, const struct spgw_field *f, const char *item,
		       const json_t *num)
{
	const struct spgw_field_rules *r = spgw_field_rules(f);
	const struct spgw_format *fm = r->format;
	const char *name = spgw_field_name(f), *zh = spgw_field_zh(f), *rep;
	char v[300];
	struct msg m;
	int ok = 1;

	if (fm) {
		switch (fm->check) {
		case SPGW_CHECK_NONE: break;
		case SPGW_CHECK_DIGITS:
			ok = strlen(item) == (size_t)fm->digits && all_digits(item, strlen(item));
			break;
		case SPGW_CHECK_PATTERN: ok = spgw_format_match(fm, item); break;
		case SPGW_CHECK_XMDM: ok = spgw_validate_xmdm(item); break;
		case SPGW_CHECK_PREFIX: ok = prefix_ok(fm, c->rec, item); break;
		case SPGW_CHECK_USCC: ok = uscc_shape(item); break;
		case SPGW_CHECK_GBHY: ok = gbhy_ok(fm, item); break;
		case SPGW_CHECK_DATE: ok = spgw_validate_date(item); break;
		case SPGW_CHECK_DATETIME: ok = spgw_validate_datetime(item); break;
		}
		if (!ok) {
			bad_format(c, f, item);
			return;
		}
		if (fm->check == SPGW_CHECK_USCC && item[17] != spgw_validate_uscc_check(item)) {
			show_text(item, v, sizeof(v));
			snprintf(m.en, sizeof(m.en),
				 "%s (%s) %s fails the 统一社会信用代码 check: the "
				 "18th character should be %c, so a character is mistyped",
				 name, zh, v, spgw_validate_uscc_check(item));
			snprintf(m.zh, sizeof(m.zh),
				 "%s（%s）%s 校验位错误：第 18 位应为 %c，请核对", zh, name, v,
				 spgw_validate_uscc_check(item));
			reason(c, name, "checkdigit", &m);
			return;
		}
	}
	if (!r->codes)
		return;
	switch (spgw_codes_find(r->codes, item, NULL, &rep)) {
	case 1: return;
	case -1:
		show_text(item, v, sizeof(v));
		snprintf(m.en, sizeof(m.en), "%s (%s) %s is a retired code of %s (%s)%s%s", name,
			 zh, v, spgw_codes_name(r->codes), spgw_codes_zh(r->codes),
			 rep ? "; use " : "", rep ? rep : "");
		snprintf(m.zh, sizeof(m.zh), "%s（%s）%s 是%s（%s）中已停用的代码%s%s", zh, name, v,
			 spgw_codes_zh(r->codes), spgw_codes_name(r->codes), rep ? "，请改用 " : "",
			 rep ? rep : "");
		break;
	default:
		if (num)
			show(num, v, sizeof(v));
		else
			show_text(item, v, sizeof(v));
		snprintf(m.en, sizeof(m.en), "%s (%s) %s is not a code of %s (%s)", name, zh, v,
			 spgw_codes_name(r->codes), spgw_codes_zh(r->codes));
		snprintf(m.zh, sizeof(m.zh), "%s（%s）%s 不在代码表%s（%s）中", zh, name, v,
			 spgw_codes_zh(r->codes), spgw_codes_name(r->codes));
	}
	reason(c, name, "code", &m);
}

static void check_items(struct ctx *c, const struct spgw_field *f, const char *s)
{
	const struct spgw_format *fm = spgw_field_rules(f)->format;
	char item[128];
	const char *p, *e;

	if (!fm || !fm->list) {
		check_item(c, f, s, NULL);
		return;
	}
	for (p = s;; p = e + 1) {
		size_t n;

		e = strchr(p, fm->list);
		n = e ? (size_t)(e - p) : strlen(p);
		/* no code is this long: a shortened copy still fails, and the message shows it */
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		check_item(c, f, item, NULL);
		if (!e)
			break;
	}
}

static void check_str(struct ctx *c, const struct spgw_field *f, const json_t *v)
{
	const struct spgw_field_rules *r = spgw_field_rules(f);
	const char *name = spgw_field_name(f), *zh = spgw_field_zh(f), *s = json_string_value(v);
	/* jansson only makes valid strings, but a value built with json_string_nocheck()
	 * need not be one */
	long len = spgw_text_utf8_count(s, json_string_length(v));
	char shown[300];
	struct msg m;

	if (len < 0) {
		snprintf(m.en, sizeof(m.en),
			 "%s (%s) is not valid UTF-8 text or holds a NUL "
			 "character; fix the text conversion in the mapping",
			 name, zh);
		snprintf(m.zh, sizeof(m.zh),
			 "%s（%s）不是有效的 UTF-8 文本（或含 NUL 字符），请检查映射中的编码转换",
			 zh, name);
		reason(c, name, "canonical", &m);
		return;
	}
	if (r->max && len > r->max) {
		show(v, shown, sizeof(shown));
		snprintf(m.en, sizeof(m.en),
			 "%s (%s) is %ld characters long, more than the %d allowed: %s", name, zh,
			 len, r->max, shown);
		snprintf(m.zh, sizeof(m.zh), "%s（%s）长度为 %ld 个字符，超过上限 %d：%s", zh, name,
			 len, r->max, shown);
		reason(c, name, "length", &m);
		return;
	}
	if (r->source_region && (!c->region || strcmp(s, c->region))) {
		show(v, shown, sizeof(shown));
		snprintf(m.en, sizeof(m.en),
			 "%s (%s) %s differs from the source's region %s; "
			 "the region must be the one the source is configured for",
			 name, zh, shown, c->region ? c->region : "(none)");
		snprintf(m.zh, sizeof(m.zh), "%s（%s）%s 与数据源所属行政区划 %s 不一致", zh, name,
			 shown, c->region ? c->region : "（无）");
		reason(c, name, "code", &m);
		return;
	}
	if (r->format || r->codes)
		check_items(c, f, s);
}

/* 10^n for the digit limits; exact up to 10^22, which covers every int and dec limit. */
static double pow10_of(int n)
{
	static const double p[] = { 1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,
				    1e8,  1e9,	1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

	return n >= 0 && n <= 22 ? p[n] : pow(10, n);
}

/*
 * At most `scale` decimals in the shortest decimal that reads back as x (what the canonical
 * form writes). Fast path: r = round(x * 10^scale) is then exact, and r / 10^scale, a
 * correctly rounded division of exact values, reads back as x. Large values go the slow way.
 */
static int scale_fits(double x, int scale)
{
	double r = nearbyint(x * pow10_of(scale));
	char buf[64];

	if (fabs(r) < CANON_INT_LIMIT && scale <= 22)
		return r / pow10_of(scale) == x;
	snprintf(buf, sizeof(buf), "%.*f", scale, x);
	return strtod(buf, NULL) == x;
}

/* Decimal digits of an integral value below 2^53, without printf (this runs per field). */
static void int_text(double x, char buf[24])
{
	unsigned long long u = (unsigned long long)fabs(x);
	char tmp[24];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (x < 0)
		buf[i++] = '-';
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
}

/* PROTOCOL.md §2: what a canonical form can write exactly. */
static int canonical_number(double x)
{
	double a = fabs(x);

	if (isnan(x) || isinf(x))
		return 0;
	if (x == floor(x))
		return a < CANON_INT_LIMIT;
	return a >= 1e-6 && a < 1e21;
}

static void bad_number(struct ctx *c, const struct spgw_field *f, const json_t *v, const char *code,
		       const char *en, const char *zh)
{
	const char *name = spgw_field_name(f), *fzh = spgw_field_zh(f);
	char shown[300];
	struct msg m;

	show(v, shown, sizeof(shown));
	snprintf(m.en, sizeof(m.en), "%s (%s) %s %s", name, fzh, shown, en);
	snprintf(m.zh, sizeof(m.zh), "%s（%s）%s %s", fzh, name, shown, zh);
	reason(c, name, code, &m);
}

static void check_number(struct ctx *c, const struct spgw_field *f, const json_t *v)
{
	const struct spgw_field_rules *r = spgw_field_rules(f);
	int is_int = spgw_field_type(f) == SPGW_FT_INT;
	double x = json_number_value(v);
	char buf[24], en[160], zh[160];

	if (!canonical_number(x)) {
		bad_number(c, f, v, "canonical",
			   "is outside what a record may carry (PROTOCOL.md "
			   "§2: integers below 2^53, other numbers from 1e-6 to below 1e21)",
			   "超出上报数值范围（整数绝对值须小于 2^53，其他数值须在 1e-6 至 1e21 "
			   "之间）");
		return;
	}
	if (is_int && x != floor(x)) {
		bad_number(c, f, v, "type", "must be an integer", "应为整数");
		return;
	}
	if (is_int && r->max && fabs(x) >= pow10_of(r->max)) {
		snprintf(en, sizeof(en), "has more than %d digits", r->max);
		snprintf(zh, sizeof(zh), "超过 %d 位数字", r->max);
		bad_number(c, f, v, "length", en, zh);
		return;
	}
	if (!is_int) {
		/* dec(p,s): at most p-s digits before the point and s after; "after" counts the
		 * shortest decimal that reads back as the same double, which is what the
		 * canonical form writes */
		int fits = fabs(x) < pow10_of(r->precision - r->scale);

		if (fits && x != floor(x))
			fits = scale_fits(x, r->scale);
		if (!fits) {
			snprintf(en, sizeof(en),
				 "does not fit dec(%d,%d): at most %d digits before "
				 "the point and %d after",
				 r->precision, r->scale, r->precision - r->scale, r->scale);
			snprintf(zh, sizeof(zh),
				 "超出 dec(%d,%d)：整数部分至多 %d 位，小数至多 %d 位",
				 r->precision, r->scale, r->precision - r->scale, r->scale);
			bad_number(c, f, v, "length", en, zh);
			return;
		}
	}
	if (r->has_min && x < r->min) {
		snprintf(en, sizeof(en), "is below the minimum %g", r->min);
		snprintf(zh, sizeof(zh), "小于最小值 %g", r->min);
		bad_number(c, f, v, "format", en, zh);
		return;
	}
	if (is_int && r->codes) {
		int_text(x, buf);
		check_item(c, f, buf, v);
	}
}

static const char *const type_en[] = { "a string", "an integer", "a number",
				       "a date string YYYY-MM-DD",
				       "a date-time string YYYY-MM-DD HH:MM:SS" };
static const char *const type_zh[] = { "字符串", "整数", "数值", "日期字符串 YYYY-MM-DD",
				       "日期时间字符串 YYYY-MM-DD HH:MM:SS" };

static void check_value(struct ctx *c, const struct spgw_field *f, const json_t *v)
{
	enum spgw_ftype type = spgw_field_type(f);
	const char *name = spgw_field_name(f), *zh = spgw_field_zh(f);
	char shown[300];
	struct msg m;
	int ok;

	switch (type) {
	case SPGW_FT_STR:
	case SPGW_FT_DATE:
	case SPGW_FT_DATETIME: ok = json_is_string(v); break;
	default: ok = json_is_number(v); break;
	}
	if (!ok) {
		show(v, shown, sizeof(shown));
		snprintf(m.en, sizeof(m.en), "%s (%s) must be %s, not %s%s", name, zh,
			 type_en[type], shown,
			 json_is_string(v) ? " (the mapping converts numbers written as text)"
					   : "");
		snprintf(m.zh, sizeof(m.zh), "%s（%s）应为%s，实际为 %s", zh, name, type_zh[type],
			 shown);
		reason(c, name, code_of(f, "type"), &m);
		return;
	}
	if (type == SPGW_FT_INT || type == SPGW_FT_DEC)
		check_number(c, f, v);
	else
		check_str(c, f, v);
}

static int present(const json_t *v)
{
	return v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v));
}

static void check_field(struct ctx *c, const struct spgw_field *f)
{
	const char *name = spgw_field_name(f), *zh = spgw_field_zh(f), *why_en, *why_zh;
	const json_t *v = json_object_get(c->rec, name);
	enum spgw_need need = spgw_field_need(f, c->rec, &why_en, &why_zh);
	char shown[300];
	struct msg m;

	if (v)
		c->matched++;
	if (!present(v)) {
		if (need != SPGW_NEED_REQUIRED)
			return;
		snprintf(m.en, sizeof(m.en), "%s (%s) is required%s%s%s", name, zh,
			 *why_en ? " when " : "", why_en,
			 spgw_field_rules(f)->count_date ? "; it gives the record's business day"
							 : "");
		snprintf(m.zh, sizeof(m.zh), "%s%s%s（%s）为必填项%s", why_zh,
			 *why_zh ? "时，" : "", zh, name,
			 spgw_field_rules(f)->count_date ? "（用于确定业务日期）" : "");
		reason(c, name, code_of(f, "required"), &m);
		return;
	}
	if (need == SPGW_NEED_EMPTY) {
		show(v, shown, sizeof(shown));
		snprintf(m.en, sizeof(m.en), "%s (%s) must be empty unless %s, but holds %s", name,
			 zh, why_en, shown);
		snprintf(m.zh, sizeof(m.zh), "%s（%s）仅在%s时填写，当前为 %s", zh, name, why_zh,
			 shown);
		reason(c, name, "format", &m);
		return;
	}
	check_value(c, f, v);
}

/* A value fit for comparison: of its field's type, and for dates a real date. */
static int comparable(const struct spgw_field *f, const json_t *v)
{
	switch (spgw_field_type(f)) {
	case SPGW_FT_INT:
	case SPGW_FT_DEC: return json_is_number(v);
	case SPGW_FT_DATE: return json_is_string(v) && spgw_validate_date(json_string_value(v));
	case SPGW_FT_DATETIME:
		return json_is_string(v) && spgw_validate_datetime(json_string_value(v));
	default: return json_is_string(v);
	}
}

static void check_rules(struct ctx *c)
{
	static const char *const op_en[] = { "earlier than (less than)",
					     "no later than (at most)",
					     "later than (more than)",
					     "no earlier than (at least)",
					     "equal to",
					     "different from" };
	static const char *const op_zh[] = { "早于（小于）", "不晚于（不大于）",
					     "晚于（大于）", "不早于（不小于）",
					     "等于",	     "不同于" };
	const struct spgw_rule *r;
	size_t i, n;

	r = spgw_table_rules(c->t, &n);
	for (i = 0; i < n; i++) {
		const json_t *a = json_object_get(c->rec, spgw_field_name(r[i].a));
		const json_t *b = json_object_get(c->rec, spgw_field_name(r[i].b));
		char sa[300], sb[300];
		struct msg m;
		int d, ok;

		/* a missing or malformed side already has its own reason */
		if (!comparable(r[i].a, a) || !comparable(r[i].b, b))
			continue;
		if (json_is_number(a))
			d = json_number_value(a) < json_number_value(b)
				    ? -1
				    : json_number_value(a) > json_number_value(b);
		else
			d = strcmp(json_string_value(a), json_string_value(b));
		switch (r[i].cmp) {
		case SPGW_CMP_LT: ok = d < 0; break;
		case SPGW_CMP_LE: ok = d <= 0; break;
		case SPGW_CMP_GT: ok = d > 0; break;
		case SPGW_CMP_GE: ok = d >= 0; break;
		case SPGW_CMP_EQ: ok = d == 0; break;
		default: ok = d != 0; break;
		}
		if (ok)
			continue;
		show(a, sa, sizeof(sa));
		show(b, sb, sizeof(sb));
		snprintf(m.en, sizeof(m.en), "%s (%s) %s must be %s %s (%s) %s",
			 spgw_field_name(r[i].a), spgw_field_zh(r[i].a), sa, op_en[r[i].cmp],
			 spgw_field_name(r[i].b), spgw_field_zh(r[i].b), sb);
		snprintf(m.zh, sizeof(m.zh), "%s（%s）%s 应%s%s（%s）%s", spgw_field_zh(r[i].a),
			 spgw_field_name(r[i].a), sa, op_zh[r[i].cmp], spgw_field_zh(r[i].b),
			 spgw_field_name(r[i].b), sb);
		reason(c, spgw_field_name(r[i].a), "format", &m);
	}
}

/* Members the table does not define, and national write-back fields, must not be sent. */
static void check_members(struct ctx *c)
{
	const char *key;
	const json_t *v;
	char k[300];
	struct msg m;

	json_object_foreach((json_t *)c->rec, key, v) {
		const struct spgw_field *f = spgw_table_field(c->t, key);

		if (f && !spgw_field_not_sent(f))
			continue;
		show_text(key, k, sizeof(k));
		if (f) {
			snprintf(m.en, sizeof(m.en),
				 "%s (%s) is written back by the national "
				 "platform and must not be sent; drop it in the mapping",
				 key, spgw_field_zh(f));
			snprintf(m.zh, sizeof(m.zh),
				 "%s（%s）由国家端回写，不得上报，请在映射中去掉", spgw_field_zh(f),
				 key);
		} else {
			snprintf(m.en, sizeof(m.en),
				 "field %s is not part of %s (%s); remove it or "
				 "fix its name in the mapping",
				 k, spgw_table_name(c->t), spgw_table_zh(c->t));
			snprintf(m.zh, sizeof(m.zh),
				 "字段 %s 不属于%s（%s），请在映射中删除或更正字段名", k,
				 spgw_table_zh(c->t), spgw_table_name(c->t));
		}
		reason(c, key, "format", &m);
	}
}

size_t spgw_validate(const struct spgw_schema *s, const char *table, const char *region,
		     const json_t *record, struct spgw_reasons *out)
{
	struct ctx c = { .region = region, .rec = record, .out = out };
	char shown[300];
	struct msg m;
	size_t i;

	c.t = spgw_schema_table(s, table);
	if (!c.t) {
		show_text(table ? table : "", shown, sizeof(shown));
		snprintf(m.en, sizeof(m.en),
			 "table %s is not part of schema %s; check the table name in the mapping",
			 shown, spgw_schema_id(s));
		snprintf(m.zh, sizeof(m.zh), "数据表 %s 不属于标准 %s，请检查映射中的表名", shown,
			 spgw_schema_id(s));
		reason(&c, NULL, "format", &m);
		return c.found;
	}
	if (!json_is_object(record)) {
		snprintf(m.en, sizeof(m.en), "a %s record must be a JSON object, not %s", table,
			 show(record, shown, sizeof(shown)));
		snprintf(m.zh, sizeof(m.zh), "%s 的记录应为 JSON 对象，实际为 %s", table, shown);
		reason(&c, NULL, "type", &m);
		return c.found;
	}
	for (i = 0; i < spgw_table_field_count(c.t); i++) {
		const struct spgw_field *f = spgw_table_field_at(c.t, i);

		if (!spgw_field_not_sent(f))
			check_field(&c, f);
	}
	check_rules(&c);
	/* every member matched a field that may be sent: no unknown or write-back member */
	if (c.matched != json_object_size(record))
		check_members(&c);
	return c.found;
}

/* "220100" -> "2201", "220000" -> "22": the codes that lie inside a region start so. */
static size_t region_prefix(const char *region)
{
	size_t n = strlen(region);

	while (n >= 2 && region[n - 1] == '0' && region[n - 2] == '0')
		n -= 2;
	return n;
}

size_t spgw_validate_warnings(const struct spgw_schema *s, const char *table, const char *region,
			      const json_t *record, struct spgw_reasons *out)
{
	struct ctx c = { .region = region, .rec = record, .out = out };
	size_t i;

	c.t = spgw_schema_table(s, table);
	if (!c.t || !json_is_object(record))
		return 0;
	for (i = 0; i < spgw_table_field_count(c.t); i++) {
		const struct spgw_field *f = spgw_table_field_at(c.t, i);
		const struct spgw_field_rules *r = spgw_field_rules(f);
		const json_t *v = json_object_get(record, spgw_field_name(f));
		const char *name = spgw_field_name(f), *zh = spgw_field_zh(f), *p, *e;
		char shown[300];
		struct msg m;

		if (r->has_warn_above && json_is_number(v) &&
		    json_number_value(v) > r->warn_above) {
			show(v, shown, sizeof(shown));
			snprintf(m.en, sizeof(m.en),
				 "%s (%s) %s is above %.0f: a probable 元/万元 "
				 "mix-up (the field is in 万元); sent as it is, check the source",
				 name, zh, shown, r->warn_above);
			snprintf(m.zh, sizeof(m.zh),
				 "%s（%s）%s 超过 "
				 "%."
				 "0f，疑似元与万元混用（本字段单位为万元）；已照常上报，请核对源数"
				 "据",
				 zh, name, shown, r->warn_above);
			reason(&c, name, "warning", &m);
		}
		if (!r->warn_outside_region || !json_is_string(v) || !region)
			continue;
		for (p = json_string_value(v);; p = e + 1) {
			size_t n = region_prefix(region);

			e = strchr(p, r->format && r->format->list ? r->format->list : '\0');
			if ((e ? (size_t)(e - p) : strlen(p)) == 6 && strncmp(p, region, n)) {
				snprintf(m.en, sizeof(m.en),
					 "%s (%s) lists %.6s, outside the source's "
					 "region %s; sent as it is (works may cross borders)",
					 name, zh, p, region);
				snprintf(m.zh, sizeof(m.zh),
					 "%s（%s）中的 %.6s 不在数据源所属行政区划 %s "
					 "内；已照常上报（工程可能跨区）",
					 zh, name, p, region);
				reason(&c, name, "warning", &m);
			}
			if (!e || !*e)
				break;
		}
	}
	return c.found;
}
