use super::{ApiTags, AppState, HeadRequest};
use crate::http::error::ApiError;
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
    /// `format`, else from `Accept` (q-values honoured; 406 when it rules
    /// out JSON, CSV and HTML), else JSON. For a year with at least one
    /// hire, the renderings are also saved to `$SHARED_DIR/reports/`, one
    /// set per year, replaced each time (never on HEAD).
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
        let format = negotiate(format.0, request)?;
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
        let format = negotiate(format.0, request)?;
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

pub(super) fn default_year() -> i32 {
    2021
}

/// `format` wins; else the `Accept` header with its q-values: the format
/// with the highest q (from the most specific range that names it; a
/// format no range names, or one with `q=0`, is not acceptable), ties going
/// to the range listed first, then to JSON, CSV, HTML. No `Accept` is JSON;
/// an `Accept` that rules all three out is 406. A range with a malformed
/// q-value is left out.
fn negotiate(format: Option<Format>, request: &Request) -> Result<Format, ApiError> {
    if let Some(format) = format {
        return Ok(format);
    }
    let accept = request
        .headers()
        .get_all(poem::http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    choose(&accept).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "no format of the report is acceptable to `Accept: {}`: ask for \
             application/json, text/csv or text/html, or pass `format`",
            accept.chars().take(100).collect::<String>()
        ))
    })
}

/// The format `accept` prefers, if any is acceptable.
fn choose(accept: &str) -> Option<Format> {
    let ranges: Vec<(&str, f32)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().filter(|media| !media.is_empty())?;
            let mut q = 1.0;
            for param in parts {
                if let Some((name, value)) = param.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    q = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))?;
                }
            }
            Some((media, q))
        })
        .collect();
    if ranges.is_empty() {
        return Some(Format::Json);
    }
    let preference = |media_type: &str| {
        let (kind, _) = media_type.split_once('/').unwrap_or_default();
        let specificity = |range: &str| {
            if range.eq_ignore_ascii_case(media_type) {
                Some(2)
            } else if range
                .strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            {
                Some(1)
            } else {
                (range == "*/*").then_some(0)
            }
        };
        let (at, q, _) = ranges
            .iter()
            .enumerate()
            .filter_map(|(at, (range, q))| Some((at, *q, specificity(range)?)))
            .max_by_key(|(_, _, specificity)| *specificity)?;
        (q > 0.0).then_some((q, at))
    };
    [
        (Format::Json, "application/json"),
        (Format::Csv, "text/csv"),
        (Format::Html, "text/html"),
    ]
    .into_iter()
    .filter_map(|(format, media_type)| Some((format, preference(media_type)?)))
    // The highest q, then the earliest range; `min_by` keeps the first of
    // equals, so JSON, CSV, HTML break what is left.
    .min_by(|(_, (q1, at1)), (_, (q2, at2))| q2.total_cmp(q1).then(at1.cmp(at2)))
    .map(|(format, _)| format)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_read_with_its_q_values() {
        let cases = [
            ("", Some(Format::Json)),
            ("*/*", Some(Format::Json)),
            ("application/json", Some(Format::Json)),
            ("text/csv", Some(Format::Csv)),
            ("text/html", Some(Format::Html)),
            ("text/csv, text/html", Some(Format::Csv)),
            ("text/html, text/csv", Some(Format::Html)),
            ("text/html;q=0, text/csv", Some(Format::Csv)),
            ("text/html;q=0.5, text/csv;q=0.9", Some(Format::Csv)),
            ("text/csv;q=0.2, */*;q=0.1", Some(Format::Csv)),
            ("text/*", Some(Format::Csv)),
            ("text/*, text/csv;q=0", Some(Format::Html)),
            ("*/*;q=0.1, application/json;q=0", Some(Format::Csv)),
            ("TEXT/HTML ; Q=0.8 , application/xml", Some(Format::Html)),
            (
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                Some(Format::Html),
            ),
            ("text/html;q=0", None),
            ("image/png", None),
            ("*/*;q=0", None),
            ("application/json;q=0, text/*;q=0", None),
            // A range with a malformed q is left out, as if not sent.
            ("text/csv;q=2", Some(Format::Json)),
            ("text/csv;q=x, text/html", Some(Format::Html)),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(accept), expected, "{accept}");
        }
    }
}
