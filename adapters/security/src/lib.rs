//! Security adapters: Argon2id password hashing off the reactor, HS256 JWT access tokens and
//! random refresh tokens stored as digests.

mod jwt;
mod kernel;
mod password;
mod pool;
mod refresh;

pub use jwt::{JwtConfig, JwtTokenCodec};
pub use password::{Argon2Params, Argon2PasswordHasher, HasherConfig};
pub use refresh::RandomRefreshTokens;
