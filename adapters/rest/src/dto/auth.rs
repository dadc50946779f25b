//! Bodies of the sign-up, sign-in, token and session routes.

use arcana_domain::Password;
use arcana_domain::SessionId;
use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::auth::{ChangePassword, Login, Register};
use arcana_ports::usecases::{AuthSession, RequestContext, SessionView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::timestamp;
use super::users::UserDto;

// Request bodies holding a password or token derive no `Debug`, so they cannot reach a log.

#[derive(Deserialize, ToSchema)]
pub(crate) struct RegisterRequest {
    /// 3 to 32 letters, digits, `_`, `.` or `-`; compared case-insensitively.
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9_.-]{3,32}$")]
    username: String,
    /// An address the server accepts (the pattern is the ASCII subset of its rule).
    #[schema(
        max_length = 254,
        pattern = r"^[!-\-/-?A-~](?:[!-?A-~]{0,62}[!-\-/-?A-~])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    email: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    password: String,
    /// 1 to 64 characters once trimmed, no control characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    display_name: Option<String>,
}

impl RegisterRequest {
    pub(crate) fn into_command(self, client: ClientInfo, request: RequestContext) -> Register {
        Register {
            username: self.username,
            email: self.email,
            // The application applies the password policy, reporting it with the other fields.
            password: Password::candidate(&self.password),
            display_name: self.display_name,
            client,
            request,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct LoginRequest {
    username_or_email: String,
    #[schema(format = Password)]
    password: String,
}

impl LoginRequest {
    pub(crate) fn into_command(self, client: ClientInfo, request: RequestContext) -> Login {
        Login {
            username_or_email: self.username_or_email,
            password: Password::candidate(&self.password),
            client,
            request,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RefreshRequest {
    pub(crate) refresh_token: String,
}

#[derive(Debug, Default, ToSchema)]
pub(crate) struct LogoutRequest {
    /// Revoke every session of the account, not only this one (default `false`).
    pub(crate) all_sessions: Option<bool>,
}

/// Only from a JSON object: a derived `Deserialize` also takes an array of the fields in order,
/// so `[]` or `[true]` would pass for a body the document says is an object.
impl<'de> Deserialize<'de> for LogoutRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            all_sessions: Option<bool>,
        }
        let object = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let fields = Fields::deserialize(serde_json::Value::Object(object))
            .map_err(serde::de::Error::custom)?;
        Ok(Self {
            all_sessions: fields.all_sessions,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ChangePasswordRequest {
    #[schema(format = Password)]
    current_password: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    new_password: String,
}

impl From<ChangePasswordRequest> for ChangePassword {
    fn from(request: ChangePasswordRequest) -> Self {
        Self {
            current_password: Password::candidate(&request.current_password),
            new_password: Password::candidate(&request.new_password),
        }
    }
}

/// Tokens for a signed-in client. No `Debug`: it holds tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    access_token: String,
    /// Opaque, single-use: each refresh returns a new one and retires this one.
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
    user: UserDto,
}

impl From<AuthSession> for TokenResponse {
    fn from(session: AuthSession) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            token_type: "Bearer",
            expires_in: session.expires_in.as_secs(),
            user: UserDto::from(&session.user),
        }
    }
}

/// One signed-in device or client of the caller.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub(crate) struct SessionDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_used_at: String,
    /// Absolute end of the session, fixed at sign-in.
    #[schema(format = DateTime)]
    expires_at: String,
    /// When the session ends unless it is refreshed before (never after `expires_at`).
    #[schema(format = DateTime)]
    idle_expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    /// Whether this is the session of the token making the request.
    current: bool,
}

impl SessionDto {
    pub(crate) fn new(session: SessionView, current: SessionId) -> Self {
        Self {
            id: session.id.to_string(),
            created_at: timestamp(session.created_at),
            last_used_at: timestamp(session.last_used_at),
            expires_at: timestamp(session.expires_at),
            idle_expires_at: timestamp(session.idle_expires_at),
            current: session.id == current,
            user_agent: session.client.user_agent,
            ip: session.client.ip,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionList)]
pub(crate) struct SessionListDto {
    pub(crate) items: Vec<SessionDto>,
}
