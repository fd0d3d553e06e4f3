/*
 * The connection to the provincial database, and what a failure means. Every failure is
 * sorted once, here: RETRY for what passes by itself (the server down or restarting, a
 * connection cut, a timeout), ERROR for what a person must fix (a password refused, a
 * permission missing, a table renamed), each with the city, the table, the position and the
 * next step. libpq's messages never hold the password, and the settings' conninfo cannot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provincial_int.h"

void prov_db_message(const char *msg, char *out, size_t len)
{
	size_t o = 0;
	int gap = 0; /* 1: white space seen, 2: a line end seen */

	if (!len)
		return;
	if (!msg || !*msg)
		msg = "no message from the server";
	/* one line: white space runs become one space, line ends "; " (libpq's hints come on
	 * lines of their own) */
	for (; *msg && o + 1 < len; msg++) {
		if (*msg == '\n' || *msg == '\r') {
			gap = o > 0 ? 2 : 0;
			continue;
		}
		if (*msg == '\t' || *msg == ' ') {
			if (o > 0 && !gap)
				gap = 1;
			continue;
		}
		if (gap == 2 && o + 3 < len && out[o - 1] != '.' && out[o - 1] != ':')
			out[o++] = ';';
		if (gap && o + 2 < len)
			out[o++] = ' ';
		gap = 0;
		out[o++] = *msg;
	}
	out[o] = '\0';
}

void prov_db_close(struct prov_source *src)
{
	if (src->conn)
		PQfinish(src->conn);
	src->conn = NULL;
}

/* What a failed connection attempt means. libpq gives no SQLSTATE for it, so the server's
 * words are read: English, as the server's lc_messages is set for it by pg.sh; a server in
 * another language still gets RETRY or ERROR by whether it answered at all. */
static int connect_fail(struct prov_source *src, const char *what, struct spgw_plugin_error *err)
{
	const char *raw = PQerrorMessage(src->conn);
	char msg[256], city[64], pos[96];
	const char *user = PQuser(src->conn);
	int k = prov_table_index(what);

	prov_db_message(raw, msg, sizeof(msg));
	prov_city(src, city, sizeof(city));
	if (k >= 0)
		prov_pos_text(&src->pos[k], pos, sizeof(pos));
	else
		snprintf(pos, sizeof(pos), "(count)");
	if (PQconnectionNeedsPassword(src->conn))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the provincial database asks user "
				 "%s for a password and none was given: set \"password_file\" in "
				 "the source's settings (%s)", city, user ? user : "?", msg);
	if (strstr(raw, "password authentication failed"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the provincial database refused "
				 "the password of user %s: put the current one in the "
				 "\"password_file\" of the source's settings", city,
				 user ? user : "?");
	if (strstr(raw, "no pg_hba.conf entry"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the provincial database does not "
				 "let user %s connect from this host (pg_hba.conf): ask its DBA to "
				 "allow it (%s)", city, user ? user : "?", msg);
	if (strstr(raw, "too many") || strstr(raw, "starting up") ||
	    strstr(raw, "shutting down") || strstr(raw, "recovery mode") ||
	    strstr(raw, "not yet accepting"))
		return prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s %s: the provincial database "
				 "is busy or restarting: %s", city, what, pos, msg);
	if (strstr(raw, "FATAL"))
		/* the server answered and refused: a missing role or database, no CONNECT
		 * privilege; retrying will not change it */
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the provincial database refused "
				 "the connection: %s; check \"conninfo\" (dbname, user) and the "
				 "user's rights with the database's DBA", city, msg);
	return prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s %s: cannot connect to the "
			 "provincial database: %s", city, what, pos, msg);
}

int prov_db_open(struct prov_source *src, const char *what, struct spgw_plugin_error *err)
{
	const char *keys[6], *vals[6];
	const char *params[1];
	char timeout[24], app[64], stmt_ms[24];
	PGresult *res;
	int n = 0, rc;

	if (src->conn && PQstatus(src->conn) == CONNECTION_OK)
		return SPGW_PLUGIN_OK;
	prov_db_close(src);
	snprintf(timeout, sizeof(timeout), "%ld", src->s.connect_timeout_s);
	snprintf(app, sizeof(app), "spgw-provincial-%s", src->s.area);
	/* conninfo first, expanded; what follows overrides it: our timeout, and SQL_ASCII so
	 * the server converts nothing and the bytes arrive as stored (GBK included) */
	keys[n] = "dbname", vals[n++] = src->s.conninfo;
	keys[n] = "connect_timeout", vals[n++] = timeout;
	keys[n] = "fallback_application_name", vals[n++] = app;
	keys[n] = "client_encoding", vals[n++] = "SQL_ASCII";
	if (src->s.password)
		keys[n] = "password", vals[n++] = src->s.password;
	keys[n] = NULL, vals[n] = NULL;
	src->conn = PQconnectdbParams(keys, vals, 1);
	if (!src->conn)
		return prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory connecting");
	if (PQstatus(src->conn) != CONNECTION_OK) {
		rc = connect_fail(src, what, err);
		prov_db_close(src);
		return rc;
	}
	/*
	 * The session, as parameters rather than text: read-only whatever the role's default;
	 * a statement that runs too long is cancelled by the server (and retried next run);
	 * ISO dates and Beijing time so dates and timestamps read as the mapping expects them
	 * and a timestamptz column shows Beijing time; floats in their exact shortest form.
	 */
	snprintf(stmt_ms, sizeof(stmt_ms), "%ld", src->s.statement_timeout_ms);
	params[0] = stmt_ms;
	res = PQexecParams(src->conn,
			   "SELECT set_config('statement_timeout', $1, false), "
			   "set_config('default_transaction_read_only', 'on', false), "
			   "set_config('DateStyle', 'ISO, YMD', false), "
			   "set_config('IntervalStyle', 'iso_8601', false), "
			   "set_config('TimeZone', 'Asia/Shanghai', false), "
			   "set_config('extra_float_digits', '3', false)",
			   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = prov_db_fail(src, res, what, NULL, err);
		PQclear(res);
		prov_db_close(src);
		return rc;
	}
	PQclear(res);
	prov_log(src->host, SPGW_LOG_DEBUG, "connected to %s:%s as %s (server %d, encoding %s)",
		 PQhost(src->conn), PQport(src->conn), PQuser(src->conn),
		 PQserverVersion(src->conn), PQparameterStatus(src->conn, "server_encoding"));
	return SPGW_PLUGIN_OK;
}

