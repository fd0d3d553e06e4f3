/*
 * The Prometheus registry (gateway/metrics.c): the exact text of a small registry, numbers as
 * Prometheus parses them, what is refused and how it is counted, the bounds on memory, the
 * scrape hooks and allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "metrics.h"

/* The registry's own families when nothing went wrong, as they render between "spgw_a..." and
 * "spgw_n..." families. */
#define OWN_CLEAN                                                                             \
	"# HELP spgw_metrics_dropped_total Metric updates not stored because their family "      \
	"already held 10000 series (a label fed unbounded values).\n"                           \
	"# TYPE spgw_metrics_dropped_total counter\n"                                           \
	"# HELP spgw_metrics_invalid_total Metric updates refused because the code named or "    \
	"used a metric wrongly, by reason.\n"                                                    \
	"# TYPE spgw_metrics_invalid_total counter\n"                                           \
	"spgw_metrics_invalid_total{reason=\"label\"} 0\n"                                      \
	"spgw_metrics_invalid_total{reason=\"limit\"} 0\n"                                      \
	"spgw_metrics_invalid_total{reason=\"name\"} 0\n"                                       \
	"spgw_metrics_invalid_total{reason=\"type\"} 0\n"                                       \
	"spgw_metrics_invalid_total{reason=\"value\"} 0\n"                                      \
	"# HELP spgw_metrics_nomem_total Metric updates lost because memory was short.\n"       \
	"# TYPE spgw_metrics_nomem_total counter\n"                                             \
	"spgw_metrics_nomem_total 0\n"

