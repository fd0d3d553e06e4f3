/*
 * Unit tests for the SQLite ledger (gateway/ledger.c, ledger_open.c). Every test works in its
 * own temporary directory (mkdtemp) and removes it. The database is inspected through a
 * separate SQLite connection, so the tests see what is on disk, not what the ledger believes.
 *
 * A full disk is simulated with a shim VFS registered as SQLite's default (as SQLite's own
 * tests do): it makes every file write answer SQLITE_FULL while `disk_full` is set.
 *
 * Environment: SPGW_TEST_CASES (absolute path of tests/cases) is required like every unit
 * test's; this suite keeps no case files of its own and checks only that the folder exists.
 * SPGW_LEDGER_BENCH=<n> runs the put-speed loop with n records (default 20000) and prints
 * the figure; no timing is asserted.
 */
/* nftw() removes the temporary directories: an XSI function */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "canonical.h"
#include "ledger.h"
#include "mem.h"
#include "scratch.h"

/* ---- temporary directories ---- */

/* The ledger schema version this build migrates to, and SQL that takes a version 10 ledger
 * back to version 6 so the tests of older migrations can start from before them. */
#define LEDGER_V 10
#define UNDO_7                                                                             \
	"DROP TABLE recon_keys; DROP TABLE recon_days; DROP TABLE recon_runs;"               \
	" DROP INDEX outbox_day; DROP TRIGGER keyday_update; DROP TABLE keyday;"            \
	" ALTER TABLE receipts DROP COLUMN national_key; DROP TABLE national_keys;"         \
	" DROP TRIGGER tally_update; DROP TRIGGER tally_delete;"                            \
	" DROP TABLE tally; DROP TABLE tally_day; DROP INDEX quarantine_open; DROP TABLE runs;" \
	" DROP TABLE schedule; DROP TABLE daemon; DROP TABLE alarms; "

static void setup(void)
{
	scratch_make("spgw-ledger");
}

static void teardown(void)
{
	scratch_remove();
}

/* ---- looking at the file from outside ---- */

/* ---- the ledger API, briefly ---- */

static struct spgw_ledger *open_ok(void)
{
	struct spgw_ledger *l = NULL;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_open(scratch_dir, &l, &err) == SPGW_OK, "open: %s", err.text);
	return l;
}

/* Open must refuse with `code` and a message holding `what`; nothing is returned. */
static void open_refused(const char *dir, enum spgw_rc code, const char *what)
{
	struct spgw_ledger *l = (struct spgw_ledger *)&l; /* must stay untouched */
	struct spgw_error err;
	char line[1024];

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_open(dir, &l, &err), code);
	ck_assert_ptr_eq(l, (struct spgw_ledger *)&l);
	spgw_error_format(&err, line, sizeof(line));
	ck_assert_msg(strstr(line, what), "message \"%s\" lacks \"%s\"", line, what);
	ck_assert_ptr_null(strchr(line, '\n'));
}

static void begin(struct spgw_ledger *l)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_begin(l, &err) == SPGW_OK, "begin: %s", err.text);
}

static void commit(struct spgw_ledger *l)
{
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(spgw_ledger_commit(l, &err) == SPGW_OK, "commit: %s", err.text);
}

static enum spgw_rc put(struct spgw_ledger *l, const char *region, const char *table,
			const char *key, const char *data, enum spgw_put_result *res,
			struct spgw_error *err)
{
	struct spgw_outbox_record r = { 0 };
	char hex[65], digest[80];

	ck_assert_int_eq(spgw_digest_hex(SPGW_DIGEST_SM3, data, strlen(data), hex, NULL), 0);
	snprintf(digest, sizeof(digest), "sm3:%s", hex);
	r.source = "changchun";
	r.region = region;
	r.table = table;
	r.key = key;
	r.day = "2026-11-03";
	r.digest = digest;
	r.data = data;
	r.data_len = strlen(data);
	return spgw_ledger_put(l, &r, res, NULL, err);
}

static enum spgw_put_result put_ok(struct spgw_ledger *l, const char *key, const char *data)
{
	enum spgw_put_result res = 99;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(put(l, "220100", "SPGL_XMJBXXB", key, data, &res, &err) == SPGW_OK,
		      "put: %s", err.text);
	return res;
}

/* ---- opening ---- */

START_TEST(create_and_reopen)
{
	struct spgw_ledger *l = open_ok();
	char *mode;

	ck_assert_str_eq(spgw_ledger_path(l), scratch_db());
	begin(l);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":1}"), SPGW_PUT_NEW);
	commit(l);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("PRAGMA application_id"), 0x53504757);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
	mode = scratch_peek_text("PRAGMA journal_mode");
	ck_assert_str_eq(mode, "wal");
	free(mode);
	/* reopen: the record is there, the same content is no new version */
	l = open_ok();
	begin(l);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":1}"), SPGW_PUT_UNCHANGED);
	commit(l);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 1);
	spgw_ledger_close(NULL);
}
END_TEST

/* Several connections in one process (the daemon's threads): opening another must not drop
 * the locks the first holds. It did when the header was read with open() and close(): the
 * close released every POSIX lock of the process, and the next connection to close thought
 * itself the last, checkpointed and deleted the write-ahead log under the first. */
