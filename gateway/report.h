/*
 * Reports people read: reconciliation (spgw reconcile), violations (spgw violations) and
 * approval statistics (spgw stats) are each built as one report document (JSON, below) and
 * written by this module as CSV, JSON or a self-contained HTML page. The commands decide
 * what is in a report; this module only decides how it looks, the same way for all three.
 *
 * The document (a jansson object; every string UTF-8):
 *
 *   { "kind": "reconcile" | "violations" | "stats",
 *     "title": "对账报告 Reconciliation report",        one line, Chinese then English
 *     "generated_at": "2026-11-23T10:00:00Z",
 *     "params": { "from": "2026-11-01", "to": "2026-11-22", ... },   shown as given
 *     "notes": [ "text", ... ],                             optional lines under the title
 *     "summary": TABLE,                                     one row per city, optional
 *     "sections": [                                         one per city (or item), optional
 *       { "title": "220100 长春市",
 *         "chart": {                                        optional: a line chart
 *           "x": [ "2026-11-01", ... ],                     the x labels (business days)
 *           "series": [ { "name": "地方系统 city system", "values": [ 12, null, ... ] } ] },
 *         "table": TABLE } ] }
 *
 *   TABLE = { "columns": [ { "key": "records", "zh": "记录数", "en": "records",
 *                            "type": "text" | "int" | "date" | "number" } ],
 *             "rows": [ { "<key>": value, ..., "_flag": "differs" | "violation" | null,
 *                         "_note": "why it is flagged" } ] }
 *
 * A row's "_flag" marks it for the eye (highlighted in HTML, a "flag" column in CSV); a
 * value that is null is shown empty ("not counted" is a text value the command puts there
 * itself, never a zero).
 *
 * Formats:
 *   CSV   UTF-8 with a byte order mark (so Excel opens it with the Chinese headers right),
 *         CRLF line ends, RFC 4180 quoting; one header line "中文 English" per column; the
 *         sections' tables one after another with a "section" column first, or the summary
 *         alone when there are no sections; a "flag" and a "note" column last.
 *   JSON  the document itself, indented.
 *   HTML  one file, no network resource of any kind (no scripts, fonts, images or styles
 *         from elsewhere): the title, params and notes, the summary table, then per
 *         section an inline SVG line chart and its table; flagged rows highlighted and
 *         counted in the summary. Text is HTML-escaped everywhere.
 *
 * What the check holds beyond the shape above (doc/reports.md): members not in the shape are
 * refused (a misspelt one would silently vanish from the report); kind, title and
 * generated_at are required; column keys are unique per table, do not start with "_", and
 * one key means the same column (zh, en, type) in every section; a row member that is
 * missing counts as null; "int" takes whole numbers, "date" takes YYYY-MM-DD with an optional
 * time THH:MM[:SS[.fff]] and zone Z or +HH:MM; a chart has at least one x label and series,
 * each series one value per x label. The whole document is checked before the first byte is
 * written.
 */
#ifndef SPGW_REPORT_H
#define SPGW_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "error.h"

enum spgw_report_format {
	SPGW_REPORT_CSV,
	SPGW_REPORT_JSON,
	SPGW_REPORT_HTML,
};

/* The format a file name asks for by its extension (.csv, .json, .html or .htm, any case);
 * -1 when none of them. */
int spgw_report_format_of(const char *path);

/* Parse "csv", "json" or "html"; -1 when none. */
int spgw_report_format_parse(const char *name);

/* Write `doc` to `out` as `format`. SPGW_E_INVALID (naming the member) when the document
 * does not follow the shape above; SPGW_E_IO when writing fails. */
enum spgw_rc spgw_report_write(const json_t *doc, enum spgw_report_format format, FILE *out,
			       struct spgw_error *err);

/* Write `doc` to the file at `path` in the format its extension names: written to a
 * temporary file in the same directory and renamed, so a reader never sees half a report.
 * SPGW_E_USAGE when the extension names no format. */
enum spgw_rc spgw_report_save(const json_t *doc, const char *path, struct spgw_error *err);

#endif
