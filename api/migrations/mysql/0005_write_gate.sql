-- One row that every ingest transaction reads under a shared lock and a
-- restore holds under an exclusive lock from its reference check to its
-- swap: with several API processes on one database, no batch can be
-- stored in between that the swap would orphan.
CREATE TABLE write_gate (
    name VARCHAR(16) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO write_gate (name) VALUES ('tables');
