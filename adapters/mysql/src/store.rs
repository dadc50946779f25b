//! The MySQL/MariaDB store: pool settings, the port implementations it hands out, and the
//! health check.

use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck, PoolUsage};
use async_trait::async_trait;
use diesel_async::RunQueryDsl as _;

use crate::pool::{self, Pool};
use crate::{MysqlAuditLog, MysqlPluginKv, MysqlSessionStore, MysqlUserRepository};

/// Bound of the health check, so `/health/ready` answers even when the server is unreachable.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Sizing of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Upper bound of open connections per process.
    pub max_connections: u32,
    /// How long a query waits for a connection (free or newly opened) before failing as
    /// `Unavailable`; also bounds opening one connection.
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

/// A handle on one MySQL or MariaDB database; cheap to clone (it is the pool's handle). Hands
/// out the port implementations, which share the pool.
#[derive(Debug, Clone)]
pub struct MysqlStore {
    pub(crate) pool: Pool,
    /// Bounds opening the dedicated connection that migrations run on.
    pub(crate) connect_timeout: Duration,
    max_connections: u32,
}

impl MysqlStore {
    /// Builds the pool without opening a connection, so the server can start (and report
    /// not-ready) while the database is down. Accepts `mysql://` and `mariadb://` URLs. Must be
    /// called inside a Tokio runtime (the pool spawns its maintenance task).
    ///
    /// # Errors
    /// `Other` when `url` is not a well-formed MySQL URL (the error does not quote it).
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let url = pool::driver_url(url)?;
        Ok(Self {
            pool: pool::build(url, settings.max_connections, settings.acquire_timeout),
            connect_timeout: settings.acquire_timeout,
            max_connections: settings.max_connections,
        })
    }

    /// The pool's occupancy now, with bb8's counts of waiting and timed-out acquisitions.
    pub fn usage(&self) -> PoolUsage {
        let state = self.pool.state();
        PoolUsage {
            open: state.connections,
            idle: state.idle_connections,
            max: self.max_connections,
            waited: Some(state.statistics.get_waited),
            timed_out: Some(state.statistics.get_timed_out),
        }
    }

    pub fn users(&self) -> MysqlUserRepository {
        MysqlUserRepository::new(self.pool.clone())
    }

    pub fn sessions(&self) -> MysqlSessionStore {
        MysqlSessionStore::new(self.pool.clone())
    }

    pub fn audit(&self) -> MysqlAuditLog {
        MysqlAuditLog::new(self.pool.clone())
    }

    pub fn plugin_kv(&self) -> MysqlPluginKv {
        MysqlPluginKv::new(self.pool.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = pool::connection(&self.pool, "checking health").await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(|err| crate::error::store_error(err, "checking health"))?;
        Ok(())
    }
}

#[async_trait]
impl HealthCheck for MysqlStore {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Health {
        match tokio::time::timeout(HEALTH_TIMEOUT, self.ping()).await {
            Ok(Ok(())) => Health::Up {
                detail: "mysql".into(),
            },
            Ok(Err(err)) => {
                // Debug, not warn: readiness probes poll, and the failure shows in the probe.
                tracing::debug!(error = ?err, "MySQL health check failed");
                Health::Down {
                    reason: "database unreachable".into(),
                }
            }
            Err(_) => Health::Down {
                reason: "database did not answer in time".into(),
            },
        }
    }
}
