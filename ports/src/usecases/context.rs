//! What travels with every call besides its arguments: the end user's credential and the
//! request's identity, so that a next tier can re-check authorization itself and every tier's
//! logs and traces name the same request.

use std::fmt;

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
    fn an_access_token_never_shows_in_debug_output() {
        let token = AccessToken::new("eyJhbGciOiJIUzI1NiJ9.secret.signature");
        let printed = format!("{token:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert_eq!(token.expose(), "eyJhbGciOiJIUzI1NiJ9.secret.signature");
    }
}
