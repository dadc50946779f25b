//! User management under the rank rule: the `UserUseCases` driving port.

mod admin;
mod directory;
mod seed;

pub use seed::SeedOutcome;

use arcana_domain::{Role, User, UserId};
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use arcana_ports::usecases::{ManagementError, Principal, UserPage, UserUseCases, UserView};
use async_trait::async_trait;

use crate::context::{AuthSettings, Ports};
use crate::record::Recorder;

/// Implements [`UserUseCases`] over the driven ports.
pub struct UserService {
    ports: Ports,
    settings: AuthSettings,
    record: Recorder,
}

impl UserService {
    pub fn new(ports: Ports, settings: AuthSettings) -> Self {
        let record = Recorder::new(ports.audit.clone(), ports.events.clone());
        Self {
            ports,
            settings,
            record,
        }
    }

    /// A user that exists and is not deleted; deleted users are gone for every management purpose.
    async fn live_user(&self, id: UserId) -> Result<User, ManagementError> {
        match self.ports.users.find_by_id(id).await? {
            Some(user) if !user.is_deleted() => Ok(user),
            _ => Err(ManagementError::NotFound),
        }
    }
}

/// Refuses callers below `minimum`, before anything is looked up, so that a refusal says nothing
/// about whether the target exists.
fn require(actor: &Principal, minimum: Role) -> Result<(), ManagementError> {
    if actor.user.role() >= minimum {
        Ok(())
    } else {
        Err(ManagementError::Forbidden)
    }
}

#[async_trait]
impl UserUseCases for UserService {
    #[tracing::instrument(level = "debug", name = "users.list", skip_all)]
    async fn list(&self, actor: &Principal, query: ListUsers) -> Result<UserPage, ManagementError> {
        self.list_users(actor, query).await
    }

    #[tracing::instrument(level = "debug", name = "users.get", skip_all)]
    async fn get(&self, actor: &Principal, id: UserId) -> Result<UserView, ManagementError> {
        if actor.user.id() != id {
            require(actor, Role::Moderator)?;
        }
        self.live_user(id).await.map(UserView::from)
    }

    #[tracing::instrument(level = "debug", name = "users.create", skip_all)]
    async fn create(
        &self,
        actor: &Principal,
        command: CreateUser,
    ) -> Result<UserView, ManagementError> {
        self.create_user(actor, command).await.map(UserView::from)
    }

    #[tracing::instrument(level = "debug", name = "users.update", skip_all)]
    async fn update(
        &self,
        actor: &Principal,
        id: UserId,
        changes: UpdateProfile,
    ) -> Result<UserView, ManagementError> {
        self.update_profile(actor, id, changes)
            .await
            .map(UserView::from)
    }

    #[tracing::instrument(level = "debug", name = "users.set_role", skip_all)]
    async fn set_role(
        &self,
        actor: &Principal,
        id: UserId,
        role: &str,
    ) -> Result<UserView, ManagementError> {
        self.change_role(actor, id, role).await.map(UserView::from)
    }

    #[tracing::instrument(level = "debug", name = "users.set_status", skip_all)]
    async fn set_status(
        &self,
        actor: &Principal,
        id: UserId,
        status: &str,
        reason: Option<String>,
    ) -> Result<UserView, ManagementError> {
        self.change_status(actor, id, status, reason)
            .await
            .map(UserView::from)
    }

    #[tracing::instrument(level = "debug", name = "users.delete", skip_all)]
    async fn delete(&self, actor: &Principal, id: UserId) -> Result<(), ManagementError> {
        self.delete_user(actor, id).await
    }
}
