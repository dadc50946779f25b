//! `WasmPluginHost`: the `PluginHost` port over wasmtime.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::plugin::PluginName;
use arcana_ports::audit::AuditLog;
use arcana_ports::plugins::PluginKv;
use tokio::sync::mpsc;

use crate::engine::PluginEngine;
use crate::loader;
use crate::settings::HostSettings;
use crate::slot::Slot;
use crate::state::HostServices;
use crate::supervisor::{Supervisor, Transition};
use crate::telemetry::{Outcome, PluginMetrics};
use crate::version::{CallFailure, Version, Warm};

/// The plugin host. Cheap to clone; every clone is the same host.
#[derive(Clone)]
pub struct WasmPluginHost {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub settings: HostSettings,
    pub engine: PluginEngine,
    pub services: HostServices,
    pub slots: RwLock<BTreeMap<PluginName, Arc<Slot>>>,
    /// Enabled plugins with an interceptor, in call order; rebuilt when a plugin changes.
    pub interceptors: ArcSwap<Vec<Arc<Slot>>>,
    /// Loads, installs and removals one at a time, so a watcher reload and an upload of the
    /// same plugin cannot interleave.
    pub changes: tokio::sync::Mutex<()>,
    pub watcher: std::sync::Mutex<Option<notify::RecommendedWatcher>>,
}

/// Why a call did not produce a value.
pub(crate) enum CallError {
    /// Not called: no version running, disabled, or quarantined.
    NotRunning(&'static str),
    Failed(CallFailure),
}

impl WasmPluginHost {
    /// Builds the engine, loads every module in the directory (a module that fails is reported
    /// as rejected, never fatal) and, when configured, starts watching the directory.
    pub async fn start(
        settings: HostSettings,
        kv: Arc<dyn PluginKv>,
        audit: Arc<dyn AuditLog>,
        registry: &prometheus::Registry,
    ) -> anyhow::Result<Self> {
        if settings.allow_unsigned {
            tracing::warn!(
                "plugins.allow_unsigned = true: modules without a signature will run. \
                 Never use this setting in production."
            );
        }
        tokio::fs::create_dir_all(&settings.directory).await?;
        let engine =
            PluginEngine::new(settings.memory_limit_bytes, settings.compiled_cache.clone())?;
        tracing::info!(pooling = engine.pooling, dir = %settings.directory.display(), "plugin host starting");
        let services = HostServices {
            kv,
            audit,
            metrics: Arc::new(PluginMetrics::register(registry)?),
        };
        let host = Self {
            inner: Arc::new(Inner {
                settings,
                engine,
                services,
                slots: RwLock::new(BTreeMap::new()),
                interceptors: ArcSwap::from_pointee(Vec::new()),
                changes: tokio::sync::Mutex::new(()),
                watcher: std::sync::Mutex::new(None),
            }),
        };
        for name in loader::names_in(&host.inner.settings.directory).await? {
            host.reload(&name).await;
        }
        if host.inner.settings.watch {
            crate::watch::start(&host)?;
        }
        Ok(host)
    }

    pub(crate) fn slot(&self, name: &PluginName) -> Option<Arc<Slot>> {
        self.inner.slots.read().ok()?.get(name).cloned()
    }

