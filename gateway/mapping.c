/*
 * Applying a compiled mapping (see mapping.h; loading: mapping_load.c, mapping_rule.c). One source
 * record becomes the SPGL records its emits describe. This is the hot path of ingest: no rule
 * is parsed and no rule name compared here, strings are cleaned in reused buffers, and a
 * problem with one field becomes a reason for that output record, never an error.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_parse.h"
#include "spgw_limits.h"
#include "mapping_int.h"
#include "mem.h"
#include "text.h"

/* Longest value text quoted in a reason: enough to recognise it, short enough to read. */
#define REASON_VALUE_MAX 64

/* A value on its way through a rule's transforms. */
struct val {
	enum { V_NONE, V_JSON, V_STR, V_OWN } kind;
	const json_t *j; /* V_JSON: borrowed (source record or mapping file) */
	json_t *own;     /* V_OWN: a new number made by "number" or the final conversion */
	const char *s;   /* V_STR: not NUL-terminated in general */
	size_t len;
	const json_t *str; /* V_STR still the whole of this JSON string (borrowed), else NULL */
};

/* Everything one spgw_mapping_apply() call works with; the mapping itself stays const. */
struct run {
	const struct spgw_mapping *m;
	const json_t *src;
	const json_t *elem; /* the element of "each", when there is one */
	const struct spgw_mapping_env *env;
	struct spgw_reasons *reasons; /* NULL while evaluating a condition (problems are quiet) */
	const char *field, *field_zh; /* the SPGL field being filled, for reasons */
	struct spgw_buf scratch; /* the value being cleaned */
	struct spgw_buf tmp;     /* raw bytes before GB18030 decoding */
	struct spgw_buf cat;     /* a concatenation being built */
	struct spgw_buf key;     /* the output record's 地方数据主键 */
	char num[64];            /* a number written as text */
	char date[20];           /* a normalised date */
};

/* --- reasons --- */

/* The value as people should see it in a reason: text cut at REASON_VALUE_MAX characters. */
static void show_value(const struct val *v, char *out, size_t size)
{
	const char *s = "";
	size_t len = 0, i, cps = 0;
	char *dump = NULL;

	if (v->kind == V_STR) {
		s = v->s;
		len = v->len;
	} else if (v->kind == V_JSON || v->kind == V_OWN) {
		dump = json_dumps(v->kind == V_JSON ? v->j : v->own,
				  JSON_ENCODE_ANY | JSON_COMPACT);
		s = dump ? dump : "?";
		len = strlen(s);
	}
	for (i = 0; i < len && i + 4 < size; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++cps > REASON_VALUE_MAX)
			break;
		out[i] = s[i];
	}
	/* never cut a character in two */
	while (i > 0 && i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	if (i < len) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	spgw_free(dump); /* jansson allocates through spgw_malloc (main.c), or malloc */
}

/*
 * A reason about the field being filled: code, what went wrong in English and Chinese, and
 * where to fix it (the mapping file and the rule). Returns SPGW_OK or SPGW_E_NOMEM.
 */
static enum spgw_rc reason(struct run *x, const struct mapping_rule *r, const char *code,
			   const struct val *v, const char *en_what, const char *zh_what)
{
	char shown[REASON_VALUE_MAX * 4 + 8], en[2048], zh[2048];

	if (!x->reasons)
		return SPGW_OK;
	show_value(v, shown, sizeof(shown));
	snprintf(en, sizeof(en),
		 "%s (%s): \"%s\" from %s %s; fix the source record or rule %s of %s, then "
		 "replay",
		 x->field, x->field_zh, shown, r->src_en, en_what, r->where, x->m->path);
	snprintf(zh, sizeof(zh),
		 "%s（%s）：%s的值“%s”%s；请修正源数据或映射文件 %s 中的规则 %s，然后重放",
		 x->field_zh, x->field, r->src_zh, shown, zh_what, x->m->path, r->where);
	spgw_text_utf8_cut(en);
	spgw_text_utf8_cut(zh);
	/* both messages are final text: each format prints its own and skips the other */
	return spgw_reasons_add(x->reasons, x->field, code, "%s%.0s", "%.0s%s", en, zh);
}

