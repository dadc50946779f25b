//! Storage of sessions (refresh-token families) and of the access-token deny list.

use arcana_domain::session::{Session, TokenHash};
use arcana_domain::{SessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// Every process that serves requests for the same users must share one `SessionStore`:
/// revocation is only immediate everywhere if every process reads the same store.
/// Which methods are safe to retry (the resilience decorators retry only those) is stated on
/// each: safe means a repeat after an unknown outcome changes neither the stored state nor the
/// answer.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Not safe to retry (a repeat collides with the stored session).
    async fn create(&self, session: &Session) -> Result<(), StoreError>;

    /// Safe to retry.
    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError>;

    /// Replaces the session with `next` only if its current refresh hash is still `expected` and
    /// it is not revoked — one atomic compare-and-swap. Of two concurrent rotations with the same
    /// token exactly one gets `true`; the family never forks.
    /// Not safe to retry: a repeat after an applied swap answers `false` (reuse).
    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError>;

    /// Revokes one session; `true` if it was not already revoked.
    /// Not safe to retry: the answer of a repeat differs.
    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Revokes every session of `user` except `keep`, and returns the ids it revoked (not those
    /// already revoked), so that a cache in front of the store can forget exactly those.
    /// Not safe to retry: a repeat answers an empty list.
    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError>;

    /// Sessions of `user` that are live at `now`, most recent first.
    /// Safe to retry.
    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError>;

    /// Refuses the access token `token_id` (its `jti`) until `until`, its own expiry; after that
    /// the token is dead anyway and the entry may be forgotten.
    /// Safe to retry (the same entry, written again).
    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Safe to retry.
    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Forgets sessions past their absolute lifetime (or revoked before `now`) and expired deny-list
    /// entries; returns how many records went.
    /// Not safe to retry: the count of a repeat differs.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
