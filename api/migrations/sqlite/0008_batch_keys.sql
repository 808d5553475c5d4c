-- The batches sent with an Idempotency-Key, each written in the batch's own
-- transaction: a resend with the same key (after an answer that was lost,
-- or a commit whose outcome the service could not know) is answered as the
-- first attempt was, and records nothing again. `body_sha256` tells a resend
-- from another batch that reuses the key. Kept for a day (`created_at`).
CREATE TABLE batch_keys (
    idempotency_key TEXT NOT NULL PRIMARY KEY,
    table_name      TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    answer          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX batch_keys_by_age ON batch_keys (created_at);
