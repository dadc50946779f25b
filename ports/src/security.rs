//! Password hashing, access-token encoding and refresh-token generation.
#![cfg_attr(
    feature = "mock",
    allow(
        clippy::ref_option_ref,
        reason = "mockall expands Option<&T> arguments by reference"
    )
)]

use arcana_domain::session::TokenHash;
use arcana_domain::{Password, PasswordHash, Role, SessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    /// The password is right; `needs_rehash` when the hash was made with parameters other than
    /// the configured ones, so the caller can upgrade it now that it holds the plaintext.
    Match {
        needs_rehash: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashing requests are already waiting; shed the request instead of queueing it
    /// without bound.
    #[error("password hashing is saturated")]
    Saturated,
    #[error("password hashing failed")]
    Internal(#[source] anyhow::Error),
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes with the configured parameters, off the async reactor.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;

    /// Verifies `password` against `hash`. With `hash = None` (unknown account) the same work is
    /// done against a dummy hash and the answer is `Mismatch`, so that response time does not
    /// reveal whether an account exists.
    async fn verify<'a>(
        &self,
        password: &Password,
        hash: Option<&'a PasswordHash>,
    ) -> Result<Verification, HashError>;
}

/// The claims of an access token that the application reads or sets. The codec adds the fixed
/// ones (`iss`, `aud`, `typ`) and the `kid` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// Role at issue time; informational — authorization reads the current role from storage.
    pub role: Role,
    /// Unique token id (`jti`), the key of the deny list.
    pub token_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    /// Bad signature, wrong issuer/audience/type, unknown key id, malformed: all the same to a
    /// client.
    #[error("token invalid")]
    Invalid,
}

#[cfg_attr(feature = "mock", mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// Signs `claims` into a compact JWT.
    fn issue(&self, claims: &AccessClaims) -> Result<String, anyhow::Error>;

    /// Checks signature, `kid`, `iss`, `aud`, `typ` and expiry at `now`.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError>;
}

/// A newly generated refresh secret and the digest that is stored in its place.
pub struct RefreshSecret {
    /// Shown to the client once; never stored or logged.
    pub secret: String,
    pub hash: TokenHash,
}

#[cfg_attr(feature = "mock", mockall::automock)]
pub trait RefreshTokens: Send + Sync {
    /// 256 bits from the operating system's CSPRNG.
    fn generate(&self) -> RefreshSecret;

    /// The digest of a presented secret, comparable with stored hashes.
    fn digest(&self, secret: &str) -> TokenHash;
}
