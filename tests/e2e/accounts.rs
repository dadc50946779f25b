//! End-to-end account lifecycle against the real `arcana` binary over HTTP, once per storage
//! backend (memory, SQLite, PostgreSQL, MySQL/MariaDB). Every test starts its own server process
//! on its own database.

use arcana_tests::{ROOT_PASSWORD, Storage, TestApp, Tokens, problem};
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

async fn spawn() -> TestApp {
    TestApp::spawn(BIN, &[]).await
}

/// Runs each scenario once per storage backend, as its own test, so that every backend is held
/// to exactly the same expectations. Backends whose service is not configured skip (or fail,
/// under `ARCANA_TEST_REQUIRE_SERVICES=1`).
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        mod memory { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Memory).await; })* }
        mod sqlite { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Sqlite).await; })* }
        mod postgres { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Postgres).await; })* }
        mod mysql { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Mysql).await; })* }
    };
}

on_every_backend!(
    register_login_me_and_refresh_rotate_tokens,
    replaying_a_rotated_refresh_token_revokes_the_whole_family,
    logout_makes_the_current_access_token_fail_at_once,
    changing_the_password_revokes_the_other_sessions,
    suspension_and_demotion_take_effect_on_the_next_request,
    an_admin_cannot_act_on_an_equal_or_higher_rank,
    unknown_user_and_wrong_password_give_identical_responses,
    repeated_failures_lock_the_account_identifier_out_with_retry_after,
    malformed_requests_get_their_problem_statuses,
    users_are_listed_with_cursor_pagination_and_filters,
    profiles_are_patched_by_their_owner_with_http_urls_only,
    health_metrics_and_request_ids_are_served,
    a_seeded_superadmin_can_sign_in_and_open_registration_grants_no_role,
);

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/v1/auth/me", Some(token)).await
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

async fn register_login_me_and_refresh_rotate_tokens(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let registered = app.register("alice", PASSWORD).await;
    assert_eq!(registered.body["token_type"], "Bearer");
    assert_eq!(registered.body["user"]["role"], "user");
    assert_eq!(registered.body["user"]["status"], "active");
    assert!(
        registered.body["expires_in"]
            .as_u64()
            .is_some_and(|s| s > 0)
    );

    let login = app.login_ok("ALICE@example.com", PASSWORD).await;
    let response = me(&app, &login.access).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    assert!(body.get("password_hash").is_none() && !body.to_string().contains("argon2"));

    let rotated = refresh(&app, &login.refresh).await;
    assert_eq!(rotated.status(), 200);
    let rotated = Tokens::from(rotated.json::<Value>().await.unwrap());
    assert_ne!(rotated.refresh, login.refresh);
    assert_eq!(me(&app, &rotated.access).await.status(), 200);

    let (status, body) = problem(refresh(&app, &login.refresh).await).await;
    assert_eq!(status, 401, "the rotated refresh token is refused: {body}");
}

