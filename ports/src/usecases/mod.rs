//! Driving ports: what inbound adapters (REST, gRPC, remote tiers) may ask of the application.
//!
//! Commands carry raw input; the application parses it into domain values and reports every
//! invalid field at once. Authorization decisions are made behind these traits, never in an
//! adapter, so that every protocol enforces exactly the same rules.

pub mod audit;
pub mod auth;
pub mod context;
mod errors;
pub mod jobs;
pub mod plugins;
pub mod users;
pub mod view;

pub use audit::{AuditFilter, AuditPage, AuditUseCases};
pub use auth::{AuthError, AuthSession, AuthUseCases, Principal, TokenRejection};
pub use context::{AccessToken, RequestContext, bearer_token, is_acceptable_request_id};
pub use jobs::{JobsError, JobsUseCases};
pub use plugins::{PluginAdminError, PluginUseCases};
pub use users::{ManagementError, UserPage, UserUseCases};
pub use view::{SessionView, UserView, UserViewParts};
