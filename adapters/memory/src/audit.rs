//! `AuditLog` over an ordered map, bounded so that a long-running dev process cannot grow
//! without limit (the oldest entries go first, as retention would remove them).

use std::collections::BTreeMap;
use std::sync::RwLock;

use arcana_domain::audit::AuditEntry;
use arcana_domain::ids::EventId;
use arcana_ports::StoreError;
use arcana_ports::audit::{AuditLog, AuditQuery};
use async_trait::async_trait;

use crate::poisoned;

pub struct InMemoryAuditLog {
    entries: RwLock<BTreeMap<EventId, AuditEntry>>,
    capacity: usize,
}

impl InMemoryAuditLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(BTreeMap::new()),
            capacity: capacity.max(1),
        }
    }
}

#[async_trait]
impl AuditLog for InMemoryAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        entries.insert(entry.id, entry.clone());
        while entries.len() > self.capacity {
            entries.pop_first();
        }
        Ok(())
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let entries = self.entries.read().map_err(|_| poisoned())?;
        let end = query.before.map_or(Unbounded, Excluded);
        Ok(entries
            .range((Unbounded, end))
            .rev()
            .map(|(_, entry)| entry)
            .filter(|e| query.actor.is_none_or(|actor| e.actor == Some(actor)))
            .filter(|e| query.action.is_none_or(|action| e.action == action))
            .filter(|e| {
                query
                    .subject
                    .as_deref()
                    .is_none_or(|subject| e.subject == subject)
            })
            .take(query.limit)
            .cloned()
            .collect())
    }
}
