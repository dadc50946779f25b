//! Schema migrations: diesel_migrations' harness, embedded at compile time, run over a dedicated
//! connection and serialised across processes by a named server lock.
//!
//! The harness is synchronous; diesel-async's `AsyncConnectionWrapper` adapts the connection,
//! on a blocking thread so that it can block on the runtime (which works on either runtime
//! flavour, unlike `AsyncMigrationHarness`'s `block_in_place`).
//!
//! Each migration runs in a transaction as diesel does it, but MySQL commits implicitly after
//! every DDL statement, so a schema change is not atomic: migrations are written to be re-run
//! safely instead (`IF NOT EXISTS`). Applied versions are recorded in diesel's
//! `__diesel_schema_migrations` table.

use std::time::Duration;

use arcana_ports::StoreError;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use crate::MysqlStore;
use crate::error::{is_connection_failure, store_error};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

/// How long `migrate` waits for another process (a replica starting at the same time) to finish
/// migrating the same database.
const LOCK_WAIT_SECS: i32 = 120;

/// One lock per database (names are server-wide and at most 64 characters), so that migrating
/// one database never waits for another on the same server.
const LOCK: &str =
    "SELECT GET_LOCK(LEFT(CONCAT('arcana_migrate.', DATABASE()), 64), ?) AS acquired";
const UNLOCK: &str =
    "SELECT RELEASE_LOCK(LEFT(CONCAT('arcana_migrate.', DATABASE()), 64)) AS released";

type SyncConnection = AsyncConnectionWrapper<AsyncMysqlConnection>;
type HarnessResult<T> = diesel::migration::Result<T>;

#[derive(QueryableByName)]
struct Acquired {
    /// 1 when acquired, 0 on timeout, NULL on error.
    #[diesel(sql_type = Nullable<BigInt>)]
    acquired: Option<i64>,
}

impl MysqlStore {
    /// Applies every pending migration, holding a per-database lock so that replicas starting
    /// together do not race.
    ///
    /// # Errors
    /// `Unavailable` when the server cannot be reached (`OutcomeUnknown` when the connection
    /// fails while taking the lock), `Other` when a migration fails or the lock is not granted
    /// within two minutes.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.dedicated_connection().await?;
        let lock = diesel::sql_query(LOCK)
            .bind::<Integer, _>(LOCK_WAIT_SECS)
            .get_result::<Acquired>(&mut conn)
            .await
            .map_err(|err| store_error(err, "taking the migration lock"))?;
        if lock.acquired != Some(1) {
            return Err(StoreError::Other(anyhow::anyhow!(
                "the migration lock was not granted within {LOCK_WAIT_SECS} s \
                 (another process is migrating this database)"
            )));
        }
        let (mut conn, outcome) = on_blocking_thread(conn, |harness| {
            harness.run_pending_migrations(MIGRATIONS).map(drop)
        })
        .await?;
        // Closing the connection would release the lock too; this only makes it prompt.
        if let Err(err) = diesel::sql_query(UNLOCK).execute(&mut conn).await {
            tracing::debug!(error = %err, "releasing the migration lock failed");
        }
        outcome
    }

    /// Names (`<version>_<name>`, e.g. `0001_initial`) of the migrations not applied yet, oldest
    /// first.
    ///
    /// # Errors
    /// As [`MysqlStore::migrate`].
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.dedicated_connection().await?;
        let (_, outcome) = on_blocking_thread(conn, |harness| {
            let pending = harness.pending_migrations(MIGRATIONS)?;
            Ok(pending.iter().map(|m| m.name().to_string()).collect())
        })
        .await?;
        outcome
    }

    /// A connection outside the pool: migrations hold it (and the lock) for as long as they
    /// take, and a blocking thread must own it.
    async fn dedicated_connection(&self) -> Result<AsyncMysqlConnection, StoreError> {
        let unavailable = |err: anyhow::Error| {
            StoreError::Unavailable(err.context("connecting to run migrations"))
        };
        let timeout = self.connect_timeout.max(Duration::from_millis(1));
        match tokio::time::timeout(timeout, self.pool.dedicated_connection()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(err)) => Err(unavailable(anyhow::Error::new(err))),
            Err(elapsed) => Err(unavailable(anyhow::Error::new(elapsed))),
        }
    }
}

/// Runs `work` on the synchronous harness, on a blocking thread, and hands the connection back.
async fn on_blocking_thread<T, F>(
    conn: AsyncMysqlConnection,
    work: F,
) -> Result<(AsyncMysqlConnection, Result<T, StoreError>), StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncConnection) -> HarnessResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut harness = SyncConnection::from(conn);
        let outcome = work(&mut harness).map_err(migration_error);
        (harness.into_inner(), outcome)
    })
    .await
    .map_err(|err| StoreError::Other(anyhow::Error::new(err).context("running migrations")))
}

/// A lost connection is `Unavailable` where the harness passes diesel's error on as it is
/// (reading the applied versions); a failing migration statement is `Other`.
fn migration_error(err: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    let unavailable = err
        .downcast_ref::<diesel::result::Error>()
        .is_some_and(is_connection_failure);
    let err = anyhow::Error::from_boxed(err).context("running migrations");
    if unavailable {
        StoreError::Unavailable(err)
    } else {
        StoreError::Other(err)
    }
}
