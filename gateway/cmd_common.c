/* What the commands share: exit statuses, error lines, loading config, schema and ledger. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ingest.h"
#include "diag.h"
#include "log.h"

int spgw_cmd_exit(enum spgw_rc rc)
{
	switch (rc) {
	case SPGW_OK:
		return SPGW_EXIT_OK;
	case SPGW_E_USAGE:
		return SPGW_EXIT_USAGE;
	case SPGW_E_SYNTAX:
	case SPGW_E_CONFIG:
	case SPGW_E_SCHEMA:
	case SPGW_E_MAPPING:
		return SPGW_EXIT_CONFIG;
	case SPGW_E_LEDGER:
	case SPGW_E_STATE:
		return SPGW_EXIT_STATE;
	case SPGW_E_PLUGIN:
	case SPGW_E_ABI:
		return SPGW_EXIT_PLUGIN;
	default:
		return SPGW_EXIT_ERROR;
	}
}

void spgw_cmd_perror(const struct spgw_error *err)
{
	char line[1024];

	fprintf(stderr, "spgw: %s\n", spgw_error_format(err, line, sizeof(line)));
}

int spgw_cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int open_all(const struct spgw_cmd_ctx *ctx, struct spgw_config **config,
		    struct spgw_schema **schema, struct spgw_ledger **ledger, int check)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	struct spgw_diag diag;
	struct spgw_error err;
	size_t i;
	int status = SPGW_EXIT_OK;

	spgw_diag_init(&diag);
	memset(&err, 0, sizeof(err));
	spgw_config_load(ctx->config_path, &c, &diag);
	if (c && !diag.n)
		spgw_schema_load(c->schema_path, &s, &diag);
	if (diag.n || !c || !s) {
		for (i = 0; i < diag.n; i++)
			spgw_cmd_perror(&diag.items[i]);
		if (!diag.n)
			fprintf(stderr, "spgw: %s: cannot read the configuration\n",
				ctx->config_path);
		fprintf(stderr, "spgw: %zu configuration problem(s); nothing was done\n",
			diag.n ? diag.n : 1);
		status = SPGW_EXIT_CONFIG;
		goto out;
	}
	spgw_log_setup(ctx->quiet ? SPGW_LOG_ERROR
				  : ctx->verbose > 1 ? SPGW_LOG_DEBUG
				  : ctx->verbose && c->log_level < SPGW_LOG_INFO ? SPGW_LOG_INFO
				  : c->log_level,
		       c->log_format);
	/* every line of a run that could send without verifying the platform says so */
	if (c->national.url && c->national.insecure)
		spgw_log_banner("INSECURE: TLS verification is off");
	if (ledger) {
		if ((check ? spgw_ledger_open : spgw_ledger_open_unchecked)(c->state_dir, &l,
									     &err)) {
			spgw_cmd_perror(&err);
			status = spgw_cmd_exit(err.code);
			goto out;
		}
		*ledger = l;
		l = NULL;
	}
	*config = c;
	*schema = s;
	c = NULL;
	s = NULL;
out:
	spgw_diag_free(&diag);
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}

/* Terminal columns of one code point: East Asian wide and full-width forms take two. */
static int cp_width(unsigned cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

int spgw_cmd_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	while (p && *p) {
		unsigned cp = *p;
		int extra = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;

		if (extra)
			cp &= 0x3fu >> extra;
		for (p++; extra && (*p & 0xc0) == 0x80; extra--, p++)
			cp = cp << 6 | (*p & 0x3fu);
		w += cp_width(cp);
	}
	return w;
}

void spgw_cmd_cell(FILE *out, const char *s, int width)
{
	int w = spgw_cmd_width(s);

	fputs(s ? s : "", out);
	for (; w < width; w++)
		fputc(' ', out);
	fputc(' ', out);
}

void spgw_cmd_cell_right(FILE *out, const char *s, int width)
{
	int w = spgw_cmd_width(s);

	for (; w < width; w++)
		fputc(' ', out);
	fputs(s ? s : "", out);
	fputc(' ', out);
}

void spgw_cmd_utc_now(char out[24])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void spgw_cmd_record_runs(struct spgw_ledger *l, const struct spgw_ingest_result *res, size_t n,
			  const char *started_at)
{
	char finished[24], line[1024];
	size_t i;

	spgw_cmd_utc_now(finished);
	for (i = 0; i < n; i++) {
		struct spgw_run_row r;
		struct spgw_error e;

		memset(&r, 0, sizeof(r));
		memset(&e, 0, sizeof(e));
		r.source = res[i].source->name;
		r.kind = strncmp(r.source, "catalog:", 8) ? "pull" : "catalog";
		r.started_at = started_at;
		r.finished_at = finished;
		r.result = res[i].rc == SPGW_OK ? "ok" : res[i].rc == SPGW_E_BUSY ? "busy" : "failed";
		r.error_code = res[i].rc;
		r.records = (int64_t)res[i].stats.records;
		r.added = (int64_t)res[i].stats.added;
		r.changed = (int64_t)res[i].stats.versions;
		r.quarantined = (int64_t)res[i].stats.quarantined;
		if (res[i].rc)
			r.message = spgw_error_format(&res[i].error, line, sizeof(line));
		if (spgw_ledger_run_add(l, &r, &e))
			spgw_cmd_perror(&e);
	}
}

int spgw_cmd_open(const struct spgw_cmd_ctx *ctx, struct spgw_config **config,
		  struct spgw_schema **schema, struct spgw_ledger **ledger)
{
	return open_all(ctx, config, schema, ledger, 1);
}

int spgw_cmd_open_unchecked(const struct spgw_cmd_ctx *ctx, struct spgw_config **config,
			    struct spgw_schema **schema, struct spgw_ledger **ledger)
{
	return open_all(ctx, config, schema, ledger, 0);
}
