/*
 * Compiling value rules and conditions of a mapping file (see config/mappings/README.md) into
 * struct mapping_rule / mapping_cond, for mapping_load.c. Each rule is checked here: one
 * source, known transforms with arguments of the right type, transforms that fit the target
 * field's type, code tables that exist. Applying them is mapping.c.
 */
#include <stdio.h>
#include <string.h>

#include "mapping_int.h"
#include "mem.h"
#include "text.h"

static const char *const rule_keys[] = { "from", "const", "concat", "var", "decode", "text",
					 "codes", "unmapped", "date", "partial", "date_input",
					 "number", "default", "omit_empty", "description", NULL };
static const char *const cond_keys[] = { "equals", "not_equals", "in", "not_in", "present",
					 NULL };

static enum spgw_rc where_dup(char **dst, const char *where)
{
	*dst = spgw_strdup(where);
	return *dst ? SPGW_OK : SPGW_E_NOMEM;
}

void spgw_mapping_compile_path(struct mapping_load *ld, const char *text, const char *where,
			       int allow_elem, struct mapping_path *p)
{
	const char *s = text, *dot;
	size_t n = 1, i;

	p->text = text;
	if (!strcmp(s, "@")) {
		p->elem = 1;
		s = "";
	} else if (!strncmp(s, "@.", 2)) {
		p->elem = 1;
		s += 2;
	} else if (!strncmp(s, "$.", 2)) {
		s += 2;
	} else if (s[0] == '$') {
		spgw_mapping_problem(ld, where,
				     "unknown variable \"%s\" (known: \"$region\", \"$source\"; "
				     "\"$.name\" names a source field)",
				     text);
		return;
	}
	if (p->elem && !allow_elem) {
		spgw_mapping_problem(ld, where,
				     "\"%s\" names an element of \"each\", but this emit has no "
				     "\"each\"",
				     text);
		return;
	}
	if (!*s) {
		if (!p->elem)
			spgw_mapping_problem(ld, where, "empty source field name");
		return;
	}
	for (dot = s; (dot = strchr(dot, '.')); dot++)
		n++;
	p->seg = spgw_calloc(n, sizeof(*p->seg));
	p->index = spgw_calloc(n, sizeof(*p->index));
	if (!p->seg || !p->index) {
		spgw_mapping_nomem(ld, "compiling a path");
		return;
	}
	for (i = 0; i < n; i++) {
		size_t len = (dot = strchr(s, '.')) ? (size_t)(dot - s) : strlen(s), j;

		if (!len) {
			spgw_mapping_problem(ld, where, "empty segment in source path \"%s\"",
					     text);
			return;
		}
		p->seg[i] = spgw_strndup(s, len);
		if (!p->seg[i]) {
			spgw_mapping_nomem(ld, "compiling a path");
			return;
		}
		p->n = i + 1;
		p->index[i] = len < 10 ? 0 : -1;
		for (j = 0; j < len && p->index[i] >= 0; j++)
			p->index[i] = s[j] >= '0' && s[j] <= '9' ? p->index[i] * 10 + (s[j] - '0')
								 : -1;
		s += len + 1;
	}
}

/* "from": "path" or a list of paths, the first one with a value winning. */
static void compile_from(struct mapping_load *ld, const json_t *from, const char *where,
			 int allow_elem, struct mapping_rule *r)
{
	size_t i, n = json_is_array(from) ? json_array_size(from) : 1;
	char w[MAPPING_WHERE_MAX];

	r->src = MAP_SRC_FROM;
	r->from = spgw_calloc(n ? n : 1, sizeof(*r->from));
	if (!r->from) {
		spgw_mapping_nomem(ld, "compiling a path");
		return;
	}
	for (i = 0; i < n; i++) {
		const json_t *p = json_is_array(from) ? json_array_get(from, i) : from;

		if (json_is_array(from))
			spgw_mapping_where(w, "%s[%zu]", where, i);
		else
			spgw_mapping_where(w, "%s", where);
		r->nfrom = i + 1;
		if (!json_is_string(p)) {
			spgw_mapping_problem(ld, w,
					     "\"from\" is a source field name or path (\"a.b\", "
					     "\"@.x\"), or a list of them");
			continue;
		}
		spgw_mapping_compile_path(ld, json_string_value(p), w, allow_elem, &r->from[i]);
	}
	if (!n)
		spgw_mapping_problem(ld, where, "\"from\" is an empty list");
}

