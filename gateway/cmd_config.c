/* `spgw check-config` and `spgw schema`: what the configuration and the schema say. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "catalog.h"
#include "cmd.h"
#include "diag.h"
#include "mapping.h"
#include "plugin_host.h"

static void check_help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] check-config\n"
		"\n"
		"Checks the gateway file, every source file, the schema definition, every mapping\n"
		"(each rule must target a real schema table and field) and every plugin (each is\n"
		"loaded in its own process and the source's settings are checked against what it\n"
		"declares) and the approval catalog when the gateway file names one. Prints every\n"
		"problem found, as file:line:column: what is wrong, not the first one only. Exit\n"
		"status 0 when there is none, 3 otherwise.\n");
}

/* Load each distinct mapping file once, checking it against the schema. */
static size_t check_mappings(const struct spgw_config *c, const struct spgw_schema *s,
			     struct spgw_diag *diag)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->nsources; i++) {
		struct spgw_mapping *m = NULL;
		int seen = 0;

		for (j = 0; j < i; j++)
			seen |= !strcmp(c->sources[j].mapping, c->sources[i].mapping);
		if (seen)
			continue;
		n++;
		if (spgw_mapping_load(c->sources[i].mapping, s, &m, diag) == SPGW_OK)
			spgw_mapping_free(m);
	}
	return n;
}

/* Load each source's plugin in isolation and check the source's settings against it. */
static void check_plugins(const struct spgw_config *c, struct spgw_diag *diag)
{
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		const struct spgw_source *src = &c->sources[i];
		struct spgw_error err;
		json_t *info = NULL;

		memset(&err, 0, sizeof(err));
		if (spgw_host_describe(src->plugin_path, 10000, &info, &err)) {
			char text[sizeof(err.text)];

			memcpy(text, err.text, sizeof(text));
			memset(&err, 0, sizeof(err));
			spgw_error_set(&err, SPGW_E_PLUGIN, src->file, 0, 0,
				       "plugin \"%s\" of source \"%s\" cannot be used: %s",
				       src->plugin, src->name, text);
			spgw_diag_add(diag, &err);
			continue;
		}
		spgw_config_check_settings(src, info, diag);
		json_decref(info);
	}
}

size_t spgw_cmd_check(const char *path, struct spgw_config **config, struct spgw_schema **schema,
		      struct spgw_catalog **catalog, struct spgw_diag *diag)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_catalog *cat = NULL;
	size_t nmaps = 0;

	spgw_config_load(path, &c, diag);
	if (c) {
		spgw_schema_load(c->schema_path, &s, diag);
		check_plugins(c, diag);
		if (s)
			nmaps = check_mappings(c, s, diag);
		if (c->catalog_path)
			spgw_catalog_load(c->catalog_path, &cat, diag);
		if (c->calendar_path) {
			struct spgw_calendar *cal = NULL;

			if (spgw_calendar_load(c->calendar_path, &cal, diag) == SPGW_OK)
				spgw_calendar_free(cal);
		}
	}
	*config = c;
	*schema = s;
	if (catalog)
		*catalog = cat;
	else
		spgw_catalog_free(cat);
	return nmaps;
}

int spgw_cmd_check_config(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_catalog *cat = NULL;
	struct spgw_diag diag;
	size_t i, nmaps = 0;
	int status;

	if (spgw_cmd_wants_help(argc, argv)) {
		check_help(stdout);
		return SPGW_EXIT_OK;
	}
	if (argc > 1) {
		check_help(stderr);
		return SPGW_EXIT_USAGE;
	}
	spgw_diag_init(&diag);
	nmaps = spgw_cmd_check(ctx->config_path, &c, &s, &cat, &diag);
	for (i = 0; i < diag.n; i++)
		spgw_cmd_perror(&diag.items[i]);
	if (diag.dropped)
		fprintf(stderr, "spgw: %zu more problems not shown (out of memory)\n",
			diag.dropped);
	if (diag.n || diag.dropped || !c) {
		fprintf(stderr, "spgw: %s: %zu problem(s) found\n", ctx->config_path,
			diag.n + diag.dropped + (c ? 0 : 1));
		status = SPGW_EXIT_CONFIG;
		goto out;
	}
	printf("%s: configuration OK\n", c->path);
	printf("  schema   %s (%s, %zu tables)\n", c->schema_path, spgw_schema_id(s),
	       spgw_schema_table_count(s));
	printf("  mappings %zu checked against the schema\n", nmaps);
	if (cat)
		printf("  catalog  %s (%s: %zu flows, %zu items, %zu definition records per "
		       "region)\n",
		       c->catalog_path, spgw_catalog_name(cat), spgw_catalog_flow_count(cat),
		       spgw_catalog_item_count(cat), spgw_catalog_record_count(cat));
	printf("  sources  %zu\n", c->nsources);
	for (i = 0; i < c->nsources; i++)
		printf("    %-24s region %s  plugin %-12s %s\n", c->sources[i].name,
		       c->sources[i].region, c->sources[i].plugin,
		       c->sources[i].enabled ? "" : "(disabled)");
	status = SPGW_EXIT_OK;
out:
	spgw_diag_free(&diag);
	spgw_catalog_free(cat);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}

static void schema_help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] schema list\n"
		"       spgw [-c FILE] schema show TABLE\n"
		"       spgw schema --file SCHEMA.json (list | show TABLE)\n"
		"\n"
		"list: the tables of the national schema in upload order, with Chinese names.\n"
		"show: one table's fields (中文名, type, length, required, code table, format), its\n"
		"key, parents and business-day rule.\n");
}

int spgw_cmd_schema(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_diag diag;
	struct spgw_error err;
	const char *file = NULL;
	int i = 1, status = SPGW_EXIT_OK;
	size_t k;

	if (spgw_cmd_wants_help(argc, argv)) {
		schema_help(stdout);
		return SPGW_EXIT_OK;
	}
	if (argc > 2 && !strcmp(argv[1], "--file")) {
		file = argv[2];
		i = 3;
	}
	if (i >= argc || (strcmp(argv[i], "list") && strcmp(argv[i], "show")) ||
	    (!strcmp(argv[i], "show") && i + 2 != argc) ||
	    (!strcmp(argv[i], "list") && i + 1 != argc)) {
		schema_help(stderr);
		return SPGW_EXIT_USAGE;
	}
	spgw_diag_init(&diag);
	memset(&err, 0, sizeof(err));
	if (!file) {
		spgw_config_load(ctx->config_path, &c, &diag);
		if (!c) {
			status = SPGW_EXIT_CONFIG;
			goto print;
		}
		file = c->schema_path;
		spgw_diag_free(&diag); /* source problems do not matter here */
		spgw_diag_init(&diag);
	}
	if (spgw_schema_load(file, &s, &diag)) {
		status = SPGW_EXIT_CONFIG;
		goto print;
	}
	if (!strcmp(argv[i], "list")) {
		for (k = 0; k < spgw_schema_table_count(s); k++) {
			const struct spgw_table *t = spgw_schema_table_at(s, k);

			printf("%d  %-22s %s\n", spgw_table_level(t), spgw_table_name(t),
			       spgw_table_zh(t));
		}
	} else if (spgw_schema_show(s, argv[i + 1], stdout, &err)) {
		spgw_cmd_perror(&err);
		status = err.code == SPGW_E_NOTFOUND ? SPGW_EXIT_USAGE : SPGW_EXIT_ERROR;
	}
print:
	for (k = 0; k < diag.n; k++)
		spgw_cmd_perror(&diag.items[k]);
	spgw_diag_free(&diag);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