    pub(crate) fn slots(&self) -> Vec<Arc<Slot>> {
        self.inner
            .slots
            .read()
            .map(|slots| slots.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The slot for `name`, created (with its event consumer) if new.
    pub(crate) fn slot_or_insert(&self, name: &PluginName) -> Arc<Slot> {
        if let Some(slot) = self.slot(name) {
            return slot;
        }
        let (sender, receiver) = mpsc::channel(self.inner.settings.event_queue.max(1));
        let slot = Arc::new(Slot {
            name: name.clone(),
            version: arc_swap::ArcSwapOption::empty(),
            enabled: std::sync::atomic::AtomicBool::new(true),
            supervisor: std::sync::Mutex::new(Supervisor::new(self.inner.settings.failure_budget)),
            stats: crate::telemetry::CallStats::default(),
            last_error: std::sync::Mutex::new(None),
            rejected: std::sync::Mutex::new(None),
            events: sender,
        });
        if let Ok(mut slots) = self.inner.slots.write() {
            slots.insert(name.clone(), slot.clone());
        }
        // Weak both ways: the slot holds the sender, so a strong host here would keep the host
        // (and its engine's address-space reservation) alive after its last user dropped it.
        tokio::spawn(consume_events(
            Arc::downgrade(&self.inner),
            Arc::downgrade(&slot),
            receiver,
        ));
        slot
    }

    pub(crate) fn forget(&self, name: &PluginName) {
        if let Ok(mut slots) = self.inner.slots.write() {
            slots.remove(name);
        }
        self.inner.services.metrics.set_state(name, None);
        self.rebuild_interceptors();
    }

    pub(crate) fn rebuild_interceptors(&self) {
        let mut list: Vec<(i32, Arc<Slot>)> = self
            .slots()
            .into_iter()
            .filter(|slot| slot.enabled.load(Ordering::Relaxed))
            .filter_map(|slot| {
                let order = slot
                    .version
                    .load()
                    .as_ref()?
                    .manifest
                    .interceptor
                    .as_ref()?
                    .order;
                Some((order, slot))
            })
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        self.inner
            .interceptors
            .store(Arc::new(list.into_iter().map(|(_, slot)| slot).collect()));
        for slot in self.slots() {
            self.inner
                .services
                .metrics
                .set_state(&slot.name, Some(slot.state().as_str()));
        }
    }

    /// Calls `hook` on the slot's running version, under the failure budget.
    pub(crate) async fn invoke<R, F>(
        &self,
        slot: &Slot,
        hook: &'static str,
        budget: Duration,
        call: F,
    ) -> Result<R, CallError>
    where
        F: for<'w> FnOnce(
            &'w mut Warm,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'w>,
        >,
    {
        let version = self.admit(slot)?;
        let started = Instant::now();
        let result = version.call(budget, call).await;
        self.settle(slot, hook, started.elapsed(), result)
    }

    /// The running version, if the slot is enabled and its supervisor lets a call through.
    fn admit(&self, slot: &Slot) -> Result<Arc<Version>, CallError> {
        let Some(version) = slot.version.load_full() else {
            return Err(CallError::NotRunning("not loaded"));
        };
        if !slot.enabled.load(Ordering::Relaxed) {
            return Err(CallError::NotRunning("disabled"));
        }
        let (admitted, transition) = match slot.supervisor.lock() {
            Ok(mut supervisor) => supervisor.admit(Instant::now()),
            Err(_) => (false, Transition::None),
        };
        self.report(slot, transition, None);
        if admitted {
            Ok(version)
        } else {
            Err(CallError::NotRunning("quarantined"))
        }
    }

    /// Counts a call's outcome and feeds it to the failure budget.
    fn settle<R>(
        &self,
        slot: &Slot,
        hook: &'static str,
        elapsed: Duration,
        result: Result<R, CallFailure>,
    ) -> Result<R, CallError> {
        let metrics = &self.inner.services.metrics;
        let failure = match result {
            Ok(value) => {
                slot.stats.record(Outcome::Ok, elapsed);
                metrics.call(&slot.name, hook, Outcome::Ok, elapsed);
                if let Ok(mut supervisor) = slot.supervisor.lock() {
                    supervisor.success();
                }
                return Ok(value);
            }
            Err(failure) => failure,
        };
        slot.stats.record(failure.outcome, elapsed);
        metrics.call(&slot.name, hook, failure.outcome, elapsed);
        tracing::warn!(
            plugin = slot.name.as_str(),
            hook,
            "plugin call failed: {}",
            failure.reason
        );
        slot.set_error(Some(format!("{hook}: {}", failure.reason)));
        let transition = match slot.supervisor.lock() {
            Ok(mut supervisor) => supervisor.failure(Instant::now()),
            Err(_) => Transition::None,
        };
        self.report(slot, transition, Some(&failure.reason));
        Err(CallError::Failed(failure))
    }

    /// Logs, counts and audits a supervisor transition.
    fn report(&self, slot: &Slot, transition: Transition, reason: Option<&str>) {
        let (kind, detail) = match transition {
            Transition::None => return,
            Transition::Quarantined { until, backoff } => {
                tracing::warn!(
                    plugin = slot.name.as_str(),
                    until = %until,
                    "plugin quarantined for {} s after repeated failures",
                    backoff.as_secs()
                );
                self.inner
                    .services
                    .metrics
                    .transition(&slot.name, "quarantined");
                let detail = format!(
                    "quarantined for {} s: {}",
                    backoff.as_secs(),
                    reason.unwrap_or("repeated failures")
                );
                (EventKind::PluginQuarantined, detail)
            }
            Transition::Restored => {
                tracing::info!(
                    plugin = slot.name.as_str(),
                    "plugin quarantine over; on probation"
                );
                self.inner
                    .services
                    .metrics
                    .transition(&slot.name, "probation");
                (EventKind::PluginRestored, "on probation".to_owned())
            }
        };
        self.inner
            .services
            .metrics
            .set_state(&slot.name, Some(slot.state().as_str()));
        self.audit(kind, &slot.name, detail);
    }

    /// Appends a lifecycle entry to the audit log without making the caller wait for it.
    pub(crate) fn audit(&self, kind: EventKind, name: &PluginName, detail: String) {
        let event = DomainEvent::new(
            kind,
            None,
            Subject::Plugin(name.clone()),
            chrono::Utc::now(),
        )
        .with_detail(detail);
        let audit = self.inner.services.audit.clone();
        tokio::spawn(async move {
            if let Err(err) = audit.append(&AuditEntry::from_event(&event, None)).await {
                tracing::warn!("plugin lifecycle audit entry lost: {err}");
            }
        });
    }
}

/// Delivers one plugin's events in order, one at a time. Holding only a weak reference, it ends
/// when the slot is dropped (its sender with it).
async fn consume_events(
    host: Weak<Inner>,
    slot: Weak<Slot>,
    mut events: mpsc::Receiver<DomainEvent>,
) {
    while let Some(event) = events.recv().await {
        let (Some(inner), Some(slot)) = (host.upgrade(), slot.upgrade()) else {
            break;
        };
        let host = WasmPluginHost { inner };
        let budget = host.inner.settings.event_budget;
        let wire = crate::convert::event(&event);
        let result = host
            .invoke(&slot, "event", budget, |warm| {
                Box::pin(async move {
                    let Warm { store, events, .. } = warm;
                    match events {
                        Some(guest) => guest.call_on_event(store, &wire).await,
                        None => Ok(Ok(())),
                    }
                })
            })
            .await;
        match result {
            Ok(Err(message)) => {
                slot.set_error(Some(format!("event {}: {message}", event.kind.name())));
            }
            Err(CallError::NotRunning(reason)) => {
                slot.stats.dropped();
                host.inner.services.metrics.dropped(&slot.name, reason);
            }
            Ok(Ok(())) | Err(CallError::Failed(_)) => {}
        }
    }
}
