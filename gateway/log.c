/*
 * Log lines on stderr, plain or JSON, or entries for journald (see log.h).
 *
 * One mutex covers everything below: the repetition table, the static line buffers and the
 * write. Lines are built whole in memory and written with one write(2), so a line is never
 * torn, not even against another process appending to the same file. Nothing here allocates:
 * a log line must still get out when memory has run out or the failure seam (mem.c) is on.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

#define MSG_MAX 4096   /* a message is cut to this many bytes (less the NUL) */
#define FIELD_MAX 256  /* a context value, or the banner, is cut to this many bytes */
#define NFIELDS 5
#define SLOTS 32       /* recent distinct lines remembered for the repetition limit */
/* the longest rendered line: every byte of the message and the values escaped as \uXXXX */
#define LINE_MAX_BYTES (6 * (MSG_MAX + 64 + (NFIELDS + 1) * FIELD_MAX) + 512)

enum style {
	STYLE_SOURCE, /* spgw_log: "[source] message", the format since the first release */
	STYLE_CTX,    /* spgw_log_at: "message source=... region=..." */
};

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const char *const field_names[NFIELDS] = { "source", "region", "table", "batch", "key" };
static const char *const journal_names[NFIELDS] = { "SPGW_SOURCE", "SPGW_REGION", "SPGW_TABLE",
						    "SPGW_BATCH", "SPGW_KEY" };
/* syslog priorities for error, warning, info, debug (LOG_ERR, LOG_WARNING, LOG_INFO, ...) */
static const char *const journal_priority[] = { "PRIORITY=3", "PRIORITY=4", "PRIORITY=6",
						"PRIORITY=7" };

/* One line before rendering: what identifies it for the repetition limit. */
struct line {
	int level;
	int style;
	unsigned set; /* bit i: field[i] was given */
	char field[NFIELDS][FIELD_MAX];
	char msg[MSG_MAX];
};

struct slot {
	int used;
	uint64_t hash;
	long long start;        /* ms, monotonic: the window opened with the first copy */
	long long since;        /* ms: the window's start or the last summary, what it counts */
	long long last;         /* ms: the last copy, to pick the slot to give up */
	unsigned long long count;      /* copies in this window */
	unsigned long long suppressed; /* copies not shown since `since` */
	struct line line;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* read without the lock so that a debug line below the level costs no lock */
static atomic_int max_level = SPGW_LOG_INFO;
static enum spgw_log_format fmt_kind = SPGW_LOG_PLAIN;
static const char *banner; /* borrowed: a string literal or the caller's for the run */
static unsigned burst = 5;
static long long window_ms = 60 * 1000;
static int (*journal_send)(const struct iovec *iov, int n) = sd_journal_sendv;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Static so that a thread with a small stack can log; guarded by `lock`. */
static struct slot slots[SLOTS];
static struct line cur;
static char out_buf[LINE_MAX_BYTES];
static char msg_buf[MSG_MAX + 128];

/* --- output buffer --- */

struct out {
	char *p;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* keep room for the newline and the NUL; the bound makes a cut impossible in practice */
	if (n > o->cap - 2 - o->len)
		n = o->cap - 2 - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Plain text: control characters would split the line or move the terminal's cursor. */
static void put_plain(struct out *o, const char *s, int quoted)
{
	char e[8];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			puts_(o, "\\n");
		else if (c == '\r')
			puts_(o, "\\r");
		else if (c == '\t')
			puts_(o, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e), "\\x%02X", c);
			puts_(o, e);
		} else if (quoted && (c == '"' || c == '\\')) {
			put(o, "\\", 1);
			put(o, s, 1);
		} else
			put(o, s, 1);
	}
}

/* A value is quoted when a reader splitting at spaces or '=' would get it wrong. */
static void put_value(struct out *o, const char *v)
{
	int q = !*v || strpbrk(v, " \"=") != NULL;

	if (q)
		put(o, "\"", 1);
	put_plain(o, v, q);
	if (q)
		put(o, "\"", 1);
}

/* One UTF-8 sequence at s: its code point and length, or -1 when it is not valid UTF-8. */
static long utf8_next(const unsigned char *s, int *len)
{
	long cp;
	int n, i;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*len = n;
	return cp;
}

/*
 * A JSON string, ASCII only, escaped as jansson's JSON_ENSURE_ASCII does (so the lines of
 * earlier releases are unchanged); a byte that is not UTF-8 becomes U+FFFD instead of the
 * whole line being lost.
 */
