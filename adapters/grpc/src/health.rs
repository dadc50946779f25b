//! `grpc.health.v1.Health`: the overall status (`""`) and each Arcana service follow the same
//! readiness checks as REST's `/health/ready`, polled in the background.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::resilience::BreakerState;
use tokio::task::JoinSet;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::proto::auth::v1::auth_service_server::AuthServiceServer;
use crate::proto::user::v1::user_service_server::UserServiceServer;

/// Backstop for a check that ignores its own timeout, as for `/health/ready`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Every name the health service answers for: the whole server, then each service.
const NAMES: [&str; 3] = [
    "",
    <AuthServiceServer<crate::auth::GrpcAuthService> as NamedService>::NAME,
    <UserServiceServer<crate::users::GrpcUserService> as NamedService>::NAME,
];

/// Publishes the current state, then keeps `reporter` in step with the dependencies from a
/// background task that re-checks every `interval`. Abort the handle to stop it.
///
/// Each dependency guarded by a circuit breaker also has its own name,
/// `arcana.breaker.<dependency>`: `NOT_SERVING` while its breaker is open, so a client can tell
/// "fails fast now" from "down".
pub(crate) async fn follow_readiness(
    reporter: HealthReporter,
    checks: Vec<Arc<dyn HealthCheck>>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let mut serving = all_up(&checks).await;
    publish(&reporter, serving).await;
    let mut breakers = breakers(&checks);
    publish_breakers(&reporter, &breakers, None).await;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and the state was just published.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let now = all_up(&checks).await;
            if now != serving {
                tracing::info!(serving = now, "gRPC health changed");
                publish(&reporter, now).await;
                serving = now;
            }
            let latest = self::breakers(&checks);
            publish_breakers(&reporter, &latest, Some(&breakers)).await;
            breakers = latest;
        }
    })
}

/// `(health name, serving)` of each breaker, in the order of `checks`.
fn breakers(checks: &[Arc<dyn HealthCheck>]) -> Vec<(String, bool)> {
    checks
        .iter()
        .filter_map(|check| {
            let state = check.breaker()?;
            Some((
                format!("arcana.breaker.{}", check.name()),
                state != BreakerState::Open,
            ))
        })
        .collect()
}

async fn publish_breakers(
    reporter: &HealthReporter,
    now: &[(String, bool)],
    before: Option<&[(String, bool)]>,
) {
    for (index, (name, serving)) in now.iter().enumerate() {
        if before.and_then(|before| before.get(index)) == Some(&(name.clone(), *serving)) {
            continue;
        }
        let status = if *serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        reporter.set_service_status(name, status).await;
    }
}

async fn publish(reporter: &HealthReporter, serving: bool) {
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    for name in NAMES {
        reporter.set_service_status(name, status).await;
    }
}

/// Runs every required check concurrently; a check that panics or times out counts as down.
/// Optional dependencies (the cache) do not decide serving status: requests fall back without
/// them, exactly as `/health/ready` treats them.
pub(crate) async fn all_up(checks: &[Arc<dyn HealthCheck>]) -> bool {
    let mut running = JoinSet::new();
    let required: Vec<_> = checks.iter().filter(|check| check.required()).collect();
    for check in &required {
        let check = Arc::clone(check);
        running.spawn(async move { tokio::time::timeout(CHECK_TIMEOUT, check.check()).await });
    }
    let mut up = 0;
    while let Some(joined) = running.join_next().await {
        if matches!(joined, Ok(Ok(Health::Up { .. }))) {
            up += 1;
        }
    }
    up == required.len()
}
