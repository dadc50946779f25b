//! Micro-benchmarks of the per-request hot paths (`cargo bench -p arcana-bench`): JWT
//! verification, the whole session-validity check with a warm cache, problem+json rendering,
//! and one Argon2 verification at the configured parameters.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_cache::{CachedSessionStore, CachedUserRepository, MokaCache};
use arcana_adapter_memory::{
    InMemoryAuditLog, InMemoryJobQueue, InMemoryScheduler, InMemorySessionStore,
    InMemoryThrottleStore, InMemoryUserRepository, InProcessEventBus, InProcessJobEvents,
    SystemClock,
};
use arcana_adapter_rest::{HttpMetrics, RestConfig, RestState};
use arcana_adapter_security::{
    Argon2Params, Argon2PasswordHasher, HasherConfig, JwtConfig, JwtTokenCodec, RandomRefreshTokens,
};
use arcana_application::{
    AuditService, AuthService, AuthSettings, JobsService, Ports, UserService,
};
use arcana_domain::Password;
use arcana_domain::session::ClientInfo;
use arcana_ports::cache::Cache;
use arcana_ports::jobs::Retention;
use arcana_ports::security::{PasswordHasher, TokenCodec};
use arcana_ports::usecases::auth::Register;
use arcana_ports::usecases::{AuthUseCases, RequestContext};
use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use tower::ServiceExt as _;

const PASSWORD: &str = "a-long-enough-password";

fn hasher(params: Argon2Params) -> Argon2PasswordHasher {
    Argon2PasswordHasher::new(HasherConfig {
        params,
        max_concurrent: 1,
        max_waiting: 16,
    })
    .expect("valid Argon2 parameters")
}

fn codec() -> JwtTokenCodec {
    JwtTokenCodec::new(JwtConfig {
        secret: b"bench-secret-bench-secret-bench-secret-01".to_vec(),
        key_id: "bench".into(),
        issuer: "arcana".into(),
        audience: "arcana-api".into(),
    })
    .expect("a valid JWT configuration")
}

/// The application as the monolith wires it on the memory backend with the moka cache.
fn ports() -> Ports {
    let cache: Arc<dyn Cache> = Arc::new(MokaCache::new(10_000));
    let ttl = Duration::from_mins(5);
    let users = Arc::new(InMemoryUserRepository::new());
    let sessions = Arc::new(InMemorySessionStore::new());
    Ports {
        users: Arc::new(CachedUserRepository::new(users, cache.clone(), ttl)),
        sessions: Arc::new(CachedSessionStore::new(sessions, cache, ttl)),
        audit: Arc::new(InMemoryAuditLog::new(10_000)),
        throttle: Arc::new(InMemoryThrottleStore::new()),
        hasher: Arc::new(hasher(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })),
        tokens: Arc::new(codec()),
        refresh_tokens: Arc::new(RandomRefreshTokens),
        clock: Arc::new(SystemClock),
        events: Arc::new(InProcessEventBus::new(64)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn register(runtime: &tokio::runtime::Runtime, auth: &AuthService) -> String {
    let command = Register {
        username: "bench".into(),
        email: "bench@example.com".into(),
        password: Password::candidate(PASSWORD),
        display_name: None,
        client: ClientInfo::default(),
        request: RequestContext::default(),
    };
    runtime
        .block_on(auth.register(command))
        .expect("registration")
        .access_token
}

fn token_paths(c: &mut Criterion) {
    let runtime = runtime();
    let ports = ports();
    let auth = AuthService::new(ports.clone(), AuthSettings::default());
    let token = register(&runtime, &auth);
    let codec = codec();
    c.bench_function("jwt verify (HS256)", |b| {
        b.iter(|| {
            codec
                .verify(black_box(&token), chrono::Utc::now())
                .expect("valid")
        });
    });
    runtime
        .block_on(auth.authenticate(&token, RequestContext::default()))
        .expect("warms the cache");
    c.bench_function(
        "authenticate: JWT + deny list + session + user, warm cache",
        |b| {
            b.iter(|| {
                runtime
                    .block_on(auth.authenticate(black_box(&token), RequestContext::default()))
                    .expect("valid")
            });
        },
    );
}

fn problem_rendering(c: &mut Criterion) {
    let runtime = runtime();
    let ports = ports();
    let settings = AuthSettings::default();
    let registry = prometheus::Registry::new();
    let state = RestState {
        auth: Arc::new(AuthService::new(ports.clone(), settings.clone())),
        users: Arc::new(UserService::new(ports.clone(), settings)),
        audit: Arc::new(AuditService::new(ports.audit.clone())),
        plugins: None,
        jobs: Some(Arc::new(JobsService::new(
            Arc::new(InMemoryJobQueue::new(Retention::default())),
            Arc::new(InMemoryScheduler::new()),
            ports.clock.clone(),
            Arc::new(InProcessJobEvents::new(16)),
        ))),
        health: Vec::new(),
        metrics: HttpMetrics::register(&registry).expect("fresh registry"),
        limiter: None,
    };
    let config = RestConfig {
        body_limit_bytes: 65_536,
        request_timeout: Duration::from_secs(30),
        cors_allowed_origins: Vec::new(),
        openapi_enabled: false,
        trust_forwarded_for: false,
        in_flight: None,
    };
    let router = arcana_adapter_rest::router(state, &config, registry);
    c.bench_function("401 problem+json through the REST stack", |b| {
        b.iter(|| {
            let request = Request::get("/api/v1/auth/me")
                .body(Body::empty())
                .expect("a request");
            let response = runtime
                .block_on(router.clone().oneshot(request))
                .expect("infallible");
            assert_eq!(response.status(), 401);
        });
    });
}

fn password_hashing(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("argon2id verify");
    group.sample_size(10);
    for (name, params) in [
        (
            "OWASP m=19456 t=2 p=1 (default)",
            Argon2Params {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1,
            },
        ),
        (
            "m=65536 t=3 p=1",
            Argon2Params {
                memory_kib: 65_536,
                iterations: 3,
                parallelism: 1,
            },
        ),
    ] {
        let hasher = hasher(params);
        let password = Password::candidate(PASSWORD);
        let hash = runtime.block_on(hasher.hash(&password)).expect("hashing");
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(hasher.verify(&password, Some(&hash)))
                    .expect("verify")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, token_paths, problem_rendering, password_hashing);
criterion_main!(benches);
