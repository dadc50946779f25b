//! Parsing of a new account's identity, shared by open registration and creation by an admin.

use arcana_domain::error::FieldErrors;
use arcana_domain::{DisplayName, Email, NewPassword, Password, Username};

pub(crate) struct NewIdentity {
    pub(crate) username: Username,
    pub(crate) email: Email,
    pub(crate) password: NewPassword,
    pub(crate) display_name: Option<DisplayName>,
}

/// Parses every field, recording each problem in `errors`, including a password equal to the
/// username or email.
pub(crate) fn parse(
    errors: &mut FieldErrors,
    username: &str,
    email: &str,
    password: Password,
    display_name: Option<&str>,
) -> Option<NewIdentity> {
    let username = errors.check("username", Username::parse(username));
    let email = errors.check("email", Email::parse(email));
    let password = if let (Some(username), Some(email)) = (&username, &email) {
        errors.check("password", NewPassword::parse(password, username, email))
    } else {
        // No owner to compare with: report what can be checked beside the other fields.
        errors.check("password", NewPassword::check_length(&password));
        None
    };
    let display_name =
        display_name.map(|raw| errors.check("display_name", DisplayName::parse(raw)));
    let (username, email, password) = (username?, email?, password?);
    let display_name = match display_name {
        Some(parsed) => Some(parsed?),
        None => None,
    };
    Some(NewIdentity {
        username,
        email,
        password,
        display_name,
    })
}
