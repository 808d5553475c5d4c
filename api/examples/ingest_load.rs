//! The load driver of `bench/ingest.sh`.
//!
//! ```sh
//! # Keeps the rows of a generated employees.csv that fit the dictionary and
//! # writes them as clean.csv (dates normalised to UTC) and inserts.sql
//! # (1000-row multi-row INSERTs), so every contender gets the same rows.
//! ingest_load prepare DATA_DIR OUT_DIR
//! # POSTs clean.csv in 1000-row batches over N connections; prints
//! # `rows seconds rows_per_s p50_ms p99_ms`.
//! ingest_load send URL TOKEN CLEAN_CSV N csv|json
//! ```
//!
//! Every batch must answer 200 and store all its rows, or the run fails.

use api::domain::{Row, Table};
use api::ingest::{CsvRecord, csv_candidate, csv_records};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BATCH: usize = 1000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["prepare", data, out] => prepare(Path::new(data), Path::new(out)),
        ["send", url, token, file, connections, format] => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(send(
                url,
                token,
                Path::new(file),
                connections.parse()?,
                format,
            ))
        }
        _ => anyhow::bail!(
            "usage: ingest_load prepare DATA_DIR OUT_DIR | send URL TOKEN CLEAN_CSV N csv|json"
        ),
    }
}

/// How many lines `path` has: the ids of departments or jobs run 1..=n.
fn line_count(path: &Path) -> anyhow::Result<i32> {
    Ok(std::fs::read_to_string(path)?.lines().count().try_into()?)
}

fn prepare(data: &Path, out: &Path) -> anyhow::Result<()> {
    let departments = line_count(&data.join("departments.csv"))?;
    let jobs = line_count(&data.join("jobs.csv"))?;
    std::fs::create_dir_all(out)?;
    let file = std::fs::File::open(data.join("employees.csv"))?;
    let mut records = csv_records(Table::Employees, std::io::BufReader::new(file));
    let mut clean = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(out.join("clean.csv"))?;
    let mut inserts = std::io::BufWriter::new(std::fs::File::create(out.join("inserts.sql"))?);
    let mut record = CsvRecord::default();
    let (mut kept, mut in_statement) = (0u64, 0usize);
    while records.read(&mut record)? {
        let Ok(Row::Employee(e)) = csv_candidate(Table::Employees, 0, &record).parsed else {
            continue;
        };
        let (department, job) = (e.department_id.get(), e.job_id.get());
        if !(1..=departments).contains(&department) || !(1..=jobs).contains(&job) {
            continue;
        }
        let (id, name, date) = (e.id.get(), e.name.as_str(), e.hiring_date.to_db_string());
        clean.write_record([
            &id.to_string(),
            name,
            &date,
            &department.to_string(),
            &job.to_string(),
        ])?;
        if in_statement == 0 {
            writeln!(
                inserts,
                "INSERT INTO employees (employee_id, employee_name, hiring_date, department_id, job_id) VALUES"
            )?;
        } else {
            writeln!(inserts, ",")?;
        }
        let quoted = name.replace('\\', "\\\\").replace('\'', "''");
        write!(inserts, "({id},'{quoted}','{date}',{department},{job})")?;
        in_statement += 1;
        if in_statement == BATCH {
            writeln!(inserts, ";")?;
            in_statement = 0;
        }
        kept += 1;
    }
    if in_statement > 0 {
        writeln!(inserts, ";")?;
    }
    clean.flush()?;
    inserts.flush()?;
    eprintln!("kept {kept} clean rows in {}", out.display());
    Ok(())
}

/// The bodies of the batches: `clean.csv` cut into 1000-row pieces.
fn batches(file: &Path, format: &str) -> anyhow::Result<Vec<(usize, String)>> {
    let text = std::fs::read_to_string(file)?;
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(BATCH)
        .map(|chunk| {
            let body = match format {
                "csv" => chunk.iter().flat_map(|l| [*l, "\n"]).collect(),
                "json" => json_body(chunk)?,
                other => anyhow::bail!("unknown format {other}: csv or json"),
            };
            Ok((chunk.len(), body))
        })
        .collect()
}

fn json_body(lines: &[&str]) -> anyhow::Result<String> {
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let record = reader
            .records()
            .next()
            .ok_or_else(|| anyhow::anyhow!("an empty line"))??;
        rows.push(serde_json::json!({
            "employee_id": record[0].parse::<i64>()?,
            "employee_name": &record[1],
            "hiring_date": &record[2],
            "department_id": record[3].parse::<i64>()?,
            "job_id": record[4].parse::<i64>()?,
        }));
    }
    Ok(serde_json::to_string(&rows)?)
}

async fn send(
    url: &str,
    token: &str,
    file: &Path,
    connections: usize,
    format: &str,
) -> anyhow::Result<()> {
    let batches = Arc::new(batches(file, format)?);
    let content_type = if format == "csv" {
        "text/csv"
    } else {
        "application/json"
    };
    let endpoint = format!("{url}/api/v1/tables/employees/rows");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        // One client per worker: each keeps its own connection.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (batches, next, endpoint, token) = (
            Arc::clone(&batches),
            Arc::clone(&next),
            endpoint.clone(),
            token.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((rows, body)) = batches.get(i) else {
                    return anyhow::Ok(latencies);
                };
                let sent = Instant::now();
                let response = http
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .header("content-type", content_type)
                    .body(body.clone())
                    .send()
                    .await?;
                let status = response.status();
                let result: serde_json::Value = response.json().await?;
                latencies.push(sent.elapsed());
                anyhow::ensure!(
                    status.is_success() && result["inserted"].as_u64() == Some(*rows as u64),
                    "batch {i}: {status} {result}"
                );
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let quantile = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    let rows: usize = batches.iter().map(|(rows, _)| rows).sum();
    println!(
        "{rows} {elapsed:.2} {:.0} {:.1} {:.1}",
        rows as f64 / elapsed,
        quantile(0.5),
        quantile(0.99)
    );
    Ok(())
}
