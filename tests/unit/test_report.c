/*
 * Reports (gateway/report.c): the exact bytes of a small CSV, JSON read back equal, HTML
 * escaping and the absence of anything that loads from elsewhere, the charts at their edges
 * (one point, a year of points, millions, gaps, nothing), every shape error named by its
 * member, the format names, and saving: all or nothing.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "report.h"

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);

	ck_assert_msg(doc != NULL, "test document: %d:%d: %s", je.line, je.column, je.text);
	return doc;
}

/* The report as written to a memory stream (malloc'd, NUL-terminated); *rc gets the result. */
static char *render(const json_t *doc, enum spgw_report_format fmt, size_t *len, enum spgw_rc *rc,
		    struct spgw_error *err)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	*rc = spgw_report_write(doc, fmt, f, err);
	ck_assert_int_eq(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static char *render_ok(const json_t *doc, enum spgw_report_format fmt, size_t *len)
{
	struct spgw_error err = {0};
	enum spgw_rc rc;
	char *out = render(doc, fmt, len, &rc, &err);

	ck_assert_msg(rc == SPGW_OK, "report_write: %s", err.text);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* ---- CSV: exact bytes ---- */

static const char small_doc[] =
	"{\"kind\":\"reconcile\",\"title\":\"对账 Reconciliation\","
	"\"generated_at\":\"2026-11-23T10:00:00Z\",\"params\":{\"from\":\"2026-11-01\"},"
	"\"summary\":{\"columns\":[{\"key\":\"city\",\"zh\":\"城市\",\"en\":\"city\","
	"\"type\":\"text\"}],\"rows\":[{\"city\":\"长春市\"}]},"
	"\"sections\":["
	"{\"title\":\"220100 长春市\",\"table\":{\"columns\":["
	"{\"key\":\"day\",\"zh\":\"业务日\",\"en\":\"day\",\"type\":\"date\"},"
	"{\"key\":\"name\",\"zh\":\"名称\",\"en\":\"name, short\",\"type\":\"text\"},"
	"{\"key\":\"n\",\"zh\":\"记录数\",\"en\":\"records\",\"type\":\"int\"},"
	"{\"key\":\"share\",\"zh\":\"占比\",\"en\":\"share\",\"type\":\"number\"}],"
	"\"rows\":["
	"{\"day\":\"2026-11-02\",\"name\":\"a,b\",\"n\":1234567,\"share\":0.25,\"_flag\":null},"
	"{\"day\":\"2026-11-03\",\"name\":\"say \\\"hi\\\"\",\"n\":null,\"share\":null,"
	"\"_flag\":\"differs\",\"_note\":\"国家平台少 3 条\\nsecond line\"},"
	"{\"day\":null,\"name\":\"=SUM(A1)\",\"n\":-5,\"share\":1e-7},"
	"{\"day\":\"2026-11-05\",\"name\":\"-\",\"n\":12.0,\"share\":2.5}]}},"
	"{\"title\":\"220200 吉林市, \\\"north\\\"\",\"table\":{\"columns\":["
	"{\"key\":\"day\",\"zh\":\"业务日\",\"en\":\"day\",\"type\":\"date\"},"
	"{\"key\":\"extra\",\"zh\":\"附加\",\"en\":\"extra\",\"type\":\"text\"}],"
	"\"rows\":[{\"day\":\"2026-11-04\",\"extra\":\"x\",\"_flag\":\"violation\","
	"\"_note\":\"n\"}]}}]}";

static const char small_csv[] =
	"\xEF\xBB\xBF"
	"部分 section,业务日 day,\"名称 name, short\",记录数 records,占比 share,附加 extra,"
	"标记 flag,备注 note\r\n"
	"220100 长春市,2026-11-02,\"a,b\",1234567,0.25,,,\r\n"
	"220100 长春市,2026-11-03,\"say \"\"hi\"\"\",,,,differs,\"国家平台少 3 条\nsecond "
	"line\"\r\n"
	"220100 长春市,,'=SUM(A1),-5,1e-07,,,\r\n"
	"220100 长春市,2026-11-05,-,12,2.5,,,\r\n"
	"\"220200 吉林市, \"\"north\"\"\",2026-11-04,,,,x,violation,n\r\n";

START_TEST(csv_exact_bytes)
{
	json_t *doc = parse(small_doc);
	size_t n;
	char *out = render_ok(doc, SPGW_REPORT_CSV, &n);

	ck_assert_msg(n == sizeof(small_csv) - 1 && !memcmp(out, small_csv, n),
		      "got:\n%s\nwant:\n%s", out, small_csv);
	free(out);
	json_decref(doc);
}
END_TEST

/* Without sections the summary is the CSV, without a section column. */
START_TEST(csv_summary_alone)
{
	json_t *doc = parse(small_doc);
	char *out;

	json_object_del(doc, "sections");
	json_object_set_new(
		json_array_get(json_object_get(json_object_get(doc, "summary"), "rows"), 0),
		"_flag", json_string("differs"));
	out = render_ok(doc, SPGW_REPORT_CSV, NULL);
	ck_assert_str_eq(out, "\xEF\xBB\xBF城市 city,标记 flag,备注 note\r\n长春市,differs,\r\n");
	free(out);
	json_decref(doc);
}
END_TEST

/* ---- JSON ---- */

START_TEST(json_round_trip)
{
	json_t *doc = parse(small_doc), *back;
	json_error_t je;
	char *out = render_ok(doc, SPGW_REPORT_JSON, NULL);

	back = json_loads(out, 0, &je);
	ck_assert_msg(back != NULL, "%s", je.text);
	ck_assert(json_equal(doc, back));
	ck_assert_ptr_nonnull(strstr(out, "\n  \"kind\": \"reconcile\"")); /* indented */
	ck_assert_ptr_nonnull(strstr(out, "220100 长春市"));		   /* UTF-8 as is */
	ck_assert_ptr_nonnull(strstr(out, "\"kind\": \"reconcile\",\n  \"title\"")); /* order */
	ck_assert_int_eq(out[strlen(out) - 1], '\n');
	json_decref(back);
	free(out);
	json_decref(doc);
}
END_TEST

/* ---- HTML ---- */

/* A mid-size document: two cities, 30 days, three series with gaps, flagged rows. */
static json_t *city_doc(void)
{
	json_t *doc = parse("{\"kind\":\"reconcile\",\"title\":\"对账报告 Reconciliation report\","
			    "\"generated_at\":\"2026-11-23T10:00:00Z\","
			    "\"params\":{\"from\":\"2026-11-01\",\"to\":\"2026-12-12\","
			    "\"cities\":[\"220100\",\"220200\"],\"days\":30},"
			    "\"notes\":[\"按业务日统计 counted by business day\"],"
			    "\"summary\":{\"columns\":[{\"key\":\"city\",\"zh\":\"城市\","
			    "\"en\":\"city\",\"type\":\"text\"},{\"key\":\"total\",\"zh\":\"合计\","
			    "\"en\":\"total\",\"type\":\"int\"}],\"rows\":[]},\"sections\":[]}");
	json_t *sections = json_object_get(doc, "sections");
	json_t *srows = json_object_get(json_object_get(doc, "summary"), "rows");
	static const char *const cities[] = {"220100 长春市", "220200 吉林市"};
	static const char *const names[] = {"地方系统 city system", "网关台账 gateway ledger",
					    "国家平台 national platform"};
	size_t c, d, s;

	for (c = 0; c < 2; c++) {
		json_t *x = json_array(), *series = json_array(), *rows = json_array();
		json_t *sec = json_pack(
			"{s:s, s:{s:o, s:o}, s:{s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},"
			"{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}], s:o}}",
			"title", cities[c], "chart", "x", x, "series", series, "table", "columns",
			"key", "day", "zh", "业务日", "en", "business day", "type", "date", "key",
			"city", "zh", "地方系统", "en", "city system", "type", "int", "key", "gw",
			"zh", "网关台账", "en", "gateway ledger", "type", "int", "key", "nat", "zh",
			"国家平台", "en", "national platform", "type", "int", "rows", rows);

		ck_assert_ptr_nonnull(sec);
		for (s = 0; s < 3; s++)
			json_array_append_new(series,
					      json_pack("{s:s, s:[]}", "name", names[s], "values"));
		for (d = 0; d < 30; d++) {
			char day[16];
			json_int_t base = 1000000 + (json_int_t)(c * 1000 + d * 37);
			json_t *row;

			snprintf(day, sizeof(day), "2026-%02zu-%02zu", 11 + d / 28, 1 + d % 28);
			json_array_append_new(x, json_string(day));
			for (s = 0; s < 3; s++) {
				json_t *vals = json_object_get(json_array_get(series, s), "values");

				/* the national platform has nothing on day 10: a gap */
				if (s == 2 && d == 10)
					json_array_append_new(vals, json_null());
				else
					json_array_append_new(
						vals, json_integer(base - (s == 2 && d == 4)));
			}
			row = json_pack("{s:s, s:I, s:I, s:o}", "day", day, "city", base, "gw",
					base, "nat",
					d == 10 ? json_null() : json_integer(base - (d == 4)));
			if (d == 4 || d == 10) {
				json_object_set_new(row, "_flag", json_string("differs"));
				json_object_set_new(
					row, "_note",
					json_string(d == 4 ? "国家平台少 1 条 national "
							     "platform has 1 fewer"
							   : "国家平台未计数 not counted"));
			}
			json_array_append_new(rows, row);
		}
		json_array_append_new(sections, sec);
		json_array_append_new(srows, json_pack("{s:s, s:I}", "city", cities[c], "total",
						       (json_int_t)30 * 1000000));
	}
	return doc;
}

START_TEST(html_content)
{
	json_t *doc = city_doc();
	char *out = render_ok(doc, SPGW_REPORT_HTML, NULL);

	ck_assert_ptr_nonnull(strstr(out, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(out, "<title>对账报告 Reconciliation report</title>"));
	ck_assert_ptr_nonnull(strstr(out, "<h1>对账报告 Reconciliation report</h1>"));
	ck_assert_int_eq(count(out, "<svg"), 2);
	ck_assert_int_eq(count(out, "</svg>"), 2);
	ck_assert_int_eq(count(out, "<section class=\"part\""), 2);
	/* two flagged rows per city, highlighted, the note in the title and in its column */
	ck_assert_int_eq(count(out, "<tr class=\"flagged flag-differs\""), 4);
	ck_assert_int_eq(count(out, "title=\"国家平台少 1 条 national platform has 1 fewer\""), 2);
	ck_assert_int_eq(count(out, "<td class=\"note\">国家平台未计数 not counted</td>"), 2);
	ck_assert_int_eq(count(out, "<span class=\"badge\">不一致 differs</span>"), 4);
	/* the summary counts them per section */
	ck_assert_ptr_nonnull(strstr(out, "<a href=\"#s2\">220200 吉林市</a></td><td class=\"num\">"
					  "30</td><td class=\"num flagcount some\">2</td>"));
	ck_assert_ptr_nonnull(strstr(out, "2 sections, 60 rows, 4 flagged"));
	/* numbers for reading: thousands separated; null as an empty cell */
	ck_assert_ptr_nonnull(strstr(out, "<td class=\"num\">1,000,148</td>"));
	ck_assert_ptr_nonnull(strstr(out, "<td class=\"num\">30,000,000</td>"));
	ck_assert_ptr_nonnull(strstr(out, "<td class=\"num\"></td><td class=\"flag\">"));
	/* params as given, compound ones as compact JSON */
	ck_assert_ptr_nonnull(strstr(out, "<th>cities</th><td>[&quot;220100&quot;,"
					  "&quot;220200&quot;]</td>"));
	ck_assert_ptr_nonnull(strstr(out, "<li>按业务日统计 counted by business day</li>"));
	/* the chart: a legend entry per series, dashes, value ticks in thousands, date ticks */
	ck_assert_int_eq(count(out, "<g class=\"legend\">"), 6);
	ck_assert_ptr_nonnull(strstr(out, ">国家平台 national platform</text>"));
	ck_assert_ptr_nonnull(strstr(out, "stroke-dasharray=\"9 4\""));
	ck_assert_ptr_nonnull(strstr(out, "stroke-dasharray=\"2 3\""));
	ck_assert_ptr_nonnull(strstr(out, ">1,000,000</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">2026-11-01</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">2026-12-02</text>")); /* the last x label */
	/* the national series breaks at its null: two pieces in one path, the others one */
	{
		const char *p = out;
		size_t moves[3], i;

		for (i = 0; i < 3; i++) {
			const char *end;

			static const char start[] = "<path class=\"series\" fill=\"none\" d=\"";

			p = strstr(p, start);
			ck_assert_ptr_nonnull(p);
			p += sizeof(start) - 1;
			end = strchr(p, '"');
			for (moves[i] = 0; p < end; p++)
				moves[i] += *p == 'M';
		}
		ck_assert_uint_eq(moves[0], 1);
		ck_assert_uint_eq(moves[1], 1);
		ck_assert_uint_eq(moves[2], 2);
		ck_assert_ptr_nonnull(strstr(p, "stroke=\"#009E73\" stroke-width=\"2.00\""));
	}
	ck_assert_ptr_null(strstr(out, "nan"));
	ck_assert_ptr_null(strstr(out, "inf"));
	free(out);
	json_decref(doc);
}
END_TEST

/* Nothing that loads from elsewhere: no scheme, no protocol-relative reference, no import,
 * no url(), no script, image or link element; the only href is to a section of the page. */
START_TEST(html_no_external_reference)
{
	json_t *doc = city_doc();
	char *out = render_ok(doc, SPGW_REPORT_HTML, NULL), *p;
	static const char *const banned[] = {"http:",	"https:", "//",	   "@import", "url(",
					     "<script", "<link",  "<img",  " src=",   "<iframe",
					     "<object", "ftp:",	  "data:", "xlink"};
	size_t i;

	for (i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		ck_assert_msg(strstr(out, banned[i]) == NULL, "HTML contains \"%s\"", banned[i]);
	for (p = strstr(out, "href="); p; p = strstr(p + 1, "href="))
		ck_assert_msg(!strncmp(p, "href=\"#", 7), "href not on the page: %.40s", p);
	ck_assert_ptr_nonnull(strstr(out, "default-src 'none'"));
	free(out);
	json_decref(doc);
}
END_TEST

/* Every piece of text from the document is escaped, wherever it lands. */
START_TEST(html_escaping)
{
	static const char evil[] = "<script>alert(\"x\")</script> & 'q'";
	static const char escaped[] = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
				      "&#39;q&#39;";
	json_t *doc = city_doc(), *sec = json_array_get(json_object_get(doc, "sections"), 0);
	json_t *table = json_object_get(sec, "table"), *chart = json_object_get(sec, "chart");
	json_t *row0 = json_array_get(json_object_get(table, "rows"), 0);
	char *out;

	json_object_set_new(doc, "title", json_string(evil));
	json_object_set_new(doc, "generated_at", json_string(evil));
	json_object_set_new(json_object_get(doc, "params"), evil, json_string(evil));
	json_array_append_new(json_object_get(doc, "notes"), json_string(evil));
	json_object_set_new(sec, "title", json_string(evil));
	json_object_set_new(json_array_get(json_object_get(table, "columns"), 1), "zh",
			    json_string(evil));
	json_object_set_new(json_array_get(json_object_get(table, "columns"), 1), "en",
			    json_string(evil));
	json_object_set_new(row0, "_flag", json_string("violation"));
	json_object_set_new(row0, "_note", json_string(evil));
	json_object_set_new(json_array_get(json_object_get(chart, "series"), 0), "name",
			    json_string(evil));
	json_array_set_new(json_object_get(chart, "x"), 0, json_string(evil));
	/* the other section keeps its column "city": a key means one column throughout */
	json_array_remove(json_object_get(doc, "sections"), 1);
	json_object_set_new(
		json_array_get(json_object_get(json_object_get(doc, "summary"), "rows"), 0), "city",
		json_string(evil));

	out = render_ok(doc, SPGW_REPORT_HTML, NULL);
	ck_assert_ptr_null(strstr(out, "<script"));
	ck_assert_ptr_null(strstr(out, "alert(\"x\")"));
	ck_assert_ptr_null(strstr(out, "'q'"));
	ck_assert_ptr_nonnull(strstr(out, "<title>"
					  "&lt;script&gt;alert(&quot;x&quot;)&lt;/script"
					  "&gt; &amp; &#39;q&#39;"
					  "</title>"));
	/* title (twice), generated_at, param key and value, note, section title (h2, overview,
	 * svg title), column zh and en, summary cell, flag note (title and cell),
	 * series name (legend, marker titles), x label (tick cut to 12 characters) */
	ck_assert_uint_ge(count(out, escaped), 14);
	ck_assert_ptr_nonnull(
		strstr(out, "<tr class=\"flagged flag-violation\" title=\"&lt;script"));
	free(out);
	json_decref(doc);
}
END_TEST

/* Control characters (a NUL inside a JSON string too) never reach the page or the CSV. */
START_TEST(control_characters)
{
	json_t *doc = parse(small_doc);
	json_t *row = json_array_get(
		json_object_get(json_object_get(json_array_get(json_object_get(doc, "sections"), 0),
						"table"),
				"rows"),
		0);
	char *out;
	size_t n, i;

	json_object_set_new(row, "name",
			    json_stringn("a\0b\x01"
					 "c\x7f",
					 6));
	out = render_ok(doc, SPGW_REPORT_CSV, &n);
	ck_assert_ptr_nonnull(strstr(out, ",a\xEF\xBF\xBD"
					  "b\xEF\xBF\xBD"
					  "c\xEF\xBF\xBD,"));
	for (i = 0; i < n; i++)
		ck_assert(out[i] != '\0' && out[i] != '\x01' && out[i] != '\x7f');
	free(out);
	out = render_ok(doc, SPGW_REPORT_HTML, &n);
	ck_assert_ptr_nonnull(strstr(out, ">a\xEF\xBF\xBD"
					  "b\xEF\xBF\xBD"
					  "c\xEF\xBF\xBD<"));
	ck_assert_uint_eq(strlen(out), n);
	free(out);
	json_decref(doc);
}
END_TEST

/* One chart from `x` labels and one series' values (a JSON array text). */
static char *chart_html(size_t npoints, const char *(*value)(size_t i, char *buf))
{
	json_t *doc = parse("{\"kind\":\"stats\",\"title\":\"t\",\"generated_at\":\"g\","
			    "\"sections\":[{\"title\":\"s\",\"chart\":{\"x\":[],\"series\":["
			    "{\"name\":\"a\",\"values\":[]},{\"name\":\"b\",\"values\":[]}]},"
			    "\"table\":{\"columns\":[{\"key\":\"k\",\"zh\":\"键\",\"en\":\"key\","
			    "\"type\":\"text\"}],\"rows\":[]}}]}");
	json_t *chart =
		json_object_get(json_array_get(json_object_get(doc, "sections"), 0), "chart");
	json_t *x = json_object_get(chart, "x");
	size_t i, s;
	char *out;

	for (i = 0; i < npoints; i++) {
		char day[24], buf[64];

		snprintf(day, sizeof(day), "D%zu", i);
		json_array_append_new(x, json_string(day));
		for (s = 0; s < 2; s++) {
			const char *v = value(i + s, buf);

			json_array_append_new(
				json_object_get(json_array_get(json_object_get(chart, "series"), s),
						"values"),
				v ? json_loads(v, JSON_DECODE_ANY, NULL) : json_null());
		}
	}
	out = render_ok(doc, SPGW_REPORT_HTML, NULL);
	json_decref(doc);
	return out;
}

static const char *v_small(size_t i, char *buf)
{
	snprintf(buf, 64, "%zu", i % 5);
	return buf;
}

static const char *v_millions(size_t i, char *buf)
{
	snprintf(buf, 64, "%zu", 3000000 + i * 1111);
	return buf;
}

static const char *v_null(size_t i, char *buf)
{
	(void)i;
	(void)buf;
	return NULL;
}

static const char *v_fraction(size_t i, char *buf)
{
	snprintf(buf, 64, "%s", i % 2 ? "0.125" : "-0.05");
	return buf;
}

static const char *v_spread(size_t i, char *buf)
{
	snprintf(buf, 64, "%zu", 10 + i * 10);
	return buf;
}

/* A series value only on even days: every point alone, each drawn as a marker. */
static const char *v_every_other(size_t i, char *buf)
{
	if (i % 2)
		return NULL;
	snprintf(buf, 64, "%zu", i);
	return buf;
}

START_TEST(chart_edges)
{
	char *out;

	/* one point: drawn in the middle as markers, one tick */
	out = chart_html(1, v_small);
	ck_assert_int_eq(count(out, "<svg"), 1);
	ck_assert_ptr_nonnull(strstr(out, ">D0</text>"));
	ck_assert_ptr_nonnull(strstr(out, "<circle"));
	ck_assert_ptr_null(strstr(out, "nan"));
	free(out);

	/* a leap year of days: seven x ticks, the last label shown, no per-point markers */
	out = chart_html(366, v_millions);
	ck_assert_ptr_nonnull(strstr(out, ">D0</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">D365</text>"));
	ck_assert_int_eq(count(out, "text-anchor=\"middle\""), 7);
	ck_assert_int_eq(count(out, "<g><circle"), 0);
	/* far from zero: the axis starts near the values, steps of 100,000 */
	ck_assert_ptr_nonnull(strstr(out, ">3,000,000</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">3,500,000</text>"));
	ck_assert_ptr_null(strstr(out, ">4,000,000</text>"));
	ck_assert_ptr_null(strstr(out, ">0</text>"));
	ck_assert_ptr_null(strstr(out, "nan"));
	ck_assert_ptr_null(strstr(out, "inf"));
	free(out);

	/* nothing to draw: axes only, from 0 */
	out = chart_html(20, v_null);
	ck_assert_int_eq(count(out, "<path class=\"series\""), 0);
	ck_assert_ptr_nonnull(strstr(out, ">0</text>"));
	ck_assert_ptr_null(strstr(out, "nan"));
	free(out);

	/* fractions below zero: decimal ticks, zero on the axis */
	out = chart_html(10, v_fraction);
	ck_assert_ptr_nonnull(strstr(out, ">0.00</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">-0.05</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">0.15</text>"));
	ck_assert_ptr_null(strstr(out, ">-0.00<"));
	free(out);

	/* values from 10 to 110: near enough to zero for the axis to start there */
	out = chart_html(10, v_spread);
	ck_assert_ptr_nonnull(strstr(out, ">0</text>"));
	ck_assert_ptr_nonnull(strstr(out, ">150</text>")); /* 110 rounded up by steps of 50 */
	free(out);

	/* isolated points each get a marker even in a long series */
	out = chart_html(100, v_every_other);
	ck_assert_int_ge(count(out, "<g><circle"), 50);
	free(out);
}
END_TEST

/* ---- shape errors ---- */

/* A valid document: summary and three sections of six rows, each with a chart. */
static json_t *shape_doc(void)
{
	json_t *doc = parse("{\"kind\":\"violations\",\"title\":\"违规 Violations\","
			    "\"generated_at\":\"2026-11-23T10:00:00Z\",\"params\":{},"
			    "\"notes\":[\"n\"],\"summary\":{\"columns\":["
			    "{\"key\":\"city\",\"zh\":\"城市\",\"en\":\"city\",\"type\":\"text\"},"
			    "{\"key\":\"records\",\"zh\":\"记录数\",\"en\":\"records\","
			    "\"type\":\"int\"}],\"rows\":[{\"city\":\"c\",\"records\":1}]},"
			    "\"sections\":[]}");
	size_t s, r;

	for (s = 0; s < 3; s++) {
		json_t *rows = json_array();

		for (r = 0; r < 6; r++)
			json_array_append_new(rows,
					      json_pack("{s:s, s:i, s:f, s:s, s:n}", "day",
							"2026-11-05", "records", (int)r, "share",
							0.5, "status", "ok", "_flag"));
		json_array_append_new(
			json_object_get(doc, "sections"),
			json_pack("{s:s, s:{s:[s,s,s,s,s,s], s:[{s:s, s:[i,i,n,i,i,i]}]}, "
				  "s:{s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},"
				  "{s:s,s:s,s:s,s:s}], s:o}}",
				  "title", "section", "chart", "x", "2026-11-02", "2026-11-03",
				  "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09", "series",
				  "name", "a", "values", 1, 2, 4, 5, 6, "table", "columns", "key",
				  "day", "zh", "日期", "en", "day", "type", "date", "key",
				  "records", "zh", "记录数", "en", "records", "type", "int", "key",
				  "share", "zh", "占比", "en", "share", "type", "number", "key",
				  "status", "zh", "状态", "en", "status", "type", "text", "rows",
				  rows));
	}
	return doc;
}

/* Set (or with value NULL, remove) the member at a dotted path ("sections.2.table.rows");
 * numbers index arrays. */
static void poke(json_t *doc, const char *path, const char *value)
{
	char buf[256], *part, *next, *save = NULL;
	json_t *at = doc, *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;

	ck_assert_msg(!value || v, "bad test value %s", value);
	snprintf(buf, sizeof(buf), "%s", path);
	part = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save))) {
		at = json_is_array(at) ? json_array_get(at, strtoul(part, NULL, 10))
				       : json_object_get(at, part);
		ck_assert_msg(at != NULL, "test path %s", path);
		part = next;
	}
	if (json_is_array(at)) {
		if (v)
			ck_assert_int_eq(json_array_set_new(at, strtoul(part, NULL, 10), v), 0);
		else
			ck_assert_int_eq(json_array_remove(at, strtoul(part, NULL, 10)), 0);
	} else if (v) {
		ck_assert_int_eq(json_object_set_new(at, part, v), 0);
	} else {
		ck_assert_int_eq(json_object_del(at, part), 0);
	}
}

static const struct shape_case {
	const char *path, *value, *message;
} shape_cases[] = {
	{"sections.2.table.rows.5.records", "\"12\"",
	 "sections[2].table.rows[5].records: expected a number for column type \"int\", got a "
	 "string"},
	{"sections.0.table.rows.1.records", "1.5",
	 "sections[0].table.rows[1].records: expected a whole number for column type \"int\", "
	 "got 1.5"},
	{"sections.1.table.rows.0.share", "true",
	 "sections[1].table.rows[0].share: expected a number for column type \"number\", got "
	 "true"},
	{"sections.1.table.rows.0.day", "\"2026-02-30\"",
	 "sections[1].table.rows[0].day: expected a date YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SSZ) "
	 "for column type \"date\", got \"2026-02-30\""},
	{"sections.1.table.rows.2.day", "20261105",
	 "sections[1].table.rows[2].day: expected a date string for column type \"date\", got "
	 "an integer"},
	{"sections.0.table.rows.0.status", "3",
	 "sections[0].table.rows[0].status: expected a string for column type \"text\", got an "
	 "integer"},
	{"sections.1.table.rows.0.recods", "1",
	 "sections[1].table.rows[0].recods: not a column key (did you mean \"records\"?)"},
	{"sections.1.table.rows.0.zzzzzzzz", "1",
	 "sections[1].table.rows[0].zzzzzzzz: not a column key; add the column or drop the "
	 "member"},
	{"sections.0.table.rows.3._flag", "\"bad\"",
	 "sections[0].table.rows[3]._flag: expected \"differs\", \"violation\" or null"},
	{"sections.0.table.rows.3._note", "[]",
	 "sections[0].table.rows[3]._note: expected a string or null, got an array"},
	{"sections.0.table.rows.0", "[]",
	 "sections[0].table.rows[0]: expected an object (one member per column key), got an "
	 "array"},
	{"sections.0.table.rows", NULL,
	 "sections[0].table.rows: missing; give an array of rows ([] for none)"},
	{"sections.0.table.columns", "[]",
	 "sections[0].table.columns: empty; a table needs at least one column"},
	{"sections.0.table.columns.0.key", "\"_x\"",
	 "sections[0].table.columns[0].key: \"_x\": keys starting with \"_\" are kept for _flag "
	 "and _note"},
	{"summary.columns.1.type", "\"integer\"",
	 "summary.columns[1].type: expected \"text\", \"int\", \"date\" or \"number\""},
	{"summary.columns.1.key", "\"city\"",
	 "summary.columns[1].key: \"city\" is already the key of columns[0]"},
	{"summary.columns.0.zh", NULL, "summary.columns[0].zh: missing; give a string"},
	{"summary.columns.0.label", "\"x\"",
	 "summary.columns[0].label: unknown member; expected one of: key, zh, en, type"},
	{"sections.2.table.columns.1.zh", "\"条数\"",
	 "sections[2].table.columns[1]: column \"records\" differs from its definition in "
	 "sections[0].table.columns[1] (zh, en or type); a key must mean the same column in "
	 "every section"},
	{"sections.1.table", NULL,
	 "sections[1].table: missing; give the section's table (columns, rows)"},
	{"sections.1.tabel", "{}", "sections[1].tabel: unknown member (did you mean \"table\"?)"},
	{"sections.1.title", "\"\"", "sections[1].title: empty; give a non-empty string"},
	{"sections.0.chart.series.0.values.2", "\"x\"",
	 "sections[0].chart.series[0].values[2]: expected a number or null, got a string"},
	{"sections.0.chart.x.5", NULL,
	 "sections[0].chart.series[0].values: 6 values for 5 x labels; give one number (or "
	 "null) per x label"},
	{"sections.0.chart.x.1", "7",
	 "sections[0].chart.x[1]: expected a string (an x label), got an integer"},
	{"sections.0.chart.series", "[]",
	 "sections[0].chart.series: not a non-empty array; give a non-empty array of {name, "
	 "values}"},
	{"sections.0.chart.series.0.name", "5",
	 "sections[0].chart.series[0].name: expected a string, got an integer"},
	{"sections", "{}", "sections: expected an array, got an object"},
	{"sections.1", "\"s\"",
	 "sections[1]: expected an object (title, chart, table), got a string"},
	{"kind", "\"recon\"", "kind: expected \"reconcile\", \"violations\" or \"stats\""},
	{"kind", NULL, "kind: missing; give a string"},
	{"section", "[]", "section: unknown member (did you mean \"sections\"?)"},
	{"title", "\"a\\nb\"", "title: must be one line (has a line break)"},
	{"generated_at", "null", "generated_at: expected a string, got null"},
	{"params", "[]", "params: expected an object, got an array"},
	{"notes.0", "5", "notes[0]: expected a string, got an integer"},
	{"summary.rows", "{}", "summary.rows: expected an array of rows, got an object"},
};

START_TEST(shape_errors)
{
	const struct shape_case *c = &shape_cases[_i];
	json_t *doc = shape_doc();
	int fmt;

	poke(doc, c->path, c->value);
	for (fmt = SPGW_REPORT_CSV; fmt <= SPGW_REPORT_HTML; fmt++) {
		struct spgw_error err = {0};
		enum spgw_rc rc;
		size_t n;
		char *out = render(doc, (enum spgw_report_format)fmt, &n, &rc, &err);

		ck_assert_int_eq(rc, SPGW_E_INVALID);
		ck_assert_int_eq(err.code, SPGW_E_INVALID);
		ck_assert_str_eq(err.text, c->message);
		ck_assert_uint_eq(n, 0); /* nothing written before the check */
		free(out);
	}
	json_decref(doc);
}
END_TEST

/* The base of the shape cases is valid, and so are the variants the header allows. */
START_TEST(shape_accepted)
{
	json_t *doc = shape_doc();
	static const char *const ok[][2] = {
		{"sections.0.table.rows.0.records", "12.0"},
		{"sections.0.table.rows.0.records", "null"},
		{"sections.0.table.rows.0.day", "\"2026-11-05T08:00:00+08:00\""},
		{"sections.0.table.rows.1.day", "\"2024-02-29 23:59\""},
		{"sections.0.table.rows.2.day", "\"2026-11-05T08:00:00.123Z\""},
		{"sections.0.table.rows.3.status", NULL}, /* absent: shown empty */
		{"sections.0.table.rows.4._note", "\"a note without a flag\""},
		{"sections.0.table.rows.5._flag", "\"violation\""},
		{"sections.1.chart", NULL},
		{"sections.2.table.rows", "[]"},
		{"params", "{\"a\":[1,{\"b\":null}],\"c\":true,\"d\":1.5}"},
		{"summary", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int fmt;

		poke(doc, ok[i][0], ok[i][1]);
		for (fmt = SPGW_REPORT_CSV; fmt <= SPGW_REPORT_HTML; fmt++)
			free(render_ok(doc, (enum spgw_report_format)fmt, NULL));
	}
	json_decref(doc);

	/* no sections, no summary: an empty CSV (just its byte order mark), a page with the
	 * title */
	doc = parse("{\"kind\":\"stats\",\"title\":\"t\",\"generated_at\":\"g\"}");
	{
		char *out = render_ok(doc, SPGW_REPORT_CSV, NULL);

		ck_assert_str_eq(out, "\xEF\xBB\xBF");
		free(out);
		out = render_ok(doc, SPGW_REPORT_HTML, NULL);
		ck_assert_ptr_nonnull(strstr(out, "<h1>t</h1>"));
		free(out);
	}
	json_decref(doc);
}
END_TEST

START_TEST(shape_not_an_object)
{
	json_t *doc = json_array();
	struct spgw_error err = {0};
	enum spgw_rc rc;
	char *out = render(doc, SPGW_REPORT_JSON, NULL, &rc, &err);

	ck_assert_int_eq(rc, SPGW_E_INVALID);
	ck_assert_str_eq(err.text, "report: expected a document object, got an array");
	free(out);
	json_decref(doc);
}
END_TEST

/* ---- format names ---- */

START_TEST(format_names)
{
	ck_assert_int_eq(spgw_report_format_parse("csv"), SPGW_REPORT_CSV);
	ck_assert_int_eq(spgw_report_format_parse("JSON"), SPGW_REPORT_JSON);
	ck_assert_int_eq(spgw_report_format_parse("html"), SPGW_REPORT_HTML);
	ck_assert_int_eq(spgw_report_format_parse("htm"), -1);
	ck_assert_int_eq(spgw_report_format_parse("xlsx"), -1);
	ck_assert_int_eq(spgw_report_format_parse(""), -1);
	ck_assert_int_eq(spgw_report_format_parse(NULL), -1);

	ck_assert_int_eq(spgw_report_format_of("out/r.csv"), SPGW_REPORT_CSV);
	ck_assert_int_eq(spgw_report_format_of("R.CSV"), SPGW_REPORT_CSV);
	ck_assert_int_eq(spgw_report_format_of("/a.b/report.Json"), SPGW_REPORT_JSON);
	ck_assert_int_eq(spgw_report_format_of("r.html"), SPGW_REPORT_HTML);
	ck_assert_int_eq(spgw_report_format_of("r.HTM"), SPGW_REPORT_HTML);
	ck_assert_int_eq(spgw_report_format_of("r.html.bak"), -1);
	ck_assert_int_eq(spgw_report_format_of("a.csv/report"), -1);
	ck_assert_int_eq(spgw_report_format_of("report"), -1);
	ck_assert_int_eq(spgw_report_format_of("report."), -1);
	ck_assert_int_eq(spgw_report_format_of(".csv.txt"), -1);
	ck_assert_int_eq(spgw_report_format_of(NULL), -1);
}
END_TEST

/* ---- saving ---- */

static char dir[64];

static void dir_make(void)
{
	snprintf(dir, sizeof(dir), "/tmp/spgw-test-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

/* The names in the directory, sorted and joined with "|". */
static char *dir_list(void)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), i;
	char *out = calloc(1, 4096);

	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			size_t len = strlen(out);

			snprintf(out + len, 4096 - len, "%s%s", len ? "|" : "", names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(save_writes_each_format)
{
	static const char *const names[] = {"r.csv", "r.JSON", "r.htm"};
	static const enum spgw_report_format fmts[] = {SPGW_REPORT_CSV, SPGW_REPORT_JSON,
						       SPGW_REPORT_HTML};
	json_t *doc = city_doc();
	mode_t old = umask(027);
	char path[256], *list;
	size_t i;

	dir_make();
	for (i = 0; i < 3; i++) {
		struct spgw_error err = {0};
		struct stat st;
		char *want = render_ok(doc, fmts[i], NULL), *got;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		put_file(path, "an older report");
		ck_assert_msg(spgw_report_save(doc, path, &err) == SPGW_OK, "%s", err.text);
		got = slurp(path);
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0640); /* 0666 less the umask */
		free(got);
		free(want);
	}
	umask(old);
	list = dir_list();
	ck_assert_str_eq(list, "r.JSON|r.csv|r.htm"); /* and no temporary file left */
	free(list);
	dir_remove();
	json_decref(doc);
}
END_TEST

START_TEST(save_refuses_without_leaving_anything)
{
	json_t *doc = shape_doc();
	struct spgw_error err = {0};
	char path[256], *list, *got;

	dir_make();
	snprintf(path, sizeof(path), "%s/report.html", dir);
	put_file(path, "an older report");

	/* a shape error: the old report stays as it was, nothing else appears */
	poke(doc, "sections.2.table.rows.5.records", "\"12\"");
	ck_assert_int_eq(spgw_report_save(doc, path, &err), SPGW_E_INVALID);
	ck_assert_str_eq(err.text, "sections[2].table.rows[5].records: expected a number for "
				   "column type \"int\", got a string");
	got = slurp(path);
	ck_assert_str_eq(got, "an older report");
	free(got);
	poke(doc, "sections.2.table.rows.5.records", "5");

	/* a name that says no format */
	spgw_error_clear(&err);
	snprintf(path, sizeof(path), "%s/report.txt", dir);
	ck_assert_int_eq(spgw_report_save(doc, path, &err), SPGW_E_USAGE);
	ck_assert_str_eq(err.source, path);
	ck_assert_ptr_nonnull(strstr(err.text, ".csv, .json or .html"));

	/* a directory that is not there */
	spgw_error_clear(&err);
	snprintf(path, sizeof(path), "%s/missing/report.csv", dir);
	ck_assert_int_eq(spgw_report_save(doc, path, &err), SPGW_E_IO);
	ck_assert_str_eq(err.source, path);
	ck_assert_ptr_nonnull(strstr(err.text, "No such file or directory"));

	/* memory short before the temporary file is named */
	spgw_error_clear(&err);
	snprintf(path, sizeof(path), "%s/new.csv", dir);
	spgw_mem_fail_after(0);
	ck_assert_int_eq(spgw_report_save(doc, path, &err), SPGW_E_NOMEM);
	spgw_mem_fail_after(-1);

	list = dir_list();
	ck_assert_str_eq(list, "report.html");
	free(list);
	dir_remove();
	json_decref(doc);
}
END_TEST

/* The disk fills up half-way (a file size limit makes write() fail with EFBIG): the error
 * says so, the old report is untouched and the partial one is gone. */
START_TEST(save_write_failure_is_atomic)
{
	json_t *doc = city_doc();
	struct spgw_error err = {0};
	struct rlimit old, small;
	char path[256], *list, *got;
	enum spgw_rc rc;

	dir_make();
	snprintf(path, sizeof(path), "%s/report.html", dir);
	put_file(path, "an older report");
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 10000; /* the page is far larger */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = spgw_report_save(doc, path, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	ck_assert_int_eq(rc, SPGW_E_IO);
	ck_assert_str_eq(err.source, path);
	ck_assert_msg(strstr(err.text, "File too large") != NULL, "%s", err.text);
	got = slurp(path);
	ck_assert_str_eq(got, "an older report");
	free(got);
	list = dir_list();
	ck_assert_str_eq(list, "report.html");
	free(list);
	dir_remove();
	json_decref(doc);
}
END_TEST

/* A stream that cannot be written reports SPGW_E_IO rather than success. */
START_TEST(write_to_failing_stream)
{
	json_t *doc = city_doc();
	struct spgw_error err = {0};
	FILE *f = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(spgw_report_write(doc, SPGW_REPORT_HTML, f, &err), SPGW_E_IO);
	ck_assert_msg(strstr(err.text, "No space left on device") != NULL, "%s", err.text);
	fclose(f);
	json_decref(doc);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, csv_exact_bytes);
	tcase_add_test(tc, csv_summary_alone);
	tcase_add_test(tc, json_round_trip);
	tcase_add_test(tc, html_content);
	tcase_add_test(tc, html_no_external_reference);
	tcase_add_test(tc, html_escaping);
	tcase_add_test(tc, control_characters);
	tcase_add_test(tc, chart_edges);
	tcase_add_loop_test(tc, shape_errors, 0, sizeof(shape_cases) / sizeof(shape_cases[0]));
	tcase_add_test(tc, shape_accepted);
	tcase_add_test(tc, shape_not_an_object);
	tcase_add_test(tc, format_names);
	tcase_add_test(tc, save_writes_each_format);
	tcase_add_test(tc, save_refuses_without_leaving_anything);
	tcase_add_test(tc, save_write_failure_is_atomic);
	tcase_add_test(tc, write_to_failing_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
