use super::{ApiTags, AppState, HeadRequest};
use crate::error::ApiError;
use crate::reports::{self, DepartmentsAboveMean, HiresByQuarter, Rendering, Wanted};
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::Query;
use poem_openapi::payload::{Html, Json, Payload, PlainText};
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Enum, OpenApi};
use std::sync::Arc;

pub struct ReportsApi {
    pub state: Arc<AppState>,
}

/// How a report is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Html,
}

/// A report in the format asked for. One 200 response with three media
/// types: poem-openapi's derive would write one `"200"` key per variant,
/// and a JSON parser keeps only the last of them.
enum ReportResponse<T> {
    Json(Json<T>),
    Csv(String),
    Html(Html<String>),
    /// A HEAD request: the headers of the format, no report computed.
    Head(Format),
}

impl<T: ToJSON + Send> IntoResponse for ReportResponse<T> {
    fn into_response(self) -> Response {
        match self {
            ReportResponse::Json(json) => json.into_response(),
            ReportResponse::Csv(csv) => PlainText(csv)
                .with_content_type("text/csv; charset=utf-8")
                .into_response(),
            ReportResponse::Html(html) => html.into_response(),
            ReportResponse::Head(format) => {
                let content_type = match format {
                    Format::Json => "application/json; charset=utf-8",
                    Format::Csv => "text/csv; charset=utf-8",
                    Format::Html => "text/html; charset=utf-8",
                };
                Response::builder().content_type(content_type).finish()
            }
        }
    }
}

impl<T: ToJSON + Send> ApiResponse for ReportResponse<T> {
    fn meta() -> MetaResponses {
        let text = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The report: JSON by default; CSV with a header row; or a \
                              self-contained HTML page with its chart and table.",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: <Json<T> as Payload>::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: "text/csv; charset=utf-8",
                        schema: text(),
                    },
                    MetaMediaType {
                        content_type: "text/html; charset=utf-8",
                        schema: text(),
                    },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <Json<T> as Payload>::register(registry);
    }
}

#[OpenApi(tag = "ApiTags::Reports")]
impl ReportsApi {
    /// req1: hires per department and job in each quarter of a year.
    ///
    /// Counts by UTC hiring date; only pairs with at least one hire; sorted by
    /// department, then job, in code-point order. The format comes from
    /// `format`, else from `Accept` (`text/csv`, `text/html`), else JSON.
    /// The three renderings are also written to `$SHARED_DIR/reports/`.
    #[oai(
        path = "/api/v1/reports/hires-by-quarter",
        method = "get",
        operation_id = "report_hires_by_quarter"
    )]
    #[tracing::instrument(skip_all, fields(year = year.0))]
    async fn hires_by_quarter(
        &self,
        /// The year, 1900 to 2100.
        #[oai(
            default = "default_year",
            validator(minimum(value = "1900"), maximum(value = "2100"))
        )]
        year: Query<i32>,
        /// `json`, `csv` or `html`.
        format: Query<Option<Format>>,
        request: &Request,
    ) -> Result<ReportResponse<HiresByQuarter>, ApiError> {
        let format = negotiate(format.0, request);
        if request.data::<HeadRequest>().is_some() {
            return Ok(ReportResponse::Head(format));
        }
        let state = &self.state;
        let (db, dir, saved) = (&state.db, &state.reports_dir, &state.saved_reports);
        let rendering = reports::hires_by_quarter(db, dir, saved, year.0, wanted(format)).await?;
        Ok(respond(rendering))
    }

    /// req2: departments that hired more than the mean in a year.
    ///
    /// The mean of hires per department is taken over every department (one
    /// with no hires counts as 0). Sorted by hires descending, then name.
    /// Formats and files as for req1.
    #[oai(
        path = "/api/v1/reports/departments-above-mean",
        method = "get",
        operation_id = "report_departments_above_mean"
    )]
    #[tracing::instrument(skip_all, fields(year = year.0))]
    async fn departments_above_mean(
        &self,
        /// The year, 1900 to 2100.
        #[oai(
            default = "default_year",
            validator(minimum(value = "1900"), maximum(value = "2100"))
        )]
        year: Query<i32>,
        /// `json`, `csv` or `html`.
        format: Query<Option<Format>>,
        request: &Request,
    ) -> Result<ReportResponse<DepartmentsAboveMean>, ApiError> {
        let format = negotiate(format.0, request);
        if request.data::<HeadRequest>().is_some() {
            return Ok(ReportResponse::Head(format));
        }
        let state = &self.state;
        let (db, dir, saved) = (&state.db, &state.reports_dir, &state.saved_reports);
        let rendering =
            reports::departments_above_mean(db, dir, saved, year.0, wanted(format)).await?;
        Ok(respond(rendering))
    }
}

fn default_year() -> i32 {
    2021
}

/// `format` wins; else the first of `text/csv` or `text/html` in `Accept`;
/// else JSON.
fn negotiate(format: Option<Format>, request: &Request) -> Format {
    if let Some(format) = format {
        return format;
    }
    let accept = request
        .headers()
        .get(poem::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let position = |kind: &str| accept.find(kind);
    match (position("text/csv"), position("text/html")) {
        (Some(csv), Some(html)) if html < csv => Format::Html,
        (Some(_), _) => Format::Csv,
        (None, Some(_)) => Format::Html,
        (None, None) => Format::Json,
    }
}

fn wanted(format: Format) -> Wanted {
    match format {
        Format::Json => Wanted::Json,
        Format::Csv => Wanted::Csv,
        Format::Html => Wanted::Html,
    }
}

fn respond<T: ToJSON + Send>(rendering: Rendering<T>) -> ReportResponse<T> {
    match rendering {
        Rendering::Json(report) => ReportResponse::Json(Json(report)),
        Rendering::Csv(csv) => ReportResponse::Csv(csv),
        Rendering::Html(html) => ReportResponse::Html(Html(html)),
    }
}
