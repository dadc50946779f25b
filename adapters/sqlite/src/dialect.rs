//! What is SQLite's own: the file and in-memory pools, the migrations, times as INTEGER
//! microseconds, result codes, and unique violations named by their columns.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use arcana_adapter_sql::{Dialect, PoolSettings};
use arcana_ports::{StoreError, UniqueField};
use chrono::{DateTime, Utc};
use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};

/// The schema, embedded at compile time so the binary carries its own migrations.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a writer waits for the write lock before giving up with `SQLITE_BUSY`
/// (`Unavailable`): long enough to ride out a burst of concurrent writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite primary result codes (the low byte of the extended code sqlx reports) that mean the
/// database cannot serve right now rather than that the statement is wrong.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

/// SQLite as seen by the shared repositories.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    /// Microseconds since the Unix epoch (UTC).
    type Time = i64;

    const NAME: &'static str = "sqlite";
    const DOWN: &'static str = "database cannot be opened";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    /// Creates the database file's directory when missing; the file itself is created on first
    /// connection.
    fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<SqlitePool, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| {
                StoreError::Other(anyhow::Error::new(err).context("parsing the SQLite URL"))
            })?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().acquire_timeout(settings.acquire_timeout);
        if is_in_memory(url) {
            // One connection, never reaped: the database lives exactly as long as it does.
            return Ok(pool
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(options));
        }
        create_parent_dir(options.get_filename())?;
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except for the last transactions before a power
            // loss, and saves an fsync per commit.
            .synchronous(SqliteSynchronous::Normal);
        Ok(pool
            .max_connections(settings.max_connections.max(1))
            .connect_lazy_with(options))
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn encode_time(at: DateTime<Utc>) -> i64 {
        at.timestamp_micros()
    }

    fn decode_time(stored: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(stored)
    }

    fn is_unavailable_code(code: &str) -> bool {
        code.parse::<i64>().is_ok_and(|code| {
            matches!(
                code & 0xff,
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN
            )
        })
    }

    /// SQLite names the violated UNIQUE constraint by its columns (`UNIQUE constraint failed:
    /// users.username`), not by the constraint name, so the column list is what identifies it.
    /// The message never contains the offending value.
    fn unique_field(violation: &dyn DatabaseError) -> Option<UniqueField> {
        match violation.message().rsplit(':').next()?.trim() {
            "users.username" => Some(UniqueField::Username),
            "users.email" => Some(UniqueField::Email),
            _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://?mode=memory"));
        assert!(!is_in_memory("sqlite://data/arcana.db"));
        assert!(!is_in_memory("sqlite:data/memory.db?mode=rwc"));
    }

    #[test]
    fn times_round_trip_at_microsecond_precision() {
        let at = DateTime::parse_from_rfc3339("2031-05-06T07:08:09.123456789Z")
            .unwrap()
            .to_utc();
        let back = SqliteDialect::decode_time(SqliteDialect::encode_time(at)).unwrap();
        assert_eq!(back.to_rfc3339(), "2031-05-06T07:08:09.123456+00:00");
    }

    #[test]
    fn busy_and_io_codes_are_unavailable_and_constraint_codes_are_not() {
        // 517 is SQLITE_BUSY_SNAPSHOT, an extended code of BUSY; 2067 is SQLITE_CONSTRAINT_UNIQUE.
        for code in ["5", "517", "6", "10", "13", "14"] {
            assert!(SqliteDialect::is_unavailable_code(code), "{code}");
        }
        for code in ["2067", "1", "19", "not a number"] {
            assert!(!SqliteDialect::is_unavailable_code(code), "{code}");
        }
    }
}
