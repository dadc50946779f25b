//! Small conversions between domain values and PostgreSQL parameters.

/// A page size for SQL `LIMIT`; sizes beyond `i64` cannot be asked of PostgreSQL and mean "all".
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
