//! The storage ports over the repository tier's storage API.

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
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rpc;
use crate::context::{self, CallMeta};
use crate::convert::{self, micros};
use crate::failure::store_error;
use crate::transport::{Transport, invoke};
use crate::wire;

/// A storage call in the request the current task serves; the answer is decoded or the failure
/// becomes the storage error the repository raised.
pub(super) async fn call<Req, Resp>(
    transport: &dyn Transport,
    path: &'static str,
    request: &Req,
) -> Result<Resp, StoreError>
where
    Req: Message + Serialize,
    Resp: Message + Default + DeserializeOwned,
{
    let meta = CallMeta {
        request: context::current(),
        bearer: None,
    };
    invoke(transport, path, request, &meta)
        .await
        .map_err(store_error)
}

/// A malformed answer is the repository's bug, not an outage.
pub(super) fn invalid(err: anyhow::Error) -> StoreError {
    StoreError::Other(err.context("the repository tier answered a malformed record"))
}

/// [`UserRepository`] on the repository tier.
pub struct RemoteUserRepository {
    transport: Arc<dyn Transport>,
}

impl RemoteUserRepository {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }

    async fn find(&self, path: &'static str, key: wire::Text) -> Result<Option<User>, StoreError> {
        let found: wire::MaybeUser = call(&*self.transport, path, &key).await?;
        convert::maybe_user(found.user).map_err(invalid)
    }
}

#[async_trait]
impl UserRepository for RemoteUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Storage", "InsertUser"),
            &convert::user_record(user),
        )
        .await?;
        Ok(())
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        let stored: wire::UserRecord = call(
            &*self.transport,
            rpc!("Storage", "UpdateUser"),
            &convert::user_record(user),
        )
        .await?;
        convert::user(stored).map_err(invalid)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let found: wire::MaybeUser = call(
            &*self.transport,
            rpc!("Storage", "FindUserById"),
            &wire::Id {
                value: id.to_string(),
            },
        )
        .await?;
        convert::maybe_user(found.user).map_err(invalid)
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = wire::Text {
            value: username.as_str().to_owned(),
        };
        self.find(rpc!("Storage", "FindUserByUsername"), key).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let key = wire::Text {
            value: email.as_str().to_owned(),
        };
        self.find(rpc!("Storage", "FindUserByEmail"), key).await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let page: wire::UserRecords = call(
            &*self.transport,
            rpc!("Storage", "ListUsers"),
            &convert::user_query(query),
        )
        .await?;
        page.items
            .into_iter()
            .map(|record| convert::user(record).map_err(invalid))
            .collect()
    }
}

/// [`SessionStore`] on the repository tier.
pub struct RemoteSessionStore {
    transport: Arc<dyn Transport>,
}

impl RemoteSessionStore {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

#[async_trait]
impl SessionStore for RemoteSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let record = convert::session_record(session);
        let _: wire::Empty =
            call(&*self.transport, rpc!("Storage", "CreateSession"), &record).await?;
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let key = wire::Id {
            value: id.to_string(),
        };
        let found: wire::MaybeSession =
            call(&*self.transport, rpc!("Storage", "FindSession"), &key).await?;
        found
            .session
            .map(convert::session)
            .transpose()
            .map_err(invalid)
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let request = wire::RotateSession {
            expected_hash: expected.as_str().to_owned(),
            next: Some(convert::session_record(next)),
        };
        let swapped: wire::Flag =
            call(&*self.transport, rpc!("Storage", "RotateSession"), &request).await?;
        Ok(swapped.value)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let request = wire::RevokeSession {
            id: id.to_string(),
            now_us: micros(now),
        };
        let revoked: wire::Flag =
            call(&*self.transport, rpc!("Storage", "RevokeSession"), &request).await?;
        Ok(revoked.value)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let request = wire::RevokeUserSessions {
            user_id: user.to_string(),
            keep: keep.map(|id| id.to_string()),
            now_us: micros(now),
        };
        let revoked: wire::Ids = call(
            &*self.transport,
            rpc!("Storage", "RevokeUserSessions"),
            &request,
        )
        .await?;
        revoked
            .values
            .iter()
            .map(|id| convert::session_id("values", id).map_err(invalid))
            .collect()
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let request = wire::LiveSessions {
            user_id: user.to_string(),
            now_us: micros(now),
        };
        let live: wire::SessionRecords = call(
            &*self.transport,
            rpc!("Storage", "ListLiveSessions"),
            &request,
        )
        .await?;
        live.items
            .into_iter()
            .map(|record| convert::session(record).map_err(invalid))
            .collect()
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let request = wire::DenyAccessToken {
            token_id: token_id.to_owned(),
            until_us: micros(until),
        };
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Storage", "DenyAccessToken"),
            &request,
        )
        .await?;
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = wire::AccessTokenCheck {
            token_id: token_id.to_owned(),
            now_us: micros(now),
        };
        let denied: wire::Flag = call(
            &*self.transport,
            rpc!("Storage", "IsAccessTokenDenied"),
            &request,
        )
        .await?;
        Ok(denied.value)
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let request = wire::At {
            now_us: micros(now),
        };
        let purged: wire::Count =
            call(&*self.transport, rpc!("Storage", "PurgeExpired"), &request).await?;
        Ok(purged.value)
    }
}

/// [`AuditLog`] on the repository tier.
pub struct RemoteAuditLog {
    transport: Arc<dyn Transport>,
}

impl RemoteAuditLog {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

#[async_trait]
impl AuditLog for RemoteAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let record = convert::audit_record(entry);
        let _: wire::Empty =
            call(&*self.transport, rpc!("Storage", "AppendAudit"), &record).await?;
        Ok(())
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let request = convert::audit_query(query);
        let page: wire::AuditRecords =
            call(&*self.transport, rpc!("Storage", "QueryAudit"), &request).await?;
        page.items
            .into_iter()
            .map(|record| convert::audit_entry(record).map_err(invalid))
            .collect()
    }
}
