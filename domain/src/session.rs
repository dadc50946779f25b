//! Sessions: one refresh-token family per sign-in.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{SessionId, UserId, ValueError};

/// The digest of a refresh token. Only digests are stored, so a leaked session table does not
/// hand out live tokens.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Accepts a lower-case hex SHA-256 digest.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new(
                "invalid_token_hash",
                "must be a hex SHA-256 digest",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.0[..8])
    }
}

/// How long a session may live: `idle` since its last refresh, `absolute` since sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

/// Where a session was opened from, as told by the client. Informational only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// One refresh-token family. `refresh_hash` is the only token that may rotate it;
/// `previous_hash` remembers the token it replaced, which is how reuse of a stolen, already
/// rotated token is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Absolute end of life, fixed at sign-in.
    pub expires_at: DateTime<Utc>,
    /// Moves forward at every rotation.
    pub idle_expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub client: ClientInfo,
    pub refresh_hash: TokenHash,
    pub previous_hash: Option<TokenHash>,
    pub rotated_at: Option<DateTime<Utc>>,
}

impl Session {
    pub fn start(
        user_id: UserId,
        refresh_hash: TokenHash,
        client: ClientInfo,
        lifetimes: SessionLifetimes,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: SessionId::generate(),
            user_id,
            created_at: now,
            last_used_at: now,
            expires_at: now + lifetimes.absolute,
            idle_expires_at: (now + lifetimes.idle).min(now + lifetimes.absolute),
            revoked_at: None,
            client,
            refresh_hash,
            previous_hash: None,
            rotated_at: None,
        }
    }

    /// Usable for authentication at `now`: not revoked and within both lifetimes.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.idle_expires_at
    }

    /// The state after replacing the current refresh token with `new_hash`.
    #[must_use]
    pub fn rotated(&self, new_hash: TokenHash, idle: TimeDelta, now: DateTime<Utc>) -> Self {
        Self {
            last_used_at: now,
            idle_expires_at: (now + idle).min(self.expires_at),
            previous_hash: Some(self.refresh_hash.clone()),
            refresh_hash: new_hash,
            rotated_at: Some(now),
            ..self.clone()
        }
    }

    /// Whether `presented` is the token this session's last rotation replaced, and that rotation
    /// happened no longer than `grace` ago — a client's own concurrent refresh, not a thief.
    pub fn is_recent_predecessor(
        &self,
        presented: &TokenHash,
        grace: TimeDelta,
        now: DateTime<Utc>,
    ) -> bool {
        self.previous_hash.as_ref() == Some(presented)
            && self.rotated_at.is_some_and(|at| now - at <= grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(c: char) -> TokenHash {
        TokenHash::parse(&c.to_string().repeat(64)).unwrap()
    }

    fn lifetimes() -> SessionLifetimes {
        SessionLifetimes {
            idle: TimeDelta::hours(1),
            absolute: TimeDelta::hours(3),
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_at_their_absolute_end() {
        let t0 = DateTime::UNIX_EPOCH;
        let s = Session::start(
            UserId::generate(),
            hash('a'),
            ClientInfo::default(),
            lifetimes(),
            t0,
        );
        assert!(s.is_live(t0 + TimeDelta::minutes(59)));
        assert!(!s.is_live(t0 + TimeDelta::minutes(61)));
        let mut current = s;
        for step in 1..=5 {
            let now = t0 + TimeDelta::minutes(50 * step);
            current = current.rotated(hash('b'), lifetimes().idle, now);
        }
        assert!(current.is_live(t0 + TimeDelta::minutes(170)));
        assert!(
            !current.is_live(t0 + TimeDelta::minutes(180)),
            "absolute lifetime ignored"
        );
    }

    #[test]
    fn only_the_last_replaced_token_within_grace_is_a_predecessor() {
        let t0 = DateTime::UNIX_EPOCH;
        let s = Session::start(
            UserId::generate(),
            hash('a'),
            ClientInfo::default(),
            lifetimes(),
            t0,
        );
        let r = s.rotated(hash('b'), lifetimes().idle, t0);
        let grace = TimeDelta::seconds(10);
        assert!(r.is_recent_predecessor(&hash('a'), grace, t0 + TimeDelta::seconds(10)));
        assert!(!r.is_recent_predecessor(&hash('a'), grace, t0 + TimeDelta::seconds(11)));
        assert!(!r.is_recent_predecessor(&hash('c'), grace, t0));
    }

    #[test]
    fn token_hashes_accept_only_hex_digests() {
        assert!(TokenHash::parse(&"0".repeat(64)).is_ok());
        assert!(TokenHash::parse("abc").is_err());
        assert!(TokenHash::parse(&"G".repeat(64)).is_err());
    }
}
