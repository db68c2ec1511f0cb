-- Approval requests (one per held statement) and their reviews.
-- Portable types only: ids are uuid TEXT, times Unix milliseconds (BIGINT),
-- the request's immutable context is JSON in `body`.
CREATE TABLE IF NOT EXISTS approval_requests (
    id                TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    decided_at        BIGINT,
    executed_at       BIGINT,
    requester_subject TEXT NOT NULL,
    requester_email   TEXT,
    connection_name   TEXT NOT NULL,
    statement_hash    TEXT NOT NULL,
    non_blocking      BIGINT NOT NULL,
    required_count    BIGINT NOT NULL,
    status_reason     TEXT,
    body              TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_requests_by_status
    ON approval_requests (status, created_at);
-- Retry grants (non-blocking mode) are looked up by exactly these columns.
CREATE INDEX IF NOT EXISTS approval_requests_by_grant
    ON approval_requests (requester_subject, connection_name, statement_hash, status);

CREATE TABLE IF NOT EXISTS approval_reviews (
    request_id       TEXT NOT NULL REFERENCES approval_requests (id),
    reviewer_subject TEXT NOT NULL,
    reviewer_email   TEXT,
    decision         TEXT NOT NULL,
    comment          TEXT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (request_id, reviewer_subject)
);
