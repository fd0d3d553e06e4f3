/*
 * The handling-step sequence check (see sequence.h and config/schema/README.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sequence.h"

/* BLZT labels (shared/spgl/codes.md, all C), for messages people read. */
static const char *const blzt_label[16] = {
	NULL,	       "已接件",	"已撤件",	  "已受理",	       "不受理",
	"不予受理",    "补正（开始）", "补正（结束）", "部门开始办理",     "特别程序（开始）",
	"特别程序（结束）", "办结（通过）", "办结（容缺通过）", "办结（不通过）", "撤回",
	"撤销",
};

static const char *label(int code)
{
	return code >= 1 && code <= 15 ? blzt_label[code] : "?";
}

/* Write the why lines; returns `i` so a rule reads "return fault(...)". */
static long fault(long i, char *en, char *zh, size_t cap, const char *en_fmt,
		  const char *zh_fmt, ...)
{
	va_list ap;

	if (en && cap) {
		va_start(ap, zh_fmt);
		vsnprintf(en, cap, en_fmt, ap);
		va_end(ap);
	}
	if (zh && cap) {
		va_start(ap, zh_fmt);
		vsnprintf(zh, cap, zh_fmt, ap);
		va_end(ap);
	}
	return i;
}

long spgw_sequence_blzt(const struct spgw_seq_event *ev, size_t n, char *en, char *zh,
			size_t cap)
{
	int seen[16] = { 0 };
	int accepted = 0, open6 = 0, open9 = 0, ended = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = ev[i].code;
		long at = (long)i;

		if (c < 1 || c > 15)
			return fault(at, en, zh, cap, "%d is not a handling status (1-15)",
				     "%d 不是有效的办理状态（1-15）", c);
		if (i > 0 && strcmp(ev[i - 1].time, ev[i].time) >= 0)
			return fault(at, en, zh, cap,
				     "its time %s is not after the previous step's (%s, status %d)",
				     "办理时间 %s 不晚于上一步（%s，状态 %d）", ev[i].time,
				     ev[i - 1].time, ev[i - 1].code);
		if (ended) {
			/* after an end event only a revocation (15) may follow, once */
			if (c != 15 || ended == 15)
				return fault(at, en, zh, cap,
					     "the case already ended with status %d",
					     "该办件已以状态 %d 结束", ended);
			ended = 15;
			continue;
		}
		if (seen[c] && c != 9 && c != 10)
			return fault(at, en, zh, cap, "status %d occurs twice in the case",
				     "同一办件中状态 %d 出现两次", c);
		seen[c] = 1;
		if (i == 0 && c != 1 && c != 3)
			return fault(at, en, zh, cap,
				     "a case's first step must be 1 (已接件) or 3 (已受理)",
				     "办件的第一步须为 1（已接件）或 3（已受理）");
		switch (c) {
		case 1:
			if (i != 0)
				return fault(at, en, zh, cap, "1 (已接件) must be the first step",
					     "1（已接件）须为第一步");
			break;
		case 2:
		case 4:
		case 5:
			if (accepted)
				return fault(at, en, zh, cap,
					     "status %d may only come before the case is accepted (3)",
					     "状态 %d 只能在受理（3）之前", c);
			ended = c;
			break;
		case 3:
			accepted = 1;
			break;
		case 14:
		case 15:
			ended = c;
			break;
		default:
			if (!accepted)
				return fault(at, en, zh, cap,
					     "status %d may only come after the case is accepted (3)",
					     "状态 %d 只能在受理（3）之后", c);
			if (c == 6) {
				open6 = 1;
			} else if (c == 7) {
				if (!open6)
					return fault(at, en, zh, cap,
						     "7 (补正结束) without an open 6 (补正开始)",
						     "7（补正结束）之前没有未结束的 6（补正开始）");
				open6 = 0;
			} else if (c == 9) {
				if (open9)
					return fault(at, en, zh, cap,
						     "9 (特别程序开始) while another special "
						     "procedure is open",
						     "已有未结束的特别程序时又出现 9（特别程序开始）");
				open9 = 1;
			} else if (c == 10) {
				if (!open9)
					return fault(at, en, zh, cap,
						     "10 (特别程序结束) without an open 9 "
						     "(特别程序开始)",
						     "10（特别程序结束）之前没有未结束的 9（特别程序开始）");
				open9 = 0;
			} else if (c >= 11) {
				if (open6 || open9)
					return fault(at, en, zh, cap,
						     "status %d ends the case while %s is open",
						     "%d 结束办件时 %s 尚未结束", c,
						     open6 ? "补正（6）" : "特别程序（9）");
				ended = c;
			}
		}
	}
	return -1;
}