async fn replaying_a_rotated_refresh_token_revokes_the_whole_family(storage: Storage) {
    let Some(app) = TestApp::on(
        BIN,
        storage,
        &[("ARCANA_SECURITY__REFRESH_GRACE_SECS", "0")],
    )
    .await
    else {
        return;
    };
    let first = app.register("bob", PASSWORD).await;
    let second = Tokens::from(
        refresh(&app, &first.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );

    let (status, body) = problem(refresh(&app, &first.refresh).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "refresh_token_reused");

    let (status, _) = problem(refresh(&app, &second.refresh).await).await;
    assert_eq!(status, 401, "the legitimate branch dies with the family");
    assert_eq!(
        me(&app, &second.access).await.status(),
        401,
        "its access token too"
    );
}

async fn logout_makes_the_current_access_token_fail_at_once(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let tokens = app.register("carol", PASSWORD).await;
    let other = app.login_ok("carol", PASSWORD).await;
    assert_eq!(me(&app, &tokens.access).await.status(), 200);

    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = me(&app, &tokens.access).await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(challenge.starts_with("bearer"), "{challenge}");
    assert_eq!(problem(response).await.0, 401);
    assert_eq!(problem(refresh(&app, &tokens.refresh).await).await.0, 401);
    assert_eq!(
        me(&app, &other.access).await.status(),
        200,
        "other sessions survive a single logout"
    );

    let all = json!({"all_sessions": true});
    assert_eq!(
        app.post("/api/v1/auth/logout", Some(&other.access), &all)
            .await
            .status(),
        204
    );
    assert_eq!(me(&app, &other.access).await.status(), 401);
}

async fn changing_the_password_revokes_the_other_sessions(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let here = app.register("dave", PASSWORD).await;
    let elsewhere = app.login_ok("dave", PASSWORD).await;

    let wrong =
        json!({"current_password": "not-the-password", "new_password": "another-long-password"});
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/auth/password",
            Some(&here.access),
            &wrong,
        )
        .await;
    assert_eq!(problem(response).await.0, 422);

    let change = json!({"current_password": PASSWORD, "new_password": "another-long-password"});
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/auth/password",
            Some(&here.access),
            &change,
        )
        .await;
    assert_eq!(response.status(), 204);

    assert_eq!(
        me(&app, &here.access).await.status(),
        200,
        "the session that changed it stays"
    );
    assert_eq!(me(&app, &elsewhere.access).await.status(), 401);
    assert_eq!(app.login("dave", PASSWORD).await.status(), 401);
    app.login_ok("dave", "another-long-password").await;

    let sessions: Value = app
        .get("/api/v1/auth/sessions", Some(&here.access))
        .await
        .json()
        .await
        .unwrap();
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "the changing session and the new login: {sessions}"
    );
}

async fn suspension_and_demotion_take_effect_on_the_next_request(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let root = app.root().await;
    let moderator = app.create_user(&root, "erin", "moderator", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/users", Some(&moderator.access))
            .await
            .status(),
        200
    );

    let path = format!("/api/v1/users/{}/role", moderator.user_id);
    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&root.access),
            &json!({"role": "user"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        problem(app.get("/api/v1/users", Some(&moderator.access)).await)
            .await
            .0,
        403
    );

    let path = format!("/api/v1/users/{}/status", moderator.user_id);
    let body = json!({"status": "suspended", "reason": "spam"});
    assert_eq!(
        app.send_json(Method::PUT, &path, Some(&root.access), &body)
            .await
            .status(),
        200
    );
    assert_eq!(problem(me(&app, &moderator.access).await).await.0, 401);
    assert_eq!(
        problem(refresh(&app, &moderator.refresh).await).await.0,
        401
    );
    let (status, body) = problem(app.login("erin", PASSWORD).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled"))
    );
    assert_eq!(
        app.login("erin", "wrong-password-here").await.status(),
        401,
        "status shows only after the password"
    );

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

async fn an_admin_cannot_act_on_an_equal_or_higher_rank(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let root = app.root().await;
    let admin = app.create_user(&root, "frank", "admin", PASSWORD).await;
    let peer = app.create_user(&root, "grace", "admin", PASSWORD).await;
    let user = app.create_user(&root, "heidi", "user", PASSWORD).await;

    let suspend = json!({"status": "suspended"});
    for target in [&peer.user_id, &root.user_id, &admin.user_id] {
        let path = format!("/api/v1/users/{target}/status");
        let response = app
            .send_json(Method::PUT, &path, Some(&admin.access), &suspend)
            .await;
        assert_eq!(problem(response).await.0, 403, "suspending {target}");
        let response = app
            .request(
                Method::DELETE,
                &format!("/api/v1/users/{target}"),
                Some(&admin.access),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(problem(response).await.0, 403, "deleting {target}");
    }
    let path = format!("/api/v1/users/{}/role", user.user_id);
    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin.access),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(
        problem(response).await.0,
        403,
        "an admin cannot grant admin"
    );
    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin.access),
            &json!({"role": "moderator"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let own = format!("/api/v1/users/{}/role", user.user_id);
    let response = app
        .send_json(
            Method::PUT,
            &own,
            Some(&user.access),
            &json!({"role": "superadmin"}),
        )
        .await;
    assert_eq!(
        problem(response).await.0,
        403,
        "nobody raises their own role"
    );

    let path = format!("/api/v1/users/{}", user.user_id);
    let response = app
        .request(Method::DELETE, &path, Some(&admin.access))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        problem(me(&app, &user.access).await).await.0,
        401,
        "deletion revokes sessions"
    );
    assert_eq!(
        problem(app.get(&path, Some(&root.access)).await).await.0,
        404
    );
}

async fn unknown_user_and_wrong_password_give_identical_responses(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    app.register("ivan", PASSWORD).await;
    let wrong = app.login("ivan", "wrong-password-here").await;
    let unknown = app.login("nobody-here", "wrong-password-here").await;
    assert_eq!(wrong.status(), unknown.status());
    let header_names = |r: &reqwest::Response| {
        let mut names: Vec<String> = r
            .headers()
            .keys()
            .map(ToString::to_string)
            .filter(|n| n != "date" && n != "x-request-id")
            .collect();
        names.sort();
        names
    };
    assert_eq!(header_names(&wrong), header_names(&unknown));
    let (_, mut wrong) = problem(wrong).await;
    let (_, mut unknown) = problem(unknown).await;
    wrong["request_id"] = Value::Null;
    unknown["request_id"] = Value::Null;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["status"], 401);
}

