//! One database's pool: settings, migrations, the health check, and the port implementations
//! it hands out.

use std::marker::PhantomData;
use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck, PoolUsage};
use async_trait::async_trait;
use sqlx::Pool;

use crate::database::SqlDatabase;
use crate::error::{migrate_error, store_error};
use crate::{Dialect, SqlAuditLog, SqlPluginKv, SqlSessionStore, SqlUserRepository};

/// sqlx's bookkeeping table, where applied migrations are recorded.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Bound of the health check, so `/health/ready` answers even when the pool is starved or the
/// server unreachable.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Sizing of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Upper bound of open connections per process (an in-memory SQLite database has exactly
    /// one, since every connection would otherwise see its own empty database).
    pub max_connections: u32,
    /// How long a query waits for a connection (free or newly opened) before failing as
    /// `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A handle on one database; cheap to clone (it is the pool's handle). Hands out the port
/// implementations, which share the pool.
#[derive(Debug)]
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Builds the pool without opening a connection, so the server can start (and report
    /// not-ready) while the database is down or cannot be opened. Must be called inside a Tokio
    /// runtime (the pool spawns its maintenance task).
    ///
    /// # Errors
    /// `Other` when `url` is not the backend's, `Unavailable` when what the backend needs
    /// before connecting (such as a SQLite file's directory) cannot be made.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        Ok(Self {
            pool: D::connect_lazy(url, settings)?,
            dialect: PhantomData,
        })
    }

    /// Waits for checked-out connections to come back and closes every connection (for SQLite
    /// this also checkpoints the WAL), so a stopped server leaves a tidy database behind.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool's occupancy now (sqlx counts no waits).
    pub fn usage(&self) -> PoolUsage {
        PoolUsage {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
            waited: None,
            timed_out: None,
        }
    }

    /// Applies every pending migration (on PostgreSQL under sqlx's advisory lock, so replicas
    /// starting together do not race).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached, `Other` when a migration fails or an
    /// applied migration no longer matches its file.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        D::Db::migrate(&self.pool, D::migrator())
            .await
            .map_err(migrate_error::<D>)
    }

    /// Names (`<version>_<description>`) of the migrations not applied yet, oldest first.
    ///
    /// # Errors
    /// As [`SqlStore::migrate`].
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let applied = D::Db::applied_migrations(&self.pool, MIGRATIONS_TABLE)
            .await
            .map_err(migrate_error::<D>)?;
        Ok(D::migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| applied.iter().all(|a| a.version != m.version))
            .map(|m| format!("{}_{}", m.version, m.description.replace(' ', "_")))
            .collect())
    }

    pub fn users(&self) -> SqlUserRepository<D> {
        SqlUserRepository::new(self.pool.clone())
    }

    pub fn sessions(&self) -> SqlSessionStore<D> {
        SqlSessionStore::new(self.pool.clone())
    }

    pub fn audit(&self) -> SqlAuditLog<D> {
        SqlAuditLog::new(self.pool.clone())
    }

    pub fn plugin_kv(&self) -> SqlPluginKv<D> {
        SqlPluginKv::new(self.pool.clone())
    }
}

#[async_trait]
impl<D: Dialect> HealthCheck for SqlStore<D> {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Health {
        let ping = D::Db::execute(&self.pool, sqlx::query("SELECT 1"));
        match tokio::time::timeout(HEALTH_TIMEOUT, ping).await {
            Ok(Ok(_)) => Health::Up {
                detail: D::NAME.into(),
            },
            Ok(Err(err)) => {
                // Debug, not warn: readiness probes poll, and the failure shows in the probe.
                let err = store_error::<D>(err, "pinging the database");
                tracing::debug!(error = %format_args!("{err:#}"), backend = D::NAME, "database health check failed");
                Health::Down {
                    reason: D::DOWN.into(),
                }
            }
            Err(_) => Health::Down {
                reason: "database did not answer in time".into(),
            },
        }
    }
}
