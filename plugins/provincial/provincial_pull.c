/*
 * pull(): every table of the source, in order, read in pages by keyset
 *
 *   SELECT * FROM jlsp.<table> WHERE area_code = $1 AND (upd_time, row_id) > ($2, $3)
 *   ORDER BY upd_time, row_id LIMIT $4
 *
 * one read-only transaction per page, committed before its rows are handed on, then one host
 * commit with the position of the page's last row. The index on (area_code, upd_time,
 * row_id) makes each page one range scan, so the thousandth page costs what the first did
 * (OFFSET would read every row before it again), and memory holds one page whatever the
 * backlog. A row changed on the platform gets a later upd_time and is read again as a new
 * version; a city's rows are the only ones its source ever sees.
 *
 * pull_range() reads the rows whose upd_time falls on the days from..to (Beijing time, as the
 * column is written) with the same keyset pages, the window added as two more parameters:
 *
 *   ... AND (upd_time, row_id) > ($2, $3) AND upd_time >= $5::date AND upd_time < $6::date + 1
 *
 * starting at (from, the smallest row_id), so the index range scan begins at the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provincial_int.h"

/* Run a command that returns no rows (BEGIN, COMMIT); OK or as prov_db_fail. */
static int command(struct prov_source *src, const char *sql, const char *table,
		   struct spgw_plugin_error *err)
{
	PGresult *res = PQexec(src->conn, sql);
	int rc = SPGW_PLUGIN_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = prov_db_fail(src, res, table, NULL, err);
	PQclear(res);
	return rc;
}

/* One page of `table` after its position: the result in *out, or RETRY/ERROR. */
static int read_page(struct prov_source *src, int k, const char *sql, PGresult **out,
		     struct spgw_plugin_error *err)
{
	const struct prov_pos *p = &src->pos[k];
	const char *table = prov_tables[k].name;
	const char *params[7];
	char row_id[24], limit[24], settle[24];
	PGresult *res;
	int rc, n = 4;

	rc = prov_db_open(src, table, err);
	if (rc)
		return rc;
	snprintf(row_id, sizeof(row_id), "%lld", p->set ? p->row_id : (long long)INT64_MIN);
	snprintf(limit, sizeof(limit), "%ld", src->s.page_size);
	snprintf(settle, sizeof(settle), "%ld", src->s.settle_seconds);
	params[0] = src->s.area;
	params[1] = p->set ? p->upd_time : src->range_from[0] ? src->range_from : "-infinity";
	params[2] = row_id;
	params[3] = limit;
	/* numbered as read_table() wrote them: settle, then the window */
	if (src->s.settle_seconds)
		params[n++] = settle;
	if (src->range_from[0]) {
		params[n++] = src->range_from;
		params[n++] = src->range_to;
	}
	rc = command(src, "BEGIN READ ONLY", table, err);
	if (rc)
		return rc;
	res = PQexecParams(src->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = prov_db_fail(src, res, table, NULL, err);
		PQclear(res);
		if (src->conn)
			PQclear(PQexec(src->conn, "ROLLBACK"));
		return rc;
	}
	rc = command(src, "COMMIT", table, err);
	if (rc) {
		PQclear(res);
		return rc;
	}
	*out = res;
	return SPGW_PLUGIN_OK;
}

/* Read `table` (index k) to its end; *rows counts what was emitted. */
static int read_table(struct prov_source *src, int k, uint64_t *rows,
		      struct spgw_plugin_error *err)
{
	const struct spgw_host *host = src->host;
	const char *table = prov_tables[k].name;
	struct prov_pos *p = &src->pos[k];
	struct pbuf sql = { 0 };
	char city[64], where[96], text[512], settle[96] = "", window[96] = "";
	PGresult *res = NULL;
	int rc, n, r, c_time, c_id, next = 5;

