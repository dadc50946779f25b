//! The decoded value of the last bytes seen under each key, so that a cache hit whose bytes have
//! not changed skips the JSON decode and the domain's checks (most of a hit's cost).
//!
//! Keyed by the cache key and valid only for *exactly* the bytes it was decoded from: a hit is
//! compared byte for byte with what was decoded, so the memo can never answer for a value the
//! cache no longer holds, whoever invalidated or refilled it (this process, another one through
//! the shared tier, an expiry). It saves work; it never decides what is current.

use std::sync::Arc;

use moka::sync::Cache;

pub(crate) struct Memo<T> {
    decoded: Cache<String, Arc<Decoded<T>>>,
}

/// A value and the exact bytes it was decoded from.
struct Decoded<T> {
    bytes: Box<[u8]>,
    value: T,
}

impl<T: Clone + Send + Sync + 'static> Memo<T> {
    /// Remembers at most `capacity` keys (least recently used first out).
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            decoded: Cache::new(capacity),
        }
    }

    /// `decode(bytes)`, or its earlier result for the same key and the same bytes.
    pub(crate) fn decode<E>(
        &self,
        key: &str,
        bytes: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some(entry) = self.decoded.get(key)
            && *entry.bytes == *bytes
        {
            return Ok(entry.value.clone());
        }
        let value = decode(bytes)?;
        let entry = Decoded {
            bytes: bytes.into(),
            value: value.clone(),
        };
        self.decoded.insert(key.to_owned(), Arc::new(entry));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::Memo;

    #[test]
    fn the_same_bytes_are_decoded_once_and_changed_bytes_again() {
        let memo = Memo::<String>::new(10);
        let calls = Cell::new(0);
        let decode = |bytes: &[u8]| -> Result<String, ()> {
            calls.set(calls.get() + 1);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        };
        assert_eq!(memo.decode("k", b"one", decode), Ok("one".to_owned()));
        assert_eq!(memo.decode("k", b"one", decode), Ok("one".to_owned()));
        assert_eq!(
            calls.get(),
            1,
            "a hit on the same bytes is not decoded again"
        );
        assert_eq!(memo.decode("k", b"two", decode), Ok("two".to_owned()));
        assert_eq!(calls.get(), 2, "new bytes under the key are decoded");
        assert_eq!(memo.decode("other", b"two", decode), Ok("two".to_owned()));
        assert_eq!(calls.get(), 3, "another key is its own entry");
    }

    #[test]
    fn a_failed_decode_is_not_remembered() {
        let memo = Memo::<String>::new(10);
        let refuse = |_: &[u8]| -> Result<String, &str> { Err("unreadable") };
        assert_eq!(memo.decode("k", b"bad", refuse), Err("unreadable"));
        assert_eq!(
            memo.decode("k", b"bad", |_| Ok::<_, &str>("ok".to_owned())),
            Ok("ok".to_owned())
        );
    }
}
