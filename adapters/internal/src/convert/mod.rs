//! Domain values ↔ internal messages. Every value read from the wire goes through the same
//! parsers as a request body or a storage row, so a malformed message never becomes a value.

mod audit;
mod jobs;
mod plugins;
mod sessions;
mod users;

pub(crate) use audit::*;
pub(crate) use jobs::*;
pub(crate) use plugins::*;
pub(crate) use sessions::*;
pub(crate) use users::*;

use anyhow::{Context as _, anyhow};
use arcana_domain::ValueError;
use arcana_domain::session::ClientInfo;
use chrono::{DateTime, Utc};

use crate::wire;

/// Why a message could not be turned into domain values: a peer that speaks the contract wrongly.
pub(crate) type Invalid = anyhow::Error;

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn time(field: &str, micros: i64) -> Result<DateTime<Utc>, Invalid> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| anyhow!("{field} is out of range"))
}

pub(crate) fn optional_time(
    field: &str,
    micros: Option<i64>,
) -> Result<Option<DateTime<Utc>>, Invalid> {
    micros.map(|value| time(field, value)).transpose()
}

/// A value parsed by a domain parser, with the message field named on failure.
pub(crate) fn parsed<T>(field: &str, result: Result<T, ValueError>) -> Result<T, Invalid> {
    result.with_context(|| format!("field {field}"))
}

pub(crate) fn client(client: ClientInfo) -> wire::ClientInfo {
    wire::ClientInfo {
        user_agent: client.user_agent,
        ip: client.ip,
    }
}

pub(crate) fn client_info(client: Option<wire::ClientInfo>) -> ClientInfo {
    let client = client.unwrap_or_default();
    ClientInfo {
        user_agent: client.user_agent,
        ip: client.ip,
    }
}
