//! The storage ports (users, sessions with the access-token deny list, the audit log, plugins'
//! key-value state) over any sqlx database, written once. A backend crate supplies a
//! [`Dialect`] — its pool and migrations, how it stores a time, which of its error codes mean
//! "unavailable" and how it names a violated unique constraint — and names the instances
//! (`SqliteUserRepository` is `SqlUserRepository<SqliteDialect>`). So a port change, a
//! statement, an error-translation rule or a timeout is one edit for every SQL backend.
//!
//! Every write is a single statement, never a read-then-write transaction, so the
//! compare-and-swap writes (session rotation, versioned user updates) are atomic on each
//! backend without explicit locking. Migrations run only when asked ([`SqlStore::migrate`]),
//! never as a side effect of connecting.

mod audit;
mod codec;
mod database;
mod dialect;
mod error;
mod plugin_kv;
mod sessions;
mod store;
mod users;

pub use audit::SqlAuditLog;
pub use database::{Binds, Gets, SqlDatabase, Statement};
pub use dialect::Dialect;
pub use plugin_kv::SqlPluginKv;
pub use sessions::SqlSessionStore;
pub use store::{PoolSettings, SqlStore};
pub use users::SqlUserRepository;
