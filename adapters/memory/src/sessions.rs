//! `SessionStore` over maps; rotation is a compare-and-swap under one lock.

use std::collections::HashMap;
use std::sync::Mutex;

use arcana_domain::session::{Session, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::poisoned;

#[derive(Default)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<SessionId, Session>>,
    denied: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl InMemorySessionStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SessionStore for InMemorySessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let mut sessions = self.sessions.lock().map_err(|_| poisoned())?;
        sessions.insert(session.id(), session.clone());
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let sessions = self.sessions.lock().map_err(|_| poisoned())?;
        Ok(sessions.get(&id).cloned())
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let mut sessions = self.sessions.lock().map_err(|_| poisoned())?;
        match sessions.get_mut(&next.id()) {
            Some(stored) if stored.refresh_hash() == expected && !stored.is_revoked() => {
                *stored = next.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut sessions = self.sessions.lock().map_err(|_| poisoned())?;
        Ok(match sessions.get_mut(&id) {
            Some(session) if !session.is_revoked() => {
                session.revoke(now);
                true
            }
            _ => false,
        })
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let mut sessions = self.sessions.lock().map_err(|_| poisoned())?;
        let mut revoked = Vec::new();
        for session in sessions.values_mut() {
            if session.user_id() == user && Some(session.id()) != keep && !session.is_revoked() {
                session.revoke(now);
                revoked.push(session.id());
            }
        }
        Ok(revoked)
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let sessions = self.sessions.lock().map_err(|_| poisoned())?;
        let mut live: Vec<Session> = sessions
            .values()
            .filter(|s| s.user_id() == user && s.is_live(now))
            .cloned()
            .collect();
        live.sort_by_key(|s| std::cmp::Reverse(s.last_used_at()));
        Ok(live)
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut denied = self.denied.lock().map_err(|_| poisoned())?;
        denied.insert(token_id.to_owned(), until);
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let denied = self.denied.lock().map_err(|_| poisoned())?;
        Ok(denied.get(token_id).is_some_and(|until| now < *until))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut purged = 0;
        {
            let mut sessions = self.sessions.lock().map_err(|_| poisoned())?;
            let before = sessions.len();
            sessions.retain(|_, s| s.is_live(now));
            purged += before - sessions.len();
        }
        let mut denied = self.denied.lock().map_err(|_| poisoned())?;
        let before = denied.len();
        denied.retain(|_, until| now < *until);
        purged += before - denied.len();
        Ok(purged as u64)
    }
}
