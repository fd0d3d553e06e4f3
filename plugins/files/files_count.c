/*
 * count(): how many rows of each table the files in the directory hold per business day. A
 * file does not say which day a row belongs to, so counting needs `day_column`: the column
 * (or JSON member) holding the row's date. Without it the source cannot be counted, and
 * count() says so rather than report zeros that reconciliation would believe.
 *
 * Every complete file now in the directory is read, whatever the cursor: the count is of
 * what the city system exported, to compare with what reached the ledger.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files_int.h"

struct tally {
	char table[80];
	uint64_t *per_day; /* one counter per day from `from` */
};

struct counting {
	struct files_source *src;
	const struct spgw_host *host;
	struct spgw_plugin_error *err;
	long from, days;   /* day numbers: first day, days in the range */
	struct tally *t;
	size_t n;
};

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, char *out, size_t outlen)
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	snprintf(out, outlen, "%04d-%02d-%02d", (int)(y + (m <= 2)), (int)m, (int)d);
}

static int digits(const char *p, size_t n, long *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*v = *v * 10 + (p[i] - '0');
	}
	return 1;
}

int files_parse_day(const char *p, size_t n, long *day)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, m, d;

	if (n >= 10 && (p[4] == '-' || p[4] == '/') && p[7] == p[4] && digits(p, 4, &y) &&
	    digits(p + 5, 2, &m) && digits(p + 8, 2, &d))
		;
	else if (n >= 8 && digits(p, 4, &y) && digits(p + 4, 2, &m) && digits(p + 6, 2, &d))
		;
	else
		return 0;
	if (m < 1 || m > 12 || d < 1 ||
	    d > dim[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	*day = days_from_civil(y, m, d);
	return 1;
}

static struct tally *tally_for(struct counting *c, const char *table)
{
	struct tally *t;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->t[i].table, table))
			return &c->t[i];
	t = realloc(c->t, (c->n + 1) * sizeof(*t));
	if (!t)
		return NULL;
	c->t = t;
	t = &c->t[c->n];
	snprintf(t->table, sizeof(t->table), "%s", table);
	t->per_day = calloc((size_t)c->days, sizeof(*t->per_day));
	if (!t->per_day)
		return NULL;
	c->n++;
	return t;
}

/* The day column's index in a CSV header, or -1. */
static long column_of(const struct files_fields *h, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < h->n; i++)
		if (h->len[i] == n && !memcmp(h->text.p + h->off[i], name, n))
			return (long)i;
	return -1;
}

/* Count the rows of one open file of `table`. */
static int count_file(struct counting *c, const struct files_entry *e, int fd, const char *table)
{
	struct files_source *src = c->src;
	struct files_rows *w = &src->rows;
	const char *col = src->s.day_column, *name;
	enum files_encoding enc = src->s.encoding;
	uint64_t undated = 0;
	struct tally *t;
	long idx = -1, day;
	int r;

	if (enc == FILES_ENC_AUTO && files_detect(fd, e->size, &enc))
		return FILES_ROW_EIO;
	r = files_rows_open(w, &src->s, &src->text[enc], files_format_of(&src->s, e->key.name),
			    fd, e->size, 0, 0);
	if (r)
		return r;
	name = files_name_utf8(src, e->key.name, NULL);
	if (w->delim >= 0 && w->has_header &&
	    (w->header_err[0] || (idx = column_of(&w->header, col)) < 0)) {
		files_log(c->host, SPGW_LOG_WARNING, "%s is not counted: %s%s%s", name,
			  w->header_err[0] ? "its header is unusable: " : "it has no day_column \"",
			  w->header_err[0] ? w->header_err : col, w->header_err[0] ? "" : "\"");
		return 0;
	}
	t = tally_for(c, table);
	if (!t)
		return FILES_ROW_NOMEM;
	while ((r = files_rows_next(w)) > 0) {
		const char *v = NULL;
		size_t vlen = 0;

		if (r == FILES_ROW_OK && idx >= 0) {
			v = w->fields.text.p + w->fields.off[idx];
			vlen = w->fields.len[idx];
		} else if (r == FILES_ROW_OK) {
			v = w->json->member; /* as written: a date needs no escapes */
			vlen = w->json->member_len;
		}
		if (!v || !files_parse_day(v, vlen, &day))
			undated++;
		else if (day >= c->from && day < c->from + c->days)
			t->per_day[day - c->from]++;
	}
	if (undated)
		files_log(c->host, SPGW_LOG_WARNING,
			  "%s: %llu rows have no readable date in \"%s\" "
			  "(YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD) and are not counted",
			  name, (unsigned long long)undated, col);
	return r;
}

