//! Typed configuration: what `config/*.toml` and `ARCANA_*` variables may say.
//!
//! Every key is documented in `config/default.toml`, which is compiled in as the base layer.

mod checks;
mod files;
mod load;
pub(crate) mod plugins;
mod resilience;
mod secret;
mod tiers;

use serde::{Deserialize, Serialize};

pub(crate) use load::{ConfigErrors, load};
pub(crate) use plugins::PluginSettings;
pub(crate) use resilience::{DependencyResilience, ResilienceSettings};
pub(crate) use secret::Secret;
pub(crate) use tiers::{InternalSettings, Mode, Tier, TierSettings, TlsSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub(crate) environment: Environment,
    pub(crate) mode: Mode,
    pub(crate) server: ServerSettings,
    pub(crate) database: DatabaseSettings,
    pub(crate) security: SecuritySettings,
    pub(crate) rate_limit: RateLimitSettings,
    pub(crate) resilience: ResilienceSettings,
    pub(crate) bootstrap_admin: BootstrapAdmin,
    pub(crate) observability: ObservabilitySettings,
    pub(crate) redis: RedisSettings,
    pub(crate) cache: CacheSettings,
    pub(crate) sessions: SessionSettings,
    pub(crate) jobs: JobsSettings,
    pub(crate) tiers: TierSettings,
    pub(crate) tls: TlsSettings,
    pub(crate) plugins: PluginSettings,
}

