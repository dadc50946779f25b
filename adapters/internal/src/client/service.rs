//! The account use cases over the service tier's service API, and what every service-API
//! client shares.
//!
//! Calls for an authenticated user carry that user's access token (from the [`Principal`]),
//! never a claimed identity: the service tier verifies it again, so the controller can do
//! nothing the end user may not.

use std::sync::Arc;
use std::time::Duration;

use arcana_domain::SessionId;
use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::auth::{ChangePassword, Login, Register};
use arcana_ports::usecases::{
    AccessToken, AuthError, AuthSession, AuthUseCases, ManagementError, Principal, RequestContext,
    SessionView,
};
use async_trait::async_trait;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rpc;
use crate::context::CallMeta;
use crate::convert::{self, Invalid};
use crate::failure::auth_error;
use crate::transport::{RemoteError, Transport, invoke};
use crate::wire;

pub(super) fn meta(principal: &Principal) -> CallMeta {
    CallMeta {
        request: principal.request.clone(),
        bearer: Some(principal.credential.clone()),
    }
}

fn anonymous(request: RequestContext) -> CallMeta {
    CallMeta {
        request,
        bearer: None,
    }
}

pub(super) async fn call<Req, Resp>(
    transport: &dyn Transport,
    path: &'static str,
    request: &Req,
    meta: &CallMeta,
) -> Result<Resp, RemoteError>
where
    Req: Message + Serialize,
    Resp: Message + Default + DeserializeOwned,
{
    invoke(transport, path, request, meta).await
}

fn bad_auth_answer(err: Invalid) -> AuthError {
    AuthError::Internal(err.context("the service tier answered a malformed message"))
}

pub(super) fn bad_management_answer(err: Invalid) -> ManagementError {
    ManagementError::Internal(err.context("the service tier answered a malformed message"))
}

fn auth_session(reply: wire::AuthSessionReply) -> Result<AuthSession, AuthError> {
    Ok(AuthSession {
        access_token: reply.access_token,
        refresh_token: reply.refresh_token,
        expires_in: Duration::from_millis(reply.expires_in_ms),
        user: convert::view(reply.user).map_err(bad_auth_answer)?,
    })
}

/// [`AuthUseCases`] on the service tier.
pub struct RemoteAuth {
    transport: Arc<dyn Transport>,
}

impl RemoteAuth {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

#[async_trait]
impl AuthUseCases for RemoteAuth {
    async fn register(&self, command: Register) -> Result<AuthSession, AuthError> {
        let request = wire::RegisterRequest {
            username: command.username,
            email: command.email,
            password: command.password.expose().to_owned(),
            display_name: command.display_name,
            client: Some(convert::client(command.client)),
        };
        let meta = anonymous(command.request);
        let reply = call(
            &*self.transport,
            rpc!("Accounts", "Register"),
            &request,
            &meta,
        )
        .await
        .map_err(auth_error)?;
        auth_session(reply)
    }

    async fn login(&self, command: Login) -> Result<AuthSession, AuthError> {
        let request = wire::LoginRequest {
            username_or_email: command.username_or_email,
            password: command.password.expose().to_owned(),
            client: Some(convert::client(command.client)),
        };
        let meta = anonymous(command.request);
        let reply = call(&*self.transport, rpc!("Accounts", "Login"), &request, &meta)
            .await
            .map_err(auth_error)?;
        auth_session(reply)
    }

    async fn refresh(
        &self,
        refresh_token: &str,
        client: ClientInfo,
        request: RequestContext,
    ) -> Result<AuthSession, AuthError> {
        let message = wire::RefreshRequest {
            refresh_token: refresh_token.to_owned(),
            client: Some(convert::client(client)),
        };
        let meta = anonymous(request);
        let reply = call(
            &*self.transport,
            rpc!("Accounts", "Refresh"),
            &message,
            &meta,
        )
        .await
        .map_err(auth_error)?;
        auth_session(reply)
    }

    async fn authenticate(
        &self,
        access_token: &str,
        request: RequestContext,
    ) -> Result<Principal, AuthError> {
        let credential = AccessToken::new(access_token);
        let meta = CallMeta {
            request,
            bearer: Some(credential.clone()),
        };
        let reply: wire::PrincipalReply = call(
            &*self.transport,
            rpc!("Accounts", "Authenticate"),
            &wire::Empty {},
            &meta,
        )
        .await
        .map_err(auth_error)?;
        Ok(Principal {
            user: convert::view(reply.user).map_err(bad_auth_answer)?,
            session_id: convert::session_id("session_id", &reply.session_id)
                .map_err(bad_auth_answer)?,
            token_id: reply.token_id,
            token_expires_at: convert::time("token_expires_at_us", reply.token_expires_at_us)
                .map_err(bad_auth_answer)?,
            credential,
            request: meta.request,
        })
    }

    async fn logout(&self, principal: &Principal, all_sessions: bool) -> Result<(), AuthError> {
        let request = wire::LogoutRequest { all_sessions };
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Accounts", "Logout"),
            &request,
            &meta(principal),
        )
        .await
        .map_err(auth_error)?;
        Ok(())
    }

    async fn list_sessions(&self, principal: &Principal) -> Result<Vec<SessionView>, AuthError> {
        let reply: wire::SessionViews = call(
            &*self.transport,
            rpc!("Accounts", "ListSessions"),
            &wire::Empty {},
            &meta(principal),
        )
        .await
        .map_err(auth_error)?;
        reply
            .items
            .into_iter()
            .map(|view| convert::view_of_session(view).map_err(bad_auth_answer))
            .collect()
    }

    async fn revoke_session(&self, principal: &Principal, id: SessionId) -> Result<(), AuthError> {
        let request = wire::Id {
            value: id.to_string(),
        };
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Accounts", "RevokeSession"),
            &request,
            &meta(principal),
        )
        .await
        .map_err(auth_error)?;
        Ok(())
    }

    async fn change_password(
        &self,
        principal: &Principal,
        command: ChangePassword,
    ) -> Result<(), AuthError> {
        let request = wire::ChangePasswordRequest {
            current_password: command.current_password.expose().to_owned(),
            new_password: command.new_password.expose().to_owned(),
        };
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Accounts", "ChangePassword"),
            &request,
            &meta(principal),
        )
        .await
        .map_err(auth_error)?;
        Ok(())
    }
}
