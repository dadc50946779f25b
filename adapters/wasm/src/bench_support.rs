//! For the micro-benchmarks only (feature `bench`): the bare host→guest call, without the
//! host's bookkeeping around it (admission, supervisor, instance pool, stats, metrics), so the
//! call's own cost can be told apart from the host's.

use std::time::{Duration, Instant};

use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::HttpHead;

use crate::convert;
use crate::host::WasmPluginHost;

/// Runs `plugin`'s `before` interceptor hook `iterations` times back to back on one warm
/// instance (arguments lowered into the guest each time, as in service) and returns the time
/// they took together. `None` when the plugin is not loaded or has no interceptor.
pub async fn before_calls(
    host: &WasmPluginHost,
    plugin: &PluginName,
    head: &HttpHead,
    iterations: u64,
) -> Option<Duration> {
    let version = host.slot(plugin)?.version.load_full()?;
    let request = convert::head(head);
    let mut warm = version.take().await.ok()?;
    warm.store.data_mut().deadline = Instant::now() + Duration::from_hours(1);
    warm.store.set_epoch_deadline(1);
    let guest = warm.interceptor.clone()?;
    let started = Instant::now();
    for _ in 0..iterations {
        guest.call_before(&mut warm.store, &request).await.ok()?;
    }
    let elapsed = started.elapsed();
    version.give_back(warm);
    Some(elapsed)
}
