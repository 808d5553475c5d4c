-- Tables of the data dictionary. References (employees -> departments, jobs)
-- are checked by the service inside each write transaction rather than by
-- FOREIGN KEY constraints, so that a table can be restored by swapping in a
-- staging copy. utf8mb4_bin: full Unicode, compared and sorted by code point.
CREATE TABLE departments (
    department_id   INT          NOT NULL PRIMARY KEY,
    department_name VARCHAR(255) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE jobs (
    job_id   INT          NOT NULL PRIMARY KEY,
    job_name VARCHAR(255) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE employees (
    employee_id   INT          NOT NULL PRIMARY KEY,
    employee_name VARCHAR(255) NOT NULL,
    -- UTC, YYYY-MM-DDTHH:MM:SSZ: sorts and compares as text.
    hiring_date   CHAR(20)     NOT NULL,
    department_id INT          NOT NULL,
    job_id        INT          NOT NULL,
    INDEX employees_hiring_date (hiring_date),
    INDEX employees_department_job (department_id, job_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per historical CSV file (by content), so a restart never loads the
-- same file twice and a load cut short resumes after its last committed row.
CREATE TABLE historical_loads (
    table_name   VARCHAR(32)  NOT NULL,
    sha256       CHAR(64)     NOT NULL,
    file_name    VARCHAR(255) NOT NULL,
    rows_read    BIGINT       NOT NULL,
    inserted     BIGINT       NOT NULL,
    rejected     BIGINT       NOT NULL,
    started_at   VARCHAR(32)  NOT NULL,
    completed_at VARCHAR(32)  NULL,
    PRIMARY KEY (table_name, sha256)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