START_TEST(second_connection_keeps_locks)
{
	struct spgw_ledger *a = open_ok(), *b;
	struct stat st;
	char wal[128], cmd[256];

	begin(a);
	put_ok(a, "K1", "{\"a\":1}");
	commit(a);
	snprintf(wal, sizeof(wal), "%s/spgw.db-wal", scratch_dir);
	ck_assert_int_eq(stat(wal, &st), 0);
	b = open_ok(); /* a second connection of this process, as a daemon thread opens */
	/* another process (spgw status, an operator's sqlite3) opens and closes: it must see
	 * that we are there. A fork would inherit SQLite's table of open files: exec one. */
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/spgw.db 'SELECT count(*) FROM outbox' >/dev/null",
		 scratch_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(stat(wal, &st) == 0, "the other process deleted the write-ahead log "
		      "while this one had the ledger open: our locks were dropped");
	begin(b);
	put_ok(b, "K2", "{\"a\":2}");
	commit(b);
	spgw_ledger_close(b);
	begin(a);
	put_ok(a, "K3", "{\"a\":3}");
	commit(a);
	spgw_ledger_close(a);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox"), 3);
}
END_TEST

START_TEST(migrations_applied)
{
	struct spgw_ledger *l;

	/* an empty SQLite file (an empty file, or a database without tables or application
	 * id) is a fresh ledger: migrated from version 0 */
	scratch_poke("PRAGMA user_version = 0");
	l = open_ok();
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
	ck_assert_int_eq(
		scratch_peek_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
				 "name IN ('cursors', 'outbox', 'quarantine')"),
		3);
	ck_assert_int_eq(
		scratch_peek_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
				 "name IN ('outbox_key_version', 'quarantine_open_raw')"),
		2);
	/* a second open applies nothing and changes nothing */
	l = open_ok();
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
}
END_TEST

struct open_batches {
	char text[256];
};

static enum spgw_rc note_open(void *ud, const struct spgw_batch_row *b)
{
	struct open_batches *o = ud;
	size_t n = strlen(o->text);

	snprintf(o->text + n, sizeof(o->text) - n, "%s:%.*s;", b->id, (int)b->body_len,
		 b->body ? (const char *)b->body : "-");
	return SPGW_OK;
}

/* A ledger written by spgw at version 2 (tests/cases/ledger/v2.sql) keeps every record, the
 * JSON moving to outbox_data, and an open batch that kept its body is still sent with it. */
START_TEST(migration_3_keeps_records)
{
	struct spgw_ledger *l;
	struct open_batches ob;
	struct spgw_error err;
	char path[1024], *sql, *s;
	size_t n;

	snprintf(path, sizeof(path), "%s/ledger/v2.sql", getenv("SPGW_TEST_CASES"));
	sql = scratch_slurp(path, &n);
	sql[n] = '\0';
	scratch_poke(sql);
	free(sql);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), 2);
	l = open_ok();
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
	s = scratch_peek_text(
		"SELECT group_concat(record_key || '=' || data || '/' || state, ' ') FROM"
		" (SELECT * FROM outbox_records ORDER BY id)");
	ck_assert_str_eq(s, "K1={\"a\":1}/delivered K2={\"a\":2}/pending K3={\"a\":3}/pending");
	free(s);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM pragma_table_info('outbox')"
					  " WHERE name = 'data'"),
			 0);
	memset(&ob, 0, sizeof(ob));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_batch_open_each(l, note_open, &ob, &err), SPGW_OK);
	ck_assert_str_eq(ob.text, "B-OPEN:{\"batch_id\":\"B-OPEN\"};");
	spgw_ledger_close(l);
}
END_TEST

/* Migration 4 rebuilds outbox: every row stays, ids go on above the highest ever given (not
 * the highest left), the state check still holds and no longer uses "IN". */
START_TEST(migration_4_keeps_ids)
{
	struct spgw_ledger *l = open_ok();
	char *s;

	begin(l);
	put_ok(l, "K1", "{\"a\":1}");
	put_ok(l, "K2", "{\"a\":2}");
	put_ok(l, "K3", "{\"a\":3}");
	commit(l);
	spgw_ledger_close(l);
	/* back to version 3, the newest record gone: its id must not come back */
	scratch_poke(UNDO_7 "DELETE FROM outbox WHERE record_key = 'K3'; DROP INDEX quarantine_waiting;"
		     " ALTER TABLE quarantine DROP COLUMN wait_ref; PRAGMA user_version = 3;");
	l = open_ok();
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
	begin(l);
	put_ok(l, "K4", "{\"a\":4}");
	commit(l);
	spgw_ledger_close(l);
	s = scratch_peek_text("SELECT group_concat(id || ':' || record_key || '=' || data, ' ') FROM"
		      " (SELECT * FROM outbox_records ORDER BY id)");
	ck_assert_str_eq(s, "1:K1={\"a\":1} 2:K2={\"a\":2} 4:K4={\"a\":4}");
	free(s);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM sqlite_schema WHERE name = 'outbox' AND"
				  " sql LIKE '%state IN%'"),
			 0);
	/* the seven indexes of migration 4, and outbox_day of 9 */
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				  " tbl_name = 'outbox'"),
			 8);
	ck_assert_int_ne(scratch_peek_int("SELECT count(*) FROM pragma_integrity_check"
				  " WHERE integrity_check = 'ok'"),
			 0);
	scratch_poke_fails("UPDATE outbox SET state = 'lost' WHERE record_key = 'K1'");
}
END_TEST

/* Migration 5 gives every existing version its 数据有效标识 from its data: 1, 0, or NULL for
 * data without one; the view still shows each version with its JSON. */
START_TEST(migration_5_fills_valid)
{
	struct spgw_ledger *l = open_ok();
	char *s;

	begin(l);
	put_ok(l, "K1", "{\"SJYXBS\":1}");
	put_ok(l, "K2", "{\"SJYXBS\":0,\"SJWXYY\":\"x\"}");
	put_ok(l, "K3", "{\"a\":3}");
	commit(l);
	spgw_ledger_close(l);
	scratch_poke(UNDO_7 "ALTER TABLE outbox DROP COLUMN valid; DROP INDEX quarantine_waiting;"
		     " ALTER TABLE quarantine DROP COLUMN wait_ref; PRAGMA user_version = 4;");
	l = open_ok();
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), LEDGER_V);
	s = scratch_peek_text("SELECT group_concat(record_key || '=' || ifnull(valid, 'null'), ' ')"
			      " FROM (SELECT * FROM outbox_records ORDER BY id)");
	ck_assert_str_eq(s, "K1=1 K2=0 K3=null");
	free(s);
	scratch_poke_fails("UPDATE outbox SET valid = 2 WHERE record_key = 'K1'");
}
END_TEST

