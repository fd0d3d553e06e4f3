/*
 * Opening the ledger (see ledger.h): find or create <state_dir>/spgw.db, refuse a file that
 * is not ours or not sound, configure the connection and apply the schema migrations.
 *
 * Durability: WAL with synchronous=FULL. WAL with NORMAL already survives kill -9 (a commit
 * is in the WAL file before COMMIT returns; only the fsync is deferred), and losing the last
 * ingest transactions to a power cut would only re-read them from the committed cursor. We
 * still choose FULL: transactions are large (up to 5000 records, or one upload batch), so one
 * fsync per commit costs little, and later migrations keep delivery marks and signed receipts
 * here, the proof of what the national platform accepted, which a power cut must not undo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_int.h"
#include "mem.h"

/* PRAGMA application_id: "SPGW" in ASCII, so `file spgw.db` and our open can tell our
 * database from another program's SQLite file. */
#define LEDGER_APP_ID 0x53504757

/* Page cache per connection (KiB, as a negative cache_size), a fixed amount so memory stays
 * flat: every put seeks the newest version of its key, and with SQLite's 2 MiB default the
 * index of a million keys (~50 MB) is read back from the file on most puts of scattered keys
 * (measured: 32k puts per CPU second at 16 MiB, 48k at 64 MiB). 16 MiB, because the whole
 * gateway must stay under 64 MiB resident (issue 3); the ingest benchmark peaks at 25 MiB. */
#define LEDGER_CACHE_KIB 16384

/* Page size of a new database. A record is ~1.5 KB: with 4 KiB pages two fit a page and the
 * write-ahead log costs two write() calls per page; 16 KiB pages halved the CPU time per put
 * (measured 40k -> 63k puts per CPU second). */
#define LEDGER_PAGE_SIZE 16384

/* STRICT tables, RETURNING and UPSERT need SQLite 3.37. */
#define LEDGER_MIN_SQLITE 3037000

/* A version's phase for the tallies of migration 7, over the row prefix P ("", "NEW.",
 * "OLD."): pending splits into held (no business day yet), waiting, and in an open batch. */
#define LEDGER_PHASE(P)                                                                    \
	"(CASE WHEN " P "state = 'delivered' THEN 'delivered' WHEN " P "state = 'dead' "   \
	"THEN 'dead' WHEN " P "batch_id IS NOT NULL THEN 'in_flight' WHEN " P "day IS NULL " \
	"THEN 'held' ELSE 'pending' END)"

/* Tallies of migration 9, per key: K(A) matches the other versions of row A's key. The
 * delivered counts follow each key's newest delivered version (what the national platform
 * holds), pending and dead each key's newest version. U is the upsert that adds to n. */
#define KEY_OF(A) "o.region = " A ".region AND o.spgl_table = " A ".spgl_table AND " \
	"o.record_key = " A ".record_key"
#define NO_NEWER_DELIVERED(A)                                                              \
	"NOT EXISTS (SELECT 1 FROM outbox o WHERE " KEY_OF(A) " AND o.version > " A ".version" \
	" AND o.state = 'delivered')"
#define NO_NEWER(A) "NOT EXISTS (SELECT 1 FROM outbox o WHERE " KEY_OF(A) " AND o.version > " \
	A ".version)"
#define UPSERT_N " ON CONFLICT DO UPDATE SET n = n + excluded.n;"
/* keyday counted from the outbox: migration 9's first fill, spgw_ledger_rebuild_tallies() */
#define KEYDAY_FILL                                                                        \
	"INSERT INTO keyday SELECT region, spgl_table, coalesce(day, ''), state, count(*)"  \
	"  FROM outbox AS n WHERE state IN ('pending', 'dead') AND " NO_NEWER("n")         \
	"  GROUP BY 1, 2, 3, 4;"                                                           \
	"INSERT INTO keyday SELECT region, spgl_table, coalesce(day, ''), 'delivered',"    \
	"  count(*) FROM outbox AS n WHERE state = 'delivered' AND "                       \
	NO_NEWER_DELIVERED("n") "  GROUP BY 1, 2, 3;"                                      \
	"INSERT INTO keyday SELECT region, spgl_table, coalesce(day, ''), 'valid', count(*)" \
	"  FROM outbox AS n WHERE state = 'delivered' AND valid = 1 AND "                  \
	NO_NEWER_DELIVERED("n") "  GROUP BY 1, 2, 3;"

/*
 * Schema migrations: migrations[i] takes user_version i to i + 1, in one transaction.
 * Append only: a released script is never edited, a change is a new script.
 */
