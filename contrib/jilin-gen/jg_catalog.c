/*
 * The item catalog (config/catalog/jilin.json, jilin spec §1): what the generator needs of
 * it is each flow's code and type and each item's code, version, stage, kind, promised days
 * and department. The gateway checks the catalog itself (spgw check-config); here a problem
 * is reported with the file and the JSON pointer of the entry, and stops the run.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg.h"

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	size_t k;

	snprintf(err, errlen, "%s: ", path);
	k = strlen(err);
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - k, fmt, ap);
	va_end(ap);
	return -1;
}

static int get_str(json_t *o, const char *key, char *out, size_t n)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= n)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_int(json_t *o, const char *key, int lo, int hi, int *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = (int)json_integer_value(v);
	return 0;
}

static int dept_index(struct jg_catalog *c, const char *dept)
{
	int i;

	for (i = 0; i < c->ndepts; i++)
		if (strcmp(c->depts[i], dept) == 0)
			return i;
	if (c->ndepts == JG_MAX_DEPTS)
		return -1;
	snprintf(c->depts[c->ndepts], sizeof(c->depts[0]), "%s", dept);
	return c->ndepts++;
}

int jg_catalog_load(const char *path, struct jg_catalog *c, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *a, *o;
	size_t i;
	int rc = -1, type;

	memset(c, 0, sizeof(*c));
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line > 0)
			snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		else /* cannot be read at all: jansson's text names the file and why */
			snprintf(err, errlen, "%s (give --catalog config/catalog/jilin.json)",
				 je.text);
		return -1;
	}
	a = json_object_get(root, "stages");
	if (!json_is_array(a) || json_array_size(a) != 4) {
		fail(err, errlen, path, "/stages: must list the four stages");
		goto out;
	}
	c->nstages = 4;
	a = json_object_get(root, "flows");
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 16) {
		fail(err, errlen, path, "/flows: must list 1 to 16 flows");
		goto out;
	}
	json_array_foreach(a, i, o)
	{
		struct jg_flow *f = &c->flows[c->nflows];

		if (get_str(o, "code", f->code, sizeof(f->code)) ||
		    get_str(o, "version", f->version, sizeof(f->version))) {
			fail(err, errlen, path,
			     "/flows/%zu: needs \"code\" and \"version\" strings", i);
			goto out;
		}
		if (get_int(o, "type", 1, 9, &f->type)) {
			fail(err, errlen, path, "/flows/%zu/type: must be an integer 1..9 (SPLCLX)",
			     i);
			goto out;
		}
		c->nflows++;
	}
	for (type = 1; type <= 5; type++)
		if (!jg_catalog_flow(c, type)) {
			fail(err, errlen, path,
			     "/flows: no flow of type %d (the generator needs SPLCLX 1..5)", type);
			goto out;
		}
	a = json_object_get(root, "items");
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 10000) {
		fail(err, errlen, path, "/items: must list 1 to 10000 items");
		goto out;
	}
	c->items = calloc(json_array_size(a), sizeof(*c->items));
	if (!c->items) {
		fail(err, errlen, path, "out of memory for %zu items", json_array_size(a));
		goto out;
	}
	json_array_foreach(a, i, o)
	{
		struct jg_item *it = &c->items[c->nitems];
		char kind[16];

		if (get_str(o, "code", it->code, sizeof(it->code)) ||
		    get_str(o, "version", it->version, sizeof(it->version)) ||
		    get_str(o, "name", it->name, sizeof(it->name)) ||
		    get_str(o, "dept", it->dept, sizeof(it->dept)) ||
		    get_str(o, "kind", kind, sizeof(kind))) {
			fail(err, errlen, path,
			     "/items/%zu: needs \"code\", \"version\", \"name\", \"dept\" and "
			     "\"kind\" as strings",
			     i);
			goto out;
		}
		if (strcmp(kind, "main") == 0)
			it->kind = JG_MAIN;
		else if (strcmp(kind, "parallel") == 0)
			it->kind = JG_PARALLEL;
		else if (strcmp(kind, "special") == 0)
			it->kind = JG_SPECIAL;
		else {
			fail(err, errlen, path,
			     "/items/%zu/kind: \"%s\" is not main, parallel or special", i, kind);
			goto out;
		}
		if (get_int(o, "stage", 1, 4, &it->stage)) {
			fail(err, errlen, path, "/items/%zu/stage: must be an integer 1..4", i);
			goto out;
		}
		if (get_int(o, "promised_days", 1, 365, &it->promised_days)) {
			fail(err, errlen, path,
			     "/items/%zu/promised_days: must be an integer 1..365 (working days)",
			     i);
			goto out;
		}
		it->dept_idx = dept_index(c, it->dept);
		if (it->dept_idx < 0) {
			fail(err, errlen, path, "/items/%zu/dept: more than %d departments", i,
			     JG_MAX_DEPTS);
			goto out;
		}
		c->nitems++;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc)
		jg_catalog_free(c);
	return rc;
}

void jg_catalog_free(struct jg_catalog *c)
{
	free(c->items);
	c->items = NULL;
	c->nitems = 0;
}

const struct jg_flow *jg_catalog_flow(const struct jg_catalog *c, int type)
{
	int i;

	for (i = 0; i < c->nflows; i++)
		if (c->flows[i].type == type)
			return &c->flows[i];
	return NULL;
}
