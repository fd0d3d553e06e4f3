/*
 * Unit tests for gateway/log.c: the exact plain, JSON and journal lines, the context fields,
 * the repetition limit and its summaries, and whole lines from several threads at once.
 * stderr is redirected (dup2) to a file that each test reads back.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

/* --- stderr into a file --- */

static char cap_path[64];
static int saved_stderr = -1;
static off_t cap_off;

static void cap_start(void)
{
	int fd;

	snprintf(cap_path, sizeof(cap_path), "/tmp/spgw-test-log-XXXXXX");
	fd = mkstemp(cap_path);
	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	cap_off = 0;
	/* the state a fresh process has, also when Check does not fork (CK_FORK=no) */
	spgw_log_journal_seam(NULL);
	spgw_log_banner(NULL);
	spgw_log_setup(SPGW_LOG_INFO, SPGW_LOG_PLAIN);
	spgw_log_repeat_setup(5, 60);
}

static void cap_stop(void)
{
	spgw_log_repeat_setup(5, 60); /* pending summaries go to the file, not the terminal */
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	unlink(cap_path);
}

/* What was written since the last call (malloc'd), each time stamp replaced by "T". */
static char *cap_take(void)
{
	struct stat st;
	char *raw, *out;
	size_t i, o = 0, n;
	int fd = open(cap_path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	n = (size_t)(st.st_size - cap_off);
	raw = malloc(n + 1);
	out = malloc(n + 1);
	ck_assert(raw && out);
	ck_assert_int_eq(pread(fd, raw, n, cap_off), (ssize_t)n);
	close(fd);
	raw[n] = '\0';
	cap_off = st.st_size;
	for (i = 0; i < n;) {
		/* 2024-05-01T08:00:00Z */
		static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
		size_t k;

		for (k = 0; shape[k] && i + k < n; k++)
			if (shape[k] == 'd' ? raw[i + k] < '0' || raw[i + k] > '9'
					    : raw[i + k] != shape[k])
				break;
		if (!shape[k]) {
			out[o++] = 'T';
			i += k;
		} else
			out[o++] = raw[i++];
	}
	out[o] = '\0';
	free(raw);
	return out;
}

#define ck_took(want)                                                                          \
	do {                                                                                   \
		char *got_ = cap_take();                                                       \
		ck_assert_msg(!strcmp(got_, want), "\n got: [%s]\nwant: [%s]", got_, want);    \
		free(got_);                                                                    \
	} while (0)

/* --- plain --- */

START_TEST(plain_source_lines)
{
	spgw_log(SPGW_LOG_INFO, "changchun", "pulled %d records", 3);
	spgw_log(SPGW_LOG_WARNING, NULL, "no source");
	spgw_log(SPGW_LOG_DEBUG, "changchun", "below the level: not shown");
	spgw_log(SPGW_LOG_ERROR, "a b", "two\nlines\tand \x01 bell");
	ck_took("T info [changchun] pulled 3 records\n"
		"T warning no source\n"
		"T error [a b] two\\nlines\\tand \\x01 bell\n");
	spgw_log_setup(SPGW_LOG_DEBUG, SPGW_LOG_PLAIN);
	spgw_log(SPGW_LOG_DEBUG, NULL, "now shown");
	spgw_log_setup(SPGW_LOG_ERROR, SPGW_LOG_PLAIN);
	spgw_log(SPGW_LOG_WARNING, NULL, "hidden");
	spgw_log((enum spgw_log_level)-1, NULL, "no such level");
	spgw_log((enum spgw_log_level)7, NULL, "no such level");
	ck_took("T debug now shown\n");
}
END_TEST

START_TEST(plain_context_fields)
{
	struct spgw_log_ctx all = { "changchun", "220100", "SPGL_XMJBXXB", "b-0001", "K1" };
	struct spgw_log_ctx some = { .table = "SPGL_XMJBXXB", .key = "项目 1" };
	struct spgw_log_ctx odd = { .source = "", .batch = "a=b", .key = "say \"x\\y\"\n" };

	spgw_log_at(SPGW_LOG_INFO, &all, "delivered %d", 20);
	spgw_log_at(SPGW_LOG_WARNING, &some, "refused: 项目代码 missing");
	spgw_log_at(SPGW_LOG_ERROR, &odd, "odd values");
	spgw_log_at(SPGW_LOG_INFO, NULL, "no context");
	ck_took("T info delivered 20 source=changchun region=220100 table=SPGL_XMJBXXB "
		"batch=b-0001 key=K1\n"
		"T warning refused: 项目代码 missing table=SPGL_XMJBXXB key=\"项目 1\"\n"
		"T error odd values source=\"\" batch=\"a=b\" key=\"say \\\"x\\\\y\\\"\\n\"\n"
		"T info no context\n");
}
END_TEST

START_TEST(banner_on_every_line)
{
	struct spgw_log_ctx c = { .region = "220100" };

	spgw_log_banner("INSECURE: TLS verification is off");
	spgw_log(SPGW_LOG_INFO, "s", "one");
	spgw_log_at(SPGW_LOG_INFO, &c, "two");
	spgw_log_banner(NULL);
	spgw_log(SPGW_LOG_INFO, NULL, "three");
	ck_took("[INSECURE: TLS verification is off] T info [s] one\n"
		"[INSECURE: TLS verification is off] T info two region=220100\n"
		"T info three\n");
}
END_TEST

/* A message is cut at 4095 bytes, never inside a character. */
START_TEST(long_message_cut_whole)
{
	char *big = malloc(6001), *got;
	size_t i;

	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 2000; i++)
		memcpy(big + 3 * i, "长", 3);
	big[6000] = '\0';
	spgw_log(SPGW_LOG_INFO, NULL, "%s", big);
	got = cap_take();
	/* "T info " + 1365 whole characters (4095 bytes) + "\n" */
	ck_assert_uint_eq(strlen(got), 7 + 4095 + 1);
	ck_assert(!memcmp(got + 7, big, 4095));
	free(got);
	spgw_log(SPGW_LOG_INFO, NULL, "x%s", big); /* the cut falls after 长's first two bytes */
	got = cap_take();
	ck_assert_uint_eq(strlen(got), 7 + 1 + 4092 + 1);
	free(got);
	free(big);
}
END_TEST