static void put_json(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char e[32];
	long cp;
	int n;

	put(o, "\"", 1);
	while (*s) {
		cp = utf8_next(s, &n);
		if (cp < 0) {
			cp = 0xFFFD;
			n = 1;
		}
		s += n;
		if (cp == '"')
			puts_(o, "\\\"");
		else if (cp == '\\')
			puts_(o, "\\\\");
		else if (cp == '\n')
			puts_(o, "\\n");
		else if (cp == '\r')
			puts_(o, "\\r");
		else if (cp == '\t')
			puts_(o, "\\t");
		else if (cp == '\b')
			puts_(o, "\\b");
		else if (cp == '\f')
			puts_(o, "\\f");
		else if (cp < 0x20 || (cp > 0x7F && cp < 0x10000)) {
			snprintf(e, sizeof(e), "\\u%04lX", cp);
			puts_(o, e);
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			snprintf(e, sizeof(e), "\\u%04lX\\u%04lX", 0xD800 + (cp >> 10),
				 0xDC00 + (cp & 0x3FF));
			puts_(o, e);
		} else {
			char c = (char)cp;

			put(o, &c, 1);
		}
	}
	put(o, "\"", 1);
}

/* --- rendering --- */

/* "1,532": counts an operator reads at a glance */
static void thousands(unsigned long long v, char out[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", v), i, o = 0;

	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* The message as shown: with the repetition suffix when `repeated` is not 0. */
static const char *message(const struct line *l, unsigned long long repeated, long long secs)
{
	char n[32];

	if (!repeated)
		return l->msg;
	thousands(repeated, n);
	snprintf(msg_buf, sizeof(msg_buf), "%s (repeated %s time%s in %lld s)", l->msg, n,
		 repeated == 1 ? "" : "s", secs);
	return msg_buf;
}

/* The plain line after its time and level: also the journal's MESSAGE. */
static void render_text(struct out *o, const struct line *l, const char *msg)
{
	int i;

	if (l->style == STYLE_SOURCE) {
		if (l->set & 1) {
			put(o, "[", 1);
			put_plain(o, l->field[0], 0);
			put(o, "] ", 2);
		}
		put_plain(o, msg, 0);
		return;
	}
	put_plain(o, msg, 0);
	for (i = 0; i < NFIELDS; i++) {
		if (!(l->set & (1u << i)))
			continue;
		put(o, " ", 1);
		puts_(o, field_names[i]);
		put(o, "=", 1);
		put_value(o, l->field[i]);
	}
}

static void timestamp(char ts[32])
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void render_plain(struct out *o, const struct line *l, const char *msg)
{
	char ts[32];

	timestamp(ts);
	if (banner) {
		put(o, "[", 1);
		put_plain(o, banner, 0);
		put(o, "] ", 2);
	}
	puts_(o, ts);
	put(o, " ", 1);
	puts_(o, level_names[l->level]);
	put(o, " ", 1);
	render_text(o, l, msg);
}

/* "source" and "warning" are null when absent, as they always were; the rest only when set. */
static void render_json(struct out *o, const struct line *l, const char *msg,
			unsigned long long repeated)
{
	char ts[32], n[48];
	int i;

	timestamp(ts);
	puts_(o, "{\"time\":");
	put_json(o, ts);
	puts_(o, ",\"level\":");
	put_json(o, level_names[l->level]);
	for (i = 0; i < NFIELDS; i++) {
		if (!(l->set & (1u << i))) {
			if (i == 0)
				puts_(o, ",\"source\":null");
			continue;
		}
		put(o, ",", 1);
		put_json(o, field_names[i]);
		put(o, ":", 1);
		put_json(o, l->field[i]);
	}
	puts_(o, ",\"message\":");
	put_json(o, msg);
	puts_(o, ",\"warning\":");
	if (banner)
		put_json(o, banner);
	else
		puts_(o, "null");
	if (repeated) {
		snprintf(n, sizeof(n), ",\"repeated\":%llu", repeated);
		puts_(o, n);
	}
	put(o, "}", 1);
}

static void write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		p += w;
		n -= (size_t)w;
	}
}

static void write_stderr(const struct line *l, const char *msg, unsigned long long repeated,
			 int json)
{
	struct out o = { out_buf, 0, sizeof(out_buf) };

	out_buf[0] = '\0';
	if (json)
		render_json(&o, l, msg, repeated);
	else
		render_plain(&o, l, msg);
	o.p[o.len++] = '\n';
	write_all(o.p, o.len);
}

/*
 * journald's native protocol. MESSAGE is the plain line without time and level (journald has
 * both), so `journalctl -u spgw` reads like the plain log, and the fields allow
 * `journalctl SPGW_SOURCE=changchun`. When journald cannot be reached the line goes to stderr.
 */