static const char *const migrations[] = {
	/* 1: cursors, the outbox and the quarantine */
	"CREATE TABLE cursors ("
	"  source TEXT PRIMARY KEY NOT NULL,"   /* configured source name */
	"  cursor TEXT NOT NULL,"               /* opaque to us: the plugin's position */
	"  updated_at TEXT NOT NULL"            /* RFC 3339 UTC */
	") STRICT, WITHOUT ROWID;"
	/* Every version of every record, in the order it was queued (id). A key's versions
	 * are numbered from 1; the unique index finds the newest version of a key, which every
	 * put checks, with one seek. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  record_key TEXT NOT NULL,"            /* 地方数据主键 DFSJZJ */
	"  version INTEGER NOT NULL CHECK (version >= 1),"
	"  day TEXT,"                           /* business day, NULL until known */
	"  digest TEXT NOT NULL,"               /* sm3:<hex> of data */
	"  data TEXT NOT NULL,"                 /* canonical JSON */
	"  source TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'delivered', 'dead')),"
	"  created_at TEXT NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX outbox_key_version"
	"  ON outbox (region, spgl_table, record_key, version);"
	/* Refused records. AUTOINCREMENT: operators name entries by id, and an id must never
	 * come back for another record after a clean-up. raw_sha256 finds an identical open
	 * entry without comparing every raw blob. */
	"CREATE TABLE quarantine ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  created_at TEXT NOT NULL,"
	"  last_seen_at TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  region TEXT,"
	"  source_table TEXT,"
	"  spgl_table TEXT,"
	"  record_key TEXT,"
	"  raw BLOB NOT NULL,"
	"  raw_sha256 BLOB NOT NULL,"
	"  mapped TEXT,"
	"  reasons TEXT,"
	"  seen INTEGER NOT NULL DEFAULT 1,"
	"  resolved INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),"
	"  resolved_at TEXT"
	") STRICT;"
	"CREATE INDEX quarantine_open_raw ON quarantine (raw_sha256) WHERE resolved = 0;",
	/* 2: delivery. A record version sits in at most one open batch (batch_id) and keeps the
	 * id of the batch that delivered it. bkey/parent_ref/day_ref (outbox_refs.h) let the
	 * uploader hold a child until its parent is delivered and date a record whose day is
	 * its parent's. Partial indexes keep the per-put cost to the rows that need them. */
	"ALTER TABLE outbox ADD COLUMN batch_id TEXT;"
	"ALTER TABLE outbox ADD COLUMN bkey TEXT;"
	"ALTER TABLE outbox ADD COLUMN day_rule TEXT"
	"  CHECK (day_rule IS NULL OR day_rule IN ('inherit', 'earliest_child'));"
	"ALTER TABLE outbox ADD COLUMN day_table TEXT;"
	"ALTER TABLE outbox ADD COLUMN day_ref TEXT;"
	"ALTER TABLE outbox ADD COLUMN parent_table TEXT;"
	"ALTER TABLE outbox ADD COLUMN parent_ref TEXT;"
	"ALTER TABLE outbox ADD COLUMN delivered_at TEXT;"
	"ALTER TABLE outbox ADD COLUMN dead_reason TEXT;" /* JSON [{field, code, message}] */
	"ALTER TABLE outbox ADD COLUMN dead_at TEXT;"
	"CREATE INDEX outbox_ready ON outbox (region, spgl_table, id)"
	"  WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX outbox_bkey ON outbox (region, spgl_table, bkey) WHERE bkey IS NOT NULL;"
	"CREATE INDEX outbox_parent ON outbox (region, spgl_table, parent_ref)"
	"  WHERE parent_ref IS NOT NULL;"
	"CREATE INDEX outbox_dayless ON outbox (id) WHERE day IS NULL AND state = 'pending';"
	"CREATE INDEX outbox_batch ON outbox (batch_id) WHERE batch_id IS NOT NULL;"
	"CREATE INDEX outbox_dead ON outbox (region, spgl_table, id) WHERE state = 'dead';"
	/* A batch's id and exact bytes are stored before the first send: after a crash the
	 * same batch goes again and the national side answers its first result. */
	"CREATE TABLE batches ("
	"  id TEXT PRIMARY KEY NOT NULL,"       /* the batch_id sent */
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  body BLOB,"                          /* uncompressed bytes; NULL once settled */
	"  records INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'open'"
	"    CHECK (state IN ('open', 'done', 'dead', 'split', 'conflict')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_status INTEGER,"
	"  last_error TEXT,"
	"  created_at TEXT NOT NULL,"
	"  settled_at TEXT"
	") STRICT;"
	"CREATE INDEX batches_open ON batches (created_at) WHERE state = 'open';"
	/* The national platform's signed receipts: the proof of delivery. */
	"CREATE TABLE receipts ("
	"  batch_id TEXT PRIMARY KEY NOT NULL REFERENCES batches (id),"
	"  received_at TEXT NOT NULL,"
	"  content_digest TEXT NOT NULL,"
	"  accepted INTEGER NOT NULL,"
	"  duplicate INTEGER NOT NULL,"
	"  rejected INTEGER NOT NULL,"
	"  alg TEXT NOT NULL,"
	"  sig TEXT NOT NULL,"
	"  stored_at TEXT NOT NULL"
	") STRICT;",
	/* 3: a record's canonical JSON moves to its own table. Delivery rewrites each outbox
	 * row twice (into a batch, then delivered or dead); with the ~1.5 KB of JSON inside the
	 * row every rewrite copied it into the write-ahead log again, and that, not the
	 * network, bounded the upload (measured: ~5 MB of log per 1000-record batch, then
	 * ~0.5 MB). New batches keep their records and the SM3 of their exact body instead of
	 * the body itself: the body is a pure function of those records (batch.c), rebuilt for
	 * a resend and checked against the digest before it goes. outbox_records shows a record
	 * with its JSON, for operators and tests. */
	"CREATE TABLE outbox_data ("
	"  id INTEGER PRIMARY KEY,"             /* = outbox.id */
	"  data TEXT NOT NULL"                  /* canonical JSON */
	") STRICT;"
	"INSERT INTO outbox_data (id, data) SELECT id, data FROM outbox;"
	"ALTER TABLE outbox DROP COLUMN data;"
	"CREATE VIEW outbox_records AS"
	"  SELECT o.*, d.data FROM outbox o JOIN outbox_data d ON d.id = o.id;"
	"ALTER TABLE batches ADD COLUMN schema TEXT;"       /* the schema id in the body */
	"ALTER TABLE batches ADD COLUMN body_sm3 TEXT;",    /* hex SM3 of the exact body */
	/* 4: the same outbox, its state check written as comparisons. SQLite checks "IN" over
	 * three or more constants by filling a temporary index, a zeroed page-sized b-tree,
	 * on every insert: a third of the instructions of a put (~1.5 µs of CPU). A CHECK cannot be altered, so the
	 * table is rebuilt (SQLite's "other kinds of table schema changes"; only the view
	 * names outbox), keeping its AUTOINCREMENT counter so that no id ever comes back. */
	"DROP VIEW outbox_records;"
	"CREATE TABLE outbox_new ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  record_key TEXT NOT NULL,"
	"  version INTEGER NOT NULL CHECK (version >= 1),"
	"  day TEXT,"
	"  digest TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead'),"
	"  created_at TEXT NOT NULL,"
	"  batch_id TEXT,"
	"  bkey TEXT,"
	"  day_rule TEXT CHECK (day_rule IS NULL OR day_rule IN ('inherit', 'earliest_child')),"
	"  day_table TEXT,"
	"  day_ref TEXT,"
	"  parent_table TEXT,"
	"  parent_ref TEXT,"
	"  delivered_at TEXT,"
	"  dead_reason TEXT,"
	"  dead_at TEXT"
	") STRICT;"
	"INSERT INTO outbox_new (id, region, spgl_table, record_key, version, day, digest, source,"
	"  state, created_at, batch_id, bkey, day_rule, day_table, day_ref, parent_table,"
	"  parent_ref, delivered_at, dead_reason, dead_at)"
	" SELECT id, region, spgl_table, record_key, version, day, digest, source, state,"
	"  created_at, batch_id, bkey, day_rule, day_table, day_ref, parent_table, parent_ref,"
	"  delivered_at, dead_reason, dead_at FROM outbox;"
	"DELETE FROM sqlite_sequence WHERE name = 'outbox_new';"
	"UPDATE sqlite_sequence SET name = 'outbox_new' WHERE name = 'outbox';"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_new RENAME TO outbox;"
	"CREATE UNIQUE INDEX outbox_key_version"
	"  ON outbox (region, spgl_table, record_key, version);"
	"CREATE INDEX outbox_ready ON outbox (region, spgl_table, id)"
	"  WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX outbox_bkey ON outbox (region, spgl_table, bkey) WHERE bkey IS NOT NULL;"
	"CREATE INDEX outbox_parent ON outbox (region, spgl_table, parent_ref)"
	"  WHERE parent_ref IS NOT NULL;"
	"CREATE INDEX outbox_dayless ON outbox (id) WHERE day IS NULL AND state = 'pending';"
	"CREATE INDEX outbox_batch ON outbox (batch_id) WHERE batch_id IS NOT NULL;"
	"CREATE INDEX outbox_dead ON outbox (region, spgl_table, id) WHERE state = 'dead';"
	"CREATE VIEW outbox_records AS"
	"  SELECT o.*, d.data FROM outbox o JOIN outbox_data d ON d.id = o.id;",
	/* 5: a version's 数据有效标识 (SJYXBS) beside it. Corrections are append-only (an
	 * invalidation before the corrected row), which needs the newest version's flag on
	 * every changed put; counts of valid records and the handling-step sequence check read
	 * it too. NULL for a table without the field. */
	"ALTER TABLE outbox ADD COLUMN valid INTEGER CHECK (valid IS NULL OR valid = 0 OR valid = 1);"
	"UPDATE outbox SET valid = (SELECT CASE json_extract(d.data, '$.SJYXBS')"
	"  WHEN 1 THEN 1 WHEN 0 THEN 0 END FROM outbox_data d WHERE d.id = outbox.id);"
	"DROP VIEW outbox_records;"
	"CREATE VIEW outbox_records AS"
	"  SELECT o.*, d.data FROM outbox o JOIN outbox_data d ON d.id = o.id;",
	/* 6: a record refused only because its relatives have not all arrived (a handling step
	 * read before an earlier step of its case) names what it waits for, so the arrival of
	 * that relative judges it again without anyone replaying by hand. */
	"ALTER TABLE quarantine ADD COLUMN wait_ref TEXT;"
	"CREATE INDEX quarantine_waiting ON quarantine (region, spgl_table, wait_ref)"
	"  WHERE resolved = 0 AND wait_ref IS NOT NULL;",
	/* 7: what operations read (spgw status, /metrics) without counting ten million rows.
	 * tally keeps the outbox's versions per region, table and phase, and tally_day the
	 * versions delivered per Beijing day, by triggers in the same transaction as every
	 * change, so they are exactly as durable as the outbox itself. runs is each pull's
	 * outcome; schedule and daemon are what the daemon last said about itself; alarms are
	 * the conditions an operator must act on, present while they hold. */
	"CREATE TABLE tally ("
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  phase TEXT NOT NULL,"               /* pending, held, in_flight, delivered, dead */
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY (region, spgl_table, phase)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE tally_day ("
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  day TEXT NOT NULL,"                 /* Beijing date the versions were delivered on */
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY (region, spgl_table, day)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO tally SELECT region, spgl_table, " LEDGER_PHASE("") ", count(*)"
	"  FROM outbox GROUP BY 1, 2, 3;"
	"INSERT INTO tally_day SELECT region, spgl_table, date(delivered_at, '+8 hours'), count(*)"
	"  FROM outbox WHERE state = 'delivered' AND delivered_at IS NOT NULL GROUP BY 1, 2, 3;"
	"CREATE TRIGGER tally_insert AFTER INSERT ON outbox BEGIN"
	"  INSERT INTO tally VALUES (NEW.region, NEW.spgl_table, " LEDGER_PHASE("NEW.") ", 1)"
	"    ON CONFLICT DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TRIGGER tally_update AFTER UPDATE OF state, batch_id, day ON outbox"
	"  WHEN " LEDGER_PHASE("OLD.") " IS NOT " LEDGER_PHASE("NEW.") " BEGIN"
	"  UPDATE tally SET n = n - 1 WHERE region = OLD.region AND spgl_table = OLD.spgl_table"
	"    AND phase = " LEDGER_PHASE("OLD.") ";"
	"  INSERT INTO tally VALUES (NEW.region, NEW.spgl_table, " LEDGER_PHASE("NEW.") ", 1)"
	"    ON CONFLICT DO UPDATE SET n = n + 1;"
	"  INSERT INTO tally_day SELECT NEW.region, NEW.spgl_table,"
	"    date(NEW.delivered_at, '+8 hours'), 1"
	"    WHERE NEW.state = 'delivered' AND NEW.delivered_at IS NOT NULL"
	"    ON CONFLICT DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TRIGGER tally_delete AFTER DELETE ON outbox BEGIN"
	"  UPDATE tally SET n = n - 1 WHERE region = OLD.region AND spgl_table = OLD.spgl_table"
	"    AND phase = " LEDGER_PHASE("OLD.") ";"
	"END;"
	"CREATE INDEX quarantine_open ON quarantine (region, spgl_table, source_table)"
	"  WHERE resolved = 0;"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"                /* pull, backfill, catalog */
	"  started_at TEXT NOT NULL,"
	"  finished_at TEXT NOT NULL,"
	"  result TEXT NOT NULL,"              /* ok, failed, busy, stopped */
	"  error_code INTEGER NOT NULL DEFAULT 0," /* enum spgw_rc */
	"  records INTEGER NOT NULL DEFAULT 0,"
	"  added INTEGER NOT NULL DEFAULT 0,"
	"  changed INTEGER NOT NULL DEFAULT 0,"
	"  quarantined INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT"
	") STRICT;"
	"CREATE INDEX runs_source ON runs (source, id);"
	"CREATE TABLE schedule ("
	"  source TEXT PRIMARY KEY NOT NULL,"
	"  cron TEXT NOT NULL,"
	"  next_at TEXT,"                      /* NULL: not scheduled */
	"  running INTEGER NOT NULL DEFAULT 0,"
	"  updated_at TEXT NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE daemon ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  pid INTEGER NOT NULL,"
	"  started_at TEXT NOT NULL,"
	"  beat_at TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  state TEXT NOT NULL"                /* running, draining, stopped */
	") STRICT;"
	"CREATE TABLE alarms ("
	"  name TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"             /* a source, a file, region/table, or '' */
	"  message TEXT NOT NULL,"
	"  raised_at TEXT NOT NULL,"
	"  seen_at TEXT NOT NULL,"
	"  PRIMARY KEY (name, subject)"
	") STRICT, WITHOUT ROWID;",
	/* 8: the national platform's key that verified each receipt. The platform rotates its
	 * key; a receipt must stay verifiable with the key in force when it was received, not
	 * only with today's. Receipts stored before carry none: they are checked with the
	 * configured key, as before. */
	"CREATE TABLE national_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  pem TEXT NOT NULL UNIQUE,"           /* SubjectPublicKeyInfo PEM */
	"  first_used_at TEXT NOT NULL"
	") STRICT;"
	"ALTER TABLE receipts ADD COLUMN national_key INTEGER REFERENCES national_keys (id);",
	/* 9: reconciliation. keyday counts keys per region, table and business day the way the
	 * national platform counts them (PROTOCOL.md §3: a key on the day of its newest version
	 * it holds; valid: that version's SJYXBS is 1), kept by triggers like the tallies of 7,
	 * so comparing a year of ten million records reads a few thousand rows. day is '' while
	 * a record waits for the record its day comes from. outbox_day lists a day's keys for a
	 * record-level comparison. recon_* keep each reconciliation's results, so a report is
	 * rendered again, and a trend shown, without asking the national platform again. */
	"CREATE TABLE keyday ("
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  day TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"                /* delivered, valid, pending, dead */
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY (region, spgl_table, day, kind)"
	") STRICT, WITHOUT ROWID;"
	KEYDAY_FILL
	/* a put appends the key's newest version: the one before stops being it */
	"CREATE TRIGGER keyday_insert AFTER INSERT ON outbox BEGIN"
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(NEW.day, ''),"
	"    NEW.state, 1 WHERE NEW.state IN ('pending', 'dead')" UPSERT_N
	"  INSERT INTO keyday SELECT o.region, o.spgl_table, coalesce(o.day, ''), o.state, -1"
	"    FROM outbox o WHERE " KEY_OF("NEW") " AND o.version = NEW.version - 1"
	"    AND o.state IN ('pending', 'dead')" UPSERT_N
	/* a version stored as delivered (an import, a rebuilt ledger) is the newest delivered */
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(NEW.day, ''), k.kind, 1"
	"    FROM (SELECT 'delivered' AS kind UNION ALL SELECT 'valid' WHERE NEW.valid = 1) k"
	"    WHERE NEW.state = 'delivered'" UPSERT_N
	"  INSERT INTO keyday SELECT p.region, p.spgl_table, coalesce(p.day, ''), k.kind, -1"
	"    FROM outbox p, (SELECT 'delivered' AS kind UNION ALL SELECT 'valid') k"
	"    WHERE NEW.state = 'delivered' AND p.region = NEW.region"
	"    AND p.spgl_table = NEW.spgl_table AND p.record_key = NEW.record_key"
	"    AND p.version = (SELECT max(o.version) FROM outbox o WHERE " KEY_OF("NEW")
	"      AND o.version < NEW.version AND o.state = 'delivered')"
	"    AND (k.kind = 'delivered' OR p.valid = 1)" UPSERT_N
	"END;"
	"CREATE TRIGGER keyday_update AFTER UPDATE OF state, day ON outbox"
	"  WHEN OLD.state IS NOT NEW.state OR OLD.day IS NOT NEW.day BEGIN"
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(OLD.day, ''),"
	"    OLD.state, -1 WHERE OLD.state IN ('pending', 'dead') AND " NO_NEWER("NEW") UPSERT_N
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(NEW.day, ''),"
	"    NEW.state, 1 WHERE NEW.state IN ('pending', 'dead') AND " NO_NEWER("NEW") UPSERT_N
	/* the newest delivered version: out with OLD when it was, in with NEW when it is */
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(OLD.day, ''), k.kind, -1"
	"    FROM (SELECT 'delivered' AS kind UNION ALL SELECT 'valid' WHERE OLD.valid = 1) k"
	"    WHERE OLD.state = 'delivered' AND " NO_NEWER_DELIVERED("NEW") UPSERT_N
	"  INSERT INTO keyday SELECT NEW.region, NEW.spgl_table, coalesce(NEW.day, ''), k.kind, 1"
	"    FROM (SELECT 'delivered' AS kind UNION ALL SELECT 'valid' WHERE NEW.valid = 1) k"
	"    WHERE NEW.state = 'delivered' AND " NO_NEWER_DELIVERED("NEW") UPSERT_N
	/* the delivered version below: it was the newest delivered until NEW became delivered,
	 * and is it again when NEW stops being delivered (a repair queues NEW again) */
	"  INSERT INTO keyday SELECT p.region, p.spgl_table, coalesce(p.day, ''), k.kind,"
	"    CASE WHEN NEW.state = 'delivered' THEN -1 ELSE 1 END"
	"    FROM outbox p, (SELECT 'delivered' AS kind UNION ALL SELECT 'valid') k"
	"    WHERE (OLD.state = 'delivered') <> (NEW.state = 'delivered')"
	"    AND " NO_NEWER_DELIVERED("NEW")
	"    AND p.region = NEW.region AND p.spgl_table = NEW.spgl_table"
	"    AND p.record_key = NEW.record_key"
	"    AND p.version = (SELECT max(o.version) FROM outbox o WHERE " KEY_OF("NEW")
	"      AND o.version < NEW.version AND o.state = 'delivered')"
	"    AND (k.kind = 'delivered' OR p.valid = 1)" UPSERT_N
	"END;"
	"CREATE INDEX outbox_day ON outbox (region, spgl_table, day);"
	"CREATE TABLE recon_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at TEXT NOT NULL,"
	"  finished_at TEXT,"
	"  from_day TEXT NOT NULL,"
	"  to_day TEXT NOT NULL,"
	"  regions TEXT,"                      /* the --region filter, NULL: all */
	"  tables TEXT,"                       /* the --table filter, NULL: all */
	"  detail INTEGER NOT NULL DEFAULT 0,"
	"  repair INTEGER NOT NULL DEFAULT 0,"
	"  differences INTEGER NOT NULL DEFAULT 0,"
	"  result TEXT NOT NULL DEFAULT 'running'," /* agree, differ, incomplete, running */
	"  message TEXT"
	") STRICT;"
	"CREATE TABLE recon_days ("
	"  run INTEGER NOT NULL REFERENCES recon_runs (id) ON DELETE CASCADE,"
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  day TEXT NOT NULL,"
	"  city INTEGER,"                      /* NULL: not counted (city_note says why) */
	"  city_note TEXT,"
	"  delivered INTEGER NOT NULL,"
	"  valid INTEGER NOT NULL,"
	"  pending INTEGER NOT NULL,"
	"  dead INTEGER NOT NULL,"
	"  national INTEGER,"                  /* NULL: not known (national_note says why) */
	"  national_valid INTEGER,"
	"  national_note TEXT,"
	"  held INTEGER NOT NULL DEFAULT 0,"   /* on the table's total row (day ''): records */
	"  quarantined INTEGER NOT NULL DEFAULT 0," /* without a day yet, open quarantine */
	"  status TEXT NOT NULL,"              /* agree, differ, incomplete */
	"  note TEXT,"                         /* what differs, in words */
	"  PRIMARY KEY (run, region, spgl_table, day)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE recon_keys ("
	"  run INTEGER NOT NULL REFERENCES recon_runs (id) ON DELETE CASCADE,"
	"  region TEXT NOT NULL,"
	"  spgl_table TEXT NOT NULL,"
	"  day TEXT NOT NULL,"
	"  record_key TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"                /* missing_national, missing_ledger, digest,
						* extra_national */
	"  ledger_digest TEXT,"
	"  national_digest TEXT,"
	"  action TEXT"                        /* requeued, or NULL */
	") STRICT;"
	"CREATE INDEX recon_keys_run ON recon_keys (run, region, spgl_table, day);",
	/* 10: the tallies of 7 and 9 follow a put from the put itself (ledger.c), not from
	 * triggers on INSERT: any trigger on a table makes SQLite keep a statement journal of
	 * every page each insert touches, which halved ingest (measured: 220,000 records 6.9 s
	 * without, 12.9 s with). Changes of state keep their triggers: those statements are
	 * few and touch many rows each. A ledger written by other means gets its tallies back
	 * with spgw_ledger_rebuild_tallies(). */
	"DROP TRIGGER tally_insert;"
	"DROP TRIGGER keyday_insert;",
};
#define LEDGER_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static enum spgw_rc check_dir(const char *dir, struct spgw_error *err)
{
	struct stat st;

	if (!dir || !dir[0])
		return spgw_error_set(err, SPGW_E_STATE, NULL, 0, 0,
				      "no state directory given: set state_dir in the gateway "
				      "config");
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
					      "the state directory does not exist: create it "
					      "(mkdir -p %s) or set state_dir in the gateway "
					      "config to an existing directory", dir);
		return spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
				      "cannot reach the state directory: %s; check the path and "
				      "the permissions of its parents", strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
				      "the state directory is not a directory: set state_dir in "
				      "the gateway config to a directory");
	/* SQLite creates spgw.db-wal and spgw.db-shm beside the database */
	if (access(dir, W_OK | X_OK) != 0)
		return spgw_error_set(err, SPGW_E_STATE, dir, 0, 0,
				      "the state directory is not writable by this user (%s): "
				      "chown it to the user running spgw or chmod u+wx %s",
				      strerror(errno), dir);
	return SPGW_OK;
}

