//! What a caller may see of accounts and sessions: every field an API shows, never a credential.
//!
//! The driving ports hand these out instead of the domain `User` and `Session`, so that a tier
//! which only serves the public API (the controller of the layered modes) never holds a password
//! hash or a refresh-token digest, whatever it logs or forwards. Only the storage ports carry
//! those.

use arcana_domain::session::{ClientInfo, Session};
use arcana_domain::{
    DisplayName, Email, ProfileUrl, Role, SessionId, Status, User, UserId, Username,
};
use chrono::{DateTime, Utc};

/// An account as any API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    id: UserId,
    username: Username,
    email: Email,
    display_name: Option<DisplayName>,
    avatar_url: Option<ProfileUrl>,
    role: Role,
    status: Status,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    version: u64,
}

/// Every field of a [`UserView`], already parsed: a remote tier's client rebuilds views through
/// the same value-object parsers as a storage row, so a malformed answer cannot become a view.
#[derive(Debug, Clone)]
pub struct UserViewParts {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub display_name: Option<DisplayName>,
    pub avatar_url: Option<ProfileUrl>,
    pub role: Role,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id(),
            username: user.username().clone(),
            email: user.email().clone(),
            display_name: user.display_name().cloned(),
            avatar_url: user.avatar_url().cloned(),
            role: user.role(),
            status: user.status(),
            created_at: user.created_at(),
            updated_at: user.updated_at(),
            last_login_at: user.last_login_at(),
            version: user.version(),
        }
    }
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self::from(&user)
    }
}

impl From<UserViewParts> for UserView {
    fn from(parts: UserViewParts) -> Self {
        let UserViewParts {
            id,
            username,
            email,
            display_name,
            avatar_url,
            role,
            status,
            created_at,
            updated_at,
            last_login_at,
            version,
        } = parts;
        Self {
            id,
            username,
            email,
            display_name,
            avatar_url,
            role,
            status,
            created_at,
            updated_at,
            last_login_at,
            version,
        }
    }
}

impl UserView {
    pub fn id(&self) -> UserId {
        self.id
    }
    pub fn username(&self) -> &Username {
        &self.username
    }
    pub fn email(&self) -> &Email {
        &self.email
    }
    pub fn display_name(&self) -> Option<&DisplayName> {
        self.display_name.as_ref()
    }
    pub fn avatar_url(&self) -> Option<&ProfileUrl> {
        self.avatar_url.as_ref()
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    pub fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.last_login_at
    }
    /// The version the account was read at; send it back to update only that version.
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// One of the caller's signed-in clients. No token digest: only the session store sees those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Absolute end of life, fixed at sign-in.
    pub expires_at: DateTime<Utc>,
    /// When the session ends unless refreshed before (never after `expires_at`).
    pub idle_expires_at: DateTime<Utc>,
    pub client: ClientInfo,
}

impl From<Session> for SessionView {
    fn from(session: Session) -> Self {
        let session = session.into_parts();
        Self {
            id: session.id,
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            idle_expires_at: session.idle_expires_at,
            client: session.client,
        }
    }
}
