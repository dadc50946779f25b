//! What travels with every call besides its arguments: the end user's credential and the
//! request's identity, so that a next tier can re-check authorization itself and every tier's
//! logs and traces name the same request.

use std::fmt;

use super::auth::TokenRejection;

/// The bearer access token a principal was authenticated from. A remote tier receives this, not
/// a claimed identity, and verifies it again: a controller cannot act beyond the end user's
/// rights even if it is compromised. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for the one place that sends or verifies it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The token of an `Authorization` header value, `Bearer <token>` (scheme case-insensitive):
/// the one parser every inbound adapter uses, so REST and gRPC refuse exactly the same headers.
///
/// # Errors
/// `Invalid` for any other scheme, a missing separator or an empty token. (A header that is
/// absent altogether is the adapter's `Missing`.)
pub fn bearer_token(authorization: &str) -> Result<&str, TokenRejection> {
    let (scheme, token) = authorization
        .split_once(' ')
        .ok_or(TokenRejection::Invalid)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        Ok(token)
    } else {
        Err(TokenRejection::Invalid)
    }
}

/// Longest request id adopted from a caller; longer ones are replaced by a generated id.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a caller's request id may be adopted: 1–128 visible ASCII characters, so it is safe
/// to log, echo and forward (no log-line forgery, no header injection).
pub fn is_acceptable_request_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.iter().all(u8::is_ascii_graphic)
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The identity of one inbound request, forwarded on every hop: the request id (`x-request-id`,
/// also in every log line) and the W3C trace context (`traceparent`, `tracestate`). Inbound
/// adapters fill it from the request; empty fields are simply not forwarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::AccessToken;

    #[test]
    fn only_a_bearer_scheme_with_a_token_is_accepted() {
        assert_eq!(super::bearer_token("Bearer abc"), Ok("abc"));
        assert_eq!(super::bearer_token("bearer  abc "), Ok("abc"));
        for refused in ["Basic abc", "Bearer", "Bearer   ", "abc", ""] {
            assert_eq!(
                super::bearer_token(refused),
                Err(super::TokenRejection::Invalid),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn request_ids_are_adopted_only_when_safe_to_log() {
        assert!(super::is_acceptable_request_id(b"req-42"));
        for refused in [&b""[..], b"has space", b"new\nline", &[b'x'; 129][..]] {
            assert!(!super::is_acceptable_request_id(refused), "{refused:?}");
        }
    }

    #[test]
    fn an_access_token_never_shows_in_debug_output() {
        let token = AccessToken::new("eyJhbGciOiJIUzI1NiJ9.secret.signature");
        let printed = format!("{token:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert_eq!(token.expose(), "eyJhbGciOiJIUzI1NiJ9.secret.signature");
    }
}
