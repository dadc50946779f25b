//! The `User` aggregate.

use chrono::{DateTime, Utc};

use super::{DisplayName, Email, PasswordHash, ProfileUrl, Role, Status, Username};
use crate::{UserId, ValueError};

/// An account. Fields are private: state changes only through intent-named methods, and every
/// persisted change is guarded by `version` (optimistic concurrency), so a slow login can never
/// overwrite a suspension that landed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    id: UserId,
    username: Username,
    email: Email,
    display_name: Option<DisplayName>,
    avatar_url: Option<ProfileUrl>,
    role: Role,
    status: Status,
    status_reason: Option<String>,
    password_hash: PasswordHash,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    version: u64,
}

/// What it takes to create an account.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub display_name: Option<DisplayName>,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub status: Status,
}

/// Every field of a stored user, for storage adapters rehydrating a row. Fields are already
/// parsed domain values, so a row with an unknown role or a malformed email cannot get this far.
#[derive(Debug, Clone)]
pub struct UserParts {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub display_name: Option<DisplayName>,
    pub avatar_url: Option<ProfileUrl>,
    pub role: Role,
    pub status: Status,
    pub status_reason: Option<String>,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// A partial profile update; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub display_name: Option<Option<DisplayName>>,
    pub avatar_url: Option<Option<ProfileUrl>>,
}

impl ProfileChanges {
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.display_name.is_none()
            && self.avatar_url.is_none()
    }
}

impl User {
    /// A new account; its first persisted version is 1.
    pub fn register(new: NewUser, now: DateTime<Utc>) -> Self {
        Self {
            id: UserId::generate(),
            username: new.username,
            email: new.email,
            display_name: new.display_name,
            avatar_url: None,
            role: new.role,
            status: new.status,
            status_reason: None,
            password_hash: new.password_hash,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            version: 1,
        }
    }

    /// The longest status reason kept; longer ones are cut by the use case that sets them.
    pub const MAX_STATUS_REASON_CHARS: usize = 500;

    /// Rebuilds a stored user (a row, a cache entry, a record from the repository tier). The
    /// fields are parsed values already; this checks what only the whole record can break, so a
    /// corrupt record is refused where it is read instead of travelling on.
    ///
    /// # Errors
    /// `invalid_version` for version 0 (stored versions start at 1);
    /// `invalid_status_reason` for a blank reason or one over
    /// [`User::MAX_STATUS_REASON_CHARS`].
    pub fn restore(parts: UserParts) -> Result<Self, ValueError> {
        let UserParts {
            id,
            username,
            email,
            display_name,
            avatar_url,
            role,
            status,
            status_reason,
            password_hash,
            created_at,
            updated_at,
            last_login_at,
            version,
        } = parts;
        if version == 0 {
            return Err(ValueError::new(
                "invalid_version",
                "stored versions start at 1",
            ));
        }
        if let Some(reason) = &status_reason
            && (reason.trim().is_empty() || reason.chars().count() > Self::MAX_STATUS_REASON_CHARS)
        {
            return Err(ValueError::new(
                "invalid_status_reason",
                "must be 1 to 500 characters",
            ));
        }
        Ok(Self {
            id,
            username,
            email,
            display_name,
            avatar_url,
            role,
            status,
            status_reason,
            password_hash,
            created_at,
            updated_at,
            last_login_at,
            version,
        })
    }

