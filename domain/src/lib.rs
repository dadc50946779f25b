//! The heart of Arcana: entities, value objects, domain events and domain errors.
//!
//! Nothing here performs I/O, spawns tasks or knows a wire format. Values are built only through
//! parsing constructors, so a value that exists is a valid value — whether it came from a request
//! body or from a database row.

pub mod audit;
pub mod error;
pub mod event;
pub mod ids;
pub mod jobs;
pub mod plugin;
pub mod rank;
pub mod session;
pub mod user;

pub use error::{FieldError, ValueError};
pub use ids::{SessionId, UserId};
pub use user::{
    DisplayName, Email, NewPassword, NewUser, Password, PasswordHash, ProfileUrl, Role, Status,
    User, UserParts, Username,
};
