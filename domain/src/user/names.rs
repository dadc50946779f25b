//! Identity and profile values: email, username, display name, profile URL.

use std::fmt;

use crate::ValueError;

/// An email address, trimmed and lower-cased so that uniqueness and lookups are plain equality.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let value = raw.trim().to_lowercase();
        let invalid = || ValueError::new("invalid_email", "must be a valid email address");
        if value.is_empty() {
            return Err(ValueError::new("required", "must not be empty"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(
                "too_long",
                "must be at most 254 characters",
            ));
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && c != '@');
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(value))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs: first character of the local part and the domain.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// Debug masks the address: emails are personal data and must not reach logs whole.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// A login name: 3–32 of `[a-z0-9_.-]` after lower-casing. It can never contain `@`, so
/// "username or email" at login is never ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let value = raw.trim().to_ascii_lowercase();
        if value.is_empty() {
            return Err(ValueError::new("required", "must not be empty"));
        }
        let len = value.chars().count();
        if !(3..=32).contains(&len) {
            return Err(ValueError::new(
                "invalid_length",
                "must be 3 to 32 characters",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(ValueError::new(
                "invalid_characters",
                "may contain only letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-form name shown to other people: 1–64 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(ValueError::new("required", "must not be empty"));
        }
        if value.chars().count() > 64 {
            return Err(ValueError::new("too_long", "must be at most 64 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(ValueError::new(
                "invalid_characters",
                "must not contain control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link in a profile (avatar, homepage). Only `http` and `https`: a `javascript:` or `data:`
/// URL rendered by a client would be an injection vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUrl(String);

impl ProfileUrl {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let value = raw.trim();
        if value.len() > 2048 {
            return Err(ValueError::new(
                "too_long",
                "must be at most 2048 characters",
            ));
        }
        let lower = value.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| ValueError::new("invalid_url", "must be an http(s) URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::new("invalid_url", "must be an http(s) URL"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for raw in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} accepted");
        }
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }

    #[test]
    fn email_debug_never_shows_the_whole_address() {
        let email = Email::parse("alice@example.com").unwrap();
        let shown = format!("{email:?}");
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("example.com"));
    }

    #[test]
    fn usernames_fold_case_and_refuse_at_signs() {
        assert_eq!(
            Username::parse("Alice").unwrap(),
            Username::parse("alice").unwrap()
        );
        assert_eq!(
            Username::parse("al@ce").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(Username::parse("ab").unwrap_err().code, "invalid_length");
        assert_eq!(
            Username::parse(&"a".repeat(33)).unwrap_err().code,
            "invalid_length"
        );
        assert!(Username::parse("a.b-c_9").is_ok());
    }

    #[test]
    fn profile_urls_must_be_http_or_https() {
        assert!(ProfileUrl::parse("https://example.com/me.png").is_ok());
        assert!(ProfileUrl::parse("http://example.com").is_ok());
        for raw in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://x.y",
            "https://",
            "https:// x",
        ] {
            assert!(ProfileUrl::parse(raw).is_err(), "{raw:?} accepted");
        }
    }

    #[test]
    fn display_names_refuse_control_characters_and_blank_input() {
        assert!(DisplayName::parse("Alice Liddell").is_ok());
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
    }
}
