/*
 * The rows of one file: the CSV header first, then each row decoded to UTF-8 and checked, so
 * that pull() (files_pull.c) and count() (files_count.c) see the same rows with the same
 * verdicts. A row that cannot become a record is FILES_ROW_BAD with a reason that says where
 * and what, in English and Chinese, because it reaches provincial staff through quarantine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files_int.h"

static const char *enc_label(enum files_encoding e)
{
	return e == FILES_GBK ? "GBK" : e == FILES_GB18030 ? "GB18030" : "UTF-8";
}

/* Read and check the CSV header; its problems make every row of the file bad, not the pull. */
static int read_header(struct files_rows *w)
{
	const char *u;
	size_t ulen, i, j;
	int r, invalid;

	do {
		r = files_reader_next(&w->rd, w->delim, w->s->max_line, &w->rec);
		if (r <= 0)
			return r == 0 ? 0 : r == -1 ? FILES_ROW_EIO : FILES_ROW_NOMEM;
		w->header_line = w->line + 1;
		w->line += w->rec.lines;
	} while (w->rec.blank);
	w->has_header = 1;
	if (w->rec.too_long) {
		snprintf(w->header_err, sizeof(w->header_err), "it is longer than max_line (%zu "
			 "bytes)", w->s->max_line);
		return 0;
	}
	if (files_text_decode(w->text, w->rec.raw.p, w->rec.raw.len, &u, &ulen, &invalid))
		return FILES_ROW_NOMEM;
	if (invalid) {
		snprintf(w->header_err, sizeof(w->header_err), "it holds bytes that are not valid "
			 "%s", enc_label(w->text->enc));
		return 0;
	}
	r = files_csv_split(u, ulen, (char)w->delim, &w->header, w->header_err,
			    sizeof(w->header_err));
	if (r == -2)
		return FILES_ROW_NOMEM;
	if (r)
		return 0;
	for (i = 0; i < w->header.n; i++) {
		const char *a = w->header.text.p + w->header.off[i];
		size_t alen = w->header.len[i];

		/* The plugin adds _file and _line to every record; a column of that name would be
		 * lost or doubled. */
		if (alen == 5 && (!memcmp(a, "_file", 5) || !memcmp(a, "_line", 5))) {
			snprintf(w->header_err, sizeof(w->header_err), "column %zu is named "
				 "\"%.*s\", which this plugin adds itself", i + 1, (int)alen, a);
			return 0;
		}
		for (j = 0; j < i; j++) {
			if (w->header.len[j] == alen &&
			    !memcmp(w->header.text.p + w->header.off[j], a, alen)) {
				snprintf(w->header_err, sizeof(w->header_err),
					 "column %zu \"%.*s\" repeats column %zu", i + 1,
					 (int)(alen > 64 ? 64 : alen), a, j + 1);
				return 0;
			}
		}
	}
	return 0;
}

int files_rows_open(struct files_rows *w, const struct files_settings *s, struct files_text *text,
		    enum files_format fmt, int fd, uint64_t size, uint64_t start, uint64_t line)
{
	uint64_t bom = files_bom_len(fd, text->enc, size);
	int rc;

	w->s = s;
	w->text = text;
	w->delim = fmt == FILES_CSV ? (unsigned char)s->delimiter : -1;
	w->has_header = 0;
	w->header_err[0] = '\0';
	w->header_line = 0;
	w->line = 0;
	if (files_reader_open(&w->rd, fd, bom, size))
		return FILES_ROW_NOMEM;
	if (fmt == FILES_CSV) {
		rc = read_header(w);
		if (rc)
			return rc;
	}
	/* Resuming: rows start after the header, whatever the cursor says. */
	if (start > w->rd.off) {
		w->rd.pos = w->rd.len = 0;
		w->rd.off = start;
		w->line = line;
	}
	return 0;
}

/* The current row is bad: format the reason with its line, English then Chinese. */
static int bad(struct files_rows *w, const char *en, const char *zh)
{
	unsigned long long l = (unsigned long long)w->row_line;

	snprintf(w->why, sizeof(w->why), "line %llu: %s (第%llu行：%s)", l, en, l, zh);
	return FILES_ROW_BAD;
}