START_TEST(two_connections)
{
	struct spgw_ledger *a = open_ok(), *b = open_ok();
	struct spgw_error err;
	char *c = NULL;

	begin(a);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_cursor_set(a, "changchun", "page=7", &err), SPGW_OK);
	commit(a);
	ck_assert_int_eq(spgw_ledger_cursor_get(b, "changchun", &c, &err), SPGW_OK);
	ck_assert_str_eq(c, "page=7");
	spgw_free(c);
	spgw_ledger_close(a);
	spgw_ledger_close(b);
}
END_TEST

START_TEST(refuse_text_file)
{
	static const char *const texts[] = {
		"state_dir = /var/lib/spgw\n",
		"This is a long text file, longer than SQLite's hundred-byte header, which an "
		"operator put here by mistake: it must survive byte for byte.\n",
	};
	size_t i, n;
	char *after;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(scratch_db(), "wb");

		fputs(texts[i], f);
		fclose(f);
		open_refused(scratch_dir, SPGW_E_STATE, "file is not a database");
		after = scratch_slurp(scratch_db(), &n);
		ck_assert_uint_eq(n, strlen(texts[i]));
		ck_assert_int_eq(memcmp(after, texts[i], n), 0);
		free(after);
	}
	/* a directory where the file should be */
	remove(scratch_db());
	ck_assert_int_eq(mkdir(scratch_db(), 0700), 0);
	open_refused(scratch_dir, SPGW_E_STATE, "not a regular file");
}
END_TEST

START_TEST(refuse_other_application)
{
	size_t n0, n1;
	char *before, *after, wal[160];

	scratch_poke("PRAGMA application_id = 1234; CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	before = scratch_slurp(scratch_db(), &n0);
	open_refused(scratch_dir, SPGW_E_STATE, "another application");
	open_refused(scratch_dir, SPGW_E_STATE, "0x000004d2");
	after = scratch_slurp(scratch_db(), &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(before, after, n0), 0);
	ck_assert_int_eq(scratch_peek_int("SELECT x FROM t"), 1);
	snprintf(wal, sizeof(wal), "%s-wal", scratch_db());
	ck_assert_int_eq(access(wal, F_OK), -1);
	free(before);
	free(after);
}
END_TEST

START_TEST(refuse_foreign_without_id)
{
	scratch_poke("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)");
	open_refused(scratch_dir, SPGW_E_STATE, "another application");
	ck_assert_int_eq(scratch_peek_int("PRAGMA application_id"), 0);
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), 0);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM sqlite_schema"), 1);
}
END_TEST

START_TEST(refuse_newer)
{
	spgw_ledger_close(open_ok());
	scratch_poke("PRAGMA user_version = 999");
	open_refused(scratch_dir, SPGW_E_STATE, "made by a newer spgw");
	open_refused(scratch_dir, SPGW_E_STATE, "999");
	ck_assert_int_eq(scratch_peek_int("PRAGMA user_version"), 999);
}
END_TEST

/* Fill a ledger, then damage it: garbage over pages in the middle, or the file cut short. */
static void make_damaged(int how)
{
	struct spgw_ledger *l = open_ok();
	char key[32], data[256];
	long long pages, page;
	FILE *f;
	int i;

	begin(l);
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "CC-2026-%06d", i);
		snprintf(data, sizeof(data),
			 "{\"XMDM\":\"%s\",\"XMMC\":\"吉林省长春市第%d号项目\"}", key, i);
		put_ok(l, key, data);
	}
	commit(l);
	spgw_ledger_close(l);
	pages = scratch_peek_int("PRAGMA page_count");
	page = scratch_peek_int("PRAGMA page_size");
	ck_assert_int_gt(pages, 10);
	if (how == 0) {
		char *junk = malloc((size_t)page);

		/* a page in the middle: a b-tree page of the outbox or its index */
		memset(junk, 0xa5, (size_t)page);
		f = fopen(scratch_db(), "r+b");
		ck_assert_int_eq(fseek(f, (long)(pages / 2 * page), SEEK_SET), 0);
		ck_assert_uint_eq(fwrite(junk, 1, (size_t)page, f), (size_t)page);
		fclose(f);
		free(junk);
	} else {
		ck_assert_int_eq(truncate(scratch_db(), (off_t)(pages / 3 * page + 100)), 0);
	}
}

START_TEST(refuse_damaged)
{
	make_damaged(0);
	open_refused(scratch_dir, SPGW_E_LEDGER, "integrity check");
	open_refused(scratch_dir, SPGW_E_LEDGER, "restore the last backup");
}
END_TEST

START_TEST(refuse_truncated)
{
	make_damaged(1);
	open_refused(scratch_dir, SPGW_E_LEDGER, "restore the last backup");
}
END_TEST

START_TEST(refuse_missing_dir)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/not-there", scratch_dir);
	open_refused(dir, SPGW_E_STATE, "does not exist");
	open_refused(dir, SPGW_E_STATE, "mkdir -p");
	ck_assert_int_eq(access(dir, F_OK), -1); /* not created behind the operator's back */
	open_refused(scratch_db(), SPGW_E_STATE, "does not exist");
	/* a file where the directory should be */
	fclose(fopen(scratch_db(), "w"));
	open_refused(scratch_db(), SPGW_E_STATE, "not a directory");
	open_refused(NULL, SPGW_E_STATE, "state_dir");
}
END_TEST

