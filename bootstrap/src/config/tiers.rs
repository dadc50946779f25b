//! The deployment mode, and what the layered modes need: where each tier reaches the next, the
//! internal listener, and the internal TLS material.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Mode {
    /// One process, in-process calls.
    Monolith,
    /// Controller, service and repository tiers over internal gRPC with mutual TLS.
    LayeredGrpc,
    /// The same tiers over internal HTTP/JSON with TLS and a service credential.
    LayeredHttp,
}

impl Mode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Monolith => "monolith",
            Self::LayeredGrpc => "layered-grpc",
            Self::LayeredHttp => "layered-http",
        }
    }
}

/// One process of a layered deployment; also the name its certificate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Controller,
    Service,
    Repository,
}

impl Tier {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Controller => "controller",
            Self::Service => "service",
            Self::Repository => "repository",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InternalSettings {
    pub(crate) port: u16,
    pub(crate) request_timeout_secs: u64,
    pub(crate) health_poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TierSettings {
    pub(crate) service_url: Option<String>,
    pub(crate) repository_url: Option<String>,
    pub(crate) service_credential: Option<Secret>,
    pub(crate) repository_credential: Option<Secret>,
    pub(crate) timeout_ms: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[expect(
    clippy::struct_field_names,
    reason = "the field names are the configuration keys (tls.ca_file, …)"
)]
pub(crate) struct TlsSettings {
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) cert_file: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
}

/// A service credential shorter than this is guessable.
const MIN_CREDENTIAL_BYTES: usize = 32;

pub(super) fn check(tiers: &TierSettings, errors: &mut Vec<String>) {
    for (key, credential) in [
        ("service_credential", &tiers.service_credential),
        ("repository_credential", &tiers.repository_credential),
    ] {
        if let Some(credential) = credential
            && credential.expose().len() < MIN_CREDENTIAL_BYTES
        {
            errors.push(format!(
                "tiers.{key}: must be at least {MIN_CREDENTIAL_BYTES} bytes"
            ));
        }
    }
    if tiers.timeout_ms == 0 {
        errors.push("tiers.timeout_ms: must be positive".into());
    }
    for (key, url) in [
        ("service_url", &tiers.service_url),
        ("repository_url", &tiers.repository_url),
    ] {
        if let Some(url) = url
            && !url.starts_with("https://")
        {
            errors.push(format!(
                "tiers.{key}: must be an https:// URL (internal links are TLS only)"
            ));
        }
    }
}
