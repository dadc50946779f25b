//! Publication of domain events to in-process subscribers (metrics, logs, later plugins).

use arcana_domain::event::DomainEvent;

#[cfg_attr(feature = "mock", mockall::automock)]
pub trait EventPublisher: Send + Sync {
    /// Hands `event` to subscribers without waiting for them. Publication never fails the
    /// operation that produced the event: the durable record of security-relevant events is the
    /// audit log, written before publication; a slow subscriber may miss events and is told so.
    fn publish(&self, event: DomainEvent);
}
