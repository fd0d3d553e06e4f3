/*
 * The "provincial" plugin: reads the provincial approval platform's PostgreSQL database, in
 * which eight cities share one set of tables (schema jlsp, each row tagged with area_code).
 * One .so serves the eight sources; each instance reads its own city's rows only.
 * plugins/provincial/README.md is the user's guide; this file holds the descriptor, the
 * settings, create/destroy and the helpers the other files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provincial_int.h"

/* The longest password line accepted from password_file: a real one is under 100 bytes. */
#define PROV_MAX_PASSWORD 1024

/*
 * The platform's tables, in the order a pull reads them (parents before children, so a first
 * pull delivers projects before their cases), with each one's business day for count():
 * the SPGL count-date of the table it becomes (config/schema/spgl-v3.json "day"). A unit
 * takes its project's 申报时间, a case and a material the day of the case's earliest step.
 * count() counts the rows in force (yxbz 1): a void row is reported with 数据有效标识 0 and
 * is not among what the city holds, as plugin.h asks.
 */
const struct prov_table prov_tables[PROV_NTABLES] = {
	{ "t_project",
	  "SELECT sbsj::text, count(*) FROM {s}.t_project WHERE area_code = $1 "
	  "AND yxbz = 1 AND sbsj BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_unit",
	  "SELECT p.d::text, count(*) FROM {s}.t_unit u JOIN (SELECT gcdm, min(sbsj) AS d "
	  "FROM {s}.t_project WHERE area_code = $1 GROUP BY gcdm) p "
	  "ON p.gcdm = coalesce(u.gcdm, u.xmdm) WHERE u.area_code = $1 AND u.yxbz = 1 "
	  "AND p.d BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_case",
	  "SELECT s.d::text, count(*) FROM {s}.t_case c JOIN (SELECT gcdm, slbh, "
	  "min(blsj)::date AS d FROM {s}.t_step WHERE area_code = $1 GROUP BY gcdm, slbh) s "
	  "ON s.gcdm = c.gcdm AND s.slbh = c.slbh WHERE c.area_code = $1 AND c.yxbz = 1 "
	  "AND s.d BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_step",
	  "SELECT blsj::date::text, count(*) FROM {s}.t_step WHERE area_code = $1 "
	  "AND yxbz = 1 AND blsj >= $2::date AND blsj < $3::date + 1 GROUP BY 1 ORDER BY 1" },
	{ "t_doc",
	  "SELECT pfrq::text, count(*) FROM {s}.t_doc WHERE area_code = $1 "
	  "AND yxbz = 1 AND pfrq BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_tbcx",
	  "SELECT tbcxkssj::text, count(*) FROM {s}.t_tbcx WHERE area_code = $1 "
	  "AND yxbz = 1 AND tbcxkssj BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_material",
	  "SELECT s.d::text, count(*) FROM {s}.t_material m JOIN (SELECT gcdm, slbh, "
	  "min(blsj)::date AS d FROM {s}.t_step WHERE area_code = $1 GROUP BY gcdm, slbh) s "
	  "ON s.gcdm = m.gcdm AND s.slbh = m.slbh WHERE m.area_code = $1 AND m.yxbz = 1 "
	  "AND s.d BETWEEN $2::date AND $3::date GROUP BY 1 ORDER BY 1" },
	{ "t_opinion",
	  "SELECT fksj::date::text, count(*) FROM {s}.t_opinion WHERE area_code = $1 "
	  "AND yxbz = 1 AND fksj >= $2::date AND fksj < $3::date + 1 GROUP BY 1 ORDER BY 1" },
};

static const char *const prov_table_names[PROV_NTABLES + 1] = {
	"t_project", "t_unit", "t_case", "t_step", "t_doc", "t_tbcx", "t_material", "t_opinion",
	NULL,
};

/* The cities on the provincial platform (shared spec section 0), for messages only: any
 * six-digit area_code is read. */
static const struct {
	const char *code, *name;
} prov_cities[] = {
	{ "220200", "吉林市" }, { "220300", "四平市" }, { "220400", "辽源市" },
	{ "220500", "通化市" }, { "220600", "白山市" }, { "220700", "松原市" },
	{ "220800", "白城市" }, { "222400", "延边朝鲜族自治州" },
};