/* --- JSON --- */

/* The line jansson makes for the same members, as earlier releases wrote it. */
static char *jansson_line(const char *level, const char *source, const char *msg,
			  const char *warning)
{
	json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:s?}", "time", "T", "level", level, "source",
			      source, "message", msg, "warning", warning);
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER), *line;

	ck_assert_ptr_nonnull(s);
	line = malloc(strlen(s) + 2);
	ck_assert_ptr_nonnull(line);
	sprintf(line, "%s\n", s);
	free(s);
	json_decref(o);
	return line;
}

START_TEST(json_same_as_jansson)
{
	static const char *const msgs[] = {
		"plain", "say \"hi\"\\ \n\r\t\b\f\x01\x1f\x7f", "长春市 项目代码", "😀 U+1F600",
		"/slash/", "",
	};
	size_t i;

	spgw_log_setup(SPGW_LOG_INFO, SPGW_LOG_JSON);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		char *want = jansson_line("warning", i % 2 ? NULL : "长春", msgs[i],
					  i == 3 ? "INSECURE" : NULL);

		spgw_log_banner(i == 3 ? "INSECURE" : NULL);
		spgw_log(SPGW_LOG_WARNING, i % 2 ? NULL : "长春", "%s", msgs[i]);
		ck_took(want);
		free(want);
	}
}
END_TEST

