//! Builds adapters and services from the configuration. The only place that knows which
//! adapter implements which port.

use std::sync::Arc;

use anyhow::Context;
use arcana_adapter_cache::CachedTokenCodec;
use arcana_adapter_jobs::{JobMetrics, MeteredJobQueue};
use arcana_adapter_memory::{InProcessEventBus, InProcessJobEvents, SystemClock};
use arcana_adapter_resilience::ResilienceMetrics;
use arcana_adapter_security::{
    Argon2Params, Argon2PasswordHasher, HasherConfig, JwtConfig, JwtTokenCodec, RandomRefreshTokens,
};
use arcana_application::{
    AuditService, AuthService, AuthSettings, JobsService, Ports, ThrottlePolicy, UserService,
};
use arcana_domain::session::SessionLifetimes;
use arcana_ports::health::HealthCheck;
use arcana_ports::jobs::JobEventFeed;
use arcana_ports::ratelimit::RateLimiter;
use arcana_ports::security::TokenCodec;
use arcana_ports::sessions::SessionStore;
use arcana_ports::usecases::ManagementError;
use chrono::TimeDelta;

use crate::config::Settings;
use crate::jobs::JobsBackendParts;
use crate::public::PublicApi;
use crate::storage::Storage;
use crate::{resilience, state};

const EVENT_BUS_CAPACITY: usize = 1024;
/// Job events buffered per watcher before the oldest are dropped for it.
const JOB_EVENTS_CAPACITY: usize = 4096;

pub(crate) struct App {
    /// The storage ports behind the resilience guard of their dependency: what everything else
    /// in the process (plugins included) uses.
    pub(crate) storage: Storage,
    pub(crate) auth: Arc<AuthService>,
    pub(crate) users: Arc<UserService>,
    pub(crate) audit: Arc<AuditService>,
    pub(crate) health: Vec<Arc<dyn HealthCheck>>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) events: InProcessEventBus,
    /// The job queue's backend (queue, schedules, cron lock) and its admin use cases.
    pub(crate) jobs: JobsBackendParts,
    pub(crate) jobs_admin: Arc<JobsService>,
    /// Registered on the process registry; the queue above already counts enqueues in it.
    pub(crate) job_metrics: JobMetrics,
    /// The inbound rate limiter (`None`: `rate_limit.enabled = false`).
    pub(crate) limiter: Option<Arc<dyn RateLimiter>>,
}

/// Builds the application on `storage` and the configured adapters; cache metrics go to
/// `registry`.
pub(crate) fn build(
    settings: &Settings,
    storage: &Storage,
    registry: &prometheus::Registry,
) -> anyhow::Result<App> {
    let metrics =
        ResilienceMetrics::register(registry).context("registering the resilience metrics")?;
    let table = match storage.dependency {
        "repository" => &settings.resilience.repository,
        _ => &settings.resilience.database,
    };
    let storage = resilience::storage(
        storage,
        resilience::guard(storage.dependency, table, &metrics),
    );
    let storage = &storage;
    let redis_guard = resilience::redis_guard(settings, &metrics);
    let shared = state::build(settings, storage, registry, redis_guard.as_ref())?;
    let limiter = crate::limits::limiter(settings, redis_guard.as_ref())?;
    let events = InProcessEventBus::new(EVENT_BUS_CAPACITY);
    let ports = Ports {
        users: shared.users,
        sessions: shared.sessions.clone(),
        audit: storage.audit.clone(),
        throttle: shared.throttle,
        hasher: Arc::new(password_hasher(settings)?),
        tokens: verified_tokens(settings)?,
        refresh_tokens: Arc::new(RandomRefreshTokens),
        clock: Arc::new(SystemClock),
        events: Arc::new(events.clone()),
    };
    let auth_settings = auth_settings(settings);
    let (jobs, jobs_admin, job_metrics) = jobs(settings, registry)?;
    Ok(App {
        storage: storage.clone(),
        auth: Arc::new(AuthService::new(ports.clone(), auth_settings.clone())),
        users: Arc::new(UserService::new(ports, auth_settings)),
        audit: Arc::new(AuditService::new(storage.audit.clone())),
        health: std::iter::once(storage.health.clone())
            .chain(shared.health)
            .collect(),
        sessions: shared.sessions,
        events,
        jobs,
        jobs_admin,
        job_metrics,
        limiter,
    })
}

