//! User management and the audit log over the service tier's service API, for the controller.
//! Every call carries the acting user's access token, which the service tier verifies again.

use std::sync::Arc;

use arcana_domain::UserId;
use arcana_ports::usecases::audit::AuditFilter;
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use arcana_ports::usecases::{
    AuditPage, AuditUseCases, ManagementError, Principal, UserPage, UserUseCases, UserView,
};
use async_trait::async_trait;
use prost::Message;
use serde::Serialize;

use super::rpc;
use super::service::{bad_management_answer, call, meta};
use crate::convert;
use crate::failure::management_error;
use crate::transport::Transport;
use crate::wire;

/// [`UserUseCases`] on the service tier.
pub struct RemoteUsers {
    transport: Arc<dyn Transport>,
}

impl RemoteUsers {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }

    async fn user<Req: Message + Serialize>(
        &self,
        path: &'static str,
        actor: &Principal,
        request: &Req,
    ) -> Result<UserView, ManagementError> {
        let reply: wire::UserView = call(&*self.transport, path, request, &meta(actor))
            .await
            .map_err(management_error)?;
        convert::view(Some(reply)).map_err(bad_management_answer)
    }
}

fn id(id: UserId) -> wire::Id {
    wire::Id {
        value: id.to_string(),
    }
}

#[expect(
    clippy::option_option,
    reason = "the port's patch of an optional field: leave, clear or set"
)]
fn patch(change: Option<Option<String>>) -> Option<wire::Patch> {
    change.map(|value| wire::Patch { value })
}

#[async_trait]
impl UserUseCases for RemoteUsers {
    async fn list(&self, actor: &Principal, query: ListUsers) -> Result<UserPage, ManagementError> {
        let request = wire::ListUsersRequest {
            limit: query.limit,
            cursor: query.cursor,
            role: query.role,
            status: query.status,
            q: query.q,
        };
        let page: wire::UserPage = call(
            &*self.transport,
            rpc!("Users", "List"),
            &request,
            &meta(actor),
        )
        .await
        .map_err(management_error)?;
        Ok(UserPage {
            items: page
                .items
                .into_iter()
                .map(|view| convert::view(Some(view)))
                .collect::<Result<_, _>>()
                .map_err(bad_management_answer)?,
            next_cursor: page.next_cursor,
        })
    }

    async fn get(&self, actor: &Principal, user: UserId) -> Result<UserView, ManagementError> {
        self.user(rpc!("Users", "Get"), actor, &id(user)).await
    }

    async fn create(
        &self,
        actor: &Principal,
        command: CreateUser,
    ) -> Result<UserView, ManagementError> {
        let request = wire::CreateUserRequest {
            username: command.username,
            email: command.email,
            password: command.password.expose().to_owned(),
            display_name: command.display_name,
            role: command.role,
        };
        self.user(rpc!("Users", "Create"), actor, &request).await
    }

    async fn update(
        &self,
        actor: &Principal,
        user: UserId,
        changes: UpdateProfile,
    ) -> Result<UserView, ManagementError> {
        let request = wire::UpdateUserRequest {
            id: user.to_string(),
            username: changes.username,
            email: changes.email,
            display_name: patch(changes.display_name),
            avatar_url: patch(changes.avatar_url),
            expected_version: changes.expected_version,
        };
        self.user(rpc!("Users", "Update"), actor, &request).await
    }

    async fn set_role(
        &self,
        actor: &Principal,
        user: UserId,
        role: &str,
    ) -> Result<UserView, ManagementError> {
        let request = wire::SetRoleRequest {
            id: user.to_string(),
            role: role.to_owned(),
        };
        self.user(rpc!("Users", "SetRole"), actor, &request).await
    }

    async fn set_status(
        &self,
        actor: &Principal,
        user: UserId,
        status: &str,
        reason: Option<String>,
    ) -> Result<UserView, ManagementError> {
        let request = wire::SetStatusRequest {
            id: user.to_string(),
            status: status.to_owned(),
            reason,
        };
        self.user(rpc!("Users", "SetStatus"), actor, &request).await
    }

    async fn delete(&self, actor: &Principal, user: UserId) -> Result<(), ManagementError> {
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Users", "Delete"),
            &id(user),
            &meta(actor),
        )
        .await
        .map_err(management_error)?;
        Ok(())
    }
}

/// [`AuditUseCases`] on the service tier.
pub struct RemoteAudit {
    transport: Arc<dyn Transport>,
}

impl RemoteAudit {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

#[async_trait]
impl AuditUseCases for RemoteAudit {
    async fn query(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<AuditPage, ManagementError> {
        let request = wire::AuditFilter {
            actor: filter.actor,
            subject: filter.subject,
            action: filter.action,
            cursor: filter.cursor,
            limit: filter.limit,
        };
        let page: wire::AuditPage = call(
            &*self.transport,
            rpc!("Audit", "Query"),
            &request,
            &meta(actor),
        )
        .await
        .map_err(management_error)?;
        Ok(AuditPage {
            items: page
                .items
                .into_iter()
                .map(convert::audit_entry)
                .collect::<Result<_, _>>()
                .map_err(bad_management_answer)?,
            next_cursor: page.next_cursor,
        })
    }
}
