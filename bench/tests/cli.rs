//! The harness's command line, without running a scenario.

use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_arcana-bench");

#[test]
fn a_missing_arcana_binary_is_refused_at_once_and_named() {
    let out = Command::new(BENCH)
        .args(["run", "--smoke", "--arcana", "./no/such/arcana"])
        .output()
        .expect("the harness runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--arcana ./no/such/arcana: no such binary"),
        "{stderr}"
    );
}
