/*
 * A source's "settings" against what its plugin declares (spgw_config_check_settings in
 * config.h): unknown settings, wrong types and missing required ones, at file:line:column.
 * Apart from config.c because it needs the plugin's description, not only the files.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "mem.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const option_types[] = { "string", "int", "bool", "number",
					    "array", "object", "secret" };

static int option_fits(const char *type, const json_t *v)
{
	if (!strcmp(type, "string") || !strcmp(type, "secret"))
		return json_is_string(v);
	if (!strcmp(type, "int"))
		return json_is_integer(v);
	if (!strcmp(type, "bool"))
		return json_is_boolean(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "object"))
		return json_is_object(v);
	return 1; /* a type this host does not know: the plugin checks it itself */
}

static const char *option_expect(const char *type)
{
	size_t i;
	static const char *const words[] = { "a string", "an integer", "true or false",
					     "a number", "an array", "an object",
					     "a string (a secret)" };

	for (i = 0; i < NKEYS(option_types); i++)
		if (!strcmp(type, option_types[i]))
			return words[i];
	return type;
}

enum spgw_rc spgw_config_check_settings(const struct spgw_source *src, const json_t *info,
					struct spgw_diag *diag)
{
	size_t n0 = diag->n, dropped0 = diag->dropped, nopt, i, nnames = 0;
	const json_t *options = json_object_get(info, "options"), *opt;
	const char *plugin = json_string_value(json_object_get(info, "name"));
	const struct spgw_jsonpos_at *settings_at = NULL;
	const char **names = NULL;
	struct spgw_diag quiet;
	struct cfile f;
	const char *key;
	json_t *v;
	char k[80];

	if (!plugin)
		plugin = src->plugin ? src->plugin : "?";
	/* The struct keeps no positions: read the file again for them. If it changed or went
	 * away since, the problems are still reported, without a place. */
	spgw_diag_init(&quiet);
	if (!spgw_config_file_load(&f, src->file, &quiet))
		settings_at = spgw_jsonpos_child(f.pos, f.root_at, "settings");
	else if (quiet.dropped || (quiet.n && quiet.items[0].code == SPGW_E_NOMEM))
		spgw_config_nomem(diag, src->file, "checking settings");
	spgw_diag_free(&quiet);
	nopt = json_array_size(options);
	names = spgw_calloc(nopt ? nopt : 1, sizeof(*names));
	if (!names) {
		spgw_config_nomem(diag, src->file, "checking settings");
		goto out;
	}
	for (i = 0; i < nopt; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(options, i),
								     "name"));
		if (name)
			names[nnames++] = name;
	}
	json_object_foreach(src->settings_json, key, v) {
		const struct spgw_jsonpos_at *at = spgw_jsonpos_child(f.pos, settings_at, key);
		const char *type = NULL;

		for (i = 0; i < nopt; i++) {
			opt = json_array_get(options, i);
			if (!strcmp(key, spgw_config_str_or(opt, "name", "")))
				type = spgw_config_str_or(opt, "type", "");
		}
		if (!type) {
			char of[96];

			snprintf(of, sizeof(of), " of plugin \"%s\"", spgw_config_show(plugin, k));
			spgw_config_unknown_key(diag, src->file, at, "setting", of, key, names, nnames);
			continue;
		}
		/* Only the setting's name and its JSON type are told: a secret's value never. */
		if (!option_fits(type, v))
			spgw_config_problem(diag, SPGW_E_CONFIG, src->file, at, 1,
				    "setting \"%s\" of plugin \"%s\": expected %s, got %s",
				    spgw_config_show(key, k), plugin, option_expect(type), spgw_config_json_kind(v));
	}
	for (i = 0; i < nopt; i++) {
		const char *name;

		opt = json_array_get(options, i);
		name = spgw_config_str_or(opt, "name", NULL);
		if (name && json_is_true(json_object_get(opt, "required")) &&
		    !json_object_get(src->settings_json, name))
			spgw_config_problem(diag, SPGW_E_CONFIG, src->file,
				    settings_at ? settings_at : f.root_at, !settings_at,
				    "missing required setting \"%s\" (%s) of plugin \"%s\" in "
				    "\"settings\"",
				    name, option_expect(spgw_config_str_or(opt, "type", "")), plugin);
	}
out:
	spgw_free(names);
	spgw_config_file_free(&f);
	return spgw_config_first_code(diag, n0, dropped0);
}