static const struct spgw_plugin_option prov_options[] = {
	{ "conninfo", SPGW_OPT_STRING, 1, NULL,
	  "libpq connection string without a password, e.g. \"host=127.0.0.1 port=18432 "
	  "dbname=jlsp user=spgw_reader\"" },
	{ "password_file", SPGW_OPT_STRING, 0, NULL,
	  "file whose first line is the password (mode 0600; relative to the source file)" },
	{ "password", SPGW_OPT_SECRET, 0, NULL, "the password itself (prefer password_file)" },
	{ "area_code", SPGW_OPT_STRING, 0, "the source's region",
	  "the city's area_code in the database; must equal the source's region" },
	{ "schema", SPGW_OPT_STRING, 0, "jlsp", "schema holding the platform's tables" },
	{ "tables", SPGW_OPT_ARRAY, 0, "all eight",
	  "tables to read, of t_project t_unit t_case t_step t_doc t_tbcx t_material t_opinion" },
	{ "page_size", SPGW_OPT_INT, 0, "1000", "rows per page, one commit each, 1 to 5000" },
	{ "statement_timeout", SPGW_OPT_INT, 0, "30000",
	  "milliseconds one query may run (100 to 3600000); keep it under the source's timeout" },
	{ "connect_timeout", SPGW_OPT_INT, 0, "10", "seconds to wait for a connection, 1 to 600" },
	{ "settle_seconds", SPGW_OPT_INT, 0, "0",
	  "leave rows changed in the last N seconds for the next pull (0 to 86400)" },
	{ NULL, 0, 0, NULL, NULL },
};

/* --- shared helpers --- */

int prov_buf_reserve(struct pbuf *b, size_t n, size_t max)
{
	size_t cap;
	char *p;

	if (n > max || b->len > max - n)
		return 1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > max + 1)
		cap = max + 1;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int prov_buf_add(struct pbuf *b, const void *p, size_t n, size_t max)
{
	int rc = prov_buf_reserve(b, n, max);

	if (rc)
		return rc;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int prov_buf_str(struct pbuf *b, const char *s, size_t max)
{
	return prov_buf_add(b, s, strlen(s), max);
}

void prov_buf_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int prov_table_index(const char *name)
{
	int i;

	for (i = 0; i < PROV_NTABLES; i++)
		if (!strcmp(name, prov_tables[i].name))
			return i;
	return -1;
}

void prov_log(const struct spgw_host *host, enum spgw_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!host || host->struct_size < offsetof(struct spgw_host, log) + sizeof(host->log) ||
	    !host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	host->log(host->ctx, level, "%s", line);
}

int prov_fail(struct spgw_plugin_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && !err->text[0]) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return rc;
}

int prov_sql(const struct prov_source *src, const char *sql, const char *table,
	     struct pbuf *out)
{
	const char *p;

	out->len = 0;
	/* the schema is checked to be a plain lower-case name and the table is one of
	 * prov_tables, so neither needs quoting */
	while ((p = strchr(sql, '{')) && (p[1] == 's' || p[1] == 't') && p[2] == '}') {
		if (prov_buf_add(out, sql, (size_t)(p - sql), PROV_MAX_RECORD) ||
		    prov_buf_str(out, p[1] == 's' ? src->s.schema : table ? table : "",
				 PROV_MAX_RECORD))
			return -1;
		sql = p + 3;
	}
	return prov_buf_str(out, sql, PROV_MAX_RECORD) ? -1 : 0;
}

