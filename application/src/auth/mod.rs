//! Accounts and sessions: the `AuthUseCases` driving port.

mod account;
mod login;
mod refresh;
mod sessions;
pub(crate) mod throttle;

use arcana_domain::session::ClientInfo;
use arcana_domain::{SessionId, User};
use arcana_ports::usecases::auth::{ChangePassword, Login, Register};
use arcana_ports::usecases::{
    AuthError, AuthSession, AuthUseCases, Principal, RequestContext, SessionView,
};
use async_trait::async_trait;

use crate::context::{AuthSettings, Ports};
use crate::record::Recorder;

/// Implements [`AuthUseCases`] over the driven ports.
pub struct AuthService {
    ports: Ports,
    settings: AuthSettings,
    record: Recorder,
}

impl AuthService {
    pub fn new(ports: Ports, settings: AuthSettings) -> Self {
        let record = Recorder::new(ports.audit.clone(), ports.events.clone());
        Self {
            ports,
            settings,
            record,
        }
    }
}

#[async_trait]
impl AuthUseCases for AuthService {
    #[tracing::instrument(level = "debug", name = "auth.register", skip_all)]
    async fn register(&self, command: Register) -> Result<AuthSession, AuthError> {
        self.register_account(command).await
    }

    #[tracing::instrument(level = "debug", name = "auth.login", skip_all)]
    async fn login(&self, command: Login) -> Result<AuthSession, AuthError> {
        self.sign_in(command).await
    }

    #[tracing::instrument(level = "debug", name = "auth.refresh", skip_all)]
    async fn refresh(
        &self,
        refresh_token: &str,
        client: ClientInfo,
        _request: RequestContext,
    ) -> Result<AuthSession, AuthError> {
        self.rotate(refresh_token, client).await
    }

    #[tracing::instrument(level = "debug", name = "auth.authenticate", skip_all)]
    async fn authenticate(
        &self,
        access_token: &str,
        request: RequestContext,
    ) -> Result<Principal, AuthError> {
        self.principal_for(access_token, request).await
    }

    #[tracing::instrument(level = "debug", name = "auth.logout", skip_all)]
    async fn logout(&self, principal: &Principal, all_sessions: bool) -> Result<(), AuthError> {
        self.sign_out(principal, all_sessions).await
    }

    #[tracing::instrument(level = "debug", name = "auth.list_sessions", skip_all)]
    async fn list_sessions(&self, principal: &Principal) -> Result<Vec<SessionView>, AuthError> {
        let now = self.ports.clock.now();
        let sessions = self
            .ports
            .sessions
            .list_live_for_user(principal.user.id(), now)
            .await?;
        Ok(sessions.into_iter().map(SessionView::from).collect())
    }

    #[tracing::instrument(level = "debug", name = "auth.revoke_session", skip_all)]
    async fn revoke_session(&self, principal: &Principal, id: SessionId) -> Result<(), AuthError> {
        self.revoke_own_session(principal, id).await
    }

    #[tracing::instrument(level = "debug", name = "auth.change_password", skip_all)]
    async fn change_password(
        &self,
        principal: &Principal,
        command: ChangePassword,
    ) -> Result<(), AuthError> {
        self.replace_password(principal, command).await
    }
}

/// Whether `user` may hold a live session.
fn may_sign_in(user: &User) -> Result<(), AuthError> {
    if user.status().may_authenticate() {
        Ok(())
    } else {
        Err(AuthError::AccountDisabled(user.status()))
    }
}
