//! In-process event bus: a bounded broadcast channel. Subscribers that fall behind lose the
//! oldest events and are told how many (`RecvError::Lagged`) rather than slowing publishers.

use arcana_domain::event::DomainEvent;
use arcana_ports::events::EventPublisher;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct InProcessEventBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl InProcessEventBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

impl EventPublisher for InProcessEventBus {
    fn publish(&self, event: DomainEvent) {
        // An error only means nobody is subscribed right now, which is not a failure.
        let _ = self.sender.send(event);
    }
}
