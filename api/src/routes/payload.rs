//! Request bodies read as raw bytes, so that rows are validated one by one
//! (a bad row is a row-level reject, not a failed request).

use crate::http::fits;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::ApiRequest;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use vocab::Record;

/// A batch of rows, as JSON or CSV.
#[derive(ApiRequest)]
pub enum RowsBody {
    /// A JSON array of 1 to 1000 row objects whose keys are the table's columns.
    Json(JsonRows),
    /// 1 to 1000 headerless CSV records in column order (UTF-8, BOM allowed,
    /// CRLF or LF, RFC 4180 quoting).
    Csv(CsvRows),
}

pub struct JsonRows(pub Vec<u8>);

pub struct CsvRows(pub Vec<u8>);

impl Payload for JsonRows {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        fits(content_type, Self::CONTENT_TYPE)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            items: Some(Box::new(Record::schema_ref())),
            min_items: Some(1),
            max_items: Some(vocab::MAX_BATCH_ROWS),
            ..MetaSchema::new("array")
        }))
    }

    fn register(registry: &mut Registry) {
        Record::register(registry);
    }
}

impl Payload for CsvRows {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        fits(content_type, Self::CONTENT_TYPE)
    }

    fn schema_ref() -> MetaSchemaRef {
        // At least one line with something on it: blank bodies are 422.
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            pattern: Some("[^\\r\\n]".to_owned()),
            ..MetaSchema::new("string")
        }))
    }
}

impl ParsePayload for JsonRows {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(Vec::<u8>::from_request(request, body).await?))
    }
}

impl ParsePayload for CsvRows {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(Vec::<u8>::from_request(request, body).await?))
    }
}
