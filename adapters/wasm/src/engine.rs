//! One wasmtime engine for every plugin: Cranelift, epoch interruption driven by a 1 ms ticker,
//! the pooling allocator when the machine allows its address-space reservation (on-demand
//! allocation otherwise), and one linker with Arcana's host functions and a deny-all WASI.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::Plugin;
use crate::compiled::CompiledCache;
use crate::state::InstanceState;

/// How often the epoch advances, so how late a call past its budget can be stopped (and how
/// often a long call yields to the runtime).
pub const TICK: Duration = Duration::from_millis(1);

pub struct PluginEngine {
    pub engine: Engine,
    pub linker: Linker<InstanceState>,
    pub pooling: bool,
    /// Machine code of verified modules, kept across restarts (`None`: compile every time).
    pub cache: Option<CompiledCache>,
    stop: Arc<AtomicBool>,
}

impl PluginEngine {
    pub fn new(memory_limit: usize, cache_dir: Option<std::path::PathBuf>) -> anyhow::Result<Self> {
        let (engine, pooling) = match Engine::new(&config(Some(memory_limit))) {
            Ok(engine) => (engine, true),
            Err(err) => {
                tracing::warn!(
                    "plugin pooling allocator unavailable ({err}); allocating on demand"
                );
                (Engine::new(&config(None))?, false)
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Plugin::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |state| state)?;
        let stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(&engine, stop.clone())?;
        let cache = cache_dir.map(|dir| CompiledCache::new(dir, &engine));
        Ok(Self {
            engine,
            linker,
            pooling,
            cache,
            stop,
        })
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn config(pooling_memory: Option<usize>) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    if let Some(max_memory) = pooling_memory {
        let mut pool = PoolingAllocationConfig::default();
        // A Rust wasip2 component uses several core instances, memories and tables each.
        pool.total_component_instances(256)
            .total_core_instances(2_048)
            .total_memories(512)
            .total_tables(1_024)
            .max_memory_size(max_memory);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// A plain thread, not a task: the ticker must keep going when every runtime worker is busy,
/// since it is what stops a plugin that keeps a worker busy. It holds only a weak reference.
fn spawn_ticker(engine: &Engine, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("plugin-epoch".to_owned())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })?;
    Ok(())
}
