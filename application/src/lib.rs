//! Arcana's use cases, written against ports only: accounts and sessions ([`AuthService`]),
//! user management under the rank rule ([`UserService`]), the audit log ([`AuditService`])
//! and operating the job queue ([`JobsService`]).
//!
//! Every service implements a driving port from `arcana_ports::usecases`, so REST, gRPC and the
//! remote tiers all go through the same authorization code.

mod audit;
mod auth;
mod context;
mod identity;
mod jobs;
mod plugins;
mod record;
mod users;

pub use audit::AuditService;
pub use auth::AuthService;
pub use auth::throttle::ThrottlePolicy;
pub use context::{AuthSettings, Ports};
pub use jobs::JobsService;
pub use plugins::PluginAdminService;
pub use users::{SeedOutcome, UserService};
