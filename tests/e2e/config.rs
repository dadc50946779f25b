//! The binary's configuration contract: refusals at start-up and the `config` commands.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_arcana");

fn arcana(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config")
        .envs(env.iter().copied())
        .output()
        .expect("arcana runs")
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let output = arcana(&["serve"], &[("ARCANA_ENVIRONMENT", "production")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("security.jwt_secret"), "{stderr}");
}

#[test]
fn every_configuration_error_is_reported_at_once() {
    let output = arcana(
        &["config", "check"],
        &[
            ("ARCANA_SECURITY__JWT_SECRET", "too-short"),
            ("ARCANA_SERVER__REST__PORT", "not-a-number"),
            ("ARCANA_DATABASE__URL", "oracle://x"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for problem in ["server", "security.jwt_secret", "database.url"] {
        assert!(stderr.contains(problem), "{problem} not reported: {stderr}");
    }
}

#[test]
fn config_show_redacts_secrets() {
    let secret = "a-very-secret-value-that-is-long-enough";
    let output = arcana(
        &["config", "show"],
        &[("ARCANA_SECURITY__JWT_SECRET", secret)],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(secret));
    assert!(stdout.contains("<redacted>"));
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(parsed["server"]["rest"]["port"], 8080);
}

#[test]
fn create_admin_refuses_a_database_that_keeps_nothing() {
    let output = arcana(
        &[
            "user",
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
            "--password-stdin",
        ],
        &[("ARCANA_DATABASE__URL", "memory:")],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bootstrap_admin"));
}
