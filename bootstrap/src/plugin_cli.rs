//! `arcana plugin keygen | sign | verify`: the signing side of plugin installation. They need
//! no configuration, so they run before any is loaded.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use arcana_adapter_wasm::signature::{self, SecretKey, TrustedKey};

use crate::cli::PluginCommand;

pub fn run(command: &PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Keygen { out } => keygen(out),
        PluginCommand::Sign { file, key } => sign(file, key),
        PluginCommand::Verify { file, key } => verify(file, key),
    }
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (secret_path, public_path) = (out.join("plugin.key"), out.join("plugin.pub"));
    for path in [&secret_path, &public_path] {
        anyhow::ensure!(
            !path.exists(),
            "{} already exists; not overwriting a key",
            path.display()
        );
    }
    let key = SecretKey::generate()?;
    write_secret(&secret_path, &format!("{}\n", key.render()))?;
    fs::write(&public_path, format!("{}\n", key.public().render()))
        .with_context(|| format!("writing {}", public_path.display()))?;
    println!("arcana: signing key written to {}", secret_path.display());
    println!(
        "arcana: public key written to {}; trust it with:",
        public_path.display()
    );
    println!("  plugins.trusted_keys = [\"{}\"]", key.public().render());
    Ok(())
}

fn sign(file: &Path, key: &Path) -> anyhow::Result<()> {
    let key = SecretKey::parse(&read_text(key)?)
        .map_err(|err| anyhow::anyhow!("{}: {err}", key.display()))?;
    let module = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let out = signature_path(file);
    fs::write(&out, key.sign(&module)).with_context(|| format!("writing {}", out.display()))?;
    println!("arcana: signature written to {}", out.display());
    Ok(())
}

fn verify(file: &Path, key: &Path) -> anyhow::Result<()> {
    let key = TrustedKey::parse(&read_text(key)?)
        .map_err(|err| anyhow::anyhow!("{}: {err}", key.display()))?;
    let module = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let sig_path = signature_path(file);
    let sig = fs::read(&sig_path).with_context(|| format!("reading {}", sig_path.display()))?;
    signature::verify(&module, &sig, &[key])
        .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
    println!("arcana: {} is signed by this key", file.display());
    Ok(())
}

fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The secret key is created readable by its owner only, before any byte is written.
fn write_secret(path: &Path, content: &str) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
