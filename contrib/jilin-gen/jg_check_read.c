/*
 * The checker's readers: Changchun's JSON Lines (jansson) and the provincial platform's
 * PostgreSQL COPY CSV (a parser of our own: quoted fields, "" inside quotes, an unquoted
 * empty field is NULL), each record handed to jg_chk_record() with a way to get its fields
 * by their Changchun or provincial names, and its raw bytes for the GBK checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_check.h"

/* Characters U+0000..U+00FF of a UTF-8 string as bytes; -1 when a character is above. */
static long latin1_bytes(const char *s, unsigned char *out, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0;

	while (*u && k < n) {
		if (*u < 0x80)
			out[k++] = *u++;
		else if ((*u == 0xC2 || *u == 0xC3) && (u[1] & 0xC0) == 0x80) {
			out[k++] = (unsigned char)(((u[0] & 0x03) << 6) | (u[1] & 0x3F));
			u += 2;
		} else
			return -1;
	}
	return (long)k;
}

/* ---- Changchun: JSON Lines ---- */

struct jctx {
	json_t *o;
	unsigned char bytes[1024];
};

static const char *jget(void *ctx, const char *cc, const char *prov)
{
	struct jctx *j = ctx;
	json_t *v = json_object_get(j->o, cc);
	static char num[32];

	(void)prov;
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return num;
	}
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const unsigned char *jraw(void *ctx, const char *cc, const char *prov, size_t *n)
{
	struct jctx *j = ctx;
	const char *s = jget(ctx, cc, prov), *cs = jg_chk_jstr(j->o, "_charset");
	long k;

	if (!s || !cs || strcmp(cs, "gbk"))
		return NULL;
	k = latin1_bytes(s, j->bytes, sizeof(j->bytes));
	if (k < 0)
		return NULL;
	*n = (size_t)k;
	return j->bytes;
}

int jg_chk_read_jsonl(struct chk *c, const char *dir, enum jg_entity ent, long *lines)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	struct jctx j;
	struct rec r = {JG_CC, jg_chk_region("220100"), 0, ent, path, NULL, jget, &j, jraw};
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s.jsonl", dir, jg_entities[ent].cc);
	f = fopen(path, "rb");
	*lines = 0;
	if (!f) {
		jg_chk_fail(c, "%s: cannot open: %s", path, strerror(errno));
		return 0;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_error_t je;

		r.line = (int)++*lines;
		j.o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(j.o)) {
			jg_chk_fail(c, "%s:%d: not a JSON object: %s", path, r.line, je.text);
			json_decref(j.o);
			continue;
		}
		r.id = jg_chk_jstr(j.o, "id");
		if (!jg_chk_jstr(j.o, "update_time") ||
		    jg_chk_parse_time(jg_chk_jstr(j.o, "update_time"), &(int64_t){0}))
			jg_chk_fail(c, "%s:%d: update_time \"%s\" is not YYYY-MM-DD HH:MM:SS", path,
				    r.line,
				    jg_chk_jstr(j.o, "update_time")
					    ? jg_chk_jstr(j.o, "update_time")
					    : "");
		rc = jg_chk_record(c, &r);
		json_decref(j.o);
		if (rc)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

/* ---- provincial: PostgreSQL COPY CSV ---- */

#define MAX_COLS 48

struct cctx {
	char *names[MAX_COLS];
	int ncols;
	char *val[MAX_COLS]; /* NULL = SQL NULL */
	size_t len[MAX_COLS];
	char *buf;
	size_t cap;
};

static int col(struct cctx *x, const char *name)
{
	int i;

	for (i = 0; i < x->ncols; i++)
		if (!strcmp(x->names[i], name))
			return i;
	return -1;
}

static const char *cget(void *ctx, const char *cc, const char *prov)
{
	struct cctx *x = ctx;
	int i = col(x, prov);

	(void)cc;
	return i < 0 ? NULL : x->val[i];
}

static const unsigned char *craw(void *ctx, const char *cc, const char *prov, size_t *n)
{
	struct cctx *x = ctx;
	int i = col(x, prov);

	(void)cc;
	if (i < 0 || !x->val[i])
		return NULL;
	*n = x->len[i];
	return (const unsigned char *)x->val[i];
}