/*
 * A state directory this user cannot write. root ignores permission bits, so when run as
 * root the check runs in a child that became `nobody` (uid 65534) first.
 */
START_TEST(refuse_readonly_dir)
{
	char dir[128];
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/ro", scratch_dir);
	ck_assert_int_eq(mkdir(dir, 0555), 0);
	ck_assert_int_eq(chmod(dir, 0555), 0);
	ck_assert_int_eq(chmod(scratch_dir, 0755), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct spgw_ledger *l = NULL;
		struct spgw_error err;

		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		memset(&err, 0, sizeof(err));
		if (spgw_ledger_open(dir, &l, &err) != SPGW_E_STATE)
			_exit(1);
		_exit(strstr(err.text, "not writable") && strstr(err.text, "chmod") ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died");
	if (WEXITSTATUS(status) == 3) {
		fprintf(stderr, "refuse_readonly_dir: skipped: running as root and cannot become "
				"nobody (root ignores permission bits)\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "child reported %d", WEXITSTATUS(status));
	strcat(dir, "/spgw.db");
	ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

/* ---- the outbox ---- */

START_TEST(put_semantics)
{
	struct spgw_ledger *l = open_ok();
	enum spgw_put_result res;
	struct spgw_error err;
	char *s;

	begin(l);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":1}"), SPGW_PUT_NEW);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":1}"), SPGW_PUT_UNCHANGED);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":2}"), SPGW_PUT_VERSION);
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":2}"), SPGW_PUT_UNCHANGED);
	/* back to an earlier content: compared with the newest version only, so a version */
	ck_assert_int_eq(put_ok(l, "K1", "{\"a\":1}"), SPGW_PUT_VERSION);
	ck_assert_int_eq(put_ok(l, "K2", "{\"a\":1}"), SPGW_PUT_NEW);
	/* the key is per region and table */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(put(l, "220200", "SPGL_XMJBXXB", "K1", "{\"a\":1}", &res, &err), 0);
	ck_assert_int_eq(res, SPGW_PUT_NEW);
	ck_assert_int_eq(put(l, "220100", "SPGL_DFXMYDXXB", "K1", "{\"a\":1}", &res, &err), 0);
	ck_assert_int_eq(res, SPGW_PUT_NEW);
	commit(l);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 6);
	s = scratch_peek_text("SELECT group_concat(version || ':' || data, ' ') FROM (SELECT * "
			      "FROM outbox_records"
			      " WHERE region = '220100' AND spgl_table = 'SPGL_XMJBXXB'"
			      " AND record_key = 'K1' ORDER BY id)");
	ck_assert_str_eq(s, "1:{\"a\":1} 2:{\"a\":2} 3:{\"a\":1}");
	free(s);
	s = scratch_peek_text("SELECT group_concat(DISTINCT state || '/' || source || '/' || day)"
			      " FROM outbox_records");
	ck_assert_str_eq(s, "pending/changchun/2026-11-03");
	free(s);
	s = scratch_peek_text("SELECT digest FROM outbox_records WHERE record_key = 'K2'");
	/* SM3 of {"a":1}, by openssl dgst -sm3 */
	ck_assert_str_eq(s, "sm3:d646a76e347ce7c1a4c11acff67604928ccfaf03fc2e4fb8faaf5b2b1227605a");
	free(s);
	ck_assert_int_eq(
		scratch_peek_int("SELECT count(*) FROM outbox_records WHERE created_at GLOB "
				 "'20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:"
				 "[0-6][0-9]Z'"),
		6);
}
END_TEST

START_TEST(put_day_unknown)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_outbox_record r = { .source = "provincial-220200", .region = "220200",
					.table = "SPGL_XMSPSXBLXXB", .key = "JL-1",
					.digest = "sm3:00", .data = "{}", .data_len = 2 };
	enum spgw_put_result res;

	begin(l);
	ck_assert_int_eq(spgw_ledger_put(l, &r, &res, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(res, SPGW_PUT_NEW);
	commit(l);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records WHERE day IS NULL"),
			 1);
}
END_TEST

START_TEST(writes_need_a_transaction)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_quarantine_record q = { "s", NULL, "t", NULL, NULL, "x", 1, NULL, "[]", NULL };
	enum spgw_put_result res;
	struct spgw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(put(l, "220100", "T", "K", "{}", &res, &err), SPGW_E_LEDGER);
	ck_assert_ptr_nonnull(strstr(err.text, "outside a transaction"));
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "s", "c", NULL), SPGW_E_LEDGER);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q, NULL, NULL), SPGW_E_LEDGER);
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(l, 1, NULL), SPGW_E_LEDGER);
	ck_assert_int_eq(spgw_ledger_quarantine_update(l, 1, NULL, "[]", NULL), SPGW_E_LEDGER);
	ck_assert_int_eq(spgw_ledger_commit(l, NULL), SPGW_E_LEDGER);
	begin(l);
	ck_assert_int_eq(spgw_ledger_begin(l, NULL), SPGW_E_LEDGER); /* no nesting */
	spgw_ledger_rollback(l);
	spgw_ledger_rollback(l); /* harmless twice */
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 0);
}
END_TEST

/* ---- cursors ---- */