/*
 * An existing spgw.db must be a writable SQLite file. Checked on the bytes before SQLite
 * opens it, so a text file gets a clear message and SQLite never touches it (SQLite's own
 * "file is not a database" in check_identity is the second line). *fresh says the file is
 * absent or empty (a database to create).
 */
static enum spgw_rc check_file(const char *path, int *fresh, struct spgw_error *err)
{
	struct stat st;

	*fresh = 0;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			*fresh = 1;
			return SPGW_OK;
		}
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "cannot reach the ledger: %s", strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "the ledger is not a regular file: move it out of the state "
				      "directory or set another state_dir");
	if (access(path, R_OK | W_OK) != 0)
		return spgw_error_set(err, SPGW_E_STATE, path, 0, 0,
				      "the ledger is not readable and writable by this user (%s): "
				      "chown it to the user running spgw or chmod u+rw %s",
				      strerror(errno), path);
	if (st.st_size == 0)
		*fresh = 1;
	return SPGW_OK;
}

/*
 * The file's first bytes must be SQLite's. Read through SQLite's own open file, never with
 * an open() and close() of ours: closing any descriptor of a file drops every POSIX lock this
 * process holds on it, so in the daemon, where several connections share the ledger, a
 * close here would let one connection think it is alone, checkpoint and delete the
 * write-ahead log under the others.
 */
