//! `MysqlUserRepository`: uniqueness without leaking values, optimistic versioning under
//! concurrency, filtered pages.

use std::sync::Arc;

use arcana_domain::user::ProfileChanges;
use arcana_domain::{DisplayName, Email, ProfileUrl, Role, Status, User, UserId, Username};
use arcana_ports::users::{UserQuery, UserRepository};
use arcana_ports::{StoreError, UniqueField};
use chrono::TimeDelta;

use crate::support::{TestDb, now, user};

fn all(limit: usize) -> UserQuery {
    UserQuery {
        after: None,
        limit,
        role: None,
        status: None,
        text: None,
    }
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.username().as_str()).collect()
}

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
async fn a_user_round_trips_with_every_field_and_is_found_by_each_key() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    let mut alice = user("alice");
    alice.update_profile(
        ProfileChanges {
            display_name: Some(Some(DisplayName::parse("Alice L. ✓").unwrap())),
            avatar_url: Some(Some(
                ProfileUrl::parse("https://example.com/a.png").unwrap(),
            )),
            ..ProfileChanges::default()
        },
        now(),
    );
    alice.change_status(Status::Suspended, Some("testing".into()), now());
    alice.record_login(now());
    users.insert(&alice).await.unwrap();

    assert_eq!(
        users.find_by_id(alice.id()).await.unwrap(),
        Some(alice.clone())
    );
    let by_name = users
        .find_by_username(&Username::parse("ALICE").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name, Some(alice.clone()));
    let by_email = users
        .find_by_email(&Email::parse("alice@EXAMPLE.com").unwrap())
        .await
        .unwrap();
    assert_eq!(by_email, Some(alice));
    assert_eq!(users.find_by_id(UserId::generate()).await.unwrap(), None);
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

#[tokio::test]
async fn updates_bump_the_version_clear_fields_and_refuse_stale_or_missing_users() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    let mut original = user("dave");
    original.update_profile(
        ProfileChanges {
            display_name: Some(Some(DisplayName::parse("Dave").unwrap())),
            ..ProfileChanges::default()
        },
        now(),
    );
    users.insert(&original).await.unwrap();
    let mut changed = original.clone();
    changed.change_status(Status::Suspended, None, now());
    changed.update_profile(
        ProfileChanges {
            display_name: Some(None),
            ..ProfileChanges::default()
        },
        now(),
    );
    let stored = users.update(&changed).await.unwrap();
    assert_eq!(stored.version(), original.version() + 1);
    assert_eq!(stored.display_name(), None);
    assert_eq!(
        users.find_by_id(original.id()).await.unwrap(),
        Some(stored.clone())
    );

    // Writing identical values still succeeds: the version always changes.
    let again = users.update(&stored).await.unwrap();
    assert_eq!(again.version(), stored.version() + 1);

    let mut stale = original.clone();
    stale.record_login(now());
    assert!(matches!(
        users.update(&stale).await,
        Err(StoreError::StaleVersion)
    ));
    assert!(matches!(
        users.update(&user("ghost")).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_updates_of_one_version_give_one_success_and_one_stale_version() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = Arc::new(db.store.users());
    let original = user("erin");
    users.insert(&original).await.unwrap();
    let writers: Vec<_> = [Role::Moderator, Role::Admin]
        .into_iter()
        .map(|role| {
            let (users, mut copy) = (users.clone(), original.clone());
            copy.change_role(role, now());
            tokio::spawn(async move { users.update(&copy).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.push(writer.await.unwrap());
    }
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    let stale = outcomes
        .iter()
        .filter(|o| matches!(o, Err(StoreError::StaleVersion)))
        .count();
    assert_eq!((wins, stale), (1, 1), "{outcomes:?}");
    let stored = users.find_by_id(original.id()).await.unwrap().unwrap();
    assert_eq!(stored.version(), original.version() + 1);
}

/// Five users in id order: an admin, two with display names, one with a wildcard in its name,
/// and a deleted one.
async fn insert_listing_fixture(users: &impl UserRepository) {
    let mut rows = vec![
        user("hank"),
        user("ivy"),
        user("jack"),
        user("kim_x"),
        user("gone"),
    ];
    rows[0].change_role(Role::Admin, now());
    let named = |name: &str| ProfileChanges {
        display_name: Some(Some(DisplayName::parse(name).unwrap())),
        ..ProfileChanges::default()
    };
    rows[1].update_profile(named("Poison IVY 100%"), now());
    rows[2].update_profile(named("Jäck ÉCLAIR"), now());
    rows[4].delete(now());
    for row in &rows {
        users.insert(row).await.unwrap();
    }
}

#[tokio::test]
async fn lists_page_by_id_and_filter_by_role_and_status() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    insert_listing_fixture(&users).await;

    let first = users.list(&all(2)).await.unwrap();
    assert_eq!(names(&first), ["hank", "ivy"]);
    let after = UserQuery {
        after: first.last().map(User::id),
        ..all(10)
    };
    assert_eq!(names(&users.list(&after).await.unwrap()), ["jack", "kim_x"]);
    assert!(users.list(&all(0)).await.unwrap().is_empty());

    let admins = UserQuery {
        role: Some(Role::Admin),
        ..all(10)
    };
    assert_eq!(names(&users.list(&admins).await.unwrap()), ["hank"]);
    let deleted = UserQuery {
        status: Some(Status::Deleted),
        ..all(10)
    };
    assert_eq!(names(&users.list(&deleted).await.unwrap()), ["gone"]);
}

#[tokio::test]
async fn lists_filter_by_case_insensitive_literal_text() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    insert_listing_fixture(&users).await;
    let found = async |text: &str| {
        let query = UserQuery {
            text: Some(text.into()),
            ..all(10)
        };
        names(&users.list(&query).await.unwrap()).join(",")
    };
    assert_eq!(found("poison ivy").await, "ivy");
    assert_eq!(found("JACK@").await, "jack");
    assert_eq!(found("100%").await, "ivy");
    assert_eq!(found("_").await, "kim_x");
    assert_eq!(found("\\").await, "");
    assert_eq!(
        found("gone").await,
        "",
        "deleted users are not listed by default"
    );
    // Case-insensitive, but accents still count (as in the other backends).
    assert_eq!(found("jäck éclair").await, "jack");
    assert_eq!(found("eclair").await, "");
}
