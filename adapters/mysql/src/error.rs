//! Translation of diesel / mysql_async errors into the ports' `StoreError`.
//!
//! diesel-async flattens a mysql_async error into `DatabaseError(kind, message)`: the server's
//! error code survives only as the kind (1062 → `UniqueViolation`), and client-side failures
//! (I/O, closed connection) only as mysql_async's own, unlocalized message prefix. Those two
//! signals are all the classification below relies on.

use arcana_ports::{StoreError, UniqueField};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::bb8::RunError;

/// Message prefixes mysql_async gives failures of the connection itself, as opposed to errors
/// the server reported (whose message diesel-async passes on without a prefix).
const CONNECTION_FAILURES: [&str; 3] = [
    "Input/output error:",
    "Driver error: `Connection to the server is closed.",
    "Driver error: `Pool was disconnected.",
];

/// Our key names a duplicate-key error may name; anything else is logged as "another key", so
/// that a message of an unexpected shape can never put a value in the log.
const KNOWN_KEYS: [&str; 3] = ["users_username_key", "users_email_key", "PRIMARY"];

/// Classifies the error of a statement sent on a pooled connection: the connection failing
/// under it → `OutcomeUnknown` (the server may have applied a write whose answer was lost),
/// anything else → `Other`. Getting no connection at all is [`pool_error`]'s `Unavailable`.
/// The driver error stays attached as the source, for logs only — except for duplicate-key
/// errors, whose message holds the duplicated value and is dropped.
pub(crate) fn store_error(err: DieselError, doing: &'static str) -> StoreError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &err {
        let key = duplicate_key(info.message())
            .filter(|key| KNOWN_KEYS.contains(key))
            .unwrap_or("another key");
        return StoreError::Other(anyhow::anyhow!("duplicate entry for {key}").context(doing));
    }
    if is_connection_failure(&err) {
        StoreError::OutcomeUnknown(anyhow::Error::new(err).context(doing))
    } else {
        StoreError::Other(anyhow::Error::new(err).context(doing))
    }
}

/// Like [`store_error`], but a violated uniqueness rule of `users` becomes `Conflict`.
pub(crate) fn user_write_error(err: DieselError, doing: &'static str) -> StoreError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &err {
        match duplicate_key(info.message()) {
            Some("users_username_key") => return StoreError::Conflict(UniqueField::Username),
            Some("users_email_key") => return StoreError::Conflict(UniqueField::Email),
            _ => {}
        }
    }
    store_error(err, doing)
}

/// No connection could be had from the pool in time: the server is down, unreachable, refusing
/// connections, or every connection is busy.
pub(crate) fn pool_error(err: RunError, doing: &'static str) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(err).context(doing))
}

/// A value read from the database that the domain refuses: corrupt or foreign data, never
/// replaced by a default.
pub(crate) fn invalid_row(column: &'static str, cause: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {column} is invalid: {cause}"))
}

pub(crate) fn is_connection_failure(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            CONNECTION_FAILURES
                .iter()
                .any(|prefix| message.starts_with(prefix))
        }
        _ => false,
    }
}

/// The key named by a duplicate-key message — `Duplicate entry '<value>' for key '<key>'`
/// (MySQL 8 writes `<table>.<key>`), possibly localized. The key is the *last* quoted token, so
/// a value that itself looks like a key name (`users_email_key` is a valid username) or
/// contains quotes cannot be mistaken for it.
fn duplicate_key(message: &str) -> Option<&str> {
    let quoted = message.trim_end().strip_suffix('\'')?;
    let key = &quoted[quoted.rfind('\'')? + 1..];
    Some(key.rsplit('.').next().unwrap_or(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(message: &str) -> DieselError {
        DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(message.to_owned()),
        )
    }

    #[test]
    fn the_key_is_the_last_quoted_token_in_either_dialect() {
        let mariadb = "Duplicate entry 'bob' for key 'users_username_key'";
        let mysql = "Duplicate entry 'x@y.z' for key 'users.users_email_key'";
        assert_eq!(duplicate_key(mariadb), Some("users_username_key"));
        assert_eq!(duplicate_key(mysql), Some("users_email_key"));
        let tricky = "Duplicate entry 'users_email_key' for key 'users_username_key'";
        assert_eq!(duplicate_key(tricky), Some("users_username_key"));
        assert_eq!(duplicate_key("no key here"), None);
    }

    #[test]
    fn duplicate_users_are_conflicts_and_no_error_carries_the_value() {
        let err = user_write_error(
            duplicate("Duplicate entry 'secret-name' for key 'users.users_username_key'"),
            "inserting a user",
        );
        assert!(matches!(err, StoreError::Conflict(UniqueField::Username)));
        let err = store_error(
            duplicate("Duplicate entry 'secret-id' for key 'secret-id'"),
            "creating a session",
        );
        let StoreError::Other(cause) = err else {
            panic!("{err:?}")
        };
        assert!(!format!("{cause:?}").contains("secret"), "{cause:?}");
    }

    #[test]
    fn a_connection_failing_under_a_statement_leaves_its_outcome_unknown() {
        let unknown = |message: &str| {
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
        };
        let io = unknown("Input/output error: Connection reset by peer (os error 104)");
        assert!(matches!(
            store_error(io, "x"),
            StoreError::OutcomeUnknown(_)
        ));
        let closed = unknown("Driver error: `Connection to the server is closed.'");
        assert!(matches!(
            store_error(closed, "x"),
            StoreError::OutcomeUnknown(_)
        ));
        let server = unknown("Table 'arcana.users' doesn't exist");
        assert!(matches!(store_error(server, "x"), StoreError::Other(_)));
    }
}