async fn repeated_failures_lock_the_account_identifier_out_with_retry_after(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    app.register("judy", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(app.login("judy", "wrong-password-here").await.status(), 401);
    }
    let response = app.login("judy", PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(problem(response).await.0, 429);
    let (status, _) = problem(app.login("unknown-judy", "wrong-password-here").await).await;
    assert_eq!(status, 401, "other identifiers are not affected");
}

async fn malformed_requests_get_their_problem_statuses(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let register = app.url("/api/v1/auth/register");
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&register)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = problem(send("{\"username\": ", "application/json").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, _) = problem(send("{}", "text/plain").await.unwrap()).await;
    assert_eq!(status, 415);
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(200_000));
    // Its own client: the server answers 413 without reading the body and then closes the
    // connection, which must not linger in the shared client's pool for the next request.
    let response = reqwest::Client::new()
        .post(&register)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, 413);

    let invalid = json!({"username": "a@b", "email": "not-an-email", "password": "short"});
    let (status, body) = problem(app.post("/api/v1/auth/register", None, &invalid).await).await;
    assert_eq!(status, 422);
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "password", "username"]);
    assert!(
        !body.to_string().contains("not-an-email"),
        "rejected values are not echoed"
    );

    let (status, body) = problem(
        app.post("/api/v1/auth/register", None, &json!({"username": 5}))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");

    app.register("kate", PASSWORD).await;
    let again = json!({"username": "KATE", "email": "other@example.com", "password": PASSWORD});
    let (status, body) = problem(app.post("/api/v1/auth/register", None, &again).await).await;
    assert_eq!(status, 409);
    assert!(
        !body.to_string().contains("KATE") && !body.to_string().contains("kate"),
        "{body}"
    );

    assert_eq!(problem(app.get("/api/v1/auth/me", None).await).await.0, 401);
    assert_eq!(
        problem(app.get("/api/v1/auth/me", Some("not.a.jwt")).await)
            .await
            .0,
        401
    );
    assert_eq!(
        problem(app.get("/api/v1/nothing-here", None).await).await.0,
        404
    );
}

