/*
 * The dataset: DIR/<entity>.jsonl, one record per line exactly as the API returns it (jilin
 * spec §4). Everything is loaded at start and kept as the lines themselves, sorted by
 * (update_time, id), so a page is a binary search and a copy of up to 500 lines: a million
 * records page as fast as a hundred.
 *
 * A line may appear in several versions (the same id with a newer update_time: a record
 * corrected later); the system holds only the newest one, as of --as-of when given, which is
 * how one dataset can play the system at two moments (a first pull, then an incremental one).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccsim.h"

const char *const ccsim_entity_names[CCSIM_ENTITIES] = {
	"projects", "units", "cases", "steps", "documents", "procedures", "materials", "opinions",
};
enum { E_PROJECTS, E_UNITS, E_CASES, E_STEPS, E_DOCUMENTS, E_PROCEDURES, E_MATERIALS,
       E_OPINIONS };

int ccsim_entity_find(const char *name)
{
	int i;

	for (i = 0; i < CCSIM_ENTITIES; i++)
		if (strcmp(name, ccsim_entity_names[i]) == 0)
			return i;
	return -1;
}

uint64_t ccsim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- memory that lives as long as the dataset ---- */

struct ccsim_arena {
	void **blocks;
	size_t n, cap;
	char *cur;   /* bump allocation for small strings */
	size_t left;
};

static void *arena_keep(struct ccsim_arena *a, void *p)
{
	void **b;

	if (!p)
		return NULL;
	if (a->n == a->cap) {
		b = realloc(a->blocks, (a->cap ? a->cap * 2 : 64) * sizeof(*b));
		if (!b) {
			free(p);
			return NULL;
		}
		a->blocks = b;
		a->cap = a->cap ? a->cap * 2 : 64;
	}
	a->blocks[a->n++] = p;
	return p;
}

static char *arena_strndup(struct ccsim_arena *a, const char *s, size_t n)
{
	char *p;

	if (n + 1 > a->left) {
		size_t sz = n + 1 > 65536 ? n + 1 : 65536;

		a->cur = arena_keep(a, malloc(sz));
		if (!a->cur) {
			a->left = 0;
			return NULL;
		}
		a->left = sz;
	}
	p = a->cur;
	memcpy(p, s, n);
	p[n] = '\0';
	a->cur += n + 1;
	a->left -= n + 1;
	return p;
}

static void arena_free(struct ccsim_arena *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
	free(a);
}

/* ---- loading ---- */

/* What a record needs for its business day before all entities are loaded. */
struct pending {
	struct ccsim_rec r;
	size_t line_no;
	const char *join;  /* units: project_code+sub_code; materials: case_no; cases: id */
	const char *join2; /* steps: case_no (cases take the earliest step) */
};

struct loading {
	struct pending *v;
	size_t n, cap;
};

/* Which member holds the business day, for the entities that have one of their own. */
static const char *day_member(int e)
{
	switch (e) {
	case E_PROJECTS: return "apply_date";
	case E_STEPS: return "handle_time";
	case E_DOCUMENTS: return "issue_date";
	case E_PROCEDURES: return "start_date";
	case E_OPINIONS: return "reply_time";
	default: return NULL;
	}
}

/* Offset of update_time's value in a line, found as text because the line is served as is. */
static long ut_offset(const char *line, size_t len)
{
	static const char key[] = "\"update_time\"";
	const size_t kl = sizeof(key) - 1;
	const char *p, *end = line + len;

	for (p = line; p + kl <= end; p++) {
		if (*p != '"' || memcmp(p, key, kl) != 0)
			continue;
		p += kl;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == ':') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (end - p >= 21 && *p == '"' && p[20] == '"')
				return (long)(p + 1 - line);
		}
		p--;
	}
	return -1;
}

static int bad(const char *path, size_t line_no, const char *what, const char *detail)
{
	fprintf(stderr, "spgw-changchun-sim: %s:%zu: %s%s%s\n", path, line_no, what,
		detail ? ": " : "", detail ? detail : "");
	return -1;
}

/* The members a record is loaded by. */
enum { M_ID, M_UT, M_DELETED, M_CHARSET, M_DAY, M_PC, M_SUB, M_CASE, M_N };

struct fields {
	char id[128], ut[32], pc[128], sub[64], case_no[128], day[64];
	int deleted, gbk, has_case;
	int32_t daynum;
};

