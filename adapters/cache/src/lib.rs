//! Caching for Arcana.
//!
//! - [`MokaCache`]: the in-process [`Cache`](arcana_ports::cache::Cache) (`cache.backend =
//!   "memory"`), also the first tier of the Redis-backed two-tier cache.
//! - [`CachedUserRepository`] and [`CachedSessionStore`]: cache-aside decorators that implement
//!   the port they wrap, so the application is unaware of caching. Every write path invalidates
//!   what it changed; a failing cache degrades to the wrapped store, never to an error.
//! - [`MeteredCache`]: hits, misses and errors per key kind on `/metrics`.
//!
//! Cached user records are complete (password hash included, so that a cached user can be
//! written back without losing it): protect a shared cache like the database.

mod codec;
mod memo;
mod metered;
mod moka_cache;
mod sessions;
mod tokens;
mod users;

pub use metered::MeteredCache;
pub use moka_cache::MokaCache;
pub use sessions::CachedSessionStore;
pub use tokens::CachedTokenCodec;
pub use users::CachedUserRepository;

/// Keys whose decoded value each decorator keeps beside the cache (see `memo`): the hot users
/// and sessions, about 1 KiB each at most.
const MEMO_ENTRIES: u64 = 4096;

/// The session and user wire formats, shared with adapters that store them as documents.
pub mod records {
    pub use crate::codec::{decode_session, encode_session};
}