/* "text": one step name or a list of them. */
void spgw_mapping_text_ops(struct mapping_load *ld, const json_t *v, const char *where,
			   unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} ops[] = {
		{ "trim", MAP_TX_TRIM },	   { "collapse_space", MAP_TX_COLLAPSE },
		{ "halfwidth", MAP_TX_HALFWIDTH }, { "upper", MAP_TX_UPPER },
		{ "lower", MAP_TX_LOWER },	   { "strip_control", MAP_TX_STRIP_CONTROL },
	};
	size_t i, j, n = json_is_array(v) ? json_array_size(v) : 1;
	char w[MAPPING_WHERE_MAX], hint[128];

	*out = 0;
	if (!json_is_array(v) && !json_is_string(v)) {
		spgw_mapping_problem(
			ld, where,
			"\"text\" is a list of: trim, collapse_space, halfwidth, upper, "
			"lower, strip_control");
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
		struct mapping_suggest s = { name ? name : "", NULL, (size_t)-1 };
		int found = 0;

		for (j = 0; name && j < sizeof(ops) / sizeof(ops[0]); j++) {
			spgw_mapping_suggest_try(&s, ops[j].name);
			if (!strcmp(name, ops[j].name)) {
				*out |= ops[j].bit;
				found = 1;
			}
		}
		if (json_is_array(v))
			spgw_mapping_where(w, "%s[%zu]", where, i);
		else
			spgw_mapping_where(w, "%s", where);
		if (!found)
			spgw_mapping_problem(
				ld, w,
				"unknown text step %s%s%s (known: trim, collapse_space, "
				"halfwidth, upper, lower, strip_control)%s",
				name ? "\"" : "", name ? name : "(not a string)", name ? "\"" : "",
				spgw_mapping_suggest_text(&s, hint, sizeof(hint)));
	}
	if ((*out & MAP_TX_UPPER) && (*out & MAP_TX_LOWER))
		spgw_mapping_problem(ld, where,
				     "\"upper\" and \"lower\" together make no sense: keep one");
}

/* Whether `scale` is 10^k for k in -18..18 (then 元 to 万元 is a decimal shift). */
static int power_of_ten(double scale, int *k)
{
	double p = 1;
	int i;

	for (i = 0; i <= 18; i++, p *= 10) {
		/* 10^i is exact in a double; 1 / 10^i is the double nearest to 10^-i, as is
		 * what the JSON parser made of "0.0001" */
		if (scale == p || scale == 1 / p) {
			*k = scale == p ? i : -i;
			return 1;
		}
	}
	return 0;
}

static void compile_number(struct mapping_load *ld, const json_t *v, const char *where,
			   struct mapping_rule *r)
{
	static const char *const keys[] = { "scale", "round", "int", NULL };
	const json_t *x;
	char w[MAPPING_WHERE_MAX];

	if (json_is_true(v) || json_is_false(v)) {
		r->number = json_is_true(v);
		return;
	}
	if (!json_is_object(v)) {
		spgw_mapping_problem(
			ld, where,
			"\"number\" is true or an object {\"scale\", \"round\", \"int\"}");
		return;
	}
	r->number = 1;
	spgw_mapping_check_keys(ld, v, where, keys, NULL);
	spgw_mapping_where(w, "%s.scale", where);
	if ((x = json_object_get(v, "scale"))) {
		if (!json_is_number(x) || json_number_value(x) == 0)
			spgw_mapping_problem(
				ld, w, "\"scale\" is a nonzero number (0.0001 turns 元 into 万元)");
		else
			r->scale = json_number_value(x);
	}
	r->shift_ok = power_of_ten(r->scale, &r->shift);
	spgw_mapping_where(w, "%s.round", where);
	if ((x = json_object_get(v, "round"))) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 10)
			spgw_mapping_problem(ld, w,
					     "\"round\" is a number of decimals from 0 to 10");
		else
			r->round = (int)json_integer_value(x);
	}
	spgw_mapping_where(w, "%s.int", where);
	if ((x = json_object_get(v, "int"))) {
		if (!json_is_boolean(x))
			spgw_mapping_problem(ld, w, "\"int\" is true or false");
		else
			r->want_int = json_is_true(x);
	}
}

