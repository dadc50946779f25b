//! The service API over the service tier's application: what the controller may ask.
//!
//! Every call for a user starts by verifying that user's access token from the metadata, with
//! the very `authenticate` the monolith's extractors use; the use case then applies its own
//! rules to that principal. A controller holding no valid token can do nothing but register,
//! log in and refresh, exactly like an anonymous client of the public API.

use std::sync::Arc;

use arcana_domain::{Password, UserId};
use arcana_ports::usecases::audit::AuditFilter;
use arcana_ports::usecases::auth::{ChangePassword, Login, Register};
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use arcana_ports::usecases::{
    AuditUseCases, AuthError, AuthSession, AuthUseCases, JobsUseCases, ManagementError, Principal,
    TokenRejection, UserUseCases, UserView,
};
use async_trait::async_trait;

use super::jobs::{JOBS, WATCH};
use super::plugins::{PLUGINS, ServicePlugins};
use super::{AnswerStream, Call, InternalApi, Refusal};
use crate::convert::{self, micros};
use crate::failure;
use crate::wire;

const ACCOUNTS: &str = "arcana.internal.v1.Accounts";
const USERS: &str = "arcana.internal.v1.Users";
const AUDIT: &str = "arcana.internal.v1.Audit";

/// What the service tier serves: the use cases, nothing below them.
pub struct ServiceApi {
    pub auth: Arc<dyn AuthUseCases>,
    pub users: Arc<dyn UserUseCases>,
    pub audit: Arc<dyn AuditUseCases>,
    /// The job admin use cases (admin only, checked behind the port).
    pub jobs: Arc<dyn JobsUseCases>,
    /// The plugin host, where `plugins.enabled`; without it the plugin API answers as a
    /// deployment without plugins.
    pub plugins: Option<ServicePlugins>,
}

fn auth(error: AuthError) -> Refusal {
    Refusal::Failed(failure::from_auth(error))
}

fn management(error: ManagementError) -> Refusal {
    Refusal::Failed(failure::from_management(error))
}

fn malformed(err: &anyhow::Error) -> Refusal {
    Refusal::Failed(failure::malformed(err))
}

fn session_reply(session: AuthSession) -> wire::AuthSessionReply {
    wire::AuthSessionReply {
        access_token: session.access_token,
        refresh_token: session.refresh_token,
        expires_in_ms: u64::try_from(session.expires_in.as_millis()).unwrap_or(u64::MAX),
        user: Some(convert::user_view(&session.user)),
    }
}

fn user_reply(call: &Call, user: &UserView) -> Result<Vec<u8>, Refusal> {
    call.reply(&convert::user_view(user))
}

fn user_id(raw: &str) -> Result<UserId, Refusal> {
    convert::parsed("id", UserId::parse(raw)).map_err(|e| malformed(&e))
}

#[async_trait]
impl InternalApi for ServiceApi {
    fn services(&self) -> &'static [&'static str] {
        &[ACCOUNTS, USERS, AUDIT, JOBS, PLUGINS]
    }

    fn streams(&self) -> &'static [&'static str] {
        &[WATCH]
    }

    async fn handle(&self, service: &str, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        match service {
            ACCOUNTS => match method {
                "Register" | "Login" | "Refresh" => self.sign_in(method, call).await,
                "Authenticate" | "Logout" | "ListSessions" | "RevokeSession" | "ChangePassword" => {
                    self.own_account(method, call).await
                }
                _ => Err(Refusal::UnknownMethod),
            },
            USERS => match method {
                "Create" | "Update" | "SetRole" | "SetStatus" => {
                    self.change_user(method, call).await
                }
                _ => self.users(method, call).await,
            },
            AUDIT if method == "Query" => self.audit(call).await,
            JOBS => self.jobs(method, call).await,
            PLUGINS => self.plugins(method, call).await,
            _ => Err(Refusal::UnknownMethod),
        }
    }

    async fn open_stream(
        &self,
        service: &str,
        method: &str,
        call: Call,
    ) -> Result<AnswerStream, Refusal> {
        match (service, method) {
            (JOBS, "Watch") => self.watch_jobs(call).await,
            _ => Err(Refusal::UnknownMethod),
        }
    }
}

impl ServiceApi {
    /// The end user behind the call's bearer token, verified here.
    async fn principal(&self, call: &Call) -> Result<Principal, AuthError> {
        let token = call
            .meta
            .bearer
            .as_ref()
            .ok_or(AuthError::InvalidToken(TokenRejection::Missing))?;
        self.auth
            .authenticate(token.expose(), call.meta.request.clone())
            .await
    }

    /// [`ServiceApi::principal`], refused as the port refuses an unauthenticated caller.
    pub(super) async fn authenticated(&self, call: &Call) -> Result<Principal, Refusal> {
        self.principal(call).await.map_err(auth)
    }

    async fn sign_in(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let request = call.meta.request.clone();
        let session = match method {
            "Register" => {
                let body: wire::RegisterRequest = call.decode()?;
                let command = Register {
                    username: body.username,
                    email: body.email,
                    password: Password::candidate(&body.password),
                    display_name: body.display_name,
                    client: convert::client_info(body.client),
                    request,
                };
                self.auth.register(command).await
            }
            "Login" => {
                let body: wire::LoginRequest = call.decode()?;
                let command = Login {
                    username_or_email: body.username_or_email,
                    password: Password::candidate(&body.password),
                    client: convert::client_info(body.client),
                    request,
                };
                self.auth.login(command).await
            }
            _ => {
                let body: wire::RefreshRequest = call.decode()?;
                let client = convert::client_info(body.client);
                self.auth
                    .refresh(&body.refresh_token, client, request)
                    .await
            }
        };
        call.reply(&session_reply(session.map_err(auth)?))
    }

