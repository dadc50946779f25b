//! In-memory adapters: the embedded `memory:` backend for throwaway dev runs, and the fakes that
//! application tests run against. Each honours its port's full contract (atomic rotation,
//! optimistic concurrency, uniqueness), only without durability.

mod audit;
mod clock;
mod events;
mod job_events;
mod jobs;
mod lock;
mod plugin_kv;
mod schedules;
mod sessions;
mod throttle;
mod users;

pub use audit::InMemoryAuditLog;
pub use clock::{ManualClock, SystemClock};
pub use events::InProcessEventBus;
pub use job_events::InProcessJobEvents;
pub use jobs::InMemoryJobQueue;
pub use lock::InMemoryLeaderLock;
pub use plugin_kv::InMemoryPluginKv;
pub use schedules::InMemoryScheduler;
pub use sessions::InMemorySessionStore;
pub use throttle::InMemoryThrottleStore;
pub use users::InMemoryUserRepository;

/// Lock poisoning means a thread panicked while holding the lock; the data may be half-written,
/// so the adapter reports a storage failure instead of serving it.
fn poisoned() -> arcana_ports::StoreError {
    arcana_ports::StoreError::Other(anyhow::anyhow!("in-memory store lock poisoned"))
}
