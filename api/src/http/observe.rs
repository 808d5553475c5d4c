//! A log line and the metrics of every request.

use super::route_table::RouteTable;
use crate::metrics::Metrics;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

/// Logs every request and counts it in the metrics, by its route's
/// template (never the raw path, whose values are unbounded).
pub(super) async fn observe<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    routes: Arc<RouteTable>,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).await?.into_response();
    let took = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        %method,
        path,
        status,
        ms = took.as_millis() as u64,
        "request"
    );
    let route = routes.of_path(&path).map(|route| route.template.as_str());
    let route = route.or_else(|| path.starts_with("/docs").then_some("/docs"));
    metrics.request(method.as_str(), route, status, took);
    Ok(response)
}
