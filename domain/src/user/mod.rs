//! The user aggregate and its value objects.

mod credentials;
mod entity;
mod names;
mod role;

pub use credentials::{NewPassword, Password, PasswordHash};
pub use entity::{NewUser, ProfileChanges, User, UserParts};
pub use names::{DisplayName, Email, ProfileUrl, Username};
pub use role::{Role, Status};
