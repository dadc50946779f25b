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

/// In a layered deployment the controller and the repository tier never touch a token: they
/// must start in production without the signing key, which only the service tier (and
/// `arcana-worker`) may hold, and which the service tier still refuses to run without.
#[test]
fn only_the_tiers_that_sign_tokens_need_the_jwt_secret_in_production() {
    let certs = std::env::temp_dir().join(format!("arcana-certs-{}", std::process::id()));
    let written = arcana(&["tls", "init", "--out", &certs.display().to_string()], &[]);
    assert!(written.status.success(), "{written:?}");
    let file = |name: &str| certs.join(name).display().to_string();
    let (ca, cert, key) = (file("ca.pem"), file("service.pem"), file("service.key"));
    let layered = [
        ("ARCANA_ENVIRONMENT", "production"),
        ("ARCANA_MODE", "layered-grpc"),
        ("ARCANA_TLS__CA_FILE", ca.as_str()),
        ("ARCANA_TLS__CERT_FILE", cert.as_str()),
        ("ARCANA_TLS__KEY_FILE", key.as_str()),
    ];
    let checked = arcana(&["config", "check"], &layered);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let service = Command::new(env!("CARGO_BIN_EXE_arcana-service"))
        .env_clear()
        .env("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config")
        .envs(layered)
        .env("ARCANA_TIERS__REPOSITORY_URL", "https://127.0.0.1:9")
        .output()
        .expect("arcana-service runs");
    let _ = std::fs::remove_dir_all(&certs);
    assert_eq!(service.status.code(), Some(2), "{service:?}");
    let stderr = String::from_utf8_lossy(&service.stderr);
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

/// Secrets from mounted files: the content is the value (one trailing newline dropped), and a
/// file that cannot be read is named in the error without anything read from elsewhere.
#[test]
fn a_key_can_come_from_the_file_its_file_variable_names() {
    let dir = std::env::temp_dir().join(format!("arcana-secret-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let secret = dir.join("jwt");
    std::fs::write(
        &secret,
        "a-jwt-secret-read-from-a-mounted-file-0123456789\n",
    )
    .expect("written");
    let path = secret.display().to_string();
    let production = [
        ("ARCANA_ENVIRONMENT", "production"),
        ("ARCANA_SECURITY__JWT_SECRET__FILE", path.as_str()),
    ];
    let checked = arcana(&["config", "check"], &production);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let short = dir.join("short");
    std::fs::write(&short, "too-short\n").expect("written");
    let short = short.display().to_string();
    let refused = arcana(
        &["config", "check"],
        &[("ARCANA_SECURITY__JWT_SECRET__FILE", short.as_str())],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");

    let missing = dir.join("missing").display().to_string();
    let refused = arcana(
        &["config", "check"],
        &[("ARCANA_DATABASE__URL__FILE", missing.as_str())],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("database.url") && stderr.contains(&missing),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
