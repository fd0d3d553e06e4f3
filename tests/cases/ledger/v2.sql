-- The ledger schema at version 2 (spgw before the outbox JSON moved to its own table),
-- with records, an open batch that kept its body and a delivered one, to test migration 3.
PRAGMA application_id = 1397770071;
CREATE TABLE cursors (  source TEXT PRIMARY KEY NOT NULL,  cursor TEXT NOT NULL,  updated_at TEXT NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE outbox (  id INTEGER PRIMARY KEY AUTOINCREMENT,  region TEXT NOT NULL,  spgl_table TEXT NOT NULL,  record_key TEXT NOT NULL,  version INTEGER NOT NULL CHECK (version >= 1),  day TEXT,  digest TEXT NOT NULL,  data TEXT NOT NULL,  source TEXT NOT NULL,  state TEXT NOT NULL DEFAULT 'pending'    CHECK (state IN ('pending', 'delivered', 'dead')),  created_at TEXT NOT NULL) STRICT;
CREATE UNIQUE INDEX outbox_key_version  ON outbox (region, spgl_table, record_key, version);
CREATE TABLE quarantine (  id INTEGER PRIMARY KEY AUTOINCREMENT,  created_at TEXT NOT NULL,  last_seen_at TEXT NOT NULL,  source TEXT NOT NULL,  region TEXT,  source_table TEXT,  spgl_table TEXT,  record_key TEXT,  raw BLOB NOT NULL,  raw_sha256 BLOB NOT NULL,  mapped TEXT,  reasons TEXT,  seen INTEGER NOT NULL DEFAULT 1,  resolved INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),  resolved_at TEXT) STRICT;
CREATE INDEX quarantine_open_raw ON quarantine (raw_sha256) WHERE resolved = 0;

ALTER TABLE outbox ADD COLUMN batch_id TEXT;
ALTER TABLE outbox ADD COLUMN bkey TEXT;
ALTER TABLE outbox ADD COLUMN day_rule TEXT  CHECK (day_rule IS NULL OR day_rule IN ('inherit', 'earliest_child'));
ALTER TABLE outbox ADD COLUMN day_table TEXT;
ALTER TABLE outbox ADD COLUMN day_ref TEXT;
ALTER TABLE outbox ADD COLUMN parent_table TEXT;
ALTER TABLE outbox ADD COLUMN parent_ref TEXT;
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;
ALTER TABLE outbox ADD COLUMN dead_reason TEXT;
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
CREATE INDEX outbox_ready ON outbox (region, spgl_table, id)  WHERE state = 'pending' AND batch_id IS NULL;
CREATE INDEX outbox_bkey ON outbox (region, spgl_table, bkey) WHERE bkey IS NOT NULL;
CREATE INDEX outbox_parent ON outbox (region, spgl_table, parent_ref)  WHERE parent_ref IS NOT NULL;
CREATE INDEX outbox_dayless ON outbox (id) WHERE day IS NULL AND state = 'pending';
CREATE INDEX outbox_batch ON outbox (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX outbox_dead ON outbox (region, spgl_table, id) WHERE state = 'dead';
CREATE TABLE batches (  id TEXT PRIMARY KEY NOT NULL,  region TEXT NOT NULL,  spgl_table TEXT NOT NULL,  body BLOB,  records INTEGER NOT NULL,  state TEXT NOT NULL DEFAULT 'open'    CHECK (state IN ('open', 'done', 'dead', 'split', 'conflict')),  attempts INTEGER NOT NULL DEFAULT 0,  last_status INTEGER,  last_error TEXT,  created_at TEXT NOT NULL,  settled_at TEXT) STRICT;
CREATE INDEX batches_open ON batches (created_at) WHERE state = 'open';
CREATE TABLE receipts (  batch_id TEXT PRIMARY KEY NOT NULL REFERENCES batches (id),  received_at TEXT NOT NULL,  content_digest TEXT NOT NULL,  accepted INTEGER NOT NULL,  duplicate INTEGER NOT NULL,  rejected INTEGER NOT NULL,  alg TEXT NOT NULL,  sig TEXT NOT NULL,  stored_at TEXT NOT NULL) STRICT;

PRAGMA user_version = 2;
INSERT INTO outbox (region, spgl_table, record_key, version, day, digest, data, source, state, created_at, batch_id, bkey)
VALUES ('220100', 'SPGL_XMJBXXB', 'K1', 1, '2026-11-03', 'sm3:aa', '{"a":1}', 'cc', 'delivered', '2026-11-03T00:00:00Z', 'B-DONE', 'G1'),
       ('220100', 'SPGL_XMJBXXB', 'K2', 1, '2026-11-03', 'sm3:bb', '{"a":2}', 'cc', 'pending', '2026-11-03T00:00:00Z', 'B-OPEN', 'G2'),
       ('220100', 'SPGL_XMJBXXB', 'K3', 1, '2026-11-03', 'sm3:cc', '{"a":3}', 'cc', 'pending', '2026-11-03T00:00:00Z', NULL, 'G3');
INSERT INTO batches (id, region, spgl_table, body, records, state, created_at)
VALUES ('B-DONE', '220100', 'SPGL_XMJBXXB', NULL, 1, 'done', '2026-11-03T00:00:00Z'),
       ('B-OPEN', '220100', 'SPGL_XMJBXXB', CAST('{"batch_id":"B-OPEN"}' AS BLOB), 1, 'open', '2026-11-03T00:00:00Z');