/* Split one CSV record (which may span lines when quoted) into x->val. 1 a record, 0 EOF,
 * -1 malformed. */
static int csv_next(FILE *f, struct cctx *x, int *lineno)
{
	char *line = NULL;
	size_t lcap = 0, k = 0, start = 0;
	ssize_t len;
	int n = 0, quoted = 0, inq = 0, any = 0, rc = -1;

	for (;;) {
		ssize_t i;

		len = getline(&line, &lcap, f);
		if (len <= 0) {
			rc = any ? -1 : 0;
			goto out;
		}
		any = 1;
		++*lineno;
		if (x->cap < k + (size_t)len + MAX_COLS + 1) {
			char *nb = realloc(x->buf, k + (size_t)len + MAX_COLS + 4096);

			if (!nb)
				goto out;
			/* fields point into the buffer: rebase them */
			for (i = 0; i < n; i++)
				if (x->val[i])
					x->val[i] = nb + (x->val[i] - x->buf);
			x->buf = nb;
			x->cap = k + (size_t)len + MAX_COLS + 4096;
		}
		for (i = 0; i < len; i++) {
			char ch = line[i];

			if (inq) {
				if (ch == '"' && i + 1 < len && line[i + 1] == '"') {
					x->buf[k++] = '"';
					i++;
				} else if (ch == '"') {
					inq = 0;
				} else {
					x->buf[k++] = ch;
				}
				continue;
			}
			if (ch == '"') {
				inq = quoted = 1;
			} else if (ch == ',' || ch == '\n') {
				if (n == MAX_COLS)
					goto out;
				x->val[n] = (k == start && !quoted) ? NULL : x->buf + start;
				x->len[n] = k - start;
				x->buf[k++] = '\0';
				n++;
				start = k;
				quoted = 0;
				if (ch == '\n') {
					x->ncols = x->ncols ? x->ncols : n;
					rc = n == x->ncols ? 1 : -1;
					goto out;
				}
			} else if (ch != '\r') {
				x->buf[k++] = ch;
			}
		}
		if (!inq) { /* a last line without its newline */
			x->val[n] = (k == start && !quoted) ? NULL : x->buf + start;
			x->len[n] = k - start;
			x->buf[k++] = '\0';
			n++;
			rc = n == x->ncols ? 1 : -1;
			goto out;
		}
	}
out:
	free(line);
	return rc;
}

int jg_chk_read_csv(struct chk *c, const char *dir, const char *name, enum jg_entity ent,
		    long *rows)
{
	char path[4096];
	FILE *f;
	struct cctx x;
	struct rec r = {JG_PROV, -1, 0, ent, path, NULL, cget, &x, craw};
	int i, lineno = 0, st, rc = 0;

	memset(&x, 0, sizeof(x));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*rows = 0;
	f = fopen(path, "rb");
	if (!f) {
		jg_chk_fail(c, "%s: cannot open: %s", path, strerror(errno));
		return 0;
	}
	x.ncols = 0;
	st = csv_next(f, &x, &lineno);
	if (st != 1) {
		jg_chk_fail(c, "%s: no header line", path);
		goto out;
	}
	for (i = 0; i < x.ncols; i++)
		x.names[i] = strdup(x.val[i] ? x.val[i] : "");
	while ((st = csv_next(f, &x, &lineno)) == 1) {
		++*rows;
		r.line = lineno;
		r.id = cget(&x, "", "row_id");
		r.region = jg_chk_region(cget(&x, "", "area_code"));
		if (!cget(&x, "", "upd_time"))
			jg_chk_fail(c, "%s:%d: no upd_time", path, lineno);
		rc = jg_chk_record(c, &r);
		if (rc)
			break;
	}
	if (st < 0)
		jg_chk_fail(c, "%s:%d: malformed CSV record (%d columns expected)", path, lineno,
			    x.ncols);
out:
	for (i = 0; i < x.ncols; i++)
		free(x.names[i]);
	free(x.buf);
	fclose(f);
	return rc;
}
