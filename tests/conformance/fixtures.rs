//! Building domain values for the cases.

use arcana_domain::audit::AuditEntry;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::session::{ClientInfo, Session};
use arcana_domain::{
    DisplayName, Email, NewUser, PasswordHash, Role, Status, User, UserId, Username,
};
pub use arcana_tests::fixtures::{hash, lifetimes, now};
use chrono::{DateTime, Utc};

/// A fixed instant with whole microseconds, which every backend stores exactly.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2031-05-06T07:08:09.123456Z")
        .unwrap()
        .to_utc()
}

pub fn user(username: &str) -> User {
    user_with(username, Role::User, Status::Active, None)
}

pub fn user_with(username: &str, role: Role, status: Status, display: Option<&str>) -> User {
    User::register(
        NewUser {
            username: Username::parse(username).unwrap(),
            email: Email::parse(&format!("{username}@example.com")).unwrap(),
            display_name: display.map(|d| DisplayName::parse(d).unwrap()),
            password_hash: PasswordHash::parse(
                "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            )
            .unwrap(),
            role,
            status,
        },
        t0(),
    )
}

pub fn session(user: UserId, refresh: char, at: DateTime<Utc>) -> Session {
    let client = ClientInfo {
        user_agent: Some("conformance/1.0".into()),
        ip: Some("192.0.2.7".into()),
    };
    Session::start(user, hash(refresh), client, lifetimes(), at)
}

pub fn audit_entry(
    kind: EventKind,
    actor: Option<UserId>,
    subject: Subject,
    at: DateTime<Utc>,
) -> AuditEntry {
    let event = DomainEvent::new(kind, actor, subject, at).with_detail("conformance");
    AuditEntry::from_event(&event, Some("198.51.100.4".into()))
}
