/*
 * Private to ledger_open.c (opening, identity checks, migrations) and ledger.c (the
 * operations): the ledger's connection and its prepared statements. Nothing else includes
 * this header.
 */
#ifndef SPGW_LEDGER_INT_H
#define SPGW_LEDGER_INT_H

#include <sqlite3.h>
#include <time.h>

#include "ledger.h"

/* How long a statement waits for another process's lock before failing (ms): a second spgw
 * on the same state directory, or an operator's sqlite3 shell, holds it briefly. */
#define LEDGER_BUSY_MS 5000

/* Distinct (region, table, day) of puts counted per transaction before they are written. */
#define LEDGER_PUT_COUNTS 64

/* Slots of spgw_ledger_lazy(). */
#define LEDGER_LAZY_COUNT 16

/* The statements prepared once at open (ledger.c holds their SQL). */
enum ledger_stmt {
	LEDGER_ST_BEGIN,
	LEDGER_ST_COMMIT,
	LEDGER_ST_ROLLBACK,
	LEDGER_ST_HEAD,
	LEDGER_ST_PUT,
	LEDGER_ST_PUT_DATA,
	LEDGER_ST_CURSOR_GET,
	LEDGER_ST_CURSOR_SET,
	LEDGER_ST_Q_FIND,
	LEDGER_ST_Q_SEEN,
	LEDGER_ST_Q_INSERT,
	LEDGER_ST_Q_STATE,
	LEDGER_ST_Q_RESOLVE,
	LEDGER_ST_Q_UPDATE,
	LEDGER_ST_CHILDREN,
	LEDGER_ST_Q_WAITING,
	LEDGER_ST_TALLY_PUT,
	LEDGER_ST_KEYDAY_PUT,
	LEDGER_ST_KEYDAY_PREV,
	LEDGER_ST_COUNT
};

struct spgw_ledger {
	sqlite3 *db;
	char *dir;
	char *path;
	int in_txn;       /* between a successful begin and commit/rollback */
	long fail_after;  /* test seam: write statements left before failing; -1 off */
	int fail_once;    /* test seam: only that one write fails */
	int simulated;    /* the last failure came from the seam, not SQLite */
	time_t now_sec;   /* created_at/updated_at cache: one strftime per second */
	char now[24];
	sqlite3_stmt *st[LEDGER_ST_COUNT];
	/* statements prepared on first use by the less frequent operations (ledger_recon.c),
	 * kept for the connection's life: spgw_ledger_lazy() */
	sqlite3_stmt *lazy[LEDGER_LAZY_COUNT];
	/* the puts of the open transaction, per region, table and day, added to the tallies
	 * at commit (a handful of writes per transaction instead of two per record) */
	struct ledger_put_count {
		char region[8];
		char table[64];
		char day[16]; /* "" while unknown: held */
		int64_t n;
	} puts[LEDGER_PUT_COUNTS];
	size_t nputs;
};

/* A statement of slot `slot` (an enum of the module that uses it, below
 * LEDGER_LAZY_COUNT), prepared from `sql` on first use and reset for reuse; NULL with the
 * SQLite code in *src when it cannot be prepared. */
sqlite3_stmt *spgw_ledger_lazy(struct spgw_ledger *l, int slot, const char *sql, int *src);

/*
 * Turn an SQLite result `src` into our code and a message saying what was being done
 * (`what`) and what to do next.
 */
enum spgw_rc spgw_ledger_db_fail(struct spgw_ledger *l, int src, const char *what,
				 struct spgw_error *err);

/* Fail unless inside a transaction SQLite still holds (ledger.c). */
enum spgw_rc spgw_ledger_need_txn(struct spgw_ledger *l, const char *what,
				  struct spgw_error *err);
/* sqlite3_step() for a statement that writes; the test seam fails it here. */
int spgw_ledger_step_write(struct spgw_ledger *l, sqlite3_stmt *s);
/* The current time as RFC 3339 UTC with seconds, "2026-11-22T12:00:00Z" (borrowed). */
const char *spgw_ledger_now(struct spgw_ledger *l);

/* Bind text or NULL; SQLITE_STATIC: every string is borrowed for the call, and the
 * statement is reset before the call returns. */
static inline int spgw_ledger_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Prepare the statements every put and commit runs, once per connection. */
enum spgw_rc spgw_ledger_prepare(struct spgw_ledger *l, struct spgw_error *err);

#endif
