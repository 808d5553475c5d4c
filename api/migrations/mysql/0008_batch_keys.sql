-- The batches sent with an Idempotency-Key, each written in the batch's own
-- transaction: a resend with the same key (after an answer that was lost,
-- or a commit whose outcome the service could not know) is answered as the
-- first attempt was, and records nothing again. `body_sha256` tells a resend
-- from another batch that reuses the key. Kept for a day (`created_at`).
CREATE TABLE batch_keys (
    idempotency_key VARCHAR(255) NOT NULL PRIMARY KEY,
    table_name      VARCHAR(32)  NOT NULL,
    body_sha256     CHAR(64)     NOT NULL,
    answer          MEDIUMTEXT   NOT NULL,
    created_at      VARCHAR(32)  NOT NULL,
    INDEX batch_keys_by_age (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
