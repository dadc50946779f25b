//! Domain ↔ protobuf conversions. Domain types know nothing of protobuf, so every conversion is
//! written here, explicitly, in both directions.

use arcana_domain::{Role, SessionId, Status};
use arcana_ports::usecases::{SessionView, UserView};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::proto::auth::v1 as auth;
use crate::proto::common::v1 as common;

pub(crate) fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        // Below one second, so it always fits.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub(crate) fn role(role: Role) -> common::Role {
    match role {
        Role::User => common::Role::User,
        Role::Moderator => common::Role::Moderator,
        Role::Admin => common::Role::Admin,
        Role::Superadmin => common::Role::Superadmin,
    }
}

fn status(status: Status) -> common::UserStatus {
    match status {
        Status::PendingVerification => common::UserStatus::PendingVerification,
        Status::Active => common::UserStatus::Active,
        Status::Suspended => common::UserStatus::Suspended,
        Status::Locked => common::UserStatus::Locked,
        Status::Deleted => common::UserStatus::Deleted,
    }
}

/// An enum number from the wire as the name the application parses. `UNSPECIFIED` is "not
/// given"; a number this build does not know becomes a name the application rejects as invalid
/// for that field, so the client gets a field violation instead of a silent default.
pub(crate) fn role_name(raw: i32) -> Option<&'static str> {
    match common::Role::try_from(raw) {
        Ok(common::Role::Unspecified) => None,
        Ok(common::Role::User) => Some(Role::User.as_str()),
        Ok(common::Role::Moderator) => Some(Role::Moderator.as_str()),
        Ok(common::Role::Admin) => Some(Role::Admin.as_str()),
        Ok(common::Role::Superadmin) => Some(Role::Superadmin.as_str()),
        Err(_) => Some(UNKNOWN),
    }
}

pub(crate) fn status_name(raw: i32) -> Option<&'static str> {
    match common::UserStatus::try_from(raw) {
        Ok(common::UserStatus::Unspecified) => None,
        Ok(common::UserStatus::PendingVerification) => Some(Status::PendingVerification.as_str()),
        Ok(common::UserStatus::Active) => Some(Status::Active.as_str()),
        Ok(common::UserStatus::Suspended) => Some(Status::Suspended.as_str()),
        Ok(common::UserStatus::Locked) => Some(Status::Locked.as_str()),
        Ok(common::UserStatus::Deleted) => Some(Status::Deleted.as_str()),
        Err(_) => Some(UNKNOWN),
    }
}

/// Parses as no role or status, so the application reports the field.
const UNKNOWN: &str = "unknown";

pub(crate) fn user(user: &UserView) -> common::User {
    common::User {
        id: user.id().to_string(),
        username: user.username().as_str().to_owned(),
        email: user.email().as_str().to_owned(),
        display_name: user.display_name().map(|name| name.as_str().to_owned()),
        avatar_url: user.avatar_url().map(|url| url.as_str().to_owned()),
        role: role(user.role()).into(),
        status: status(user.status()).into(),
        created_at: Some(timestamp(user.created_at())),
        updated_at: Some(timestamp(user.updated_at())),
        last_login_at: user.last_login_at().map(timestamp),
        version: user.version(),
    }
}

pub(crate) fn session(session: SessionView, current: SessionId) -> auth::Session {
    auth::Session {
        id: session.id.to_string(),
        created_at: Some(timestamp(session.created_at)),
        last_used_at: Some(timestamp(session.last_used_at)),
        expires_at: Some(timestamp(session.expires_at)),
        idle_expires_at: Some(timestamp(session.idle_expires_at)),
        current: session.id == current,
        user_agent: session.client.user_agent,
        ip: session.client.ip,
    }
}
