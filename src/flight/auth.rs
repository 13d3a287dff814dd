//! Bearer-token authentication: a tonic interceptor that runs before every Flight call, so a
//! missing or wrong token is refused with UNAUTHENTICATED before any SQL is parsed.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Checks `authorization: Bearer <token>` on every call; with no token configured, lets every
/// call through (`--insecure-no-auth`).
#[derive(Debug, Clone)]
pub struct BearerAuth {
    token: Option<Arc<[u8]>>,
}

impl BearerAuth {
    /// An interceptor requiring `token` (or none, when `None`).
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.map(|t| Arc::from(t.into_bytes())),
        }
    }
}

/// Compares in time that depends on the length only, not on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Interceptor for BearerAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.token else {
            return Ok(request);
        };
        let given = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        match given {
            Some(t) if constant_time_eq(t.trim().as_bytes(), token) => Ok(request),
            Some(_) => Err(Status::unauthenticated("cohort serve: wrong bearer token")),
            None => Err(Status::unauthenticated(
                "cohort serve: missing bearer token; send the header authorization: Bearer <token>",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_token() {
        let mut auth = BearerAuth::new(Some("s3cret".into()));
        let mut req = Request::new(());
        assert_eq!(
            auth.call(Request::new(())).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        req.metadata_mut()
            .insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(
            auth.call(req).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let mut ok = Request::new(());
        ok.metadata_mut()
            .insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(auth.call(ok).is_ok());
        assert!(BearerAuth::new(None).call(Request::new(())).is_ok());
    }
}
