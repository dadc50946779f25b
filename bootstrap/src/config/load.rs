//! Layered loading with figment, and validation that reports every problem at once.

use std::fmt;
use std::path::PathBuf;

use arcana_domain::jobs::{JobName, QueueName};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::de::DeserializeOwned;

use super::plugins::PluginSettings;
use super::tiers::{Mode, TierSettings, TlsSettings};
use super::{
    BootstrapAdmin, CacheBackend, CacheSettings, DatabaseSettings, Environment, JobsBackend,
    JobsSettings, ObservabilitySettings, RateLimitSettings, RedisSettings, SecuritySettings,
    ServerSettings, SessionBackend, SessionSettings, Settings, ThrottleBackend,
};

const EMBEDDED_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Everything wrong with the configuration, so an operator fixes it in one round.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

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
pub fn load() -> Result<Settings, ConfigErrors> {
    let mut errors = Vec::new();
    let figment = figment(&mut errors);
    let parsed = Parsed::read(&figment, &mut errors);
    parsed.validate(&mut errors);
    match parsed.assemble() {
        Some(settings) if errors.is_empty() => Ok(settings),
        _ => Err(ConfigErrors(errors)),
    }
}

fn check_server(server: &ServerSettings, errors: &mut Vec<String>) {
    if server.rest.body_limit_bytes == 0 || server.rest.request_timeout_secs == 0 {
        errors
            .push("server.rest: body_limit_bytes and request_timeout_secs must be positive".into());
    }
    let grpc = &server.grpc;
    if grpc.health_poll_interval_ms == 0
        || grpc.max_message_bytes == 0
        || grpc.request_timeout_secs == 0
    {
        errors.push(
            "server.grpc: health_poll_interval_ms, max_message_bytes and request_timeout_secs \
             must be positive"
                .into(),
        );
    }
    if grpc.enabled && grpc.port != 0 && grpc.port == server.rest.port {
        errors.push("server.grpc.port: must differ from server.rest.port".into());
    }
}

fn check_database(database: &DatabaseSettings, errors: &mut Vec<String>) {
    if crate::database::Scheme::of(database.url.expose()).is_none() {
        errors.push(
            "database.url: the scheme must be sqlite:, postgres:, mysql:, mariadb: or memory:"
                .into(),
        );
    }
    if database.max_connections == 0 || database.acquire_timeout_secs == 0 {
        errors.push("database: max_connections and acquire_timeout_secs must be positive".into());
    }
}

/// A missing secret is not refused here: only the processes that sign or verify tokens need
/// one (`arcana serve`, `arcana-service`, `arcana-worker`; see [`Settings::require_signing_key`]),
/// while `arcana migrate`, the controller and the repository tier run without it.
fn check_security(security: &SecuritySettings, errors: &mut Vec<String>) {
    if let Some(secret) = &security.jwt_secret
        && secret.expose().len() < 32
    {
        errors.push("security.jwt_secret: must be at least 32 bytes".into());
    }
    let argon = &security.argon2;
    if argon.memory_kib < 8 * argon.parallelism.max(1)
        || argon.iterations == 0
        || argon.parallelism == 0
    {
        errors.push(
            "security.argon2: memory_kib ≥ 8 × parallelism, iterations ≥ 1, parallelism ≥ 1".into(),
        );
    }
    if security.access_ttl_secs == 0 || security.session_idle_secs == 0 {
        errors.push("security: access_ttl_secs and session_idle_secs must be positive".into());
    }
    if security.session_absolute_secs < security.session_idle_secs {
        errors.push("security.session_absolute_secs: must be ≥ session_idle_secs".into());
    }
}

/// Redis must be configured when a backend lives in it; sizes and lifetimes must be positive.
fn check_shared_state(
    redis: &RedisSettings,
    cache: &CacheSettings,
    sessions: &SessionSettings,
    throttle: Option<ThrottleBackend>,
    errors: &mut Vec<String>,
) {
    let needs_redis = matches!(cache.backend, CacheBackend::Redis | CacheBackend::Tiered)
        || sessions.backend == SessionBackend::Redis
        || throttle == Some(ThrottleBackend::Redis);
    match &redis.url {
        None if needs_redis => errors.push(
            "redis.url: required by cache.backend = redis | tiered, sessions.backend = redis \
             and rate_limit.store = redis"
                .into(),
        ),
        Some(url) if !url.expose().starts_with("redis://") => {
            errors.push("redis.url: must start with redis://".into());
        }
        _ => {}
    }
    if redis.timeout_ms == 0 {
        errors.push("redis.timeout_ms: must be positive".into());
    }
    if cache.ttl_secs == 0 || cache.local_ttl_secs == 0 || cache.max_entries == 0 {
        errors.push("cache: ttl_secs, local_ttl_secs and max_entries must be positive".into());
    }
}

fn check_admin(admin: &BootstrapAdmin, errors: &mut Vec<String>) {
    let set = [
        admin.username.is_some(),
        admin.email.is_some(),
        admin.password.is_some(),
    ];
    if set.contains(&true) && set.contains(&false) {
        errors.push("bootstrap_admin: set username, email and password together, or none".into());
    }
}

