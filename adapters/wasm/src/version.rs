//! One loaded version of a plugin: its compiled component, its manifest and a pool of warm
//! instances. A hot reload builds a new `Version` beside the old one; calls in flight keep the
//! `Arc` of the version they started on, so they finish there.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arcana_domain::plugin::PluginName;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, InstancePre};
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::exports::arcana::plugin::{events, http_interceptor, jobs, meta, routes};
use crate::engine::PluginEngine;
use crate::grants::Grants;
use crate::manifest::{Exports, Manifest};
use crate::state::{HostServices, InstanceState};
use crate::telemetry::Outcome;

/// Warm instances kept per version; more are created under load, up to [`MAX_INSTANCES`].
const WARM_INSTANCES: usize = 4;
/// Instances of one version alive at once (each may be parked in a yielded call).
const MAX_INSTANCES: usize = 16;
/// An instance is replaced after this many calls, so that whatever a guest leaks is bounded.
const RECYCLE_AFTER: u32 = 10_000;
const DESCRIBE_BUDGET: Duration = Duration::from_secs(1);

/// A ready instance: its store and the hooks it exports, looked up once.
pub struct Warm {
    pub store: Store<InstanceState>,
    pub meta: meta::Guest,
    pub events: Option<events::Guest>,
    pub interceptor: Option<http_interceptor::Guest>,
    pub routes: Option<routes::Guest>,
    pub jobs: Option<jobs::Guest>,
    calls: u32,
}

struct Indices {
    meta: meta::GuestIndices,
    events: Option<events::GuestIndices>,
    interceptor: Option<http_interceptor::GuestIndices>,
    routes: Option<routes::GuestIndices>,
    jobs: Option<jobs::GuestIndices>,
}

pub struct Version {
    pub manifest: Manifest,
    pub sha256: String,
    pub loaded_at: DateTime<Utc>,
    pre: InstancePre<InstanceState>,
    indices: Indices,
    grants: Grants,
    services: HostServices,
    memory_limit: usize,
    warm: Mutex<Vec<Warm>>,
    instances: Semaphore,
}

/// What a failed call tells the supervisor.
#[derive(Debug)]
pub struct CallFailure {
    pub outcome: Outcome,
    pub reason: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub struct Source<'a> {
    pub name: &'a PluginName,
    pub bytes: Vec<u8>,
    /// The capabilities the operator grants this plugin.
    pub granted: &'a [String],
}

impl Version {
    /// Compiles (off the async workers), links, describes and checks a module whose signature
    /// was already verified. Any error leaves nothing behind.
    pub async fn load(
        engine: &PluginEngine,
        source: Source<'_>,
        services: HostServices,
        memory_limit: usize,
    ) -> Result<Self, String> {
        let sha256 = sha256_hex(&source.bytes);
        let (pre, indices) = compile(engine, source.name, &sha256, source.bytes).await?;
        let exports = indices.exports();
        let mut version = Self {
            manifest: Manifest::undescribed(source.name),
            sha256,
            loaded_at: Utc::now(),
            pre,
            indices,
            // `describe` runs with nothing granted: the grants depend on its answer.
            grants: Grants::default(),
            services,
            memory_limit,
            warm: Mutex::new(Vec::new()),
            instances: Semaphore::new(MAX_INSTANCES),
        };
        let descriptor = version
            .call(DESCRIBE_BUDGET, |warm| {
                Box::pin(async move {
                    let Warm { store, meta, .. } = warm;
                    meta.call_describe(store).await
                })
            })
            .await
            .map_err(|failure| format!("describe failed: {}", failure.reason))?;
        version.manifest = Manifest::check(descriptor, source.name, exports)?;
        version.grants = Grants::intersect(&version.manifest.capabilities, source.granted)?;
        // The describe instance had no grants; later calls get fresh instances that do.
        version
            .warm
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .clear();
        Ok(version)
    }