static void copy(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The common case: straight from the scanned spans. */
static void fields_fast(const struct ccsim_member *m, struct fields *f)
{
	if (m[M_ID].type == CCSIM_STRING)
		copy(f->id, sizeof(f->id), m[M_ID].v, m[M_ID].len);
	if (m[M_UT].type == CCSIM_STRING)
		copy(f->ut, sizeof(f->ut), m[M_UT].v, m[M_UT].len);
	if (m[M_PC].type == CCSIM_STRING)
		copy(f->pc, sizeof(f->pc), m[M_PC].v, m[M_PC].len);
	if (m[M_SUB].type == CCSIM_STRING)
		copy(f->sub, sizeof(f->sub), m[M_SUB].v, m[M_SUB].len);
	if (m[M_CASE].type == CCSIM_STRING) {
		copy(f->case_no, sizeof(f->case_no), m[M_CASE].v, m[M_CASE].len);
		f->has_case = 1;
	}
	if (m[M_DAY].type == CCSIM_STRING || m[M_DAY].type == CCSIM_NUMBER)
		f->daynum = ccsim_day_of_text(m[M_DAY].v, m[M_DAY].len);
	f->deleted = (m[M_DELETED].len == 1 && m[M_DELETED].v[0] == '1' &&
		      m[M_DELETED].type != CCSIM_OTHER) ||
		     (m[M_DELETED].type == CCSIM_LITERAL && m[M_DELETED].v[0] == 't');
}

static const char *text_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A line with escapes in the members we need, or a GBK record: read by jansson. */
static int fields_slow(const char *line, size_t len, const char *dm, struct fields *f,
		       char *why, size_t whylen)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je), *v;
	char num[32];

	if (!json_is_object(o)) {
		snprintf(why, whylen, "%s", je.text);
		json_decref(o);
		return -1;
	}
#define TAKE(field, key) \
	if (text_of(o, key)) \
		copy(f->field, sizeof(f->field), text_of(o, key), strlen(text_of(o, key)))
	TAKE(id, "id");
	TAKE(ut, "update_time");
	TAKE(pc, "project_code");
	TAKE(sub, "sub_code");
	TAKE(case_no, "case_no");
#undef TAKE
	f->has_case = text_of(o, "case_no") != NULL;
	v = json_object_get(o, "is_deleted");
	f->deleted = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1) ||
		     (json_is_string(v) && strcmp(json_string_value(v), "1") == 0);
	v = dm ? json_object_get(o, dm) : NULL;
	if (json_is_string(v)) {
		f->daynum = ccsim_day_of_text(json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		f->daynum = ccsim_day_of_text(num, strlen(num));
	}
	json_decref(o);
	return 0;
}

static char *join_key(struct ccsim_data *d, const struct fields *f)
{
	char key[256];

	snprintf(key, sizeof(key), "%s\x1f%s", f->pc, f->sub);
	return arena_strndup(d->arena, key, strlen(key));
}