static int count_all(struct counting *c, int dirfd, const char *table)
{
	struct files_source *src = c->src;
	struct files_list list = { 0 };
	struct timespec now;
	char name[80], why[256];
	size_t i;
	int rc = files_scan(dirfd, &src->s, NULL, 1, &list);

	clock_gettime(CLOCK_REALTIME, &now);
	if (rc) {
		rc = files_fail(c->err, rc == EACCES ? SPGW_PLUGIN_ERROR : SPGW_PLUGIN_RETRY,
				"listing %s: %s", src->s.dir, strerror(rc));
		goto out;
	}
	for (i = 0; i < list.n && !rc; i++) {
		const struct files_entry *e = &list.v[i];
		const char *uname = files_name_utf8(src, e->key.name, NULL);
		int fd, r;

		if (files_table(&src->s, e->key.name, name, sizeof(name))) {
			files_log(c->host, SPGW_LOG_WARNING, "%s is not counted: %s", uname, name);
			continue;
		}
		if (table && strcmp(table, name))
			continue;
		r = files_ready(dirfd, &src->s, e, &now, why, sizeof(why));
		if (r <= 0) {
			files_log(c->host, SPGW_LOG_INFO, "%s is not counted yet: %s", uname,
				  r < 0 ? strerror(errno) : why);
			continue;
		}
		fd = openat(dirfd, e->key.name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = files_fail(c->err, errno == EACCES ? SPGW_PLUGIN_ERROR :
					SPGW_PLUGIN_RETRY, "cannot open %s/%s: %s", src->s.dir,
					uname, strerror(errno));
			break;
		}
		r = count_file(c, e, fd, name);
		if (r < 0)
			rc = files_fail(c->err, SPGW_PLUGIN_RETRY, "reading %s/%s: %s", src->s.dir,
					files_name_utf8(src, e->key.name, NULL),
					r == FILES_ROW_NOMEM ? "out of memory" : strerror(errno));
		close(fd);
	}
out:
	files_list_free(&list);
	return rc;
}

int files_count(void *ctx, const char *table, const char *from, const char *to,
		const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct counting c = { .src = ctx, .host = host, .err = err };
	long first, last;
	char day[48];
	size_t i;
	long d;
	int rc, dirfd = -1;

	if (!c.src->s.day_column)
		return files_fail(err, SPGW_PLUGIN_ERROR, "this source cannot be counted: add "
				  "\"day_column\" (the column holding each row's business date) to "
				  "its settings");
	if (!from || !to || strlen(from) != 10 || strlen(to) != 10 ||
	    !files_parse_day(from, 10, &first) || !files_parse_day(to, 10, &last) ||
	    from[4] != '-' ||
	    to[4] != '-' || last < first || last - first >= FILES_MAX_COUNT_DAYS)
		return files_fail(err, SPGW_PLUGIN_ERROR,
				  "count: from \"%.10s\" to \"%.10s\" is not"
				  " a range of YYYY-MM-DD days of at most %d days",
				  from ? from : "", to ? to : "", FILES_MAX_COUNT_DAYS);
	c.from = first;
	c.days = last - first + 1;
	rc = files_open_dir(c.src, &dirfd, err);
	if (rc)
		goto out;
	rc = count_all(&c, dirfd, table);
	for (i = 0; i < c.n && !rc; i++) {
		for (d = 0; d < c.days && !rc; d++) {
			if (!c.t[i].per_day[d])
				continue;
			civil_from_days(c.from + d, day, sizeof(day));
			if (host->count(host->ctx, c.t[i].table, day, c.t[i].per_day[d]) !=
			    SPGW_PLUGIN_OK)
				rc = files_fail(err, SPGW_PLUGIN_RETRY,
						"the gateway did not take the "
						"count of %s on %s",
						c.t[i].table, day);
		}
	}
out:
	for (i = 0; i < c.n; i++)
		free(c.t[i].per_day);
	free(c.t);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
