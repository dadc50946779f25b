//! Recording what happened: the audit log for security-relevant events, the event bus for all.

use std::sync::Arc;

use arcana_domain::audit::AuditEntry;
use arcana_domain::event::DomainEvent;
use arcana_ports::audit::AuditLog;
use arcana_ports::events::EventPublisher;

#[derive(Clone)]
pub(crate) struct Recorder {
    audit: Arc<dyn AuditLog>,
    events: Arc<dyn EventPublisher>,
}

impl Recorder {
    pub(crate) fn new(audit: Arc<dyn AuditLog>, events: Arc<dyn EventPublisher>) -> Self {
        Self { audit, events }
    }

    /// Appends the event to the audit log, then publishes it.
    ///
    /// Called after the change it records has been stored. If the audit store fails then, the
    /// change stands (failing the request would tell the client it did not happen) and the
    /// failure is logged for operators, with the event id to reconcile.
    pub(crate) async fn audit(&self, event: DomainEvent, ip: Option<String>) {
        let entry = AuditEntry::from_event(&event, ip);
        if let Err(err) = self.audit.append(&entry).await {
            tracing::error!(
                event_id = %event.id,
                action = event.kind.name(),
                error = %format!("{:#}", anyhow::Error::from(err)),
                "audit entry could not be written"
            );
        }
        self.events.publish(event);
    }

    /// Publishes a routine event that does not belong in the audit log (token refreshes).
    pub(crate) fn publish(&self, event: DomainEvent) {
        self.events.publish(event);
    }
}
