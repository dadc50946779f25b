//! Creation of the first superadmin, from the CLI or from configuration — the only ways to get
//! one, since open registration never grants a role.

use arcana_domain::error::FieldErrors;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::{NewUser, Password, Role, Status, User};
use arcana_ports::usecases::ManagementError;

use super::UserService;
use crate::identity::{self, NewIdentity};

/// What [`UserService::ensure_superadmin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Created,
    /// A superadmin with that username already exists; nothing changed (start-up seeding runs at
    /// every start).
    AlreadyPresent,
}

impl UserService {
    /// Creates an active superadmin unless one with this username exists.
    ///
    /// # Errors
    /// `Validation` for bad input, `Conflict` when the username or email belongs to an account
    /// that is not a superadmin (it is never promoted silently).
    pub async fn ensure_superadmin(
        &self,
        username: &str,
        email: &str,
        password: Password,
    ) -> Result<SeedOutcome, ManagementError> {
        let mut errors = FieldErrors::new();
        let identity = identity::parse(&mut errors, username, email, password, None);
        let NewIdentity {
            username,
            email,
            password,
            ..
        } = errors
            .finish_with(identity)
            .map_err(ManagementError::Validation)?;
        if let Some(existing) = self.ports.users.find_by_username(&username).await? {
            if existing.role() == Role::Superadmin && !existing.is_deleted() {
                return Ok(SeedOutcome::AlreadyPresent);
            }
            return Err(ManagementError::Conflict(
                arcana_ports::UniqueField::Username,
            ));
        }
        let now = self.ports.clock.now();
        let password_hash = self.ports.hasher.hash(password.as_password()).await?;
        let new = NewUser {
            username,
            email,
            display_name: None,
            password_hash,
            role: Role::Superadmin,
            status: Status::Active,
        };
        let user = User::register(new, now);
        self.ports.users.insert(&user).await?;
        let event = DomainEvent::new(
            EventKind::UserRegistered,
            None,
            Subject::User(user.id()),
            now,
        )
        .with_detail("superadmin created by operator");
        self.record.audit(event, None).await;
        Ok(SeedOutcome::Created)
    }
}
