//! `PluginKv` on MySQL: one row per (plugin, key), written by upsert, listed by a range of the
//! primary key. Keys are stored as their UTF-8 bytes (`VARBINARY`), so they compare as bytes.

use arcana_domain::plugin::{KeyRange, PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::{PluginKv, check_value_size};
use async_trait::async_trait;
use chrono::Utc;
use diesel::dsl::DuplicatedKeys;
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;

use crate::codec::{limit, to_db};
use crate::error::{invalid_row, store_error};
use crate::pool::{Pool, connection};
use crate::schema::plugin_kv;

#[derive(Debug, Clone)]
pub struct MysqlPluginKv {
    pool: Pool,
}

impl MysqlPluginKv {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl PluginKv for MysqlPluginKv {
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = connection(&self.pool, "reading a plugin value").await?;
        plugin_kv::table
            .select(plugin_kv::value)
            .filter(plugin_kv::plugin.eq(plugin.as_str()))
            .filter(plugin_kv::item_key.eq(key.as_str().as_bytes()))
            .first::<Vec<u8>>(&mut conn)
            .await
            .optional()
            .map_err(|err| store_error(err, "reading a plugin value"))
    }

    /// `INSERT … ON DUPLICATE KEY UPDATE`: one statement, so two concurrent writers of a new key
    /// cannot both insert; last write wins.
    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        check_value_size(value)?;
        let now = to_db(Utc::now());
        let mut conn = connection(&self.pool, "writing a plugin value").await?;
        diesel::insert_into(plugin_kv::table)
            .values((
                plugin_kv::plugin.eq(plugin.as_str()),
                plugin_kv::item_key.eq(key.as_str().as_bytes()),
                plugin_kv::value.eq(value),
                plugin_kv::updated_at.eq(now),
            ))
            .on_conflict(DuplicatedKeys)
            .do_update()
            .set((plugin_kv::value.eq(value), plugin_kv::updated_at.eq(now)))
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "writing a plugin value"))?;
        Ok(())
    }

    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let mut conn = connection(&self.pool, "deleting a plugin value").await?;
        let deleted = diesel::delete(
            plugin_kv::table
                .filter(plugin_kv::plugin.eq(plugin.as_str()))
                .filter(plugin_kv::item_key.eq(key.as_str().as_bytes())),
        )
        .execute(&mut conn)
        .await
        .map_err(|err| store_error(err, "deleting a plugin value"))?;
        Ok(deleted > 0)
    }

    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit_to: usize,
    ) -> Result<Vec<PluginKey>, StoreError> {
        let Some(range) = KeyRange::prefixed_by(prefix) else {
            return Ok(Vec::new());
        };
        let mut query = plugin_kv::table
            .select(plugin_kv::item_key)
            .filter(plugin_kv::plugin.eq(plugin.as_str()))
            .filter(plugin_kv::item_key.ge(range.start.into_bytes()))
            .order(plugin_kv::item_key.asc())
            .limit(limit(limit_to))
            .into_boxed();
        if let Some(end) = range.end {
            query = query.filter(plugin_kv::item_key.lt(end.into_bytes()));
        }
        let mut conn = connection(&self.pool, "listing plugin keys").await?;
        let keys: Vec<Vec<u8>> = query
            .load(&mut conn)
            .await
            .map_err(|err| store_error(err, "listing plugin keys"))?;
        keys.into_iter().map(key_from_bytes).collect()
    }
}

fn key_from_bytes(bytes: Vec<u8>) -> Result<PluginKey, StoreError> {
    let text = String::from_utf8(bytes).map_err(|err| invalid_row("plugin_kv.item_key", err))?;
    PluginKey::parse(&text).map_err(|err| invalid_row("plugin_kv.item_key", err))
}
