-- Each table's row count, kept in the transaction of every write that
-- changes it, so that reading a count never scans the table. A table's
-- count is the sum of its slots; each batch adds to one slot, at random,
-- so that concurrent batches seldom wait for one another. A restore writes
-- slot -1 before it swaps the table in and replaces every slot after: a
-- count with slot -1 is being replaced (or was, by a restore cut short),
-- and is read from the table itself until the next start recounts it.
-- Every API process must run a release with this table: an older one adds
-- rows without counting them.
CREATE TABLE row_counts (
    table_name VARCHAR(32) NOT NULL,
    slot       SMALLINT    NOT NULL,
    row_count  BIGINT      NOT NULL,
    PRIMARY KEY (table_name, slot)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO row_counts (table_name, slot, row_count)
    SELECT 'departments', 0, COUNT(*) FROM departments
    UNION ALL SELECT 'jobs', 0, COUNT(*) FROM jobs
    UNION ALL SELECT 'employees', 0, COUNT(*) FROM employees;
