/*
 * `spgw receipts list|verify`: the national platform's signed receipts, one per delivered
 * batch, kept in the ledger as the proof of what it accepted. verify checks every signature
 * again, for an audit or after a backup was restored: a receipt that no longer verifies was
 * altered after it was stored, or the configured national key is not the one that signed it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "mem.h"
#include "sign.h"

static void help(FILE *out)
{
	fprintf(out,
		"usage: spgw [-c FILE] receipts list [--json]\n"
		"       spgw [-c FILE] receipts verify\n"
		"\n"
		"Receipts (回执): what the national platform signed for each delivered batch.\n"
		"\n"
		"list    one line each: batch id, region, table, when the platform received it,\n"
		"        and how many records it accepted, took as duplicates or rejected;\n"
		"        --json: a JSON array with the content digests and signatures too\n"
		"verify  check every stored receipt's signature again with the national public\n"
		"        key that verified it when it arrived (kept in the ledger, so receipts\n"
		"        stay verifiable after the platform rotates its key), or for receipts\n"
		"        from before spgw kept it, the key of the gateway file\n"
		"        (\"national_public_key\" in \"national\"); one line per receipt that\n"
		"        fails, then how many were verified\n"
		"\n"
		"Exit status 0; for verify 1 when a receipt does not verify, 3 when no national\n"
		"public key is configured or it cannot be read.\n");
}

static const char *table_zh(const struct spgw_schema *s, const char *table)
{
	const struct spgw_table *t = table ? spgw_schema_table(s, table) : NULL;

	return t ? spgw_table_zh(t) : "";
}

/* ---- list ---- */

struct list_ctx {
	const struct spgw_schema *schema;
	int json;
	size_t n;
	long long accepted, duplicate, rejected;
};

static enum spgw_rc list_row(void *ud, const struct spgw_receipt_row *r)
{
	struct list_ctx *lc = ud;
	char num[3][24];

	lc->accepted += r->accepted;
	lc->duplicate += r->duplicate;
	lc->rejected += r->rejected;
	if (lc->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s}",
				      "batch_id", r->batch_id, "region", r->region, "table",
				      r->table, "table_zh", table_zh(lc->schema, r->table),
				      "received_at", r->received_at, "content_digest",
				      r->content_digest, "accepted", (json_int_t)r->accepted,
				      "duplicate", (json_int_t)r->duplicate, "rejected",
				      (json_int_t)r->rejected, "alg", r->alg, "sig", r->sig,
				      "stored_at", r->stored_at);
		char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (!txt)
			return SPGW_E_NOMEM;
		printf("%s%s", lc->n++ ? ",\n" : "", txt);
		free(txt);
		return SPGW_OK;
	}
	if (!lc->n++) {
		spgw_cmd_cell(stdout, "batch", 26);
		spgw_cmd_cell(stdout, "region", 8);
		spgw_cmd_cell(stdout, "table", 18);
		spgw_cmd_cell(stdout, "received at", 25);
		spgw_cmd_cell_right(stdout, "accepted", 8);
		spgw_cmd_cell_right(stdout, "duplicate", 9);
		spgw_cmd_cell_right(stdout, "rejected", 8);
		printf("table name\n");
		spgw_cmd_cell(stdout, "批次号", 26);
		spgw_cmd_cell(stdout, "行政区划", 8);
		spgw_cmd_cell(stdout, "表名", 18);
		spgw_cmd_cell(stdout, "接收时间", 25);
		spgw_cmd_cell_right(stdout, "接收", 8);
		spgw_cmd_cell_right(stdout, "重复", 9);
		spgw_cmd_cell_right(stdout, "退回", 8);
		printf("表中文名称\n");
	}
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)r->accepted);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)r->duplicate);
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)r->rejected);
	spgw_cmd_cell(stdout, r->batch_id, 26);
	spgw_cmd_cell(stdout, r->region, 8);
	spgw_cmd_cell(stdout, r->table, 18);
	spgw_cmd_cell(stdout, r->received_at, 25);
	spgw_cmd_cell_right(stdout, num[0], 8);
	spgw_cmd_cell_right(stdout, num[1], 9);
	spgw_cmd_cell_right(stdout, num[2], 8);
	printf("%s\n", table_zh(lc->schema, r->table));
	return SPGW_OK;
}

static int do_list(const struct spgw_schema *s, struct spgw_ledger *l, int json)
{
	struct list_ctx lc;
	struct spgw_error err;

	memset(&lc, 0, sizeof(lc));
	memset(&err, 0, sizeof(err));
	lc.schema = s;
	lc.json = json;
	if (json)
		fputs("[\n", stdout);
	if (spgw_ledger_receipt_each(l, list_row, &lc, &err)) {
		if (json)
			fputs("\n]\n", stdout);
		if (!err.code)
			spgw_error_nomem(&err, "listing receipts");
		spgw_cmd_perror(&err);
		return spgw_cmd_exit(err.code);
	}
	if (json)
		fputs(lc.n ? "\n]\n" : "]\n", stdout);
	else if (!lc.n)
		printf("no receipts yet (没有回执): `spgw upload` delivers and keeps them\n");
	else
		printf("%zu receipt%s (回执): %lld accepted, %lld duplicate, %lld rejected\n", lc.n,
		       lc.n == 1 ? "" : "s", lc.accepted, lc.duplicate, lc.rejected);
	return SPGW_EXIT_OK;
}

