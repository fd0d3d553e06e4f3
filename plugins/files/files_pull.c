/*
 * pull(): read every file that arrived after the cursor, in arrival order, stopping at the
 * first one not yet complete (a later file cannot be read before it, or the cursor would pass
 * it). Inside a file, a commit every `commit_every` rows records the byte offset reached, so a
 * crash resumes at the next row: none read twice, none skipped.
 *
 * pull_range(): the rows of every complete file whose day is in the range, in the same arrival
 * order and with a cursor of the same form. A file's day is the Beijing date of its mtime:
 * when the export was written. A file carries no other date (its rows' business dates are
 * the mapping's business, and day_column is optional), and mtime, unlike ctime, survives a
 * restore from an archive (cp -p, rsync -t, tar), which is how a lost month comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files_int.h"

/* A file that still lacks its final newline after this long is probably not being written
 * any more but was cut short: say so at warning level, not as routine waiting. */
#define STUCK_SECONDS 3600

struct pull {
	struct files_source *src;
	const struct spgw_host *host;
	struct spgw_plugin_error *err;
	struct files_cursor cur;
	int dirfd;
	struct timespec now;
};

static int nomem(struct pull *p)
{
	return files_fail(p->err, SPGW_PLUGIN_RETRY, "out of memory in the files plugin");
}

static int commit(struct pull *p)
{
	if (files_cursor_format(&p->cur, &p->src->cursor))
		return files_fail(p->err, SPGW_PLUGIN_ERROR, "the cursor for %s would be longer "
				  "than 4096 bytes; this is a bug in the files plugin",
				  files_name_utf8(p->src, p->cur.key.name, NULL));
	if (p->host->commit(p->host->ctx, p->src->cursor.p) != SPGW_PLUGIN_OK)
		return files_fail(p->err, SPGW_PLUGIN_RETRY, "the gateway could not store the rows "
				  "of %s up to here; the next pull resumes from the last commit",
				  files_name_utf8(p->src, p->cur.key.name, NULL));
	return SPGW_PLUGIN_OK;
}

/* Make `e` the cursor's file (in progress until the caller says done). */
static int set_position(struct pull *p, const struct files_entry *e)
{
	char *name = strdup(e->key.name);

	if (!name)
		return -1;
	free(p->cur.key.name);
	p->cur.key = e->key;
	p->cur.key.name = name;
	p->cur.set = 1;
	p->cur.done = 0;
	p->cur.size = e->size;
	p->cur.mtime_sec = e->mtime_sec;
	p->cur.mtime_nsec = e->mtime_nsec;
	p->cur.offset = p->cur.line = 0;
	return 0;
}

/* Move the cursor past a file without reading it, remembering it as it is now. */
static int pass_over(struct pull *p, const struct files_entry *e)
{
	if (set_position(p, e))
		return nomem(p);
	p->cur.done = 1;
	files_recent_add(&p->cur, files_name_hash(e->key.name), files_ident(e));
	return commit(p);
}

static int emit_row(struct pull *p, const char *table, int kind)
{
	struct files_source *src = p->src;
	struct files_rows *w = &src->rows;
	struct files_out *o = &src->out;
	int rc = 0;

	if (kind == FILES_ROW_OK) {
		if (w->delim >= 0)
			rc = files_out_csv(o, &w->fields, w->row_line);
		else
			rc = files_out_jsonl(o, w->utf8, w->utf8_len, w->json->n_keys == 0,
					     w->row_line);
		if (rc < 0)
			return nomem(p);
		if (rc == 1) {
			unsigned long long l = (unsigned long long)w->row_line;

			snprintf(w->why, sizeof(w->why),
				 "line %llu: the row as JSON is larger than "
				 "the 16 MiB record limit; _raw holds its first %u bytes "
				 "(第%llu行：记录超过16 MiB)",
				 l, FILES_RAW_KEEP, l);
			kind = FILES_ROW_BAD;
		}
	}
	if (kind == FILES_ROW_BAD &&
	    files_out_bad(o, w->why, w->row_line, &w->rec, w->utf8, w->utf8_len, w->invalid))
		return nomem(p);
	if (p->host->emit(p->host->ctx, table, o->json.p, o->json.len) != SPGW_PLUGIN_OK)
		return files_fail(p->err, SPGW_PLUGIN_RETRY, "the gateway took no more records at "
				  "%s line %llu (a record or batch limit, or it is stopping); the "
				  "next pull resumes from the last commit",
				  files_name_utf8(src, p->cur.key.name, NULL),
				  (unsigned long long)w->row_line);
	return SPGW_PLUGIN_OK;
}

