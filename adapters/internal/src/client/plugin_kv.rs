//! [`PluginKv`] over the repository tier's storage API.

use std::sync::Arc;

use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::{PluginKv, check_value_size};
use async_trait::async_trait;

use super::rpc;
use super::storage::{call, invalid};
use crate::convert;
use crate::transport::Transport;
use crate::wire;

/// [`PluginKv`] on the repository tier.
pub struct RemotePluginKv {
    transport: Arc<dyn Transport>,
}

impl RemotePluginKv {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

#[async_trait]
impl PluginKv for RemotePluginKv {
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let request = convert::plugin_key_ref(plugin, key);
        let found: wire::MaybePluginValue = call(
            &*self.transport,
            rpc!("Storage", "GetPluginValue"),
            &request,
        )
        .await?;
        Ok(found.value)
    }

    /// Refuses an oversized value here too, so that it never crosses the link.
    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        check_value_size(value)?;
        let request = wire::PluginValue {
            plugin: plugin.as_str().to_owned(),
            key: key.as_str().to_owned(),
            value: value.to_vec(),
        };
        let _: wire::Empty = call(
            &*self.transport,
            rpc!("Storage", "PutPluginValue"),
            &request,
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let request = convert::plugin_key_ref(plugin, key);
        let deleted: wire::Flag = call(
            &*self.transport,
            rpc!("Storage", "DeletePluginValue"),
            &request,
        )
        .await?;
        Ok(deleted.value)
    }

    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PluginKey>, StoreError> {
        let request = wire::PluginKeyQuery {
            plugin: plugin.as_str().to_owned(),
            prefix: prefix.to_owned(),
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
        };
        let keys: wire::PluginKeys = call(
            &*self.transport,
            rpc!("Storage", "ListPluginKeys"),
            &request,
        )
        .await?;
        convert::keys_of(&keys).map_err(invalid)
    }
}
