//! WebAssembly plugins end to end: the real `arcana` binary, real compiled plugins from
//! `plugins/`, signed by `arcana plugin sign`. Skipped (and failing under
//! `ARCANA_TEST_REQUIRE_SERVICES=1`) when the plugins cannot be built here.

#[path = "plugins/admin.rs"]
mod admin;
#[path = "plugins/grpc.rs"]
mod grpc;
#[path = "plugins/reload.rs"]
mod reload;
#[path = "plugins/sandbox.rs"]
mod sandbox;
#[path = "plugins/support.rs"]
mod support;
#[path = "plugins/worker.rs"]
mod worker;

use arcana_tests::TempFile;
use arcana_tests::plugins::{PluginDir, built};
use reqwest::Method;
use serde_json::Value;
use support::{BIN, assert_snapshot_recorded, counts, plugin, start, wait_for};

#[tokio::test]
async fn the_audit_plugin_counts_events_records_changes_and_keeps_its_state_across_a_restart() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("audit", "audit");
    let database = TempFile::new("arcana-plugins");
    let url = database.sqlite_url();
    let app = start(&plugins, &[("ARCANA_DATABASE__URL", url.as_str())]).await;
    let root = app.root().await;
    // Events are delivered after the request returns: start counting once root's login is in.
    let before = wait_for("root's login to be counted", || async {
        let counts = counts(&app).await;
        counts["user.logged_in"]
            .as_u64()
            .is_some_and(|n| n >= 1)
            .then_some(counts)
    })
    .await;

    let alice = app.register("alice", "alice-password-123").await;
    app.register("bob", "bob-password-123").await;
    app.login_ok("alice", "alice-password-123").await;
    let promote = serde_json::json!({"role": "moderator"});
    let path = format!("/api/v1/users/{}/role", alice.user_id);
    let changed = app
        .send_json(Method::PUT, &path, Some(&root.access), &promote)
        .await;
    assert_eq!(changed.status(), 200);

    let delta = |after: &Value, name: &str| {
        after[name].as_u64().unwrap_or(0) - before[name].as_u64().unwrap_or(0)
    };
    let after = wait_for("the plugin to count every event", || async {
        let after = counts(&app).await;
        (delta(&after, "user.registered") == 2
            && delta(&after, "user.logged_in") == 1
            && delta(&after, "user.role_changed") == 1)
            .then_some(after)
    })
    .await;
    assert_eq!(
        delta(&after, "user.login_failed"),
        0,
        "nothing that did not happen: {after}"
    );

    let audit = app
        .get("/api/v1/audit?action=plugin.recorded", Some(&root.access))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let lines: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("user.role_changed")
            && l.contains(&alice.user_id)
            && l.contains("moderator")),
        "the plugin's audit line for the role change: {lines:?}"
    );

    let compiled = compiled_entry(&plugins, "audit");
    app.terminate().await;
    let app = start(&plugins, &[("ARCANA_DATABASE__URL", url.as_str())]).await;
    assert_eq!(
        compiled_entry(&plugins, "audit"),
        compiled,
        "the restart loads the compiled module from the cache instead of compiling it again"
    );
    let restarted = counts(&app).await;
    assert_eq!(
        restarted["user.registered"], after["user.registered"],
        "counts survive a restart"
    );
    assert_eq!(restarted["user.role_changed"], after["user.role_changed"]);
    let info = plugin(&app, &app.root().await.access, "audit").await;
    assert_eq!(info["state"], "enabled");
    assert_eq!(info["version"], "0.1.0");
}

/// The compiled-cache entry of `plugin` and its inode: an entry written again (by rename) gets a
/// new inode.
fn compiled_entry(plugins: &PluginDir, plugin: &str) -> (std::path::PathBuf, u64) {
    use std::os::unix::fs::MetadataExt as _;
    let dir = plugins.path().join(".compiled");
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "cwasm")
                && path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(&format!("{plugin}.")))
        })
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "one compiled entry per plugin: {entries:?}"
    );
    let inode = std::fs::metadata(&entries[0]).unwrap().ino();
    (entries[0].clone(), inode)
}

#[tokio::test]
async fn plugin_routes_answer_under_ext_and_unknown_ones_are_404() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("audit", "audit");
    let app = start(&plugins, &[]).await;
    let stats = app.get("/api/v1/ext/audit/stats", None).await;
    assert_eq!(stats.status(), 200);
    assert_eq!(stats.headers()["content-type"], "application/json");
    assert!(stats.json::<Value>().await.unwrap()["counts"].is_object());
    for missing in [
        "/api/v1/ext/audit/nope",
        "/api/v1/ext/nobody/stats",
        "/api/v1/ext/Bad_Name/x",
    ] {
        assert_eq!(app.get(missing, None).await.status(), 404, "{missing}");
    }
    let wrong_method = app
        .request(Method::POST, "/api/v1/ext/audit/stats", None)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 404);
}

#[tokio::test]
async fn a_plugin_job_runs_on_the_worker_pool_like_any_other_job() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("audit", "audit");
    let app = start(&plugins, &[("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "10")]).await;
    let root = app.root().await;
    let token = Some(root.access.as_str());
    let enqueue = |name: &'static str| {
        let app = &app;
        async move {
            let response = app
                .post("/api/v1/jobs", token, &serde_json::json!({"name": name}))
                .await;
            assert_eq!(response.status(), 201, "enqueueing {name}");
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let state_of = |id: String, state: &'static str| {
        let app = &app;
        async move {
            wait_for(&format!("job {id} to be {state}"), || async {
                let job: Value = app
                    .get(&format!("/api/v1/jobs/{id}"), token)
                    .await
                    .json()
                    .await
                    .unwrap();
                (job["state"] == state).then_some(job)
            })
            .await
        }
    };
    state_of(enqueue("audit.snapshot").await, "completed").await;
    assert_snapshot_recorded(&app, token, "the job wrote its snapshot").await;
    let unknown = state_of(enqueue("audit.nope").await, "dead").await;
    assert!(
        unknown["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no handler")),
        "{unknown}"
    );
}