START_TEST(json_exact_escapes_and_context)
{
	struct spgw_log_ctx c = { "changchun", "220100", "SPGL_XMJBXXB", "b-1", "项目\"1\"" };
	json_error_t jerr;
	json_t *o;
	char *got;

	spgw_log_setup(SPGW_LOG_INFO, SPGW_LOG_JSON);
	spgw_log_at(SPGW_LOG_INFO, &c, "a\"b\\c\nd 长 😀 \x02");
	ck_took("{\"time\":\"T\",\"level\":\"info\",\"source\":\"changchun\",\"region\":\"220100\","
		"\"table\":\"SPGL_XMJBXXB\",\"batch\":\"b-1\",\"key\":\"\\u9879\\u76EE\\\"1\\\"\","
		"\"message\":\"a\\\"b\\\\c\\nd \\u957F \\uD83D\\uDE00 \\u0002\",\"warning\":null}\n");
	/* only the members set; a byte that is not UTF-8 does not lose the line */
	c = (struct spgw_log_ctx){ .table = "SPGL_XMJBXXB" };
	spgw_log_at(SPGW_LOG_ERROR, &c, "bad \xff byte, cut \xe9\x95");
	ck_took("{\"time\":\"T\",\"level\":\"error\",\"source\":null,\"table\":\"SPGL_XMJBXXB\","
		"\"message\":\"bad \\uFFFD byte, cut \\uFFFD\\uFFFD\",\"warning\":null}\n");
	spgw_log_at(SPGW_LOG_INFO, &c, "parse me: \x7f\x1b[0m");
	got = cap_take();
	o = json_loads(got, 0, &jerr);
	ck_assert_msg(o != NULL, "%s: %s", got, jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(o, "message")), "parse me: \x7f\x1b[0m");
	json_decref(o);
	free(got);
}
END_TEST

/* --- repetition --- */

START_TEST(repeats_suppressed_and_counted)
{
	int i;

	for (i = 0; i < 1537; i++)
		spgw_log(SPGW_LOG_WARNING, "changchun", "pull failed: %s", "timeout");
	ck_took("T warning [changchun] pull failed: timeout\n"
		"T warning [changchun] pull failed: timeout\n"
		"T warning [changchun] pull failed: timeout\n"
		"T warning [changchun] pull failed: timeout\n"
		"T warning [changchun] pull failed: timeout\n");
	spgw_log_flush();
	ck_took("T warning [changchun] pull failed: timeout (repeated 1,532 times in 1 s)\n");
	/* nothing pending: a flush writes nothing */
	spgw_log_flush();
	ck_took("");
	/* the window goes on after a flush: still held back, counted afresh */
	spgw_log(SPGW_LOG_WARNING, "changchun", "pull failed: %s", "timeout");
	ck_took("");
	spgw_log_flush();
	ck_took("T warning [changchun] pull failed: timeout (repeated 1 time in 1 s)\n");
}
END_TEST

/* Another level, source, context or text is another line with its own count. */
START_TEST(repeats_keyed_by_level_source_context_message)
{
	struct spgw_log_ctx a = { .source = "s", .key = "1" }, b = { .source = "s", .key = "2" };
	int i;

	spgw_log_repeat_setup(1, 60);
	for (i = 0; i < 3; i++) {
		spgw_log(SPGW_LOG_INFO, "s", "m");
		spgw_log(SPGW_LOG_WARNING, "s", "m");
		spgw_log(SPGW_LOG_INFO, "t", "m");
		spgw_log(SPGW_LOG_INFO, "s", "n");
		spgw_log_at(SPGW_LOG_INFO, &a, "m");
		spgw_log_at(SPGW_LOG_INFO, &b, "m");
	}
	ck_took("T info [s] m\nT warning [s] m\nT info [t] m\nT info [s] n\n"
		"T info m source=s key=1\nT info m source=s key=2\n");
	spgw_log_flush();
	ck_took("T info [s] m (repeated 2 times in 1 s)\n"
		"T warning [s] m (repeated 2 times in 1 s)\n"
		"T info [t] m (repeated 2 times in 1 s)\n"
		"T info [s] n (repeated 2 times in 1 s)\n"
		"T info m (repeated 2 times in 1 s) source=s key=1\n"
		"T info m (repeated 2 times in 1 s) source=s key=2\n");
}
END_TEST