static enum spgw_rc check_header(struct spgw_ledger *l, struct spgw_error *err)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char head[100];
	sqlite3_file *f = NULL;
	int src;

	if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
	    !f->pMethods)
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "cannot open the ledger's file");
	src = f->pMethods->xRead(f, head, (int)sizeof(head), 0);
	if (src == SQLITE_IOERR_SHORT_READ || (src == SQLITE_OK && memcmp(head, magic, sizeof(magic))))
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "file is not a database: this is not an SQLite file, so not "
				      "spgw's ledger; move it out of the state directory or set "
				      "another state_dir (spgw never overwrites it)");
	if (src != SQLITE_OK)
		return spgw_error_set(err, SPGW_E_IO, l->path, 0, 0, "cannot read the ledger "
				      "(SQLite I/O error %d)", src);
	return SPGW_OK;
}

/* One integer from a PRAGMA or query. */
static int query_int(struct spgw_ledger *l, const char *sql, long long *v)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* Whose database is this, and how new? Refuses rather than touch another program's file. */
static enum spgw_rc check_identity(struct spgw_ledger *l, int *version, struct spgw_error *err)
{
	long long app = 0, uv = 0, objects = 0;
	int rc;

	rc = query_int(l, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = query_int(l, "PRAGMA user_version", &uv);
	if (rc == SQLITE_OK)
		rc = query_int(l, "SELECT count(*) FROM sqlite_schema", &objects);
	if ((rc & 0xff) == SQLITE_NOTADB)
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "file is not a database: SQLite cannot read it, so it is not "
				      "spgw's ledger; move it out of the state directory or set "
				      "another state_dir (spgw never overwrites it)");
	if (rc != SQLITE_OK)
		return spgw_ledger_db_fail(l, rc, "reading the ledger's identity", err);
	if (app != LEDGER_APP_ID && (app != 0 || objects > 0))
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "an SQLite database of another application (application_id "
				      "0x%08llx, spgw's is 0x%08x, %lld schema objects): move it "
				      "out of the state directory or set another state_dir (spgw "
				      "never overwrites it)",
				      (unsigned long long)app & 0xffffffffULL, LEDGER_APP_ID, objects);
	if (uv > LEDGER_SCHEMA_VERSION)
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "made by a newer spgw (ledger schema version %lld, this spgw "
				      "knows up to %d): run that newer spgw, or restore a backup "
				      "made by this version; spgw never downgrades a ledger", uv,
				      LEDGER_SCHEMA_VERSION);
	if (uv < 0)
		return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				      "ledger schema version %lld is not one spgw writes: restore "
				      "a backup", uv);
	*version = (int)uv;
	return SPGW_OK;
}

