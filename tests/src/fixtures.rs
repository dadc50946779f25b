//! Domain values for the storage adapters' own tests, made the same way for every backend.

use arcana_domain::session::{ClientInfo, Session, SessionLifetimes, TokenHash};
use arcana_domain::{Email, NewUser, PasswordHash, Role, Status, User, UserId, Username};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

/// Now, with whole microseconds: what every SQL backend stores exactly (`TIMESTAMPTZ`,
/// `DATETIME(6)`, SQLite's microsecond integers).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// An active user registered now, `{username}@example.com`.
pub fn user(username: &str) -> User {
    User::register(
        NewUser {
            username: Username::parse(username).unwrap(),
            email: Email::parse(&format!("{username}@example.com")).unwrap(),
            display_name: None,
            password_hash: PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA")
                .unwrap(),
            role: Role::User,
            status: Status::Active,
        },
        now(),
    )
}

/// A refresh-token digest made of one repeated hex digit.
pub fn hash(seed: char) -> TokenHash {
    TokenHash::parse(&seed.to_string().repeat(64)).unwrap()
}

pub fn lifetimes() -> SessionLifetimes {
    SessionLifetimes {
        idle: TimeDelta::hours(1),
        absolute: TimeDelta::days(1),
    }
}

/// A session of `user` started at `at`, its refresh token's digest `hash(refresh)`.
pub fn session(user: UserId, refresh: char, at: DateTime<Utc>) -> Session {
    let client = ClientInfo {
        user_agent: Some("tests/1.0".into()),
        ip: Some("192.0.2.1".into()),
    };
    Session::start(user, hash(refresh), client, lifetimes(), at)
}
