//! What is PostgreSQL's own: the pool, the migrations, native `timestamptz` times, SQLSTATEs,
//! and unique constraints named in the schema.

use std::str::FromStr;

use arcana_adapter_sql::{Dialect, PoolSettings};
use arcana_ports::{StoreError, UniqueField};
use chrono::{DateTime, Utc};
use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Postgres};

/// The schema, embedded at compile time so the binary carries its own migrations.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// PostgreSQL as seen by the shared repositories.
#[derive(Debug, Clone, Copy)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    type Db = Postgres;
    /// `timestamptz`, which keeps microseconds (sqlx truncates the nanoseconds on the way in).
    type Time = DateTime<Utc>;

    const NAME: &'static str = "postgres";
    const DOWN: &'static str = "database unreachable";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<PgPool, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|err| {
            StoreError::Other(anyhow::Error::new(err).context("parsing the PostgreSQL URL"))
        })?;
        Ok(PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options))
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn encode_time(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }

    fn decode_time(stored: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(stored)
    }

    /// SQLSTATEs of a server that cannot serve now: connection exceptions (class 08),
    /// insufficient resources such as too many connections or a full disk (53), shutdown or
    /// start-up in progress (57P01–57P03), and system I/O errors (58).
    fn is_unavailable_code(code: &str) -> bool {
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("58")
            || matches!(code, "57P01" | "57P02" | "57P03")
    }

    /// The unique constraints of `users` carry explicit names (see the migration), so the
    /// violated one identifies the field without looking at any value.
    fn unique_field(violation: &dyn DatabaseError) -> Option<UniqueField> {
        match violation.constraint()? {
            "users_username_key" => Some(UniqueField::Username),
            "users_email_key" => Some(UniqueField::Email),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_resource_states_are_unavailable_and_others_are_not() {
        for code in ["08006", "08001", "53300", "57P01", "57P03", "58030"] {
            assert!(PostgresDialect::is_unavailable_code(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "57014"] {
            assert!(!PostgresDialect::is_unavailable_code(code), "{code}");
        }
    }
}
