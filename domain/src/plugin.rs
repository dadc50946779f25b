//! Plugin names and the keys of a plugin's key-value store.

use crate::ValueError;

/// The name a plugin is installed, routed (`/api/v1/ext/{name}/…`), metered and stored under.
/// Lowercase ASCII letters, digits and `-`, starting with a letter, at most 32 characters: it is
/// a path segment, a file stem and a metric-name part at once, so it must be safe in all three.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginName(String);

impl PluginName {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && !raw.ends_with('-')
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new(
                "invalid_plugin_name",
                "must be 1-32 lowercase letters, digits or '-', starting with a letter",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used inside metric names, where `-` is not allowed.
    pub fn metric_part(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key in a plugin's key-value store: 1 to 256 bytes of UTF-8 without control characters, so
/// it can be shown in logs and listed by prefix on every backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginKey(String);

impl PluginKey {
    pub const MAX_LEN: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN || raw.chars().any(char::is_control) {
            return Err(ValueError::new(
                "invalid_plugin_key",
                "must be 1-256 bytes without control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keys that start with one prefix, as a range in byte order (UTF-8 byte order is code-point
/// order): `start <= key < end`, or `start <= key` when `end` is `None`. A storage index answers
/// it with a range scan, with no pattern language whose wildcards the prefix could contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub start: String,
    pub end: Option<String>,
}

impl KeyRange {
    /// The range of keys starting with `prefix`; `None` when no key can (the prefix is longer
    /// than a key or holds a control character).
    pub fn prefixed_by(prefix: &str) -> Option<Self> {
        if prefix.len() > PluginKey::MAX_LEN || prefix.chars().any(char::is_control) {
            return None;
        }
        Some(Self {
            start: prefix.to_owned(),
            end: successor(prefix),
        })
    }

    pub fn contains(&self, key: &str) -> bool {
        key >= self.start.as_str() && self.end.as_deref().is_none_or(|end| key < end)
    }
}

/// The smallest string greater than every string that starts with `prefix`: the prefix with its
/// last character raised by one, after dropping trailing characters that cannot be raised.
/// `None` when nothing is left (an empty prefix, or one of `char::MAX` only).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The only gap in the code points is the surrogate block.
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The largest value a plugin may store under one key.
pub const PLUGIN_VALUE_MAX_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_path_and_metric_safe() {
        for good in ["audit", "a", "rate-limit2", &"x".repeat(32)] {
            assert!(PluginName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Audit",
            "1st",
            "-x",
            "x-",
            "a_b",
            "a/b",
            "a.b",
            &"x".repeat(33),
        ] {
            assert!(PluginName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PluginName::parse("rate-limit").unwrap().metric_part(),
            "rate_limit"
        );
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_keys_with_that_prefix() {
        let range = KeyRange::prefixed_by("a%_").unwrap();
        assert_eq!(range.end.as_deref(), Some("a%`"));
        for inside in ["a%_", "a%_x", "a%_\u{10FFFF}"] {
            assert!(range.contains(inside), "{inside}");
        }
        for outside in ["a%", "a%`", "a%^", "aa_", "b"] {
            assert!(!range.contains(outside), "{outside}");
        }
        let edge = KeyRange::prefixed_by("x\u{10FFFF}").unwrap();
        assert_eq!(edge.end.as_deref(), Some("y"));
        assert_eq!(
            KeyRange::prefixed_by("\u{D7FF}").unwrap().end.as_deref(),
            Some("\u{E000}")
        );
        assert_eq!(KeyRange::prefixed_by("").unwrap().end, None);
        assert!(KeyRange::prefixed_by("a\nb").is_none());
        assert!(KeyRange::prefixed_by(&"k".repeat(257)).is_none());
    }

    #[test]
    fn plugin_keys_refuse_empty_long_and_control_characters() {
        assert!(PluginKey::parse("count:user.registered").is_ok());
        assert!(PluginKey::parse("").is_err());
        assert!(PluginKey::parse("a\nb").is_err());
        assert!(PluginKey::parse(&"k".repeat(257)).is_err());
    }
}
