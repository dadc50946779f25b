//! `arcana.user.v1.UserService`: user management. Who may do what (the rank rule) is decided
//! behind the port, so REST and gRPC cannot disagree; this module only translates.

use std::sync::Arc;

use arcana_domain::{FieldError, Password, UserId};
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use arcana_ports::usecases::{AuthUseCases, UserUseCases};
use tonic::{Request, Response, Status};

use crate::convert::{self, role_name, status_name};
use crate::errors;
use crate::extract::principal;
use crate::proto::user::v1 as pb;
use crate::proto::user::v1::user_service_server::UserService;

/// Serves `UserService` over whatever implements the driving ports.
pub(crate) struct GrpcUserService {
    pub(crate) auth: Arc<dyn AuthUseCases>,
    pub(crate) users: Arc<dyn UserUseCases>,
}

/// An id that is not a UUID cannot name anything: NOT_FOUND, as for an unknown one.
fn user_id(raw: &str) -> Result<UserId, Status> {
    UserId::parse(raw).map_err(|_| errors::not_found("user"))
}

#[tonic::async_trait]
impl UserService for GrpcUserService {
    async fn list(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let query = ListUsers {
            limit: body.limit,
            cursor: body.cursor,
            role: role_name(body.role).map(str::to_owned),
            status: status_name(body.status).map(str::to_owned),
            q: body.q,
        };
        let page = self
            .users
            .list(&actor, query)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::ListUsersResponse {
            items: page.items.iter().map(convert::user).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    async fn get(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let id = user_id(&request.into_inner().id)?;
        let found = self
            .users
            .get(&actor, id)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::GetUserResponse {
            user: Some(convert::user(&found)),
        }))
    }

    async fn create(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let command = CreateUser {
            username: body.username,
            email: body.email,
            // The application applies the password policy, reporting it with the other fields.
            password: Password::candidate(&body.password),
            display_name: body.display_name,
            role: role_name(body.role).map(str::to_owned),
        };
        let created = self
            .users
            .create(&actor, command)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::CreateUserResponse {
            user: Some(convert::user(&created)),
        }))
    }

    async fn update(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let id = user_id(&body.id)?;
        let changes = profile_changes(body).map_err(errors::validation)?;
        let updated = self
            .users
            .update(&actor, id, changes)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::UpdateUserResponse {
            user: Some(convert::user(&updated)),
        }))
    }

    async fn set_role(
        &self,
        request: Request<pb::SetRoleRequest>,
    ) -> Result<Response<pb::SetRoleResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let id = user_id(&body.id)?;
        // UNSPECIFIED grants nothing: the application reports the empty role as invalid.
        let role = role_name(body.role).unwrap_or_default();
        let updated = self
            .users
            .set_role(&actor, id, role)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::SetRoleResponse {
            user: Some(convert::user(&updated)),
        }))
    }

    async fn set_status(
        &self,
        request: Request<pb::SetStatusRequest>,
    ) -> Result<Response<pb::SetStatusResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let id = user_id(&body.id)?;
        let status = status_name(body.status).unwrap_or_default();
        let updated = self
            .users
            .set_status(&actor, id, status, body.reason)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::SetStatusResponse {
            user: Some(convert::user(&updated)),
        }))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let id = user_id(&request.into_inner().id)?;
        self.users
            .delete(&actor, id)
            .await
            .map_err(errors::from_management)?;
        Ok(Response::new(pb::DeleteUserResponse {}))
    }
}

/// Fields an update may name in its `update_mask`.
const UPDATABLE: [&str; 4] = ["username", "email", "display_name", "avatar_url"];

/// The partial update a request asks for. Without a mask every set field changes; with one,
/// exactly the named fields change and a named optional field left unset is cleared (AIP-134).
pub(crate) fn profile_changes(
    body: pb::UpdateUserRequest,
) -> Result<UpdateProfile, Vec<FieldError>> {
    let paths = body.update_mask.map(|mask| mask.paths).unwrap_or_default();
    let mut errors = Vec::new();
    for path in &paths {
        if !UPDATABLE.contains(&path.as_str()) {
            errors.push(FieldError {
                field: "update_mask".to_owned(),
                code: "unknown_field".into(),
                message: format!("`{path}` cannot be updated; use {}", UPDATABLE.join(", ")),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let named = |field: &str| paths.is_empty() || paths.iter().any(|path| path == field);
    let clears = !paths.is_empty();
    let optional = |field: &str, value: Option<String>| match value {
        Some(value) if named(field) => Some(Some(value)),
        None if clears && named(field) => Some(None),
        _ => None,
    };
    // A named required field left unset is sent as empty, which the application reports.
    let required = |field: &str, value: Option<String>| match value {
        Some(value) if named(field) => Some(value),
        None if clears && named(field) => Some(String::new()),
        _ => None,
    };
    Ok(UpdateProfile {
        username: required("username", body.username),
        email: required("email", body.email),
        display_name: optional("display_name", body.display_name),
        avatar_url: optional("avatar_url", body.avatar_url),
        expected_version: body.expected_version,
    })
}
