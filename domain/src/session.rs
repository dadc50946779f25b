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
/// rotated token is recognised. Fields are private: a session starts, rotates and is revoked
/// through the methods below, and a stored one comes back through [`Session::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    id: SessionId,
    user_id: UserId,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    /// Absolute end of life, fixed at sign-in.
    expires_at: DateTime<Utc>,
    /// Moves forward at every rotation.
    idle_expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    client: ClientInfo,
    refresh_hash: TokenHash,
    previous_hash: Option<TokenHash>,
    rotated_at: Option<DateTime<Utc>>,
}

/// Every field of a stored session, for storage adapters rehydrating a record.
#[derive(Debug, Clone)]
pub struct SessionParts {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
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

    /// Rebuilds a stored session, refusing a record that no sequence of starts, rotations and
    /// revocations could have produced (all its times come from the process that wrote it).
    ///
    /// # Errors
    /// `invalid_session` when the idle end lies past the absolute end, the absolute end before
    /// the start, or a replaced token and its rotation time do not come together.
    pub fn restore(parts: SessionParts) -> Result<Self, ValueError> {
        let SessionParts {
            id,
            user_id,
            created_at,
            last_used_at,
            expires_at,
            idle_expires_at,
            revoked_at,
            client,
            refresh_hash,
            previous_hash,
            rotated_at,
        } = parts;
        if idle_expires_at > expires_at
            || expires_at < created_at
            || previous_hash.is_some() != rotated_at.is_some()
        {
            return Err(ValueError::new(
                "invalid_session",
                "inconsistent lifetimes or rotation",
            ));
        }
        Ok(Self {
            id,
            user_id,
            created_at,
            last_used_at,
            expires_at,
            idle_expires_at,
            revoked_at,
            client,
            refresh_hash,
            previous_hash,
            rotated_at,
        })
    }

    pub fn into_parts(self) -> SessionParts {
        SessionParts {
            id: self.id,
            user_id: self.user_id,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            expires_at: self.expires_at,
            idle_expires_at: self.idle_expires_at,
            revoked_at: self.revoked_at,
            client: self.client,
            refresh_hash: self.refresh_hash,
            previous_hash: self.previous_hash,
            rotated_at: self.rotated_at,
        }
    }

