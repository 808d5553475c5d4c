-- The reports filter on hiring_date and group by department and job: an
-- index holding all three answers them without touching the table.
CREATE INDEX employees_hiring_cover ON employees (hiring_date, department_id, job_id);
DROP INDEX employees_hiring_date;
