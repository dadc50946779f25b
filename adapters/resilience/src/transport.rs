//! The link to a remote tier behind a [`Guard`]: the controller's link to the service tier,
//! whose remote clients implement the driving ports over it.

use std::sync::Arc;

use arcana_adapter_internal::{CallMeta, Encoding, MessageStream, RemoteError, Transport};
use async_trait::async_trait;

use crate::failure::Safety;
use crate::guard::Guard;

/// The RPCs of the service tier that are safe to retry: reads, whose repeat changes neither
/// state nor answer. Every other RPC (sign-in, refresh rotation, writes, enqueues) is sent
/// once: a refresh repeated after an unknown outcome would present an already-rotated token
/// and revoke the session family.
const SAFE_TO_RETRY: &[&str] = &[
    "/arcana.internal.v1.Accounts/Authenticate",
    "/arcana.internal.v1.Accounts/ListSessions",
    "/arcana.internal.v1.Users/List",
    "/arcana.internal.v1.Users/Get",
    "/arcana.internal.v1.Audit/Query",
    "/arcana.internal.v1.Jobs/Queues",
    "/arcana.internal.v1.Jobs/Queue",
    "/arcana.internal.v1.Jobs/Dashboard",
    "/arcana.internal.v1.Jobs/Search",
    "/arcana.internal.v1.Jobs/Get",
    "/arcana.internal.v1.Jobs/Schedules",
    "/arcana.internal.v1.Jobs/Workers",
    "/arcana.internal.v1.Storage/FindUserById",
    "/arcana.internal.v1.Storage/FindUserByUsername",
    "/arcana.internal.v1.Storage/FindUserByEmail",
    "/arcana.internal.v1.Storage/ListUsers",
    "/arcana.internal.v1.Storage/FindSession",
    "/arcana.internal.v1.Storage/ListLiveSessions",
    "/arcana.internal.v1.Storage/DenyAccessToken",
    "/arcana.internal.v1.Storage/IsAccessTokenDenied",
    "/arcana.internal.v1.Storage/QueryAudit",
];

fn safety(path: &str) -> Safety {
    if SAFE_TO_RETRY.contains(&path) {
        Safety::Idempotent
    } else {
        Safety::Once
    }
}

pub struct ResilientTransport {
    inner: Arc<dyn Transport>,
    guard: Arc<Guard>,
}

impl ResilientTransport {
    pub fn new(inner: Arc<dyn Transport>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl Transport for ResilientTransport {
    fn encoding(&self) -> Encoding {
        self.inner.encoding()
    }

    async fn call(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<Vec<u8>, RemoteError> {
        let call = || self.inner.call(path, body.clone(), meta);
        self.guard.call(path, safety(path), call).await
    }

    /// Opening the feed goes through the guard once; the open feed is the transport's own.
    async fn open_stream(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<MessageStream, RemoteError> {
        let open = || self.inner.open_stream(path, body.clone(), meta);
        self.guard.call(path, Safety::Once, open).await
    }
}
