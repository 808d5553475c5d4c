//! Request bodies read as raw bytes, so that rows are validated one by one
//! (a bad row is a row-level reject, not a failed request).

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

/// Whether a `Content-Type` header names the `documented` media type
/// (`type/subtype`) with no charset or a UTF-8 (or ASCII) one: every body
/// the API reads is UTF-8. The one rule of content types: the edge refuses
/// a body that fits none of its operation's types (`http::body`, from the
/// route table), and a payload here only uses it to pick its variant.
pub fn fits(content_type: &str, documented: &str) -> bool {
    let Ok(mime) = content_type.parse::<mime::Mime>() else {
        return false;
    };
    let utf8 = match mime.get_param(mime::CHARSET) {
        None => true,
        Some(charset) => {
            charset == mime::UTF_8 || charset.as_str().eq_ignore_ascii_case("us-ascii")
        }
    };
    utf8 && mime.essence_str().eq_ignore_ascii_case(documented)
}

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
