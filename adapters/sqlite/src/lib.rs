//! SQLite adapters for the storage ports: users, sessions (refresh families and the access-token
//! deny list) and the audit log, over one sqlx pool. SQLite is the embedded default backend:
//! `sqlite://data/arcana.db` (the file and its directory are created on first use) or
//! `sqlite::memory:` for a throwaway database.
//!
//! The pool runs in WAL mode with a busy timeout, so readers never block the writer and writers
//! queue for the write lock instead of failing. Every write is a single statement — never a
//! read-then-write transaction — so the compare-and-swap writes (session rotation, versioned
//! user updates) are atomic without explicit locking and cannot hit SQLite's non-retryable
//! busy-snapshot error.
//!
//! Schema (`migrations/sqlite/`): UUIDs as 16-byte BLOBs (ordered like the UUIDs), times as
//! INTEGER microseconds since the Unix epoch. Migrations run only when asked
//! ([`SqliteStore::migrate`]), never as a side effect of connecting.

mod audit;
mod codec;
mod error;
mod sessions;
mod store;
mod users;

pub use audit::SqliteAuditLog;
pub use sessions::SqliteSessionStore;
pub use store::{PoolSettings, SqliteStore};
pub use users::SqliteUserRepository;
