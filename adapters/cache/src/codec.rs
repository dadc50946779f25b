//! Users and sessions as compact JSON documents. Decoding goes through the domain's own parsers,
//! so a corrupt or foreign entry is an error (treated as a miss), never a half-valid value.

use std::borrow::Cow;

use anyhow::Context as _;
use arcana_domain::session::{ClientInfo, Session, SessionParts, TokenHash};
use arcana_domain::user::UserParts;
use arcana_domain::{
    DisplayName, Email, PasswordHash, ProfileUrl, Role, SessionId, Status, User, UserId, Username,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Times travel as microseconds since the epoch: what every SQL backend keeps, so a value read
/// through the cache equals the one read from the store.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn time(micros: i64) -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).context("a time out of range")
}

#[derive(Serialize, Deserialize)]
struct UserDoc<'a> {
    id: Uuid,
    #[serde(borrow)]
    username: Cow<'a, str>,
    #[serde(borrow)]
    email: Cow<'a, str>,
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    avatar_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow)]
    status_reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    password_hash: Cow<'a, str>,
    created_at: i64,
    updated_at: i64,
    last_login_at: Option<i64>,
    version: u64,
}

pub(crate) fn encode_user(user: &User) -> Vec<u8> {
    let doc = UserDoc {
        id: *user.id().as_uuid(),
        username: Cow::Borrowed(user.username().as_str()),
        email: Cow::Borrowed(user.email().as_str()),
        display_name: user.display_name().map(|d| Cow::Borrowed(d.as_str())),
        avatar_url: user.avatar_url().map(|u| Cow::Borrowed(u.as_str())),
        role: Cow::Borrowed(user.role().as_str()),
        status: Cow::Borrowed(user.status().as_str()),
        status_reason: user.status_reason().map(Cow::Borrowed),
        password_hash: Cow::Borrowed(user.password_hash().as_str()),
        created_at: micros(user.created_at()),
        updated_at: micros(user.updated_at()),
        last_login_at: user.last_login_at().map(micros),
        version: user.version(),
    };
    serde_json::to_vec(&doc).expect("a user document always serializes")
}

pub(crate) fn decode_user(bytes: &[u8]) -> anyhow::Result<User> {
    let doc: UserDoc<'_> = serde_json::from_slice(bytes).context("a malformed user document")?;
    Ok(User::restore(UserParts {
        id: UserId::from_uuid(doc.id),
        username: Username::parse(&doc.username)?,
        email: Email::parse(&doc.email)?,
        display_name: doc
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        avatar_url: doc
            .avatar_url
            .as_deref()
            .map(ProfileUrl::parse)
            .transpose()?,
        role: Role::parse(&doc.role)?,
        status: Status::parse(&doc.status)?,
        status_reason: doc.status_reason.map(Cow::into_owned),
        password_hash: PasswordHash::parse(&doc.password_hash)?,
        created_at: time(doc.created_at)?,
        updated_at: time(doc.updated_at)?,
        last_login_at: doc.last_login_at.map(time).transpose()?,
        version: doc.version,
    })?)
}

#[derive(Serialize, Deserialize)]
struct SessionDoc<'a> {
    id: Uuid,
    user_id: Uuid,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    idle_expires_at: i64,
    revoked_at: Option<i64>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    refresh_hash: Cow<'a, str>,
    #[serde(borrow)]
    previous_hash: Option<Cow<'a, str>>,
    rotated_at: Option<i64>,
}

pub fn encode_session(session: &Session) -> Vec<u8> {
    let doc = SessionDoc {
        id: *session.id().as_uuid(),
        user_id: *session.user_id().as_uuid(),
        created_at: micros(session.created_at()),
        last_used_at: micros(session.last_used_at()),
        expires_at: micros(session.expires_at()),
        idle_expires_at: micros(session.idle_expires_at()),
        revoked_at: session.revoked_at().map(micros),
        user_agent: session.client().user_agent.as_deref().map(Cow::Borrowed),
        ip: session.client().ip.as_deref().map(Cow::Borrowed),
        refresh_hash: Cow::Borrowed(session.refresh_hash().as_str()),
        previous_hash: session.previous_hash().map(|h| Cow::Borrowed(h.as_str())),
        rotated_at: session.rotated_at().map(micros),
    };
    serde_json::to_vec(&doc).expect("a session document always serializes")
}

/// # Errors
/// When `bytes` is not a session document written by [`encode_session`].
pub fn decode_session(bytes: &[u8]) -> anyhow::Result<Session> {
    let doc: SessionDoc<'_> =
        serde_json::from_slice(bytes).context("a malformed session document")?;
    Ok(Session::restore(SessionParts {
        id: SessionId::from_uuid(doc.id),
        user_id: UserId::from_uuid(doc.user_id),
        created_at: time(doc.created_at)?,
        last_used_at: time(doc.last_used_at)?,
        expires_at: time(doc.expires_at)?,
        idle_expires_at: time(doc.idle_expires_at)?,
        revoked_at: doc.revoked_at.map(time).transpose()?,
        client: ClientInfo {
            user_agent: doc.user_agent.map(Cow::into_owned),
            ip: doc.ip.map(Cow::into_owned),
        },
        refresh_hash: TokenHash::parse(&doc.refresh_hash)?,
        previous_hash: doc
            .previous_hash
            .as_deref()
            .map(TokenHash::parse)
            .transpose()?,
        rotated_at: doc.rotated_at.map(time).transpose()?,
    })?)
}

#[cfg(test)]
mod tests {
    use arcana_domain::NewUser;
    use arcana_domain::session::SessionLifetimes;
    use chrono::{SubsecRound as _, TimeDelta};

    use super::*;

    #[test]
    fn users_and_sessions_survive_a_round_trip_unchanged() {
        let now = Utc::now().trunc_subsecs(6);
        let user = User::register(
            NewUser {
                username: Username::parse("alice").unwrap(),
                email: Email::parse("alice@example.com").unwrap(),
                display_name: Some(DisplayName::parse("Alice \"A\" Ł").unwrap()),
                password_hash: PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA")
                    .unwrap(),
                role: Role::Admin,
                status: Status::Active,
            },
            now,
        );
        assert_eq!(decode_user(&encode_user(&user)).unwrap(), user);

        let lifetimes = SessionLifetimes {
            idle: TimeDelta::hours(1),
            absolute: TimeDelta::days(1),
        };
        let hash = TokenHash::parse(&"a".repeat(64)).unwrap();
        let session = Session::start(user.id(), hash, ClientInfo::default(), lifetimes, now)
            .rotated(
                TokenHash::parse(&"b".repeat(64)).unwrap(),
                lifetimes.idle,
                &ClientInfo::default(),
                now,
            );
        assert_eq!(decode_session(&encode_session(&session)).unwrap(), session);
    }

    #[test]
    fn a_document_that_breaks_a_domain_rule_is_refused() {
        assert!(decode_user(b"{}").is_err());
        assert!(decode_session(b"not json").is_err());
    }
}
