//! The checks of each configuration section: every problem is pushed to `errors`, so one run
//! reports them all.

use arcana_domain::jobs::{JobName, QueueName};

use super::{
    BootstrapAdmin, CacheBackend, CacheSettings, DatabaseSettings, JobsBackend, JobsSettings,
    ObservabilitySettings, RedisSettings, SecuritySettings, ServerSettings, SessionBackend,
    SessionSettings, ThrottleBackend,
};

pub(super) fn check_server(server: &ServerSettings, errors: &mut Vec<String>) {
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

pub(super) fn check_database(database: &DatabaseSettings, errors: &mut Vec<String>) {
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
pub(super) fn check_security(security: &SecuritySettings, errors: &mut Vec<String>) {
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
pub(super) fn check_shared_state(
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

pub(super) fn check_admin(admin: &BootstrapAdmin, errors: &mut Vec<String>) {
    let set = [
        admin.username.is_some(),
        admin.email.is_some(),
        admin.password.is_some(),
    ];
    if set.contains(&true) && set.contains(&false) {
        errors.push("bootstrap_admin: set username, email and password together, or none".into());
    }
}

pub(super) fn check_observability(observability: &ObservabilitySettings, errors: &mut Vec<String>) {
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
pub(super) fn check_jobs(jobs: &JobsSettings, redis: &RedisSettings, errors: &mut Vec<String>) {
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
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;
    use crate::config::ScheduleSettings;

    fn default_jobs() -> JobsSettings {
        Figment::from(Toml::string(super::super::load::EMBEDDED_DEFAULTS))
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
