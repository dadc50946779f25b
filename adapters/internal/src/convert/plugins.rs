//! Plugin names, keys and key queries.

use arcana_domain::plugin::{PluginKey, PluginName};

use super::{Invalid, parsed};
use crate::wire;

pub(crate) fn plugin_key_ref(plugin: &PluginName, key: &PluginKey) -> wire::PluginKeyRef {
    wire::PluginKeyRef {
        plugin: plugin.as_str().to_owned(),
        key: key.as_str().to_owned(),
    }
}

pub(crate) fn plugin_and_key(
    message: &wire::PluginKeyRef,
) -> Result<(PluginName, PluginKey), Invalid> {
    Ok((
        parsed("plugin", PluginName::parse(&message.plugin))?,
        parsed("key", PluginKey::parse(&message.key))?,
    ))
}

pub(crate) fn plugin_name(field: &str, raw: &str) -> Result<PluginName, Invalid> {
    parsed(field, PluginName::parse(raw))
}

pub(crate) fn plugin_keys(keys: &[PluginKey]) -> wire::PluginKeys {
    wire::PluginKeys {
        keys: keys.iter().map(|key| key.as_str().to_owned()).collect(),
    }
}

pub(crate) fn keys_of(message: &wire::PluginKeys) -> Result<Vec<PluginKey>, Invalid> {
    message
        .keys
        .iter()
        .map(|key| parsed("keys", PluginKey::parse(key)))
        .collect()
}
