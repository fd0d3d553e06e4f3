/*
 * count(): how many rows of each table the platform holds for the city per business day,
 * counted by the database itself (GROUP BY), so reconciliation compares with what the
 * platform really has rather than with what was read. Void rows (yxbz = 0) count too: they
 * are delivered as records with SJYXBS 0, as the national side's `records` counts them.
 * The business day of each table is the SPGL count-date of the table it becomes (prov_tables
 * in provincial.c): rows without one (a case with no step yet) are on no day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provincial_int.h"

static int count_table(struct prov_source *src, int k, const char *from, const char *to,
		       struct spgw_plugin_error *err)
{
	const struct spgw_host *host = src->host;
	const char *table = prov_tables[k].name;
	const char *params[3] = { src->s.area, from, to };
	struct pbuf sql = { 0 };
	PGresult *res = NULL;
	int rc, r;

	if (prov_sql(src, prov_tables[k].day_sql, table, &sql)) {
		rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory");
		goto out;
	}
	rc = prov_db_open(src, table, err);
	if (rc)
		goto out;
	/* one statement: its own read-only transaction (the session's default) */
	res = PQexecParams(src->conn, sql.p, 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = prov_db_fail(src, res, table, "(count)", err);
		goto out;
	}
	for (r = 0; r < PQntuples(res); r++) {
		const char *day = PQgetvalue(res, r, 0);
		unsigned long long n = strtoull(PQgetvalue(res, r, 1), NULL, 10);

		if (PQgetisnull(res, r, 0) || !prov_day_ok(day))
			continue;
		if (host->count(host->ctx, table, day, (uint64_t)n) != SPGW_PLUGIN_OK) {
			rc = prov_fail(err, SPGW_PLUGIN_RETRY, "the gateway took no more counts");
			goto out;
		}
	}
	rc = SPGW_PLUGIN_OK;
out:
	PQclear(res);
	prov_buf_free(&sql);
	return rc;
}

int prov_count(void *ctx, const char *table, const char *from, const char *to,
	       const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct prov_source *src = ctx;
	char city[64];
	int i, k, rc = SPGW_PLUGIN_OK;

	src->host = host;
	if (!prov_day_ok(from) || !prov_day_ok(to) || strcmp(from, to) > 0)
		return prov_fail(err, SPGW_PLUGIN_ERROR, "count: the range %.16s..%.16s is not "
				 "two days YYYY-MM-DD, the first not after the second",
				 from ? from : "", to ? to : "");
	if (table) {
		k = prov_table_index(table);
		for (i = 0; k >= 0 && i < src->s.ntables && src->s.table[i] != k; i++)
			;
		if (k < 0 || i == src->s.ntables)
			return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: count: \"%.64s\" is not "
					 "one of the tables this source reads (\"tables\" in its "
					 "settings)",
					 prov_city(src, city, sizeof(city)), table);
		rc = count_table(src, k, from, to, err);
	} else {
		for (i = 0; i < src->s.ntables && !rc; i++)
			rc = count_table(src, src->s.table[i], from, to, err);
	}
	prov_db_close(src);
	return rc;
}