/* --- evaluating a value rule --- */

static const json_t *resolve(const struct run *x, const struct mapping_path *p)
{
	const json_t *cur = p->elem ? x->elem : x->src;
	size_t i;

	for (i = 0; cur && i < p->n; i++) {
		if (json_is_object(cur))
			cur = json_object_get(cur, p->seg[i]);
		else if (json_is_array(cur) && p->index[i] >= 0)
			cur = json_array_get(cur, (size_t)p->index[i]);
		else
			cur = NULL;
	}
	return cur;
}

static void set_json(struct val *v, const json_t *j)
{
	memset(v, 0, sizeof(*v));
	if (!j || json_is_null(j)) {
		v->kind = V_NONE;
	} else if (json_is_string(j)) {
		v->kind = V_STR;
		v->s = json_string_value(j);
		v->len = json_string_length(j);
		v->str = j;
	} else {
		v->kind = V_JSON;
		v->j = j;
	}
}

static void set_str(struct val *v, const char *s, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->kind = V_STR;
	v->s = s;
	v->len = len;
}

static void set_own(struct val *v, json_t *own)
{
	memset(v, 0, sizeof(*v));
	v->kind = V_OWN;
	v->own = own;
}

static void drop(struct val *v)
{
	if (v->kind == V_OWN)
		json_decref(v->own);
	memset(v, 0, sizeof(*v));
}

