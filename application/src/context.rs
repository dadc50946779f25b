//! What the services are built from: the driven ports and the security settings.

use std::sync::Arc;

use arcana_domain::session::SessionLifetimes;
use arcana_ports::audit::AuditLog;
use arcana_ports::clock::Clock;
use arcana_ports::events::EventPublisher;
use arcana_ports::security::{PasswordHasher, RefreshTokens, TokenCodec};
use arcana_ports::sessions::SessionStore;
use arcana_ports::throttle::ThrottleStore;
use arcana_ports::users::UserRepository;
use chrono::TimeDelta;

use crate::auth::throttle::ThrottlePolicy;

/// The driven ports, wired by bootstrap. Cloning is cheap (only `Arc`s).
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub audit: Arc<dyn AuditLog>,
    pub throttle: Arc<dyn ThrottleStore>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenCodec>,
    pub refresh_tokens: Arc<dyn RefreshTokens>,
    pub clock: Arc<dyn Clock>,
    pub events: Arc<dyn EventPublisher>,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Lifetime of an access token; short, because only the session check makes revocation
    /// immediate, and a token outlives nothing else.
    pub access_ttl: TimeDelta,
    pub session: SessionLifetimes,
    /// How long an already-rotated refresh token is refused *without* revoking its family,
    /// to absorb a client's own concurrent refreshes. Zero disables the grace.
    pub refresh_grace: TimeDelta,
    pub throttle: ThrottlePolicy,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl: TimeDelta::minutes(15),
            session: SessionLifetimes {
                idle: TimeDelta::days(7),
                absolute: TimeDelta::days(30),
            },
            refresh_grace: TimeDelta::seconds(10),
            throttle: ThrottlePolicy::default(),
        }
    }
}