int prov_day_ok(const char *s)
{
	int i;

	if (!s || strlen(s) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

const char *prov_city(const struct prov_source *src, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(prov_cities) / sizeof(prov_cities[0]); i++)
		if (!strcmp(prov_cities[i].code, src->s.area)) {
			snprintf(buf, len, "%s %s", prov_cities[i].name, src->s.area);
			return buf;
		}
	snprintf(buf, len, "city %s", src->s.area);
	return buf;
}

/* --- settings --- */

static int six_digits(const char *s)
{
	int i;

	for (i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[6] == '\0';
}

static int ident_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > PROV_MAX_IDENT || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The password from the first line of `path`, which only its owner may read (as libpq
 * requires of ~/.pgpass). The message names the file, never its content. */
static int read_password_file(const char *path, char **out, struct spgw_plugin_error *err)
{
	char buf[PROV_MAX_PASSWORD + 2];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd, rc = SPGW_PLUGIN_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: password_file \"%.200s\": %s: "
				 "give the file holding spgw_reader's password (paths are relative "
				 "to the source file)", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: password_file \"%.200s\" is not "
			       "a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: password_file \"%.200s\" has "
			       "mode %04o, which lets others read or change it; run chmod 600 on "
			       "it",
			       path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		rc = prov_fail(err, SPGW_PLUGIN_RETRY, "settings: password_file \"%.200s\": %s",
			       path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len > PROV_MAX_PASSWORD) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: password_file \"%.200s\": the "
			       "first line is longer than %d bytes", path, PROV_MAX_PASSWORD);
		goto out;
	}
	buf[len] = '\0';
	if (!len || strlen(buf) != len) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: password_file \"%.200s\": the "
			       "first line is empty or holds a NUL byte; write the password on it",
			       path);
		goto out;
	}
	*out = strdup(buf);
	if (!*out)
		rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
out:
	memset(buf, 0, sizeof(buf));
	close(fd);
	return rc;
}

/* Refuse a conninfo libpq cannot read or that carries a password. libpq's own message is not
 * shown: it can quote the text around the problem, which may be a password. */
static int check_conninfo(const char *conninfo, struct spgw_plugin_error *err)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	int rc = SPGW_PLUGIN_OK;

	opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		PQfreemem(msg);
		return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: conninfo is not a libpq "
				 "connection string; write key=value pairs, e.g. \"host=127.0.0.1 "
				 "port=18432 dbname=jlsp user=spgw_reader\"");
	}
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0])
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: conninfo holds a "
				       "password; remove it and put it in password_file (0600), so "
				       "it is never in a configuration file others read");
	PQconninfoFree(opts);
	return rc;
}

static int set_long(json_t *o, const char *key, long lo, long hi, long *out,
		    struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return SPGW_PLUGIN_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"%s\" must be a whole number "
				 "from %ld to %ld", key, lo, hi);
	*out = (long)json_integer_value(v);
	return SPGW_PLUGIN_OK;
}

static int set_tables(json_t *o, struct prov_settings *s, struct spgw_plugin_error *err)
{
	json_t *v = json_object_get(o, "tables"), *t;
	size_t i;
	int k, j;

	if (!v) {
		for (k = 0; k < PROV_NTABLES; k++)
			s->table[k] = k;
		s->ntables = PROV_NTABLES;
		return SPGW_PLUGIN_OK;
	}
	if (!json_is_array(v) || !json_array_size(v))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"tables\" must be a non-empty "
				 "list of table names");
	json_array_foreach(v, i, t) {
		k = json_is_string(t) ? prov_table_index(json_string_value(t)) : -1;
		if (k < 0)
			return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: tables[%zu] is not one "
					 "of t_project t_unit t_case t_step t_doc t_tbcx "
					 "t_material t_opinion", i);
		for (j = 0; j < s->ntables; j++)
			if (s->table[j] == k)
				return prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"tables\" "
						 "names %s twice", prov_tables[k].name);
		s->table[s->ntables++] = k;
	}
	return SPGW_PLUGIN_OK;
}

static int parse_settings(const char *text, const char *region, struct prov_settings *s,
			  struct spgw_plugin_error *err)
{
	json_t *o = json_loads(text ? text : "{}", 0, NULL), *v, *pw, *pwf;
	int rc = SPGW_PLUGIN_OK;