    pub fn id(&self) -> SessionId {
        self.id
    }
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn last_used_at(&self) -> DateTime<Utc> {
        self.last_used_at
    }
    /// Absolute end of life, fixed at sign-in.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// End of life if not refreshed before; moves forward at every rotation.
    pub fn idle_expires_at(&self) -> DateTime<Utc> {
        self.idle_expires_at
    }
    pub fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.revoked_at
    }
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
    pub fn client(&self) -> &ClientInfo {
        &self.client
    }
    /// The digest of the one refresh token that may rotate this session.
    pub fn refresh_hash(&self) -> &TokenHash {
        &self.refresh_hash
    }
    pub fn previous_hash(&self) -> Option<&TokenHash> {
        self.previous_hash.as_ref()
    }
    pub fn rotated_at(&self) -> Option<DateTime<Utc>> {
        self.rotated_at
    }

    /// The instant after which the session can never authenticate again: the earlier of its
    /// two ends, or its revocation.
    pub fn dead_at(&self) -> DateTime<Utc> {
        let end = self.expires_at.min(self.idle_expires_at);
        self.revoked_at.map_or(end, |at| at.min(end))
    }

    /// Ends the session at `now`; a session revoked earlier keeps its first revocation time.
    pub fn revoke(&mut self, now: DateTime<Utc>) {
        self.revoked_at.get_or_insert(now);
    }

    /// Usable for authentication at `now`: not revoked and within both lifetimes.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.idle_expires_at
    }

    /// The state after replacing the current refresh token with `new_hash`, used from
    /// `client` (kept as it was when the client says nothing about itself: the session list
    /// shows where a family was last used, not only where it began).
    #[must_use]
    pub fn rotated(
        &self,
        new_hash: TokenHash,
        idle: TimeDelta,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Self {
        let client = if client.ip.is_some() || client.user_agent.is_some() {
            client.clone()
        } else {
            self.client.clone()
        };
        Self {
            last_used_at: now,
            idle_expires_at: (now + idle).min(self.expires_at),
            previous_hash: Some(self.refresh_hash.clone()),
            refresh_hash: new_hash,
            rotated_at: Some(now),
            client,
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
            current = current.rotated(hash('b'), lifetimes().idle, &ClientInfo::default(), now);
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
        let r = s.rotated(hash('b'), lifetimes().idle, &ClientInfo::default(), t0);
        let grace = TimeDelta::seconds(10);
        assert!(r.is_recent_predecessor(&hash('a'), grace, t0 + TimeDelta::seconds(10)));
        assert!(!r.is_recent_predecessor(&hash('a'), grace, t0 + TimeDelta::seconds(11)));
        assert!(!r.is_recent_predecessor(&hash('c'), grace, t0));
    }

    #[test]
    fn a_rotation_keeps_the_client_unless_a_new_one_is_known_and_revocation_happens_once() {
        let t0 = DateTime::UNIX_EPOCH;
        let first = ClientInfo {
            user_agent: Some("first".into()),
            ip: Some("192.0.2.1".into()),
        };
        let s = Session::start(
            UserId::generate(),
            hash('a'),
            first.clone(),
            lifetimes(),
            t0,
        );
        let silent = s.rotated(hash('b'), lifetimes().idle, &ClientInfo::default(), t0);
        assert_eq!(silent.client(), &first);
        let moved = ClientInfo {
            user_agent: None,
            ip: Some("198.51.100.7".into()),
        };
        let r = silent.rotated(hash('c'), lifetimes().idle, &moved, t0);
        assert_eq!(r.client(), &moved);
        assert_eq!(r.previous_hash(), Some(&hash('b')));

        let mut revoked = r.clone();
        revoked.revoke(t0 + TimeDelta::minutes(1));
        revoked.revoke(t0 + TimeDelta::minutes(2));
        assert_eq!(revoked.revoked_at(), Some(t0 + TimeDelta::minutes(1)));
        assert_eq!(revoked.dead_at(), t0 + TimeDelta::minutes(1));
        assert!(!revoked.is_live(t0 + TimeDelta::minutes(1)));
    }

    #[test]
    fn a_stored_session_round_trips_and_an_impossible_one_is_refused() {
        let t0 = DateTime::UNIX_EPOCH;
        let s = Session::start(
            UserId::generate(),
            hash('a'),
            ClientInfo::default(),
            lifetimes(),
            t0,
        )
        .rotated(hash('b'), lifetimes().idle, &ClientInfo::default(), t0);
        assert_eq!(Session::restore(s.clone().into_parts()).unwrap(), s);

        let mut idle_past_end = s.clone().into_parts();
        idle_past_end.idle_expires_at = idle_past_end.expires_at + TimeDelta::seconds(1);
        let mut half_rotated = s.clone().into_parts();
        half_rotated.rotated_at = None;
        let mut ends_before_start = s.into_parts();
        ends_before_start.expires_at = ends_before_start.created_at - TimeDelta::seconds(1);
        ends_before_start.idle_expires_at = ends_before_start.expires_at;
        for parts in [idle_past_end, half_rotated, ends_before_start] {
            assert_eq!(Session::restore(parts).unwrap_err().code, "invalid_session");
        }
    }

    #[test]
    fn token_hashes_accept_only_hex_digests() {
        assert!(TokenHash::parse(&"0".repeat(64)).is_ok());
        assert!(TokenHash::parse("abc").is_err());
        assert!(TokenHash::parse(&"G".repeat(64)).is_err());
    }
}
