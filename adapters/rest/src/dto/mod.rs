//! Wire shapes of the API. Domain types have no serde, so every conversion is written here.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod jobs;
mod params;
pub(crate) mod plugins;
pub(crate) mod users;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

/// RFC 3339 in UTC with a `Z`, keeping whatever sub-second precision the store has.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A field that may be absent (`None`) but, when present, must hold a value: `null` is refused
/// (422) rather than read as "absent", which would make `{"email": null}` a request that the
/// document allows and the server cannot act on.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Tells an absent field (`None`: leave it) from an explicit `null` (`Some(None)`: clear it),
/// which plain `Option` folds together.
#[expect(clippy::option_option, reason = "the three states are the point")]
pub(crate) fn explicit_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
