//! Shared steps of the plugin suites.

use std::future::Future;
use std::time::{Duration, Instant};

use arcana_tests::TestApp;
use arcana_tests::plugins::PluginDir;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_arcana");

/// The binary with the plugin host on `plugins`, plus `extra` settings.
pub async fn start(plugins: &PluginDir, extra: &[(&str, &str)]) -> TestApp {
    let env = plugins.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    TestApp::spawn(BIN, &all).await
}

/// Polls `check` every 20 ms until it yields a value; fails after ten seconds.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The audit plugin's counts.
pub async fn counts(app: &TestApp) -> Value {
    let response = app.get("/api/v1/ext/audit/stats", None).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.expect("json")["counts"].clone()
}

/// One plugin's entry of `GET /api/v1/plugins`.
pub async fn plugin(app: &TestApp, token: &str, name: &str) -> Value {
    let list = app.get("/api/v1/plugins", Some(token)).await;
    assert_eq!(list.status(), 200);
    let list = list.json::<Value>().await.expect("json");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("plugin {name} listed: {list}"))
}

/// The audit plugin's `audit.snapshot` job has written its counts to the audit log.
pub async fn assert_snapshot_recorded(app: &TestApp, token: Option<&str>, context: &str) {
    let audit: Value = app
        .get("/api/v1/audit?action=plugin.recorded", token)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        audit["items"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("snapshot {")),
        "{context}: {audit}"
    );
}
