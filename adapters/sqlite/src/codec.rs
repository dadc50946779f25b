//! How domain values are laid out in SQLite columns, both ways: times as INTEGER microseconds
//! since the Unix epoch (UTC), limits as INTEGER.

use chrono::{DateTime, Utc};

use arcana_ports::StoreError;

use crate::error::invalid_row;

/// The stored form of a time: whole microseconds, the precision every SQL backend of Arcana
/// keeps, so a value read back equals the value written once truncated to microseconds.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn opt_micros(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(micros)
}

pub(crate) fn time(column: &'static str, stored: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(stored).ok_or_else(|| invalid_row(column, "out of range"))
}

pub(crate) fn opt_time(
    column: &'static str,
    stored: Option<i64>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    stored.map(|value| time(column, value)).transpose()
}

/// A page size for SQL `LIMIT`; sizes beyond `i64` cannot be asked of SQLite and mean "all".
pub(crate) fn limit(requested: usize) -> i64 {
    i64::try_from(requested).unwrap_or(i64::MAX)
}

/// A `LIKE` pattern matching `needle` anywhere, with the needle's own `%`, `_` and `\` taken
/// literally (the queries declare `ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_the_needle_are_escaped() {
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }

    #[test]
    fn times_round_trip_at_microsecond_precision() {
        let at = DateTime::parse_from_rfc3339("2031-05-06T07:08:09.123456789Z")
            .unwrap()
            .to_utc();
        let back = time("t", micros(at)).unwrap();
        assert_eq!(back.to_rfc3339(), "2031-05-06T07:08:09.123456+00:00");
    }
}