START_TEST(cursor_with_records)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	char *c = (char *)"untouched";

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "changchun", &c, &err), SPGW_OK);
	ck_assert_ptr_null(c);
	/* rolled back: neither the records nor the cursor */
	begin(l);
	put_ok(l, "K1", "{\"a\":1}");
	put_ok(l, "K2", "{\"a\":2}");
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "changchun", "2026-11-03T00:00:00/17", &err),
			 SPGW_OK);
	spgw_ledger_rollback(l);
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "changchun", &c, &err), SPGW_OK);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 0);
	/* committed: both */
	begin(l);
	put_ok(l, "K1", "{\"a\":1}");
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "changchun", "2026-11-03T00:00:00/17", &err),
			 SPGW_OK);
	commit(l);
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "changchun", &c, &err), SPGW_OK);
	ck_assert_str_eq(c, "2026-11-03T00:00:00/17");
	spgw_free(c);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 1);
	/* replaced, per source */
	begin(l);
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "changchun", "2026-11-04T00:00:00/2", &err), 0);
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "provincial-220200", "", &err), 0);
	commit(l);
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "changchun", &c, &err), SPGW_OK);
	ck_assert_str_eq(c, "2026-11-04T00:00:00/2");
	spgw_free(c);
	ck_assert_int_eq(spgw_ledger_cursor_get(l, "provincial-220200", &c, &err), SPGW_OK);
	ck_assert_str_eq(c, "");
	spgw_free(c);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM cursors"), 2);
}
END_TEST

START_TEST(cursor_limit)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	char *big = malloc(5000);

	memset(big, 'x', 4999);
	big[4999] = '\0';
	memset(&err, 0, sizeof(err));
	begin(l);
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "s", big, &err), SPGW_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err.text, "SPGW_MAX_CURSOR"));
	spgw_ledger_rollback(l);
	spgw_ledger_close(l);
	free(big);
}
END_TEST

/* ---- quarantine ---- */

struct rows {
	int n;
	int64_t ids[16];
	char text[16][512];
	int stop_at; /* return SPGW_E_NOTFOUND at this row (1-based), 0 never */
};

static enum spgw_rc collect(void *ud, const struct spgw_quarantine_row *row)
{
	struct rows *r = ud;

	ck_assert_int_lt(r->n, 16);
	r->ids[r->n] = row->id;
	snprintf(r->text[r->n], sizeof(r->text[0]), "%s|%s|%s|%s|%s|%zu|%s|%s|%lld|%d",
		 row->source, row->region ? row->region : "-",
		 row->source_table ? row->source_table : "-", row->table ? row->table : "-",
		 row->key ? row->key : "-", row->raw_len, row->mapped ? row->mapped : "-",
		 row->reasons ? row->reasons : "-", (long long)row->seen, row->resolved);
	ck_assert_int_eq((int)strlen(row->created_at), 20);
	r->n++;
	return r->stop_at == r->n ? SPGW_E_NOTFOUND : SPGW_OK;
}

static enum spgw_rc check_raw(void *ud, const struct spgw_quarantine_row *row)
{
	const char *want = ud;

	ck_assert_uint_eq(row->raw_len, 7);
	ck_assert_int_eq(memcmp(row->raw, want, 7), 0);
	return SPGW_OK;
}

START_TEST(quarantine_lifecycle)
{
	static const char raw_bin[7] = { '{', '\0', '\xff', '"', '\xe4', '}', '\n' };
	struct spgw_ledger *l = open_ok();
	struct spgw_quarantine_record a = { "changchun", "220100", "xm_info", "SPGL_XMJBXXB",
					    "CC-1", "{\"id\":1}", 8, "{\"XMDM\":\"bad\"}",
					    "[{\"code\":\"format\"}]", NULL };
	struct spgw_quarantine_record b = { "changchun", "220100", "xm_info", NULL, NULL,
					    raw_bin, sizeof(raw_bin), NULL,
					    "[{\"code\":\"mapping\"}]", NULL };
	struct spgw_quarantine_record c = { "provincial-220200", NULL, "spsx", NULL, NULL,
					    "", 0, NULL, NULL, NULL };
	struct spgw_error err;
	struct rows r;
	int64_t id1 = 0, id2 = 0, id3 = 0, id;

	memset(&err, 0, sizeof(err));
	begin(l);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &a, &id1, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &b, &id2, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &c, &id3, &err), SPGW_OK);
	ck_assert_int_lt(id1, id2);
	ck_assert_int_lt(id2, id3);
	/* the same record again: one entry, seen twice, today's reasons */
	a.reasons = "[{\"code\":\"format\"},{\"code\":\"length\"}]";
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &a, &id, &err), SPGW_OK);
	ck_assert_int_eq(id, id1);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &b, &id, &err), SPGW_OK); /* NULLs match */
	ck_assert_int_eq(id, id2);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &b, NULL, &err), SPGW_OK);
	/* not the same: another key, or other raw bytes */
	a.key = "CC-2";
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &a, &id, &err), SPGW_OK);
	ck_assert_int_gt(id, id3);
	a.key = "CC-1";
	commit(l);

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, NULL, 0, collect, &r, &err), SPGW_OK);
	ck_assert_int_eq(r.n, 4);
	ck_assert_str_eq(r.text[0], "changchun|220100|xm_info|SPGL_XMJBXXB|CC-1|8|"
				    "{\"XMDM\":\"bad\"}|"
				    "[{\"code\":\"format\"},{\"code\":\"length\"}]|2|0");
	ck_assert_str_eq(r.text[1],
			 "changchun|220100|xm_info|-|-|7|-|[{\"code\":\"mapping\"}]|3|0");
	ck_assert_str_eq(r.text[2], "provincial-220200|-|spsx|-|-|0|-|-|1|0");
	ck_assert_int_eq(spgw_ledger_quarantine_get(l, id2, check_raw, (void *)raw_bin, &err), 0);

	/* one source only; a callback stops the walk with its code */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, "provincial-220200", 0, collect, &r, &err),
			 SPGW_OK);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.ids[0], id3);
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, NULL, 0, collect, &r, &err),
			 SPGW_E_NOTFOUND);
	ck_assert_int_eq(r.n, 2);

	/* a replay that still fails updates; one that succeeds resolves */
	begin(l);
	ck_assert_int_eq(spgw_ledger_quarantine_update(l, id2, "{\"XMDM\":\"x\"}",
						       "[{\"code\":\"required\"}]", &err),
			 SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(l, id1, &err), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(l, id1, &err), SPGW_OK); /* again: ok */
	commit(l);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_get(l, id2, collect, &r, &err), SPGW_OK);
	ck_assert_str_eq(r.text[0], "changchun|220100|xm_info|-|-|7|{\"XMDM\":\"x\"}|"
				    "[{\"code\":\"required\"}]|3|0");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, NULL, 0, collect, &r, &err), SPGW_OK);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.ids[0], id2);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, NULL, 1, collect, &r, &err), SPGW_OK);
	ck_assert_int_eq(r.n, 4);
	ck_assert_int_eq(r.ids[0], id1);
	ck_assert_str_eq(r.text[0] + strlen(r.text[0]) - 2, "|1");

	/* a resolved entry is no longer open: updating it is refused, the same record
	 * refused again opens a new entry */
	begin(l);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_quarantine_update(l, id1, NULL, "[]", &err),
			 SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "already resolved"));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &a, &id, &err), SPGW_OK);
	ck_assert_int_gt(id, id1);
	/* absent ids */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(l, 9999, &err), SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "9999"));
	ck_assert_int_eq(spgw_ledger_quarantine_update(l, 9999, NULL, "[]", NULL),
			 SPGW_E_NOTFOUND);
	commit(l);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(spgw_ledger_quarantine_get(l, 9999, collect, &r, &err), SPGW_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.text, "does not exist"));
	spgw_ledger_close(l);
	ck_assert_int_eq(
		scratch_peek_int("SELECT count(*) FROM quarantine WHERE resolved_at IS NOT NULL"),
		1);
}
END_TEST