static enum spgw_rc quick_check(struct spgw_ledger *l, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	enum spgw_rc rc = SPGW_OK;
	const char *row;
	int src;

	src = sqlite3_prepare_v2(l->db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		row = (const char *)sqlite3_column_text(s, 0);
		if (!row || strcmp(row, "ok") != 0) {
			char what[200];
			char *p;

			/* SQLite's report spans lines; a message is one line */
			snprintf(what, sizeof(what), "%s", row ? row : "no answer");
			for (p = what; *p; p++)
				if (*p == '\n' || *p == '\r')
					*p = ' ';
			rc = spgw_error_set(err, SPGW_E_LEDGER, l->path, 0, 0,
					    "the ledger fails SQLite's integrity check (%s): stop "
					    "spgw, keep the file for analysis and restore the last "
					    "backup; spgw never repairs or recreates it", what);
		}
	} else {
		rc = spgw_ledger_db_fail(l, src, "checking the ledger's integrity", err);
	}
	sqlite3_finalize(s);
	return rc;
}

static int exec(struct spgw_ledger *l, const char *sql)
{
	return sqlite3_exec(l->db, sql, NULL, NULL, NULL);
}

/* Connection settings; journal_mode=WAL is stored in the file, the rest are per connection. */
static enum spgw_rc configure(struct spgw_ledger *l, struct spgw_error *err)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	char sql[128];
	int src;

	/* only a new database takes a page size, and only before it is in WAL mode */
	snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", LEDGER_PAGE_SIZE);
	src = exec(l, sql);
	if (src != SQLITE_OK)
		return spgw_ledger_db_fail(l, src, "setting the ledger's page size", err);
	src = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(s, 0);
		src = mode && !strcmp(mode, "wal") ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(s);
	if (src != SQLITE_OK) {
		if (src == SQLITE_ERROR)
			return spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
					      "the ledger cannot use write-ahead logging (is the "
					      "state directory on a network file system?): put "
					      "state_dir on a local disk");
		return spgw_ledger_db_fail(l, src, "switching the ledger to write-ahead logging",
					   err);
	}
	/* synchronous: see the top of this file; foreign_keys: so that later migrations (the
	 * delivery tables) can rely on their REFERENCES clauses. temp_store stays a file: a
	 * statement that fires the tallies' triggers keeps a statement journal, and a batch's
	 * thousand rows in memory cost 90 MiB (measured) */
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -%d",
		 LEDGER_CACHE_KIB);
	src = exec(l, sql);
	if (src != SQLITE_OK)
		return spgw_ledger_db_fail(l, src, "configuring the ledger connection", err);
	return SPGW_OK;
}