/* SQLSTATEs of faults that pass (PostgreSQL appendix A). */
static int transient(const char *st)
{
	static const char *const codes[] = {
		"57P01", /* admin_shutdown: pg_terminate_backend, a fast shutdown */
		"57P02", /* crash_shutdown */
		"57P03", /* cannot_connect_now: starting up */
		"57P05", /* idle_session_timeout */
		"57014", /* query_canceled: statement_timeout */
		"40001", /* serialization_failure */
		"40P01", /* deadlock_detected */
		"55P03", /* lock_not_available */
		"25P03", /* idle_in_transaction_session_timeout */
		NULL,
	};
	int i;

	if (!st)
		return 1; /* no SQLSTATE: libpq's own failure, the connection */
	if (!strncmp(st, "08", 2) || !strncmp(st, "53", 2) || !strncmp(st, "58", 2) ||
	    !strncmp(st, "XX", 2))
		return 1; /* connection, resources, system errors */
	for (i = 0; codes[i]; i++)
		if (!strcmp(st, codes[i]))
			return 1;
	return 0;
}

int prov_db_fail(struct prov_source *src, const PGresult *res, const char *table,
		 const char *where, struct spgw_plugin_error *err)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *raw = res ? PQresultErrorMessage(res) : NULL;
	const char *user = src->conn ? PQuser(src->conn) : NULL;
	char msg[160], city[64], pos[96];
	int k = prov_table_index(table);

	if (!raw || !*raw)
		raw = src->conn ? PQerrorMessage(src->conn) : NULL;
	if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
		raw = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	prov_db_message(raw, msg, sizeof(msg));
	prov_city(src, city, sizeof(city));
	if (!where)
		where = k >= 0 ? prov_pos_text(&src->pos[k], pos, sizeof(pos)) : "(count)";
	if (!user)
		user = "spgw_reader";

	if (!src->conn || PQstatus(src->conn) != CONNECTION_OK) {
		prov_db_close(src);
		return prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s.%s %s: the connection to "
				 "the provincial database was lost (%s)", city, src->s.schema,
				 table, where, msg);
	}
	if (st && !strcmp(st, "57014"))
		return prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s.%s %s: the query ran "
				 "longer than statement_timeout (%ld ms) and was cancelled; if "
				 "this repeats, check the index on (area_code, upd_time, row_id) "
				 "or raise \"statement_timeout\"", city, src->s.schema, table,
				 where, src->s.statement_timeout_ms);
	if (transient(st))
		return prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s.%s %s: %s (SQLSTATE %s)",
				 city, src->s.schema, table, where, msg, st ? st : "none");
	if (!strcmp(st, "42501"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: %s.%s: permission denied to user "
				 "%s, who may not read it; have the provincial database's DBA "
				 "run GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %s.%s TO %s",
				 city,
				 src->s.schema, table, user, src->s.schema, user, src->s.schema,
				 table, user);
	if (!strcmp(st, "42P01"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: table %s.%s does not exist: it "
				 "was renamed or dropped on the provincial platform; have it "
				 "restored under that name, or take \"%s\" out of \"tables\" in "
				 "the source's settings", city, src->s.schema, table, table);
	if (!strcmp(st, "3F000"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: schema %s does not exist (%s): "
				 "correct \"schema\" in the source's settings or \"dbname\" in "
				 "\"conninfo\"", city, src->s.schema, msg);
	if (!strcmp(st, "42703"))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: %s.%s lacks a column this plugin "
				 "needs (%s): every table must keep row_id, area_code and "
				 "upd_time; restore it on the provincial platform", city,
				 src->s.schema, table, msg);
	return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: %s.%s %s: %s (SQLSTATE %s); "
			 "ask the provincial database's DBA", city, src->s.schema, table, where,
			 msg, st);
}