static void write_journal(const struct line *l, const char *msg, unsigned long long repeated)
{
	static char fields[NFIELDS][FIELD_MAX + 16], warning[FIELD_MAX + 16], rep[48];
	struct out o = { out_buf, 0, sizeof(out_buf) };
	struct iovec iov[4 + NFIELDS + 2];
	int n = 0, i;

	puts_(&o, "MESSAGE=");
	if (banner) {
		put(&o, "[", 1);
		put_plain(&o, banner, 0);
		put(&o, "] ", 2);
	}
	render_text(&o, l, msg);
	iov[n++] = (struct iovec){ out_buf, o.len };
	iov[n].iov_base = (void *)journal_priority[l->level];
	iov[n++].iov_len = strlen(journal_priority[l->level]);
	iov[n++] = (struct iovec){ (void *)"SYSLOG_IDENTIFIER=spgw", 22 };
	for (i = 0; i < NFIELDS; i++) {
		if (!(l->set & (1u << i)))
			continue;
		iov[n].iov_base = fields[i];
		iov[n++].iov_len = (size_t)snprintf(fields[i], sizeof(fields[i]), "%s=%s",
						    journal_names[i], l->field[i]);
	}
	if (banner) {
		iov[n].iov_base = warning;
		iov[n++].iov_len = (size_t)snprintf(warning, sizeof(warning), "SPGW_WARNING=%.*s",
						    FIELD_MAX - 1, banner);
	}
	if (repeated) {
		iov[n].iov_base = rep;
		iov[n++].iov_len = (size_t)snprintf(rep, sizeof(rep), "SPGW_REPEATED=%llu",
						    repeated);
	}
	if (journal_send(iov, n) < 0)
		write_stderr(l, msg, repeated, 0);
}

static void emit(const struct line *l, unsigned long long repeated, long long secs)
{
	const char *msg = message(l, repeated, secs);

	if (fmt_kind == SPGW_LOG_JOURNAL)
		write_journal(l, msg, repeated);
	else
		write_stderr(l, msg, repeated, fmt_kind == SPGW_LOG_JSON);
}

/* --- repetition --- */

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t line_hash(const struct line *l)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	h = fnv(h, &l->level, sizeof(l->level));
	h = fnv(h, &l->style, sizeof(l->style));
	h = fnv(h, &l->set, sizeof(l->set));
	for (i = 0; i < NFIELDS; i++)
		if (l->set & (1u << i))
			h = fnv(h, l->field[i], strlen(l->field[i]) + 1);
	return fnv(h, l->msg, strlen(l->msg));
}

static int line_eq(const struct line *a, const struct line *b)
{
	int i;

	if (a->level != b->level || a->style != b->style || a->set != b->set ||
	    strcmp(a->msg, b->msg))
		return 0;
	for (i = 0; i < NFIELDS; i++)
		if ((a->set & (1u << i)) && strcmp(a->field[i], b->field[i]))
			return 0;
	return 1;
}

/* The summary of what `s` held back since its last one; the window goes on. */
static void summarize(struct slot *s, long long now)
{
	long long end = s->start + window_ms, secs;

	if (!s->suppressed)
		return;
	if (now > end)
		now = end;
	secs = (now - s->since + 999) / 1000;
	emit(&s->line, s->suppressed, secs < 1 ? 1 : secs);
	s->suppressed = 0;
	s->since = now;
}

/* Windows that have closed: their summaries, and the slot is free again. */
static void expire(long long now)
{
	int i;

	for (i = 0; i < SLOTS; i++) {
		if (!slots[i].used || now - slots[i].start < window_ms)
			continue;
		summarize(&slots[i], now);
		slots[i].used = 0;
	}
}

/* Show `cur`, or count it when its window has shown `burst` copies already. */
static void submit(void)
{
	long long now;
	uint64_t h;
	struct slot *s = NULL, *victim = NULL;
	int i;

	if (!burst) {
		emit(&cur, 0, 0);
		return;
	}
	now = now_ms();
	expire(now);
	h = line_hash(&cur);
	for (i = 0; i < SLOTS; i++) {
		if (slots[i].used && slots[i].hash == h && line_eq(&slots[i].line, &cur)) {
			s = &slots[i];
			break;
		}
		if (!slots[i].used) {
			if (!victim || victim->used)
				victim = &slots[i];
		} else if (!victim || (victim->used && slots[i].last < victim->last))
			victim = &slots[i];
	}
	if (s) {
		s->last = now;
		if (++s->count <= burst)
			emit(&cur, 0, 0);
		else
			s->suppressed++;
		return;
	}
	/* a different line takes the slot of the one seen longest ago: its count first */
	if (victim->used)
		summarize(victim, now);
	victim->used = 1;
	victim->hash = h;
	victim->start = victim->since = victim->last = now;
	victim->count = 1;
	victim->suppressed = 0;
	victim->line = cur;
	emit(&cur, 0, 0);
}

