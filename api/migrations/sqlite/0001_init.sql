-- Tables of the data dictionary. References (employees -> departments, jobs)
-- are checked by the service inside each write transaction rather than by
-- FOREIGN KEY constraints, so that a table can be restored by swapping in a
-- staging copy.
CREATE TABLE departments (
    department_id   INTEGER NOT NULL PRIMARY KEY,
    department_name TEXT    NOT NULL
);

CREATE TABLE jobs (
    job_id   INTEGER NOT NULL PRIMARY KEY,
    job_name TEXT    NOT NULL
);

CREATE TABLE employees (
    employee_id   INTEGER NOT NULL PRIMARY KEY,
    employee_name TEXT    NOT NULL,
    -- UTC, YYYY-MM-DDTHH:MM:SSZ: sorts and compares as text.
    hiring_date   TEXT    NOT NULL,
    department_id INTEGER NOT NULL,
    job_id        INTEGER NOT NULL
);

CREATE INDEX employees_hiring_date ON employees (hiring_date);
CREATE INDEX employees_department_job ON employees (department_id, job_id);

-- One row per historical CSV file (by content), so a restart never loads the
-- same file twice and a load cut short resumes after its last committed row.
CREATE TABLE historical_loads (
    table_name   TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    rows_read    INTEGER NOT NULL,
    inserted     INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    started_at   TEXT    NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (table_name, sha256)
);
