//! Translation of sqlx/PostgreSQL errors into the ports' `StoreError`.

use arcana_ports::{StoreError, UniqueField};

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
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_unavailable_state(&code)),
        _ => false,
    }
}

/// SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), insufficient
/// resources such as too many connections or a full disk (53), shutdown or start-up in progress
/// (57P01–57P03), and system I/O errors (58).
fn is_unavailable_state(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || matches!(code, "57P01" | "57P02" | "57P03")
}

/// The unique constraints of `users` carry explicit names (see the migration), so the violated
/// one identifies the field without looking at any value.
fn conflicting_field(err: &sqlx::Error) -> Option<UniqueField> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    match db.constraint()? {
        "users_username_key" => Some(UniqueField::Username),
        "users_email_key" => Some(UniqueField::Email),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::is_unavailable_state;

    #[test]
    fn connection_and_resource_states_are_unavailable_and_others_are_not() {
        for code in ["08006", "08001", "53300", "57P01", "57P03", "58030"] {
            assert!(is_unavailable_state(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "57014"] {
            assert!(!is_unavailable_state(code), "{code}");
        }
    }
}
