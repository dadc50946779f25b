//! What a plugin cannot do: load unsigned or mis-signed, reach outside its sandbox, run past its
//! budget, take the host's memory, or fail a request through a fail-open hook.

use std::time::Duration;

use arcana_tests::plugins::{PluginDir, built};
use reqwest::Method;
use serde_json::Value;

use crate::support::{BIN, plugin, start, wait_for};

#[tokio::test]
async fn unsigned_wrong_key_tampered_and_malformed_signatures_are_refused() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    let stranger = PluginDir::new(BIN);
    let dir = plugins.path();
    // Each under its own name: the signature is checked before the module is even parsed, so
    // the name inside never matters for these.
    std::fs::write(dir.join("unsigned.wasm"), PluginDir::module("audit")).unwrap();
    let wrong_key = dir.join("wrong-key.wasm");
    std::fs::write(&wrong_key, PluginDir::module("audit")).unwrap();
    stranger.sign(&wrong_key);
    let tampered = plugins.install("audit", "tampered");
    let mut bytes = std::fs::read(&tampered).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    let malformed = plugins.install("audit", "malformed");
    std::fs::write(
        format!("{}.sig", malformed.display()),
        "ed25519:not-a-signature\n",
    )
    .unwrap();
    let app = start(&plugins, &[]).await;
    let root = app.root().await;

    for (name, reason) in [
        ("unsigned", "no signature file"),
        ("wrong-key", "does not match"),
        ("tampered", "does not match"),
        ("malformed", "malformed"),
    ] {
        let info = plugin(&app, &root.access, name).await;
        assert_eq!(info["state"], "rejected", "{name}: {info}");
        let error = info["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "{name} refused for `{reason}`: {error}"
        );
        assert_eq!(info["version"], "", "{name} was never described");
    }
    let cli = std::process::Command::new(BIN)
        .args(["plugin", "verify"])
        .arg(&wrong_key)
        .arg("--key")
        .arg(plugins.keys().join("plugin.pub"))
        .output()
        .unwrap();
    assert!(
        !cli.status.success(),
        "`arcana plugin verify` fails for another key"
    );
}

#[tokio::test]
async fn a_plugin_granted_nothing_cannot_read_files_open_sockets_or_see_the_environment() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("sandbox-probe", "sandbox-probe");
    let denied = start(
        &plugins,
        &[("ARCANA_PROBE_GRANTED", "yes"), ("HOME", "/root")],
    )
    .await;
    let probe: Value = denied
        .get("/api/v1/ext/sandbox-probe/probe", None)
        .await
        .json()
        .await
        .unwrap();
    for attempt in ["fs", "dir", "net", "env", "granted_env"] {
        assert_eq!(probe[attempt], "denied", "{attempt}: {probe}");
    }
    denied.terminate().await;

    // The descriptor asks for `env:ARCANA_PROBE_GRANTED`; granting it gives exactly that.
    let granted = start(
        &plugins,
        &[
            ("ARCANA_PROBE_GRANTED", "yes"),
            (
                "ARCANA_PLUGINS__GRANTS__SANDBOX-PROBE",
                "[\"env:ARCANA_PROBE_GRANTED\"]",
            ),
        ],
    )
    .await;
    let probe: Value = granted
        .get("/api/v1/ext/sandbox-probe/probe", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(probe["granted_env"], "yes", "{probe}");
    for attempt in ["fs", "dir", "net", "env"] {
        assert_eq!(probe[attempt], "denied", "{attempt} stays denied: {probe}");
    }
}

