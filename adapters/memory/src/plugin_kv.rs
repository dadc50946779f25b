//! `PluginKv` over one ordered map per plugin, so that listing by prefix is a range scan and each
//! plugin sees only its own keys.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::RwLock;

use arcana_domain::plugin::{KeyRange, PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::{PluginKv, check_value_size};
use async_trait::async_trait;

use crate::poisoned;

/// The keys of one plugin, by their text (a `String` orders by its bytes, as the port asks).
type Entries = BTreeMap<String, Vec<u8>>;

#[derive(Default)]
pub struct InMemoryPluginKv {
    plugins: RwLock<HashMap<PluginName, Entries>>,
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
        let plugins = self.plugins.read().map_err(|_| poisoned())?;
        Ok(plugins
            .get(plugin)
            .and_then(|entries| entries.get(key.as_str()))
            .cloned())
    }

    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        check_value_size(value)?;
        let mut plugins = self.plugins.write().map_err(|_| poisoned())?;
        plugins
            .entry(plugin.clone())
            .or_default()
            .insert(key.as_str().to_owned(), value.to_vec());
        Ok(())
    }

    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let mut plugins = self.plugins.write().map_err(|_| poisoned())?;
        Ok(plugins
            .get_mut(plugin)
            .is_some_and(|entries| entries.remove(key.as_str()).is_some()))
    }

    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PluginKey>, StoreError> {
        let Some(range) = KeyRange::prefixed_by(prefix) else {
            return Ok(Vec::new());
        };
        let plugins = self.plugins.read().map_err(|_| poisoned())?;
        let Some(entries) = plugins.get(plugin) else {
            return Ok(Vec::new());
        };
        let end = range
            .end
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        entries
            .range::<str, _>((Bound::Included(range.start.as_str()), end))
            .take(limit)
            .map(|(key, _)| {
                PluginKey::parse(key).map_err(|err| StoreError::Other(anyhow::Error::new(err)))
            })
            .collect()
    }
}
