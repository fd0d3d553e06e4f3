/* `spgw plugin-check FILE.so`: load a plugin in isolation and report what it declares. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "plugin_host.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw plugin-check [--json] FILE.so\n"
		"\n"
		"Loads the plugin in its own process (as ingest would), checks its ABI version and\n"
		"descriptor, and prints its name, version, ABI, the source tables it emits, the\n"
		"settings it takes and whether it can count records for reconciliation.\n"
		"Exit status 0 when the plugin loads, 5 when it does not.\n");
}

static void print_info(const json_t *info)
{
	const json_t *tables = json_object_get(info, "tables");
	const json_t *options = json_object_get(info, "options");
	const json_t *v;
	size_t i;

	printf("plugin:      %s\n", json_string_value(json_object_get(info, "name")));
	printf("version:     %s\n", json_string_value(json_object_get(info, "version")));
	printf("file:        %s\n", json_string_value(json_object_get(info, "path")));
	printf("ABI:         %lld (descriptor %lld bytes)\n",
	       (long long)json_integer_value(json_object_get(info, "abi")),
	       (long long)json_integer_value(json_object_get(info, "struct_size")));
	v = json_object_get(info, "description");
	if (json_is_string(v))
		printf("description: %s\n", json_string_value(v));
	printf("counts:      %s\n", json_is_true(json_object_get(info, "count"))
					    ? "yes (reconciliation can ask it for counts per day)"
					    : "no (reconciliation shows this source as not counted)");
	if (json_is_array(tables)) {
		printf("tables:     ");
		json_array_foreach(tables, i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	} else {
		printf("tables:      any\n");
	}
	printf("settings:%s\n", json_array_size(options) ? "" : "    none");
	json_array_foreach(options, i, v) {
		const char *def = json_string_value(json_object_get(v, "default"));
		const char *hlp = json_string_value(json_object_get(v, "help"));

		printf("  %-18s %-7s %-9s %s%s%s%s\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "type")),
		       json_is_true(json_object_get(v, "required")) ? "required" : "optional",
		       hlp ? hlp : "", def ? " (default: " : "", def ? def : "", def ? ")" : "");
	}
}

int spgw_cmd_plugin_check(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_error err;
	json_t *info = NULL;
	const char *path = NULL;
	int as_json = 0, i;

	(void)ctx;
	if (spgw_cmd_wants_help(argc, argv)) {
		help(stdout);
		return SPGW_EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			help(stderr);
			return SPGW_EXIT_USAGE;
		}
	}
	if (!path) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	if (spgw_host_describe(path, 10000, &info, &err)) {
		spgw_cmd_perror(&err);
		return SPGW_EXIT_PLUGIN;
	}
	if (as_json) {
		char *s = json_dumps(info, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		print_info(info);
	}
	json_decref(info);
	return SPGW_EXIT_OK;
}