static void compile_codes(struct mapping_load *ld, const json_t *obj, const char *where,
			  struct mapping_rule *r)
{
	const json_t *v = json_object_get(obj, "codes"), *u;
	char w[MAPPING_WHERE_MAX], hint[128];

	spgw_mapping_where(w, "%s.codes", where);
	if (json_is_string(v)) {
		r->codes_name = json_string_value(v);
		r->codes = json_object_get(ld->code_tables, r->codes_name);
		if (!json_is_object(r->codes)) {
			r->codes = NULL;
			struct mapping_suggest s = { r->codes_name, NULL, (size_t)-1 };
			const char *k;
			json_t *t;

			json_object_foreach((json_t *)ld->code_tables, k, t) {
				if (k[0] != '_')
					spgw_mapping_suggest_try(&s, k);
			}
			spgw_mapping_problem(ld, w, "no code table \"%s\" in \"code_tables\"%s",
					     r->codes_name,
					     spgw_mapping_suggest_text(&s, hint, sizeof(hint)));
		}
	} else if (json_is_object(v)) {
		r->codes_name = "(inline)";
		r->codes = v;
	} else if (v) {
		spgw_mapping_problem(
			ld, w, "\"codes\" names a code table or is an object {source: national}");
	}
	u = json_object_get(obj, "unmapped");
	spgw_mapping_where(w, "%s.unmapped", where);
	if (!u)
		return;
	if (!v)
		spgw_mapping_problem(ld, w, "\"unmapped\" only goes with \"codes\"");
	if (json_is_string(u) && !strcmp(json_string_value(u), "reject")) {
		r->unmapped = MAP_UNMAPPED_REJECT;
	} else if (json_is_string(u) && !strcmp(json_string_value(u), "keep")) {
		r->unmapped = MAP_UNMAPPED_KEEP;
	} else if (json_is_object(u) && json_object_size(u) == 1 &&
		   json_object_get(u, "default")) {
		r->unmapped = MAP_UNMAPPED_DEFAULT;
		r->unmapped_value = json_object_get(u, "default");
	} else {
		spgw_mapping_problem(
			ld, w, "\"unmapped\" is \"reject\", \"keep\" or {\"default\": value}");
	}
}

static void compile_date(struct mapping_load *ld, const json_t *obj, const char *where,
			 const struct mapping_rule_ctx *rc, struct mapping_rule *r)
{
	static const char *const inputs[] = { "auto", "epoch_s", "epoch_ms", "excel", NULL };
	const json_t *d = json_object_get(obj, "date"), *x;
	const char *s = json_string_value(d);
	char w[MAPPING_WHERE_MAX];
	int i;

	spgw_mapping_where(w, "%s.date", where);
	if (d) {
		if (s && !strcmp(s, "date"))
			r->date = MAP_DATE_DATE;
		else if (s && !strcmp(s, "datetime"))
			r->date = MAP_DATE_DATETIME;
		else
			spgw_mapping_problem(ld, w,
					     "\"date\" is \"date\" (YYYY-MM-DD) or \"datetime\" "
					     "(YYYY-MM-DD HH:MM:SS)");
	}
	if (rc->target && r->date) {
		enum spgw_ftype t = spgw_field_type(rc->target);
		const char *name = spgw_field_name(rc->target);

		if (t == SPGW_FT_INT || t == SPGW_FT_DEC)
			spgw_mapping_problem(
				ld, w, "%s is a number field; \"date\" does not fit it", name);
		else if (t == SPGW_FT_DATE && r->date != MAP_DATE_DATE)
			spgw_mapping_problem(ld, w, "%s is a date field: use \"date\": \"date\"",
					     name);
		else if (t == SPGW_FT_DATETIME && r->date != MAP_DATE_DATETIME)
			spgw_mapping_problem(
				ld, w, "%s is a date-time field: use \"date\": \"datetime\"", name);
	}
	spgw_mapping_where(w, "%s.partial", where);
	if ((x = json_object_get(obj, "partial"))) {
		if (!d)
			spgw_mapping_problem(ld, w, "\"partial\" only goes with \"date\"");
		if (!json_is_boolean(x))
			spgw_mapping_problem(ld, w, "\"partial\" is true or false");
		else if (json_is_true(x))
			r->date_flags |= SPGW_TEXT_PARTIAL;
	}
	spgw_mapping_where(w, "%s.date_input", where);
	if ((x = json_object_get(obj, "date_input"))) {
		if (!d)
			spgw_mapping_problem(ld, w, "\"date_input\" only goes with \"date\"");
		s = json_string_value(x);
		for (i = 0; s && inputs[i] && strcmp(s, inputs[i]); i++)
			;
		if (!s || !inputs[i])
			spgw_mapping_problem(
				ld, w,
				"\"date_input\" is \"auto\", \"epoch_s\", \"epoch_ms\" or "
				"\"excel\"");
		else
			r->date_input = i; /* the order of enum spgw_text_date_input */
	}
}

