//! The TLS material of one tier: the deployment's CA and this tier's certificate and key.

use std::path::Path;

use anyhow::Context as _;
use tonic::transport::{Certificate, Identity};

/// PEM files read once at start-up. The key never leaves this struct but into rustls.
#[derive(Clone)]
pub struct TlsMaterial {
    pub(crate) ca: Certificate,
    pub(crate) identity: Identity,
}

impl TlsMaterial {
    /// # Errors
    /// A file is missing or unreadable (the message names it, never its content).
    pub fn load(ca_file: &Path, cert_file: &Path, key_file: &Path) -> anyhow::Result<Self> {
        let read = |path: &Path| {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        };
        Ok(Self {
            ca: Certificate::from_pem(read(ca_file)?),
            identity: Identity::from_pem(read(cert_file)?, read(key_file)?),
        })
    }
}

impl TlsMaterial {
    /// From PEM already in memory (tests, development certificates).
    pub fn from_pem(ca: &[u8], cert: &[u8], key: &[u8]) -> Self {
        Self {
            ca: Certificate::from_pem(ca),
            identity: Identity::from_pem(cert, key),
        }
    }
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial(<redacted>)")
    }
}
