//! Translation of sqlx/SQLite errors into the ports' `StoreError`.

use arcana_ports::{StoreError, UniqueField};

/// SQLite primary result codes (the low byte of the extended code sqlx reports) that mean the
/// database cannot serve right now rather than that the statement is wrong.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

/// Classifies `err`: unreachable or refusing service → `Unavailable`, anything else → `Other`.
/// The driver error stays attached as the source, for logs only.
pub(crate) fn store_error(err: sqlx::Error, doing: &'static str) -> StoreError {
    if is_unavailable(&err) {
        StoreError::Unavailable(anyhow::Error::new(err).context(doing))
    } else {
        StoreError::Other(anyhow::Error::new(err).context(doing))
    }
}

/// Like [`store_error`], but a violated uniqueness rule of `users` becomes `Conflict`.
pub(crate) fn user_write_error(err: sqlx::Error, doing: &'static str) -> StoreError {
    match conflicting_field(&err) {
        Some(field) => StoreError::Conflict(field),
        None => store_error(err, doing),
    }
}

/// A value read from the database that the domain refuses: corrupt or foreign data, never
/// replaced by a default.
pub(crate) fn invalid_row(column: &'static str, cause: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {column} is invalid: {cause}"))
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| {
                matches!(
                    code & 0xff,
                    SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN
                )
            }),
        _ => false,
    }
}

/// SQLite names the violated UNIQUE constraint by its columns (`UNIQUE constraint failed:
/// users.username`), not by the constraint name, so the column list is what identifies it. The
/// message never contains the offending value.
fn conflicting_field(err: &sqlx::Error) -> Option<UniqueField> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    let columns = db.message().rsplit(':').next()?.trim();
    match columns {
        "users.username" => Some(UniqueField::Username),
        "users.email" => Some(UniqueField::Email),
        _ => None,
    }
}