/* The source of a rule: exactly one of from, const, concat, var. */
static void compile_source(struct mapping_load *ld, const json_t *obj, const char *where,
			   const struct mapping_rule_ctx *rc, struct mapping_rule *r)
{
	const json_t *from = json_object_get(obj, "from"), *cst = json_object_get(obj, "const");
	const json_t *cat = json_object_get(obj, "concat"), *var = json_object_get(obj, "var");
	char w[MAPPING_WHERE_MAX];
	size_t i;

	if (!!from + !!cst + !!cat + !!var != 1) {
		spgw_mapping_problem(ld, where,
				     "a value rule takes exactly one of \"from\", \"const\", "
				     "\"concat\", \"var\"");
		return;
	}
	if (from) {
		r->src = MAP_SRC_FROM;
		spgw_mapping_where(w, "%s.from", where);
		compile_from(ld, from, w, rc->allow_elem, r);
	} else if (cst) {
		r->src = MAP_SRC_CONST;
		r->value = cst;
	} else if (var) {
		const char *v = json_string_value(var);

		spgw_mapping_where(w, "%s.var", where);
		if (v && !strcmp(v, "region"))
			r->src = MAP_SRC_REGION;
		else if (v && !strcmp(v, "source"))
			r->src = MAP_SRC_SOURCE;
		else
			spgw_mapping_problem(ld, w, "\"var\" is \"region\" or \"source\"");
	} else {
		struct mapping_rule_ctx prc = *rc;

		r->src = MAP_SRC_CONCAT;
		spgw_mapping_where(w, "%s.concat", where);
		if (rc->is_part) {
			spgw_mapping_problem(
				ld, w,
				"\"concat\" inside \"concat\": list every part in the outer one");
			return;
		}
		if (!json_is_array(cat) || !json_array_size(cat)) {
			spgw_mapping_problem(
				ld, w, "\"concat\" is a list of literal strings and value rules");
			return;
		}
		r->parts = spgw_calloc(json_array_size(cat), sizeof(*r->parts));
		if (!r->parts) {
			spgw_mapping_nomem(ld, "compiling concat");
			return;
		}
		prc.target = NULL;
		prc.is_part = 1;
		prc.is_cond = 0;
		for (i = 0; i < json_array_size(cat); i++) {
			const json_t *part = json_array_get(cat, i);

			spgw_mapping_where(w, "%s.concat[%zu]", where, i);
			r->nparts = i + 1;
			r->parts[i].round = -1;
			r->parts[i].scale = 1;
			if (json_is_string(part)) {
				/* a plain string in concat is literal text, not a field name */
				r->parts[i].src = MAP_SRC_CONST;
				r->parts[i].value = part;
				r->parts[i].field = "";
				r->parts[i].field_zh = "";
				if (where_dup(&r->parts[i].where, w))
					spgw_mapping_nomem(ld, "compiling concat");
			} else if (json_is_object(part)) {
				spgw_mapping_compile_rule(ld, part, w, &prc, &r->parts[i]);
			} else {
				spgw_mapping_problem(
					ld, w,
					"a part of \"concat\" is literal text or a value rule");
			}
		}
	}
}

