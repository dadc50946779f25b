//! PostgreSQL for the storage ports: users, sessions (refresh families and the access-token
//! deny list), the audit log and plugins' key-value state, over one sqlx pool.
//!
//! The repositories themselves are shared with SQLite (`arcana-adapter-sql`); this crate is
//! PostgreSQL's [`PostgresDialect`]: the pool, the migrations, SQLSTATEs and constraint names.
//! Every write is a single statement, so the compare-and-swap writes (session rotation,
//! versioned user updates) are atomic under PostgreSQL's row locking: a concurrent writer waits
//! for the first and then re-checks the condition against the committed row, so exactly one
//! of them changes it.
//!
//! Schema (`migrations/postgres/`): native `uuid` ids (ordered like the UUIDs) and
//! `timestamptz` times (microseconds). Migrations run only when asked
//! ([`PostgresStore::migrate`](arcana_adapter_sql::SqlStore::migrate)), never as a side effect
//! of connecting.

mod dialect;

pub use arcana_adapter_sql::PoolSettings;
pub use dialect::PostgresDialect;

pub type PostgresStore = arcana_adapter_sql::SqlStore<PostgresDialect>;
pub type PostgresUserRepository = arcana_adapter_sql::SqlUserRepository<PostgresDialect>;
pub type PostgresSessionStore = arcana_adapter_sql::SqlSessionStore<PostgresDialect>;
pub type PostgresAuditLog = arcana_adapter_sql::SqlAuditLog<PostgresDialect>;
pub type PostgresPluginKv = arcana_adapter_sql::SqlPluginKv<PostgresDialect>;