    pub fn into_parts(self) -> UserParts {
        UserParts {
            id: self.id,
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            avatar_url: self.avatar_url,
            role: self.role,
            status: self.status,
            status_reason: self.status_reason,
            password_hash: self.password_hash,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login_at: self.last_login_at,
            version: self.version,
        }
    }

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
    pub fn status_reason(&self) -> Option<&str> {
        self.status_reason.as_deref()
    }
    pub fn password_hash(&self) -> &PasswordHash {
        &self.password_hash
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
    /// The version this value was read at; a repository accepts an update only if the stored
    /// version still equals it.
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn is_deleted(&self) -> bool {
        self.status == Status::Deleted
    }

    /// The value as stored after a successful update: same state, next version.
    #[must_use]
    pub fn next_version(mut self) -> Self {
        self.version += 1;
        self
    }

    pub fn record_login(&mut self, now: DateTime<Utc>) {
        self.last_login_at = Some(now);
    }

    /// Replaces the hash after a password change or a parameter upgrade.
    pub fn set_password_hash(&mut self, hash: PasswordHash, now: DateTime<Utc>) {
        self.password_hash = hash;
        self.updated_at = now;
    }

    pub fn change_role(&mut self, role: Role, now: DateTime<Utc>) {
        self.role = role;
        self.updated_at = now;
    }

    /// Moves the account to `status` for `reason`. Deletion has its own method because it is
    /// final: a deleted account cannot be brought back through a status change.
    ///
    /// # Errors
    /// `use_delete` when `status` is `Deleted`; `deleted` when the account already is.
    pub fn change_status(
        &mut self,
        status: Status,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), ValueError> {
        if status == Status::Deleted {
            return Err(ValueError::new(
                "use_delete",
                "a status cannot delete a user: use the delete operation",
            ));
        }
        self.refuse_if_deleted()?;
        self.status = status;
        self.status_reason = reason;
        self.updated_at = now;
        Ok(())
    }

    /// Deletes the account (softly: the record stays, unusable, its names freed).
    ///
    /// # Errors
    /// `deleted` when the account already is: deletion happens once, so its event and audit
    /// entry do too.
    pub fn delete(&mut self, now: DateTime<Utc>) -> Result<(), ValueError> {
        self.refuse_if_deleted()?;
        self.status = Status::Deleted;
        self.updated_at = now;
        Ok(())
    }

    fn refuse_if_deleted(&self) -> Result<(), ValueError> {
        if self.is_deleted() {
            return Err(ValueError::new("deleted", "the account is deleted"));
        }
        Ok(())
    }

    pub fn update_profile(&mut self, changes: ProfileChanges, now: DateTime<Utc>) {
        if let Some(username) = changes.username {
            self.username = username;
        }
        if let Some(email) = changes.email {
            self.email = email;
        }
        if let Some(display_name) = changes.display_name {
            self.display_name = display_name;
        }
        if let Some(avatar_url) = changes.avatar_url {
            self.avatar_url = avatar_url;
        }
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(now: DateTime<Utc>) -> User {
        User::register(
            NewUser {
                username: Username::parse("alice").unwrap(),
                email: Email::parse("alice@example.com").unwrap(),
                display_name: None,
                password_hash: PasswordHash::parse("$argon2id$x").unwrap(),
                role: Role::User,
                status: Status::Active,
            },
            now,
        )
    }

    #[test]
    fn new_users_start_at_version_one_and_round_trip_through_parts() {
        let user = sample(DateTime::UNIX_EPOCH);
        assert_eq!(user.version(), 1);
        assert_eq!(User::restore(user.clone().into_parts()).unwrap(), user);
        assert_eq!(user.clone().next_version().version(), 2);
    }

    #[test]
    fn a_stored_record_that_breaks_an_invariant_is_refused() {
        let user = sample(DateTime::UNIX_EPOCH);
        let mut parts = user.clone().into_parts();
        parts.version = 0;
        assert_eq!(User::restore(parts).unwrap_err().code, "invalid_version");
        for reason in [
            "  ".to_owned(),
            "x".repeat(User::MAX_STATUS_REASON_CHARS + 1),
        ] {
            let mut parts = user.clone().into_parts();
            parts.status_reason = Some(reason);
            assert_eq!(
                User::restore(parts).unwrap_err().code,
                "invalid_status_reason"
            );
        }
        let mut parts = user.into_parts();
        parts.status_reason = Some("é".repeat(User::MAX_STATUS_REASON_CHARS));
        assert!(User::restore(parts).is_ok(), "the bound counts characters");
    }

    #[test]
    fn status_changes_keep_their_reason_and_deletion_is_a_status() {
        let mut user = sample(DateTime::UNIX_EPOCH);
        user.change_status(Status::Suspended, Some("spam".into()), DateTime::UNIX_EPOCH)
            .expect("a live account changes status");
        assert_eq!(user.status_reason(), Some("spam"));
        assert!(!user.status().may_authenticate());
        user.delete(DateTime::UNIX_EPOCH)
            .expect("a live account is deleted");
        assert!(user.is_deleted());
    }

    #[test]
    fn deletion_is_its_own_operation_and_happens_once() {
        let now = DateTime::UNIX_EPOCH;
        let mut user = sample(now);
        let refused = user.change_status(Status::Deleted, None, now).unwrap_err();
        assert_eq!(refused.code, "use_delete");
        assert!(!user.is_deleted(), "a refused change changes nothing");
        user.delete(now).expect("the first deletion");
        let stored = user.clone();
        assert_eq!(user.delete(now).unwrap_err().code, "deleted");
        let revived = user.change_status(Status::Active, None, now).unwrap_err();
        assert_eq!(revived.code, "deleted");
        assert_eq!(user, stored, "a deleted account stays as it was");
    }
}
