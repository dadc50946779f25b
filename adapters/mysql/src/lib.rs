//! MySQL and MariaDB adapters for the storage ports: users, sessions (refresh families and the
//! access-token deny list), the audit log and plugins' key-value state, over one bb8 pool of
//! diesel-async connections.
//!
//! The driver is `mysql_async` (pure Rust) through diesel-async; libmysqlclient is never linked
//! (diesel's `mysql` feature stays off, only `mysql_backend` is used).
//!
//! Every write is a single statement, so the compare-and-swap writes (session rotation,
//! versioned user updates) are atomic under InnoDB's row locks: a concurrent writer waits for
//! the first, then evaluates its `WHERE` against the committed row and changes nothing.
//! Connections set `CLIENT_FOUND_ROWS` (diesel-async does), so affected-row counts are *matched*
//! rows, as in PostgreSQL, and an UPDATE that writes identical values still counts.
//!
//! Schema (`migrations/mysql/`): `BINARY(16)` ids (ordered like the UUIDs), `DATETIME(6)` UTC
//! times (microseconds), InnoDB, utf8mb4 with the exact `utf8mb4_bin` collation. Migrations run
//! only when asked ([`MysqlStore::migrate`]), never as a side effect of connecting.

mod audit;
mod codec;
mod error;
mod migrate;
mod plugin_kv;
mod pool;
mod schema;
mod sessions;
mod store;
mod users;

pub use audit::MysqlAuditLog;
pub use plugin_kv::MysqlPluginKv;
pub use sessions::MysqlSessionStore;
pub use store::{MysqlStore, PoolSettings};
pub use users::MysqlUserRepository;