/* A closed window writes its summary before the line that opens the next one. */
START_TEST(repeats_window_closes)
{
	int i;

	spgw_log_repeat_setup(2, 1);
	for (i = 0; i < 4; i++)
		spgw_log(SPGW_LOG_INFO, NULL, "again");
	ck_took("T info again\nT info again\n");
	usleep(1100 * 1000);
	spgw_log(SPGW_LOG_INFO, NULL, "again");
	ck_took("T info again (repeated 2 times in 1 s)\nT info again\n");
	/* a closed window with nothing held back ends silently */
	usleep(1100 * 1000);
	spgw_log(SPGW_LOG_INFO, NULL, "other");
	spgw_log_flush();
	ck_took("T info other\n");
}
END_TEST

/* 32 slots: a new line takes the one seen longest ago, whose count is written first. */
START_TEST(repeats_slot_taken)
{
	char *got;
	int i;

	spgw_log_repeat_setup(1, 60);
	for (i = 0; i < 3; i++)
		spgw_log(SPGW_LOG_INFO, NULL, "first");
	for (i = 0; i < 31; i++)
		spgw_log(SPGW_LOG_INFO, NULL, "distinct %d", i);
	got = cap_take();
	ck_assert_ptr_nonnull(strstr(got, "T info first\nT info distinct 0\n"));
	ck_assert_ptr_nonnull(strstr(got, "T info distinct 30\n"));
	ck_assert_ptr_null(strstr(got, "repeated"));
	free(got);
	spgw_log(SPGW_LOG_INFO, NULL, "distinct 31");
	ck_took("T info first (repeated 2 times in 1 s)\nT info distinct 31\n");
	/* "first" is a new line again */
	spgw_log(SPGW_LOG_INFO, NULL, "first");
	ck_took("T info first\n");
}
END_TEST

START_TEST(repeats_json_summary)
{
	struct spgw_log_ctx c = { .source = "s", .table = "SPGL_XMJBXXB" };
	int i;

	spgw_log_setup(SPGW_LOG_INFO, SPGW_LOG_JSON);
	spgw_log_repeat_setup(1, 60);
	for (i = 0; i < 1001; i++)
		spgw_log_at(SPGW_LOG_WARNING, &c, "refused");
	spgw_log_flush();
	ck_took("{\"time\":\"T\",\"level\":\"warning\",\"source\":\"s\",\"table\":\"SPGL_XMJBXXB\","
		"\"message\":\"refused\",\"warning\":null}\n"
		"{\"time\":\"T\",\"level\":\"warning\",\"source\":\"s\",\"table\":\"SPGL_XMJBXXB\","
		"\"message\":\"refused (repeated 1,000 times in 1 s)\",\"warning\":null,"
		"\"repeated\":1000}\n");
}
END_TEST

START_TEST(repeats_off)
{
	int i;

	spgw_log_repeat_setup(0, 60);
	for (i = 0; i < 7; i++)
		spgw_log(SPGW_LOG_INFO, NULL, "x");
	spgw_log_flush();
	ck_took("T info x\nT info x\nT info x\nT info x\nT info x\nT info x\nT info x\n");
}
END_TEST

/* The thousands separators of the count. The seconds are whatever the loop took (valgrind
 * makes it several): "in N s" with N from 1 to the window. */
START_TEST(repeats_big_count)
{
	char *got;
	long i, secs = 0;
	int used = 0;

	spgw_log_repeat_setup(1, 600);
	for (i = 0; i < 1234568; i++)
		spgw_log(SPGW_LOG_INFO, NULL, "flood");
	spgw_log_flush();
	got = cap_take();
	ck_assert_msg(sscanf(got, "T info flood\nT info flood (repeated 1,234,567 times "
				  "in %ld s)\n%n", &secs, &used) == 1 &&
			      used > 0 && got[used] == '\0', "got: [%s]", got);
	ck_assert(secs >= 1 && secs <= 600);
	free(got);
}
END_TEST

/* --- threads --- */

#define THREADS 4
#define PER_THREAD 1000