fn check_observability(observability: &ObservabilitySettings, errors: &mut Vec<String>) {
    if tracing_subscriber::EnvFilter::try_new(&observability.log_level).is_err() {
        errors.push("observability.log_level: not a valid tracing filter".into());
    }
    if let Some(endpoint) = &observability.otlp_endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        errors.push("observability.otlp_endpoint: an http:// or https:// URL".into());
    }
    if !(0.0..=1.0).contains(&observability.trace_sample_ratio) {
        errors.push("observability.trace_sample_ratio: between 0 and 1".into());
    }
    if observability.otlp_timeout_ms == 0 {
        errors.push("observability.otlp_timeout_ms: must be positive".into());
    }
}

/// The queue backend must be reachable, timings consistent, schedules parseable.
fn check_jobs(jobs: &JobsSettings, redis: &RedisSettings, errors: &mut Vec<String>) {
    if jobs.backend == JobsBackend::Redis && redis.url.is_none() {
        errors.push("redis.url: required by jobs.backend = redis".into());
    }
    let worker = &jobs.worker;
    if worker.heartbeat_ms == 0 || worker.heartbeat_ms >= worker.lease_ms {
        errors.push("jobs.worker: heartbeat_ms must be positive and below lease_ms".into());
    }
    if worker.poll_interval_ms == 0 || worker.sweep_interval_ms == 0 {
        errors.push("jobs.worker: poll_interval_ms and sweep_interval_ms must be positive".into());
    }
    if worker.queues.is_empty() || worker.queues.values().any(|n| *n == 0) {
        errors.push(
            "jobs.worker.queues: at least one queue, each with a positive concurrency".into(),
        );
    }
    let scheduler = &jobs.scheduler;
    if scheduler.tick_ms == 0 || scheduler.tick_ms >= scheduler.lease_ms {
        errors.push("jobs.scheduler: tick_ms must be positive and below lease_ms".into());
    }
    if !scheduler.purge_sessions_cron.is_empty()
        && let Err(err) = arcana_adapter_jobs::parse_schedule(&scheduler.purge_sessions_cron, "UTC")
    {
        errors.push(format!("jobs.scheduler.purge_sessions_cron: {err}"));
    }
    for schedule in &jobs.schedules {
        if let Err(err) = arcana_adapter_jobs::parse_schedule(&schedule.cron, &schedule.timezone) {
            errors.push(format!("jobs.schedules.{}: {err}", schedule.name));
        }
        if serde_json::from_str::<serde_json::Value>(&schedule.payload).is_err() {
            errors.push(format!(
                "jobs.schedules.{}: payload is not JSON",
                schedule.name
            ));
        }
    }
    if jobs
        .rate_limits
        .values()
        .any(|r| r.limit == 0 || r.period_ms == 0)
    {
        errors.push("jobs.rate_limits: limit and period_ms must be positive".into());
    }
    check_job_names(jobs, errors);
    let retention = &jobs.retention;
    if retention.completed_secs == 0
        || retention.dead_max_age_secs == 0
        || retention.dead_max_len == 0
    {
        errors.push("jobs.retention: every value must be positive".into());
    }
}

/// Queue and job names obey the domain's naming rule, as they do through the admin API.
fn check_job_names(jobs: &JobsSettings, errors: &mut Vec<String>) {
    for schedule in &jobs.schedules {
        if let Err(err) = JobName::parse(&schedule.job) {
            errors.push(format!("jobs.schedules.{}.job: {err}", schedule.name));
        }
        if let Err(err) = QueueName::parse(&schedule.queue) {
            errors.push(format!("jobs.schedules.{}.queue: {err}", schedule.name));
        }
    }
    for (section, queue) in (jobs.worker.queues.keys().map(|q| ("jobs.worker.queues", q)))
        .chain(jobs.rate_limits.keys().map(|q| ("jobs.rate_limits", q)))
    {
        if let Err(err) = QueueName::parse(queue) {
            errors.push(format!("{section}.{queue}: {err}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScheduleSettings;

    fn default_jobs() -> JobsSettings {
        Figment::from(Toml::string(EMBEDDED_DEFAULTS))
            .extract_inner("jobs")
            .expect("the embedded defaults hold a valid jobs section")
    }

    #[test]
    fn the_default_job_settings_obey_the_naming_rule() {
        let mut errors = Vec::new();
        check_job_names(&default_jobs(), &mut errors);
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn schedules_and_queues_breaking_the_naming_rule_are_refused() {
        let mut jobs = default_jobs();
        jobs.schedules.push(ScheduleSettings {
            name: "nightly".into(),
            cron: "0 0 3 * * *".into(),
            timezone: "UTC".into(),
            job: "report builder".into(),
            payload: "{}".into(),
            queue: "slow/reports".into(),
        });
        jobs.worker.queues.insert(String::new(), 1);
        let mut errors = Vec::new();
        check_job_names(&jobs, &mut errors);
        let fields: Vec<_> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            fields,
            [
                "jobs.schedules.nightly.job",
                "jobs.schedules.nightly.queue",
                "jobs.worker.queues."
            ]
        );
    }
}