/* How reasons name a rule's source: "source field \"xmdm\"" / "源字段“xmdm”". */
static void describe_source(struct mapping_load *ld, struct mapping_rule *r)
{
	char en[300], zh[300];

	switch (r->src) {
	case MAP_SRC_FROM:
		snprintf(en, sizeof(en), "source field \"%s\"%s",
			 r->nfrom && r->from[0].text ? r->from[0].text : "",
			 r->nfrom > 1 ? " (or the next ones)" : "");
		snprintf(zh, sizeof(zh), "源字段“%s”%s",
			 r->nfrom && r->from[0].text ? r->from[0].text : "",
			 r->nfrom > 1 ? "（或其后备字段）" : "");
		break;
	case MAP_SRC_CONST:
		snprintf(en, sizeof(en), "a constant");
		snprintf(zh, sizeof(zh), "常量");
		break;
	case MAP_SRC_CONCAT:
		snprintf(en, sizeof(en), "a concatenation");
		snprintf(zh, sizeof(zh), "拼接值");
		break;
	case MAP_SRC_REGION:
	case MAP_SRC_SOURCE:
		snprintf(en, sizeof(en), "$%s", r->src == MAP_SRC_REGION ? "region" : "source");
		snprintf(zh, sizeof(zh), "$%s", r->src == MAP_SRC_REGION ? "region" : "source");
		break;
	}
	r->src_en = spgw_strdup(en);
	r->src_zh = spgw_strdup(zh);
	if (!r->src_en || !r->src_zh)
		spgw_mapping_nomem(ld, "compiling a rule");
}

void spgw_mapping_compile_rule(struct mapping_load *ld, const json_t *j, const char *where,
			       const struct mapping_rule_ctx *rc, struct mapping_rule *r)
{
	const json_t *x;
	char w[MAPPING_WHERE_MAX];
	enum spgw_ftype t;

	r->round = -1;
	r->scale = 1;
	if (where_dup(&r->where, where))
		spgw_mapping_nomem(ld, "compiling a rule");
	if (rc->target) {
		r->field = spgw_field_name(rc->target);
		r->field_zh = spgw_field_zh(rc->target);
		r->type = spgw_field_type(rc->target);
	}
	if (json_is_string(j)) {
		const char *s = json_string_value(j);

		if (!strcmp(s, "$region"))
			r->src = MAP_SRC_REGION;
		else if (!strcmp(s, "$source"))
			r->src = MAP_SRC_SOURCE;
		else
			compile_from(ld, j, where, rc->allow_elem, r);
		if (r->src == MAP_SRC_FROM)
			r->text = ld->text_default;
		describe_source(ld, r);
		return;
	}
	if (!json_is_object(j)) {
		spgw_mapping_problem(ld, where,
				     "a value rule is a source field name (a string) or an object");
		return;
	}
	spgw_mapping_check_keys(ld, j, where, rule_keys, rc->is_cond ? cond_keys : NULL);
	compile_source(ld, j, where, rc, r);
	describe_source(ld, r);
	if ((x = json_object_get(j, "decode"))) {
		spgw_mapping_where(w, "%s.decode", where);
		if (json_is_string(x) && (!strcmp(json_string_value(x), "gbk-bytes") ||
					  !strcmp(json_string_value(x), "gb18030-bytes")))
			r->decode = 1;
		else
			spgw_mapping_problem(
				ld, w,
				"\"decode\" is \"gbk-bytes\" (or its synonym \"gb18030-bytes\")");
	}
	if ((x = json_object_get(j, "text"))) {
		spgw_mapping_where(w, "%s.text", where);
		spgw_mapping_text_ops(ld, x, w, &r->text);
	} else if (r->src == MAP_SRC_FROM || r->src == MAP_SRC_CONCAT) {
		r->text = ld->text_default;
	}
	compile_codes(ld, j, where, r);
	compile_date(ld, j, where, rc, r);
	if ((x = json_object_get(j, "number"))) {
		spgw_mapping_where(w, "%s.number", where);
		compile_number(ld, x, w, r);
		t = rc->target ? spgw_field_type(rc->target) : SPGW_FT_STR;
		if (r->number && r->date)
			spgw_mapping_problem(ld, w, "\"number\" and \"date\" exclude each other");
		else if (r->number && (t == SPGW_FT_DATE || t == SPGW_FT_DATETIME))
			spgw_mapping_problem(ld, w,
					     "%s is a date field; \"number\" does not fit it",
					     spgw_field_name(rc->target));
	}
	r->dflt = json_object_get(j, "default");
	if ((x = json_object_get(j, "omit_empty"))) {
		spgw_mapping_where(w, "%s.omit_empty", where);
		if (!json_is_boolean(x))
			spgw_mapping_problem(ld, w, "\"omit_empty\" is true or false");
		r->omit_empty = json_is_true(x);
	}
}