/* Apply migrations from the database's version up, one transaction each. */
static enum spgw_rc migrate(struct spgw_ledger *l, struct spgw_error *err)
{
	char sql[160];
	long long uv = 0;
	int src;

	for (;;) {
		src = exec(l, "BEGIN IMMEDIATE");
		if (src != SQLITE_OK)
			return spgw_ledger_db_fail(l, src, "starting a schema migration", err);
		/* read again under the write lock: another spgw may have migrated meanwhile */
		src = query_int(l, "PRAGMA user_version", &uv);
		if (src != SQLITE_OK || uv >= LEDGER_SCHEMA_VERSION)
			break;
		src = exec(l, migrations[(size_t)uv]);
		if (src == SQLITE_OK) {
			snprintf(sql, sizeof(sql),
				 "PRAGMA application_id = %d; PRAGMA user_version = %lld",
				 LEDGER_APP_ID, uv + 1);
			src = exec(l, sql);
		}
		if (src == SQLITE_OK)
			src = exec(l, "COMMIT");
		if (src != SQLITE_OK)
			break;
	}
	if (src != SQLITE_OK) {
		enum spgw_rc rc;
		char what[96];

		snprintf(what, sizeof(what), "migrating the ledger schema from version %lld",
			 uv);
		rc = spgw_ledger_db_fail(l, src, what, err);
		if (!sqlite3_get_autocommit(l->db))
			exec(l, "ROLLBACK");
		return rc;
	}
	src = exec(l, "COMMIT");
	if (src != SQLITE_OK)
		return spgw_ledger_db_fail(l, src, "finishing the schema migration", err);
	return SPGW_OK;
}

