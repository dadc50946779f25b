//! Hot reload: the plugin directory is watched, changes are collected until it has been quiet
//! for the debounce time, then each changed plugin is reloaded.

use std::collections::BTreeSet;

use arcana_domain::plugin::PluginName;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::host::WasmPluginHost;
use crate::loader::plugin_of;

pub fn start(host: &WasmPluginHost) -> anyhow::Result<()> {
    let (sender, mut changes) = mpsc::unbounded_channel::<PluginName>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        for name in event.paths.iter().filter_map(|path| plugin_of(path)) {
            // The receiver is gone only when the host is; nothing left to tell.
            let _ = sender.send(name);
        }
    })?;
    watcher.watch(&host.inner.settings.directory, RecursiveMode::NonRecursive)?;
    if let Ok(mut slot) = host.inner.watcher.lock() {
        *slot = Some(watcher);
    }
    let weak = std::sync::Arc::downgrade(&host.inner);
    let debounce = host.inner.settings.reload_debounce;
    tokio::spawn(async move {
        while let Some(first) = changes.recv().await {
            let mut pending = BTreeSet::from([first]);
            while let Ok(Some(name)) = tokio::time::timeout(debounce, changes.recv()).await {
                pending.insert(name);
            }
            let Some(inner) = weak.upgrade() else { break };
            let host = WasmPluginHost { inner };
            for name in pending {
                host.reload(&name).await;
            }
        }
    });
    Ok(())
}
