"""SQLite's own baseline for REST ingest: Python's sqlite3 module inserting
the clean rows in 1000-row transactions into a database the API made (same
schema and indexes), with the pragmas the API sets on its connections.

    python3 bench/sqlite_inserts.py DB CLEAN_CSV

Prints `rows seconds`: CSV reading included, as the API parses its bodies.
"""
import csv
import sqlite3
import sys
import time

BATCH = 1000
# The API's connection pragmas (`session` in api/src/db/dialect/sqlite.rs;
# busy_timeout aside, as this process writes alone): keep them the same.
PRAGMAS = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -8192;
PRAGMA wal_autocheckpoint = 16384;
"""
INSERT = (
    "INSERT INTO employees (employee_id, employee_name, hiring_date, department_id, job_id) "
    "VALUES (?, ?, ?, ?, ?)"
)


def main(db, clean):
    con = sqlite3.connect(db, isolation_level=None)
    con.executescript(PRAGMAS)
    started = time.perf_counter()
    rows = 0
    with open(clean, newline="", encoding="utf-8") as file:
        batch = []
        for record in csv.reader(file):
            batch.append((int(record[0]), record[1], record[2], int(record[3]), int(record[4])))
            if len(batch) == BATCH:
                rows += commit(con, batch)
                batch = []
        if batch:
            rows += commit(con, batch)
    print(rows, f"{time.perf_counter() - started:.3f}")


def commit(con, batch):
    con.execute("BEGIN IMMEDIATE")
    con.executemany(INSERT, batch)
    con.execute("COMMIT")
    return len(batch)


if __name__ == "__main__":
    main(*sys.argv[1:3])