static void *writer(void *arg)
{
	int t = (int)(long)arg, i;
	struct spgw_log_ctx c = { .source = "thread", .key = "k" };

	for (i = 0; i < PER_THREAD; i++) {
		c.batch = i % 2 ? "odd" : "even";
		/* long lines: a torn write would show */
		spgw_log_at(SPGW_LOG_INFO, &c, "t%d line %04d %0200d", t, i, t);
	}
	return NULL;
}

START_TEST(threads_whole_lines)
{
	pthread_t th[THREADS];
	static char seen[THREADS][PER_THREAD];
	char *all, *line, *save = NULL, pad[201];
	int i, n = 0, t, k;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer, (void *)(long)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	spgw_log_flush();
	all = cap_take();
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[400];

		ck_assert_msg(sscanf(line, "T info t%d line %d %200[0-9]", &t, &k, pad) == 3,
			      "torn line: %s", line);
		ck_assert(t >= 0 && t < THREADS && k >= 0 && k < PER_THREAD);
		snprintf(want, sizeof(want),
			 "T info t%d line %04d %0200d source=thread batch=%s key=k", t, k, t,
			 k % 2 ? "odd" : "even");
		ck_assert_msg(!strcmp(line, want), "torn line: %s", line);
		ck_assert_msg(!seen[t][k], "twice: %s", line);
		seen[t][k] = 1;
		n++;
	}
	ck_assert_int_eq(n, THREADS * PER_THREAD);
	free(all);
}
END_TEST

/* --- journald --- */

static char sent[16][512];
static int nsent, ncalls, send_result;

static int fake_send(const struct iovec *iov, int n)
{
	int i;

	ncalls++;
	nsent = n;
	for (i = 0; i < n && i < 16; i++)
		snprintf(sent[i], sizeof(sent[i]), "%.*s", (int)iov[i].iov_len,
			 (const char *)iov[i].iov_base);
	return send_result;
}

/* The fields of the last entry, "A|B|C". */
static const char *fields(void)
{
	static char all[4096];
	int i;

	all[0] = '\0';
	for (i = 0; i < nsent; i++) {
		if (i)
			strcat(all, "|");
		strcat(all, sent[i]);
	}
	return all;
}

START_TEST(journal_fields)
{
	struct spgw_log_ctx c = { "changchun", "220100", "SPGL_XMJBXXB", "b-1", "K 1" };

	spgw_log_journal_seam(fake_send);
	send_result = 0;
	spgw_log_setup(SPGW_LOG_DEBUG, SPGW_LOG_JOURNAL);
	spgw_log_at(SPGW_LOG_WARNING, &c, "refused");
	ck_assert_str_eq(fields(), "MESSAGE=refused source=changchun region=220100 "
		"table=SPGL_XMJBXXB batch=b-1 key=\"K 1\"|PRIORITY=4|SYSLOG_IDENTIFIER=spgw|"
		"SPGW_SOURCE=changchun|SPGW_REGION=220100|SPGW_TABLE=SPGL_XMJBXXB|SPGW_BATCH=b-1|"
		"SPGW_KEY=K 1");
	spgw_log(SPGW_LOG_ERROR, "changchun", "pull failed");
	ck_assert_str_eq(fields(), "MESSAGE=[changchun] pull failed|PRIORITY=3|"
		"SYSLOG_IDENTIFIER=spgw|SPGW_SOURCE=changchun");
	spgw_log(SPGW_LOG_INFO, NULL, "started");
	ck_assert_str_eq(fields(), "MESSAGE=started|PRIORITY=6|SYSLOG_IDENTIFIER=spgw");
	spgw_log_banner("INSECURE");
	spgw_log(SPGW_LOG_DEBUG, NULL, "detail");
	ck_assert_str_eq(fields(), "MESSAGE=[INSECURE] detail|PRIORITY=7|SYSLOG_IDENTIFIER=spgw|"
		"SPGW_WARNING=INSECURE");
	spgw_log_banner(NULL);
	/* repetition applies as on stderr */
	spgw_log_repeat_setup(1, 60);
	ncalls = 0;
	spgw_log(SPGW_LOG_INFO, "s", "same");
	spgw_log(SPGW_LOG_INFO, "s", "same");
	spgw_log(SPGW_LOG_INFO, "s", "same");
	ck_assert_int_eq(ncalls, 1);
	spgw_log_flush();
	ck_assert_int_eq(ncalls, 2);
	ck_assert_str_eq(fields(), "MESSAGE=[s] same (repeated 2 times in 1 s)|PRIORITY=6|"
		"SYSLOG_IDENTIFIER=spgw|SPGW_SOURCE=s|SPGW_REPEATED=2");
	ck_took("");
}
END_TEST