#[tokio::test]
async fn a_looping_plugin_is_stopped_at_its_budget_and_quarantined_while_the_server_answers() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("looper", "looper");
    let app = start(
        &plugins,
        &[
            ("ARCANA_PLUGINS__ROUTE_BUDGET_MS", "50"),
            ("ARCANA_PLUGINS__FAILURE_BUDGET__MAX_FAILURES", "3"),
        ],
    )
    .await;
    assert_eq!(app.get("/api/v1/ext/looper/ok", None).await.status(), 200);
    let spins: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(
                app.request(Method::GET, "/api/v1/ext/looper/spin", None)
                    .send(),
            )
        })
        .collect();
    let health = async {
        let mut answered = 0;
        for _ in 0..20 {
            assert_eq!(
                app.get("/health", None).await.status(),
                200,
                "/health while plugins loop"
            );
            answered += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        answered
    };
    let answered = health.await;
    assert_eq!(answered, 20);
    for spin in spins {
        let spin = spin.await.unwrap().unwrap();
        assert_eq!(spin.status(), 502, "a looping route is cut off");
        let body: Value = spin.json().await.unwrap();
        assert_eq!(body["code"], "plugin_failed");
    }
    let root = app.root().await;
    let info = plugin(&app, &root.access, "looper").await;
    assert_eq!(info["state"], "quarantined", "{info}");
    assert_eq!(info["counters"]["timeouts"], 3);
    assert!(info["quarantined_until"].is_string());
    let refused = app.get("/api/v1/ext/looper/ok", None).await;
    assert_eq!(refused.status(), 503, "a quarantined plugin is not called");
    assert!(refused.headers().contains_key("retry-after"));
    let audit: Value = app
        .get(
            "/api/v1/audit?action=plugin.quarantined",
            Some(&root.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["subject"], "plugin:looper", "{audit}");

    // An operator lifts the quarantine.
    let enabled = app
        .post(
            "/api/v1/plugins/looper/enable",
            Some(&root.access),
            &Value::Null,
        )
        .await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(app.get("/api/v1/ext/looper/ok", None).await.status(), 200);
}

#[tokio::test]
async fn a_memory_hog_hits_its_limit_and_the_host_keeps_serving() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("hog", "hog");
    let app = start(&plugins, &[("ARCANA_PLUGINS__MEMORY_LIMIT_MIB", "16")]).await;
    let small = app.get("/api/v1/ext/hog/grow?mb=4", None).await;
    assert_eq!(small.status(), 200);
    assert_eq!(small.text().await.unwrap(), "4");
    let big = app.get("/api/v1/ext/hog/grow?mb=64", None).await;
    assert_eq!(big.status(), 502, "past the memory limit the call traps");
    assert_eq!(app.get("/health", None).await.status(), 200);
    let again = app.get("/api/v1/ext/hog/grow?mb=4", None).await;
    assert_eq!(
        again.status(),
        200,
        "a fresh instance replaces the trapped one"
    );
    let info = plugin(&app, &app.root().await.access, "hog").await;
    assert_eq!(info["counters"]["traps"], 1, "{info}");
    assert!(
        info["last_error"].as_str().unwrap().contains("memory"),
        "{info}"
    );
}

#[tokio::test]
async fn interceptors_modify_headers_answer_requests_and_fail_open_when_they_trap() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("header-stamp", "header-stamp");
    plugins.install("trapper", "trapper");
    // Every failure here must be a trap: on a loaded machine the first (cold) call of a debug
    // build can overrun the default 5 ms budget and count as a timeout instead.
    let app = start(
        &plugins,
        &[("ARCANA_PLUGINS__INTERCEPTOR_BUDGET_MS", "1000")],
    )
    .await;
    let user = app.register("carol", "carol-password-123").await;
    for _ in 0..7 {
        let me = app.get("/api/v1/auth/me", Some(&user.access)).await;
        assert_eq!(
            me.status(),
            200,
            "a trapping fail-open interceptor never fails the request"
        );
        assert_eq!(me.headers()["x-stamped-by"], "header-stamp");
    }
    let blocked = app
        .request(Method::GET, "/api/v1/auth/me", Some(&user.access))
        .header("x-stamp-block", "yes")
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);
    assert_eq!(blocked.text().await.unwrap(), "blocked by header-stamp");
    // The probes never go through interceptors, not even one that would refuse them.
    for probe in ["/health", "/health/live", "/health/ready"] {
        let answer = app
            .request(Method::GET, probe, None)
            .header("x-stamp-block", "yes")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{probe}");
        assert!(!answer.headers().contains_key("x-stamped-by"), "{probe}");
    }
    let root = app.root().await;
    let trapper = wait_for("the trapper to be quarantined", || async {
        let info = plugin(&app, &root.access, "trapper").await;
        (info["state"] == "quarantined").then_some(info)
    })
    .await;
    assert!(
        trapper["counters"]["traps"].as_u64().unwrap() >= 5,
        "{trapper}"
    );
    let error = trapper["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("trapper fails"),
        "the panic message explains the trap: {error}"
    );
    let stamp = plugin(&app, &root.access, "header-stamp").await;
    assert_eq!(stamp["counters"]["failures"], 0);
    assert_eq!(stamp["interceptor"], true);
}
