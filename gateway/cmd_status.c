/* `spgw status`: what the ledger holds, per source, table and state. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] status [--json]\n"
		"\n"
		"Counts per source, region and table: records pending upload, delivered,\n"
		"dead-lettered, and open quarantine entries.\n");
}

struct status_ctx {
	const struct spgw_schema *schema;
	json_t *rows; /* array of {source, region, table, state, count} */
};

static enum spgw_rc add_row(void *ud, const char *source, const char *region, const char *table,
			    const char *state, int64_t count)
{
	struct status_ctx *sc = ud;
	json_t *o = json_pack("{s:s,s:s?,s:s?,s:s,s:I}", "source", source, "region", region,
			      "table", table, "state", state, "count", (json_int_t)count);

	if (!o || json_array_append_new(sc->rows, o))
		return SPGW_E_NOMEM;
	return SPGW_OK;
}

int spgw_cmd_status(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_error err;
	struct status_ctx sc;
	int as_json = argc == 2 && !strcmp(argv[1], "--json");
	int status;
	size_t i;
	json_t *r;

	if (spgw_cmd_wants_help(argc, argv)) {
		help(stdout);
		return SPGW_EXIT_OK;
	}
	if (argc > 1 && !as_json) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	sc.rows = json_array();
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		goto out;
	sc.schema = s;
	if (!sc.rows || spgw_ledger_counts(l, add_row, &sc, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code ? err.code : SPGW_E_NOMEM);
		goto out;
	}
	if (as_json) {
		char *txt = json_dumps(sc.rows, JSON_INDENT(2));

		printf("%s\n", txt ? txt : "[]");
		free(txt);
		goto out;
	}
	/* the Chinese table name takes two columns a character: pad by what the terminal shows */
	printf("%-24s %-6s %-22s ", "source", "region", "table");
	spgw_cmd_cell(stdout, "表名", 26);
	printf("%-12s %10s\n", "state", "records");
	json_array_foreach(sc.rows, i, r) {
		const char *table = json_string_value(json_object_get(r, "table"));
		const struct spgw_table *t = table ? spgw_schema_table(s, table) : NULL;

		printf("%-24s %-6s %-22s ", json_string_value(json_object_get(r, "source")),
		       json_string_value(json_object_get(r, "region")), table ? table : "-");
		spgw_cmd_cell(stdout, t ? spgw_table_zh(t) : "", 26);
		printf("%-12s %10lld\n", json_string_value(json_object_get(r, "state")),
		       (long long)json_integer_value(json_object_get(r, "count")));
	}
	if (!json_array_size(sc.rows))
		printf("(the ledger is empty: run spgw ingest)\n");
out:
	json_decref(sc.rows);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
