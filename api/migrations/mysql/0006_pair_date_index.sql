-- The reports count each quarter's hires per department and job, naming the
-- catalogue's ids: over (department_id, job_id, hiring_date) that is one
-- index range per department, job and quarter, read in order with no
-- temporary table (see src/db/reports.rs). This one index replaces both
-- earlier ones: the references a restore checks use its (department_id) and
-- (department_id, job_id) prefixes, and each insert keeps one index fewer.
ALTER TABLE employees
    ADD INDEX employees_pair_date (department_id, job_id, hiring_date),
    DROP INDEX employees_hiring_cover,
    DROP INDEX employees_department_job;
