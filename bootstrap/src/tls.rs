//! `arcana tls init --out DIR`: a development CA and one certificate per tier, so that the
//! layered modes run with real mutual TLS from the first try. Development only: the CA's key is
//! not kept, and production brings certificates from its own CA, each naming its tier as a DNS
//! SAN.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use arcana_adapter_grpc_client::devcerts::{DevCertificates, TIERS};

/// Writes `ca.pem` and `<tier>.pem` / `<tier>.key` for each tier into `out`.
pub fn init(out: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let names: Vec<String> = std::iter::once("ca.pem".to_owned())
        .chain(
            TIERS
                .iter()
                .flat_map(|t| [format!("{t}.pem"), format!("{t}.key")]),
        )
        .collect();
    if let Some(existing) = names.iter().find(|name| out.join(name).exists()) {
        anyhow::bail!(
            "{} already exists; remove the old files or choose another folder",
            out.join(existing).display()
        );
    }
    let certificates = DevCertificates::generate()?;
    write(&out.join("ca.pem"), &certificates.ca, false)?;
    for (tier, cert, key) in &certificates.tiers {
        write(&out.join(format!("{tier}.pem")), cert, false)?;
        write(&out.join(format!("{tier}.key")), key, true)?;
    }
    println!(
        "arcana: development CA and tier certificates written to {} (development only)",
        out.display()
    );
    Ok(())
}

fn write(path: &Path, content: &str, private: bool) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
