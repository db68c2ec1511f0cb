-- The audit trail: hash-chained records (one chain per Vigil replica) and
-- the signed checkpoints over them. See docs/audit.md.
--
-- `event` holds the event body as canonical JSON; `hash` covers
-- (schema_version, chain_id, seq, ts_ms, event_type, event, prev_hash).
-- The columns after `hash` are copied out of the event for search only:
-- they are not hashed, verify re-derives them from the event and reports a
-- mismatch, and readers display the event, never these copies.
CREATE TABLE IF NOT EXISTS audit_records (
    chain_id        TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    ts_ms           BIGINT NOT NULL,
    schema_version  BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    event           TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    session_id      BIGINT,
    user_sub        TEXT,
    user_email      TEXT,
    connection_name TEXT,
    verdict         TEXT,
    -- ",schema.table,other," so a table matches with LIKE '%,name,%'.
    table_names     TEXT,
    sql_text        TEXT,
    -- statement.outcome's masked counts (JSON), NULL when nothing was masked.
    masked          TEXT,
    PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_ts ON audit_records (ts_ms);
CREATE INDEX IF NOT EXISTS audit_records_type ON audit_records (event_type, ts_ms);
CREATE INDEX IF NOT EXISTS audit_records_session ON audit_records (session_id);
CREATE INDEX IF NOT EXISTS audit_records_sub ON audit_records (user_sub, ts_ms);
CREATE INDEX IF NOT EXISTS audit_records_email ON audit_records (user_email, ts_ms);
CREATE INDEX IF NOT EXISTS audit_records_connection ON audit_records (connection_name, ts_ms);
CREATE INDEX IF NOT EXISTS audit_records_verdict ON audit_records (verdict, ts_ms);

CREATE TABLE IF NOT EXISTS audit_checkpoints (
    chain_id      TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    head_hash     TEXT NOT NULL,
    ts_ms         BIGINT NOT NULL,
    public_key_id TEXT NOT NULL,
    signature     TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_checkpoints_ts ON audit_checkpoints (ts_ms);

-- Every chain ever written (a writer registers its chain at start), so
-- readers find the chains without scanning the records.
CREATE TABLE IF NOT EXISTS audit_chains (
    chain_id   TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);
