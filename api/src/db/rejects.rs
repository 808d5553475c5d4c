//! The `rejects` table: every rejected row, written in its batch's own
//! transaction, read back in keyset pages.

use crate::domain::{Reject, RejectCode, Table};
use sqlx::{Any, AnyConnection, QueryBuilder};
use vocab::{RejectRecord, RejectSource, raw_fields};

/// Where a batch came from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A REST request, with its request id.
    Request { request_id: &'a str },
    /// A historical CSV file, with its SHA-256.
    File { name: &'a str, sha256: &'a str },
}

/// Rows per INSERT: 14 parameters each stays well under every engine's
/// limit on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// Records `rejects` of one batch of `table` from `source`, on the caller's
/// transaction.
pub async fn record_rejects(
    conn: &mut AnyConnection,
    table: Table,
    source: Source<'_>,
    rejects: &[Reject],
    now: &str,
) -> sqlx::Result<()> {
    let (kind, request_id, file_name, file_sha256) = match source {
        Source::Request { request_id } => (RejectSource::Api, Some(request_id), None, None),
        Source::File { name, sha256 } => (RejectSource::File, None, Some(name), Some(sha256)),
    };
    for chunk in rejects.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Any>::new(
            "INSERT INTO rejects (table_name, source, request_id, file_name, file_sha256, line, \
             batch_row, row_id, field, code, message, raw, raw_bytes, created_at) ",
        );
        query.push_values(chunk, |mut row, reject| {
            let position = i64::try_from(reject.position).unwrap_or(i64::MAX);
            let (line, batch_row) = match source {
                Source::Request { .. } => (None, Some(position)),
                Source::File { .. } => (Some(position), None),
            };
            row.push_bind(table.name())
                .push_bind(kind.as_str())
                .push_bind(request_id)
                .push_bind(file_name)
                .push_bind(file_sha256)
                .push_bind(line)
                .push_bind(batch_row)
                .push_bind(reject.id)
                .push_bind(reject.why.field)
                .push_bind(reject.why.code.as_str())
                .push_bind(reject.why.message.clone())
                .push_bind(raw_fields(&reject.raw).0)
                // The exact bytes only where the text is not exact.
                .push_bind(
                    std::str::from_utf8(&reject.raw)
                        .is_err()
                        .then(|| reject.raw.clone()),
                )
                .push_bind(now);
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct StoredReject {
    reject_id: i64,
    table_name: String,
    source: String,
    request_id: Option<String>,
    file_name: Option<String>,
    file_sha256: Option<String>,
    line: Option<i64>,
    batch_row: Option<i64>,
    row_id: Option<i64>,
    field: Option<String>,
    code: String,
    message: String,
    raw: String,
    raw_bytes: Option<Vec<u8>>,
    created_at: String,
}

impl StoredReject {
    fn into_record(self) -> sqlx::Result<RejectRecord> {
        let decode = |what: &str, value: &str| {
            sqlx::Error::Decode(format!("rejects.{what} holds {value:?}").into())
        };
        let source = [RejectSource::Api, RejectSource::File]
            .into_iter()
            .find(|kind| kind.as_str() == self.source)
            .ok_or_else(|| decode("source", &self.source))?;
        let code = self
            .code
            .parse::<RejectCode>()
            .map_err(|_| decode("code", &self.code))?;
        Ok(RejectRecord {
            reject_id: self.reject_id,
            table: self.table_name,
            source,
            request_id: self.request_id,
            file_name: self.file_name,
            file_sha256: self.file_sha256,
            line: self.line,
            row: self.batch_row,
            id: self.row_id,
            field: self.field,
            code,
            message: self.message,
            raw_base64: self.raw_bytes.and_then(|bytes| raw_fields(&bytes).1),
            raw: self.raw,
            created_at: self.created_at,
        })
    }
}

/// The newest `limit` rejects, newest first.
pub async fn latest_rejects(
    conn: &mut AnyConnection,
    limit: u32,
) -> sqlx::Result<Vec<RejectRecord>> {
    let rows: Vec<StoredReject> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REJECT_COLUMNS} FROM rejects ORDER BY reject_id DESC LIMIT ?"
    )))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(StoredReject::into_record).collect()
}

/// How many rejects each table has, every table listed.
pub async fn reject_counts(conn: &mut AnyConnection) -> sqlx::Result<Vec<(Table, i64)>> {
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT table_name, COUNT(*) FROM rejects GROUP BY table_name")
            .fetch_all(conn)
            .await?;
    Ok(Table::ALL
        .into_iter()
        .map(|table| {
            let count = stored
                .iter()
                .find(|(name, _)| name == table.name())
                .map_or(0, |(_, count)| *count);
            (table, count)
        })
        .collect())
}

const REJECT_COLUMNS: &str = "reject_id, table_name, source, request_id, file_name, file_sha256, \
     line, batch_row, row_id, field, code, message, raw, raw_bytes, created_at";

/// Up to `limit` rejects after `after_id`, oldest first, of `table` and
/// `source` when given.
pub async fn page_rejects(
    conn: &mut AnyConnection,
    table: Option<Table>,
    source: Option<RejectSource>,
    after_id: i64,
    limit: u32,
) -> sqlx::Result<Vec<RejectRecord>> {
    let mut query = QueryBuilder::<Any>::new(format!(
        "SELECT {REJECT_COLUMNS} FROM rejects WHERE reject_id > "
    ));
    query.push_bind(after_id);
    if let Some(table) = table {
        query.push(" AND table_name = ").push_bind(table.name());
    }
    if let Some(source) = source {
        query.push(" AND source = ").push_bind(source.as_str());
    }
    query
        .push(" ORDER BY reject_id LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<StoredReject> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(StoredReject::into_record).collect()
}