/// The configured queue, counted and publishing its events, and the admin use cases over it.
fn jobs(
    settings: &Settings,
    registry: &prometheus::Registry,
) -> anyhow::Result<(JobsBackendParts, Arc<JobsService>, JobMetrics)> {
    let job_metrics = JobMetrics::register(registry).context("registering job metrics")?;
    let mut jobs = crate::jobs::backend(settings)?;
    let job_events: Arc<dyn JobEventFeed> = Arc::new(InProcessJobEvents::new(JOB_EVENTS_CAPACITY));
    jobs.queue = Arc::new(
        MeteredJobQueue::new(jobs.queue, job_metrics.clone()).with_events(job_events.clone()),
    );
    let jobs_admin = Arc::new(JobsService::new(
        jobs.queue.clone(),
        jobs.scheduler.clone(),
        jobs.clock.clone(),
        job_events,
    ));
    Ok((jobs, jobs_admin, job_metrics))
}

impl App {
    /// The public API over this application, job administration included.
    pub(crate) fn public_api(&self) -> PublicApi {
        PublicApi {
            auth: self.auth.clone(),
            users: self.users.clone(),
            audit: self.audit.clone(),
            jobs: Some(self.jobs_admin.clone()),
            plugins: None,
            health: self.health.clone(),
            limiter: self.limiter.clone(),
        }
    }
}

fn password_hasher(settings: &Settings) -> anyhow::Result<Argon2PasswordHasher> {
    let argon = &settings.security.argon2;
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    Argon2PasswordHasher::new(HasherConfig {
        params: Argon2Params {
            memory_kib: argon.memory_kib,
            iterations: argon.iterations,
            parallelism: argon.parallelism,
        },
        max_concurrent: if argon.max_concurrent == 0 {
            cpus
        } else {
            argon.max_concurrent
        },
        max_waiting: argon.max_waiting,
    })
    .context("configuring Argon2")
}

/// Entries of the verified-token cache: one per live access token a process sees.
const VERIFIED_TOKENS: u64 = 100_000;

/// The JWT codec behind a cache of what it verified: a token is decoded once per process, not
/// on every request (nor, in the layered modes, on every hop).
fn verified_tokens(settings: &Settings) -> anyhow::Result<Arc<dyn TokenCodec>> {
    let codec: Arc<dyn TokenCodec> = Arc::new(token_codec(settings)?);
    let lifetime = std::time::Duration::from_secs(settings.security.access_ttl_secs);
    Ok(Arc::new(CachedTokenCodec::new(
        codec,
        VERIFIED_TOKENS,
        lifetime,
    )))
}

fn token_codec(settings: &Settings) -> anyhow::Result<JwtTokenCodec> {
    let security = &settings.security;
    let secret = if let Some(secret) = &security.jwt_secret {
        secret.expose().as_bytes().to_vec()
    } else {
        settings.require_signing_key()?;
        tracing::warn!(
            "no security.jwt_secret configured: using an ephemeral secret generated at \
             start-up; tokens will not survive a restart (development only)"
        );
        let mut bytes = vec![0_u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|err| anyhow::anyhow!("generating an ephemeral JWT secret: {err}"))?;
        bytes
    };

    JwtTokenCodec::new(JwtConfig {
        secret,
        key_id: security.jwt_key_id.clone(),
        issuer: security.jwt_issuer.clone(),
        audience: security.jwt_audience.clone(),
    })
    .context("configuring JWT signing")
}

fn secs(value: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(value).unwrap_or(i64::MAX / 1000))
}

fn auth_settings(settings: &Settings) -> AuthSettings {
    let security = &settings.security;
    let login = &settings.rate_limit.login;
    AuthSettings {
        access_ttl: secs(security.access_ttl_secs),
        session: SessionLifetimes {
            idle: secs(security.session_idle_secs),
            absolute: secs(security.session_absolute_secs),
        },
        refresh_grace: secs(security.refresh_grace_secs),
        throttle: ThrottlePolicy {
            enabled: settings.rate_limit.enabled,
            window: secs(login.window_secs),
            account_threshold: login.account_threshold,
            ip_threshold: login.ip_threshold,
            base_lockout: secs(login.base_lockout_secs),
            max_lockout: secs(login.max_lockout_secs),
        },
    }
}

/// An operator-facing description of a management error (CLI output, start-up logs).
pub(crate) fn describe(err: &ManagementError) -> String {
    match err {
        ManagementError::Validation(fields) => fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{other:#}"),
    }
}
