//! Durable storage end to end: the embedded default keeps data across restarts, and a database
//! that goes away yields 503 problems until it is back — without restarting the server.

use std::time::Duration;

use arcana_tests::chaos::{self, ChaosProxy};
use arcana_tests::databases::{Service, TestDatabase};
use arcana_tests::{TestApp, Tokens, problem};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

#[tokio::test]
async fn the_embedded_default_keeps_users_and_sessions_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("arcana-restart-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let first = TestApp::spawn_in(BIN, &dir, &[]).await;
    let tokens = first.register("durable", PASSWORD).await;
    assert_eq!(first.terminate().await, Some(0));
    let wal = dir.join("data").join("arcana.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "a clean shutdown checkpoints the write-ahead log"
    );
    assert!(
        dir.join("data").join("arcana.db").exists(),
        "the default database is a file under ./data"
    );

    let second = TestApp::spawn_in(BIN, &dir, &[]).await;
    let me = second.get("/api/v1/auth/me", Some(&tokens.access)).await;
    assert_eq!(me.status(), 200, "the session survived the restart");
    let refreshed = second
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    second.login_ok("durable", PASSWORD).await;
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn create_admin_writes_a_superadmin_that_the_server_then_signs_in() {
    use std::io::Write as _;
    let file = arcana_tests::TempFile::new("arcana-admin");
    let url = file.sqlite_url();
    let mut child = std::process::Command::new(BIN)
        .args([
            "user",
            "create-admin",
            "--username",
            "Boss",
            "--email",
            "boss@example.com",
            "--password-stdin",
        ])
        .env_clear()
        .env("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config")
        .env("ARCANA_DATABASE__URL", &url)
        .env("ARCANA_SECURITY__ARGON2__MEMORY_KIB", "64")
        .env("ARCANA_SECURITY__ARGON2__ITERATIONS", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"boss password 123\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("superadmin boss created"));

    let app = TestApp::spawn(BIN, &[("ARCANA_DATABASE__URL", &url)]).await;
    let boss = app.login_ok("boss", "boss password 123").await;
    assert_eq!(boss.body["user"]["role"], "superadmin");
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn database_outage_is_a_503_until_the_database_returns(service: Service) {
    let Some(db) = TestDatabase::create(service).await else {
        return;
    };
    let proxy = ChaosProxy::start(&chaos::target_of(&db.url)).await;
    let mut url = chaos::redirect(&db.url, proxy.addr());
    if service == Service::Mysql {
        // mysql_async otherwise switches a loopback TCP connection to the server's Unix socket,
        // which would bypass the proxy.
        url.push_str(if url.contains('?') {
            "&prefer_socket=false"
        } else {
            "?prefer_socket=false"
        });
    }
    let app = TestApp::spawn(
        BIN,
        &[
            ("ARCANA_DATABASE__URL", &url),
            ("ARCANA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1"),
            // Every read must reach the database: with a warm cache the read below would be
            // served without it (which is the cache's job, not what this test is about).
            ("ARCANA_CACHE__BACKEND", "none"),
        ],
    )
    .await;
    let tokens: Tokens = app.register("outage", PASSWORD).await;
    let path = format!("/api/v1/users/{}", tokens.user_id);
    assert_eq!(app.get(&path, Some(&tokens.access)).await.status(), 200);
    assert_pool_metrics(&app, service).await;

    proxy.cut();
    let response = app.get(&path, Some(&tokens.access)).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = problem(response).await;
    assert_eq!(status, 503, "{body}");
    assert!(retry_after.is_some(), "503 carries Retry-After");
    let text = body.to_string().to_lowercase();
    for leak in ["sqlx", "mysql", "postgres", "connection", "127.0.0.1"] {
        assert!(
            !text.contains(leak),
            "driver detail {leak:?} leaked: {body}"
        );
    }
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status(), 503);

    proxy.restore().await;
    let mut recovered = false;
    for _ in 0..60 {
        if app.get(&path, Some(&tokens.access)).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the server recovered without a restart");
    let ready: Value = app.get("/health/ready", None).await.json().await.unwrap();
    assert_eq!(ready["checks"]["database"]["status"], "up", "{ready}");
}

/// The pool is visible in `/metrics`: its bound, its connections by state and, where the pool
/// counts them (MySQL/MariaDB), the acquisitions that waited or gave up.
async fn assert_pool_metrics(app: &TestApp, service: Service) {
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    let value = |line_start: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(line_start))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{line_start} in /metrics:\n{metrics}"))
    };
    assert!((value("arcana_db_pool_max_connections ") - 10.0).abs() < f64::EPSILON);
    let open = value("arcana_db_pool_connections{state=\"in_use\"} ")
        + value("arcana_db_pool_connections{state=\"idle\"} ");
    assert!((1.0..=10.0).contains(&open), "{open} connections open");
    let counts_waits = metrics.contains("arcana_db_pool_waits_total ");
    assert_eq!(counts_waits, service == Service::Mysql, "{metrics}");
}

#[tokio::test]
async fn postgres_outage_is_a_503_until_it_returns() {
    database_outage_is_a_503_until_the_database_returns(Service::Postgres).await;
}

#[tokio::test]
async fn mysql_outage_is_a_503_until_it_returns() {
    database_outage_is_a_503_until_the_database_returns(Service::Mysql).await;
}