impl Settings {
    /// Refuses to run a process that signs or verifies tokens in production without
    /// `security.jwt_secret`: an ephemeral key would log everyone out on each restart and differ
    /// between replicas. Called first by those processes, so they exit 2 as for any other
    /// configuration problem, before touching a database.
    pub(crate) fn require_signing_key(&self) -> Result<(), ConfigErrors> {
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
pub(crate) struct ServerSettings {
    pub(crate) host: String,
    pub(crate) shutdown_grace_secs: u64,
    pub(crate) max_in_flight: usize,
    pub(crate) rest: RestSettings,
    pub(crate) grpc: GrpcSettings,
    pub(crate) internal: InternalSettings,
    #[serde(default)]
    pub(crate) ops: OpsSettings,
}

/// The plain-HTTP operations listener of the processes without a public API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpsSettings {
    /// `None`: not served.
    pub(crate) port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestSettings {
    pub(crate) port: u16,
    pub(crate) body_limit_bytes: usize,
    pub(crate) request_timeout_secs: u64,
    pub(crate) cors_allowed_origins: Vec<String>,
    pub(crate) openapi_enabled: bool,
    pub(crate) trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrpcSettings {
    pub(crate) enabled: bool,
    pub(crate) port: u16,
    pub(crate) reflection_enabled: bool,
    pub(crate) max_message_bytes: usize,
    pub(crate) request_timeout_secs: u64,
    pub(crate) health_poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseSettings {
    pub(crate) url: Secret,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout_secs: u64,
    /// `None`: on in development, off in production (where `arcana migrate` is a deploy step).
    pub(crate) migrate_on_start: Option<bool>,
}

impl DatabaseSettings {
    pub(crate) fn migrates_on_start(&self, environment: Environment) -> bool {
        self.migrate_on_start
            .unwrap_or(environment == Environment::Development)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecuritySettings {
    pub(crate) jwt_secret: Option<Secret>,
    pub(crate) jwt_key_id: String,
    pub(crate) jwt_issuer: String,
    pub(crate) jwt_audience: String,
    pub(crate) access_ttl_secs: u64,
    pub(crate) session_idle_secs: u64,
    pub(crate) session_absolute_secs: u64,
    pub(crate) refresh_grace_secs: u64,
    pub(crate) argon2: Argon2Settings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Argon2Settings {
    pub(crate) memory_kib: u32,
    pub(crate) iterations: u32,
    pub(crate) parallelism: u32,
    pub(crate) max_concurrent: usize,
    pub(crate) max_waiting: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitSettings {
    pub(crate) enabled: bool,
    pub(crate) store: ThrottleBackend,
    /// With `store = redis`: units of a bucket taken per round trip (1: one per request).
    pub(crate) redis_lease: u32,
    pub(crate) login: LoginThrottleSettings,
    pub(crate) per_ip: QuotaSettings,
    pub(crate) per_user: QuotaSettings,
    pub(crate) auth: QuotaSettings,
}

/// `per_second` requests a second on average, bursts of `burst`; `per_second = 0` switches the
/// class off.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotaSettings {
    pub(crate) per_second: u32,
    pub(crate) burst: u32,
}

impl QuotaSettings {
    pub(crate) fn quota(self) -> arcana_ports::ratelimit::Quota {
        arcana_ports::ratelimit::Quota {
            per_second: self.per_second,
            burst: self.burst.max(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ThrottleBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginThrottleSettings {
    pub(crate) window_secs: u64,
    pub(crate) account_threshold: u32,
    pub(crate) ip_threshold: u32,
    pub(crate) base_lockout_secs: u64,
    pub(crate) max_lockout_secs: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BootstrapAdmin {
    pub(crate) username: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) password: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObservabilitySettings {
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) log_level: String,
    /// OTLP/gRPC collector (`http://collector:4317`); `None`: no trace export.
    pub(crate) otlp_endpoint: Option<String>,
    pub(crate) trace_sample_ratio: f64,
    pub(crate) otlp_timeout_ms: u64,
}

impl ObservabilitySettings {
    pub(crate) fn format_for(&self, environment: Environment) -> LogFormat {
        self.log_format.unwrap_or(match environment {
            Environment::Development => LogFormat::Pretty,
            Environment::Production => LogFormat::Json,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisSettings {
    /// Unset unless some backend lives in Redis (validation says which).
    pub(crate) url: Option<Secret>,
    pub(crate) key_prefix: String,
    pub(crate) timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CacheBackend {
    None,
    Memory,
    Redis,
    Tiered,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheSettings {
    pub(crate) backend: CacheBackend,
    pub(crate) ttl_secs: u64,
    pub(crate) local_ttl_secs: u64,
    pub(crate) max_entries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SessionBackend {
    Sql,
    Redis,
    Memory,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionSettings {
    pub(crate) backend: SessionBackend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum JobsBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobsSettings {
    pub(crate) backend: JobsBackend,
    pub(crate) worker: JobWorkerSettings,
    pub(crate) scheduler: JobSchedulerSettings,
    pub(crate) retention: JobRetentionSettings,
    /// Queue name → at most `limit` job starts per `period_ms`, across the cluster.
    pub(crate) rate_limits: std::collections::BTreeMap<String, QueueRateLimit>,
    /// Operator-defined schedules, besides the built-in ones.
    pub(crate) schedules: Vec<ScheduleSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobWorkerSettings {
    pub(crate) enabled: bool,
    /// Queue name → jobs run at once on it.
    pub(crate) queues: std::collections::BTreeMap<String, usize>,
    pub(crate) lease_ms: u64,
    pub(crate) heartbeat_ms: u64,
    pub(crate) poll_interval_ms: u64,
    pub(crate) sweep_interval_ms: u64,
    pub(crate) shutdown_deadline_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobSchedulerSettings {
    pub(crate) enabled: bool,
    pub(crate) lease_ms: u64,
    pub(crate) tick_ms: u64,
    /// Cron of the built-in purge of expired sessions and deny-list entries; empty disables it.
    pub(crate) purge_sessions_cron: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobRetentionSettings {
    pub(crate) completed_secs: u64,
    pub(crate) dead_max_age_secs: u64,
    pub(crate) dead_max_len: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueRateLimit {
    pub(crate) limit: u64,
    pub(crate) period_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleSettings {
    pub(crate) name: String,
    pub(crate) cron: String,
    #[serde(default = "utc")]
    pub(crate) timezone: String,
    pub(crate) job: String,
    #[serde(default = "empty_object")]
    pub(crate) payload: String,
    #[serde(default = "default_queue")]
    pub(crate) queue: String,
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