	/* settle_seconds: rows changed in the last seconds are left for the next pull, so a
	 * transaction that stamped an earlier upd_time but commits after this read cannot
	 * fall behind the cursor unseen */
	if (src->s.settle_seconds)
		snprintf(settle, sizeof(settle), " AND upd_time < localtimestamp - "
			 "make_interval(secs => $%d)", next++);
	if (src->range_from[0])
		snprintf(window, sizeof(window), " AND upd_time >= $%d::date AND upd_time < "
			 "$%d::date + 1", next, next + 1);
	snprintf(text, sizeof(text), "SELECT * FROM {s}.{t} WHERE area_code = $1 AND "
		 "(upd_time, row_id) > ($2, $3)%s%s ORDER BY upd_time, row_id LIMIT $4", settle,
		 window);
	if (prov_sql(src, text, table, &sql)) {
		rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory");
		goto out;
	}
	for (;;) {
		rc = read_page(src, k, sql.p, &res, err);
		if (rc)
			goto out;
		n = PQntuples(res);
		c_time = PQfnumber(res, "upd_time");
		c_id = PQfnumber(res, "row_id");
		if (c_time < 0 || c_id < 0) {
			/* SELECT * gave no such column, yet the WHERE clause used it: a view or
			 * a rule in the way */
			rc = prov_fail(err, SPGW_PLUGIN_ERROR, "%s: %s.%s returns no upd_time or "
				       "row_id column; the plugin needs both", prov_city(src, city,
				       sizeof(city)), src->s.schema, table);
			goto out;
		}
		if (n && prov_row_columns(src, res)) {
			rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory");
			goto out;
		}
		for (r = 0; r < n; r++) {
			int built = prov_row_json(src, res, r);

			if (built < 0) {
				rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory building a "
					       "record of %s", table);
				goto out;
			}
			if (host->emit(host->ctx, table, src->json.p, src->json.len) !=
			    SPGW_PLUGIN_OK) {
				rc = prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s %s: the gateway "
					       "took no more records", prov_city(src, city,
					       sizeof(city)), table, prov_pos_text(p, where,
					       sizeof(where)));
				goto out;
			}
		}
		if (n) {
			const char *t = PQgetvalue(res, n - 1, c_time);

			if (PQgetisnull(res, n - 1, c_id) || PQgetisnull(res, n - 1, c_time) ||
			    !prov_time_ok(t)) {
				rc = prov_fail(err, SPGW_PLUGIN_ERROR, "%s: %s.%s: row_id %s has "
					       "upd_time \"%.40s\", which cannot be a position",
					       prov_city(src, city, sizeof(city)), src->s.schema,
					       table, PQgetvalue(res, n - 1, c_id), t);
				goto out;
			}
			p->set = 1;
			strcpy(p->upd_time, t);
			p->row_id = strtoll(PQgetvalue(res, n - 1, c_id), NULL, 10);
			if (prov_cursor_format(src)) {
				rc = prov_fail(err, SPGW_PLUGIN_RETRY, "out of memory");
				goto out;
			}
			if (host->commit(host->ctx, src->cursor.p) != SPGW_PLUGIN_OK) {
				rc = prov_fail(err, SPGW_PLUGIN_RETRY, "%s: %s: the gateway "
					       "could not store the page ending at (%s, %lld)",
					       prov_city(src, city, sizeof(city)), table,
					       p->upd_time, p->row_id);
				goto out;
			}
			*rows += (uint64_t)n;
		}
		PQclear(res);
		res = NULL;
		if (n < src->s.page_size)
			break;
	}
	rc = SPGW_PLUGIN_OK;
out:
	PQclear(res);
	prov_buf_free(&sql);
	return rc;
}

int prov_pull(void *ctx, const char *cursor, const struct spgw_host *host,
	      struct spgw_plugin_error *err)
{
	struct prov_source *src = ctx;
	char why[160], city[64], where[96];
	uint64_t rows, total = 0;
	int i, k, rc = SPGW_PLUGIN_OK;

	src->host = host;
	src->range_from[0] = src->range_to[0] = '\0';
	if (cursor && prov_cursor_parse(src, cursor, why, sizeof(why)))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the cursor was not written by this "
				 "version of the provincial plugin for this city (%s); reset the "
				 "source's cursor to read the city again from its first row",
				 prov_city(src, city, sizeof(city)), why);
	if (!cursor)
		memset(src->pos, 0, sizeof(src->pos));
	for (i = 0; i < src->s.ntables && !rc; i++) {
		k = src->s.table[i];
		rows = 0;
		rc = read_table(src, k, &rows, err);
		total += rows;
		if (rows)
			prov_log(host, SPGW_LOG_INFO, "%s: %llu rows, now %s",
				 prov_tables[k].name, (unsigned long long)rows,
				 prov_pos_text(&src->pos[k], where, sizeof(where)));
	}
	if (!rc)
		prov_log(host, SPGW_LOG_INFO, "%s: %llu rows in %d tables, caught up",
			 prov_city(src, city, sizeof(city)), (unsigned long long)total,
			 src->s.ntables);
	prov_db_close(src);
	return rc;
}

int prov_pull_range(void *ctx, const char *from, const char *to, const char *cursor,
		    const struct spgw_host *host, struct spgw_plugin_error *err)
{
	struct prov_source *src = ctx;
	char why[160], city[64], where[96];
	uint64_t rows, total = 0;
	int i, k, rc = SPGW_PLUGIN_OK;

	src->host = host;
	if (!prov_day_ok(from) || !prov_day_ok(to) || strcmp(from, to) > 0)
		return prov_fail(err, SPGW_PLUGIN_ERROR, "pull_range: the range %.16s..%.16s is "
				 "not two days YYYY-MM-DD, the first not after the second",
				 from ? from : "", to ? to : "");
	memcpy(src->range_from, from, 11);
	memcpy(src->range_to, to, 11);
	memset(src->pos, 0, sizeof(src->pos));
	if (cursor && prov_cursor_parse(src, cursor, why, sizeof(why)))
		return prov_fail(err, SPGW_PLUGIN_ERROR, "%s: the cursor of the days %s..%s was "
				 "not written by this version of the provincial plugin for this "
				 "range (%s); restart the backfill of the range",
				 prov_city(src, city, sizeof(city)), from, to, why);
	for (i = 0; i < src->s.ntables && !rc; i++) {
		k = src->s.table[i];
		rows = 0;
		rc = read_table(src, k, &rows, err);
		total += rows;
		if (rows)
			prov_log(host, SPGW_LOG_INFO, "%s %s..%s: %llu rows, now %s",
				 prov_tables[k].name, from, to, (unsigned long long)rows,
				 prov_pos_text(&src->pos[k], where, sizeof(where)));
	}
	if (!rc)
		prov_log(host, SPGW_LOG_INFO, "%s: %llu rows changed from %s to %s in %d tables, "
			 "all read", prov_city(src, city, sizeof(city)),
			 (unsigned long long)total, from, to, src->s.ntables);
	prov_db_close(src);
	return rc;
}
