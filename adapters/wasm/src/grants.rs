//! Capabilities: a plugin gets a WASI resource only if its (signed) descriptor asks for it and
//! the operator's configuration grants it. Everything else is denied: no environment, no
//! preopened directory, no sockets, no name lookup, stdin closed, stdout and stderr discarded.

use std::net::SocketAddr;
use std::path::PathBuf;

use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::output::OutputTail;

/// One capability, parsed from `env:NAME`, `fs.read:/dir` or `net.connect:ip:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    Env(String),
    ReadDir(PathBuf),
    Connect(SocketAddr),
}

impl Capability {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || {
            format!("capability `{raw}` is not `env:NAME`, `fs.read:/dir` or `net.connect:ip:port`")
        };
        let (kind, value) = raw.split_once(':').ok_or_else(bad)?;
        match kind {
            "env" if !value.is_empty() && !value.contains('=') => Ok(Self::Env(value.to_owned())),
            "fs.read" if value.starts_with('/') => Ok(Self::ReadDir(PathBuf::from(value))),
            "net.connect" => value.parse().map(Self::Connect).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// What one plugin version was actually given: the intersection of what it asked for and what
/// the operator granted, by exact capability text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    capabilities: Vec<Capability>,
}

impl Grants {
    pub fn intersect(requested: &[String], granted: &[String]) -> Result<Self, String> {
        let capabilities = requested
            .iter()
            .filter(|wanted| granted.contains(wanted))
            .map(|raw| Capability::parse(raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { capabilities })
    }

    /// The instance's WASI context; whatever the guest prints goes to `output`.
    pub fn wasi_context(&self, output: &OutputTail) -> WasiCtx {
        let mut builder = WasiCtx::builder();
        builder.stdout(output.clone()).stderr(output.clone());
        builder
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let mut sockets = Vec::new();
        for capability in &self.capabilities {
            match capability {
                Capability::Env(name) => {
                    if let Ok(value) = std::env::var(name) {
                        builder.env(name, value);
                    }
                }
                Capability::ReadDir(dir) => {
                    let guest = dir.to_string_lossy().into_owned();
                    if let Err(err) = builder.preopened_dir(dir, guest, FsPerms::ReadOnly) {
                        tracing::warn!(dir = %dir.display(), "granted directory cannot be opened: {err}");
                    }
                }
                Capability::Connect(addr) => sockets.push(*addr),
            }
        }
        if !sockets.is_empty() {
            builder
                .allow_tcp(true)
                .socket_addr_check(move |addr, _use| {
                    let allowed = sockets.contains(&addr);
                    Box::pin(async move { allowed })
                });
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_both_requested_and_granted_is_given() {
        let requested = vec!["env:A".to_owned(), "env:B".to_owned()];
        let granted = vec!["env:B".to_owned(), "env:C".to_owned()];
        let grants = Grants::intersect(&requested, &granted).unwrap();
        assert_eq!(grants.capabilities, vec![Capability::Env("B".to_owned())]);
        assert_eq!(
            Grants::intersect(&requested, &[]).unwrap(),
            Grants::default()
        );
    }

    #[test]
    fn capabilities_parse_strictly() {
        assert_eq!(
            Capability::parse("net.connect:127.0.0.1:80").unwrap(),
            Capability::Connect("127.0.0.1:80".parse().unwrap())
        );
        assert!(Capability::parse("net.connect:example.com:80").is_err());
        assert!(Capability::parse("fs.read:relative").is_err());
        assert!(Capability::parse("env:").is_err());
        assert!(Capability::parse("shell").is_err());
    }
}