/* A number written as text: integers exactly, reals in the shortest form that reads back. */
static const char *number_text(struct run *x, const json_t *j, size_t *len)
{
	double d;

	if (json_is_integer(j)) {
		snprintf(x->num, sizeof(x->num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	} else {
		d = json_real_value(j);
		snprintf(x->num, sizeof(x->num), "%.15g", d);
		if (strtod(x->num, NULL) != d)
			snprintf(x->num, sizeof(x->num), "%.17g", d);
	}
	*len = strlen(x->num);
	return x->num;
}

/* The value as text, for code tables, dates and comparisons; NULL when it has none. */
static const char *val_text(struct run *x, const struct val *v, size_t *len)
{
	const json_t *j = v->kind == V_JSON ? v->j : v->kind == V_OWN ? v->own : NULL;

	if (v->kind == V_STR) {
		*len = v->len;
		return v->s;
	}
	if (j && json_is_number(j))
		return number_text(x, j, len);
	if (j && json_is_boolean(j)) {
		*len = json_is_true(j) ? 4 : 5;
		return json_is_true(j) ? "true" : "false";
	}
	return NULL;
}

static int is_empty(const struct val *v)
{
	return v->kind == V_NONE || (v->kind == V_STR && v->len == 0);
}

/* Buffer trouble while cleaning a value: out of memory stops the run, a value beyond
 * SPGW_MAX_RECORD is a problem of that field. */
static enum spgw_rc buf_trouble(struct run *x, const struct mapping_rule *r, struct val *v,
				enum spgw_rc rc)
{
	if (rc == SPGW_E_NOMEM)
		return rc;
	rc = reason(x, r, "mapping", v, "is too long to clean up", "太长，无法清理");
	set_json(v, NULL);
	return rc;
}

static enum spgw_rc eval(struct run *x, const struct mapping_rule *r, struct val *v);

/* Parts joined; a part without a value (and no default) leaves the whole without one, so a
 * derived key is never built from half its parts, unless the part says "omit_empty": then
 * an empty part adds nothing (GCDM = 项目代码 + a sub-code that most projects lack). */
static enum spgw_rc concat(struct run *x, const struct mapping_rule *r, struct val *v)
{
	struct val part;
	const char *s;
	size_t i, len;
	enum spgw_rc rc;

	spgw_buf_reset(&x->cat);
	set_json(v, NULL);
	for (i = 0; i < r->nparts; i++) {
		rc = eval(x, &r->parts[i], &part);
		if (rc)
			return rc;
		s = val_text(x, &part, &len);
		if (is_empty(&part) || !s) {
			drop(&part);
			if (r->parts[i].omit_empty)
				continue;
			return SPGW_OK;
		}
		rc = spgw_buf_add(&x->cat, s, len, NULL);
		drop(&part);
		if (rc)
			return buf_trouble(x, r, v, rc);
	}
	set_str(v, x->cat.data ? x->cat.data : "", x->cat.len);
	return SPGW_OK;
}

/* "decode": "gbk-bytes": a string of code points <= U+00FF holds GB18030 bytes. */
static enum spgw_rc decode(struct run *x, const struct mapping_rule *r, struct val *v)
{
	size_t i, n, bad = 0;
	enum spgw_rc rc;
	char en[160], zh[160];

	for (i = 0; i < v->len && !((unsigned char)v->s[i] & 0x80); i++)
		;
	if (i == v->len)
		return SPGW_OK; /* ASCII reads the same in both */
	spgw_buf_reset(&x->tmp);
	rc = spgw_buf_reserve(&x->tmp, v->len, NULL);
	if (rc)
		return buf_trouble(x, r, v, rc);
	n = spgw_text_latin1_bytes(v->s, v->len, x->tmp.data);
	if (n == (size_t)-1)
		return SPGW_OK; /* real text already (a character above U+00FF): leave it */
	x->tmp.len = n;
	spgw_buf_reset(&x->scratch);
	rc = spgw_text_gb18030_to_utf8(x->tmp.data, n, &x->scratch, &bad, NULL);
	if (rc == SPGW_E_TEXT) {
		snprintf(en, sizeof(en), "is not GBK/GB18030 text (bad byte at offset %zu)", bad);
		snprintf(zh, sizeof(zh), "不是有效的 GBK/GB18030 编码（第 %zu 字节无效）", bad);
		rc = reason(x, r, "mapping", v, en, zh);
		set_json(v, NULL);
		return rc;
	}
	if (rc)
		return buf_trouble(x, r, v, rc);
	set_str(v, x->scratch.data, x->scratch.len);
	return SPGW_OK;
}

/* "text": the clean-up steps, always in the order of MAP_TX_* whatever the file's order. */
static enum spgw_rc clean(struct run *x, const struct mapping_rule *r, struct val *v)
{
	char *s;
	size_t len = v->len;
	enum spgw_rc rc;

	/* most values are clean already: keep them as they are, uncopied */
	if (!spgw_text_may_change(v->s, v->len, r->text))
		return SPGW_OK;
	if (v->s != x->scratch.data) {
		spgw_buf_reset(&x->scratch);
		rc = spgw_buf_add(&x->scratch, v->s, v->len, NULL);
		if (rc)
			return buf_trouble(x, r, v, rc);
	}
	s = x->scratch.data;
	if (r->text & MAP_TX_STRIP_CONTROL)
		len = spgw_text_strip_control(s, len);
	if (r->text & MAP_TX_HALFWIDTH)
		len = spgw_text_halfwidth(s, len);
	if (r->text & MAP_TX_COLLAPSE)
		len = spgw_text_collapse_space(s, len);
	if (r->text & MAP_TX_TRIM)
		len = spgw_text_trim(s, len);
	if (r->text & MAP_TX_UPPER)
		spgw_text_upper(s, len);
	if (r->text & MAP_TX_LOWER)
		spgw_text_lower(s, len);
	x->scratch.len = len;
	s[len] = '\0';
	set_str(v, s, len);
	return SPGW_OK;
}

static enum spgw_rc codes(struct run *x, const struct mapping_rule *r, struct val *v)
{
	const json_t *hit = NULL;
	const char *s;
	size_t len;
	char en[300], zh[300];
	enum spgw_rc rc;

	s = val_text(x, v, &len);
	if (s)
		hit = json_object_getn(r->codes, s, len);
	if (hit) {
		set_json(v, hit);
		return SPGW_OK;
	}
	if (r->unmapped == MAP_UNMAPPED_KEEP)
		return SPGW_OK;
	if (r->unmapped == MAP_UNMAPPED_DEFAULT) {
		set_json(v, r->unmapped_value);
		return SPGW_OK;
	}
	snprintf(en, sizeof(en), "is not in code table \"%s\" (add it there)", r->codes_name);
	snprintf(zh, sizeof(zh), "不在代码表“%s”中（请补充对照）", r->codes_name);
	spgw_text_utf8_cut(en);
	spgw_text_utf8_cut(zh);
	rc = reason(x, r, "code", v, en, zh);
	set_json(v, NULL);
	return rc;
}

static enum spgw_rc date(struct run *x, const struct mapping_rule *r, struct val *v)
{
	struct spgw_text_time t;
	const char *s, *why = "not a date";
	size_t len;
	char en[400], zh[400];
	enum spgw_rc rc;

	s = val_text(x, v, &len);
	if (s && !spgw_text_parse_date(s, len, (enum spgw_text_date_input)r->date_input,
				       r->date_flags, &t, &why)) {
		if (r->date == MAP_DATE_DATE)
			spgw_text_format_date(&t, x->date);
		else
			spgw_text_format_datetime(&t, x->date);
		set_str(v, x->date, strlen(x->date));
		return SPGW_OK;
	}
	snprintf(en, sizeof(en), "is not a valid %s (%s)",
		 r->date == MAP_DATE_DATE ? "date" : "date and time", why);
	snprintf(zh, sizeof(zh), "不是有效的%s（%s）",
		 r->date == MAP_DATE_DATE ? "日期" : "日期时间", spgw_text_why_zh(why));
	rc = reason(x, r, "format", v, en, zh);
	set_json(v, NULL);
	return rc;
}

/* Round half away from zero without libm; |d| is below 2^63 here. */
static double round_half(double d)
{
	return (double)(long long)(d + (d < 0 ? -0.5 : 0.5));
}

static int is_finite(double d)
{
	return d == d && d - d == 0;
}

/* Why a value is no number (to_number's result), in English and Chinese. */
static const char *const not_number[][2] = {
	{ "", "" },
	{ "is not a number", "不是数字" },
	{ "is not a whole number", "不是整数" },
	{ "is too large for a whole number", "超出整数范围" },
};

/*
 * Text or number into a new JSON number in *out, after `r`'s scale and rounding when `r` is
 * given. Returns 0, an index into not_number[] when the value is none, or -1 when memory is
 * short.
 */
static int to_number(const struct val *v, const struct mapping_rule *r, int want_int,
		     json_t **out)
{
	double d = 0, whole, slack;
	int integral = 0;
	int64_t iv = 0;
	char buf[400], dec[160];
	const json_t *j = v->kind == V_JSON ? v->j : v->kind == V_OWN ? v->own : NULL;
	const char *s = v->s;
	size_t len = v->len;

	if (j && json_is_integer(j)) {
		len = (size_t)snprintf(dec, sizeof(dec), "%" JSON_INTEGER_FORMAT,
				       json_integer_value(j));
		s = dec;
	}
	if ((v->kind == V_STR || s == dec) && r && r->shift_ok && (r->shift || r->round >= 0) &&
	    !spgw_text_decimal_shift(s, len, r->shift, r->round, buf, sizeof(buf))) {
		/* exact decimal scaling and rounding: 123456789.5 元 is 12345.6790 万元 */
		if (spgw_text_parse_number(buf, strlen(buf), &d, &integral, &iv))
			return 1;
		r = NULL;
	} else if (v->kind == V_STR) {
		if (spgw_text_parse_number(v->s, v->len, &d, &integral, &iv))
			return 1;
	} else if (j && json_is_integer(j)) {
		iv = json_integer_value(j);
		d = (double)iv;
		integral = 1;
	} else if (j && json_is_real(j)) {
		d = json_real_value(j);
	} else {
		return 1;
	}
	if (r && r->scale != 1) {
		d = (integral ? (double)iv : d) * r->scale;
		integral = 0;
	}
	if (r && r->round >= 0 && is_finite(d)) {
		snprintf(buf, sizeof(buf), "%.*f", r->round, d);
		d = strtod(buf, NULL);
	}
	if (!is_finite(d))
		return 1;
	if (!integral && want_int) {
		if (d >= 9.2e18 || d <= -9.2e18)
			return 3;
		/* scaling leaves binary dust (1234.0000000000002): forgive it, nothing more */
		whole = round_half(d);
		slack = 1e-9 * (d < 0 ? -d : d > 1 ? d : 1);
		if (d - whole > slack || whole - d > slack)
			return 2;
		iv = (int64_t)whole;
		integral = 1;
	}
	*out = integral ? json_integer(iv) : json_real(d);
	return *out ? 0 : -1;
}

static enum spgw_rc number(struct run *x, const struct mapping_rule *r, struct val *v)
{
	json_t *n = NULL;
	int why = to_number(v, r, r->want_int, &n);
	enum spgw_rc rc;

	if (why < 0)
		return SPGW_E_NOMEM;
	if (!why) {
		drop(v);
		set_own(v, n);
		return SPGW_OK;
	}
	rc = reason(x, r, "mapping", v, not_number[why][0], not_number[why][1]);
	drop(v);
	return rc;
}

/*
 * The last step: what the target field's type needs. Text holding a number becomes a number
 * for int/dec fields (CSV sources give only text); numbers become text for text fields and
 * keys. Anything else stays as it is, for validation to judge.
 */
static enum spgw_rc convert(struct run *x, const struct mapping_rule *r, struct val *v)
{
	const char *s;
	size_t len;
	json_t *n = NULL;
	int why;

	if (r->to_string || (r->type == SPGW_FT_STR && r->field)) {
		if (v->kind == V_STR)
			return SPGW_OK;
		s = val_text(x, v, &len);
		if (s && (v->kind == V_OWN ? json_is_number(v->own) : json_is_number(v->j))) {
			drop(v);
			set_str(v, s, len);
		}
		return SPGW_OK;
	}
	if ((r->type == SPGW_FT_INT || r->type == SPGW_FT_DEC) && v->kind == V_STR) {
		/* "12" and "12.0" are whole numbers for an int field; "abc" stays for validation */
		why = to_number(v, NULL, r->type == SPGW_FT_INT, &n);
		if (why == 2 || why == 3)
			why = to_number(v, NULL, 0, &n);
		if (why < 0)
			return SPGW_E_NOMEM;
		if (!why)
			set_own(v, n);
	}
	return SPGW_OK;
}

/*
 * Evaluate rule `r` into *v: source, then decode, text, (empty: default), codes, date,
 * number, conversion to the field's type, omit_empty. Problems become reasons and leave no
 * value. Returns SPGW_OK or SPGW_E_NOMEM.
 */
static enum spgw_rc eval(struct run *x, const struct mapping_rule *r, struct val *v)
{
	enum spgw_rc rc = SPGW_OK;
	const char *s;
	size_t i;

	set_json(v, NULL);
	switch (r->src) {
	case MAP_SRC_FROM:
		for (i = 0; i < r->nfrom; i++) {
			/* "from": ["gcdm", "xmdm"]: the first field holding something */
			set_json(v, resolve(x, &r->from[i]));
			if (!is_empty(v))
				break;
		}
		break;
	case MAP_SRC_CONST:
		set_json(v, r->value);
		break;
	case MAP_SRC_REGION:
	case MAP_SRC_SOURCE:
		s = r->src == MAP_SRC_REGION ? x->env->region : x->env->source;
		set_str(v, s ? s : "", s ? strlen(s) : 0);
		if (s && !spgw_text_utf8_valid(s, v->len, NULL)) {
			rc = reason(x, r, "mapping", v, "is not UTF-8", "不是 UTF-8 文本");
			set_json(v, NULL);
			return rc;
		}
		break;
	case MAP_SRC_CONCAT:
		rc = concat(x, r, v);
		break;
	}
	if (rc == SPGW_OK && r->decode && v->kind == V_STR)
		rc = decode(x, r, v);
	if (rc == SPGW_OK && r->text && v->kind == V_STR)
		rc = clean(x, r, v);
	if (rc)
		return rc;
	if (is_empty(v)) {
		if (!r->dflt) {
			/* "" stays "" unless omitted; a key is never "" */
			if (v->kind == V_STR && (r->omit_empty || r->to_string))
				set_json(v, NULL);
			return SPGW_OK;
		}
		set_json(v, r->dflt); /* already in national terms: no codes, date or number */
	} else {
		if (r->codes)
			rc = codes(x, r, v);
		if (rc == SPGW_OK && r->date && v->kind != V_NONE)
			rc = date(x, r, v);
		if (rc == SPGW_OK && r->number && v->kind != V_NONE)
			rc = number(x, r, v);
		if (rc)
			return rc;
	}
	if (v->kind != V_NONE && (rc = convert(x, r, v)))
		return rc;
	if (r->omit_empty && is_empty(v))
		drop(v);
	return SPGW_OK;
}

/*
 * The value as a JSON value for the output record (a new reference); NULL only when memory is
 * short. A string or scalar taken unchanged from the source record or the mapping file is
 * shared, not copied: nothing changes a JSON string or number in place, and the output
 * record's reference keeps it alive after the source record is gone.
 */
static json_t *make_json(struct val *v)
{
	json_t *j;

	switch (v->kind) {
	case V_STR:
		if (v->str)
			return json_incref((json_t *)v->str);
		/* every string here is valid UTF-8: from jansson, cleaned at character
		 * boundaries, decoded by iconv, or checked ($region) */
		return json_stringn_nocheck(v->s, v->len);
	case V_OWN:
		j = v->own;
		v->own = NULL;
		v->kind = V_NONE;
		return j;
	case V_JSON:
		if (!json_is_object(v->j) && !json_is_array(v->j))
			return json_incref((json_t *)v->j);
		return json_deep_copy(v->j);
	default:
		return NULL;
	}
}

/* --- conditions --- */

static enum spgw_rc when_ok(struct run *x, const struct mapping_emit *e, int *ok)
{
	struct spgw_reasons *saved = x->reasons;
	struct val v;
	const char *s;
	size_t i, k, len = 0;
	int hit;
	enum spgw_rc rc;

	*ok = 1;
	x->reasons = NULL; /* a value a condition cannot transform counts as missing */
	for (i = 0; *ok && i < e->nwhen; i++) {
		const struct mapping_cond *c = &e->when[i];

		rc = eval(x, &c->value, &v);
		if (rc) {
			x->reasons = saved;
			return rc;
		}
		s = is_empty(&v) ? NULL : val_text(x, &v, &len);
		hit = 0;
		for (k = 0; s && k < c->nops; k++)
			hit |= c->oplen[k] == len && !memcmp(c->operands[k], s, len);
		switch (c->op) {
		case MAP_OP_PRESENT:
			*ok = c->present == !is_empty(&v);
			break;
		case MAP_OP_EQUALS:
		case MAP_OP_IN:
			*ok = hit;
			break;
		case MAP_OP_NOT_EQUALS:
		case MAP_OP_NOT_IN:
			*ok = !hit;
			break;
		}
		drop(&v);
	}
	x->reasons = saved;
	return SPGW_OK;
}

/* --- output records --- */

static enum spgw_rc set_field(json_t *rec, const char *name, json_t *v)
{
	if (!v || json_object_set_new_nocheck(rec, name, v))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

/* Members an output record holds on the stack while its values are made; a table with more
 * fields borrows heap memory for the record. */
#define MAP_STACK_MEMBERS 64

/*
 * Add the values made for an output record to it in the order of e->members, by name, so its
 * canonical form needs no sorting (a loaded mapping always has them). Takes every reference
 * in vals[], added or not.
 */
static enum spgw_rc fill_record(const struct mapping_emit *e, json_t *rec, json_t **vals)
{
	enum spgw_rc rc = SPGW_OK;
	size_t i, slot;

	for (i = 0; i < e->nmembers; i++) {
		slot = e->members[i].slot;
		if (!vals[slot])
			continue;
		if (rc == SPGW_OK)
			rc = set_field(rec, e->members[i].name, vals[slot]);
		else
			json_decref(vals[slot]);
		vals[slot] = NULL;
	}
	return rc;
}

/* One output record of emit `e` (for the current element, if any). */
static enum spgw_rc output(struct run *x, const struct mapping_emit *e, const char *bad_each,
			   spgw_mapping_emit_fn emit, void *ud)
{
	json_t *rec = NULL, *j, *stack[MAP_STACK_MEMBERS], **vals = stack;
	const char *key = NULL;
	struct val v;
	size_t i, nvals = e->nfields + MAP_MEMBER_EXTRA;
	int ok;
	enum spgw_rc rc;

	rc = when_ok(x, e, &ok);
	if (rc || !ok)
		return rc;
	spgw_reasons_clear(x->reasons);
	spgw_buf_reset(&x->key);
	if (nvals > MAP_STACK_MEMBERS)
		vals = spgw_calloc(nvals, sizeof(*vals));
	else
		memset(vals, 0, nvals * sizeof(*vals));
	rec = json_object();
	if (!rec || !vals) {
		rc = SPGW_E_NOMEM;
		goto out;
	}
	if (bad_each) {
		rc = spgw_reasons_add(x->reasons, NULL, "mapping",
				      "source field \"%s\" should hold a list (one %s record per "
				      "element) but does not; fix the source record or %s "
				      "(%s.each)",
				      "源字段“%s”应为列表（每个元素生成一条 %s 记录），但不是；"
				      "请修正源数据或映射文件 %s（%s.each）",
				      bad_each, e->table, x->m->path, e->where);
		if (rc)
			goto out;
	}
	if (e->has_key) {
		x->field = "DFSJZJ";
		x->field_zh = "地方数据主键";
		rc = eval(x, &e->key, &v);
		if (rc == SPGW_OK && v.kind == V_STR && v.len)
			rc = spgw_buf_add(&x->key, v.s, v.len, NULL);
		drop(&v);
		if (rc)
			goto out;
		if (x->key.len) {
			key = x->key.data;
			vals[e->nfields + MAP_MEMBER_KEY] =
				json_stringn_nocheck(x->key.data, x->key.len);
			if (!vals[e->nfields + MAP_MEMBER_KEY]) {
				rc = SPGW_E_NOMEM;
				goto out;
			}
		}
	}
	for (i = 0; i < e->nfields; i++) {
		const struct mapping_field *f = &e->fields[i];

		x->field = f->name;
		x->field_zh = f->rule.field_zh;
		rc = eval(x, &f->rule, &v);
		if (rc)
			goto out;
		if (v.kind == V_NONE)
			continue;
		if ((int)i == e->key_field && v.kind == V_STR && v.len) {
			rc = spgw_buf_add(&x->key, v.s, v.len, NULL);
			key = x->key.data;
		}
		vals[i] = make_json(&v);
		drop(&v);
		if (rc == SPGW_OK && !vals[i])
			rc = SPGW_E_NOMEM;
		if (rc)
			goto out;
	}
	if (e->auto_region && x->env->region && x->env->region[0] &&
	    spgw_text_utf8_valid(x->env->region, strlen(x->env->region), NULL)) {
		j = json_string_nocheck(x->env->region);
		vals[e->nfields + MAP_MEMBER_REGION] = j;
		if (!j) {
			rc = SPGW_E_NOMEM;
			goto out;
		}
	}
	if (e->auto_valid) {
		j = json_integer(1);
		vals[e->nfields + MAP_MEMBER_VALID] = j;
		if (!j) {
			rc = SPGW_E_NOMEM;
			goto out;
		}
	}
	rc = fill_record(e, rec, vals);
	if (rc)
		goto out;
	if (vals != stack)
		spgw_free(vals);
	j = rec;
	rec = NULL;
	return emit(ud, e->table, key, j, x->reasons);
out:
	for (i = 0; vals && i < nvals; i++)
		json_decref(vals[i]);
	if (vals != stack)
		spgw_free(vals);
	json_decref(rec);
	return rc;
}

static enum spgw_rc run_emit(struct run *x, const struct mapping_emit *e,
			     spgw_mapping_emit_fn emit, void *ud)
{
	const json_t *list;
	json_t *parsed = NULL;
	struct spgw_json_error jerr;
	size_t i;
	enum spgw_rc rc = SPGW_OK;

	x->elem = NULL;
	if (!e->has_each)
		return output(x, e, NULL, emit, ud);
	list = resolve(x, &e->each);
	if (json_is_string(list)) {
		/* a CSV column can carry the list as JSON text */
		const char *s = json_string_value(list);
		size_t len = json_string_length(list);

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (!len)
			return SPGW_OK;
		parsed = spgw_json_parse(s, len, &jerr);
		if (!parsed && !strcmp(jerr.text, "out of memory"))
			return SPGW_E_NOMEM;
		if (json_is_array(parsed))
			list = parsed;
	}
	if (!list || json_is_null(list))
		goto out; /* no list: no records of this kind */
	if (!json_is_array(list)) {
		rc = output(x, e, e->each.text, emit, ud);
		goto out;
	}
	for (i = 0; rc == SPGW_OK && i < json_array_size(list); i++) {
		x->elem = json_array_get(list, i);
		rc = output(x, e, NULL, emit, ud);
	}
out:
	json_decref(parsed);
	return rc;
}

static int source_cmp(const void *key, const void *s)
{
	return strcmp(key, ((const struct mapping_source *)s)->name);
}

static enum spgw_rc not_found(const struct spgw_mapping *m, const char *table,
			      struct spgw_error *err)
{
	char list[256];
	size_t i, n = 0;

	list[0] = '\0';
	for (i = 0; i < m->nsources && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "",
				      m->sources[i].name);
	return spgw_error_set(err, SPGW_E_NOTFOUND, m->path, 0, 0,
			      "the mapping has no rules for source table \"%s\" (it has %s): add "
			      "tables.%s to it",
			      table, list, table);
}

enum spgw_rc spgw_mapping_apply(const struct spgw_mapping *m, const char *source_table,
				const json_t *src, const struct spgw_mapping_env *env,
				spgw_mapping_emit_fn emit, void *ud, struct spgw_error *err)
{
	static const struct spgw_mapping_env no_env = { NULL, NULL };
	const struct mapping_source *s;
	struct spgw_reasons reasons;
	struct run x;
	size_t i;
	enum spgw_rc rc = SPGW_OK;

	if (!env)
		env = &no_env;
	s = bsearch(source_table, m->sources, m->nsources, sizeof(*m->sources), source_cmp);
	if (!s)
		return not_found(m, source_table, err);
	if (!json_is_object(src))
		return spgw_error_set(err, SPGW_E_MAPPING, m->path, 0, 0,
				      "a source record of \"%s\" is not a JSON object",
				      source_table);
	memset(&x, 0, sizeof(x));
	x.m = m;
	x.src = src;
	x.env = env;
	x.reasons = &reasons;
	spgw_reasons_init(&reasons);
	/* A cleaned value never outgrows the record it came from, decoded GBK at most by half. */
	spgw_buf_init(&x.scratch, SPGW_MAX_RECORD + SPGW_MAX_RECORD / 2, "mapped value");
	spgw_buf_init(&x.tmp, SPGW_MAX_RECORD, "GBK bytes");
	spgw_buf_init(&x.cat, SPGW_MAX_RECORD, "concatenated value");
	spgw_buf_init(&x.key, SPGW_MAX_RECORD + SPGW_MAX_RECORD / 2, "地方数据主键");
	for (i = 0; rc == SPGW_OK && i < s->nemits; i++)
		rc = run_emit(&x, &s->emits[i], emit, ud);
	if (rc == SPGW_E_NOMEM)
		spgw_error_nomem(err, "mapping a record");
	spgw_buf_free(&x.scratch);
	spgw_buf_free(&x.tmp);
	spgw_buf_free(&x.cat);
	spgw_buf_free(&x.key);
	spgw_reasons_free(&reasons);
	return rc;
}

void spgw_mapping_targets(const struct spgw_mapping *m, spgw_mapping_target_fn fn, void *ud)
{
	size_t i, j;

	for (i = 0; i < m->nsources; i++)
		for (j = 0; j < m->sources[i].nemits; j++) {
			const struct mapping_emit *e = &m->sources[i].emits[j];

			fn(ud, m->sources[i].name, e->table, !e->has_each && !e->nwhen);
		}
}