/* A callback may call back into the ledger while the walk is under way (replay does). */
struct replay {
	struct spgw_ledger *l;
	int n;
};

static enum spgw_rc resolve_each(void *ud, const struct spgw_quarantine_row *row)
{
	struct replay *rp = ud;
	struct rows r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(spgw_ledger_quarantine_get(rp->l, row->id, collect, &r, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(rp->l, row->id, NULL), SPGW_OK);
	rp->n++;
	return SPGW_OK;
}

START_TEST(quarantine_reentrant)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_quarantine_record q = { "s", NULL, "t", NULL, NULL, NULL, 0, NULL, "[]", NULL };
	struct replay rp = { l, 0 };
	char raw[32];
	int i;

	begin(l);
	for (i = 0; i < 10; i++) {
		snprintf(raw, sizeof(raw), "{\"n\":%d}", i);
		q.raw = raw;
		q.raw_len = strlen(raw);
		ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q, NULL, NULL), SPGW_OK);
	}
	ck_assert_int_eq(spgw_ledger_quarantine_each(l, "s", 0, resolve_each, &rp, NULL), SPGW_OK);
	commit(l);
	ck_assert_int_eq(rp.n, 10);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM quarantine WHERE resolved = 1"),
			 10);
}
END_TEST

/* ---- counts ---- */

struct counts {
	int n;
	char rows[16][160];
};

static enum spgw_rc collect_count(void *ud, const char *source, const char *region,
				  const char *table, const char *state, int64_t count)
{
	struct counts *c = ud;

	ck_assert_int_lt(c->n, 16);
	snprintf(c->rows[c->n++], sizeof(c->rows[0]), "%s %s %s %s %lld", source,
		 region ? region : "-", table, state, (long long)count);
	return SPGW_OK;
}

