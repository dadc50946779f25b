//! Layered loading with figment, and validation that reports every problem at once.

use std::fmt;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::de::DeserializeOwned;

use super::checks::{
    check_admin, check_database, check_jobs, check_observability, check_security, check_server,
    check_shared_state,
};
use super::plugins::PluginSettings;
use super::tiers::{Mode, TierSettings, TlsSettings};
use super::{
    BootstrapAdmin, CacheSettings, DatabaseSettings, Environment, JobsSettings,
    ObservabilitySettings, RateLimitSettings, RedisSettings, SecuritySettings, ServerSettings,
    SessionSettings, Settings,
};

pub(super) const EMBEDDED_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Everything wrong with the configuration, so an operator fixes it in one round.
#[derive(Debug)]
pub(crate) struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn config_dir() -> PathBuf {
    std::env::var_os("ARCANA_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from)
}

fn env_layer() -> Env {
    Env::prefixed("ARCANA_")
        .split("__")
        .ignore(&["CONFIG_DIR"])
        .filter(|key| !super::files::names_a_file(key.as_str()))
}

/// Builds the layered figment. The environment and mode decide which files apply, so they are
/// read first from the layers that cannot depend on them.
fn figment(errors: &mut Vec<String>) -> Figment {
    let dir = config_dir();
    let base = Figment::from(Toml::string(EMBEDDED_DEFAULTS))
        .merge(Toml::file(dir.join("default.toml")))
        .merge(env_layer());
    let environment: String = base.extract_inner("environment").unwrap_or_default();
    let mode: String = base.extract_inner("mode").unwrap_or_default();
    let layered = Figment::from(Toml::string(EMBEDDED_DEFAULTS))
        .merge(Toml::file(dir.join("default.toml")))
        .merge(Toml::file(dir.join(format!("{environment}.toml"))))
        .merge(Toml::file(dir.join(format!("{mode}.toml"))))
        .merge(Toml::file(dir.join("local.toml")))
        .merge(env_layer());
    super::files::merge(layered, errors)
}

fn section<T: DeserializeOwned>(
    figment: &Figment,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<T> {
    match figment.extract_inner::<T>(key) {
        Ok(value) => Some(value),
        Err(err) => {
            errors.extend(err.into_iter().map(|e| format!("{key}: {e}")));
            None
        }
    }
}

/// Every section as parsed, each `None` if it failed to parse (its errors already recorded).
struct Parsed {
    environment: Option<Environment>,
    mode: Option<Mode>,
    server: Option<ServerSettings>,
    database: Option<DatabaseSettings>,
    security: Option<SecuritySettings>,
    rate_limit: Option<RateLimitSettings>,
    resilience: Option<super::ResilienceSettings>,
    bootstrap_admin: Option<BootstrapAdmin>,
    observability: Option<ObservabilitySettings>,
    redis: Option<RedisSettings>,
    cache: Option<CacheSettings>,
    sessions: Option<SessionSettings>,
    jobs: Option<JobsSettings>,
    tiers: Option<TierSettings>,
    tls: Option<TlsSettings>,
    plugins: Option<PluginSettings>,
}

impl Parsed {
    fn read(figment: &Figment, errors: &mut Vec<String>) -> Self {
        Self {
            environment: section(figment, "environment", errors),
            mode: section(figment, "mode", errors),
            server: section(figment, "server", errors),
            database: section(figment, "database", errors),
            security: section(figment, "security", errors),
            rate_limit: section(figment, "rate_limit", errors),
            resilience: section(figment, "resilience", errors),
            bootstrap_admin: section(figment, "bootstrap_admin", errors),
            observability: section(figment, "observability", errors),
            redis: section(figment, "redis", errors),
            cache: section(figment, "cache", errors),
            sessions: section(figment, "sessions", errors),
            jobs: section(figment, "jobs", errors),
            tiers: section(figment, "tiers", errors),
            tls: section(figment, "tls", errors),
            plugins: section(figment, "plugins", errors),
        }
    }

    /// Validates every section that parsed, even when others did not.
    fn validate(&self, errors: &mut Vec<String>) {
        if let (Some(jobs), Some(redis)) = (&self.jobs, &self.redis) {
            check_jobs(jobs, redis, errors);
        }
        if let Some(server) = &self.server {
            check_server(server, errors);
        }
        if let Some(resilience) = &self.resilience {
            super::resilience::check(resilience, errors);
        }
        if let Some(database) = &self.database {
            check_database(database, errors);
        }
        if let Some(security) = &self.security {
            check_security(security, errors);
        }
        if let Some(admin) = &self.bootstrap_admin {
            check_admin(admin, errors);
        }
        if let Some(observability) = &self.observability {
            check_observability(observability, errors);
        }
        if let (Some(redis), Some(cache), Some(sessions)) =
            (&self.redis, &self.cache, &self.sessions)
        {
            let throttle = self.rate_limit.as_ref().map(|r| r.store);
            check_shared_state(redis, cache, sessions, throttle, errors);
        }
        if let Some(limits) = &self.rate_limit
            && !(1..=1000).contains(&limits.redis_lease)
        {
            errors.push("rate_limit.redis_lease: must be between 1 and 1000".into());
        }
        if let Some(tiers) = &self.tiers {
            super::tiers::check(tiers, errors);
        }
        if let (Some(plugins), Some(environment)) = (&self.plugins, self.environment) {
            super::plugins::check(plugins, environment, errors);
        }
    }

    fn assemble(self) -> Option<Settings> {
        Some(Settings {
            environment: self.environment?,
            mode: self.mode?,
            server: self.server?,
            database: self.database?,
            security: self.security?,
            rate_limit: self.rate_limit?,
            resilience: self.resilience?,
            bootstrap_admin: self.bootstrap_admin?,
            observability: self.observability?,
            redis: self.redis?,
            cache: self.cache?,
            sessions: self.sessions?,
            jobs: self.jobs?,
            tiers: self.tiers?,
            tls: self.tls?,
            plugins: self.plugins?,
        })
    }
}

/// Loads, parses and validates the configuration. Sections are parsed one by one and each
/// parsed section is validated even when another failed, so one run lists every problem.
pub(crate) fn load() -> Result<Settings, ConfigErrors> {
    let mut errors = Vec::new();
    let figment = figment(&mut errors);
    let parsed = Parsed::read(&figment, &mut errors);
    parsed.validate(&mut errors);
    match parsed.assemble() {
        Some(settings) if errors.is_empty() => Ok(settings),
        _ => Err(ConfigErrors(errors)),
    }
}
