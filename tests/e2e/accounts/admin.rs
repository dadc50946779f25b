//! User-management scenarios of the account suite: roles, statuses, the rank rule, listing and
//! profile updates, identical over REST and gRPC.

use arcana_tests::api::{Api, Kind, ListQuery, ProfileChanges, Protocol, kind};
use arcana_tests::{Target, TestApp};
use serde_json::Value;

use crate::{BIN, PASSWORD};

pub(crate) async fn suspension_and_demotion_take_effect_on_the_next_request(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let root = api.root().await;
    let moderator = api
        .create_user_ok(&root, "erin", "moderator", PASSWORD)
        .await;
    let id = moderator.user.id.as_str();
    api.list_users(&moderator.access, ListQuery::default())
        .await
        .expect("a moderator lists users");

    api.set_role(&root.access, id, "user")
        .await
        .expect("demoted");
    let listed = api
        .list_users(&moderator.access, ListQuery::default())
        .await;
    assert_eq!(kind(&listed), Some(Kind::PermissionDenied));

    let suspended = api
        .set_status(&root.access, id, "suspended", Some("spam"))
        .await
        .expect("suspended");
    assert_eq!(suspended.status, "suspended");
    assert_eq!(
        kind(&api.me(&moderator.access).await),
        Some(Kind::Unauthenticated)
    );
    assert_eq!(
        kind(&api.refresh(&moderator.refresh).await),
        Some(Kind::Unauthenticated)
    );
    let login = api.login("erin", PASSWORD).await.expect_err("disabled");
    assert_eq!(
        (login.kind, login.reason.as_str()),
        (Kind::PermissionDenied, "account_disabled")
    );
    let wrong = api.login("erin", "wrong-password-here").await;
    assert_eq!(
        kind(&wrong),
        Some(Kind::Unauthenticated),
        "status shows only after the password"
    );

    // The audit log is REST-only; the root token works there whichever protocol issued it.
    let audit: Value = app
        .get(
            "/api/v1/audit?action=user.status_changed",
            Some(&root.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["detail"], "suspended: spam", "{audit}");
}

pub(crate) async fn an_admin_cannot_act_on_an_equal_or_higher_rank(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let root = api.root().await;
    let admin = api.create_user_ok(&root, "frank", "admin", PASSWORD).await;
    let peer = api.create_user_ok(&root, "grace", "admin", PASSWORD).await;
    let user = api.create_user_ok(&root, "heidi", "user", PASSWORD).await;

    for target in [&peer.user.id, &root.user.id, &admin.user.id] {
        let suspend = api
            .set_status(&admin.access, target, "suspended", None)
            .await;
        assert_eq!(
            kind(&suspend),
            Some(Kind::PermissionDenied),
            "suspending {target}"
        );
        let delete = api.delete_user(&admin.access, target).await;
        assert_eq!(
            kind(&delete),
            Some(Kind::PermissionDenied),
            "deleting {target}"
        );
    }
    let id = user.user.id.as_str();
    let grant = api.set_role(&admin.access, id, "admin").await;
    assert_eq!(
        kind(&grant),
        Some(Kind::PermissionDenied),
        "an admin cannot grant admin"
    );
    api.set_role(&admin.access, id, "moderator")
        .await
        .expect("an admin grants a lower role");
    let own = api.set_role(&user.access, id, "superadmin").await;
    assert_eq!(
        kind(&own),
        Some(Kind::PermissionDenied),
        "nobody raises their own role"
    );

    api.delete_user(&admin.access, id).await.expect("deleted");
    assert_eq!(
        kind(&api.me(&user.access).await),
        Some(Kind::Unauthenticated),
        "deletion revokes sessions"
    );
    assert_eq!(
        kind(&api.get_user(&root.access, id).await),
        Some(Kind::NotFound)
    );
}

pub(crate) async fn users_are_listed_with_cursor_pagination_and_filters(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let root = api.root().await;
    for name in ["user-a", "user-b", "user-c"] {
        api.register_ok(name, PASSWORD).await;
    }
    let query = |limit, cursor| ListQuery {
        limit: Some(limit),
        cursor,
        ..ListQuery::default()
    };
    let page = api
        .list_users(&root.access, query(2, None))
        .await
        .expect("page 1");
    assert_eq!(page.items.len(), 2);
    let cursor = page.next_cursor.clone().expect("a next page");
    let rest = api
        .list_users(&root.access, query(2, Some(cursor)))
        .await
        .expect("page 2");
    let mut names = page.usernames();
    names.extend(rest.usernames());
    assert_eq!(names, ["root", "user-a", "user-b", "user-c"]);
    assert!(rest.next_cursor.is_none());

    let by_role = ListQuery {
        role: Some("superadmin".into()),
        ..ListQuery::default()
    };
    let filtered = api
        .list_users(&root.access, by_role)
        .await
        .expect("filtered");
    assert_eq!(filtered.items.len(), 1);
    let search = ListQuery {
        q: Some("USER-B".into()),
        ..ListQuery::default()
    };
    let searched = api
        .list_users(&root.access, search)
        .await
        .expect("searched");
    assert_eq!(searched.usernames(), ["user-b"]);
    let too_many = api.list_users(&root.access, query(101, None)).await;
    assert_eq!(kind(&too_many), Some(Kind::Invalid));
    let user = api.login_ok("user-a", PASSWORD).await;
    let listed = api.list_users(&user.access, ListQuery::default()).await;
    assert_eq!(kind(&listed), Some(Kind::PermissionDenied));
}

pub(crate) async fn profiles_are_patched_by_their_owner_with_http_urls_only(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let user = api.register_ok("liam", PASSWORD).await;
    let id = user.user.id.as_str();
    let changes = || ProfileChanges {
        display_name: Some("Liam L.".into()),
        avatar_url: Some("https://example.com/liam.png".into()),
    };
    let updated = api
        .update_user(&user.access, id, changes())
        .await
        .expect("updated");
    assert_eq!(updated.display_name.as_deref(), Some("Liam L."));
    assert!(updated.version > user.user.version);

    let bad = ProfileChanges {
        avatar_url: Some("javascript:alert(1)".into()),
        ..ProfileChanges::default()
    };
    let refused = api
        .update_user(&user.access, id, bad)
        .await
        .expect_err("not http(s)");
    assert_eq!(
        (refused.kind, refused.fields),
        (Kind::Invalid, vec!["avatar_url".to_owned()])
    );

    let other = api.register_ok("mia", PASSWORD).await;
    let foreign = api.update_user(&other.access, id, changes()).await;
    assert_eq!(kind(&foreign), Some(Kind::PermissionDenied));
    assert_eq!(
        kind(&api.get_user(&other.access, id).await),
        Some(Kind::PermissionDenied)
    );
}
