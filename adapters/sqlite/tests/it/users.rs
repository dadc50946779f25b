//! `SqliteUserRepository`: uniqueness, optimistic versioning under concurrency, filtered pages.

use std::sync::Arc;

use arcana_domain::user::ProfileChanges;
use arcana_domain::{DisplayName, Email, ProfileUrl, Role, Status, UserId, Username};
use arcana_ports::users::{UserQuery, UserRepository};
use arcana_ports::{StoreError, UniqueField};

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

fn names(users: &[arcana_domain::User]) -> Vec<&str> {
    users.iter().map(|u| u.username().as_str()).collect()
}

#[tokio::test]
async fn a_user_round_trips_with_every_field_and_is_found_by_each_key() {
    let db = TestDb::fresh().await;
    let users = db.store.users();
    let mut alice = user("alice");
    alice.update_profile(
        ProfileChanges {
            display_name: Some(Some(DisplayName::parse("Alice L.").unwrap())),
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
async fn a_taken_username_or_email_is_a_conflict_naming_the_field() {
    let db = TestDb::fresh().await;
    let users = db.store.users();
    users.insert(&user("bob")).await.unwrap();
    let mut same_email = user("other");
    let taken = Email::parse("bob@example.com").unwrap();
    same_email.update_profile(
        ProfileChanges {
            email: Some(taken.clone()),
            ..ProfileChanges::default()
        },
        now(),
    );
    let mut same_name = user("robert");
    same_name.update_profile(
        ProfileChanges {
            username: Some(Username::parse("Bob").unwrap()),
            ..ProfileChanges::default()
        },
        now(),
    );
    let outcome = users.insert(&same_name).await;
    assert!(
        matches!(outcome, Err(StoreError::Conflict(UniqueField::Username))),
        "{outcome:?}"
    );
    assert!(matches!(
        users.insert(&same_email).await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));

    let mut carol = user("carol");
    users.insert(&carol).await.unwrap();
    carol.update_profile(
        ProfileChanges {
            email: Some(taken),
            ..ProfileChanges::default()
        },
        now(),
    );
    assert!(matches!(
        users.update(&carol).await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));
}

#[tokio::test]
async fn updates_bump_the_version_and_refuse_stale_or_missing_users() {
    let db = TestDb::fresh().await;
    let users = db.store.users();
    let original = user("dave");
    users.insert(&original).await.unwrap();
    let mut suspended = original.clone();
    suspended.change_status(Status::Suspended, None, now());
    let stored = users.update(&suspended).await.unwrap();
    assert_eq!(stored.version(), original.version() + 1);
    assert_eq!(users.find_by_id(original.id()).await.unwrap(), Some(stored));

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
    let db = TestDb::fresh().await;
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

#[tokio::test]
async fn lists_page_by_id_and_filter_by_role_status_and_literal_text() {
    let db = TestDb::fresh().await;
    let users = db.store.users();
    let mut rows = vec![
        user("hank"),
        user("ivy"),
        user("jack"),
        user("kim_x"),
        user("gone"),
    ];
    rows[0].change_role(Role::Admin, now());
    rows[1].update_profile(
        ProfileChanges {
            display_name: Some(Some(DisplayName::parse("Poison IVY 100%").unwrap())),
            ..ProfileChanges::default()
        },
        now(),
    );
    rows[4].delete(now());
    for row in &rows {
        users.insert(row).await.unwrap();
    }

    let first = users.list(&all(2)).await.unwrap();
    assert_eq!(names(&first), ["hank", "ivy"]);
    let after = UserQuery {
        after: first.last().map(arcana_domain::User::id),
        ..all(10)
    };
    assert_eq!(names(&users.list(&after).await.unwrap()), ["jack", "kim_x"]);

    let text = |t: &str| UserQuery {
        text: Some(t.into()),
        ..all(10)
    };
    assert_eq!(
        names(&users.list(&text("poison ivy")).await.unwrap()),
        ["ivy"]
    );
    assert_eq!(names(&users.list(&text("JACK@")).await.unwrap()), ["jack"]);
    assert_eq!(names(&users.list(&text("100%")).await.unwrap()), ["ivy"]);
    assert_eq!(names(&users.list(&text("_")).await.unwrap()), ["kim_x"]);
    assert!(users.list(&text("\\")).await.unwrap().is_empty());

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
