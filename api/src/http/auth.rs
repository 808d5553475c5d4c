//! The bearer token that every write needs.

use super::Edge;
use super::body::refuse_unread;
use super::error::ApiError;
use crate::files::{self, Place};
use anyhow::Context;
use poem::Request;
use poem::{Endpoint, IntoResponse, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `Authorization: Bearer <token>`; needed by every endpoint that changes data.
///
/// Checked before the body is read: no token is a 401, a wrong one a 403,
/// whatever the body holds.
// (A doc comment here is the OpenAPI document's text.) An operation
// declares the scheme by taking this parameter; the token itself is checked
// once, by `authorize` at the edge, which finds the declaration in the route
// table. The checker only makes sure that happened.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "checked_at_the_edge")]
pub struct WriteAccess(());

async fn checked_at_the_edge(request: &Request, _: Bearer) -> poem::Result<()> {
    match request.data::<Authorized>() {
        Some(Authorized) => Ok(()),
        None => Err(ApiError::Internal(anyhow::anyhow!(
            "a write reached its handler without the edge's token check"
        ))
        .into()),
    }
}

/// Put in the request's data by `authorize` when its bearer token is the
/// service's.
#[derive(Clone, Copy, Debug)]
pub struct Authorized;

/// The token the service accepts; only its digest is kept.
#[derive(Clone)]
pub struct ApiToken {
    digest: [u8; 32],
}

impl ApiToken {
    pub fn new(token: &str) -> ApiToken {
        ApiToken {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// A wrong token is a 403. Digests are compared, so the time taken says
    /// nothing about the token.
    pub fn check(&self, presented: &str) -> Result<(), ApiError> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if digest == self.digest {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Checks the request's `Authorization: Bearer <token>` from its headers
/// alone: nothing of the body has been read yet.
fn check_request(request: &Request) -> Result<(), ApiError> {
    let token = request.data::<ApiToken>().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("the API token is not in the request data"))
    })?;
    let presented = request
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    token.check(presented.trim())
}

/// Where the generated token lives.
pub fn token_path(shared_dir: &Path) -> PathBuf {
    shared_dir.join("secrets").join("api-token")
}

/// Reads the token file, or creates it (mode 0600) with a random token.
///
/// Several API processes may start at once on one shared folder: the token
/// is written whole to a file of this process's own, then linked under the
/// final name, which never replaces an existing file. The process that
/// loses the race reads the winner's token, never a half-written one.
pub fn load_or_create_token(path: &Path) -> anyhow::Result<String> {
    if let Some(token) = read_token(path)? {
        return Ok(token);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| anyhow::anyhow!("no randomness for a token: {err}"))?;
    let token = hex::encode(bytes);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "api-token".to_owned());
    let mut temp = files::temp_file(dir, &name, 0o600)?;
    writeln!(temp, "{token}")?;
    // Written whole, then given its name only if no other process (a
    // replica starting at the same time) gave it first.
    match files::put_in_place(temp, dir, &name, Place::New) {
        Ok(()) => Ok(token),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read_token(path)?
            .with_context(|| format!("{} vanished while it was read", path.display())),
        Err(err) => Err(err).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// The token in `path`, or `None` when there is no such file.
fn read_token(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Ok(_) => anyhow::bail!(
            "the token file {} is empty; delete it to make a new one",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The one check of the token, from the headers alone: a request that needs
/// it ([`Edge::needs_token`]) and has not the right one is answered 401 or
/// 403 at once, and its body is never read; one that has it is marked
/// [`Authorized`] for the handlers (and the home page) to see.
pub(super) async fn authorize<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    edge: Arc<Edge>,
) -> poem::Result<Response> {
    match check_request(&request) {
        Ok(()) => {
            request.extensions_mut().insert(Authorized);
        }
        Err(err) if edge.needs_token(&request) => return Ok(refuse_unread(&request, err)),
        Err(_) => {}
    }
    Ok(next.call(request).await?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        let first = load_or_create_token(&path).unwrap();
        assert_eq!(first.len(), 64);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_or_create_token(&path).unwrap(), first);
    }

    #[test]
    fn processes_starting_together_all_get_the_one_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        let tokens: Vec<String> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create_token(&path).unwrap()))
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().unwrap())
                .collect()
        });
        assert!(tokens.iter().all(|token| token == &tokens[0]), "{tokens:?}");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "temp files left behind");
    }

    #[test]
    fn only_the_right_token_passes() {
        let token = ApiToken::new("right");
        assert!(token.check("right").is_ok());
        assert!(matches!(token.check("wrong"), Err(ApiError::Forbidden)));
        assert!(matches!(token.check(""), Err(ApiError::Forbidden)));
    }
}