START_TEST(counts)
{
	struct spgw_ledger *l = open_ok();
	struct spgw_quarantine_record q1 = { "changchun", "220100", "xm_info", "SPGL_XMJBXXB",
					     "CC-9", "a", 1, NULL, "[]", NULL };
	struct spgw_quarantine_record q2 = { "changchun", "220100", "xm_info", NULL, NULL,
					     "b", 1, NULL, "[]", NULL };
	struct spgw_quarantine_record q3 = { "changchun", "220100", "xm_info", NULL, NULL,
					     "c", 1, NULL, "[]", NULL };
	enum spgw_put_result res;
	struct counts c;
	int64_t id3;

	begin(l);
	put_ok(l, "K1", "{\"a\":1}");
	put_ok(l, "K1", "{\"a\":2}");
	put_ok(l, "K2", "{\"a\":1}");
	ck_assert_int_eq(put(l, "220100", "SPGL_DFXMYDXXB", "K1", "{}", &res, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q1, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q2, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q2, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &q3, &id3, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_resolve(l, id3, NULL), SPGW_OK);
	commit(l);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(spgw_ledger_counts(l, collect_count, &c, NULL), SPGW_OK);
	ck_assert_int_eq(c.n, 4);
	ck_assert_str_eq(c.rows[0], "changchun 220100 SPGL_DFXMYDXXB pending 1");
	ck_assert_str_eq(c.rows[1], "changchun 220100 SPGL_XMJBXXB pending 3");
	ck_assert_str_eq(c.rows[2], "changchun 220100 SPGL_XMJBXXB quarantined 1");
	ck_assert_str_eq(c.rows[3], "changchun 220100 xm_info quarantined 1");
	spgw_ledger_close(l);
}
END_TEST

/* ---- faults ---- */

/* What is on disk, in one line, to compare before and after a failed batch. */
static char *snapshot(void)
{
	return scratch_peek_text(
		"SELECT (SELECT count(*) || '/' || total(version) || '/' ||"
		" ifnull(group_concat(record_key || version, ','), '') FROM outbox) ||"
		" ' | ' || (SELECT ifnull(group_concat(source || '=' || cursor), '')"
		" FROM cursors) || ' | ' || (SELECT count(*) || '/' || total(seen) || '/'"
		" || total(resolved) || '/' || ifnull(group_concat(reasons), '')"
		" FROM quarantine)");
}

/* One batch of every kind of write: records new and changed, quarantine new, seen again
 * and resolved, and the cursor: 17 write statements and the COMMIT. */
static enum spgw_rc batch(struct spgw_ledger *l, struct spgw_error *err)
{
	struct spgw_quarantine_record q = { "changchun", "220100", "xm_info", NULL, NULL,
					    "base", 4, NULL, "[\"again\"]", NULL };
	enum spgw_put_result res;
	char key[16], data[32];
	enum spgw_rc rc;
	int i;

	rc = spgw_ledger_begin(l, err);
	for (i = 0; !rc && i < 12; i++) {
		snprintf(key, sizeof(key), "B%d", i % 8);  /* B0..B3 exist: new versions */
		snprintf(data, sizeof(data), "{\"v\":%d}", i);
		rc = put(l, "220100", "SPGL_XMJBXXB", key, data, &res, err);
	}
	if (!rc)
		rc = spgw_ledger_quarantine_put(l, &q, NULL, err); /* seen again */
	q.raw = "new!";
	if (!rc)
		rc = spgw_ledger_quarantine_put(l, &q, NULL, err); /* new */
	if (!rc)
		rc = spgw_ledger_quarantine_resolve(l, 1, err);
	if (!rc)
		rc = spgw_ledger_quarantine_update(l, 2, NULL, "[\"updated\"]", err);
	if (!rc)
		rc = spgw_ledger_cursor_set(l, "changchun", "after", err);
	if (!rc)
		rc = spgw_ledger_commit(l, err);
	if (rc)
		spgw_ledger_rollback(l);
	return rc;
}

START_TEST(fail_after_leaves_nothing_half_written)
{
	struct spgw_quarantine_record base = { "changchun", "220100", "xm_info", NULL, NULL,
					       "base", 4, NULL, "[\"first\"]", NULL };
	struct spgw_quarantine_record other = { "changchun", "220100", "xm_info", NULL, NULL,
						"other", 5, NULL, "[\"other\"]", NULL };
	struct spgw_ledger *l = open_ok();
	struct spgw_error err;
	char *before, *after;
	long n;
	int i, completed = 0;
	char key[16];

	begin(l);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "B%d", i);
		put_ok(l, key, "{\"v\":-1}");
	}
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &base, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_quarantine_put(l, &other, NULL, NULL), SPGW_OK);
	ck_assert_int_eq(spgw_ledger_cursor_set(l, "changchun", "before", NULL), SPGW_OK);
	commit(l);
	before = snapshot();
	for (n = 0; !completed; n++) {
		enum spgw_rc rc;

		ck_assert_int_lt(n, 100);
		memset(&err, 0, sizeof(err));
		spgw_ledger_fail_after(l, n);
		rc = batch(l, &err);
		spgw_ledger_fail_after(l, -1);
		after = snapshot();
		if (rc == SPGW_OK) {
			completed = 1;
			ck_assert_str_ne(after, before);
			ck_assert_ptr_nonnull(strstr(after, "changchun=after"));
			/* 4 rows before, 12 now: B0..B3 at versions 2 and 3, B4..B7 at 1 */
			ck_assert_ptr_nonnull(strstr(after, "16/28.0/"));
		} else {
			ck_assert_int_eq(rc, SPGW_E_IO);
			ck_assert_ptr_nonnull(strstr(err.text, "simulated"));
			ck_assert_msg(!strcmp(after, before), "after failing write %ld: %s, not %s",
				      n + 1, after, before);
		}
		free(after);
	}
	/* 40 write statements: each record's row and JSON, the version before of each new
	 * version leaving the tallies, the transaction's puts added to the tallies at commit,
	 * the cursor and the commit: failures after 0..39 of them, success at 40 */
	ck_assert_int_eq(n, 41);
	/* the ledger stays usable after the failures */
	begin(l);
	put_ok(l, "Z", "{}");
	commit(l);
	free(before);
	spgw_ledger_close(l);
}
END_TEST

/* A shim VFS: the default unix VFS, but writes answer SQLITE_FULL while disk_full is set. The
 * unix VFS picks a method table per file kind and locking style: each gets its shim twin. */
static int disk_full;
static sqlite3_vfs full_vfs, *real_vfs;
static struct {
	const sqlite3_io_methods *real;
	sqlite3_io_methods shim;
} methods[8];
static int n_methods;

static int full_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	int i;

	for (i = 0; i < n_methods && f->pMethods != &methods[i].shim; i++)
		;
	ck_assert_int_lt(i, n_methods);
	if (disk_full)
		return SQLITE_FULL;
	return methods[i].real->xWrite(f, p, n, off);
}

static int full_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
		     int *out_flags)
{
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
	int i;

	(void)vfs;
	if (rc != SQLITE_OK || !f->pMethods)
		return rc;
	for (i = 0; i < n_methods && methods[i].real != f->pMethods; i++)
		;
	if (i == n_methods) {
		ck_assert_int_lt(n_methods, 8);
		methods[i].real = f->pMethods;
		methods[i].shim = *f->pMethods;
		methods[i].shim.xWrite = full_write;
		n_methods++;
	}
	f->pMethods = &methods[i].shim;
	return rc;
}