static int check_csv(struct files_rows *w)
{
	char why[256], en[384];
	int r;

	if (!w->header_err[0] && w->rec.open_quote) {
		/* The reader ran to the end of the file looking for the closing quote. */
		return bad(w, "a quoted field is never closed; the row runs to the end of the file",
			   "引号未闭合");
	}
	if (w->header_err[0]) {
		snprintf(en, sizeof(en), "not read as a row because the header on line %llu is "
			 "unusable: %s", (unsigned long long)w->header_line, w->header_err);
		return bad(w, en, "表头不可用");
	}
	r = files_csv_split(w->utf8, w->utf8_len, (char)w->delim, &w->fields, why, sizeof(why));
	if (r == -2)
		return FILES_ROW_NOMEM;
	if (r)
		return bad(w, why, "CSV格式错误");
	if (w->fields.n != w->header.n) {
		char zh[96];

		snprintf(en, sizeof(en), "%zu fields, header has %zu", w->fields.n, w->header.n);
		snprintf(zh, sizeof(zh), "%zu个字段，表头有%zu个", w->fields.n, w->header.n);
		return bad(w, en, zh);
	}
	return FILES_ROW_OK;
}

static int check_jsonl(struct files_rows *w)
{
	char why[256], en[384];
	size_t i;
	int r;

	if (!w->json && !(w->json = malloc(sizeof(*w->json))))
		return FILES_ROW_NOMEM;
	r = files_json_check(w->utf8, w->utf8_len, w->s->day_column, w->json, why, sizeof(why));
	if (r < 0) {
		snprintf(en, sizeof(en), "not JSON: %s", why);
		return bad(w, en, "不是有效的JSON");
	}
	if (r > 0)
		return bad(w, "a JSON value that is not an object", "不是JSON对象");
	/* The plugin adds _file and _line to every record: a member of that name would be
	 * doubled. */
	for (i = 0; i < w->json->n_keys; i++) {
		if (w->json->keys[i].len == 5 && (!memcmp(w->json->keys[i].p, "_file", 5) ||
						  !memcmp(w->json->keys[i].p, "_line", 5)))
			return bad(w, "has a member \"_file\" or \"_line\", which this plugin adds "
				   "itself", "含保留字段_file或_line");
	}
	return FILES_ROW_OK;
}

int files_rows_next(struct files_rows *w)
{
	char en[384];
	int r;

	if (w->delim >= 0 && !w->has_header)
		return FILES_ROW_END;
	do {
		r = files_reader_next(&w->rd, w->delim, w->s->max_line, &w->rec);
		if (r <= 0)
			return r == 0 ? FILES_ROW_END : r == -1 ? FILES_ROW_EIO : FILES_ROW_NOMEM;
		w->row_line = w->line + 1;
		w->line += w->rec.lines;
	} while (w->rec.blank);
	if (files_text_decode(w->text, w->rec.raw.p, w->rec.raw.len, &w->utf8, &w->utf8_len,
			      &w->invalid))
		return FILES_ROW_NOMEM;
	if (w->rec.too_long) {
		snprintf(en, sizeof(en), "the row is %llu bytes, longer than max_line (%zu); _raw "
			 "holds its first %u bytes", (unsigned long long)w->rec.bytes,
			 w->s->max_line, FILES_RAW_KEEP);
		return bad(w, en, "行过长");
	}
	if (w->invalid) {
		char zh[64];

		snprintf(en, sizeof(en),
			 "bytes that are not valid %s text or are NUL (shown as \\xNN "
			 "in _raw; exact bytes in _raw_hex)",
			 enc_label(w->text->enc));
		snprintf(zh, sizeof(zh), "含非%s编码字节", enc_label(w->text->enc));
		return bad(w, en, zh);
	}
	return w->delim >= 0 ? check_csv(w) : check_jsonl(w);
}

void files_rows_free(struct files_rows *w)
{
	files_reader_close(&w->rd);
	files_buf_free(&w->rec.raw);
	files_fields_free(&w->header);
	files_fields_free(&w->fields);
	free(w->json);
	w->json = NULL;
}
