//! Cache-aside `SessionStore`: the per-request "is this session still valid" reads (the session
//! and the access-token deny list) served from a `Cache`.

use std::sync::Arc;
use std::time::Duration;

use arcana_domain::session::{Session, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::cache::{Cache, Lookup};
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::MEMO_ENTRIES;
use crate::codec::{decode_session, encode_session};
use crate::memo::Memo;

/// Marks a token the store did not deny when asked. Denials themselves are not cached: a denied
/// token is refused and its client stops presenting it, so there is nothing to speed up.
const NOT_DENIED: &[u8] = b"0";

/// Sessions are cached whole and judged live or not at read time against the clock, so expiry
/// needs no invalidation; every write that changes a session (rotation, revocation) invalidates
/// it, and denying a token invalidates its "not denied" mark.
pub struct CachedSessionStore {
    inner: Arc<dyn SessionStore>,
    cache: Arc<dyn Cache>,
    ttl: Duration,
    decoded: Memo<Session>,
}

impl CachedSessionStore {
    pub fn new(inner: Arc<dyn SessionStore>, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self {
            inner,
            cache,
            ttl,
            decoded: Memo::new(MEMO_ENTRIES),
        }
    }

    async fn forget(&self, key: &str) {
        if let Err(err) = self.cache.invalidate(key).await {
            tracing::warn!(error = %err, "cache invalidation failed; the cache retries it");
        }
    }
}

fn session_key(id: SessionId) -> String {
    format!("session:{id}")
}

fn deny_key(token_id: &str) -> String {
    format!("deny:{token_id}")
}

#[async_trait]
impl SessionStore for CachedSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.inner.create(session).await
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let key = session_key(id);
        let ticket = match self.cache.get(&key).await {
            Ok(Lookup::Hit(bytes)) => match self.decoded.decode(&key, &bytes, decode_session) {
                Ok(session) if session.id() == id => return Ok(Some(session)),
                Ok(_) | Err(_) => {
                    tracing::warn!(session = %id, "unreadable cached session; reading the store");
                    self.forget(&key).await;
                    None
                }
            },
            Ok(Lookup::Miss(ticket)) => Some(ticket),
            Err(_) => None,
        };
        let session = self.inner.find(id).await?;
        if let (Some(ticket), Some(session)) = (ticket, &session) {
            let _ = self
                .cache
                .fill(&key, &encode_session(session), self.ttl, ticket)
                .await;
        }
        Ok(session)
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let rotated = self.inner.rotate(expected, next).await?;
        if rotated {
            self.forget(&session_key(next.id())).await;
        }
        Ok(rotated)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked = self.inner.revoke(id, now).await?;
        self.forget(&session_key(id)).await;
        Ok(revoked)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let revoked = self.inner.revoke_all_for_user(user, keep, now).await?;
        for id in &revoked {
            self.forget(&session_key(*id)).await;
        }
        Ok(revoked)
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        self.inner.list_live_for_user(user, now).await
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.deny_access_token(token_id, until).await?;
        self.forget(&deny_key(token_id)).await;
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = deny_key(token_id);
        let ticket = match self.cache.get(&key).await {
            Ok(Lookup::Hit(bytes)) if bytes == NOT_DENIED => return Ok(false),
            Ok(Lookup::Hit(_)) => {
                self.forget(&key).await;
                None
            }
            Ok(Lookup::Miss(ticket)) => Some(ticket),
            Err(_) => None,
        };
        let denied = self.inner.is_access_token_denied(token_id, now).await?;
        if let (Some(ticket), false) = (ticket, denied) {
            let _ = self.cache.fill(&key, NOT_DENIED, self.ttl, ticket).await;
        }
        Ok(denied)
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        // Purged sessions were already dead, and a cached copy of a dead session is judged
        // dead at read time too: nothing to invalidate.
        self.inner.purge_expired(now).await
    }
}
