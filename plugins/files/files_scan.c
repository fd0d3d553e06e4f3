/*
 * The drop directory: which files are ours, in which order they are read, and whether one is
 * complete.
 *
 * Order is by ctime, then name. ctime is set by the kernel whenever a file's inode changes
 * (written, renamed into place, chmod) and no copy tool can set it back (cp -p and rsync -t
 * preserve mtime, not ctime), so ctime order is the order files arrived in. The cursor then
 * only needs the last key reached: everything before it has been read, anything that
 * arrives later sorts after it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_int.h"

int files_key_cmp(const struct files_key *a, const struct files_key *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

void files_list_free(struct files_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].key.name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int ends_with(const char *s, size_t n, const char *suffix, int fold)
{
	size_t k = strlen(suffix), i;

	if (n < k)
		return 0;
	for (i = 0; i < k; i++) {
		char a = s[n - k + i], b = suffix[i];

		if (fold && a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

/* Whether a name is one of ours. Patterns match case-insensitively: Windows exports write
 * XM_20260101.CSV as readily as xm_20260101.csv. */
static int wanted(const struct files_settings *s, const char *name)
{
	char lower[256];
	size_t n = strlen(name), i;

	if (name[0] == '.' || n >= sizeof(lower))
		return 0;
	/* Being written (by convention) or a marker: never a drop to read. */
	if (ends_with(name, n, ".tmp", 1) || ends_with(name, n, ".part", 1) ||
	    (s->done_suffix && ends_with(name, n, s->done_suffix, 0)))
		return 0;
	for (i = 0; i <= n; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	for (i = 0; s->patterns[i]; i++)
		if (fnmatch(s->patterns[i], lower, 0) == 0)
			return 1;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return files_key_cmp(&((const struct files_entry *)a)->key,
			     &((const struct files_entry *)b)->key);
}

int files_scan(int dirfd, const struct files_settings *s, const struct files_key *after,
	       int include_equal, struct files_list *out)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	fd = dup(dirfd);
	if (fd < 0)
		return errno;
	d = fdopendir(fd);
	if (!d) {
		rc = errno;
		close(fd);
		return rc;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		struct files_entry e;
		struct stat st;
		int cmp;

		if (!wanted(s, de->d_name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, 0)) {
			if (errno == ENOENT)
				continue; /* gone since readdir, or a dangling link */
			rc = errno;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		e.key.sec = st.st_ctim.tv_sec;
		e.key.nsec = st.st_ctim.tv_nsec;
		e.key.name = de->d_name;
		cmp = after ? files_key_cmp(&e.key, after) : 1;
		if (cmp < 0 || (cmp == 0 && !include_equal))
			continue;
		e.size = (uint64_t)st.st_size;
		e.mtime_sec = st.st_mtim.tv_sec;
		e.mtime_nsec = st.st_mtim.tv_nsec;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			struct files_entry *v = realloc(out->v, cap * sizeof(*v));

			if (!v) {
				rc = ENOMEM;
				break;
			}
			out->v = v;
			out->cap = cap;
		}
		e.key.name = strdup(de->d_name);
		if (!e.key.name) {
			rc = ENOMEM;
			break;
		}
		out->v[out->n++] = e;
	}
	if (!rc && errno)
		rc = errno;
	closedir(d);
	if (rc)
		files_list_free(out);
	else if (out->n)
		qsort(out->v, out->n, sizeof(out->v[0]), by_key);
	return rc;
}

int files_ready(int dirfd, const struct files_settings *s, const struct files_entry *e,
		const struct timespec *now, char *why, size_t whylen)
{
	int64_t age_ns = ((int64_t)now->tv_sec - e->key.sec) * 1000000000 +
			 (now->tv_nsec - e->key.nsec);

	/* ctime moves on every write, so its age is how long the file has been unchanged. The
	 * wait also keeps arrival order exact: a file arriving within the same clock tick as the
	 * last one read cannot sort before it. */
	if (age_ns < (int64_t)s->stable_seconds * 1000000000) {
		snprintf(why, whylen, "it changed %lld s ago; it is read once unchanged for %ld s "
			 "(stable_seconds)", (long long)(age_ns < 0 ? 0 : age_ns / 1000000000),
			 s->stable_seconds);
		return 0;
	}
	if (s->done_suffix) {
		char marker[512];
		struct stat st;

		snprintf(marker, sizeof(marker), "%s%s", e->key.name, s->done_suffix);
		if (fstatat(dirfd, marker, &st, 0) == 0)
			return 1;
		if (errno != ENOENT)
			return -1;
		snprintf(why, whylen, "its marker %s does not exist yet (done_suffix)", marker);
		return 0;
	} else {
		char last = 0;
		int fd;
		ssize_t got;

		if (e->size == 0) {
			snprintf(why, whylen, "it is empty (its writer may not have started; "
				 "delete it if the export is meant to be empty, or use "
				 "done_suffix)");
			return 0;
		}
		fd = openat(dirfd, e->key.name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		got = pread(fd, &last, 1, (off_t)(e->size - 1));
		close(fd);
		if (got < 0)
			return -1;
		if (last != '\n') {
			snprintf(why, whylen,
				 "it does not end with a newline, so its writer may not "
				 "be done (end it with one, or use done_suffix)");
			return 0;
		}
	}
	return 1;
}

int files_table_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int files_table(const struct files_settings *s, const char *name, char *out, size_t outlen)
{
	size_t n;

	if (s->table) {
		snprintf(out, outlen, "%s", s->table);
		return 0;
	}
	n = strcspn(name, s->table_stem ? "." : "._");
	if (!files_table_name_ok(name, n) || n >= outlen) {
		snprintf(out, outlen, "the %s of its name is not a table name (1-64 of A-Z a-z 0-9 "
			 "_ -)", s->table_stem ? "part before the first '.'" :
			 "part before the first '_' or '.'");
		return -1;
	}
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

enum files_format files_format_of(const struct files_settings *s, const char *name)
{
	size_t n = strlen(name);

	if (s->format != FILES_FORMAT_AUTO)
		return s->format;
	if (ends_with(name, n, ".jsonl", 1) || ends_with(name, n, ".ndjson", 1))
		return FILES_JSONL;
	return FILES_CSV;
}
