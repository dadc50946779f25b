//! Moving values in and out of statements and rows, for any [`Dialect`].

use arcana_ports::StoreError;
use chrono::{DateTime, Utc};
use sqlx::Database;

use crate::Dialect;
use crate::database::Gets;
use crate::error::{invalid_row, store_error};

/// The columns of one row of `table`, each decode failure reported as `doing` (classified like
/// any other driver error).
pub(crate) struct Columns<'r, D: Dialect> {
    row: &'r <D::Db as Database>::Row,
    table: &'static str,
    doing: &'static str,
}

impl<'r, D: Dialect> Columns<'r, D> {
    pub(crate) fn new(
        row: &'r <D::Db as Database>::Row,
        table: &'static str,
        doing: &'static str,
    ) -> Self {
        Self { row, table, doing }
    }

    pub(crate) fn get<T>(&self, column: &str) -> Result<T, StoreError>
    where
        D::Db: Gets<T>,
    {
        <D::Db as Gets<T>>::get(self.row, column).map_err(|err| store_error::<D>(err, self.doing))
    }

    pub(crate) fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        self.decoded_time(column, self.get::<D::Time>(column)?)
    }

    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get::<Option<D::Time>>(column)?
            .map(|stored| self.decoded_time(column, stored))
            .transpose()
    }

    fn decoded_time(&self, column: &str, stored: D::Time) -> Result<DateTime<Utc>, StoreError> {
        D::decode_time(stored)
            .ok_or_else(|| invalid_row(format_args!("{}.{column}", self.table), "out of range"))
    }
}

pub(crate) fn opt_time<D: Dialect>(at: Option<DateTime<Utc>>) -> Option<D::Time> {
    at.map(D::encode_time)
}

/// A page size for SQL `LIMIT`; sizes beyond `i64` cannot be asked of the database and mean
/// "all".
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
}
