"""Avro files read and written by the two Python implementations as a new
user installs them (`pip install fastavro avro`: no optional codec module).

    avro_plain.py read fastavro|avro FILE          print {"codec", "records"} as JSON
    avro_plain.py write fastavro|avro FILE CODEC   write a small jobs file
"""
import json
import sys

JOBS_SCHEMA = {
    "type": "record",
    "name": "Job",
    "namespace": "org.example.plain",
    "fields": [
        {"name": "job_id", "type": "long"},
        {"name": "job_name", "type": "string"},
    ],
}
JOBS = [{"job_id": 1, "job_name": "Dev"}, {"job_id": 2, "job_name": "Señora Jefa"},
        {"job_id": 3, "job_name": "Analyst"}]


def read(library, path):
    if library == "fastavro":
        import fastavro
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            records = list(reader)
            codec = reader.codec
    else:
        from avro.datafile import DataFileReader
        from avro.io import DatumReader
        with DataFileReader(open(path, "rb"), DatumReader()) as reader:
            records = list(reader)
            codec = (reader.get_meta("avro.codec") or b"null").decode()
    print(json.dumps({"codec": codec, "records": records}, ensure_ascii=False))


def write(library, path, codec):
    if library == "fastavro":
        import fastavro
        with open(path, "wb") as f:
            fastavro.writer(f, fastavro.parse_schema(JOBS_SCHEMA), JOBS, codec=codec)
    else:
        import avro.schema
        from avro.datafile import DataFileWriter
        from avro.io import DatumWriter
        schema = avro.schema.parse(json.dumps(JOBS_SCHEMA))
        with DataFileWriter(open(path, "wb"), DatumWriter(), schema, codec=codec) as writer:
            for job in JOBS:
                writer.append(job)


if __name__ == "__main__":
    command, library, path = sys.argv[1:4]
    if command == "read":
        read(library, path)
    else:
        write(library, path, sys.argv[4])
