//! The container image ships one binary: `arcana`, with the tier names as links to it. A stack
//! started through such links must be the same layered deployment as the separate binaries.

use std::path::PathBuf;

use arcana_tests::TempFile;
use arcana_tests::layered::{Binaries, Stack, Transport as Link};

use crate::{BINS, PASSWORD};

/// Links named after each tier to the `arcana` binary, in a fresh directory.
fn links_to_arcana() -> (PathBuf, Binaries) {
    let dir = std::env::temp_dir().join(format!("arcana-links-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("a directory for the links");
    let link = |name: &str| -> &'static str {
        let path = dir.join(name);
        std::os::unix::fs::symlink(BINS.arcana, &path).expect("a symbolic link");
        Box::leak(path.display().to_string().into_boxed_str())
    };
    let bins = Binaries {
        arcana: BINS.arcana,
        controller: link("arcana-controller"),
        service: link("arcana-service"),
        repository: link("arcana-repository"),
    };
    (dir, bins)
}

#[tokio::test]
async fn the_arcana_binary_runs_as_the_tier_it_is_invoked_as() {
    let (dir, bins) = links_to_arcana();
    let file = TempFile::new("arcana-links");
    // `Stack::start` waits for each tier's internal and operations listeners: run as the
    // monolith, a link would open the public ones instead and the start would fail.
    let stack = Stack::start(bins, Link::Grpc, &file.sqlite_url(), &[]).await;
    let tokens = stack.controller.register("linked", PASSWORD).await;
    let me = stack
        .controller
        .get("/api/v1/auth/me", Some(&tokens.access))
        .await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.expect("a JSON body");
    assert_eq!(me["username"], "linked");
    drop(stack);
    let _ = std::fs::remove_dir_all(dir);
}