static int read_failed(struct pull *p, const struct files_entry *e, int r)
{
	if (r == FILES_ROW_NOMEM)
		return nomem(p);
	return files_fail(p->err, SPGW_PLUGIN_RETRY, "reading %s/%s: %s", p->src->s.dir,
			  files_name_utf8(p->src, e->key.name, NULL), strerror(errno));
}

/* Read `e` (open as `fd`) from `start`, a row boundary after `line` lines (0: the start). */
static int read_file(struct pull *p, const struct files_entry *e, int fd, const char *table,
		     uint64_t start, uint64_t line, enum files_encoding enc)
{
	struct files_source *src = p->src;
	struct files_rows *w = &src->rows;
	const char *uname;
	size_t ulen;
	long pending = 0;
	int r, rc;

	uname = files_name_utf8(src, e->key.name, &ulen);
	if (files_out_begin(&src->out, uname, ulen))
		return nomem(p);
	r = files_rows_open(w, &src->s, &src->text[enc], files_format_of(&src->s, e->key.name),
			    fd, e->size, start, line);
	if (r)
		return read_failed(p, e, r);
	if (w->has_header && !w->header_err[0] && files_out_columns(&src->out, &w->header))
		return nomem(p);
	if (set_position(p, e))
		return nomem(p);
	p->cur.enc = enc;
	while ((r = files_rows_next(w)) > 0) {
		if (pending == src->s.commit_every) {
			p->cur.offset = w->rec.start;
			p->cur.line = w->row_line - 1;
			rc = commit(p);
			if (rc)
				return rc;
			pending = 0;
		}
		rc = emit_row(p, table, r);
		if (rc)
			return rc;
		pending++;
	}
	if (r < 0)
		return read_failed(p, e, r);
	p->cur.done = 1;
	files_recent_add(&p->cur, files_name_hash(e->key.name), files_ident(e));
	return commit(p);
}

/* Whether `offset` in `fd` starts a line: a resumed file that grew may continue there. */
static int line_start(int fd, uint64_t offset)
{
	char c = 0;

	return offset == 0 || (pread(fd, &c, 1, (off_t)offset - 1) == 1 && c == '\n');
}

static int open_failed(struct pull *p, const struct files_entry *e)
{
	const char *name = files_name_utf8(p->src, e->key.name, NULL);

	if (errno == EACCES || errno == EPERM)
		return files_fail(p->err, SPGW_PLUGIN_ERROR, "cannot open %s/%s: %s: let the "
				  "gateway's user read it (files after it wait until then)",
				  p->src->s.dir, name, strerror(errno));
	return files_fail(p->err, SPGW_PLUGIN_RETRY, "cannot open %s/%s: %s", p->src->s.dir, name,
			  strerror(errno));
}

/*
 * One file in arrival order: resume it, read it, pass over it, or stop at it (*stop) because
 * it is not complete yet.
 */
