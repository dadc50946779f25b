//! Roles (ordered by rank) and account statuses.

use crate::ValueError;

/// A user's role. The derived order *is* the rank: `User < Moderator < Admin < Superadmin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    User,
    Moderator,
    Admin,
    Superadmin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Moderator, Role::Admin, Role::Superadmin];

    /// Parses the stored or wire name. Unknown names are errors: a corrupted row must never
    /// quietly become some default role.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        match raw {
            "user" => Ok(Self::User),
            "moderator" => Ok(Self::Moderator),
            "admin" => Ok(Self::Admin),
            "superadmin" => Ok(Self::Superadmin),
            _ => Err(ValueError::new(
                "invalid_role",
                "must be one of user, moderator, admin, superadmin",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
            Self::Superadmin => "superadmin",
        }
    }
}

/// Lifecycle of an account. Only `Active` accounts may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    PendingVerification,
    Active,
    Suspended,
    Locked,
    /// Soft-deleted: the row stays so that ids, usernames and emails are never reused.
    Deleted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::PendingVerification,
        Status::Active,
        Status::Suspended,
        Status::Locked,
        Status::Deleted,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        match raw {
            "pending_verification" => Ok(Self::PendingVerification),
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "locked" => Ok(Self::Locked),
            "deleted" => Ok(Self::Deleted),
            _ => Err(ValueError::new(
                "invalid_status",
                "must be one of pending_verification, active, suspended, locked, deleted",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingVerification => "pending_verification",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Locked => "locked",
            Self::Deleted => "deleted",
        }
    }

    pub fn may_authenticate(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()).unwrap(), status);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::parse("Admin").is_err());
        assert!(Status::parse("banned").is_err());
    }
}
