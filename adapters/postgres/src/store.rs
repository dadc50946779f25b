//! The PostgreSQL pool: URL parsing, pool settings, migrations and the health check.

use std::str::FromStr;
use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::migrate::{Migrate as _, MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::store_error;
use crate::{PostgresAuditLog, PostgresSessionStore, PostgresUserRepository};

/// The schema, embedded at compile time so the binary carries its own migrations.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// sqlx's bookkeeping table, where applied migrations are recorded.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Bound of the health check, so `/health/ready` answers even when the server is unreachable.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Sizing of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Upper bound of open connections per process.
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

/// A handle on one PostgreSQL database; cheap to clone (it is the pool's handle). Hands out the
/// port implementations, which share the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Builds the pool without opening a connection, so the server can start (and report
    /// not-ready) while the database is down. Must be called inside a Tokio runtime (the pool
    /// spawns its maintenance task).
    ///
    /// # Errors
    /// `Other` when `url` is not a PostgreSQL URL.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|err| {
            StoreError::Other(anyhow::Error::new(err).context("parsing the PostgreSQL URL"))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Waits for checked-out connections to come back and closes every connection (for SQLite
    /// this also checkpoints the WAL), so a stopped server leaves a tidy database behind.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies every pending migration (under sqlx's advisory lock, so replicas starting
    /// together do not race).
    ///
    /// # Errors
    /// `Unavailable` when the server cannot be reached, `Other` when a migration fails or an
    /// applied migration no longer matches its file.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(migrate_error)
    }

    /// Names (`<version>_<description>`) of the migrations not applied yet, oldest first.
    ///
    /// # Errors
    /// As [`PostgresStore::migrate`].
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|err| store_error(err, "connecting to list migrations"))?;
        conn.ensure_migrations_table(MIGRATIONS_TABLE)
            .await
            .map_err(migrate_error)?;
        let applied = conn
            .list_applied_migrations(MIGRATIONS_TABLE)
            .await
            .map_err(migrate_error)?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| applied.iter().all(|a| a.version != m.version))
            .map(|m| format!("{}_{}", m.version, m.description.replace(' ', "_")))
            .collect())
    }

    pub fn users(&self) -> PostgresUserRepository {
        PostgresUserRepository::new(self.pool.clone())
    }

    pub fn sessions(&self) -> PostgresSessionStore {
        PostgresSessionStore::new(self.pool.clone())
    }

    pub fn audit(&self) -> PostgresAuditLog {
        PostgresAuditLog::new(self.pool.clone())
    }
}

#[async_trait]
impl HealthCheck for PostgresStore {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Health {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(HEALTH_TIMEOUT, ping).await {
            Ok(Ok(_)) => Health::Up {
                detail: "postgres".into(),
            },
            Ok(Err(err)) => {
                // Debug, not warn: readiness probes poll, and the failure shows in the probe.
                tracing::debug!(error = %err, "PostgreSQL health check failed");
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

fn migrate_error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(err) => store_error(err, "running migrations"),
        other => StoreError::Other(anyhow::Error::new(other).context("running migrations")),
    }
}
