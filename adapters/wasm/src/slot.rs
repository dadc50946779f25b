//! One plugin name's place in the host: the version running (if any), whether it is enabled,
//! its failure budget, counters and event queue. Versions come and go under a slot; the slot
//! lives as long as the file does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use arcana_domain::event::DomainEvent;
use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::{PluginInfo, PluginState};
use tokio::sync::mpsc;

use crate::supervisor::Supervisor;
use crate::telemetry::CallStats;

pub struct Slot {
    pub name: PluginName,
    pub version: ArcSwapOption<crate::version::Version>,
    pub enabled: AtomicBool,
    pub supervisor: Mutex<Supervisor>,
    pub stats: CallStats,
    pub last_error: Mutex<Option<String>>,
    /// SHA-256 of a module refused while no version was running.
    pub rejected: Mutex<Option<String>>,
    pub events: mpsc::Sender<DomainEvent>,
}

impl Slot {
    pub fn state(&self) -> PluginState {
        let quarantined = self.supervisor.lock().is_ok_and(|s| {
            s.quarantined_until()
                .is_some_and(|until| until > chrono::Utc::now())
        });
        if self.version.load().is_none() {
            PluginState::Rejected
        } else if !self.enabled.load(Ordering::Relaxed) {
            PluginState::Disabled
        } else if quarantined {
            PluginState::Quarantined
        } else {
            PluginState::Enabled
        }
    }

    pub fn set_error(&self, error: Option<String>) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = error;
        }
    }

    pub fn info(&self) -> PluginInfo {
        let version = self.version.load_full();
        let (version_text, sha256, subscriptions, routes, interceptor, loaded_at) = match &version {
            Some(v) => (
                v.manifest.version.clone(),
                v.sha256.clone(),
                v.manifest.subscription_text.clone(),
                !v.manifest.routes.is_empty(),
                v.manifest.interceptor.is_some(),
                Some(v.loaded_at),
            ),
            None => (
                String::new(),
                self.rejected
                    .lock()
                    .ok()
                    .and_then(|r| r.clone())
                    .unwrap_or_default(),
                Vec::new(),
                false,
                false,
                None,
            ),
        };
        PluginInfo {
            name: self.name.clone(),
            version: version_text,
            state: self.state(),
            sha256,
            subscriptions,
            routes,
            interceptor,
            counters: self.stats.snapshot(),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
            quarantined_until: self
                .supervisor
                .lock()
                .ok()
                .and_then(|s| s.quarantined_until()),
            loaded_at,
        }
    }
}
