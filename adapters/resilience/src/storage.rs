//! The storage ports behind a [`Guard`]: each method declares whether it is safe to retry, as
//! its port documents.

use std::sync::Arc;

use arcana_domain::audit::AuditEntry;
use arcana_domain::session::{Session, TokenHash};
use arcana_domain::{Email, SessionId, User, UserId, Username};
use arcana_ports::StoreError;
use arcana_ports::audit::{AuditLog, AuditQuery};
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::failure::Safety::{Idempotent, Once};
use crate::guard::Guard;

pub struct ResilientUserRepository {
    inner: Arc<dyn UserRepository>,
    guard: Arc<Guard>,
}

impl ResilientUserRepository {
    pub fn new(inner: Arc<dyn UserRepository>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl UserRepository for ResilientUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        self.guard
            .call("users.insert", Once, || self.inner.insert(user))
            .await
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        self.guard
            .call("users.update", Once, || self.inner.update(user))
            .await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.guard
            .call("users.find_by_id", Idempotent, || self.inner.find_by_id(id))
            .await
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let find = || self.inner.find_by_username(username);
        self.guard
            .call("users.find_by_username", Idempotent, find)
            .await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.guard
            .call("users.find_by_email", Idempotent, || {
                self.inner.find_by_email(email)
            })
            .await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        self.guard
            .call("users.list", Idempotent, || self.inner.list(query))
            .await
    }
}

pub struct ResilientSessionStore {
    inner: Arc<dyn SessionStore>,
    guard: Arc<Guard>,
}

impl ResilientSessionStore {
    pub fn new(inner: Arc<dyn SessionStore>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl SessionStore for ResilientSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.guard
            .call("sessions.create", Once, || self.inner.create(session))
            .await
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.guard
            .call("sessions.find", Idempotent, || self.inner.find(id))
            .await
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        self.guard
            .call("sessions.rotate", Once, || {
                self.inner.rotate(expected, next)
            })
            .await
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.guard
            .call("sessions.revoke", Once, || self.inner.revoke(id, now))
            .await
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let revoke = || self.inner.revoke_all_for_user(user, keep, now);
        self.guard
            .call("sessions.revoke_all_for_user", Once, revoke)
            .await
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let list = || self.inner.list_live_for_user(user, now);
        self.guard
            .call("sessions.list_live_for_user", Idempotent, list)
            .await
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let deny = || self.inner.deny_access_token(token_id, until);
        self.guard
            .call("sessions.deny_access_token", Idempotent, deny)
            .await
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let denied = || self.inner.is_access_token_denied(token_id, now);
        self.guard
            .call("sessions.is_access_token_denied", Idempotent, denied)
            .await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.guard
            .call("sessions.purge_expired", Once, || {
                self.inner.purge_expired(now)
            })
            .await
    }
}

pub struct ResilientAuditLog {
    inner: Arc<dyn AuditLog>,
    guard: Arc<Guard>,
}

impl ResilientAuditLog {
    pub fn new(inner: Arc<dyn AuditLog>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl AuditLog for ResilientAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.guard
            .call("audit.append", Once, || self.inner.append(entry))
            .await
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.guard
            .call("audit.query", Idempotent, || self.inner.query(query))
            .await
    }
}
