/*
 * Test driver for gateway/report.c: reads a report document (a JSON file) and saves it with
 * spgw_report_save in the format the output file's extension names. tests/e2e/report-html.sh
 * renders its document with it before opening the page in a headless browser.
 *
 *   report_render DOC.json OUT.csv|OUT.json|OUT.html
 *
 * Exit 0 when written, 1 with the error on stderr, 2 on a wrong command line.
 */
#include <jansson.h>
#include <stdio.h>

#include "report.h"

int main(int argc, char **argv)
{
	struct spgw_error err = {0};
	json_error_t je;
	char line[1024];
	json_t *doc;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DOC.json OUT.csv|OUT.json|OUT.html\n", argv[0]);
		return 2;
	}
	doc = json_load_file(argv[1], 0, &je);
	if (!doc) {
		fprintf(stderr, "%s:%d:%d: %s\n", argv[1], je.line, je.column, je.text);
		return 1;
	}
	if (spgw_report_save(doc, argv[2], &err)) {
		fprintf(stderr, "report_render: %s\n", spgw_error_format(&err, line, sizeof(line)));
		rc = 1;
	}
	json_decref(doc);
	return rc;
}
