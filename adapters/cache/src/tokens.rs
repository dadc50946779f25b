//! Verified access tokens remembered until they expire, so that a token checked once is not
//! decoded and its signature recomputed on every request (and, in the layered modes, again on
//! every hop to the service tier, which verifies the end user's token per call).
//!
//! Only *successful* verifications are kept, keyed by a 128-bit keyed hash of the exact token
//! bytes (std's `RandomState`: SipHash under a per-process random key): a different token
//! (forged, altered, re-signed) has a different key and goes through the full check. The hash
//! key never leaves the process, so nobody can craft a token that collides with a remembered
//! one, and 128 bits make an accidental collision among the tokens remembered at once
//! negligible. (A SHA-256 of each token cost about as much as verifying its HMAC afresh, which
//! is what this cache is for; the raw token is not the key so that bearer tokens do not stay in
//! memory past their requests.)
//!
//! What a verification says never changes during the token's life (the claims are signed), and
//! expiry is re-checked on every hit with the caller's clock, exactly as the codec checks it.
//! Revocation is not the codec's business: the deny list, the session and the account are still
//! checked on every request, behind this.

use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::security::{AccessClaims, TokenCodec, TokenError};
use chrono::{DateTime, Utc};
use moka::sync::Cache;

/// A [`TokenCodec`] that remembers what it verified.
pub struct CachedTokenCodec {
    inner: Arc<dyn TokenCodec>,
    /// Token key → its claims. Bounded in entries and in time (a token never outlives
    /// `max_age` here, whatever its own lifetime).
    verified: Cache<u128, AccessClaims>,
    /// The random SipHash key of [`Self::key`].
    keys: RandomState,
}

impl CachedTokenCodec {
    /// Keeps at most `capacity` tokens, each at most `max_age` (the access-token lifetime is
    /// the natural choice: no entry can be useful longer).
    pub fn new(inner: Arc<dyn TokenCodec>, capacity: u64, max_age: Duration) -> Self {
        Self {
            inner,
            verified: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(max_age)
                .build(),
            keys: RandomState::new(),
        }
    }

    /// Two 64-bit SipHash outputs of the token under one secret key, on inputs that differ in
    /// their first byte (so the halves are independent).
    fn key(&self, token: &str) -> u128 {
        let high = self.keys.hash_one((0_u8, token));
        let low = self.keys.hash_one((1_u8, token));
        (u128::from(high) << 64) | u128::from(low)
    }
}

impl TokenCodec for CachedTokenCodec {
    fn issue(&self, claims: &AccessClaims) -> Result<String, anyhow::Error> {
        self.inner.issue(claims)
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let key = self.key(token);
        if let Some(claims) = self.verified.get(&key) {
            return if now >= claims.expires_at {
                Err(TokenError::Expired)
            } else {
                Ok(claims)
            };
        }
        let claims = self.inner.verify(token, now)?;
        self.verified.insert(key, claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use arcana_domain::{Role, SessionId, UserId};
    use chrono::TimeDelta;

    use super::*;

    /// Accepts exactly one token and counts how often it is asked.
    struct Counting {
        calls: AtomicUsize,
        claims: AccessClaims,
    }

    impl TokenCodec for Counting {
        fn issue(&self, _: &AccessClaims) -> Result<String, anyhow::Error> {
            Ok("good".into())
        }

        fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            if token != "good" {
                return Err(TokenError::Invalid);
            }
            if now >= self.claims.expires_at {
                return Err(TokenError::Expired);
            }
            Ok(self.claims.clone())
        }
    }

    fn codec(now: DateTime<Utc>) -> (Arc<Counting>, CachedTokenCodec) {
        let inner = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            claims: AccessClaims {
                user_id: UserId::generate(),
                session_id: SessionId::generate(),
                role: Role::User,
                token_id: "jti".into(),
                issued_at: now,
                expires_at: now + TimeDelta::minutes(15),
            },
        });
        let cached = CachedTokenCodec::new(inner.clone(), 100, Duration::from_mins(15));
        (inner, cached)
    }

    #[test]
    fn a_verified_token_is_decoded_once_and_still_expires_on_time() {
        let now = DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
        let (inner, cached) = codec(now);
        let first = cached.verify("good", now).unwrap();
        assert_eq!(
            cached.verify("good", now + TimeDelta::minutes(1)).unwrap(),
            first
        );
        assert_eq!(
            inner.calls.load(Ordering::Relaxed),
            1,
            "the second check is a hit"
        );
        assert_eq!(
            cached.verify("good", now + TimeDelta::minutes(15)),
            Err(TokenError::Expired),
            "expiry is checked on every hit"
        );
    }

    #[test]
    fn refused_tokens_are_never_remembered() {
        let now = DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
        let (inner, cached) = codec(now);
        for _ in 0..3 {
            assert_eq!(cached.verify("forged", now), Err(TokenError::Invalid));
        }
        assert_eq!(
            inner.calls.load(Ordering::Relaxed),
            3,
            "each refusal is a full check"
        );
    }
}
