//! Remote adapters: the ports of the next tier, implemented by calls over a [`Transport`].
//!
//! The controller holds [`RemoteAuth`], [`RemoteUsers`], [`RemoteAudit`], [`RemoteJobs`] and
//! [`RemotePlugins`] where the monolith holds the application's services and plugin host; the
//! service tier holds [`RemoteUserRepository`], [`RemoteSessionStore`], [`RemoteAuditLog`] and
//! [`RemotePluginKv`] where the monolith holds the database adapters. The application cannot tell the difference.

mod jobs;
mod plugin_kv;
mod plugins;
mod service;
mod storage;
mod users;

pub use jobs::RemoteJobs;
pub use plugin_kv::RemotePluginKv;
pub use plugins::{INTERCEPTS_REFRESH, RemotePlugins};
pub use service::RemoteAuth;
pub use storage::{RemoteAuditLog, RemoteSessionStore, RemoteUserRepository};
pub use users::{RemoteAudit, RemoteUsers};

/// The path of an internal RPC, as gRPC names it; the HTTP transport posts to the same path.
macro_rules! rpc {
    ($service:literal, $method:literal) => {
        concat!("/arcana.internal.v1.", $service, "/", $method)
    };
}
pub(crate) use rpc;