/* journald out of reach: the line is not lost, it goes to stderr. */
START_TEST(journal_unreachable_falls_back)
{
	spgw_log_journal_seam(fake_send);
	send_result = -ENOENT;
	spgw_log_setup(SPGW_LOG_INFO, SPGW_LOG_JOURNAL);
	spgw_log(SPGW_LOG_ERROR, "s", "still seen");
	ck_took("T error [s] still seen\n");
}
END_TEST

START_TEST(journal_detected_from_stderr)
{
	struct stat st;
	char v[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_PLAIN), SPGW_LOG_PLAIN);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_PLAIN), SPGW_LOG_JOURNAL);
	/* json asked for in the configuration stays json */
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_JSON), SPGW_LOG_JSON);
	/* another stream: stderr was redirected elsewhere, e.g. by a shell under systemd */
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_PLAIN), SPGW_LOG_PLAIN);
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_PLAIN), SPGW_LOG_PLAIN);
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_PLAIN), SPGW_LOG_PLAIN);
	/* an explicit journal stays journal without journald's stream */
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(spgw_log_setup_auto(SPGW_LOG_INFO, SPGW_LOG_JOURNAL), SPGW_LOG_JOURNAL);
}
END_TEST

START_TEST(level_parse)
{
	ck_assert_int_eq(spgw_log_level_parse("error"), SPGW_LOG_ERROR);
	ck_assert_int_eq(spgw_log_level_parse("warning"), SPGW_LOG_WARNING);
	ck_assert_int_eq(spgw_log_level_parse("info"), SPGW_LOG_INFO);
	ck_assert_int_eq(spgw_log_level_parse("debug"), SPGW_LOG_DEBUG);
	ck_assert_int_eq(spgw_log_level_parse("warn"), -1);
	ck_assert_int_eq(spgw_log_level_parse(NULL), -1);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("plain");

	tcase_add_checked_fixture(tc, cap_start, cap_stop);
	tcase_add_test(tc, plain_source_lines);
	tcase_add_test(tc, plain_context_fields);
	tcase_add_test(tc, banner_on_every_line);
	tcase_add_test(tc, long_message_cut_whole);
	tcase_add_test(tc, level_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, cap_start, cap_stop);
	tcase_add_test(tc, json_same_as_jansson);
	tcase_add_test(tc, json_exact_escapes_and_context);
	suite_add_tcase(s, tc);
	tc = tcase_create("repeat");
	tcase_add_checked_fixture(tc, cap_start, cap_stop);
	tcase_add_test(tc, repeats_suppressed_and_counted);
	tcase_add_test(tc, repeats_keyed_by_level_source_context_message);
	tcase_add_test(tc, repeats_window_closes);
	tcase_add_test(tc, repeats_slot_taken);
	tcase_add_test(tc, repeats_json_summary);
	tcase_add_test(tc, repeats_off);
	tcase_add_test(tc, repeats_big_count);
	suite_add_tcase(s, tc);
	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, cap_start, cap_stop);
	tcase_add_test(tc, threads_whole_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, cap_start, cap_stop);
	tcase_add_test(tc, journal_fields);
	tcase_add_test(tc, journal_unreachable_falls_back);
	tcase_add_test(tc, journal_detected_from_stderr);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
