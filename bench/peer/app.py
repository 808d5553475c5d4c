"""Benchmark peer: a minimal FastAPI + pandas + SQLAlchemy ingest service.

Our own small reimplementation of the usual "hiring data migration" seed
design, kept only so the Rust API has something to be measured against.
"""

import os
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated, Any

import pandas as pd
from fastapi import Body, FastAPI, HTTPException
from pydantic import (BaseModel, ConfigDict, Field, StrictInt, StrictStr,
                      StringConstraints, ValidationError, field_validator)
from sqlalchemy import (Column, Integer, MetaData, String, Table,
                        create_engine, select)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

DATABASE_URL = os.environ.get("PEER_DATABASE_URL")
if not DATABASE_URL:
    raise SystemExit("set PEER_DATABASE_URL, e.g. sqlite:////tmp/peer.db")
engine = create_engine(DATABASE_URL, pool_pre_ping=True)
# pandas insert method: "multi" (one multi-row INSERT, the seed's choice) or
# "executemany" (pandas' default, method=None); see README for the difference
TO_SQL_METHOD = os.environ.get("PEER_TO_SQL_METHOD", "multi")
if TO_SQL_METHOD not in ("multi", "executemany"):
    raise SystemExit("PEER_TO_SQL_METHOD must be multi or executemany")
INSERT_METHOD = None if TO_SQL_METHOD == "executemany" else "multi"

metadata = MetaData()
departments = Table(
    "departments", metadata,
    Column("department_id", Integer, primary_key=True, autoincrement=False),
    Column("department_name", String(255)))
jobs = Table(
    "jobs", metadata,
    Column("job_id", Integer, primary_key=True, autoincrement=False),
    Column("job_name", String(255)))
employees = Table(
    "employees", metadata,
    Column("employee_id", Integer, primary_key=True, autoincrement=False),
    Column("employee_name", String(255)),
    Column("hiring_date", String(20)),
    Column("department_id", Integer),
    Column("job_id", Integer))

Id = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
Name = Annotated[str, StringConstraints(
    strict=True, strip_whitespace=True, min_length=1, max_length=255,
    pattern=r"^[^\x00-\x1f\x7f]*$")]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Department(Row):
    department_id: Id
    department_name: Name


class Job(Row):
    job_id: Id
    job_name: Name


class Employee(Row):
    employee_id: Id
    employee_name: Name
    hiring_date: StrictStr
    department_id: Id
    job_id: Id

    @field_validator("hiring_date")
    @classmethod
    def to_utc(cls, value: str) -> str:
        stamp = datetime.fromisoformat(value)  # ValueError if not ISO 8601
        if stamp.tzinfo is None:
            raise ValueError("hiring_date needs a time zone")
        try:
            stamp = stamp.astimezone(timezone.utc)
        except OverflowError as exc:
            raise ValueError("hiring_date out of range") from exc
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# table name -> (row model, SQLAlchemy table, primary key column)
TABLES = {
    "departments": (Department, departments, "department_id"),
    "jobs": (Job, jobs, "job_id"),
    "employees": (Employee, employees, "employee_id"),
}


def create_tables() -> None:
    """Create missing tables; several workers may race here."""
    for _ in range(5):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except (OperationalError, ProgrammingError) as exc:
            if "already exists" not in str(exc).lower():
                raise
    metadata.create_all(engine, checkfirst=True)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    create_tables()
    yield
    engine.dispose()


app = FastAPI(title="hiring-data peer (benchmark only)", lifespan=lifespan)


def existing_ids(conn, table: Table, key: str, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    column = table.c[key]
    return set(conn.scalars(select(column).where(column.in_(ids))))


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/api/v1/tables/{table}/rows")
def ingest(table: str,
           rows: Annotated[list[Any], Body(min_length=1, max_length=1000)]):
    if table not in TABLES:
        raise HTTPException(status_code=404, detail="unknown table")
    model, sa_table, key = TABLES[table]

    valid = []
    for raw in rows:
        try:
            valid.append(model.model_validate(raw).model_dump())
        except ValidationError:
            pass  # invalid row: dropped and counted as rejected

    fresh = []
    try:
        with engine.begin() as conn:
            if table == "employees" and valid:
                deps = existing_ids(conn, departments, "department_id",
                                    {r["department_id"] for r in valid})
                known_jobs = existing_ids(conn, jobs, "job_id",
                                          {r["job_id"] for r in valid})
                valid = [r for r in valid if r["department_id"] in deps
                         and r["job_id"] in known_jobs]
            seen = existing_ids(conn, sa_table, key, {r[key] for r in valid})
            for row in valid:
                if row[key] not in seen:
                    seen.add(row[key])
                    fresh.append(row)
            if fresh:
                frame = pd.DataFrame(fresh, columns=list(sa_table.c.keys()))
                frame.to_sql(table, conn, if_exists="append", index=False,
                             method=INSERT_METHOD, chunksize=1000)
    except (IntegrityError, pd.errors.DatabaseError) as exc:
        # another request stored one of these ids between our check and our
        # insert (pandas wraps the driver's error in its own DatabaseError)
        if not isinstance(exc.__cause__ or exc, IntegrityError):
            raise
        raise HTTPException(status_code=409, detail="conflict, retry") from None

    return {"table": table, "received": len(rows),
            "inserted": len(fresh), "rejected": len(rows) - len(fresh)}
