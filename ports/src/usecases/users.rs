//! Reading and managing user accounts, under the rank rule.

use arcana_domain::{FieldError, Password, UserId};
use async_trait::async_trait;

use super::auth::Principal;
use super::view::UserView;
use crate::UniqueField;

#[derive(Debug, Default)]
pub struct ListUsers {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Opaque; pass back as `cursor` for the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug)]
pub struct CreateUser {
    pub username: String,
    pub email: String,
    pub password: Password,
    pub display_name: Option<String>,
    pub role: Option<String>,
}

/// A partial profile update: absent fields stay, `Some(None)` clears an optional field.
#[derive(Debug, Default)]
pub struct UpdateProfile {
    pub username: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    /// When given, the update applies only if the user is still at this version.
    pub expected_version: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManagementError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{} is already taken", .0.as_str())]
    Conflict(UniqueField),
    /// The user changed since the caller read it.
    #[error("version conflict")]
    VersionConflict,
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// User management: reads, profile changes, roles, statuses, deletion.
///
/// Every method may also fail with `Forbidden` (the actor's role does not allow it),
/// `Unavailable` (503, retry later) and `Internal` (500); the lists below name the answers
/// particular to each.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserUseCases: Send + Sync {
    /// Moderator or above. `limit` defaults to 20 and may not exceed 100.
    ///
    /// # Errors
    /// `Validation` (a limit out of range, an unknown role or status filter, a cursor that is
    /// not one this API issued). Safe to retry.
    async fn list(&self, actor: &Principal, query: ListUsers) -> Result<UserPage, ManagementError>;

    /// The caller itself, or anyone for a moderator or above.
    ///
    /// # Errors
    /// `NotFound` (no such user, or deleted). Safe to retry.
    async fn get(&self, actor: &Principal, id: UserId) -> Result<UserView, ManagementError>;

    /// Admin or above; the new role must be one the actor may grant.
    ///
    /// # Errors
    /// `Validation` (any field refused, every field at once), `Conflict` (username or email
    /// taken). Not safe to retry: a repeat after an unknown outcome answers `Conflict`.
    async fn create(
        &self,
        actor: &Principal,
        command: CreateUser,
    ) -> Result<UserView, ManagementError>;

    /// The caller itself, or an admin acting on a user of lower rank.
    ///
    /// # Errors
    /// `NotFound`, `Validation`, `Conflict` (the new username or email is taken),
    /// `VersionConflict` (the user changed since the caller read it). Not retried by the
    /// resilience guard.
    async fn update(
        &self,
        actor: &Principal,
        id: UserId,
        changes: UpdateProfile,
    ) -> Result<UserView, ManagementError>;

    /// Rank rule on both the target and the role granted.
    ///
    /// # Errors
    /// `NotFound`, `Validation` (an unknown role), `VersionConflict`. Not retried by the
    /// resilience guard.
    async fn set_role(
        &self,
        actor: &Principal,
        id: UserId,
        role: &str,
    ) -> Result<UserView, ManagementError>;

    /// Suspend, lock, activate (which also lifts login throttling) or mark pending, with a
    /// reason for the audit log. Suspension and locking revoke every session.
    ///
    /// # Errors
    /// `NotFound`, `Validation` (an unknown status), `VersionConflict`. Not retried by the
    /// resilience guard.
    async fn set_status(
        &self,
        actor: &Principal,
        id: UserId,
        status: &str,
        reason: Option<String>,
    ) -> Result<UserView, ManagementError>;

    /// Soft delete; revokes every session.
    ///
    /// # Errors
    /// `NotFound` (no such user, or already deleted). Not safe to retry: a repeat after an
    /// unknown outcome answers `NotFound`.
    async fn delete(&self, actor: &Principal, id: UserId) -> Result<(), ManagementError>;
}
