//! Work the monolith does besides answering requests.

use std::sync::Arc;

use arcana_adapter_jobs::{Job, JobContext, JobError};
use arcana_adapter_memory::InProcessEventBus;
use arcana_domain::jobs::{JobName, QueueName};
use arcana_ports::clock::Clock;
use arcana_ports::sessions::SessionStore;
use prometheus::{IntCounterVec, Opts, Registry};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

/// Counts domain events by name on `/metrics` (`arcana_domain_events_total{event}`), and logs
/// each one at debug level — names and ids only, never personal data.
pub(crate) fn count_events(bus: &InProcessEventBus, registry: &Registry) -> anyhow::Result<()> {
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

/// Forgets expired sessions and deny-list entries so that the store does not grow for ever;
/// fired by the `sessions.purge` cron schedule (`jobs.scheduler.purge_sessions_cron`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct PurgeSessions {}

impl Job for PurgeSessions {
    const NAME: JobName = JobName::from_static("sessions.purge");
    const QUEUE: QueueName = QueueName::from_static("maintenance");
    type Deps = (Arc<dyn SessionStore>, Arc<dyn Clock>);

    async fn execute(
        self,
        (sessions, clock): &Self::Deps,
        _ctx: JobContext,
    ) -> Result<(), JobError> {
        match sessions.purge_expired(clock.now()).await {
            Ok(purged) => {
                tracing::debug!(purged, "expired sessions purged");
                Ok(())
            }
            Err(err) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(err)), "session purge failed");
                Err(JobError::Retry("the session store is unavailable".into()))
            }
        }
    }
}
