//! The plugin suites' fixtures: the `plugins/` workspace built for wasm32-wasip2 once per test
//! run (shared by every test process through a file lock), and a plugin directory whose modules
//! are signed with a fresh key by the real `arcana plugin` commands.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::databases::services_required;

const TARGET: &str = "wasm32-wasip2";

/// The folder holding the built `.wasm` files, or `None` (after saying why) when they cannot
/// be built here and the run does not require it.
pub fn built() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(build).as_deref()
}

fn build() -> Option<PathBuf> {
    match try_build() {
        Ok(dir) => Some(dir),
        Err(why) if services_required() => {
            panic!(
                "the plugin fixtures could not be built and ARCANA_TEST_REQUIRE_SERVICES=1: {why}"
            )
        }
        Err(why) => {
            eprintln!("skipping: the plugin fixtures could not be built ({why})");
            None
        }
    }
}

fn try_build() -> Result<PathBuf, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_path_buf();
    let target_dir = cargo_target_dir().join("plugins-wasm");
    std::fs::create_dir_all(&target_dir).map_err(|e| e.to_string())?;
    // Test binaries run in parallel processes; one builds, the others wait and find it done.
    let lock = std::fs::File::create(target_dir.join(".build-lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    ensure_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(repo.join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer cargo's settings are for the host build, not this one.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build of plugins/ failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target_dir.join(TARGET).join("release"))
}

fn ensure_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is not available ({e}); install the {TARGET} target"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .output()
        .map_err(|e| e.to_string())?;
    if added.status.success() {
        Ok(())
    } else {
        Err(format!(
            "rustup target add {TARGET} failed: {}",
            String::from_utf8_lossy(&added.stderr)
        ))
    }
}

/// `target/` of the running test binary (`target/debug/deps/<test>`).
fn cargo_target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// A plugin directory and a signing key made by `arcana plugin keygen`.
pub struct PluginDir {
    root: PathBuf,
    arcana: PathBuf,
    /// The one-line public key, for `plugins.trusted_keys`.
    pub trusted_key: String,
}

impl PluginDir {
    pub fn new(arcana: &str) -> Self {
        let root = std::env::temp_dir().join(format!("arcana-plugins-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("plugins")).expect("plugin dir");
        let mut dir = Self {
            root,
            arcana: PathBuf::from(arcana),
            trusted_key: String::new(),
        };
        dir.arcana(&["plugin", "keygen", "--out"], &[dir.keys()]);
        std::fs::read_to_string(dir.keys().join("plugin.pub"))
            .expect("public key written")
            .trim()
            .clone_into(&mut dir.trusted_key);
        dir
    }

    pub fn path(&self) -> PathBuf {
        self.root.join("plugins")
    }

    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The built module of fixture crate `krate` (`header-stamp`), as bytes.
    pub fn module(krate: &str) -> Vec<u8> {
        let dir = built().expect("plugin fixtures built");
        std::fs::read(dir.join(format!("{}.wasm", krate.replace('-', "_")))).expect("module built")
    }

    /// Copies fixture `krate` in as `name.wasm` and signs it with this directory's key.
    pub fn install(&self, krate: &str, name: &str) -> PathBuf {
        let file = self.path().join(format!("{name}.wasm"));
        std::fs::write(&file, Self::module(krate)).expect("module copied");
        self.sign(&file);
        file
    }

    pub fn sign(&self, file: &Path) {
        self.arcana(
            &["plugin", "sign"],
            &[
                file.to_path_buf(),
                "--key".into(),
                self.keys().join("plugin.key"),
            ],
        );
    }

    /// The environment that enables the plugin host on this directory.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("ARCANA_PLUGINS__ENABLED".to_owned(), "true".to_owned()),
            (
                "ARCANA_PLUGINS__DIRECTORY".to_owned(),
                self.path().display().to_string(),
            ),
            (
                "ARCANA_PLUGINS__TRUSTED_KEYS".to_owned(),
                format!("[\"{}\"]", self.trusted_key),
            ),
        ]
    }

    fn arcana(&self, args: &[&str], paths: &[PathBuf]) {
        let status = Command::new(&self.arcana)
            .args(args)
            .args(paths)
            .output()
            .expect("arcana runs");
        assert!(
            status.status.success(),
            "arcana {args:?} failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
}

impl Drop for PluginDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