	s->page_size = 1000;
	s->statement_timeout_ms = 30000;
	s->connect_timeout_s = 10;
	strcpy(s->schema, "jlsp");
	if (!json_is_object(o)) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings are not a JSON object");
		goto out;
	}
	if (!region || !six_digits(region)) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "the source's region \"%.16s\" is not a "
			       "six-digit 行政区划代码", region ? region : "");
		goto out;
	}
	strcpy(s->region, region);
	v = json_object_get(o, "conninfo");
	if (!json_is_string(v) || !json_string_length(v)) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"conninfo\" is required, e.g. "
			       "\"host=127.0.0.1 port=18432 dbname=jlsp user=spgw_reader\"");
		goto out;
	}
	rc = check_conninfo(json_string_value(v), err);
	if (rc)
		goto out;
	s->conninfo = strdup(json_string_value(v));
	if (!s->conninfo) {
		rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
		goto out;
	}
	/* area_code: the source's region unless given, and then it must be the region. A
	 * source file copied from another city with only one of the two changed would report
	 * one city's approvals under another's code. */
	strcpy(s->area, region);
	v = json_object_get(o, "area_code");
	if (v) {
		if (!json_is_string(v) || !six_digits(json_string_value(v))) {
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"area_code\" must be "
				       "six digits, e.g. \"220200\"");
			goto out;
		}
		if (strcmp(json_string_value(v), region)) {
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "city config points at the wrong "
				       "region code: settings.area_code is %s but the source's "
				       "region is %s; correct one of them in the source file (the "
				       "area_code selects whose rows are read, the region is what "
				       "they are reported as)", json_string_value(v), region);
			goto out;
		}
	}
	v = json_object_get(o, "schema");
	if (v) {
		if (!json_is_string(v) || !ident_ok(json_string_value(v))) {
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"schema\" must be a "
				       "plain lower-case name (a-z 0-9 _, at most 63), e.g. "
				       "\"jlsp\"");
			goto out;
		}
		strcpy(s->schema, json_string_value(v));
	}
	rc = set_tables(o, s, err);
	if (!rc)
		rc = set_long(o, "page_size", 1, PROV_MAX_PAGE, &s->page_size, err);
	if (!rc)
		rc = set_long(o, "statement_timeout", 100, 3600000, &s->statement_timeout_ms, err);
	if (!rc)
		rc = set_long(o, "connect_timeout", 1, 600, &s->connect_timeout_s, err);
	if (!rc)
		rc = set_long(o, "settle_seconds", 0, 86400, &s->settle_seconds, err);
	if (rc)
		goto out;
	pw = json_object_get(o, "password");
	pwf = json_object_get(o, "password_file");
	if (pw && pwf) {
		rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: give \"password_file\" or "
			       "\"password\", not both");
		goto out;
	}
	if (pwf) {
		if (!json_is_string(pwf) || !json_string_length(pwf)) {
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"password_file\" must "
				       "be a non-empty string");
			goto out;
		}
		rc = read_password_file(json_string_value(pwf), &s->password, err);
	} else if (pw) {
		if (!json_is_string(pw) || !json_string_length(pw)) {
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "settings: \"password\" must be a "
				       "non-empty string");
			goto out;
		}
		s->password = strdup(json_string_value(pw));
		if (!s->password)
			rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory reading settings");
	}
out:
	json_decref(o);
	return rc;
}

static void settings_free(struct prov_settings *s)
{
	free(s->conninfo);
	if (s->password) {
		/* volatile: the wipe must not be optimised away as a dead store */
		volatile char *p = s->password;

		while (*p)
			*p++ = '\0';
		free(s->password);
	}
	memset(s, 0, sizeof(*s));
}

static void prov_destroy(void *ctx)
{
	struct prov_source *src = ctx;

	if (!src)
		return;
	prov_db_close(src);
	prov_buf_free(&src->json);
	prov_buf_free(&src->cursor);
	prov_buf_free(&src->keys);
	free(src->kind);
	free(src->key_off);
	settings_free(&src->s);
	free(src);
}

static int prov_create(const char *settings, const char *region, const struct spgw_host *host,
		       void **ctx, struct spgw_plugin_error *err)
{
	struct prov_source *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory creating the source");
	src->host = host;
	/* Connecting waits for pull() or count(), so that a server that is down is reported
	 * with the table and position the pull was about to read. */
	rc = parse_settings(settings, region, &src->s, err);
	if (rc)
		goto out;
	*ctx = src;
	src = NULL;
out:
	prov_destroy(src);
	return rc;
}

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "provincial",
	.version = "1.1.0",
	.description = "the provincial approval platform's PostgreSQL database (schema jlsp), "
		       "one source per city",
	.tables = prov_table_names,
	.options = prov_options,
	.create = prov_create,
	.pull = prov_pull,
	.count = prov_count,
	.destroy = prov_destroy,
	.pull_range = prov_pull_range,
};