/* ---- the log of one case, from the ledger ---- */

struct log {
	struct spgw_seq_event *ev;
	size_t n, cap;
	const struct spgw_sequence *seq;
	const char *self; /* the judged record's key: its older versions are not siblings */
	int nomem;
};

static struct spgw_seq_event *log_add(struct log *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct spgw_seq_event *ev = spgw_realloc(g->ev, cap * sizeof(*ev));

		if (!ev) {
			g->nomem = 1;
			return NULL;
		}
		g->ev = ev;
		g->cap = cap;
	}
	memset(&g->ev[g->n], 0, sizeof(g->ev[0]));
	return &g->ev[g->n++];
}

/* The `pos`-th U+001F-separated part of a key, into out (cap bytes); 0 when absent. */
static int key_part(const char *bkey, size_t pos, char *out, size_t cap)
{
	const char *p = bkey, *e;
	size_t len;

	while (pos--) {
		p = strchr(p, '\x1f');
		if (!p)
			return 0;
		p++;
	}
	e = strchr(p, '\x1f');
	len = e ? (size_t)(e - p) : strlen(p);
	if (!len || len >= cap)
		return 0;
	memcpy(out, p, len);
	out[len] = '\0';
	return 1;
}

static enum spgw_rc on_sibling(void *ud, const char *record_key, const char *bkey, int valid)
{
	struct log *g = ud;
	struct spgw_seq_event *e;
	char code[16], *end;
	long c;

	/* an invalidated step (withdrawn) is no longer part of the log; a key without its
	 * parts was never part of it (it cannot be ordered) */
	if (valid == SPGW_VALID_NO || !bkey || (g->self && record_key && !strcmp(record_key, g->self)))
		return SPGW_OK;
	if (!key_part(bkey, g->seq->field_pos, code, sizeof(code)))
		return SPGW_OK;
	c = strtol(code, &end, 10);
	if (*end)
		return SPGW_OK;
	e = log_add(g);
	if (!e)
		return SPGW_E_NOMEM;
	e->code = (int)c;
	if (!key_part(bkey, g->seq->time_pos, e->time, sizeof(e->time)))
		g->n--;
	return SPGW_OK;
}

static int cmp_event(const void *a, const void *b)
{
	const struct spgw_seq_event *x = a, *y = b;
	int c = strcmp(x->time, y->time);

	/* at one time the known steps come first: the newcomer is the one out of place */
	return c ? c : x->is_new - y->is_new;
}

/* The codes of a log, "1,3,8", for messages. */
static void codes_text(const struct spgw_seq_event *ev, size_t n, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len + 8 < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "", ev[i].code);
	if (i < n)
		snprintf(out + len, cap - len, ",...");
}

/* A case's key for people: its parts joined by "/" (GCDM/SPSXSLBM). */
static void case_name(const char *ref, char *out, size_t cap)
{
	size_t i;

	snprintf(out, cap, "%s", ref);
	for (i = 0; out[i]; i++)
		if (out[i] == '\x1f')
			out[i] = '/';
}

/* Add the steps of case `ref` that wait in quarantine (is_new = 2), other than the judged
 * record's own entries, from their mapped form. */
struct waiting_ctx {
	struct log *g;
	const struct spgw_sequence *seq;
};

static enum spgw_rc waiting_row(void *ud, const struct spgw_quarantine_row *row)
{
	struct waiting_ctx *w = ud;
	json_t *m, *code, *time;
	struct spgw_seq_event *e;

	if (w->g->self && row->key && !strcmp(row->key, w->g->self))
		return SPGW_OK;
	m = row->mapped ? json_loads(row->mapped, 0, NULL) : NULL;
	code = json_object_get(m, w->seq->field);
	time = json_object_get(m, w->seq->time);
	if (json_is_integer(code) && json_is_string(time) &&
	    json_string_length(time) < sizeof(e->time)) {
		e = log_add(w->g);
		if (!e) {
			json_decref(m);
			return SPGW_E_NOMEM;
		}
		e->code = (int)json_integer_value(code);
		e->is_new = 2;
		memcpy(e->time, json_string_value(time), json_string_length(time) + 1);
	}
	json_decref(m);
	return SPGW_OK;
}

static enum spgw_rc add_waiting(struct spgw_ledger *l, const char *region,
				const struct spgw_table *t, const char *ref, struct log *g,
				struct spgw_error *err)
{
	struct waiting_ctx w = { g, g->seq };
	enum spgw_rc rc;

	rc = spgw_ledger_quarantine_waiting(l, region, spgw_table_name(t), ref, waiting_row, &w,
					    NULL, err);
	if (rc == SPGW_E_NOMEM)
		rc = spgw_error_nomem(err, "reading the waiting steps of a case");
	return rc;
}