    async fn own_account(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let principal = self.principal(&call).await.map_err(auth)?;
        match method {
            "Authenticate" => call.reply(&wire::PrincipalReply {
                user: Some(convert::user_view(&principal.user)),
                session_id: principal.session_id.to_string(),
                token_id: principal.token_id.clone(),
                token_expires_at_us: micros(principal.token_expires_at),
            }),
            "Logout" => {
                let body: wire::LogoutRequest = call.decode()?;
                self.auth
                    .logout(&principal, body.all_sessions)
                    .await
                    .map_err(auth)?;
                call.reply(&wire::Empty {})
            }
            "ListSessions" => {
                let sessions = self.auth.list_sessions(&principal).await.map_err(auth)?;
                call.reply(&wire::SessionViews {
                    items: sessions.iter().map(convert::session_view).collect(),
                })
            }
            "RevokeSession" => {
                let body: wire::Id = call.decode()?;
                let id = convert::session_id("value", &body.value).map_err(|e| malformed(&e))?;
                self.auth
                    .revoke_session(&principal, id)
                    .await
                    .map_err(auth)?;
                call.reply(&wire::Empty {})
            }
            _ => {
                let body: wire::ChangePasswordRequest = call.decode()?;
                let command = ChangePassword {
                    current_password: Password::candidate(&body.current_password),
                    new_password: Password::candidate(&body.new_password),
                };
                self.auth
                    .change_password(&principal, command)
                    .await
                    .map_err(auth)?;
                call.reply(&wire::Empty {})
            }
        }
    }

    async fn users(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let actor = self.principal(&call).await.map_err(auth)?;
        let users = &self.users;
        match method {
            "List" => {
                let body: wire::ListUsersRequest = call.decode()?;
                let query = ListUsers {
                    limit: body.limit,
                    cursor: body.cursor,
                    role: body.role,
                    status: body.status,
                    q: body.q,
                };
                let page = users.list(&actor, query).await.map_err(management)?;
                call.reply(&wire::UserPage {
                    items: page.items.iter().map(convert::user_view).collect(),
                    next_cursor: page.next_cursor,
                })
            }
            "Get" => {
                let body: wire::Id = call.decode()?;
                let user = users
                    .get(&actor, user_id(&body.value)?)
                    .await
                    .map_err(management)?;
                user_reply(&call, &user)
            }
            "Delete" => {
                let body: wire::Id = call.decode()?;
                users
                    .delete(&actor, user_id(&body.value)?)
                    .await
                    .map_err(management)?;
                call.reply(&wire::Empty {})
            }
            _ => Err(Refusal::UnknownMethod),
        }
    }

    /// Creation and the changes an administrator (or the user, for the profile) makes.
    async fn change_user(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let actor = self.principal(&call).await.map_err(auth)?;
        let users = &self.users;
        match method {
            "Create" => {
                let body: wire::CreateUserRequest = call.decode()?;
                let command = CreateUser {
                    username: body.username,
                    email: body.email,
                    password: Password::candidate(&body.password),
                    display_name: body.display_name,
                    role: body.role,
                };
                let user = users.create(&actor, command).await.map_err(management)?;
                user_reply(&call, &user)
            }
            "Update" => {
                let body: wire::UpdateUserRequest = call.decode()?;
                let changes = UpdateProfile {
                    username: body.username,
                    email: body.email,
                    display_name: body.display_name.map(|patch| patch.value),
                    avatar_url: body.avatar_url.map(|patch| patch.value),
                    expected_version: body.expected_version,
                };
                let id = user_id(&body.id)?;
                let user = users
                    .update(&actor, id, changes)
                    .await
                    .map_err(management)?;
                user_reply(&call, &user)
            }
            "SetRole" => {
                let body: wire::SetRoleRequest = call.decode()?;
                let id = user_id(&body.id)?;
                let user = users
                    .set_role(&actor, id, &body.role)
                    .await
                    .map_err(management)?;
                user_reply(&call, &user)
            }
            "SetStatus" => {
                let body: wire::SetStatusRequest = call.decode()?;
                let id = user_id(&body.id)?;
                let user = users
                    .set_status(&actor, id, &body.status, body.reason)
                    .await
                    .map_err(management)?;
                user_reply(&call, &user)
            }
            _ => Err(Refusal::UnknownMethod),
        }
    }

    async fn audit(&self, call: Call) -> Result<Vec<u8>, Refusal> {
        let actor = self.principal(&call).await.map_err(auth)?;
        let body: wire::AuditFilter = call.decode()?;
        let filter = AuditFilter {
            actor: body.actor,
            subject: body.subject,
            action: body.action,
            cursor: body.cursor,
            limit: body.limit,
        };
        let page = self.audit.query(&actor, filter).await.map_err(management)?;
        call.reply(&wire::AuditPage {
            items: page.items.iter().map(convert::audit_record).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
