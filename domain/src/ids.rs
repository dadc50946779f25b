//! Identifiers. UUIDv7 so that ids sort by creation time, which gives keyset pagination a
//! natural, index-friendly order.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ValueError;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the hyphenated text form; anything else is an error, never a default.
            pub fn parse(raw: &str) -> Result<Self, ValueError> {
                Uuid::from_str(raw)
                    .map(Self)
                    .map_err(|_| ValueError::new("invalid_id", "must be a UUID"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Identifies a user for life; never reused, not even after deletion.
    UserId
);
uuid_id!(
    /// Identifies a session: one refresh-token family and every access token minted from it.
    SessionId
);
uuid_id!(
    /// Identifies one domain event or audit entry.
    EventId
);
uuid_id!(
    /// Identifies one job across its whole life: retries and replays keep the id.
    JobId
);
uuid_id!(
    /// Identifies one access token (its `jti`), the key of the deny list.
    TokenId
);
