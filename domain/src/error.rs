//! Validation errors shared by every value object.

use std::borrow::Cow;
use std::fmt;

/// Why a raw value was refused by a value object's parser.
///
/// `code` is stable and machine-readable (clients branch on it); `message` is for humans and
/// never echoes the rejected value, so a password or an email cannot leak through an error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    pub code: &'static str,
    pub message: String,
}

impl ValueError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Attaches the name of the input field this value came from.
    pub fn at(self, field: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: Cow::Borrowed(self.code),
            message: self.message,
        }
    }
}

/// A [`ValueError`] located at a named input field; the unit of a 422 response.
///
/// `code` is usually one of the parsers' static codes, but it may also have been read back from
/// another tier's answer, which is why it can own its text: the error then renders exactly as if
/// it had been raised in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects field errors so that one response reports every invalid field at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records the error under `field` and returns `None`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ValueError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(err.at(field));
                None
            }
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else every recorded error.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// The parsed value when nothing was recorded, else every recorded error. `parsed` is built
    /// from [`FieldErrors::check`] results, which are `None` only when an error was recorded.
    pub fn finish_with<T>(self, parsed: Option<T>) -> Result<T, Vec<FieldError>> {
        match parsed {
            Some(value) if self.0.is_empty() => Ok(value),
            _ if !self.0.is_empty() => Err(self.0),
            _ => Err(vec![
                ValueError::new("invalid", "could not be parsed").at("body"),
            ]),
        }
    }
}
