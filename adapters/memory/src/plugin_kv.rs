//! `PluginKv` over one ordered map keyed by (plugin, key), so that listing by prefix is a range
//! scan and each plugin sees only its own keys.

use std::collections::BTreeMap;
use std::sync::RwLock;

use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::PluginKv;
use async_trait::async_trait;

use crate::poisoned;

#[derive(Default)]
pub struct InMemoryPluginKv {
    entries: RwLock<BTreeMap<(PluginName, PluginKey), Vec<u8>>>,
}

impl InMemoryPluginKv {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PluginKv for InMemoryPluginKv {
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let entries = self.entries.read().map_err(|_| poisoned())?;
        Ok(entries.get(&(plugin.clone(), key.clone())).cloned())
    }

    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        entries.insert((plugin.clone(), key.clone()), value.to_vec());
        Ok(())
    }

    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        Ok(entries.remove(&(plugin.clone(), key.clone())).is_some())
    }

    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PluginKey>, StoreError> {
        let entries = self.entries.read().map_err(|_| poisoned())?;
        Ok(entries
            .keys()
            .filter(|(owner, key)| owner == plugin && key.as_str().starts_with(prefix))
            .take(limit)
            .map(|(_, key)| key.clone())
            .collect())
    }
}
