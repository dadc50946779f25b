//! `UserRepository` contract cases.

use std::sync::Arc;

use arcana_domain::user::ProfileChanges;
use arcana_domain::{DisplayName, Email, ProfileUrl, Role, Status, UserId, Username};
use arcana_ports::users::UserQuery;
use arcana_ports::{StoreError, UniqueField};
use chrono::TimeDelta;

use crate::cases;
use crate::fixtures::{t0, user, user_with};
use crate::harness::{Case, Stores};

mod lists;

pub fn cases() -> Vec<Case> {
    let mut all = cases![
        users_are_found_by_id_username_and_email_with_every_field_intact,
        usernames_and_emails_are_unique_and_the_conflict_names_the_field,
        an_update_from_a_stale_version_is_refused,
        concurrent_updates_of_one_version_let_exactly_one_through,
        updating_a_missing_user_is_not_found,
        optional_fields_can_be_cleared,
    ];
    all.extend(lists::cases());
    all
}

pub(crate) fn query(limit: usize) -> UserQuery {
    UserQuery {
        after: None,
        limit,
        role: None,
        status: None,
        text: None,
    }
}

async fn users_are_found_by_id_username_and_email_with_every_field_intact(s: Arc<Stores>) {
    let mut alice = user_with(
        "alice",
        Role::Moderator,
        Status::Active,
        Some("Alice Liddell"),
    );
    alice.update_profile(
        ProfileChanges {
            avatar_url: Some(Some(
                ProfileUrl::parse("https://example.com/a.png").unwrap(),
            )),
            ..ProfileChanges::default()
        },
        t0(),
    );
    alice.record_login(t0() + TimeDelta::seconds(5));
    s.users.insert(&alice).await.unwrap();

    let by_id = s
        .users
        .find_by_id(alice.id())
        .await
        .unwrap()
        .expect("found by id");
    assert_eq!(by_id, alice, "every field survives the round trip");
    let by_name = s
        .users
        .find_by_username(&Username::parse("ALICE").unwrap())
        .await
        .unwrap();
    assert_eq!(
        by_name.as_ref().map(arcana_domain::User::id),
        Some(alice.id())
    );
    let by_email = s
        .users
        .find_by_email(&Email::parse("Alice@Example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(by_email.map(|u| u.id()), Some(alice.id()));
    assert!(
        s.users
            .find_by_id(UserId::generate())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.users
            .find_by_username(&Username::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn usernames_and_emails_are_unique_and_the_conflict_names_the_field(s: Arc<Stores>) {
    let alice = user("alice");
    s.users.insert(&alice).await.unwrap();
    let mut same_name = user("bob");
    same_name.update_profile(
        ProfileChanges {
            username: Some(Username::parse("Alice").unwrap()),
            ..ProfileChanges::default()
        },
        t0(),
    );
    assert!(matches!(
        s.users.insert(&same_name).await,
        Err(StoreError::Conflict(UniqueField::Username))
    ));
    let mut same_email = user("carol");
    same_email.update_profile(
        ProfileChanges {
            email: Some(Email::parse("ALICE@example.com").unwrap()),
            ..ProfileChanges::default()
        },
        t0(),
    );
    assert!(matches!(
        s.users.insert(&same_email).await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));

    let mut bob = user("bob");
    s.users.insert(&bob).await.unwrap();
    bob.update_profile(
        ProfileChanges {
            email: Some(alice.email().clone()),
            ..ProfileChanges::default()
        },
        t0(),
    );
    assert!(matches!(
        s.users.update(&bob).await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));
    let stored = s.users.find_by_id(bob.id()).await.unwrap().unwrap();
    assert_eq!(
        stored.email().as_str(),
        "bob@example.com",
        "a refused update changes nothing"
    );
}

async fn an_update_from_a_stale_version_is_refused(s: Arc<Stores>) {
    let original = user("dave");
    s.users.insert(&original).await.unwrap();
    let mut first = original.clone();
    first
        .change_status(Status::Suspended, Some("abuse".into()), t0())
        .expect("a live account changes status");
    let stored = s.users.update(&first).await.unwrap();
    assert_eq!(stored.version(), original.version() + 1);

    let mut stale = original.clone();
    stale.record_login(t0());
    assert!(matches!(
        s.users.update(&stale).await,
        Err(StoreError::StaleVersion)
    ));
    let current = s.users.find_by_id(original.id()).await.unwrap().unwrap();
    assert_eq!(
        current.status(),
        Status::Suspended,
        "the stale write did not undo the suspension"
    );
    assert_eq!(current, stored);
}

async fn concurrent_updates_of_one_version_let_exactly_one_through(s: Arc<Stores>) {
    let original = user("erin");
    s.users.insert(&original).await.unwrap();
    let writers = (0..6).map(|i| {
        let s = s.clone();
        let mut copy = original.clone();
        tokio::spawn(async move {
            copy.update_profile(
                ProfileChanges {
                    display_name: Some(Some(DisplayName::parse(&format!("Writer {i}")).unwrap())),
                    ..ProfileChanges::default()
                },
                t0(),
            );
            s.users.update(&copy).await
        })
    });
    let mut wins = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::StaleVersion) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(
        s.users
            .find_by_id(original.id())
            .await
            .unwrap()
            .unwrap()
            .version(),
        original.version() + 1
    );
}

async fn optional_fields_can_be_cleared(s: Arc<Stores>) {
    let mut user = user_with("olga", Role::User, Status::Active, Some("Olga"));
    user.update_profile(
        ProfileChanges {
            avatar_url: Some(Some(
                ProfileUrl::parse("https://example.com/o.png").unwrap(),
            )),
            ..ProfileChanges::default()
        },
        t0(),
    );
    user.change_status(Status::Locked, Some("too many attempts".into()), t0())
        .expect("a live account changes status");
    s.users.insert(&user).await.unwrap();
    let mut cleared = user.clone();
    cleared.update_profile(
        ProfileChanges {
            display_name: Some(None),
            avatar_url: Some(None),
            ..ProfileChanges::default()
        },
        t0(),
    );
    cleared
        .change_status(Status::Active, None, t0())
        .expect("a live account changes status");
    let stored = s.users.update(&cleared).await.unwrap();
    let read = s.users.find_by_id(user.id()).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert!(
        read.display_name().is_none()
            && read.avatar_url().is_none()
            && read.status_reason().is_none()
    );
}

async fn updating_a_missing_user_is_not_found(s: Arc<Stores>) {
    assert!(matches!(
        s.users.update(&user("ghost")).await,
        Err(StoreError::NotFound)
    ));
}
