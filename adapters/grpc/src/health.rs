//! `grpc.health.v1.Health`: the overall status (`""`) and each Arcana service follow the same
//! readiness checks as REST's `/health/ready`, polled in the background.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::health::{Health, HealthCheck};
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
pub(crate) async fn follow_readiness(
    reporter: HealthReporter,
    checks: Vec<Arc<dyn HealthCheck>>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let mut serving = all_up(&checks).await;
    publish(&reporter, serving).await;
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
        }
    })
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
