-- A rejected row whose bytes are not UTF-8 (invalid_encoding) keeps them
-- exactly here; `raw` holds the same row as text, with U+FFFD in their
-- place. NULL when `raw` is exact.
ALTER TABLE rejects ADD COLUMN raw_bytes BLOB;
