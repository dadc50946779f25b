//! User management under the rank rule, over the in-memory adapters.

mod common;

use arcana_domain::event::EventKind;
use arcana_domain::{Role, Status};
use arcana_ports::usecases::RequestContext;
use arcana_ports::usecases::audit::{AuditFilter, AuditUseCases};
use arcana_ports::usecases::users::{ListUsers, UpdateProfile};
use arcana_ports::usecases::{AuthUseCases, ManagementError, UserUseCases};
use common::{PASSWORD, World};

#[expect(
    clippy::needless_pass_by_value,
    reason = "reads best at call sites that produce the result"
)]
fn forbidden<T: std::fmt::Debug>(result: Result<T, ManagementError>) {
    assert!(
        matches!(result, Err(ManagementError::Forbidden)),
        "{result:?}"
    );
}

#[tokio::test]
async fn status_role_and_deletion_follow_the_rank_rule_for_every_pair_of_roles() {
    let world = World::new();
    let root = world.root().await;
    let roles = ["user", "moderator", "admin", "superadmin"];
    let mut actors = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        actors.push(world.member(&root, &format!("actor-{i}"), role).await);
    }
    for (a, actor) in actors.iter().enumerate() {
        for (t, role) in roles.iter().enumerate() {
            let target = world.member(&root, &format!("target-{a}-{t}"), role).await;
            let allowed = actor.user.role() >= Role::Admin && a > t;
            let result = world
                .users
                .set_status(actor, target.user.id(), "suspended", None)
                .await;
            assert_eq!(
                result.is_ok(),
                allowed,
                "{:?} suspending {role}: {result:?}",
                actor.user.role()
            );
            if !allowed {
                forbidden(result);
                forbidden(world.users.delete(actor, target.user.id()).await);
            }
        }
    }
}

#[tokio::test]
async fn roles_can_be_granted_only_below_the_granter_except_by_a_superadmin() {
    let world = World::new();
    let root = world.root().await;
    let admin = world.member(&root, "admin-1", "admin").await;
    let user = world.member(&root, "user-1", "user").await;
    forbidden(world.users.set_role(&admin, user.user.id(), "admin").await);
    forbidden(
        world
            .users
            .set_role(&admin, user.user.id(), "superadmin")
            .await,
    );
    assert_eq!(
        world
            .users
            .set_role(&admin, user.user.id(), "moderator")
            .await
            .unwrap()
            .role(),
        Role::Moderator
    );
    assert_eq!(
        world
            .users
            .set_role(&root, user.user.id(), "superadmin")
            .await
            .unwrap()
            .role(),
        Role::Superadmin
    );
    forbidden(world.users.set_role(&root, user.user.id(), "user").await);
    forbidden(
        world
            .users
            .set_role(&admin, admin.user.id(), "superadmin")
            .await,
    );
}

#[tokio::test]
async fn a_demotion_applies_to_the_very_next_authentication() {
    let world = World::new();
    let root = world.root().await;
    let session = world.register("mod").await;
    world
        .users
        .set_role(&root, session.user.id(), "moderator")
        .await
        .unwrap();
    let principal = world
        .auth
        .authenticate(&session.access_token, RequestContext::default())
        .await
        .unwrap();
    assert!(
        world
            .users
            .list(&principal, ListUsers::default())
            .await
            .is_ok()
    );
    world
        .users
        .set_role(&root, session.user.id(), "user")
        .await
        .unwrap();
    let principal = world
        .auth
        .authenticate(&session.access_token, RequestContext::default())
        .await
        .unwrap();
    assert_eq!(
        principal.user.role(),
        Role::User,
        "the role comes from storage, not the token"
    );
    forbidden(world.users.list(&principal, ListUsers::default()).await);
}

#[tokio::test]
async fn activation_unlocks_a_throttled_account() {
    let world = World::new();
    let root = world.root().await;
    let session = world.register("locked-out").await;
    for _ in 0..6 {
        let _ = world.login("locked-out", "wrong-password!").await;
    }
    assert!(world.login("locked-out", PASSWORD).await.is_err());
    world
        .users
        .set_status(
            &root,
            session.user.id(),
            "active",
            Some("verified by phone".into()),
        )
        .await
        .unwrap();
    assert!(world.login("locked-out", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn deleted_status_is_refused_through_set_status_and_deletion_is_soft() {
    let world = World::new();
    let root = world.root().await;
    let session = world.register("doomed").await;
    let id = session.user.id();
    let result = world.users.set_status(&root, id, "deleted", None).await;
    assert!(matches!(result, Err(ManagementError::Validation(_))));
    world.users.delete(&root, id).await.unwrap();
    assert!(matches!(
        world.users.get(&root, id).await,
        Err(ManagementError::NotFound)
    ));
    let stored = world.ports.users.find_by_id(id).await.unwrap().unwrap();
    assert_eq!(stored.status(), Status::Deleted);
    let again = world.auth.register(arcana_ports::usecases::auth::Register {
        username: "doomed".into(),
        email: "new@example.com".into(),
        password: arcana_domain::Password::candidate(PASSWORD),
        display_name: None,
        client: arcana_domain::session::ClientInfo::default(),
        request: RequestContext::default(),
    });
    assert!(
        again.await.is_err(),
        "a deleted user's name is not recycled"
    );
}

#[tokio::test]
async fn listing_pages_through_every_user_once_while_users_are_added() {
    let world = World::new();
    let root = world.root().await;
    for i in 0..7 {
        world.register(&format!("member-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = world
            .users
            .list(
                &root,
                ListUsers {
                    limit: Some(3),
                    cursor: cursor.clone(),
                    ..ListUsers::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|u| u.username().as_str().to_owned()));
        if seen.len() == 3 {
            world.register("late-joiner").await;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(
        seen.len(),
        9,
        "root, seven members and the late joiner: {seen:?}"
    );
    let bad = world
        .users
        .list(
            &root,
            ListUsers {
                limit: Some(0),
                role: Some("king".into()),
                ..ListUsers::default()
            },
        )
        .await;
    let Err(ManagementError::Validation(fields)) = bad else {
        panic!("{bad:?}")
    };
    assert_eq!(fields.len(), 2);
}

#[tokio::test]
async fn profile_updates_check_the_expected_version_and_are_audited_without_values() {
    let world = World::new();
    let session = world.register("pat").await;
    let me = world
        .auth
        .authenticate(&session.access_token, RequestContext::default())
        .await
        .unwrap();
    let stale = UpdateProfile {
        display_name: Some(Some("Pat".into())),
        expected_version: Some(99),
        ..UpdateProfile::default()
    };
    assert!(matches!(
        world.users.update(&me, me.user.id(), stale).await,
        Err(ManagementError::VersionConflict)
    ));
    let change = UpdateProfile {
        email: Some("pat@new.example".into()),
        expected_version: Some(me.user.version()),
        ..UpdateProfile::default()
    };
    let updated = world.users.update(&me, me.user.id(), change).await.unwrap();
    assert_eq!(updated.version(), me.user.version() + 1);

    let root = world.root().await;
    let page = world
        .audit
        .query(
            &root,
            AuditFilter {
                action: Some("user.updated".into()),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items[0].action, EventKind::UserUpdated);
    assert_eq!(page.items[0].detail.as_deref(), Some("changed email"));
    forbidden(world.audit.query(&me, AuditFilter::default()).await);
}
