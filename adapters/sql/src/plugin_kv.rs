//! `PluginKv` over any [`Dialect`]: one row per (plugin, key), written by upsert, listed by a
//! range of the primary key.

use std::marker::PhantomData;

use arcana_domain::plugin::{KeyRange, PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::{PluginKv, check_value_size};
use async_trait::async_trait;
use chrono::Utc;
use sqlx::{Database, Pool};

use crate::Dialect;
use crate::codec::{Columns, limit};
use crate::database::{Args as _, SqlDatabase};
use crate::error::{invalid_row, store_error};

const GET: &str = "SELECT value FROM plugin_kv WHERE plugin = $1 AND item_key = $2";

/// Last write wins; one statement, so two concurrent writers of a new key cannot both insert.
const PUT: &str = "INSERT INTO plugin_kv (plugin, item_key, value, updated_at) \
    VALUES ($1, $2, $3, $4) \
    ON CONFLICT (plugin, item_key) \
    DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

const DELETE: &str = "DELETE FROM plugin_kv WHERE plugin = $1 AND item_key = $2";

/// Two statements rather than one with `($3 IS NULL OR item_key < $3)`, so that both bounds are
/// index bounds and the scan stops at the end of the prefix.
const KEYS_BETWEEN: &str = "SELECT item_key FROM plugin_kv \
    WHERE plugin = $1 AND item_key >= $2 AND item_key < $3 ORDER BY item_key LIMIT $4";
const KEYS_FROM: &str = "SELECT item_key FROM plugin_kv \
    WHERE plugin = $1 AND item_key >= $2 ORDER BY item_key LIMIT $3";

/// The plugin key-value table of one database; cheap to clone (it holds the pool's handle).
#[derive(Debug)]
pub struct SqlPluginKv<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlPluginKv<D> {
    fn clone(&self) -> Self {
        Self::new(self.pool.clone())
    }
}

impl<D: Dialect> SqlPluginKv<D> {
    pub(crate) fn new(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            dialect: PhantomData,
        }
    }
}

#[async_trait]
impl<D: Dialect> PluginKv for SqlPluginKv<D> {
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let statement = sqlx::query(GET)
            .arg(plugin.as_str().to_owned())
            .arg(key.as_str().to_owned());
        let row = D::Db::fetch_optional(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "reading a plugin value"))?;
        row.map(|row| {
            Columns::<D>::new(&row, "plugin_kv", "decoding a plugin value").get::<Vec<u8>>("value")
        })
        .transpose()
    }

    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        check_value_size(value)?;
        let statement = sqlx::query(PUT)
            .arg(plugin.as_str().to_owned())
            .arg(key.as_str().to_owned())
            .arg(value.to_vec())
            .arg(D::encode_time(Utc::now()));
        D::Db::execute(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "writing a plugin value"))?;
        Ok(())
    }

    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let statement = sqlx::query(DELETE)
            .arg(plugin.as_str().to_owned())
            .arg(key.as_str().to_owned());
        let done = D::Db::execute(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "deleting a plugin value"))?;
        Ok(D::rows_affected(&done) > 0)
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
        let statement = match range.end {
            Some(end) => sqlx::query(KEYS_BETWEEN)
                .arg(plugin.as_str().to_owned())
                .arg(range.start)
                .arg(end),
            None => sqlx::query(KEYS_FROM)
                .arg(plugin.as_str().to_owned())
                .arg(range.start),
        };
        let rows = D::Db::fetch_all(&self.pool, statement.arg(limit(limit_to)))
            .await
            .map_err(|err| store_error::<D>(err, "listing plugin keys"))?;
        rows.iter().map(key_from_row::<D>).collect()
    }
}

fn key_from_row<D: Dialect>(row: &<D::Db as Database>::Row) -> Result<PluginKey, StoreError> {
    let row = Columns::<D>::new(row, "plugin_kv", "decoding a plugin key");
    PluginKey::parse(&row.get::<String>("item_key")?)
        .map_err(|err| invalid_row("plugin_kv.item_key", err))
}