/* One line of DIR/<entity>.jsonl into `ld`. */
static int load_line(struct ccsim_data *d, int e, const char *path, size_t line_no, char *line,
		     size_t len, const struct ccsim_load_opts *o, struct loading *ld)
{
	struct ccsim_member m[M_N] = {
		[M_ID] = { "id", NULL, 0, 0, 0 },
		[M_UT] = { "update_time", NULL, 0, 0, 0 },
		[M_DELETED] = { "is_deleted", NULL, 0, 0, 0 },
		[M_CHARSET] = { "_charset", NULL, 0, 0, 0 },
		[M_DAY] = { day_member(e) ? day_member(e) : "", NULL, 0, 0, 0 },
		[M_PC] = { "project_code", NULL, 0, 0, 0 },
		[M_SUB] = { "sub_code", NULL, 0, 0, 0 },
		[M_CASE] = { "case_no", NULL, 0, 0, 0 },
	};
	struct fields f;
	struct pending *p;
	const char *why = NULL;
	char text[200], *gbk = NULL;
	size_t gbk_len, i;
	int64_t ut;
	long off;

	if (len > CCSIM_MAX_LINE)
		return bad(path, line_no, "the record is longer than 1 MiB", NULL);
	if (ccsim_scan_object(line, len, m, M_N, &why))
		return bad(path, line_no, "not a JSON object in UTF-8", why);
	memset(&f, 0, sizeof(f));
	f.daynum = -1;
	f.gbk = m[M_CHARSET].type != 0;
	if (f.gbk && !(m[M_CHARSET].type == CCSIM_STRING && m[M_CHARSET].len == 3 &&
		       memcmp(m[M_CHARSET].v, "gbk", 3) == 0))
		return bad(path, line_no, "\"_charset\" may only be \"gbk\"", NULL);
	for (i = 0; i < M_N && !m[i].esc; i++)
		;
	if (i < M_N || f.gbk) {
		if (fields_slow(line, len, day_member(e), &f, text, sizeof(text)))
			return bad(path, line_no, "not a JSON object", text);
	} else {
		fields_fast(m, &f);
	}
	if (!f.id[0] || strlen(f.id) > 100 || strpbrk(f.id, "\"\\"))
		return bad(path, line_no,
			   "\"id\" must be a string of 1 to 100 characters without \" or \\", NULL);
	ut = ccsim_time_parse(f.ut, strlen(f.ut));
	if (ut < 0)
		return bad(path, line_no, "update_time must be \"YYYY-MM-DD HH:MM:SS\"", f.ut);
	if (ut > o->as_of)
		return 0; /* a version from after --as-of: the system does not hold it yet */
	if (ld->n == ld->cap) {
		struct pending *nv = realloc(ld->v, (ld->cap ? ld->cap * 2 : 1024) * sizeof(*nv));

		if (!nv)
			return bad(path, line_no, "out of memory", NULL);
		ld->v = nv;
		ld->cap = ld->cap ? ld->cap * 2 : 1024;
	}
	p = &ld->v[ld->n];
	memset(p, 0, sizeof(*p));
	p->line_no = line_no;
	p->r.ut = ut;
	p->r.id = arena_strndup(d->arena, f.id, strlen(f.id));
	p->r.deleted = (uint8_t)f.deleted;
	p->r.day = f.daynum;
	if (e == E_UNITS || e == E_PROJECTS)
		p->join = join_key(d, &f);
	else if (e == E_MATERIALS && f.has_case)
		p->join = arena_strndup(d->arena, f.case_no, strlen(f.case_no));
	else if (e == E_STEPS && f.has_case)
		p->join2 = arena_strndup(d->arena, f.case_no, strlen(f.case_no));
	if (!p->r.id || ((e == E_UNITS || e == E_PROJECTS) && !p->join))
		return bad(path, line_no, "out of memory", NULL);
	if (f.gbk) {
		if (ccsim_gbk_record(line, len, &gbk, &gbk_len, text, sizeof(text)))
			return bad(path, line_no, "cannot make the GBK form", text);
		if (!arena_keep(d->arena, gbk))
			return bad(path, line_no, "out of memory", NULL);
		p->r.line = gbk;
		p->r.len = (uint32_t)gbk_len;
		p->r.gbk = 1;
	} else {
		p->r.line = line;
		p->r.len = (uint32_t)len;
	}
	off = ut_offset(p->r.line, p->r.len);
	if (off < 0)
		return bad(path, line_no, "update_time is not written as \"update_time\":\"...\"",
			   NULL);
	p->r.ut_off = (uint32_t)off;
	ld->n++;
	return 0;
}

/* Read a whole file; its buffer is kept in the arena (the lines point into it). */
static int read_file(struct ccsim_data *d, const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*buf = arena_keep(d->arena, malloc((size_t)st.st_size + 1));
	if (!*buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

static int by_id_then_time(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c = strcmp(x->r.id, y->r.id);

	if (c)
		return c;
	if (x->r.ut != y->r.ut)
		return x->r.ut < y->r.ut ? -1 : 1;
	return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

static int by_time_then_id(const void *a, const void *b)
{
	const struct ccsim_rec *x = a, *y = b;

	if (x->ut != y->ut)
		return x->ut < y->ut ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A string -> day table for the joins that give units, cases and materials their day. */
struct daymap {
	const char *key;
	int32_t day;
};

static int daymap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct daymap *)a)->key, ((const struct daymap *)b)->key);
}

static int32_t daymap_get(const struct daymap *m, size_t n, const char *key)
{
	struct daymap k = { key, 0 }, *f;

	if (!key || !n)
		return -1;
	f = bsearch(&k, m, n, sizeof(*m), daymap_cmp);
	return f ? f->day : -1;
}