async fn users_are_listed_with_cursor_pagination_and_filters(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let root = app.root().await;
    for name in ["user-a", "user-b", "user-c"] {
        app.register(name, PASSWORD).await;
    }
    let page: Value = app
        .get("/api/v1/users?limit=2", Some(&root.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest: Value = app
        .get(
            &format!("/api/v1/users?limit=2&cursor={cursor}"),
            Some(&root.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root", "user-a", "user-b", "user-c"]);
    assert!(rest["next_cursor"].is_null());

    let filtered: Value = app
        .get("/api/v1/users?role=superadmin", Some(&root.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let searched: Value = app
        .get("/api/v1/users?q=USER-B", Some(&root.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["items"][0]["username"], "user-b");
    assert_eq!(
        problem(app.get("/api/v1/users?limit=101", Some(&root.access)).await)
            .await
            .0,
        422
    );
    let user = app.login_ok("user-a", PASSWORD).await;
    assert_eq!(
        problem(app.get("/api/v1/users", Some(&user.access)).await)
            .await
            .0,
        403
    );
}

async fn profiles_are_patched_by_their_owner_with_http_urls_only(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let user = app.register("liam", PASSWORD).await;
    let path = format!("/api/v1/users/{}", user.user_id);
    let changes = json!({"display_name": "Liam L.", "avatar_url": "https://example.com/liam.png"});
    let response = app
        .send_json(Method::PATCH, &path, Some(&user.access), &changes)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["display_name"], "Liam L.");
    let bad = json!({"avatar_url": "javascript:alert(1)"});
    let (status, body) = problem(
        app.send_json(Method::PATCH, &path, Some(&user.access), &bad)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("avatar_url"))
    );
    let other = app.register("mia", PASSWORD).await;
    let response = app
        .send_json(Method::PATCH, &path, Some(&other.access), &changes)
        .await;
    assert_eq!(problem(response).await.0, 403);
    assert_eq!(
        problem(app.get(&path, Some(&other.access)).await).await.0,
        403
    );
}

async fn health_metrics_and_request_ids_are_served(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let ready: Value = app.get("/health/ready", None).await.json().await.unwrap();
    assert_eq!(ready["checks"]["database"]["status"], "up", "{ready}");
    let response = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/health\""));
}

#[tokio::test]
async fn openapi_lists_every_route_with_schemas_and_error_statuses() {
    let app = spawn().await;
    let doc: Value = app
        .get("/api-docs/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("/api/v1/auth/register", "post", "422"),
        ("/api/v1/auth/login", "post", "401"),
        ("/api/v1/auth/refresh", "post", "401"),
        ("/api/v1/auth/logout", "post", "401"),
        ("/api/v1/auth/me", "get", "401"),
        ("/api/v1/auth/sessions", "get", "401"),
        ("/api/v1/auth/sessions/{id}", "delete", "404"),
        ("/api/v1/auth/password", "put", "422"),
        ("/api/v1/users", "get", "403"),
        ("/api/v1/users", "post", "409"),
        ("/api/v1/users/{id}", "get", "404"),
        ("/api/v1/users/{id}", "patch", "422"),
        ("/api/v1/users/{id}", "delete", "403"),
        ("/api/v1/users/{id}/role", "put", "403"),
        ("/api/v1/users/{id}/status", "put", "403"),
        ("/api/v1/audit", "get", "403"),
        ("/health", "get", "200"),
        ("/health/ready", "get", "503"),
    ];
    for (path, method, status) in expected {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        assert!(
            operation["responses"][status].is_object(),
            "{method} {path} lacks {status}"
        );
    }
    let register = &doc["paths"]["/api/v1/auth/register"]["post"];
    assert!(register["requestBody"]["content"]["application/json"]["schema"].is_object());
    let page = app
        .client
        .get(app.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

async fn a_seeded_superadmin_can_sign_in_and_open_registration_grants_no_role(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let root = app.login_ok("root", ROOT_PASSWORD).await;
    assert_eq!(root.body["user"]["role"], "superadmin");
    let sneaky = json!({"username": "nina", "email": "nina@example.com", "password": PASSWORD, "role": "superadmin"});
    let response = app.post("/api/v1/auth/register", None, &sneaky).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "user", "{body}");
}
