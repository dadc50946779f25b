//! `arcana.auth.v1.AuthService`: registration, sign-in, token rotation, token validation and the
//! caller's own sessions, over the same `AuthUseCases` as REST.

use std::sync::Arc;

use arcana_domain::{Password, SessionId};
use arcana_ports::usecases::auth::{ChangePassword, Login, Register};
use arcana_ports::usecases::{AuthError, AuthSession, AuthUseCases, Principal, TokenRejection};
use tonic::{Request, Response, Status};

use crate::convert;
use crate::errors;
use crate::extract::{client_info, principal, request_context};
use crate::proto::auth::v1 as pb;
use crate::proto::auth::v1::auth_service_server::AuthService;

/// Serves `AuthService` over whatever implements the driving port.
pub(crate) struct GrpcAuthService {
    pub(crate) auth: Arc<dyn AuthUseCases>,
}

/// Register, Login and Refresh answer with the same fields (the REST token response), in one
/// message per RPC so that each can evolve on its own.
macro_rules! token_response {
    ($message:ty) => {
        impl From<AuthSession> for $message {
            fn from(session: AuthSession) -> Self {
                Self {
                    access_token: session.access_token,
                    refresh_token: session.refresh_token,
                    token_type: "Bearer".to_owned(),
                    expires_in: session.expires_in.as_secs(),
                    user: Some(convert::user(&session.user)),
                }
            }
        }
    };
}

token_response!(pb::RegisterResponse);
token_response!(pb::LoginResponse);
token_response!(pb::RefreshResponse);

#[tonic::async_trait]
impl AuthService for GrpcAuthService {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let client = client_info(&request);
        let context = request_context(request.metadata());
        let body = request.into_inner();
        let command = Register {
            username: body.username,
            email: body.email,
            // The application applies the password policy, reporting it with the other fields.
            password: Password::candidate(&body.password),
            display_name: body.display_name,
            client,
            request: context,
        };
        let session = self
            .auth
            .register(command)
            .await
            .map_err(errors::from_auth)?;
        Ok(Response::new(session.into()))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let client = client_info(&request);
        let context = request_context(request.metadata());
        let body = request.into_inner();
        let command = Login {
            username_or_email: body.username_or_email,
            password: Password::candidate(&body.password),
            client,
            request: context,
        };
        let session = self.auth.login(command).await.map_err(errors::from_auth)?;
        Ok(Response::new(session.into()))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::RefreshResponse>, Status> {
        let client = client_info(&request);
        let context = request_context(request.metadata());
        let token = request.into_inner().refresh_token;
        let session = self
            .auth
            .refresh(&token, client, context)
            .await
            .map_err(errors::from_auth)?;
        Ok(Response::new(session.into()))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let caller = principal(self.auth.as_ref(), &request).await?;
        let all_sessions = request.into_inner().all_sessions;
        self.auth
            .logout(&caller, all_sessions)
            .await
            .map_err(errors::from_auth)?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn me(
        &self,
        request: Request<pb::MeRequest>,
    ) -> Result<Response<pb::MeResponse>, Status> {
        let caller = principal(self.auth.as_ref(), &request).await?;
        Ok(Response::new(pb::MeResponse {
            user: Some(convert::user(&caller.user)),
        }))
    }

    async fn validate_token(
        &self,
        request: Request<pb::ValidateTokenRequest>,
    ) -> Result<Response<pb::ValidateTokenResponse>, Status> {
        let context = request_context(request.metadata());
        let token = request.into_inner().access_token;
        let outcome = if token.is_empty() {
            Err(AuthError::InvalidToken(TokenRejection::Missing))
        } else {
            self.auth.authenticate(&token, context).await
        };
        match outcome {
            Ok(principal) => Ok(Response::new(validated(&principal))),
            Err(AuthError::InvalidToken(rejection)) => {
                Ok(Response::new(pb::ValidateTokenResponse {
                    valid: false,
                    rejection: wire_rejection(rejection).into(),
                    ..pb::ValidateTokenResponse::default()
                }))
            }
            Err(other) => Err(errors::from_auth(other)),
        }
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let caller = principal(self.auth.as_ref(), &request).await?;
        let sessions = self
            .auth
            .list_sessions(&caller)
            .await
            .map_err(errors::from_auth)?;
        let items = sessions
            .into_iter()
            .map(|session| convert::session(session, caller.session_id))
            .collect();
        Ok(Response::new(pb::ListSessionsResponse { items }))
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let caller = principal(self.auth.as_ref(), &request).await?;
        // An id that is not a UUID cannot name anything: NOT_FOUND, as for an unknown one.
        let id =
            SessionId::parse(&request.into_inner().id).map_err(|_| errors::not_found("session"))?;
        self.auth
            .revoke_session(&caller, id)
            .await
            .map_err(errors::from_auth)?;
        Ok(Response::new(pb::RevokeSessionResponse {}))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let caller = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let command = ChangePassword {
            current_password: Password::candidate(&body.current_password),
            new_password: Password::candidate(&body.new_password),
        };
        self.auth
            .change_password(&caller, command)
            .await
            .map_err(errors::from_auth)?;
        Ok(Response::new(pb::ChangePasswordResponse {}))
    }
}

fn validated(principal: &Principal) -> pb::ValidateTokenResponse {
    pb::ValidateTokenResponse {
        valid: true,
        rejection: pb::TokenRejection::Unspecified.into(),
        user_id: principal.user.id().to_string(),
        role: convert::role(principal.user.role()).into(),
        session_id: principal.session_id.to_string(),
        expires_at: Some(convert::timestamp(principal.token_expires_at)),
    }
}

/// Refresh-token rejections cannot come from an access token; they would mean the session is
/// gone, which is what `REVOKED` tells.
fn wire_rejection(rejection: TokenRejection) -> pb::TokenRejection {
    match rejection {
        TokenRejection::Missing => pb::TokenRejection::Missing,
        TokenRejection::Invalid => pb::TokenRejection::Invalid,
        TokenRejection::Expired => pb::TokenRejection::Expired,
        TokenRejection::Revoked | TokenRejection::Reused | TokenRejection::Superseded => {
            pb::TokenRejection::Revoked
        }
    }
}