/* Sort, keep the earliest day per key. Returns the new length. */
static size_t daymap_min(struct daymap *m, size_t n)
{
	size_t i, k = 0;

	if (n)
		qsort(m, n, sizeof(*m), daymap_cmp);
	for (i = 0; i < n; i++) {
		if (k && strcmp(m[k - 1].key, m[i].key) == 0) {
			if (m[i].day >= 0 && (m[k - 1].day < 0 || m[i].day < m[k - 1].day))
				m[k - 1].day = m[i].day;
			continue;
		}
		m[k++] = m[i];
	}
	return k;
}

/*
 * Business days of the entities without a date of their own, as the gateway gives them
 * (shared/spgl/README.md): units take their project's SBSJ, cases the earliest handling time
 * of their live steps, materials their case's day.
 */
static int join_days(struct loading ld[CCSIM_ENTITIES])
{
	struct daymap *proj = NULL, *step = NULL, *cases = NULL;
	size_t np = 0, ns = 0, nc = 0, i;
	int rc = -1;

	proj = malloc((ld[E_PROJECTS].n + 1) * sizeof(*proj));
	step = malloc((ld[E_STEPS].n + 1) * sizeof(*step));
	cases = malloc((ld[E_CASES].n + 1) * sizeof(*cases));
	if (!proj || !step || !cases)
		goto out;
	for (i = 0; i < ld[E_PROJECTS].n; i++)
		if (!ld[E_PROJECTS].v[i].r.deleted)
			proj[np++] = (struct daymap){ ld[E_PROJECTS].v[i].join,
						      ld[E_PROJECTS].v[i].r.day };
	np = daymap_min(proj, np);
	for (i = 0; i < ld[E_STEPS].n; i++)
		if (!ld[E_STEPS].v[i].r.deleted && ld[E_STEPS].v[i].join2)
			step[ns++] = (struct daymap){ ld[E_STEPS].v[i].join2,
						      ld[E_STEPS].v[i].r.day };
	ns = daymap_min(step, ns);
	for (i = 0; i < ld[E_UNITS].n; i++)
		ld[E_UNITS].v[i].r.day = daymap_get(proj, np, ld[E_UNITS].v[i].join);
	for (i = 0; i < ld[E_CASES].n; i++) {
		ld[E_CASES].v[i].r.day = daymap_get(step, ns, ld[E_CASES].v[i].r.id);
		cases[nc++] = (struct daymap){ ld[E_CASES].v[i].r.id, ld[E_CASES].v[i].r.day };
	}
	nc = daymap_min(cases, nc);
	for (i = 0; i < ld[E_MATERIALS].n; i++)
		ld[E_MATERIALS].v[i].r.day = daymap_get(cases, nc, ld[E_MATERIALS].v[i].join);
	rc = 0;
out:
	free(proj);
	free(step);
	free(cases);
	return rc;
}

/* Keep the newest version of each id, then order by (update_time, id). */
static int finish_entity(struct ccsim_entity *en, struct loading *ld)
{
	size_t i, k = 0;

	if (ld->n)
		qsort(ld->v, ld->n, sizeof(*ld->v), by_id_then_time);
	for (i = 0; i < ld->n; i++) {
		if (k && strcmp(ld->v[k - 1].r.id, ld->v[i].r.id) == 0)
			ld->v[k - 1] = ld->v[i]; /* a newer version replaces the older one */
		else
			ld->v[k++] = ld->v[i];
	}
	ld->n = k;
	en->v = malloc((k ? k : 1) * sizeof(*en->v));
	if (!en->v)
		return -1;
	for (i = 0; i < k; i++)
		en->v[i] = ld->v[i].r;
	en->n = k;
	qsort(en->v, en->n, sizeof(*en->v), by_time_then_id);
	return 0;
}