static enum spgw_rc open_ledger(const char *state_dir, int check, struct spgw_ledger **out,
				struct spgw_error *err)
{
	struct spgw_ledger *l;
	enum spgw_rc rc;
	int fresh = 0, version = 0, src;
	size_t n;

	if (sqlite3_libversion_number() < LEDGER_MIN_SQLITE)
		return spgw_error_set(err, SPGW_E_LEDGER, NULL, 0, 0,
				      "SQLite %s is too old for the ledger: install SQLite 3.37 or "
				      "newer", sqlite3_libversion());
	l = spgw_calloc(1, sizeof(*l));
	if (!l)
		return spgw_error_nomem(err, "opening the ledger");
	l->fail_after = -1;
	rc = check_dir(state_dir, err);
	if (rc)
		goto out;
	l->dir = spgw_strdup(state_dir);
	n = strlen(state_dir) + sizeof("/spgw.db");
	l->path = spgw_malloc(n);
	if (!l->dir || !l->path) {
		rc = spgw_error_nomem(err, "opening the ledger");
		goto out;
	}
	snprintf(l->path, n, "%s/spgw.db", state_dir);
	rc = check_file(l->path, &fresh, err);
	if (rc)
		goto out;
	src = sqlite3_open_v2(l->path, &l->db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE,
			      NULL);
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "opening the ledger", err);
		goto out;
	}
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
	if (!fresh) {
		rc = check_header(l, err);
		if (rc)
			goto out;
	}
	if (sqlite3_db_readonly(l->db, "main") == 1) {
		rc = spgw_error_set(err, SPGW_E_STATE, l->path, 0, 0,
				    "SQLite could open the ledger only read-only: make %s and its "
				    "files writable by the user running spgw", l->dir);
		goto out;
	}
	rc = check_identity(l, &version, err);
	if (rc)
		goto out;
	if (check && !fresh && version > 0) {
		rc = quick_check(l, err);
		if (rc)
			goto out;
	}
	rc = configure(l, err);
	if (!rc && version < LEDGER_SCHEMA_VERSION)
		rc = migrate(l, err);
	if (!rc)
		rc = spgw_ledger_prepare(l, err);
	if (rc)
		goto out;
	*out = l;
	l = NULL;
