//! `UserRepository` listing cases: soft deletion, paging, filters.

use std::collections::HashSet;
use std::sync::Arc;

use arcana_domain::user::ProfileChanges;
use arcana_domain::{Role, Status, Username};
use arcana_ports::users::UserQuery;
use arcana_ports::{StoreError, UniqueField};

use super::query;
use crate::cases;
use crate::fixtures::{t0, user, user_with};
use crate::harness::{Case, Stores};

pub fn cases() -> Vec<Case> {
    cases![
        soft_deleted_users_are_hidden_from_lists_but_still_found_by_id,
        pages_follow_id_order_and_are_stable_under_concurrent_inserts,
        lists_filter_by_role_status_and_text,
    ]
}

async fn soft_deleted_users_are_hidden_from_lists_but_still_found_by_id(s: Arc<Stores>) {
    let mut gone = user("frank");
    s.users.insert(&gone).await.unwrap();
    s.users.insert(&user("grace")).await.unwrap();
    gone.delete(t0()).expect("a live account is deleted");
    s.users.update(&gone).await.unwrap();

    let listed: Vec<String> = s
        .users
        .list(&query(10))
        .await
        .unwrap()
        .iter()
        .map(|u| u.username().to_string())
        .collect();
    assert_eq!(listed, ["grace"]);
    let deleted = UserQuery {
        status: Some(Status::Deleted),
        ..query(10)
    };
    assert_eq!(s.users.list(&deleted).await.unwrap().len(), 1);
    let found = s.users.find_by_id(gone.id()).await.unwrap().unwrap();
    assert!(found.is_deleted());
    let mut reuse = user("other");
    reuse.update_profile(
        ProfileChanges {
            username: Some(Username::parse("frank").unwrap()),
            ..ProfileChanges::default()
        },
        t0(),
    );
    assert!(
        matches!(
            s.users.insert(&reuse).await,
            Err(StoreError::Conflict(UniqueField::Username))
        ),
        "names are never recycled"
    );
}

async fn pages_follow_id_order_and_are_stable_under_concurrent_inserts(s: Arc<Stores>) {
    let mut expected = Vec::new();
    for i in 0..9 {
        let u = user(&format!("page-{i}"));
        s.users.insert(&u).await.unwrap();
        expected.push(u.id());
    }
    let inserter = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..9 {
                s.users.insert(&user(&format!("late-{i}"))).await.unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .users
            .list(&UserQuery { after, ..query(2) })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(arcana_domain::User::id);
        seen.extend(page.iter().map(arcana_domain::User::id));
    }
    inserter.await.unwrap();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user appears twice");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "pages are in ascending id order"
    );
    for id in &expected {
        assert!(
            seen.contains(id),
            "a user present before paging began was skipped"
        );
    }
}

async fn lists_filter_by_role_status_and_text(s: Arc<Stores>) {
    let rows = [
        user_with("hank", Role::Admin, Status::Active, Some("Hank Hill")),
        user_with("ivy", Role::User, Status::Suspended, Some("Poison IVY")),
        user_with("jack", Role::User, Status::Active, Some("100% Jack")),
        user_with("kim_x", Role::Moderator, Status::Active, None),
    ];
    for row in &rows {
        s.users.insert(row).await.unwrap();
    }
    let names = |users: Vec<arcana_domain::User>| {
        users
            .iter()
            .map(|u| u.username().to_string())
            .collect::<Vec<_>>()
    };
    let admins = UserQuery {
        role: Some(Role::Admin),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&admins).await.unwrap()), ["hank"]);
    let suspended = UserQuery {
        status: Some(Status::Suspended),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&suspended).await.unwrap()), ["ivy"]);
    let by_display = UserQuery {
        text: Some("ivy".into()),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&by_display).await.unwrap()), ["ivy"]);
    let case_blind = UserQuery {
        text: Some("HANK h".into()),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&case_blind).await.unwrap()), ["hank"]);
    let by_email = UserQuery {
        text: Some("jack@EXAMPLE".into()),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&by_email).await.unwrap()), ["jack"]);
    let percent = UserQuery {
        text: Some("100%".into()),
        ..query(10)
    };
    assert_eq!(
        names(s.users.list(&percent).await.unwrap()),
        ["jack"],
        "% is matched literally"
    );
    let underscore = UserQuery {
        text: Some("m_x".into()),
        ..query(10)
    };
    assert_eq!(
        names(s.users.list(&underscore).await.unwrap()),
        ["kim_x"],
        "_ is matched literally"
    );
    let wildcard = UserQuery {
        text: Some("_".into()),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&wildcard).await.unwrap()), ["kim_x"]);
    let combined = UserQuery {
        role: Some(Role::Moderator),
        text: Some("example.com".into()),
        ..query(10)
    };
    assert_eq!(names(s.users.list(&combined).await.unwrap()), ["kim_x"]);
    assert_eq!(
        s.users.list(&query(2)).await.unwrap().len(),
        2,
        "limit applies"
    );
}
