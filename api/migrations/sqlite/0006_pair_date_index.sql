-- The reports count, for each department and job, the hires within a
-- quarter or a year: with (department_id, job_id, hiring_date), each count is
-- one seek and a walk over exactly the rows it counts. This one index
-- replaces both earlier ones: the references a restore checks use its
-- (department_id) and (department_id, job_id) prefixes. (MySQL keeps its
-- date-first covering index: see src/db/reports.rs.)
CREATE INDEX employees_pair_date ON employees (department_id, job_id, hiring_date);
DROP INDEX employees_hiring_cover;
DROP INDEX employees_department_job;
