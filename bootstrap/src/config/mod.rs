//! Typed configuration: what `config/*.toml` and `ARCANA_*` variables may say.
//!
//! Every key is documented in `config/default.toml`, which is compiled in as the base layer.

mod files;
mod load;
pub(crate) mod plugins;
mod resilience;
mod secret;
mod tiers;

use serde::{Deserialize, Serialize};

pub use load::{ConfigErrors, load};
pub use plugins::{FailureBudgetSettings, PluginSettings};
pub use resilience::{DependencyResilience, ResilienceSettings};
pub use secret::Secret;
pub use tiers::{InternalSettings, Mode, Tier, TierSettings, TlsSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub environment: Environment,
    pub mode: Mode,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub rate_limit: RateLimitSettings,
    pub resilience: ResilienceSettings,
    pub bootstrap_admin: BootstrapAdmin,
    pub observability: ObservabilitySettings,
    pub redis: RedisSettings,
    pub cache: CacheSettings,
    pub sessions: SessionSettings,
    pub jobs: JobsSettings,
    pub tiers: TierSettings,
    pub tls: TlsSettings,
    pub plugins: PluginSettings,
}

impl Settings {
    /// Refuses to run a process that signs or verifies tokens in production without
    /// `security.jwt_secret`: an ephemeral key would log everyone out on each restart and differ
    /// between replicas. Called first by those processes, so they exit 2 as for any other
    /// configuration problem, before touching a database.
    pub fn require_signing_key(&self) -> Result<(), ConfigErrors> {
        if self.security.jwt_secret.is_none() && self.environment == Environment::Production {
            return Err(ConfigErrors(vec![
                "security.jwt_secret: required in production (set ARCANA_SECURITY__JWT_SECRET, \
                 or ARCANA_SECURITY__JWT_SECRET__FILE to a mounted secret)"
                    .into(),
            ]));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub shutdown_grace_secs: u64,
    pub max_in_flight: usize,
    pub rest: RestSettings,
    pub grpc: GrpcSettings,
    pub internal: InternalSettings,
    #[serde(default)]
    pub ops: OpsSettings,
}

/// The plain-HTTP operations listener of the processes without a public API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpsSettings {
    /// `None`: not served.
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RestSettings {
    pub port: u16,
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub cors_allowed_origins: Vec<String>,
    pub openapi_enabled: bool,
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcSettings {
    pub enabled: bool,
    pub port: u16,
    pub reflection_enabled: bool,
    pub max_message_bytes: usize,
    pub request_timeout_secs: u64,
    pub health_poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    /// `None`: on in development, off in production (where `arcana migrate` is a deploy step).
    pub migrate_on_start: Option<bool>,
}

impl DatabaseSettings {
    pub fn migrates_on_start(&self, environment: Environment) -> bool {
        self.migrate_on_start
            .unwrap_or(environment == Environment::Development)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub jwt_secret: Option<Secret>,
    pub jwt_key_id: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_ttl_secs: u64,
    pub session_idle_secs: u64,
    pub session_absolute_secs: u64,
    pub refresh_grace_secs: u64,
    pub argon2: Argon2Settings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
    pub max_waiting: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub store: ThrottleBackend,
    pub login: LoginThrottleSettings,
    pub per_ip: QuotaSettings,
    pub per_user: QuotaSettings,
    pub auth: QuotaSettings,
}

/// `per_second` requests a second on average, bursts of `burst`; `per_second = 0` switches the
/// class off.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    pub per_second: u32,
    pub burst: u32,
}

impl QuotaSettings {
    pub fn quota(self) -> arcana_ports::ratelimit::Quota {
        arcana_ports::ratelimit::Quota {
            per_second: self.per_second,
            burst: self.burst.max(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThrottleBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottleSettings {
    pub window_secs: u64,
    pub account_threshold: u32,
    pub ip_threshold: u32,
    pub base_lockout_secs: u64,
    pub max_lockout_secs: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapAdmin {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObservabilitySettings {
    pub log_format: Option<LogFormat>,
    pub log_level: String,
    /// OTLP/gRPC collector (`http://collector:4317`); `None`: no trace export.
    pub otlp_endpoint: Option<String>,
    pub trace_sample_ratio: f64,
    pub otlp_timeout_ms: u64,
}

impl ObservabilitySettings {
    pub fn format_for(&self, environment: Environment) -> LogFormat {
        self.log_format.unwrap_or(match environment {
            Environment::Development => LogFormat::Pretty,
            Environment::Production => LogFormat::Json,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Unset unless some backend lives in Redis (validation says which).
    pub url: Option<Secret>,
    pub key_prefix: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackend {
    None,
    Memory,
    Redis,
    Tiered,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub backend: CacheBackend,
    pub ttl_secs: u64,
    pub local_ttl_secs: u64,
    pub max_entries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionBackend {
    Sql,
    Redis,
    Memory,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub backend: SessionBackend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobsBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    pub backend: JobsBackend,
    pub worker: JobWorkerSettings,
    pub scheduler: JobSchedulerSettings,
    pub retention: JobRetentionSettings,
    /// Queue name → at most `limit` job starts per `period_ms`, across the cluster.
    pub rate_limits: std::collections::BTreeMap<String, QueueRateLimit>,
    /// Operator-defined schedules, besides the built-in ones.
    pub schedules: Vec<ScheduleSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobWorkerSettings {
    pub enabled: bool,
    /// Queue name → jobs run at once on it.
    pub queues: std::collections::BTreeMap<String, usize>,
    pub lease_ms: u64,
    pub heartbeat_ms: u64,
    pub poll_interval_ms: u64,
    pub sweep_interval_ms: u64,
    pub shutdown_deadline_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobSchedulerSettings {
    pub enabled: bool,
    pub lease_ms: u64,
    pub tick_ms: u64,
    /// Cron of the built-in purge of expired sessions and deny-list entries; empty disables it.
    pub purge_sessions_cron: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobRetentionSettings {
    pub completed_secs: u64,
    pub dead_max_age_secs: u64,
    pub dead_max_len: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRateLimit {
    pub limit: u64,
    pub period_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub name: String,
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    pub job: String,
    #[serde(default = "empty_object")]
    pub payload: String,
    #[serde(default = "default_queue")]
    pub queue: String,
}

fn utc() -> String {
    "UTC".into()
}

fn empty_object() -> String {
    "{}".into()
}

fn default_queue() -> String {
    arcana_domain::jobs::QueueName::DEFAULT.into()
}

/// `arcana config show`.
pub fn show(settings: &Settings) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(settings)?);
    Ok(())
}
