//! Hot reload: replacing a plugin's file while requests flow.

use std::path::Path;

use arcana_tests::plugins::{PluginDir, built};

use crate::support::{BIN, plugin, start, wait_for};

/// The audit module with a custom section appended: the same plugin, different bytes, so a
/// different version as far as the host can tell.
fn variant(n: u32) -> Vec<u8> {
    let mut module = PluginDir::module("audit");
    let name = b"arcana-test-variant";
    let payload = n.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    module.push(0); // custom section id
    module.push(u8::try_from(size).unwrap());
    module.push(u8::try_from(name.len()).unwrap());
    module.extend_from_slice(name);
    module.extend_from_slice(&payload);
    module
}

/// Writes the signature first, then the module, each through a rename, as an operator's
/// deployment tool would.
fn replace(plugins: &PluginDir, bytes: &[u8]) {
    let staging = plugins.keys().join("audit.wasm");
    std::fs::write(&staging, bytes).unwrap();
    plugins.sign(&staging);
    let target = plugins.path();
    rename(
        &plugins.keys().join("audit.wasm.sig"),
        &target.join("audit.wasm.sig"),
    );
    rename(&staging, &target.join("audit.wasm"));
}

fn rename(from: &Path, to: &Path) {
    std::fs::rename(from, to).unwrap();
}

#[tokio::test]
async fn ten_replacements_under_load_answer_every_call_and_a_broken_one_keeps_the_old_version() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("audit", "audit");
    let app = std::sync::Arc::new(start(&plugins, &[]).await);
    let root = app.root().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let status = app.get("/api/v1/ext/audit/stats", None).await.status();
                assert_eq!(status, 200, "every call during a reload is answered");
                answered += 1;
            }
            answered
        })
    };
    for n in 1..=10 {
        let bytes = variant(n);
        let sha = hex_sha256(&bytes);
        replace(&plugins, &bytes);
        wait_for("the new version to serve", || async {
            let info = plugin(&app, &root.access, "audit").await;
            (info["sha256"] == sha.as_str()).then_some(())
        })
        .await;
    }
    let running = plugin(&app, &root.access, "audit").await["sha256"].clone();
    replace(&plugins, b"\0asm not really a component");
    let refused = wait_for("the broken replacement to be refused", || async {
        let info = plugin(&app, &root.access, "audit").await;
        info["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("previous version kept"))
            .then_some(info)
    })
    .await;
    assert_eq!(refused["sha256"], running, "the old version keeps running");
    assert_eq!(refused["state"], "enabled");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = load.await.unwrap();
    assert!(
        answered > 10,
        "requests flowed during the reloads ({answered})"
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}
