//! Secrets of an account: the plaintext password (policy-checked, never stored, never printed)
//! and its PHC-format hash.

use std::fmt;

use crate::{Email, Username, ValueError};

/// A plaintext password in transit between the request and the hasher.
///
/// It has no `Display`, its `Debug` is redacted and it cannot be serialized: the type system keeps
/// it out of logs, error bodies and storage.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// Applies the length policy. Use [`Password::check_against`] too when the owner's names are
    /// known (registration, password change).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let chars = raw.chars().count();
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
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a candidate presented at login without applying the policy: the policy may have
    /// changed since the password was set, and refusing early would reveal that.
    pub fn candidate(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// Refuses a password equal (ignoring case) to the account's username or email.
    pub fn check_against(&self, username: &Username, email: &Email) -> Result<(), ValueError> {
        let folded = self.0.to_lowercase();
        if folded == username.as_str() || folded == email.as_str() {
            return Err(ValueError::new(
                "matches_identity",
                "must not be the same as the username or email",
            ));
        }
        Ok(())
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

    #[test]
    fn password_length_policy_counts_characters_not_bytes() {
        assert_eq!(Password::parse("short").unwrap_err().code, "too_short");
        assert!(Password::parse("ééééééééééé").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn password_may_not_repeat_the_identity() {
        let username = Username::parse("alice.long").unwrap();
        let email = Email::parse("alice@example.com").unwrap();
        let same = Password::parse("ALICE.LONG").unwrap();
        assert_eq!(
            same.check_against(&username, &email).unwrap_err().code,
            "matches_identity"
        );
        let mail = Password::parse("Alice@Example.com").unwrap();
        assert!(mail.check_against(&username, &email).is_err());
        assert!(
            Password::parse("correct horse")
                .unwrap()
                .check_against(&username, &email)
                .is_ok()
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
        let hash = PasswordHash::parse("$argon2id$v=19$secret").unwrap();
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
