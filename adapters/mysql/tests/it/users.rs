//! `MysqlUserRepository`: uniqueness without leaking values, optimistic versioning under
//! concurrency, filtered pages.

use arcana_domain::user::ProfileChanges;
use arcana_domain::{Email, User, Username};
use arcana_ports::users::UserRepository;
use arcana_ports::{StoreError, UniqueField};
use chrono::TimeDelta;

use crate::support::{TestDb, now, user};

fn with_email(mut user: User, email: &str) -> User {
    user.update_profile(
        ProfileChanges {
            email: Some(Email::parse(email).unwrap()),
            ..ProfileChanges::default()
        },
        now(),
    );
    user
}

fn with_username(mut user: User, username: &str) -> User {
    user.update_profile(
        ProfileChanges {
            username: Some(Username::parse(username).unwrap()),
            ..ProfileChanges::default()
        },
        now(),
    );
    user
}

/// Neither the error's text nor anything it carries (Debug shows the source chain) may hold
/// the duplicated value.
fn assert_conflict_without(outcome: Result<(), StoreError>, field: UniqueField, value: &str) {
    let err = outcome.expect_err("a conflict");
    assert!(
        matches!(err, StoreError::Conflict(f) if f == field),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} is already taken", field.as_str())
    );
    assert!(!format!("{err:?}").contains(value), "{err:?}");
    assert!(std::error::Error::source(&err).is_none());
}

#[tokio::test]
async fn times_are_stored_truncated_to_microseconds() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    let mut bob = user("bob");
    let precise = now() + TimeDelta::nanoseconds(999);
    bob.record_login(precise);
    users.insert(&bob).await.unwrap();
    let stored = users.find_by_id(bob.id()).await.unwrap().unwrap();
    assert_eq!(
        stored.last_login_at(),
        Some(precise - TimeDelta::nanoseconds(999))
    );
}

#[tokio::test]
async fn a_taken_username_or_email_is_a_conflict_naming_the_field_and_not_the_value() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    users.insert(&user("bob")).await.unwrap();
    let same_name = with_username(user("robert"), "Bob");
    assert_conflict_without(users.insert(&same_name).await, UniqueField::Username, "bob");
    let same_email = with_email(user("other"), "bob@example.com");
    assert_conflict_without(
        users.insert(&same_email).await,
        UniqueField::Email,
        "bob@example.com",
    );

    // A username that is itself a key name must not confuse the mapping.
    users.insert(&user("users_email_key")).await.unwrap();
    let lookalike = with_email(user("users_email_key"), "fresh@example.com");
    assert_conflict_without(
        users.insert(&lookalike).await,
        UniqueField::Username,
        "users_email_key@",
    );

    let mut carol = user("carol");
    users.insert(&carol).await.unwrap();
    carol = with_email(carol, "bob@example.com");
    let outcome = users.update(&carol).await.map(drop);
    assert_conflict_without(outcome, UniqueField::Email, "bob@example.com");
}
