//! SQLite for the storage ports: users, sessions (refresh families and the access-token deny
//! list), the audit log and plugins' key-value state, over one sqlx pool. SQLite is the
//! embedded default backend: `sqlite://data/arcana.db` (the file and its directory are created
//! on first use) or `sqlite::memory:` for a throwaway database.
//!
//! The repositories themselves are shared with PostgreSQL (`arcana-adapter-sql`); this crate is
//! SQLite's [`SqliteDialect`]: the pool's settings, the migrations, the time encoding and the
//! error codes. The pool runs in WAL mode with a busy timeout, so readers never block the
//! writer and writers queue for the write lock instead of failing. Every write is a single
//! statement, so the compare-and-swap writes cannot hit SQLite's non-retryable busy-snapshot
//! error.
//!
//! Schema (`migrations/sqlite/`): UUIDs as 16-byte BLOBs (ordered like the UUIDs), times as
//! INTEGER microseconds since the Unix epoch. Migrations run only when asked
//! ([`SqliteStore::migrate`](arcana_adapter_sql::SqlStore::migrate)), never as a side effect of
//! connecting.

mod dialect;

pub use arcana_adapter_sql::PoolSettings;
pub use dialect::SqliteDialect;

pub type SqliteStore = arcana_adapter_sql::SqlStore<SqliteDialect>;
pub type SqliteUserRepository = arcana_adapter_sql::SqlUserRepository<SqliteDialect>;
pub type SqliteSessionStore = arcana_adapter_sql::SqlSessionStore<SqliteDialect>;
pub type SqliteAuditLog = arcana_adapter_sql::SqlAuditLog<SqliteDialect>;
pub type SqlitePluginKv = arcana_adapter_sql::SqlPluginKv<SqliteDialect>;
