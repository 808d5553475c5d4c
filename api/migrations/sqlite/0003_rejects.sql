-- Every rejected row, written in its batch's own transaction: a batch is
-- stored with its rejects or not at all. reject_id gives the keyset order.
-- `source` is 'api' (request_id set) or 'file' (file_name, file_sha256 and
-- the 1-based line set); batch_row is the 0-based index in a request.
CREATE TABLE rejects (
    reject_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name  TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    request_id  TEXT,
    file_name   TEXT,
    file_sha256 TEXT,
    line        INTEGER,
    batch_row   INTEGER,
    row_id      INTEGER,
    field       TEXT,
    code        TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX rejects_by_table ON rejects (table_name, reject_id);
CREATE INDEX rejects_by_source ON rejects (source, reject_id);