static int pull_file(struct pull *p, const struct files_entry *e, int *stop)
{
	const struct files_settings *s = &p->src->s;
	struct files_cursor *cur = &p->cur;
	int resume = cur->set && !cur->done && files_key_cmp(&e->key, &cur->key) == 0;
	int grown = 0, fd = -1, rc, r;
	enum files_encoding enc = s->encoding;
	uint64_t start = 0, line = 0;
	char table[80], why[256];
	struct stat st;

	if (resume) {
		start = cur->offset;
		line = cur->line;
		enc = cur->enc;
	} else {
		struct files_recent *seen = files_recent_find(cur, files_name_hash(e->key.name));
		int in_progress = cur->set && !cur->done && !strcmp(cur->key.name, e->key.name);
		const char *name = files_name_utf8(p->src, e->key.name, NULL);

		if (seen && seen->ident == files_ident(e)) {
			/* Same size and mtime: only its ctime moved (chmod, moved and back). */
			files_log(p->host, SPGW_LOG_DEBUG, "%s was read before and is unchanged",
				  name);
			return pass_over(p, e);
		}
		if (in_progress && !s->reread_changed && e->size >= cur->offset) {
			grown = 1;
			files_log(p->host, SPGW_LOG_WARNING, "%s changed while it was being read; "
				  "reading on after line %llu, assuming rows were only added (set "
				  "reread_changed to read such a file again from its start)", name,
				  (unsigned long long)cur->line);
		} else if (seen || in_progress) {
			files_log(p->host, SPGW_LOG_WARNING, "%s changed after it was %s (now %llu "
				  "bytes); %s", name, seen ? "read" : "partly read",
				  (unsigned long long)e->size,
				  s->reread_changed ? "reading it again from its start "
						      "(reread_changed)" :
						      "it is not read again (set reread_changed to "
						      "read changed files again)");
			if (!s->reread_changed)
				return pass_over(p, e);
		}
		r = files_ready(p->dirfd, s, e, &p->now, why, sizeof(why));
		if (r < 0)
			return open_failed(p, e);
		if (r == 0) {
			int stuck = p->now.tv_sec - e->key.sec > STUCK_SECONDS;

			files_log(p->host, stuck ? SPGW_LOG_WARNING : SPGW_LOG_INFO,
				  "waiting for %s: %s; files after it wait too", name, why);
			*stop = 1;
			return SPGW_PLUGIN_OK;
		}
	}
	if (files_table(s, e->key.name, table, sizeof(table)))
		return files_fail(p->err, SPGW_PLUGIN_ERROR, "%s: %s: rename the file, or set "
				  "\"table\" or \"table_from\" in the source's settings (files "
				  "after it wait until then)",
				  files_name_utf8(p->src, e->key.name, NULL), table);
	fd = openat(p->dirfd, e->key.name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return SPGW_PLUGIN_OK; /* gone since the scan: nothing to read */
		return open_failed(p, e);
	}
	rc = SPGW_PLUGIN_OK;
	if (fstat(fd, &st) || st.st_ctim.tv_sec != e->key.sec ||
	    st.st_ctim.tv_nsec != e->key.nsec) {
		*stop = 1; /* replaced or changed since the scan: look again next pull */
		goto out;
	}
	if (grown && line_start(fd, cur->offset)) {
		start = cur->offset;
		line = cur->line;
		enc = cur->enc;
	}
	if (enc == FILES_ENC_AUTO && files_detect(fd, e->size, &enc)) {
		rc = read_failed(p, e, FILES_ROW_EIO);
		goto out;
	}
	rc = read_file(p, e, fd, table, start, line, enc);
out:
	close(fd);
	return rc;
}

/* The file the cursor was in the middle of is gone: say what was lost, then move on. */
static int check_vanished(struct pull *p, const struct files_list *list)
{
	size_t i;

	if (!p->cur.set || p->cur.done)
		return SPGW_PLUGIN_OK;
	for (i = 0; i < list->n; i++)
		if (!strcmp(list->v[i].key.name, p->cur.key.name))
			return SPGW_PLUGIN_OK;
	files_log(p->host, SPGW_LOG_WARNING, "%s was being read (up to line %llu) and is no longer "
		  "in %s; its rows after that line were not read",
		  files_name_utf8(p->src, p->cur.key.name, NULL), (unsigned long long)p->cur.line,
		  p->src->s.dir);
	p->cur.done = 1;
	return commit(p);
}

int files_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	       struct spgw_plugin_error *err)
{
	struct pull p = { .src = ctx, .host = host, .err = err, .dirfd = -1 };
	struct files_list list = { 0 };
	char why[256];
	size_t i;
	int rc, stop = 0;

	if (cursor && files_cursor_parse(cursor, &p.cur, why, sizeof(why))) {
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "the cursor was not written by this "
				"version of the files plugin (%s); reset the source's cursor to "
				"read %s again from its first file", why, p.src->s.dir);
		goto out;
	}
	rc = files_open_dir(p.src, &p.dirfd, err);
	if (rc)
		goto out;
	rc = files_scan(p.dirfd, &p.src->s, p.cur.set ? &p.cur.key : NULL,
			p.cur.set && !p.cur.done, &list);
	if (rc) {
		rc = files_fail(err, rc == EACCES ? SPGW_PLUGIN_ERROR : SPGW_PLUGIN_RETRY,
				"listing %s: %s", p.src->s.dir, strerror(rc));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &p.now);
	rc = check_vanished(&p, &list);
	for (i = 0; i < list.n && !stop && !rc; i++)
		rc = pull_file(&p, &list.v[i], &stop);
out:
	files_list_free(&list);
	if (p.dirfd >= 0)
		close(p.dirfd);
	files_cursor_free(&p.cur);
	return rc;
}

