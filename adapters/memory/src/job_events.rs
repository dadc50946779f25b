//! The job event feed of one process: a bounded broadcast channel, so a slow subscriber loses
//! the oldest events instead of slowing the workers.

use arcana_ports::jobs::{JobEvent, JobEventFeed, JobEventSubscription};
use async_trait::async_trait;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct InProcessJobEvents {
    sender: broadcast::Sender<JobEvent>,
}

impl InProcessJobEvents {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }
}

impl JobEventFeed for InProcessJobEvents {
    fn publish(&self, event: JobEvent) {
        // An error only means nobody is watching right now.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> Box<dyn JobEventSubscription> {
        Box::new(Subscription(self.sender.subscribe()))
    }
}

struct Subscription(broadcast::Receiver<JobEvent>);

#[async_trait]
impl JobEventSubscription for Subscription {
    async fn next(&mut self) -> Option<JobEvent> {
        loop {
            match self.0.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
