//! The SQLite pool: URL parsing, connection settings, migrations and the health check.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::migrate::{Migrate as _, MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::store_error;
use crate::{SqliteAuditLog, SqliteSessionStore, SqliteUserRepository};

/// The schema, embedded at compile time so the binary carries its own migrations.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// sqlx's bookkeeping table, where applied migrations are recorded.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// How long a writer waits for the write lock before giving up with `SQLITE_BUSY`
/// (`Unavailable`): long enough to ride out a burst of concurrent writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Bound of the health check, so `/health/ready` answers even when the pool is starved.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Sizing of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Upper bound of open connections (forced to 1 for in-memory databases, where every
    /// connection would otherwise see its own empty database).
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing as `Unavailable`.
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

/// A handle on one SQLite database; cheap to clone (it is the pool's handle). Hands out the
/// port implementations, which share the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Builds the pool without opening a connection, so the server can start (and report
    /// not-ready) while the database cannot be opened. Creates the database file's directory
    /// when missing; the file itself is created on first connection. Must be called inside a
    /// Tokio runtime (the pool spawns its maintenance task).
    ///
    /// # Errors
    /// `Other` when `url` is not a SQLite URL, `Unavailable` when the directory cannot be
    /// created.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| {
                StoreError::Other(anyhow::Error::new(err).context("parsing the SQLite URL"))
            })?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().acquire_timeout(settings.acquire_timeout);
        let pool = if is_in_memory(url) {
            // One connection, never reaped: the database lives exactly as long as it does.
            pool.max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(options)
        } else {
            create_parent_dir(options.get_filename())?;
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable in WAL mode except for the last transactions before a power
                // loss, and saves an fsync per commit.
                .synchronous(SqliteSynchronous::Normal);
            pool.max_connections(settings.max_connections.max(1))
                .connect_lazy_with(options)
        };
        Ok(Self { pool })
    }

    /// Waits for checked-out connections to come back and closes every connection (for SQLite
    /// this also checkpoints the WAL), so a stopped server leaves a tidy database behind.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be opened, `Other` when a migration fails or an
    /// applied migration no longer matches its file.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(migrate_error)
    }

    /// Names (`<version>_<description>`) of the migrations not applied yet, oldest first.
    ///
    /// # Errors
    /// As [`SqliteStore::migrate`].
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

    pub fn users(&self) -> SqliteUserRepository {
        SqliteUserRepository::new(self.pool.clone())
    }

    pub fn sessions(&self) -> SqliteSessionStore {
        SqliteSessionStore::new(self.pool.clone())
    }

    pub fn audit(&self) -> SqliteAuditLog {
        SqliteAuditLog::new(self.pool.clone())
    }
}

#[async_trait]
impl HealthCheck for SqliteStore {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Health {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(HEALTH_TIMEOUT, ping).await {
            Ok(Ok(_)) => Health::Up {
                detail: "sqlite".into(),
            },
            Ok(Err(err)) => {
                // Debug, not warn: readiness probes poll, and the failure shows in the probe.
                tracing::debug!(error = %err, "SQLite health check failed");
                Health::Down {
                    reason: "database cannot be opened".into(),
                }
            }
            Err(_) => Health::Down {
                reason: "database did not answer in time".into(),
            },
        }
    }
}

/// `sqlite::memory:`, `sqlite://:memory:` or `?mode=memory`: a database that exists only inside
/// its connection.
fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

fn create_parent_dir(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|err| {
            StoreError::Unavailable(
                anyhow::Error::new(err).context("creating the SQLite database directory"),
            )
        }),
        _ => Ok(()),
    }
}

fn migrate_error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(err) => store_error(err, "running migrations"),
        other => StoreError::Other(anyhow::Error::new(other).context("running migrations")),
    }
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn in_memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://?mode=memory"));
        assert!(!is_in_memory("sqlite://data/arcana.db"));
        assert!(!is_in_memory("sqlite:data/memory.db?mode=rwc"));
    }
}