/* A file's day: the Beijing (UTC+8) date of its mtime, as a day number. */
static long file_day(const struct files_entry *e)
{
	int64_t t = e->mtime_sec + 8 * 3600;

	return (long)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
}

/* One file of the range, from its start or, when it is the cursor's file in progress, from the
 * row after the last commit. Incomplete files are left to the regular pull. */
static int range_file(struct pull *p, const struct files_entry *e)
{
	const struct files_settings *s = &p->src->s;
	struct files_cursor *cur = &p->cur;
	int resume = cur->set && !cur->done && files_key_cmp(&e->key, &cur->key) == 0;
	const char *name = files_name_utf8(p->src, e->key.name, NULL);
	enum files_encoding enc = resume ? cur->enc : s->encoding;
	uint64_t start = resume ? cur->offset : 0, line = resume ? cur->line : 0;
	char table[80], why[256];
	struct stat st;
	int fd, r, rc;

	if (!resume) {
		r = files_ready(p->dirfd, s, e, &p->now, why, sizeof(why));
		if (r < 0)
			return open_failed(p, e);
		if (r == 0) {
			files_log(p->host, SPGW_LOG_INFO, "%s is not complete yet (%s): it is left "
				  "to the regular pull", name, why);
			return SPGW_PLUGIN_OK;
		}
	}
	if (files_table(s, e->key.name, table, sizeof(table)))
		return files_fail(p->err, SPGW_PLUGIN_ERROR, "%s: %s: rename the file, or set "
				  "\"table\" or \"table_from\" in the source's settings", name,
				  table);
	fd = openat(p->dirfd, e->key.name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? SPGW_PLUGIN_OK : open_failed(p, e);
	rc = SPGW_PLUGIN_OK;
	if (fstat(fd, &st) || st.st_ctim.tv_sec != e->key.sec ||
	    st.st_ctim.tv_nsec != e->key.nsec) {
		/* changed since the scan: it is a new arrival now, the regular pull's */
		files_log(p->host, SPGW_LOG_INFO, "%s changed while the range was read: it is left "
			  "to the regular pull", name);
		goto out;
	}
	if (enc == FILES_ENC_AUTO && files_detect(fd, e->size, &enc)) {
		rc = read_failed(p, e, FILES_ROW_EIO);
		goto out;
	}
	rc = read_file(p, e, fd, table, start, line, enc);
out:
	close(fd);
	return rc;
}

int files_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		     const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct pull p = { .src = ctx, .host = host, .err = err, .dirfd = -1 };
	struct files_list list = { 0 };
	unsigned long files = 0;
	long lo, hi, day;
	char why[256];
	size_t i;
	int rc;

	if (!from || !to || strlen(from) != 10 || strlen(to) != 10 || from[4] != '-' ||
	    to[4] != '-' || !files_parse_day(from, 10, &lo) || !files_parse_day(to, 10, &hi) ||
	    lo > hi)
		return files_fail(err, SPGW_PLUGIN_ERROR, "pull_range: from \"%.10s\" to \"%.10s\" "
				  "is not two days YYYY-MM-DD, the first not after the second",
				  from ? from : "", to ? to : "");
	if (cursor && files_cursor_parse(cursor, &p.cur, why, sizeof(why))) {
		rc = files_fail(err, SPGW_PLUGIN_ERROR, "the cursor of the days %s..%s was not "
				"written by this version of the files plugin (%s); restart the "
				"backfill of the range", from, to, why);
		goto out;
	}
	rc = files_open_dir(p.src, &p.dirfd, err);
	if (rc)
		goto out;
	rc = files_scan(p.dirfd, &p.src->s, p.cur.set ? &p.cur.key : NULL,
			p.cur.set && !p.cur.done, &list);
	if (rc) {
		rc = files_fail(err, rc == EACCES ? SPGW_PLUGIN_ERROR : SPGW_PLUGIN_RETRY,
				"listing %s: %s", p.src->s.dir, strerror(rc));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &p.now);
	for (i = 0; i < list.n && !rc; i++) {
		day = file_day(&list.v[i]);
		if (day < lo || day > hi)
			continue;
		rc = range_file(&p, &list.v[i]);
		files++;
	}
	if (!rc)
		files_log(host, SPGW_LOG_INFO, "%lu files written from %s to %s read", files, from,
			  to);
out:
	files_list_free(&list);
	if (p.dirfd >= 0)
		close(p.dirfd);
	files_cursor_free(&p.cur);
	return rc;
}
