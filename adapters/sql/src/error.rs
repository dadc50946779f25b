//! Translation of sqlx errors into the ports' `StoreError`: one rule for every SQL backend, with
//! the backend's own codes and constraint names asked of its [`Dialect`].

use arcana_ports::{StoreError, UniqueField};
use sqlx::migrate::MigrateError;

use crate::Dialect;

/// Classifies `err`: no connection in time, or refused by the server → `Unavailable` (the
/// statement never ran); the connection lost while the statement was under way →
/// `OutcomeUnknown` (it may have been applied); anything else → `Other`. The driver error stays
/// attached as the source, for logs only.
pub(crate) fn store_error<D: Dialect>(err: sqlx::Error, doing: &'static str) -> StoreError {
    let lost_mid_call = match &err {
        // Refused or unroutable: the connection was never made, nothing ran.
        sqlx::Error::Io(io) => !matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::AddrNotAvailable
                | std::io::ErrorKind::HostUnreachable
                | std::io::ErrorKind::NetworkUnreachable
                | std::io::ErrorKind::NotFound
        ),
        sqlx::Error::WorkerCrashed => true,
        _ => false,
    };
    let unavailable = is_unavailable::<D>(&err);
    let cause = anyhow::Error::new(err).context(doing);
    if lost_mid_call {
        StoreError::OutcomeUnknown(cause)
    } else if unavailable {
        StoreError::Unavailable(cause)
    } else {
        StoreError::Other(cause)
    }
}

/// Like [`store_error`], but a violated uniqueness rule of `users` becomes `Conflict`.
pub(crate) fn user_write_error<D: Dialect>(err: sqlx::Error, doing: &'static str) -> StoreError {
    match conflicting_field::<D>(&err) {
        Some(field) => StoreError::Conflict(field),
        None => store_error::<D>(err, doing),
    }
}

/// A value read from the database that the domain refuses: corrupt or foreign data, never
/// replaced by a default.
pub(crate) fn invalid_row(
    column: impl std::fmt::Display,
    cause: impl std::fmt::Display,
) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {column} is invalid: {cause}"))
}

pub(crate) fn migrate_error<D: Dialect>(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(err) => store_error::<D>(err, "running migrations"),
        other => StoreError::Other(anyhow::Error::new(other).context("running migrations")),
    }
}

fn is_unavailable<D: Dialect>(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| D::is_unavailable_code(&code)),
        _ => false,
    }
}

fn conflicting_field<D: Dialect>(err: &sqlx::Error) -> Option<UniqueField> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    D::unique_field(db)
}