/* ---- verify ---- */

struct verify_ctx {
	const struct spgw_key *national; /* the configured key */
	struct spgw_key *stored;         /* the last stored key parsed, for the rows after */
	char *stored_pem;
	size_t n, bad, older; /* older: verified with a key other than the configured one */
};

/* The key a receipt was verified with when it arrived, parsed once for its run of rows. */
static const struct spgw_key *key_for(struct verify_ctx *vc, const char *pem,
				      struct spgw_error *err)
{
	if (!pem)
		return vc->national;
	if (vc->stored_pem && !strcmp(vc->stored_pem, pem))
		return vc->stored;
	spgw_key_free(vc->stored);
	spgw_free(vc->stored_pem);
	vc->stored = NULL;
	vc->stored_pem = spgw_strdup(pem);
	if (!vc->stored_pem || spgw_key_from_public_pem(pem, strlen(pem), &vc->stored, err))
		return NULL;
	return vc->stored;
}

static enum spgw_rc verify_row(void *ud, const struct spgw_receipt_row *r)
{
	struct verify_ctx *vc = ud;
	const struct spgw_key *key;
	struct spgw_receipt rc;
	struct spgw_error err;

	memset(&rc, 0, sizeof(rc));
	memset(&err, 0, sizeof(err));
	rc.batch_id = r->batch_id;
	rc.received_at = r->received_at;
	rc.content_digest = r->content_digest;
	rc.accepted = r->accepted;
	rc.duplicate = r->duplicate;
	rc.rejected = r->rejected;
	rc.alg = r->alg;
	rc.sig = r->sig;
	vc->n++;
	key = key_for(vc, r->national_key, &err);
	if (key && key != vc->national) {
		char *now = spgw_key_public_pem(vc->national);

		vc->older += now && strcmp(now, r->national_key);
		spgw_free(now);
	}
	if (!key || spgw_receipt_verify(key, &rc, &err)) {
		/* the batch's records stay delivered: this is a finding to report, and the
		 * national platform's own records settle it */
		vc->bad++;
		printf("bad receipt (回执验签失败): batch %s, %s %s, received %s: %s\n",
		       r->batch_id, r->region, r->table, r->received_at, err.text);
	}
	return SPGW_OK;
}

static int do_verify(const struct spgw_config *c, struct spgw_ledger *l)
{
	struct verify_ctx vc;
	struct spgw_key *key = NULL;
	struct spgw_error err;
	int status = SPGW_EXIT_OK;

	memset(&vc, 0, sizeof(vc));
	memset(&err, 0, sizeof(err));
	if (!c->national.national_public_key) {
		fprintf(stderr, "spgw: %s: no national public key is configured, so receipts "
				"cannot be verified: set \"national_public_key\" in \"national\" "
				"to the PEM file the national platform gave you\n", c->path);
		return SPGW_EXIT_CONFIG;
	}
	if (spgw_key_load_public(c->national.national_public_key, &key, &err)) {
		spgw_cmd_perror(&err);
		fprintf(stderr, "spgw: %s: \"national_public_key\" must name the national "
				"platform's public key (PEM)\n", c->path);
		return SPGW_EXIT_CONFIG;
	}
	vc.national = key;
	if (spgw_ledger_receipt_each(l, verify_row, &vc, &err)) {
		spgw_cmd_perror(&err);
		status = spgw_cmd_exit(err.code);
		goto out;
	}
	printf("%zu receipt%s verified, %zu bad\n", vc.n, vc.n == 1 ? "" : "s", vc.bad);
	if (vc.older)
		printf("%zu of them with the national key in force when they arrived, since "
		       "rotated (国家平台密钥已更换)\n", vc.older);
	if (vc.bad)
		status = SPGW_EXIT_PARTIAL;
out:
	spgw_key_free(key);
	spgw_key_free(vc.stored);
	spgw_free(vc.stored_pem);
	return status;
}

int spgw_cmd_receipts(const struct spgw_cmd_ctx *ctx, int argc, char **argv)
{
	struct spgw_config *c = NULL;
	struct spgw_schema *s = NULL;
	struct spgw_ledger *l = NULL;
	int list, json, status;

	if (argc < 2 || spgw_cmd_wants_help(argc, argv)) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? SPGW_EXIT_USAGE : SPGW_EXIT_OK;
	}
	list = !strcmp(argv[1], "list");
	json = list && argc == 3 && !strcmp(argv[2], "--json");
	if (!list && strcmp(argv[1], "verify")) {
		fprintf(stderr, "spgw: receipts: unknown subcommand \"%s\"\n", argv[1]);
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	if (argc > 2 + json) {
		help(stderr);
		return SPGW_EXIT_USAGE;
	}
	status = spgw_cmd_open(ctx, &c, &s, &l);
	if (status)
		goto out;
	status = list ? do_list(s, l, json) : do_verify(c, l);
out:
	spgw_ledger_close(l);
	spgw_schema_free(s);
	spgw_config_free(c);
	return status;
}
