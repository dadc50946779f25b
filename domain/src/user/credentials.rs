//! Secrets of an account: the plaintext password (policy-checked, never stored, never printed)
//! and its PHC-format hash.

use std::fmt;

use crate::{Email, Username, ValueError};

/// A plaintext password as presented: at login, as the current password, or as a new one not
/// yet checked against the policy ([`NewPassword::parse`] does that, once).
///
/// It has no `Display`, its `Debug` is redacted and it cannot be serialized: the type system keeps
/// it out of logs, error bodies and storage.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps what the client sent, without applying the policy: a login must not refuse early
    /// (the policy may have changed since the password was set, and refusing would reveal that).
    pub fn candidate(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// The plaintext, for the password hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password that passed the policy for its owner: a length within bounds, and not the
/// owner's username or email. Only this type can become an account's password.
#[derive(Clone)]
pub struct NewPassword(Password);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// Applies the whole policy for the account named `username` with `email`.
    ///
    /// # Errors
    /// `too_short`, `too_long` or `matches_identity`.
    pub fn parse(
        candidate: Password,
        username: &Username,
        email: &Email,
    ) -> Result<Self, ValueError> {
        Self::check_length(&candidate)?;
        let folded = candidate.0.to_lowercase();
        if folded == username.as_str() || folded == email.as_str() {
            return Err(ValueError::new(
                "matches_identity",
                "must not be the same as the username or email",
            ));
        }
        Ok(Self(candidate))
    }

    /// The part of the policy that needs no owner, for reporting it beside other fields'
    /// errors when the owner's names are themselves invalid.
    ///
    /// # Errors
    /// `too_short` or `too_long`.
    pub fn check_length(candidate: &Password) -> Result<(), ValueError> {
        let chars = candidate.0.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValueError::new(
                "too_short",
                "must be at least 10 characters",
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ValueError::new(
                "too_long",
                "must be at most 128 characters",
            ));
        }
        Ok(())
    }

    /// The plaintext, for the password hasher.
    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$m=…`), which records its own
/// parameters so that they can change without invalidating existing hashes.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.starts_with('$') && raw.len() <= 512 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new("invalid_hash", "must be a PHC string"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> (Username, Email) {
        (
            Username::parse("alice.long").unwrap(),
            Email::parse("alice@example.com").unwrap(),
        )
    }

    fn new_password(raw: &str) -> Result<NewPassword, ValueError> {
        let (username, email) = owner();
        NewPassword::parse(Password::candidate(raw), &username, &email)
    }

    #[test]
    fn password_length_policy_counts_characters_not_bytes() {
        assert_eq!(new_password("short").unwrap_err().code, "too_short");
        assert!(new_password("ééééééééééé").is_ok());
        assert_eq!(new_password(&"x".repeat(129)).unwrap_err().code, "too_long");
        assert!(new_password(&"x".repeat(128)).is_ok());
        assert_eq!(
            NewPassword::check_length(&Password::candidate("short"))
                .unwrap_err()
                .code,
            "too_short"
        );
    }

    #[test]
    fn password_may_not_repeat_the_identity() {
        assert_eq!(
            new_password("ALICE.LONG").unwrap_err().code,
            "matches_identity"
        );
        assert!(new_password("Alice@Example.com").is_err());
        let accepted = new_password("correct horse").unwrap();
        assert_eq!(accepted.as_password().expose(), "correct horse");
    }

    #[test]
    fn a_login_attempt_is_never_refused_by_the_policy() {
        // What an account set under an older, laxer policy presents must reach the hasher.
        assert_eq!(Password::candidate("short").expose(), "short");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let password = Password::candidate("hunter2hunter2");
        assert!(!format!("{password:?}").contains("hunter2"));
        let new = new_password("hunter2hunter2").unwrap();
        assert!(!format!("{new:?}").contains("hunter2"));
        let hash = PasswordHash::parse("$argon2id$v=19$secret").unwrap();
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