static void flush_locked(void)
{
	long long now = now_ms();
	int i;

	expire(now);
	for (i = 0; i < SLOTS; i++)
		if (slots[i].used)
			summarize(&slots[i], now);
}

/* At exit(): the counts a short command held back. Never waits: a thread may hold the lock. */
static void flush_at_exit(void)
{
	if (pthread_mutex_trylock(&lock))
		return;
	flush_locked();
	pthread_mutex_unlock(&lock);
}

static void register_exit(void)
{
	atexit(flush_at_exit);
}

/* --- the interface --- */

void spgw_log_banner(const char *text)
{
	pthread_mutex_lock(&lock);
	banner = text;
	pthread_mutex_unlock(&lock);
}

void spgw_log_setup(enum spgw_log_level level, enum spgw_log_format format)
{
	pthread_once(&exit_once, register_exit);
	pthread_mutex_lock(&lock);
	atomic_store(&max_level, (int)level);
	fmt_kind = format;
	pthread_mutex_unlock(&lock);
}

/* systemd.exec(5): JOURNAL_STREAM is "<device>:<inode>" of the stream the journal reads. */
static int stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!env || !*env)
		return 0;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (errno || end == env || *end != ':')
		return 0;
	env = end + 1;
	ino = strtoull(env, &end, 10);
	if (errno || end == env || *end)
		return 0;
	if (fstat(STDERR_FILENO, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

enum spgw_log_format spgw_log_setup_auto(enum spgw_log_level level, enum spgw_log_format format)
{
	if (format == SPGW_LOG_PLAIN && stderr_is_journal())
		format = SPGW_LOG_JOURNAL;
	spgw_log_setup(level, format);
	return format;
}

int spgw_log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (s && !strcmp(s, level_names[i]))
			return i;
	return -1;
}

static void field_copy(char dst[FIELD_MAX], const char *src)
{
	size_t n = strlen(src);

	if (n < FIELD_MAX) {
		memcpy(dst, src, n + 1);
		return;
	}
	memcpy(dst, src, FIELD_MAX - 1);
	dst[FIELD_MAX - 1] = '\0';
	spgw_text_utf8_cut(dst); /* no half character at the cut */
}

static void vlog(enum spgw_log_level level, int style, const struct spgw_log_ctx *ctx,
		 const char *fmt, va_list ap)
{
	const char *v[NFIELDS] = { NULL };
	int i, n;

	if ((int)level < 0 || (int)level > atomic_load(&max_level))
		return;
	if (ctx) {
		v[0] = ctx->source;
		v[1] = ctx->region;
		v[2] = ctx->table;
		v[3] = ctx->batch;
		v[4] = ctx->key;
	}
	pthread_mutex_lock(&lock);
	cur.level = (int)level;
	cur.style = style;
	cur.set = 0;
	for (i = 0; i < NFIELDS; i++) {
		if (!v[i])
			continue;
		cur.set |= 1u << i;
		field_copy(cur.field[i], v[i]);
	}
	n = vsnprintf(cur.msg, sizeof(cur.msg), fmt, ap);
	if (n < 0)
		snprintf(cur.msg, sizeof(cur.msg), "(log format error in \"%s\")", fmt);
	else if ((size_t)n >= sizeof(cur.msg))
		spgw_text_utf8_cut(cur.msg);
	submit();
	pthread_mutex_unlock(&lock);
}

void spgw_log(enum spgw_log_level level, const char *source, const char *fmt, ...)
{
	struct spgw_log_ctx ctx = { .source = source };
	va_list ap;

	va_start(ap, fmt);
	vlog(level, STYLE_SOURCE, &ctx, fmt, ap);
	va_end(ap);
}

void spgw_log_at(enum spgw_log_level level, const struct spgw_log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, STYLE_CTX, ctx, fmt, ap);
	va_end(ap);
}

void spgw_log_vat(enum spgw_log_level level, const struct spgw_log_ctx *ctx, const char *fmt,
		  va_list ap)
{
	vlog(level, STYLE_CTX, ctx, fmt, ap);
}

void spgw_log_flush(void)
{
	pthread_mutex_lock(&lock);
	flush_locked();
	pthread_mutex_unlock(&lock);
}

void spgw_log_repeat_setup(unsigned n, unsigned window_seconds)
{
	pthread_mutex_lock(&lock);
	flush_locked();
	memset(slots, 0, sizeof(slots));
	burst = n;
	window_ms = (long long)window_seconds * 1000;
	pthread_mutex_unlock(&lock);
}

void spgw_log_journal_seam(int (*send)(const struct iovec *iov, int n))
{
	pthread_mutex_lock(&lock);
	journal_send = send ? send : sd_journal_sendv;
	pthread_mutex_unlock(&lock);
}