/* The whole text; release with spgw_free. */
static char *render(struct spgw_metrics *m)
{
	struct spgw_error err = { 0 };
	struct spgw_buf b;
	char *text;

	spgw_buf_init(&b, 64u * 1024 * 1024, "metrics");
	ck_assert_msg(spgw_metrics_render(m, &b, &err) == SPGW_OK, "render: %s", err.text);
	text = spgw_buf_take(&b);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* The value on the line that starts with `series` + " ", as a number; -1 when absent. */
static double value_of(const char *text, const char *series)
{
	char pat[512];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", series);
	p = strstr(text, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static double invalid(struct spgw_metrics *m, const char *reason)
{
	char series[128], *text = render(m);
	double v;

	snprintf(series, sizeof(series), "spgw_metrics_invalid_total{reason=\"%s\"}", reason);
	v = value_of(text, series);
	spgw_free(text);
	return v;
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, prefix, len))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

START_TEST(exact_text)
{
	static const char *const r1[] = { "table", "SPGL_XMJBXXB", "region", "220100", NULL };
	static const char *const r2[] = { "region", "220200", "table", "SPGL_XMJBXXB", NULL };
	static const char *const esc[] = { "source", "a\"b\\c\nd", NULL };
	static const char *const reg[] = { "region", "220100", NULL };
	static const double b[] = { 0.25, 1, 8 };
	static const char expected[] =
		"# TYPE spgw_a_ratio gauge\n"
		"spgw_a_ratio 0.25\n" OWN_CLEAN
		"# HELP spgw_queue_depth Records waiting.\\nSecond line with \\\\ backslash.\n"
		"# TYPE spgw_queue_depth gauge\n"
		"spgw_queue_depth 42\n"
		"# HELP spgw_records_total Records read, by region and table.\n"
		"# TYPE spgw_records_total counter\n"
		"spgw_records_total{region=\"220100\",table=\"SPGL_XMJBXXB\"} 3\n"
		"spgw_records_total{region=\"220200\",table=\"SPGL_XMJBXXB\"} 1\n"
		"spgw_records_total{source=\"a\\\"b\\\\c\\nd\"} 7\n"
		"# HELP spgw_upload_seconds Upload time.\n"
		"# TYPE spgw_upload_seconds histogram\n"
		"spgw_upload_seconds_bucket{le=\"0.25\"} 1\n"
		"spgw_upload_seconds_bucket{le=\"1\"} 3\n"
		"spgw_upload_seconds_bucket{le=\"8\"} 4\n"
		"spgw_upload_seconds_bucket{le=\"+Inf\"} 5\n"
		"spgw_upload_seconds_sum 69.25\n"
		"spgw_upload_seconds_count 5\n"
		"spgw_upload_seconds_bucket{region=\"220100\",le=\"0.25\"} 0\n"
		"spgw_upload_seconds_bucket{region=\"220100\",le=\"1\"} 0\n"
		"spgw_upload_seconds_bucket{region=\"220100\",le=\"8\"} 1\n"
		"spgw_upload_seconds_bucket{region=\"220100\",le=\"+Inf\"} 1\n"
		"spgw_upload_seconds_sum{region=\"220100\"} 2\n"
		"spgw_upload_seconds_count{region=\"220100\"} 1\n";
	struct spgw_metrics *m = spgw_metrics_new();
	char *text, *again;

	ck_assert_ptr_nonnull(m);
	/* in no particular order: the render sorts */
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", "Upload time.", reg, b, 3, 2);
	spgw_metrics_counter_add(m, "spgw_records_total", "Records read, by region and table.", r2,
				 1);
	spgw_metrics_counter_add(m, "spgw_records_total", "another help is ignored", esc, 7);
	spgw_metrics_counter_add(m, "spgw_records_total", NULL, r1, 2);
	spgw_metrics_gauge_set(m, "spgw_queue_depth",
			       "Records waiting.\nSecond line with \\ backslash.", NULL, 40);
	spgw_metrics_gauge_set(m, "spgw_queue_depth", NULL, NULL, 42);
	spgw_metrics_counter_add(m, "spgw_records_total", NULL, r1, 1);
	spgw_metrics_gauge_set(m, "spgw_a_ratio", NULL, NULL, 0.25);
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", NULL, NULL, b, 3, 0.25);
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", NULL, NULL, b, 3, 0.5);
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", NULL, NULL, b, 3, 0.5);
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", NULL, NULL, b, 3, 4);
	spgw_metrics_histogram_observe(m, "spgw_upload_seconds", NULL, NULL, b, 3, 64);
	text = render(m);
	ck_assert_str_eq(text, expected);
	again = render(m);
	ck_assert_str_eq(again, text);
	spgw_free(again);
	spgw_free(text);
	spgw_metrics_free(m);
}
END_TEST

/* The sample text of gauge "g" set to `v`. */
static void check_number(double v, const char *want)
{
	struct spgw_metrics *m = spgw_metrics_new();
	char *text, *p, *end;

	spgw_metrics_gauge_set(m, "g", NULL, NULL, v);
	text = render(m);
	p = strstr(text, "\ng ");
	ck_assert_ptr_nonnull(p);
	p += 3;
	end = strchr(p, '\n');
	*end = '\0';
	ck_assert_msg(!strcmp(p, want), "%.17g printed as \"%s\", not \"%s\"", v, p, want);
	spgw_free(text);
	spgw_metrics_free(m);
}

START_TEST(numbers)
{
	check_number(0, "0");
	check_number(42, "42");
	check_number(-7, "-7");
	check_number(1e15, "1000000000000000");
	check_number(9007199254740993.0, "9007199254740992"); /* 2^53 + 1 is not a double */
	check_number(1e18, "1000000000000000000");
	check_number(1e19, "1e+19");
	check_number(0.1, "0.1");
	check_number(-2.5, "-2.5");
	check_number(1.0 / 3, "0.33333333333333331");
	check_number(1e-7, "1e-07");
	check_number(NAN, "NaN");
	check_number(INFINITY, "+Inf");
	check_number(-INFINITY, "-Inf");
}
END_TEST

START_TEST(refused_and_counted)
{
	static const char *const bad_label_name[] = { "1a", "x", NULL };
	static const char *const reserved_label[] = { "__name__", "x", NULL };
	static const char *const dash_label[] = { "a-b", "x", NULL };
	static const char *const odd[] = { "region", NULL };
	static const char *const twice[] = { "a", "1", "b", "2", "a", "3", NULL };
	static const char *const le[] = { "le", "1", NULL };
	static const char *many[2 * SPGW_METRICS_MAX_LABELS + 3];
	static const double unsorted[] = { 1, 0.5 };
	static const double nan_bound[] = { 1, NAN };
	double wide[SPGW_METRICS_MAX_BUCKETS + 1];
	struct spgw_metrics *m = spgw_metrics_new();
	char names[SPGW_METRICS_MAX_LABELS + 1][8], *text;
	size_t i;

	/* names */
	spgw_metrics_counter_add(m, "9abc", NULL, NULL, 1);
	spgw_metrics_counter_add(m, "a-b", NULL, NULL, 1);
	spgw_metrics_counter_add(m, "", NULL, NULL, 1);
	spgw_metrics_counter_add(m, NULL, NULL, NULL, 1);
	spgw_metrics_counter_add(m, "spgw_metrics_invalid_total", NULL, NULL, 1);
	ck_assert(invalid(m, "name") == 5);
	/* labels */
	spgw_metrics_counter_add(m, "c_total", NULL, bad_label_name, 1);
	spgw_metrics_counter_add(m, "c_total", NULL, reserved_label, 1);
	spgw_metrics_counter_add(m, "c_total", NULL, dash_label, 1);
	spgw_metrics_counter_add(m, "c_total", NULL, odd, 1);
	spgw_metrics_counter_add(m, "c_total", NULL, twice, 1);
	spgw_metrics_histogram_observe(m, "h", NULL, le, NULL, 0, 1);
	ck_assert(invalid(m, "label") == 6);
	/* values */
	spgw_metrics_counter_add(m, "c_total", NULL, NULL, -1);
	spgw_metrics_counter_add(m, "c_total", NULL, NULL, NAN);
	spgw_metrics_counter_add(m, "c_total", NULL, NULL, INFINITY);
	spgw_metrics_histogram_observe(m, "h", NULL, NULL, NULL, 0, NAN);
	ck_assert(invalid(m, "value") == 4);
	/* types: a name keeps its type; a histogram owns its _bucket, _count and _sum */
	spgw_metrics_counter_add(m, "c_total", NULL, NULL, 1);
	spgw_metrics_gauge_set(m, "c_total", NULL, NULL, 1);
	spgw_metrics_histogram_observe(m, "c_total", NULL, NULL, NULL, 0, 1);
	spgw_metrics_histogram_observe(m, "h", NULL, NULL, NULL, 0, 1);
	spgw_metrics_counter_add(m, "h_count", NULL, NULL, 1);
	spgw_metrics_gauge_set(m, "h_sum", NULL, NULL, 1);
	spgw_metrics_gauge_set(m, "k_bucket", NULL, NULL, 1);
	spgw_metrics_histogram_observe(m, "k", NULL, NULL, NULL, 0, 1);
	spgw_metrics_histogram_observe(m, "u", NULL, NULL, unsorted, 2, 1);
	spgw_metrics_histogram_observe(m, "v", NULL, NULL, nan_bound, 2, 1);
	ck_assert(invalid(m, "type") == 7);
	/* limits */
	for (i = 0; i <= SPGW_METRICS_MAX_LABELS; i++) {
		snprintf(names[i], sizeof(names[i]), "l%zu", i);
		many[2 * i] = names[i];
		many[2 * i + 1] = "v";
	}
	many[2 * i] = NULL;
	spgw_metrics_counter_add(m, "c_total", NULL, many, 1);
	for (i = 0; i <= SPGW_METRICS_MAX_BUCKETS; i++)
		wide[i] = (double)i;
	spgw_metrics_histogram_observe(m, "w", NULL, NULL, wide, SPGW_METRICS_MAX_BUCKETS + 1, 1);
	ck_assert(invalid(m, "limit") == 2);
	/* with one label pair less and one bucket less, both are fine */
	many[2 * SPGW_METRICS_MAX_LABELS] = NULL;
	spgw_metrics_counter_add(m, "c_total", NULL, many, 1);
	spgw_metrics_histogram_observe(m, "w", NULL, NULL, wide, SPGW_METRICS_MAX_BUCKETS, 1);
	ck_assert(invalid(m, "limit") == 2);

	/* nothing refused reached the text; what was accepted did */
	text = render(m);
	ck_assert_ptr_null(strstr(text, "9abc"));
	ck_assert_ptr_null(strstr(text, "__name__"));
	ck_assert_ptr_null(strstr(text, "# TYPE h_count "));
	ck_assert_ptr_null(strstr(text, "# TYPE h_sum "));
	ck_assert_ptr_null(strstr(text, "# TYPE k "));
	ck_assert_ptr_null(strstr(text, "# TYPE u "));
	ck_assert_ptr_null(strstr(text, "le=\"1\",le"));
	ck_assert(value_of(text, "c_total") == 1);
	ck_assert(value_of(text, "h_count") == 1);
	ck_assert(value_of(text, "k_bucket") == 1);
	ck_assert(value_of(text, "w_count") == 1);
	ck_assert_uint_eq(count_lines(text, "w_bucket"), SPGW_METRICS_MAX_BUCKETS + 1);
	ck_assert_ptr_nonnull(strstr(text, "c_total{l0=\"v\",l1=\"v\",l10=\"v\""));
	spgw_free(text);
	spgw_metrics_free(m);
}
END_TEST

START_TEST(label_values_from_data)
{
	char longest[SPGW_METRICS_MAX_LABEL_VALUE + 2];
	const char *const gbk[] = { "source", "\xb3\xa4\xb4\xba-ok\xff", NULL };
	const char *const cjk[] = { "source", "长春", NULL };
	const char *const at_limit[] = { "source", longest, NULL };
	struct spgw_metrics *m = spgw_metrics_new();
	char *text;

	/* GBK bytes read as UTF-8 become U+FFFD each, so the scrape stays valid UTF-8 */
	spgw_metrics_counter_add(m, "r_total", NULL, gbk, 1);
	spgw_metrics_counter_add(m, "r_total", NULL, cjk, 2);
	memset(longest, 'x', SPGW_METRICS_MAX_LABEL_VALUE);
	longest[SPGW_METRICS_MAX_LABEL_VALUE] = '\0';
	spgw_metrics_counter_add(m, "r_total", NULL, at_limit, 3);
	longest[SPGW_METRICS_MAX_LABEL_VALUE] = 'x';
	longest[SPGW_METRICS_MAX_LABEL_VALUE + 1] = '\0';
	spgw_metrics_counter_add(m, "r_total", NULL, at_limit, 4);
	text = render(m);
	ck_assert(value_of(text, "r_total{source=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				 "-ok\xef\xbf\xbd\"}") == 1);
	ck_assert(value_of(text, "r_total{source=\"长春\"}") == 2);
	ck_assert_uint_eq(count_lines(text, "r_total{"), 3);
	ck_assert(value_of(text, "spgw_metrics_invalid_total{reason=\"value\"}") == 1);
	spgw_free(text);
	/* overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either */
	{
		const char *const odd[] = { "s", "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80", NULL };

		spgw_metrics_counter_add(m, "o_total", NULL, odd, 1);
		text = render(m);
		ck_assert_ptr_nonnull(strstr(text, "o_total{s=\"\xef\xbf\xbd\xef\xbf\xbd|"
						   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
						   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
						   "\xef\xbf\xbd\"} 1\n"));
		spgw_free(text);
	}
	spgw_metrics_free(m);
}
END_TEST

START_TEST(gauge_clear)
{
	static const char *const a[] = { "source", "changchun", NULL };
	static const char *const b[] = { "source", "jilin", NULL };
	struct spgw_metrics *m = spgw_metrics_new();
	char *text;

	spgw_metrics_gauge_set(m, "backlog", "Records in the outbox.", a, 5);
	spgw_metrics_gauge_set(m, "backlog", NULL, b, 6);
	spgw_metrics_counter_add(m, "c_total", NULL, a, 1);
	spgw_metrics_gauge_clear(m, "backlog");
	spgw_metrics_gauge_clear(m, "c_total"); /* not a gauge: left alone */
	spgw_metrics_gauge_clear(m, "absent");
	text = render(m);
	ck_assert_ptr_nonnull(strstr(text, "# HELP backlog Records in the outbox.\n"
					   "# TYPE backlog gauge\n# TYPE c_total counter\n"
					   "c_total{source=\"changchun\"} 1\n"));
	spgw_free(text);
	spgw_metrics_gauge_set(m, "backlog", NULL, b, 7);
	text = render(m);
	ck_assert(value_of(text, "backlog{source=\"jilin\"}") == 7);
	ck_assert_uint_eq(count_lines(text, "backlog{"), 1);
	spgw_free(text);
	spgw_metrics_free(m);
}
END_TEST

START_TEST(series_cap)
{
	struct spgw_metrics *m = spgw_metrics_new();
	const char *labels[] = { "key", NULL, NULL };
	char key[32], *text;
	int i;

	for (i = 0; i < SPGW_METRICS_MAX_SERIES + 5; i++) {
		snprintf(key, sizeof(key), "CC-%06d", i);
		labels[1] = key;
		spgw_metrics_counter_add(m, "by_key_total", NULL, labels, 1);
	}
	/* a series that exists is still updated at the cap */
	labels[1] = "CC-000000";
	spgw_metrics_counter_add(m, "by_key_total", NULL, labels, 1);
	text = render(m);
	ck_assert_uint_eq(count_lines(text, "by_key_total{"), SPGW_METRICS_MAX_SERIES);
	ck_assert(value_of(text, "by_key_total{key=\"CC-000000\"}") == 2);
	ck_assert(value_of(text, "spgw_metrics_dropped_total{family=\"by_key_total\"}") == 5);
	ck_assert(value_of(text, "by_key_total{key=\"CC-010000\"}") == -1);
	spgw_free(text);
	spgw_metrics_free(m);
}
END_TEST

struct hook_state {
	int calls;
	double backlog;
};

static void refill(void *ud, struct spgw_metrics *m)
{
	struct hook_state *st = ud;
	static const char *const src[] = { "source", "changchun", NULL };

	st->calls++;
	spgw_metrics_gauge_clear(m, "backlog");
	if (st->backlog >= 0)
		spgw_metrics_gauge_set(m, "backlog", NULL, src, st->backlog);
}

START_TEST(scrape_hook)
{
	struct hook_state st = { 0, 12 };
	struct spgw_metrics *m = spgw_metrics_new();
	char *text;
	int i;

	spgw_metrics_on_scrape(m, refill, &st);
	text = render(m);
	ck_assert_int_eq(st.calls, 1);
	ck_assert(value_of(text, "backlog{source=\"changchun\"}") == 12);
	spgw_free(text);
	st.backlog = -1; /* the source was removed */
	text = render(m);
	ck_assert_int_eq(st.calls, 2);
	ck_assert_ptr_null(strstr(text, "backlog{"));
	spgw_free(text);
	for (i = 1; i < SPGW_METRICS_MAX_HOOKS + 1; i++)
		spgw_metrics_on_scrape(m, refill, &st);
	ck_assert(invalid(m, "limit") == 1);
	ck_assert_int_eq(st.calls, 2 + SPGW_METRICS_MAX_HOOKS);
	spgw_metrics_free(m);
}
END_TEST

START_TEST(histogram_buckets_fixed)
{
	static const double first[] = { 1, 2, INFINITY };
	static const double later[] = { 100 };
	struct spgw_metrics *m = spgw_metrics_new();
	char *text;

	spgw_metrics_histogram_observe(m, "h", NULL, NULL, first, 3, 1.5);
	spgw_metrics_histogram_observe(m, "h", NULL, NULL, later, 1, 50);
	spgw_metrics_histogram_observe(m, "h", NULL, NULL, NULL, 0, INFINITY);
	text = render(m);
	ck_assert_ptr_nonnull(strstr(text, "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 1\n"
					   "h_bucket{le=\"+Inf\"} 3\nh_sum +Inf\nh_count 3\n"));
	ck_assert_ptr_null(strstr(text, "le=\"100\""));
	spgw_free(text);
	spgw_metrics_free(m);
}
END_TEST

START_TEST(render_limit)
{
	struct spgw_metrics *m = spgw_metrics_new();
	struct spgw_error err = { 0 };
	struct spgw_buf b;

	spgw_buf_init(&b, 100, "the /metrics page");
	ck_assert_int_eq(spgw_metrics_render(m, &b, &err), SPGW_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err.text, "/metrics page"));
	spgw_buf_free(&b);
	spgw_metrics_free(m);
}
END_TEST

/* Fail allocation N for N = 0, 1, ... until a run completes untouched: no crash, no leak (the
 * sanitizer build checks), and every update lost is counted. */
START_TEST(allocation_failures)
{
	static const char *const l1[] = { "region", "220100", NULL };
	static const double b[] = { 1, 2 };
	struct spgw_error err;
	struct spgw_buf buf;
	long n;

	for (n = 0;; n++) {
		struct spgw_metrics *m;
		enum spgw_rc rc;
		double lost;
		char *text;

		spgw_mem_fail_after(n);
		m = spgw_metrics_new();
		if (!m)
			continue;
		spgw_metrics_counter_add(m, "a_total", "A.", l1, 1);
		spgw_metrics_counter_add(m, "a_total", NULL, NULL, 1);
		spgw_metrics_gauge_set(m, "g", "G.", l1, 1);
		spgw_metrics_histogram_observe(m, "h", "H.", l1, b, 2, 1);
		spgw_buf_init(&buf, 1u << 20, "metrics");
		spgw_error_clear(&err);
		rc = spgw_metrics_render(m, &buf, &err);
		spgw_mem_fail_after(-1);
		spgw_buf_free(&buf);
		text = render(m);
		lost = value_of(text, "spgw_metrics_nomem_total");
		if (rc == SPGW_OK && lost == 0) {
			ck_assert(value_of(text, "a_total") == 1);
			ck_assert(value_of(text, "h_count{region=\"220100\"}") == 1);
			spgw_free(text);
			spgw_metrics_free(m);
			break;
		}
		ck_assert_msg(rc == SPGW_E_NOMEM || lost > 0, "allocation %ld failed unseen", n);
		spgw_free(text);
		spgw_metrics_free(m);
	}
	ck_assert_int_gt(n, 5);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, exact_text);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, refused_and_counted);
	tcase_add_test(tc, label_values_from_data);
	tcase_add_test(tc, gauge_clear);
	tcase_add_test(tc, series_cap);
	tcase_add_test(tc, scrape_hook);
	tcase_add_test(tc, histogram_buckets_fixed);
	tcase_add_test(tc, render_limit);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