/* Drop the waiting steps (is_new 2) that sorting mixed among the first n entries. */
static void compact_new(struct log *g)
{
	size_t i, k = 0;

	for (i = 0; i < g->n; i++)
		if (g->ev[i].is_new != 2)
			g->ev[k++] = g->ev[i];
	g->n = k;
}

enum spgw_rc spgw_sequence_check(struct spgw_ledger *l, const char *region,
				 const struct spgw_table *t, const struct spgw_outbox_refs *refs,
				 const char *key, const json_t *record,
				 struct spgw_reasons *reasons, struct spgw_error *err)
{
	const struct spgw_sequence *seq = spgw_table_sequence(t);
	const json_t *code = seq ? json_object_get(record, seq->field) : NULL;
	const json_t *time = seq ? json_object_get(record, seq->time) : NULL;
	const json_t *valid = json_object_get(record, "SJYXBS");
	struct log g = { .seq = seq, .self = key };
	struct spgw_seq_event *e;
	char en[256], zh[256], before[128], kase[SPGW_REFS_KEY_MAX];
	long bad, bad_known;
	size_t i, self = 0, n_known;
	enum spgw_rc rc;

	/* nothing to judge: no rule, no case to group by, a withdrawal, or a malformed value
	 * (validation has already said so) */
	if (!seq || !l || !refs->parent_ref[0] || !json_is_integer(code) || !json_is_string(time) ||
	    json_string_length(time) >= sizeof(e->time) ||
	    (json_is_integer(valid) && json_integer_value(valid) == 0))
		return SPGW_OK;
	rc = spgw_ledger_children_each(l, region, spgw_table_name(t), refs->parent_ref, on_sibling,
				       &g, err);
	if (rc == SPGW_E_NOMEM || g.nomem)
		rc = spgw_error_nomem(err, "reading a case's handling steps");
	if (rc)
		goto out;
	e = log_add(&g);
	if (!e) {
		rc = spgw_error_nomem(err, "reading a case's handling steps");
		goto out;
	}
	e->code = (int)json_integer_value(code);
	e->is_new = 1;
	memcpy(e->time, json_string_value(time), json_string_length(time) + 1);
	qsort(g.ev, g.n, sizeof(*g.ev), cmp_event);
	n_known = g.n;
	bad = spgw_sequence_blzt(g.ev, g.n, en, zh, sizeof(en));
	if (bad < 0)
		goto out;
	/* with the steps of the case that wait in quarantine, is the whole log sound? Then the
	 * newcomer goes in and they follow (pipeline.c recheck): a 6 and its 7 read after
	 * the 11 each break the log alone and mend it together */
	rc = add_waiting(l, region, t, refs->parent_ref, &g, err);
	if (rc)
		goto out;
	if (g.n > n_known) {
		qsort(g.ev, g.n, sizeof(*g.ev), cmp_event);
		if (spgw_sequence_blzt(g.ev, g.n, NULL, NULL, 0) < 0)
			goto out;
		compact_new(&g); /* back to the known steps and the newcomer, still in order */
	}
	for (i = 0; i < g.n; i++)
		if (g.ev[i].is_new == 1)
			self = i;
	/* was the log sound without the newcomer? then the newcomer broke it */
	memmove(&g.ev[self], &g.ev[self + 1], (g.n - self - 1) * sizeof(*g.ev));
	bad_known = spgw_sequence_blzt(g.ev, g.n - 1, NULL, NULL, 0);
	if (bad_known >= 0 && (size_t)bad != self)
		goto out; /* an older fault (a withdrawn step): not this record's */
	codes_text(g.ev, self, before, sizeof(before));
	case_name(refs->parent_ref, kase, sizeof(kase));
	/* spgw_reasons_add gives both formats the same arguments: the English line carries
	 * the English why, the Chinese line the Chinese one, each skipping the other (%.0s) */
	if (spgw_reasons_add(reasons, seq->field, "sequence",
			     "%s %d (%s) at %s breaks the handling-step order of case %s (steps "
			     "before it: %s): %s%.0s; judged again when another step of the case "
			     "arrives",
			     "办理状态（%s）%d（%s，%s）不符合办件 %s 的办理顺序（此前的步骤：%s）：%.0s%s；"
			     "该办件的其他步骤到达时将重新校验",
			     seq->field, (int)json_integer_value(code),
			     label((int)json_integer_value(code)), json_string_value(time), kase,
			     before[0] ? before : "-", en, zh))
		rc = spgw_error_nomem(err, "recording a reason");
out:
	spgw_free(g.ev);
	return rc;
}
