//! Work the monolith does besides answering requests.

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_memory::InProcessEventBus;
use arcana_ports::sessions::SessionStore;
use chrono::Utc;
use prometheus::{IntCounterVec, Opts, Registry};
use tokio::sync::broadcast::error::RecvError;

/// Counts domain events by name on `/metrics` (`arcana_domain_events_total{event}`), and logs
/// each one at debug level — names and ids only, never personal data.
pub fn count_events(bus: &InProcessEventBus, registry: &Registry) -> anyhow::Result<()> {
    let counter = IntCounterVec::new(
        Opts::new(
            "arcana_domain_events_total",
            "Domain events published, by event name",
        ),
        &["event"],
    )?;
    registry.register(Box::new(counter.clone()))?;
    let mut events = bus.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    counter.with_label_values(&[event.kind.name()]).inc();
                    tracing::debug!(event = event.kind.name(), id = %event.id, subject = %event.subject.render(), "domain event");
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "event counter fell behind; some events were not counted"
                    );
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    Ok(())
}

const PURGE_EVERY: Duration = Duration::from_mins(5);

/// Forgets expired sessions and deny-list entries so that the store does not grow for ever.
pub fn purge_expired_sessions(sessions: Arc<dyn SessionStore>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            match sessions.purge_expired(Utc::now()).await {
                Ok(purged) => tracing::debug!(purged, "expired sessions purged"),
                Err(err) => {
                    tracing::warn!(error = %format!("{:#}", anyhow::Error::from(err)), "session purge failed");
                }
            }
        }
    });
}
