"""Interoperability check with fastavro, an Avro implementation independent of ours.

    avro_interop.py read FILE          print the file's schema name, codec and records as JSON
    avro_interop.py write-jobs FILE    write a jobs file (snappy) the way another tool would
"""
import json
import sys

import fastavro


def read(path):
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        records = list(reader)
        out = {
            "schema": reader.writer_schema,
            "codec": reader.codec,
            "records": records,
        }
    print(json.dumps(out, ensure_ascii=False))


def write_jobs(path):
    schema = fastavro.parse_schema({
        "type": "record",
        "name": "JobRow",
        "namespace": "com.example.export",
        "fields": [
            {"name": "job_id", "type": "long"},
            {"name": "job_name", "type": "string"},
        ],
    })
    rows = [{"job_id": 1, "job_name": "Dev"}, {"job_id": 2, "job_name": "Señor Manager"},
            {"job_id": 3, "job_name": "Analyst"}, {"job_id": 77, "job_name": "Écrivain"}]
    with open(path, "wb") as f:
        fastavro.writer(f, schema, rows, codec="snappy")


if __name__ == "__main__":
    command, path = sys.argv[1], sys.argv[2]
    {"read": read, "write-jobs": write_jobs}[command](path)
