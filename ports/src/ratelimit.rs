//! Inbound rate limiting: how many requests a client may make, per class of limit.

use std::net::IpAddr;
use std::time::Duration;

use arcana_domain::UserId;
use async_trait::async_trait;

use crate::StoreError;

/// Which limit a request is counted against. A request may be counted against several (every
/// request per address; sign-in also against `Auth`; an authenticated one also per user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitClass {
    /// Every request, by client address.
    PerIp,
    /// Every authenticated request, by user.
    PerUser,
    /// Sign-up, sign-in and refresh, by client address: stricter, since each costs a password
    /// hash or a session rotation and is what credential stuffing hammers.
    Auth,
}

impl LimitClass {
    /// The policy name in `RateLimit-Policy` and the metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerIp => "per_ip",
            Self::PerUser => "per_user",
            Self::Auth => "auth",
        }
    }
}

/// Who is counted: an address for `PerIp` and `Auth`, a user for `PerUser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Address(IpAddr),
    User(UserId),
}

/// `per_second` requests a second on average, at most `burst` at once (a token bucket, GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_second: u32,
    pub burst: u32,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through; `remaining` more requests would be let through right now.
    Allowed { remaining: u32 },
    /// Refused; the next request is let through after `retry_after`.
    Limited { retry_after: Duration },
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// The configured quota of `class`.
    fn quota(&self, class: LimitClass) -> Quota;

    /// Counts one request of `subject` against `class` and says whether to serve it. A refused
    /// request is not counted (retrying after `retry_after` succeeds).
    ///
    /// # Errors
    /// `Unavailable` when a shared store cannot be reached. Callers let the request through:
    /// an outage of the limiter must not become an outage of the API.
    async fn check(&self, class: LimitClass, subject: &Subject) -> Result<Verdict, StoreError>;
}