    /// Runs `hook` on a warm instance within `budget`. A call that traps or runs out of time
    /// poisons its store, so that instance is dropped, never reused.
    pub async fn call<R, F>(&self, budget: Duration, hook: F) -> Result<R, CallFailure>
    where
        F: for<'w> FnOnce(
            &'w mut Warm,
        )
            -> Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'w>>,
    {
        let _permit = self.instances.acquire().await.map_err(|_| CallFailure {
            outcome: Outcome::Trap,
            reason: "the plugin version is unloading".to_owned(),
        })?;
        let mut warm = self.take().await?;
        {
            let state = warm.store.data_mut();
            state.deadline = Instant::now() + budget;
            state.timed_out = false;
        }
        warm.store.set_epoch_deadline(1);
        match hook(&mut warm).await {
            Ok(value) => {
                // Output of a call that succeeded explains nothing later.
                let _ = warm.store.data().output.take_last_line();
                warm.calls += 1;
                self.give_back(warm);
                Ok(value)
            }
            Err(err) => {
                let outcome = if warm.store.data().timed_out {
                    Outcome::Timeout
                } else {
                    Outcome::Trap
                };
                let mut reason = match outcome {
                    Outcome::Timeout => format!("ran past its {} ms budget", budget.as_millis()),
                    _ => trap_reason(&err),
                };
                if let Some(said) = warm.store.data().output.take_last_line() {
                    reason = format!("{reason} (the plugin printed: {said})");
                }
                Err(CallFailure { outcome, reason })
            }
        }
    }

    pub(crate) async fn take(&self) -> Result<Warm, CallFailure> {
        let parked = self.warm.lock().ok().and_then(|mut warm| warm.pop());
        match parked {
            Some(warm) => Ok(warm),
            None => self.instantiate().await.map_err(|err| CallFailure {
                outcome: Outcome::Trap,
                reason: format!("instantiation failed: {err:#}"),
            }),
        }
    }

    pub(crate) fn give_back(&self, warm: Warm) {
        if warm.calls >= RECYCLE_AFTER {
            return;
        }
        if let Ok(mut parked) = self.warm.lock()
            && parked.len() < WARM_INSTANCES
        {
            parked.push(warm);
        }
    }

    /// ~10 µs with pooling, which is why instances are kept warm rather than made per call.
    async fn instantiate(&self) -> wasmtime::Result<Warm> {
        let state = InstanceState::new(
            self.manifest.name.clone(),
            self.services.clone(),
            &self.grants,
            self.memory_limit,
        );
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_callback(|mut ctx| {
            if Instant::now() >= ctx.data().deadline {
                ctx.data_mut().timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Yield to the runtime every tick, so a long call never holds a worker thread.
                // Through tokio's own `yield_now`, which defers the wake-up: a plain self-wake
                // lands in the worker's LIFO slot and the loop runs again before anything else.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        // Start-up code runs under a budget too.
        store.data_mut().deadline = Instant::now() + DESCRIBE_BUDGET;
        store.set_epoch_deadline(1);
        let instance = self.pre.instantiate_async(&mut store).await?;
        Ok(Warm {
            meta: self.indices.meta.load(&mut store, &instance)?,
            events: optional(self.indices.events.as_ref(), |i| {
                i.load(&mut store, &instance)
            })?,
            interceptor: optional(self.indices.interceptor.as_ref(), |i| {
                i.load(&mut store, &instance)
            })?,
            routes: optional(self.indices.routes.as_ref(), |i| {
                i.load(&mut store, &instance)
            })?,
            jobs: optional(self.indices.jobs.as_ref(), |i| {
                i.load(&mut store, &instance)
            })?,
            store,
            calls: 0,
        })
    }
}

/// An optional export's handle, when the module has that export.
fn optional<I, T>(
    index: Option<&I>,
    load: impl FnOnce(&I) -> wasmtime::Result<T>,
) -> wasmtime::Result<Option<T>> {
    index.map(load).transpose()
}

/// Compiles off the async workers (Cranelift takes milliseconds to seconds) and resolves the
/// exports once, so instantiation per call only looks them up by index.
async fn compile(
    engine: &PluginEngine,
    name: &PluginName,
    sha256: &str,
    bytes: Vec<u8>,
) -> Result<(InstancePre<InstanceState>, Indices), String> {
    let wasm_engine = engine.engine.clone();
    let cache = engine.cache.clone();
    let (name, sha256) = (name.clone(), sha256.to_owned());
    let component = tokio::task::spawn_blocking(move || match cache {
        Some(cache) => cache.load_or_compile(&wasm_engine, &name, &sha256, &bytes),
        None => Component::new(&wasm_engine, &bytes),
    })
    .await
    .map_err(|err| format!("compilation did not finish: {err}"))?
    .map_err(|err| format!("not a valid component: {err:#}"))?;
    let pre = engine
        .linker
        .instantiate_pre(&component)
        .map_err(|err| format!("the module needs something the host does not provide: {err:#}"))?;
    let indices = Indices {
        meta: meta::GuestIndices::new(&pre)
            .map_err(|_| "the module does not export `arcana:plugin/meta`".to_owned())?,
        events: events::GuestIndices::new(&pre).ok(),
        interceptor: http_interceptor::GuestIndices::new(&pre).ok(),
        routes: routes::GuestIndices::new(&pre).ok(),
        jobs: jobs::GuestIndices::new(&pre).ok(),
    };
    Ok((pre, indices))
}

impl Indices {
    fn exports(&self) -> Exports {
        Exports {
            events: self.events.is_some(),
            interceptor: self.interceptor.is_some(),
            routes: self.routes.is_some(),
            jobs: self.jobs.is_some(),
        }
    }
}

/// What went wrong, without the wasm backtrace (long, and little use to an operator): the
/// innermost cause, e.g. `wasm trap: wasm `unreachable` instruction executed` for a guest panic.
fn trap_reason(err: &wasmtime::Error) -> String {
    let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
    let memory = chain.iter().any(|cause| cause.contains("growing memory"));
    let cause = chain
        .iter()
        .rev()
        .find(|cause| !cause.starts_with("error while executing"))
        .map_or("trap", String::as_str);
    let cause = cause.lines().next().unwrap_or("trap");
    if memory {
        format!("memory limit reached: {cause}")
    } else {
        cause.to_owned()
    }
}
