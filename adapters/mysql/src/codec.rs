//! Conversions between domain values and MySQL column values: ids, times, page sizes, patterns.

use arcana_ports::StoreError;
use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use uuid::Uuid;

use crate::error::invalid_row;

/// The escape character of every `LIKE` built by [`contains_pattern`]; passed explicitly with
/// `ESCAPE` because the server default depends on `sql_mode` (`NO_BACKSLASH_ESCAPES`).
pub(crate) const LIKE_ESCAPE: char = '\\';

/// The 16 big-endian bytes of `id`, whose byte order is the UUID's order.
pub(crate) fn id_bytes(id: &Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// A stored `BINARY(16)` id; any other length is corrupt data.
pub(crate) fn uuid_from(column: &'static str, bytes: &[u8]) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|err| invalid_row(column, err))
}

/// A time as stored in `DATETIME(6)`: UTC, truncated to microseconds here (MySQL would round
/// a finer value), so that what is read back equals what the domain holds after truncation.
pub(crate) fn to_db(at: DateTime<Utc>) -> NaiveDateTime {
    at.trunc_subsecs(6).naive_utc()
}

pub(crate) fn from_db(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// A page size for SQL `LIMIT`; sizes beyond `i64` cannot be asked for and mean "all".
pub(crate) fn limit(requested: usize) -> i64 {
    i64::try_from(requested).unwrap_or(i64::MAX)
}

/// A `LIKE` pattern matching `needle` anywhere, with the needle's own `%`, `_` and `\` taken
/// literally (the queries declare `ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn like_wildcards_in_the_needle_are_escaped() {
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }

    #[test]
    fn times_are_truncated_to_microseconds_not_rounded() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_999).unwrap();
        let stored = from_db(to_db(at));
        assert_eq!(stored.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(from_db(to_db(stored)), stored);
    }

    #[test]
    fn ids_round_trip_and_other_lengths_are_refused() {
        let id = Uuid::now_v7();
        assert_eq!(uuid_from("t.id", &id_bytes(&id)).unwrap(), id);
        assert!(matches!(
            uuid_from("t.id", &[1, 2, 3]),
            Err(StoreError::Other(_))
        ));
    }
}
