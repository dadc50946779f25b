//! PostgreSQL adapters for the storage ports: users, sessions (refresh families and the
//! access-token deny list) and the audit log, over one sqlx pool.
//!
//! Every write is a single statement, so the compare-and-swap writes (session rotation,
//! versioned user updates) are atomic under PostgreSQL's row locking: a concurrent writer waits
//! for the first and then re-checks the condition against the committed row, so exactly one of
//! them changes it.
//!
//! Schema (`migrations/postgres/`): native `uuid` ids (ordered like the UUIDs) and
//! `timestamptz` times (microseconds). Migrations run only when asked
//! ([`PostgresStore::migrate`]), never as a side effect of connecting.

mod audit;
mod codec;
mod error;
mod sessions;
mod store;
mod users;

pub use audit::PostgresAuditLog;
pub use sessions::PostgresSessionStore;
pub use store::{PoolSettings, PostgresStore};
pub use users::PostgresUserRepository;
