//! Plugins in the layered modes, over both internal transports: the host runs on the service
//! tier, where the use cases publish their events; the controller, which has no host and no
//! plugin file, serves the plugins' routes, interceptors and admin API (REST and gRPC) through
//! the service tier's internal plugin API.

use std::time::Duration;

use arcana_adapter_grpc::proto::plugins::v1 as pb;
use arcana_adapter_grpc::proto::plugins::v1::plugin_service_client::PluginServiceClient;
use arcana_tests::api::grpc::with_bearer;
use arcana_tests::layered::{Stack, Transport as Link};
use arcana_tests::plugins::{PluginDir, built};
use arcana_tests::{TestApp, problem};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::{BINS, PASSWORD, eventually, register_status, stack};

async fn stats(app: &TestApp) -> Option<Value> {
    let response = app.get("/api/v1/ext/audit/stats", None).await;
    if response.status() != 200 {
        return None;
    }
    Some(response.json::<Value>().await.expect("json")["counts"].clone())
}

async fn listed(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.get("/api/v1/plugins", Some(token)).await;
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.expect("json");
    list["items"].as_array().expect("items").clone()
}

async fn plugins_run_on_the_service_tier_and_answer_through_the_controller(link: Link) {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BINS.arcana);
    plugins.install("header-stamp", "header-stamp");
    let env = plugins.env();
    let mut settings: Vec<(&str, &str)> =
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // Budgets of a loaded machine's debug build; the test is about where calls go.
    settings.extend([
        ("ARCANA_PLUGINS__INTERCEPTOR_BUDGET_MS", "1000"),
        ("ARCANA_PLUGINS__ROUTE_BUDGET_MS", "1000"),
    ]);
    let (mut stack, _database) = stack(link, &settings).await;
    let app = &stack.controller;
    let root = app.root().await;
    upload_audit(app, &plugins, &root.access).await;

    // Events of the service tier's use cases reach the plugin; its route answers through the
    // controller.
    for name in ["dora", "eli"] {
        assert_eq!(register_status(app, name).await, 201);
    }
    eventually(
        Duration::from_secs(10),
        "the audit plugin counts both registrations",
        || async { stats(app).await.is_some_and(|c| c["user.registered"] == 2) },
    )
    .await;
    assert_eq!(
        app.get("/api/v1/ext/nobody/stats", None).await.status(),
        404
    );

    // Interceptors run on the service tier for requests the controller serves.
    let dora = app.login_ok("dora", PASSWORD).await;
    eventually(
        Duration::from_secs(10),
        "the controller's responses carry the interceptor's header",
        || async {
            let me = app.get("/api/v1/auth/me", Some(&dora.access)).await;
            me.status() == 200
                && me
                    .headers()
                    .get("x-stamped-by")
                    .is_some_and(|v| v == "header-stamp")
        },
    )
    .await;
    let blocked = app
        .request(Method::GET, "/api/v1/auth/me", Some(&dora.access))
        .header("x-stamp-block", "yes")
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);
    assert_eq!(blocked.text().await.unwrap(), "blocked by header-stamp");

    service_tier_down(&mut stack).await;
    let app = &stack.controller;
    administer(app, &root.access, &dora.access).await;
}

/// Without the service tier, the controller's probes still answer, a fail-open interceptor is
/// skipped rather than turned into a refusal, and a plugin route is a 503 to retry later.
async fn service_tier_down(stack: &mut Stack) {
    stack.kill_service().await;
    let app = &stack.controller;
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    let route = app.get("/api/v1/ext/audit/stats", None).await;
    assert!(route.headers().contains_key("retry-after"));
    let (status, body) = problem(route).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("service_unavailable")),
        "{body}"
    );
    let login = json!({"username_or_email": "dora", "password": PASSWORD});
    let (status, body) = problem(app.post("/api/v1/auth/login", None, &login).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("service_unavailable")),
        "the use case's outage, not a plugin refusal: {body}"
    );
    stack.start_service().await;
    let app = &stack.controller;
    eventually(
        Duration::from_secs(15),
        "the plugin route answers again once the service tier is back",
        || async { stats(app).await.is_some() },
    )
    .await;
}

/// An upload through the controller: the module crosses the internal link to the service
/// tier's directory (the largest internal message there is).
async fn upload_audit(app: &TestApp, plugins: &PluginDir, root: &str) {
    let module = PluginDir::module("audit");
    let staged = plugins.keys().join("audit.wasm");
    std::fs::write(&staged, &module).unwrap();
    plugins.sign(&staged);
    let signature = std::fs::read_to_string(format!("{}.sig", staged.display())).unwrap();
    let upload = json!({
        "module_base64": base64::engine::general_purpose::STANDARD.encode(&module),
        "signature": signature,
    });
    let installed = app
        .send_json(Method::PUT, "/api/v1/plugins/audit", Some(root), &upload)
        .await;
    assert_eq!(
        installed.status(),
        200,
        "{}",
        installed.text().await.unwrap()
    );
    assert!(plugins.path().join("audit.wasm").exists());
    let unsigned = app
        .send_json(
            Method::PUT,
            "/api/v1/plugins/audit",
            Some(root),
            &json!({"module_base64": upload["module_base64"]}),
        )
        .await;
    assert_eq!(unsigned.status(), 422, "refused as in the monolith");
}

/// Administration through the controller: admins only, and every change acts on the service
/// tier's host.
async fn administer(app: &TestApp, root: &str, user: &str) {
    assert_eq!(app.get("/api/v1/plugins", Some(user)).await.status(), 403);
    let items = listed(app, root).await;
    let audit = items
        .iter()
        .find(|p| p["name"] == "audit")
        .expect("audit listed");
    assert_eq!(audit["state"], "enabled");
    assert_eq!(audit["routes"], true);
    assert!(audit["counters"]["calls"].as_u64().unwrap() >= 1, "{audit}");
    let disabled = app
        .post("/api/v1/plugins/audit/disable", Some(root), &Value::Null)
        .await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        app.get("/api/v1/ext/audit/stats", None).await.status(),
        503,
        "a disabled plugin's route"
    );
    let enabled = app
        .post("/api/v1/plugins/audit/enable", Some(root), &Value::Null)
        .await;
    assert_eq!(enabled.status(), 200);
    assert!(stats(app).await.is_some());

    let mut grpc = PluginServiceClient::new(app.grpc_channel().await);
    let names: Vec<String> = grpc
        .list_plugins(with_bearer(pb::ListPluginsRequest {}, Some(root)))
        .await
        .expect("gRPC admin through the controller")
        .into_inner()
        .items
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"audit".to_owned()) && names.contains(&"header-stamp".to_owned()));

    let removed = app
        .request(Method::DELETE, "/api/v1/plugins/header-stamp", Some(root))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    eventually(
        Duration::from_secs(10),
        "the controller stops calling interceptors once none runs",
        || async {
            let me = app.get("/api/v1/auth/me", Some(user)).await;
            me.status() == 200 && me.headers().get("x-stamped-by").is_none()
        },
    )
    .await;
}

#[tokio::test]
async fn plugins_through_a_grpc_controller() {
    plugins_run_on_the_service_tier_and_answer_through_the_controller(Link::Grpc).await;
}

#[tokio::test]
async fn plugins_through_an_http_controller() {
    plugins_run_on_the_service_tier_and_answer_through_the_controller(Link::Http).await;
}
