//! User representations and the bodies of the user-management routes.

use arcana_domain::Password;
use arcana_ports::usecases::UserPage;
use arcana_ports::usecases::UserView;
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{explicit_null, timestamp};

/// A user account as clients see it. The password hash never leaves the server.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserDto {
    #[schema(format = Uuid)]
    id: String,
    username: String,
    email: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    /// `user`, `moderator`, `admin` or `superadmin`.
    role: &'static str,
    /// `pending_verification`, `active`, `suspended`, `locked` or `deleted`.
    status: &'static str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime)]
    last_login_at: Option<String>,
    /// Optimistic-concurrency version; also the `ETag`, to send back in `If-Match`.
    version: u64,
}

impl From<&UserView> for UserDto {
    fn from(user: &UserView) -> Self {
        Self {
            id: user.id().to_string(),
            username: user.username().as_str().to_owned(),
            email: user.email().as_str().to_owned(),
            display_name: user.display_name().map(|name| name.as_str().to_owned()),
            avatar_url: user.avatar_url().map(|url| url.as_str().to_owned()),
            role: user.role().as_str(),
            status: user.status().as_str(),
            created_at: timestamp(user.created_at()),
            updated_at: timestamp(user.updated_at()),
            last_login_at: user.last_login_at().map(timestamp),
            version: user.version(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserList)]
pub(crate) struct UserListDto {
    items: Vec<UserDto>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

impl From<UserPage> for UserListDto {
    fn from(page: UserPage) -> Self {
        Self {
            items: page.items.iter().map(UserDto::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Filters and paging of `GET /api/v1/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListUsersQuery {
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
    /// Only users with this role.
    #[param(schema_with = super::params::role)]
    role: Option<String>,
    /// Only users with this status.
    #[param(schema_with = super::params::user_status)]
    status: Option<String>,
    /// Case-insensitive search in username, email and display name.
    q: Option<String>,
}

impl From<ListUsersQuery> for ListUsers {
    fn from(query: ListUsersQuery) -> Self {
        Self {
            limit: query.limit,
            cursor: query.cursor,
            role: query.role,
            status: query.status,
            q: query.q,
        }
    }
}

/// No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CreateUserRequest {
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9_.-]{3,32}$")]
    username: String,
    #[schema(
        max_length = 254,
        pattern = r"^[!-\-/-?A-~](?:[!-?A-~]{0,62}[!-\-/-?A-~])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    email: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    password: String,
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    display_name: Option<String>,
    /// Defaults to `user`; must be a role the caller may grant.
    #[schema(schema_with = super::params::role)]
    role: Option<String>,
}

impl From<CreateUserRequest> for CreateUser {
    fn from(request: CreateUserRequest) -> Self {
        Self {
            username: request.username,
            email: request.email,
            // The application applies the password policy, reporting it with the other fields.
            password: Password::candidate(&request.password),
            display_name: request.display_name,
            role: request.role,
        }
    }
}

/// Absent fields stay as they are; `null` clears `display_name` or `avatar_url` (and is refused
/// for `username` and `email`, which cannot be cleared).
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    clippy::option_option,
    reason = "absent, null and a value are three different requests, as in `UpdateProfile`"
)]
pub(crate) struct UpdateUserRequest {
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String, required = false)]
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9_.-]{3,32}$")]
    username: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String, required = false)]
    #[schema(
        max_length = 254,
        pattern = r"^[!-\-/-?A-~](?:[!-?A-~]{0,62}[!-\-/-?A-~])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    email: Option<String>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>)]
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    display_name: Option<Option<String>>,
    /// An http(s) URL (printable ASCII, a host after the scheme).
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>, max_length = 2048,
        pattern = r#"^[hH][tT][tT][pP][sS]?://[!-"$-.0->@-~][!-~]*$"#)]
    avatar_url: Option<Option<String>>,
}

impl UpdateUserRequest {
    pub(crate) fn into_command(self, expected_version: Option<u64>) -> UpdateProfile {
        UpdateProfile {
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            avatar_url: self.avatar_url,
            expected_version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SetRoleRequest {
    /// Must be a role the caller may grant.
    #[schema(schema_with = super::params::role)]
    pub(crate) role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SetStatusRequest {
    /// Any status but `deleted` (use `DELETE /api/v1/users/{id}`).
    #[schema(schema_with = super::params::settable_status)]
    pub(crate) status: String,
    /// Why, for the audit log.
    pub(crate) reason: Option<String>,
}
