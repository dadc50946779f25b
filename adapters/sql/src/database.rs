//! What the shared statements need of a sqlx database, stated once: the Rust types they bind and
//! read, and the three ways they run. Everything generic in this crate asks only
//! `DB: SqlDatabase`, so the long list of sqlx bounds lives here and nowhere else.

use std::future::Future;

use sqlx::migrate::{AppliedMigration, Migrate, MigrateError, Migrator};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row as _, Type};
use uuid::Uuid;

/// A statement with its arguments, ready to run. The SQL text is always a `&'static str`.
pub type Statement<DB> = sqlx::query::Query<'static, DB, <DB as Database>::Arguments>;

/// `DB` can bind a `T` as a statement argument.
pub trait Binds<T>: Database {
    fn bind(statement: Statement<Self>, value: T) -> Statement<Self>;
}

impl<DB: Database, T: Encode<'static, DB> + Type<DB>> Binds<T> for DB {
    fn bind(statement: Statement<Self>, value: T) -> Statement<Self> {
        statement.bind(value)
    }
}

/// `DB` can decode a column into a `T`.
pub trait Gets<T>: Database {
    fn get(row: &Self::Row, column: &str) -> Result<T, sqlx::Error>;
}

impl<DB, T> Gets<T> for DB
where
    DB: Database,
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    fn get(row: &Self::Row, column: &str) -> Result<T, sqlx::Error> {
        row.try_get(column)
    }
}

/// A sqlx database the shared repositories can run on: it binds and reads every type they use
/// (times are the dialect's business, see [`crate::Dialect`]) and runs statements and
/// migrations on a pool.
pub trait SqlDatabase:
    Database
    + Binds<Uuid>
    + Binds<Option<Uuid>>
    + Binds<String>
    + Binds<Option<String>>
    + Binds<&'static str>
    + Binds<Option<&'static str>>
    + Binds<i64>
    + Binds<Vec<u8>>
    + Gets<Uuid>
    + Gets<Option<Uuid>>
    + Gets<String>
    + Gets<Option<String>>
    + Gets<i64>
    + Gets<bool>
    + Gets<Vec<u8>>
{
    fn execute(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Self::QueryResult, sqlx::Error>> + Send;

    fn fetch_optional(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send;

    fn fetch_all(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// Applies every pending migration of `migrator`.
    fn migrate(
        pool: &Pool<Self>,
        migrator: &'static Migrator,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// The migrations recorded as applied in `table` (created when missing).
    fn applied_migrations<'p>(
        pool: &'p Pool<Self>,
        table: &'static str,
    ) -> impl Future<Output = Result<Vec<AppliedMigration>, MigrateError>> + Send + 'p;
}

impl<DB> SqlDatabase for DB
where
    DB: Database
        + Binds<Uuid>
        + Binds<Option<Uuid>>
        + Binds<String>
        + Binds<Option<String>>
        + Binds<&'static str>
        + Binds<Option<&'static str>>
        + Binds<i64>
        + Binds<Vec<u8>>
        + Gets<Uuid>
        + Gets<Option<Uuid>>
        + Gets<String>
        + Gets<Option<String>>
        + Gets<i64>
        + Gets<bool>
        + Gets<Vec<u8>>,
    DB::Arguments: IntoArguments<DB>,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn execute(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Self::QueryResult, sqlx::Error>> + Send {
        pool.execute(statement)
    }

    fn fetch_optional(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send {
        pool.fetch_optional(statement)
    }

    fn fetch_all(
        pool: &Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send {
        pool.fetch_all(statement)
    }

    fn migrate(
        pool: &Pool<Self>,
        migrator: &'static Migrator,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send {
        migrator.run(pool)
    }

    async fn applied_migrations(
        pool: &Pool<Self>,
        table: &'static str,
    ) -> Result<Vec<AppliedMigration>, MigrateError> {
        let mut conn = pool.acquire().await?;
        conn.ensure_migrations_table(table).await?;
        conn.list_applied_migrations(table).await
    }
}

/// Binding in statement order: `sqlx::query(SQL).arg(a).arg(b)`, for any database that binds
/// the argument's type.
pub(crate) trait Args<DB: Database>: Sized {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>;
}

impl<DB: Database> Args<DB> for Statement<DB> {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>,
    {
        DB::bind(self, value)
    }
}
