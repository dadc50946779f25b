//! `arcana-worker` beside the monolith: a plugin's job lands on whichever worker claims it, so
//! a separate worker process loads the plugins too and runs the job instead of dead-lettering it.

use std::process::Stdio;

use arcana_tests::TempFile;
use arcana_tests::plugins::{PluginDir, built};
use arcana_tests::redis::TestRedis;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::support::{assert_snapshot_recorded, start, wait_for};

const WORKER: &str = env!("CARGO_BIN_EXE_arcana-worker");

#[tokio::test]
async fn a_plugin_job_runs_on_a_separate_worker_process() {
    if built().is_none() {
        return;
    }
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let plugins = PluginDir::new(super::support::BIN);
    plugins.install("audit", "audit");
    let database = TempFile::new("arcana-plugin-worker");
    let url = database.sqlite_url();
    let shared = [
        ("ARCANA_DATABASE__URL", url.as_str()),
        ("ARCANA_REDIS__URL", redis.url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_JOBS__BACKEND", "redis"),
        ("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "10"),
    ];
    // The server runs no worker of its own: only the separate process can take the job.
    let mut server_env = shared.to_vec();
    server_env.push(("ARCANA_JOBS__WORKER__ENABLED", "false"));
    let app = start(&plugins, &server_env).await;

    let mut worker = Command::new(WORKER);
    worker
        .env_clear()
        .envs(plugins.env())
        .envs(shared)
        .env("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config")
        .env(
            "ARCANA_SECURITY__JWT_SECRET",
            "test-secret-test-secret-test-secret-0123",
        )
        .env("ARCANA_OBSERVABILITY__LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut worker = worker.spawn().expect("arcana-worker starts");
    let mut lines = BufReader::new(worker.stdout.take().expect("stdout piped")).lines();
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stdout readable") {
            if line.contains("arcana-worker: running") {
                return;
            }
        }
        panic!("arcana-worker exited before running");
    })
    .await
    .expect("the worker runs within 30 s");

    let root = app.root().await;
    let token = Some(root.access.as_str());
    let created = app
        .post(
            "/api/v1/jobs",
            token,
            &serde_json::json!({"name": "audit.snapshot"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = wait_for("the worker to complete the plugin job", || async {
        let job: Value = app
            .get(&format!("/api/v1/jobs/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        matches!(job["state"].as_str(), Some("completed" | "dead")).then_some(job)
    })
    .await;
    assert_eq!(job["state"], "completed", "{job}");
    assert_snapshot_recorded(
        &app,
        token,
        "the job, run by the worker, wrote its snapshot to the shared audit log",
    )
    .await;
    worker.start_kill().expect("worker stopped");
}
