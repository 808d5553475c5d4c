//! Which paths and methods the API serves, read from the operations'
//! own declarations (poem-openapi's metadata of the `#[OpenApi]` structs in
//! `routes/`): an operation declared there has its `Allow` entry, its
//! token rule (its `WriteAccess` parameter), its body rule (the media types
//! of its payload) and its metric label, with nothing else to register.

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OpenApi;
use std::sync::Arc;

/// The operations (by id) whose work may outlast `REQUEST_TIMEOUT_SECS`: a
/// backup or a restore of a big table takes minutes, bounds its own waits,
/// and is better finished than stopped. Their bodies still must arrive in
/// time.
pub(super) const LONG_OPERATIONS: [&str; 2] = ["create_backup", "restore_backup"];

/// The request body an operation documents: none, or one of these media
/// types (`type/subtype`). Whether it is required is the operation's to
/// check.
#[derive(Debug, Default)]
pub(crate) struct BodyRule {
    pub(crate) media_types: Vec<String>,
}

impl BodyRule {
    /// The media types an operation declares it reads.
    pub(super) fn of(request: Option<&poem_openapi::registry::MetaRequest>) -> BodyRule {
        BodyRule {
            media_types: request
                .into_iter()
                .flat_map(|request| &request.content)
                .map(|media| media.content_type.to_owned())
                .collect(),
        }
    }
}

/// The methods of each path: which requests reach an operation, and the
/// `Allow` header that RFC 9110 asks of a 405.
pub(crate) struct RouteTable(pub(crate) Vec<RouteMethods>);

pub(crate) struct RouteMethods {
    /// The path as declared (`/api/v1/tables/{table}/rows`): the metric label.
    pub(crate) template: String,
    pub(crate) operations: Vec<Operation>,
    pub(crate) allow: String,
}

/// What one operation declares.
pub(crate) struct Operation {
    pub(crate) method: Method,
    /// The media types it reads; none for an operation without a body.
    pub(crate) body: BodyRule,
    /// Whether it needs the token: it declares a security scheme.
    pub(crate) guarded: bool,
    pub(crate) id: Option<&'static str>,
    /// Whether its work may outlast `REQUEST_TIMEOUT_SECS` ([`LONG_OPERATIONS`]).
    pub(crate) long: bool,
}

impl RouteTable {
    /// The operations of `A`, and the OpenAPI document's own route.
    pub(crate) fn of<A: OpenApi>() -> RouteTable {
        let mut routes: Vec<RouteMethods> = Vec::new();
        for path in A::meta().into_iter().flat_map(|api| api.paths) {
            let operations = path
                .operations
                .iter()
                .map(|operation| Operation {
                    method: operation.method.clone(),
                    body: BodyRule::of(operation.request.as_ref()),
                    guarded: !operation.security.is_empty(),
                    id: operation.operation_id,
                    long: operation
                        .operation_id
                        .is_some_and(|id| LONG_OPERATIONS.contains(&id)),
                })
                .collect();
            routes.push(RouteMethods::new(&path.path, operations));
        }
        let spec_itself = Operation {
            method: Method::GET,
            body: BodyRule::default(),
            guarded: false,
            id: None,
            long: false,
        };
        routes.push(RouteMethods::new("/openapi.json", vec![spec_itself]));
        let table = RouteTable(routes);
        for id in LONG_OPERATIONS {
            assert!(
                table
                    .0
                    .iter()
                    .flat_map(|route| &route.operations)
                    .any(|operation| operation.id == Some(id)),
                "the long operation {id} is not declared"
            );
        }
        table
    }

    pub(crate) fn of_path(&self, path: &str) -> Option<&RouteMethods> {
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

    /// The operation `method` on `path` reaches, if any (HEAD is GET).
    pub(crate) fn operation(&self, method: &Method, path: &str) -> Option<&Operation> {
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.of_path(path)?
            .operations
            .iter()
            .find(|operation| operation.method == *method)
    }
}

impl RouteMethods {
    fn new(template: &str, operations: Vec<Operation>) -> RouteMethods {
        let mut methods: Vec<&str> = operations.iter().map(|o| o.method.as_str()).collect();
        methods.sort_unstable();
        let allow = methods.join(", ");
        RouteMethods {
            template: template.to_owned(),
            operations,
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
        && let Some(route) = routes.of_path(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(&route.allow)
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}