START_TEST(disk_full_is_reported)
{
	struct spgw_ledger *l;
	struct spgw_error err;
	char key[16], data[600], *before, *after;
	enum spgw_put_result res;
	enum spgw_rc rc = SPGW_OK;
	int i;

	/* once per process: without CK_FORK the later tests run on the shim, passing through */
	if (!real_vfs) {
		real_vfs = sqlite3_vfs_find(NULL);
		full_vfs = *real_vfs;
		full_vfs.zName = "spgw-test-full";
		full_vfs.xOpen = full_open;
		ck_assert_int_eq(sqlite3_vfs_register(&full_vfs, 1), SQLITE_OK);
	}
	l = open_ok();
	begin(l);
	put_ok(l, "K0", "{}");
	commit(l);
	before = snapshot();
	memset(&err, 0, sizeof(err));
	disk_full = 1;
	begin(l);
	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	/* enough to spill the page cache, so the failure may come from a put or the commit */
	for (i = 0; !rc && i < 40000; i++) {
		snprintf(key, sizeof(key), "K%d", i + 1);
		rc = put(l, "220100", "SPGL_XMJBXXB", key, data, &res, &err);
	}
	if (!rc)
		rc = spgw_ledger_commit(l, &err);
	spgw_ledger_rollback(l);
	disk_full = 0;
	ck_assert_int_eq(rc, SPGW_E_STATE);
	ck_assert_msg(strstr(err.text, "state directory full") && strstr(err.text, scratch_dir),
		      "message: %s", err.text);
	after = snapshot();
	ck_assert_str_eq(after, before);
	/* space again: the next batch goes through */
	begin(l);
	put_ok(l, "K1", "{}");
	commit(l);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), 2);
	free(before);
	free(after);
}
END_TEST

/* ---- speed (reported, not asserted) ---- */

START_TEST(put_speed)
{
	struct spgw_ledger *l = open_ok();
	const char *env = getenv("SPGW_LEDGER_BENCH");
	long total = env ? atol(env) : 20000, i;
	struct spgw_outbox_record r = { 0 };
	struct timespec t0, t1;
	struct rusage r0, r1;
	enum spgw_put_result res;
	struct spgw_error err;
	char key[32], data[1600], digest[80];
	double secs, cpu;
	int len;

	memset(&err, 0, sizeof(err));
	/* about 1.5 KB of canonical JSON with Chinese text, as a real record */
	len = snprintf(data, sizeof(data),
		       "{\"DFSJZJ\":\"%s\",\"JSDD\":\"吉林省长春市南关区", "CC-2026-000000");
	while (len < 1450)
		len += snprintf(data + len, sizeof(data) - (size_t)len, "建设工程规划许可");
	len += snprintf(data + len, sizeof(data) - (size_t)len, "\",\"SJYXBS\":1}");
	r.source = "changchun";
	r.region = "220100";
	r.table = "SPGL_XMJBXXB";
	r.key = key;
	r.day = "2026-11-03";
	r.digest = digest;
	r.data = data;
	r.data_len = (size_t)len;
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < total; i++) {
		if (i % 5000 == 0)
			begin(l);
		/* keys in a scattered order, as several cities' records interleave */
		snprintf(key, sizeof(key), "CC-2026-%09ld", (i * 7919) % total);
		snprintf(digest, sizeof(digest), "sm3:%064ld", i);
		ck_assert_int_eq(spgw_ledger_put(l, &r, &res, NULL, &err), SPGW_OK);
		if (i % 5000 == 4999 || i + 1 == total)
			commit(l);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &r1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* CPU time too: on a shared machine the wall clock also measures the neighbours */
	cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
		       r0.ru_stime.tv_sec) +
	      (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
		       r0.ru_stime.tv_usec) / 1e6;
	printf("ledger put speed: %ld puts of %d bytes in %.3f s = %.0f puts/s "
	       "(%.3f s CPU = %.0f puts per CPU second)\n", total, len, secs,
	       (double)total / secs, cpu, (double)total / cpu);
	spgw_ledger_close(l);
	ck_assert_int_eq(scratch_peek_int("SELECT count(*) FROM outbox_records"), total);
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_reopen);
	tcase_add_test(tc, migrations_applied);
	tcase_add_test(tc, second_connection_keeps_locks);
	tcase_add_test(tc, migration_3_keeps_records);
	tcase_add_test(tc, migration_4_keeps_ids);
	tcase_add_test(tc, migration_5_fills_valid);
	tcase_add_test(tc, two_connections);
	tcase_add_test(tc, refuse_text_file);
	tcase_add_test(tc, refuse_other_application);
	tcase_add_test(tc, refuse_foreign_without_id);
	tcase_add_test(tc, refuse_newer);
	tcase_add_test(tc, refuse_damaged);
	tcase_add_test(tc, refuse_truncated);
	tcase_add_test(tc, refuse_missing_dir);
	tcase_add_test(tc, refuse_readonly_dir);
	suite_add_tcase(s, tc);
	tc = tcase_create("outbox");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, put_semantics);
	tcase_add_test(tc, put_day_unknown);
	tcase_add_test(tc, writes_need_a_transaction);
	tcase_add_test(tc, cursor_with_records);
	tcase_add_test(tc, cursor_limit);
	tcase_add_test(tc, quarantine_lifecycle);
	tcase_add_test(tc, quarantine_reentrant);
	tcase_add_test(tc, counts);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fail_after_leaves_nothing_half_written);
	tcase_add_test(tc, disk_full_is_reported);
	tcase_add_test(tc, put_speed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *cases = getenv("SPGW_TEST_CASES");
	struct stat st;
	SRunner *sr;
	int failed;

	if (!cases || cases[0] != '/' || stat(cases, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "test_ledger: set SPGW_TEST_CASES to the absolute path of "
				"tests/cases\n");
		return 1;
	}
	sr = srunner_create(ledger_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