out:
	spgw_ledger_close(l);
	return rc;
}

enum spgw_rc spgw_ledger_open(const char *state_dir, struct spgw_ledger **out,
			      struct spgw_error *err)
{
	return open_ledger(state_dir, 1, out, err);
}

enum spgw_rc spgw_ledger_rebuild_tallies(struct spgw_ledger *l, struct spgw_error *err)
{
	static const char sql[] =
		"DELETE FROM tally; DELETE FROM keyday;"
		"INSERT INTO tally SELECT region, spgl_table, " LEDGER_PHASE("") ", count(*)"
		"  FROM outbox GROUP BY 1, 2, 3;"
		KEYDAY_FILL;
	enum spgw_rc rc = spgw_ledger_begin(l, err);
	int src;

	if (rc)
		return rc;
	src = exec(l, sql);
	if (src != SQLITE_OK) {
		rc = spgw_ledger_db_fail(l, src, "counting the outbox again", err);
		spgw_ledger_rollback(l);
		return rc;
	}
	return spgw_ledger_commit(l, err);
}

enum spgw_rc spgw_ledger_open_unchecked(const char *state_dir, struct spgw_ledger **out,
					struct spgw_error *err)
{
	return open_ledger(state_dir, 0, out, err);
}

void spgw_ledger_close(struct spgw_ledger *l)
{
	int i;

	if (!l)
		return;
	if (l->db && !sqlite3_get_autocommit(l->db))
		exec(l, "ROLLBACK");
	for (i = 0; i < LEDGER_ST_COUNT; i++)
		sqlite3_finalize(l->st[i]);
	for (i = 0; i < LEDGER_LAZY_COUNT; i++)
		sqlite3_finalize(l->lazy[i]);
	/* the last connection to close checkpoints the WAL into spgw.db and removes it */
	sqlite3_close(l->db);
	spgw_free(l->dir);
	spgw_free(l->path);
	spgw_free(l);
}

const char *spgw_ledger_path(const struct spgw_ledger *l)
{
	return l->path;
}