/* --- conditions --- */

static char *scalar_text(const json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return spgw_strndup(json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return spgw_strdup(num);
}

void spgw_mapping_compile_cond(struct mapping_load *ld, const json_t *j, const char *where,
			       int allow_elem, struct mapping_cond *c)
{
	static const enum mapping_op ops[] = { MAP_OP_EQUALS, MAP_OP_NOT_EQUALS, MAP_OP_IN,
					       MAP_OP_NOT_IN, MAP_OP_PRESENT };
	struct mapping_rule_ctx rc = { allow_elem, NULL, 0, 1 };
	const json_t *opv = NULL, *list;
	char w[MAPPING_WHERE_MAX];
	size_t i, nops = 0;

	if (!json_is_object(j)) {
		spgw_mapping_problem(ld, where,
				     "a \"when\" condition is an object such as "
				     "{\"from\": \"status\", \"equals\": \"1\"}");
		return;
	}
	for (i = 0; cond_keys[i]; i++) {
		if (json_object_get(j, cond_keys[i])) {
			opv = json_object_get(j, cond_keys[i]);
			c->op = ops[i];
			nops++;
		}
	}
	if (nops != 1) {
		spgw_mapping_problem(ld, where,
				     "a condition takes exactly one of \"equals\", \"not_equals\", "
				     "\"in\", \"not_in\", \"present\"");
		return;
	}
	spgw_mapping_compile_rule(ld, j, where, &rc, &c->value);
	spgw_mapping_where(w, "%s.%s", where, cond_keys[c->op]);
	if (c->op == MAP_OP_PRESENT) {
		if (!json_is_boolean(opv))
			spgw_mapping_problem(ld, w, "\"present\" is true or false");
		c->present = json_is_true(opv);
		return;
	}
	list = opv;
	if (c->op == MAP_OP_EQUALS || c->op == MAP_OP_NOT_EQUALS) {
		list = json_pack("[O]", opv);
		if (!list) {
			spgw_mapping_nomem(ld, "compiling a condition");
			return;
		}
	} else if (!json_is_array(opv)) {
		spgw_mapping_problem(ld, w, "\"%s\" is a list of values", cond_keys[c->op]);
		return;
	}
	c->nops = json_array_size(list);
	c->operands = spgw_calloc(c->nops ? c->nops : 1, sizeof(*c->operands));
	c->oplen = spgw_calloc(c->nops ? c->nops : 1, sizeof(*c->oplen));
	if (!c->operands || !c->oplen) {
		c->nops = 0;
		spgw_mapping_nomem(ld, "compiling a condition");
	}
	for (i = 0; i < c->nops; i++) {
		const json_t *v = json_array_get(list, i);

		if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v)) {
			spgw_mapping_problem(ld, w, "compare with strings, numbers or booleans");
			continue;
		}
		c->operands[i] = scalar_text(v);
		if (!c->operands[i])
			spgw_mapping_nomem(ld, "compiling a condition");
		else
			c->oplen[i] = strlen(c->operands[i]);
	}
	if (list != opv)
		json_decref((json_t *)list);
}
