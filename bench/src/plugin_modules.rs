//! The plugins the plugin scenarios and micro-benchmarks load, built from `plugins/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// `plugins/` for wasm32-wasip2 into `<target>/plugins-wasm`, shared with the test suites.
pub fn build() -> anyhow::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("repository root")?;
    let target = std::env::current_exe()?
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map_or_else(|| root.join("target"), Path::to_path_buf)
        .join("plugins-wasm");
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("running cargo for plugins/")?;
    anyhow::ensure!(
        status.success(),
        "building plugins/ (rustup target add wasm32-wasip2?)"
    );
    Ok(target.join("wasm32-wasip2/release"))
}
