-- Each table's row count, kept in the transaction of every write that
-- changes it, so that reading a count never scans the table (see the MySQL
-- migration of the same name: slots, and slot -1 during a restore).
CREATE TABLE row_counts (
    table_name TEXT    NOT NULL,
    slot       INTEGER NOT NULL,
    row_count  INTEGER NOT NULL,
    PRIMARY KEY (table_name, slot)
);
INSERT INTO row_counts (table_name, slot, row_count)
    SELECT 'departments', 0, COUNT(*) FROM departments
    UNION ALL SELECT 'jobs', 0, COUNT(*) FROM jobs
    UNION ALL SELECT 'employees', 0, COUNT(*) FROM employees;
