//! Arcana's use cases, written against ports only: accounts and sessions ([`AuthService`]),
//! user management under the rank rule ([`UserService`]) and the audit log ([`AuditService`]).
//!
//! Every service implements a driving port from `arcana_ports::usecases`, so REST, gRPC and the
//! remote tiers all go through the same authorization code.

mod audit;
mod auth;
mod context;
mod identity;
mod record;
mod users;

pub use audit::AuditService;
pub use auth::AuthService;
pub use auth::throttle::ThrottlePolicy;
pub use context::{AuthSettings, Ports};
pub use users::{SeedOutcome, UserService};
