-- Every rejected row, written in its batch's own transaction: a batch is
-- stored with its rejects or not at all. reject_id gives the keyset order.
-- `source` is 'api' (request_id set) or 'file' (file_name, file_sha256 and
-- the 1-based line set); batch_row is the 0-based index in a request.
CREATE TABLE rejects (
    reject_id   BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    table_name  VARCHAR(32)  NOT NULL,
    source      VARCHAR(8)   NOT NULL,
    request_id  VARCHAR(64)  NULL,
    file_name   VARCHAR(255) NULL,
    file_sha256 CHAR(64)     NULL,
    line        BIGINT       NULL,
    batch_row   BIGINT       NULL,
    row_id      BIGINT       NULL,
    field       VARCHAR(64)  NULL,
    code        VARCHAR(32)  NOT NULL,
    message     TEXT         NOT NULL,
    raw         TEXT         NOT NULL,
    created_at  VARCHAR(32)  NOT NULL,
    INDEX rejects_by_table (table_name, reject_id),
    INDEX rejects_by_source (source, reject_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
