//! The seam between the shared repositories and one database: what truly differs between
//! backends, and nothing else.

use std::fmt::Debug;

use arcana_ports::{StoreError, UniqueField};
use chrono::{DateTime, Utc};
use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::{Database, Pool};

use crate::PoolSettings;
use crate::database::{Binds, Gets, SqlDatabase};

/// One SQL backend as the shared repositories see it. Implemented by a unit type in each
/// backend crate (`arcana-adapter-sqlite`, `arcana-adapter-postgres`); the statements, the row
/// mapping and the error rules are written once, in this crate, against it.
///
/// The statements use `$n` placeholders, which both PostgreSQL and sqlx's SQLite driver
/// accept, and only SQL that both speak; a backend whose SQL differs further needs its own
/// repositories rather than a larger seam.
pub trait Dialect: Debug + Send + Sync + 'static {
    /// The sqlx driver.
    type Db: SqlDatabase
        + Binds<Self::Time>
        + Binds<Option<Self::Time>>
        + Gets<Self::Time>
        + Gets<Option<Self::Time>>;

    /// How a time is stored: whatever column type the backend's schema uses for it.
    type Time: Send + 'static;

    /// The backend's name, as the health check reports it (`sqlite`, `postgres`).
    const NAME: &'static str;

    /// The health check's reason when the database does not answer a ping; no URL, no address.
    const DOWN: &'static str;

    /// The schema, embedded in the backend crate.
    fn migrator() -> &'static Migrator;

    /// A pool on `url` that has not connected yet (see [`crate::SqlStore::connect_lazy`]).
    ///
    /// # Errors
    /// `Other` when `url` is not this backend's, `Unavailable` when its resources (such as a
    /// directory) cannot be prepared.
    fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Pool<Self::Db>, StoreError>;

    /// Rows changed by a statement (sqlx has no trait for it).
    fn rows_affected(done: &<Self::Db as Database>::QueryResult) -> u64;

    /// The stored form of `at`. Every backend keeps whole microseconds, so a value read back
    /// equals the value written once truncated to microseconds.
    fn encode_time(at: DateTime<Utc>) -> Self::Time;

    /// A stored time back, or `None` when the stored value is no time (out of range): invalid
    /// data, reported as such, never replaced by a default.
    fn decode_time(stored: Self::Time) -> Option<DateTime<Utc>>;

    /// Whether the database's own error `code` (SQLSTATE, SQLite result code …) means it cannot
    /// serve right now, rather than that the statement is wrong.
    fn is_unavailable_code(code: &str) -> bool;

    /// Which unique field of `users` a unique violation is about, by the backend's way of
    /// naming the violated constraint (never by the offending value).
    fn unique_field(violation: &dyn DatabaseError) -> Option<UniqueField>;
}
