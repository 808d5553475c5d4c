//! Which paths and methods the API serves.

use super::body::{BodyRule, LONG_OPERATIONS};
use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

/// The methods of each path of the spec: which requests reach an
/// operation, and the `Allow` header that RFC 9110 asks of a 405.
pub(super) struct RouteTable(Vec<RouteMethods>);

pub(super) struct RouteMethods {
    pub(super) template: String,
    pub(super) methods: Vec<Method>,
    /// What each method's operation documents as its request body, in the
    /// order of `methods`.
    pub(super) bodies: Vec<BodyRule>,
    pub(super) allow: String,
}

impl RouteTable {
    pub(super) fn from_spec(spec: &str) -> RouteTable {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut routes: Vec<RouteMethods> = paths
            .map(|(template, operations)| {
                let operations: Vec<(Method, BodyRule)> = operations
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(method, operation)| {
                        let method = method.to_uppercase().parse().ok()?;
                        Some((method, BodyRule::from_operation(operation)))
                    })
                    .collect();
                RouteMethods::new(template, operations)
            })
            .collect();
        let spec_itself = vec![(Method::GET, BodyRule::default())];
        routes.push(RouteMethods::new("/openapi.json", spec_itself));
        let table = RouteTable(routes);
        for (method, path) in &LONG_OPERATIONS {
            debug_assert!(
                table.serves(method, &path.replace("{table}", "jobs")),
                "{method} {path} is not in the spec"
            );
        }
        table
    }

    pub(super) fn of(&self, path: &str) -> Option<&RouteMethods> {
        let matches = |template: &str| {
            let (mut wanted, mut given) = (template.split('/'), path.split('/'));
            loop {
                match (wanted.next(), given.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w == g || w.starts_with('{') => {}
                    _ => return false,
                }
            }
        };
        self.0.iter().find(|route| matches(&route.template))
    }

    /// Whether `method` on `path` reaches an operation (HEAD is GET).
    pub(super) fn serves(&self, method: &Method, path: &str) -> bool {
        self.body_rule(method, path).is_some()
    }

    /// The body rule of the operation `method` on `path` reaches, if any.
    pub(super) fn body_rule(&self, method: &Method, path: &str) -> Option<&BodyRule> {
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let route = self.of(path)?;
        let at = route.methods.iter().position(|m| m == method)?;
        route.bodies.get(at)
    }
}

impl RouteMethods {
    pub(super) fn new(template: &str, operations: Vec<(Method, BodyRule)>) -> RouteMethods {
        let (methods, bodies): (Vec<Method>, Vec<BodyRule>) = operations.into_iter().unzip();
        let allow = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        RouteMethods {
            template: template.to_owned(),
            methods,
            bodies,
            allow,
        }
    }
}

pub(super) async fn allow_on_405<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    routes: Arc<RouteTable>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_owned();
    let mut response = next.call(request).await?.into_response();
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(route) = routes.of(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(&route.allow)
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}
