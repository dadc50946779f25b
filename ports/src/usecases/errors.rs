//! Translation of driven-port failures into the use-case error vocabularies, so that the
//! application can use `?` on every port call.

use super::{AuthError, ManagementError};
use crate::StoreError;
use crate::security::HashError;

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(field) => Self::Conflict(field),
            StoreError::Unavailable(cause) | StoreError::OutcomeUnknown(cause) => {
                Self::Unavailable(cause)
            }
            StoreError::StaleVersion => {
                Self::Internal(anyhow::anyhow!("unhandled version conflict"))
            }
            StoreError::NotFound => {
                Self::Internal(anyhow::anyhow!("record vanished during update"))
            }
            StoreError::TooLarge => Self::Internal(anyhow::anyhow!("a stored value is too large")),
            StoreError::Other(cause) => Self::Internal(cause),
        }
    }
}

impl From<StoreError> for ManagementError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(field) => Self::Conflict(field),
            StoreError::StaleVersion => Self::VersionConflict,
            StoreError::NotFound => Self::NotFound,
            StoreError::TooLarge => Self::Internal(anyhow::anyhow!("a stored value is too large")),
            StoreError::Unavailable(cause) | StoreError::OutcomeUnknown(cause) => {
                Self::Unavailable(cause)
            }
            StoreError::Other(cause) => Self::Internal(cause),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Saturated => {
                Self::Unavailable(anyhow::anyhow!("password hashing saturated"))
            }
            HashError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<HashError> for ManagementError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Saturated => {
                Self::Unavailable(anyhow::anyhow!("password hashing saturated"))
            }
            HashError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<crate::jobs::QueueError> for super::JobsError {
    fn from(err: crate::jobs::QueueError) -> Self {
        use crate::jobs::QueueError;
        match err {
            QueueError::NotFound => Self::NotFound,
            QueueError::Unavailable(cause) => Self::Unavailable(cause),
            QueueError::LeaseLost => Self::Internal(anyhow::anyhow!("unexpected lease loss")),
            QueueError::Other(cause) => Self::Internal(cause),
        }
    }
}