int ccsim_data_load(struct ccsim_data *d, const struct ccsim_load_opts *o)
{
	struct loading ld[CCSIM_ENTITIES];
	char path[4096], *buf, *line, *nl;
	size_t len, line_no, i;
	int e, rc = -1;

	memset(ld, 0, sizeof(ld));
	memset(d, 0, sizeof(*d));
	pthread_rwlock_init(&d->lock, NULL);
	d->arena = calloc(1, sizeof(*d->arena));
	if (!d->arena)
		return -1;
	for (e = 0; e < CCSIM_ENTITIES; e++) {
		d->e[e].name = ccsim_entity_names[e];
		snprintf(path, sizeof(path), "%s/%s.jsonl", o->dir, ccsim_entity_names[e]);
		if (read_file(d, path, &buf, &len)) {
			fprintf(stderr, "spgw-changchun-sim: %s: %s\n", path, strerror(errno));
			goto out;
		}
		for (line = buf, line_no = 1; line && line < buf + len; line_no++) {
			nl = memchr(line, '\n', (size_t)(buf + len - line));
			i = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);
			if (nl)
				*nl = '\0';
			if (i && line[i - 1] == '\r')
				line[--i] = '\0';
			if (i && strspn(line, " \t") < i &&
			    load_line(d, e, path, line_no, line, i, o, &ld[e]))
				goto out;
			line = nl ? nl + 1 : NULL;
		}
	}
	if (join_days(ld)) {
		fprintf(stderr, "spgw-changchun-sim: out of memory joining business days\n");
		goto out;
	}
	for (e = 0; e < CCSIM_ENTITIES; e++) {
		if (finish_entity(&d->e[e], &ld[e])) {
			fprintf(stderr, "spgw-changchun-sim: out of memory sorting %s\n",
				ccsim_entity_names[e]);
			goto out;
		}
		if (d->e[e].n && d->e[e].v[d->e[e].n - 1].ut > d->max_ut)
			d->max_ut = d->e[e].v[d->e[e].n - 1].ut;
		if (!o->quiet)
			fprintf(stderr, "spgw-changchun-sim: %s: %zu records\n",
				ccsim_entity_names[e], d->e[e].n);
	}
	rc = 0;
out:
	for (e = 0; e < CCSIM_ENTITIES; e++)
		free(ld[e].v);
	return rc;
}

void ccsim_data_free(struct ccsim_data *d)
{
	int e;

	for (e = 0; e < CCSIM_ENTITIES; e++)
		free(d->e[e].v);
	arena_free(d->arena);
	pthread_rwlock_destroy(&d->lock);
	memset(d, 0, sizeof(*d));
}

size_t ccsim_data_after(const struct ccsim_entity *e, int64_t ut, const char *id)
{
	size_t lo = 0, hi = e->n, mid;
	const struct ccsim_rec *r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = &e->v[mid];
		if (r->ut < ut || (r->ut == ut && strcmp(r->id, id) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int rec_by_id(const void *a, const void *b)
{
	return strcmp(((const struct ccsim_rec *)a)->id, ((const struct ccsim_rec *)b)->id);
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

void ccsim_data_mutate(struct ccsim_data *d, struct ccsim_entity *e, size_t n, int64_t now,
		       uint64_t *rnd, int quiet)
{
	struct ccsim_rec *moved = NULL;
	size_t *pick = NULL, i, j, k, w;
	char when[20];
	int64_t t;

	if (n > e->n)
		n = e->n;
	if (!n)
		return;
	moved = malloc(n * sizeof(*moved));
	pick = malloc(n * sizeof(*pick));
	if (!moved || !pick)
		goto out;
	/* n distinct positions (n is small next to the entity: redraw the rare repeat) */
	for (i = 0; i < n; i++) {
		do {
			pick[i] = (size_t)(ccsim_rand(rnd) % e->n);
			for (j = 0; j < i && pick[j] != pick[i]; j++)
				;
		} while (j < i);
	}
	qsort(pick, n, sizeof(*pick), size_cmp);
	/* one pass: the others close ranks, the picked ones go to the end */
	for (i = 0, j = 0, w = 0; i < e->n; i++) {
		if (j < n && pick[j] == i)
			moved[j++] = e->v[i];
		else
			e->v[w++] = e->v[i];
	}
	k = w;
	memcpy(&e->v[k], moved, n * sizeof(*moved));
	/* they all get one new update_time, after every other record, and keep
	 * (update_time, id) order among themselves */
	t = now;
	if (k && e->v[k - 1].ut >= t)
		t = e->v[k - 1].ut + 1;
	if (d->max_ut >= t)
		t = d->max_ut + 1;
	qsort(&e->v[k], n, sizeof(*e->v), rec_by_id);
	ccsim_time_format(t, when);
	for (i = k; i < e->n; i++) {
		e->v[i].ut = t;
		memcpy(e->v[i].line + e->v[i].ut_off, when, 19);
		if (!quiet)
			fprintf(stderr, "spgw-changchun-sim: mutate %s %s update_time %s\n",
				e->name, e->v[i].id, when);
	}
	d->max_ut = t;
out:
	free(pick);
	free(moved);
}
