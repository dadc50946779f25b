//! A fully wired application over the in-memory adapters, a manual clock and the real security
//! adapter with cheap Argon2 parameters.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use arcana_ports::usecases::RequestContext;
use std::sync::Arc;

use arcana_adapter_memory::{
    InMemoryAuditLog, InMemorySessionStore, InMemoryThrottleStore, InMemoryUserRepository,
    InProcessEventBus, ManualClock,
};
use arcana_adapter_security::{
    Argon2Params, Argon2PasswordHasher, HasherConfig, JwtConfig, JwtTokenCodec, RandomRefreshTokens,
};
use arcana_application::{AuditService, AuthService, AuthSettings, Ports, UserService};
use arcana_domain::Password;
use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::auth::{Login, Register};
use arcana_ports::usecases::users::CreateUser;
use arcana_ports::usecases::{
    AuthError, AuthSession, AuthUseCases, Principal, TokenRejection, UserUseCases,
};
use chrono::{DateTime, Utc};

pub const PASSWORD: &str = "a-long-enough-password";

/// Why a token was refused; panics on any other outcome.
pub fn rejection(result: Result<impl std::fmt::Debug, AuthError>) -> TokenRejection {
    match result {
        Err(AuthError::InvalidToken(reason)) => reason,
        other => panic!("expected a token rejection, got {other:?}"),
    }
}

pub struct World {
    pub auth: AuthService,
    pub users: UserService,
    pub audit: AuditService,
    pub clock: Arc<ManualClock>,
    pub ports: Ports,
}

pub fn ports_with(clock: Arc<ManualClock>) -> Ports {
    let hasher = Argon2PasswordHasher::new(HasherConfig {
        params: Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        max_concurrent: 2,
        max_waiting: 64,
    })
    .unwrap();
    let tokens = JwtTokenCodec::new(JwtConfig {
        secret: b"0123456789abcdef0123456789abcdef".to_vec(),
        key_id: "test".into(),
        issuer: "arcana".into(),
        audience: "arcana-api".into(),
    })
    .unwrap();
    Ports {
        users: Arc::new(InMemoryUserRepository::new()),
        sessions: Arc::new(InMemorySessionStore::new()),
        audit: Arc::new(InMemoryAuditLog::new(10_000)),
        throttle: Arc::new(InMemoryThrottleStore::new()),
        hasher: Arc::new(hasher),
        tokens: Arc::new(tokens),
        refresh_tokens: Arc::new(RandomRefreshTokens),
        clock,
        events: Arc::new(InProcessEventBus::new(64)),
    }
}

pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

impl World {
    pub fn new() -> Self {
        Self::with_settings(AuthSettings::default())
    }

    pub fn with_settings(settings: AuthSettings) -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        Self::from_ports(ports_with(clock.clone()), clock, settings)
    }

    pub fn from_ports(ports: Ports, clock: Arc<ManualClock>, settings: AuthSettings) -> Self {
        Self {
            auth: AuthService::new(ports.clone(), settings.clone()),
            users: UserService::new(ports.clone(), settings),
            audit: AuditService::new(ports.audit.clone()),
            clock,
            ports,
        }
    }

    pub async fn register(&self, username: &str) -> AuthSession {
        self.auth
            .register(Register {
                username: username.into(),
                email: format!("{username}@example.com"),
                password: Password::candidate(PASSWORD),
                display_name: None,
                client: ClientInfo::default(),
                request: RequestContext::default(),
            })
            .await
            .expect("registration succeeds")
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Result<AuthSession, AuthError> {
        self.login_from(identifier, password, None).await
    }

    pub async fn login_from(
        &self,
        identifier: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<AuthSession, AuthError> {
        let client = ClientInfo {
            user_agent: None,
            ip: ip.map(str::to_owned),
        };
        self.auth
            .login(Login {
                username_or_email: identifier.into(),
                password: Password::candidate(password),
                client,
                request: RequestContext::default(),
            })
            .await
    }

    pub async fn principal(&self, session: &AuthSession) -> Principal {
        self.auth
            .authenticate(&session.access_token, RequestContext::default())
            .await
            .expect("token is valid")
    }

    /// A superadmin seeded the way bootstrap does it, signed in.
    pub async fn root(&self) -> Principal {
        self.users
            .ensure_superadmin("root", "root@example.com", Password::candidate(PASSWORD))
            .await
            .unwrap();
        let session = self.login("root", PASSWORD).await.unwrap();
        self.principal(&session).await
    }

    /// A user with `role` created by `admin`, signed in.
    pub async fn member(&self, admin: &Principal, username: &str, role: &str) -> Principal {
        self.users
            .create(
                admin,
                CreateUser {
                    username: username.into(),
                    email: format!("{username}@example.com"),
                    password: Password::candidate(PASSWORD),
                    display_name: None,
                    role: Some(role.into()),
                },
            )
            .await
            .expect("user created");
        let session = self.login(username, PASSWORD).await.unwrap();
        self.principal(&session).await
    }
}
