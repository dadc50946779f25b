//! Accounts: the full record (storage API, hash included) and the view (service API, none).

use arcana_domain::{
    DisplayName, Email, PasswordHash, ProfileUrl, Role, Status, User, UserId, UserParts, Username,
};
use arcana_ports::usecases::{UserView, UserViewParts};
use arcana_ports::users::UserQuery;

use super::{Invalid, micros, optional_time, parsed, time};
use crate::wire;

pub(crate) fn user_record(user: &User) -> wire::UserRecord {
    wire::UserRecord {
        id: user.id().to_string(),
        username: user.username().as_str().to_owned(),
        email: user.email().as_str().to_owned(),
        display_name: user.display_name().map(|name| name.as_str().to_owned()),
        avatar_url: user.avatar_url().map(|url| url.as_str().to_owned()),
        role: user.role().as_str().to_owned(),
        status: user.status().as_str().to_owned(),
        status_reason: user.status_reason().map(str::to_owned),
        password_hash: user.password_hash().as_str().to_owned(),
        created_at_us: micros(user.created_at()),
        updated_at_us: micros(user.updated_at()),
        last_login_at_us: user.last_login_at().map(micros),
        version: user.version(),
    }
}

/// A stored user: the same profile fields as a view, parsed the same way, plus what only
/// storage holds (the hash, the status reason).
pub(crate) fn user(record: wire::UserRecord) -> Result<User, Invalid> {
    let password_hash = parsed("password_hash", PasswordHash::parse(&record.password_hash))?;
    let status_reason = record.status_reason;
    let profile = view(Some(wire::UserView {
        id: record.id,
        username: record.username,
        email: record.email,
        display_name: record.display_name,
        avatar_url: record.avatar_url,
        role: record.role,
        status: record.status,
        created_at_us: record.created_at_us,
        updated_at_us: record.updated_at_us,
        last_login_at_us: record.last_login_at_us,
        version: record.version,
    }))?;
    parsed(
        "user",
        User::restore(UserParts {
            id: profile.id(),
            username: profile.username().clone(),
            email: profile.email().clone(),
            display_name: profile.display_name().cloned(),
            avatar_url: profile.avatar_url().cloned(),
            role: profile.role(),
            status: profile.status(),
            status_reason,
            password_hash,
            created_at: profile.created_at(),
            updated_at: profile.updated_at(),
            last_login_at: profile.last_login_at(),
            version: profile.version(),
        }),
    )
}

pub(crate) fn maybe_user(record: Option<wire::UserRecord>) -> Result<Option<User>, Invalid> {
    record.map(user).transpose()
}

pub(crate) fn user_view(user: &UserView) -> wire::UserView {
    wire::UserView {
        id: user.id().to_string(),
        username: user.username().as_str().to_owned(),
        email: user.email().as_str().to_owned(),
        display_name: user.display_name().map(|name| name.as_str().to_owned()),
        avatar_url: user.avatar_url().map(|url| url.as_str().to_owned()),
        role: user.role().as_str().to_owned(),
        status: user.status().as_str().to_owned(),
        created_at_us: micros(user.created_at()),
        updated_at_us: micros(user.updated_at()),
        last_login_at_us: user.last_login_at().map(micros),
        version: user.version(),
    }
}

pub(crate) fn view(message: Option<wire::UserView>) -> Result<UserView, Invalid> {
    let message = message.ok_or_else(|| anyhow::anyhow!("the user is missing"))?;
    Ok(UserView::from(UserViewParts {
        id: parsed("id", UserId::parse(&message.id))?,
        username: parsed("username", Username::parse(&message.username))?,
        email: parsed("email", Email::parse(&message.email))?,
        display_name: message
            .display_name
            .as_deref()
            .map(|name| parsed("display_name", DisplayName::parse(name)))
            .transpose()?,
        avatar_url: message
            .avatar_url
            .as_deref()
            .map(|url| parsed("avatar_url", ProfileUrl::parse(url)))
            .transpose()?,
        role: parsed("role", Role::parse(&message.role))?,
        status: parsed("status", Status::parse(&message.status))?,
        created_at: time("created_at_us", message.created_at_us)?,
        updated_at: time("updated_at_us", message.updated_at_us)?,
        last_login_at: optional_time("last_login_at_us", message.last_login_at_us)?,
        version: message.version,
    }))
}

pub(crate) fn user_query(query: &UserQuery) -> wire::UserQuery {
    wire::UserQuery {
        after: query.after.map(|id| id.to_string()),
        limit: u64::try_from(query.limit).unwrap_or(u64::MAX),
        role: query.role.map(|role| role.as_str().to_owned()),
        status: query.status.map(|status| status.as_str().to_owned()),
        text: query.text.clone(),
    }
}

pub(crate) fn query(message: wire::UserQuery) -> Result<UserQuery, Invalid> {
    Ok(UserQuery {
        after: message
            .after
            .as_deref()
            .map(|id| parsed("after", UserId::parse(id)))
            .transpose()?,
        limit: usize::try_from(message.limit).unwrap_or(usize::MAX),
        role: message
            .role
            .as_deref()
            .map(|role| parsed("role", Role::parse(role)))
            .transpose()?,
        status: message
            .status
            .as_deref()
            .map(|status| parsed("status", Status::parse(status)))
            .transpose()?,
        text: message.text,
    })
}
