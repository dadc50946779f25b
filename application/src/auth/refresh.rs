//! Refresh-token rotation with reuse detection.
//!
//! Each refresh replaces the family's token by compare-and-swap. Presenting the token a rotation
//! replaced means either a client raced itself (within the grace window: refused, family kept)
//! or a stolen token is in use (after it: the whole family is revoked, so both the thief and the
//! victim must sign in again, and the victim learns something is wrong).

use arcana_domain::SessionId;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::session::{ClientInfo, Session};
use arcana_ports::usecases::{AuthError, AuthSession, TokenRejection};
use chrono::{DateTime, Utc};

use super::AuthService;
use super::sessions::REFRESH_SEPARATOR;

fn rejected(reason: TokenRejection) -> AuthError {
    AuthError::InvalidToken(reason)
}

impl AuthService {
    pub(super) async fn rotate(
        &self,
        token: &str,
        client: ClientInfo,
    ) -> Result<AuthSession, AuthError> {
        let (id, secret) = token
            .split_once(REFRESH_SEPARATOR)
            .and_then(|(id, secret)| Some((SessionId::parse(id).ok()?, secret)))
            .filter(|(_, secret)| !secret.is_empty())
            .ok_or(rejected(TokenRejection::Invalid))?;
        let presented = self.ports.refresh_tokens.digest(secret);
        let now = self.ports.clock.now();
        // Two passes at most: losing the compare-and-swap means a concurrent refresh won, and
        // the fresh state decides between "superseded" and "reused".
        for _ in 0..2 {
            let session = self
                .ports
                .sessions
                .find(id)
                .await?
                .ok_or(rejected(TokenRejection::Invalid))?;
            if *session.refresh_hash() != presented {
                return Err(self.refuse_stale(&session, &presented, now).await);
            }
            if !session.is_live(now) {
                return Err(rejected(TokenRejection::Revoked));
            }
            let fresh = self.ports.refresh_tokens.generate();
            let next = session.rotated(fresh.hash, self.settings.session.idle, &client, now);
            if self.ports.sessions.rotate(&presented, &next).await? {
                return self.finish_rotation(&next, &fresh.secret, now).await;
            }
        }
        Err(rejected(TokenRejection::Superseded))
    }

    async fn finish_rotation(
        &self,
        session: &Session,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthSession, AuthError> {
        let user = self.ports.users.find_by_id(session.user_id()).await?;
        let Some(user) = user.filter(|u| u.status().may_authenticate()) else {
            self.ports.sessions.revoke(session.id(), now).await?;
            return Err(rejected(TokenRejection::Revoked));
        };
        let event = DomainEvent::new(
            EventKind::SessionRefreshed,
            Some(user.id()),
            Subject::Session(session.id()),
            now,
        );
        self.record.publish(event);
        self.mint(user, session.id(), secret, now)
    }

    /// The presented secret is not the family's current one: decide what it is.
    async fn refuse_stale(
        &self,
        session: &Session,
        presented: &arcana_domain::session::TokenHash,
        now: DateTime<Utc>,
    ) -> AuthError {
        if session.is_revoked() {
            return rejected(TokenRejection::Revoked);
        }
        if session.is_recent_predecessor(presented, self.settings.refresh_grace, now) {
            return rejected(TokenRejection::Superseded);
        }
        if session.previous_hash() != Some(presented) {
            return rejected(TokenRejection::Invalid);
        }
        if let Err(err) = self.ports.sessions.revoke(session.id(), now).await {
            return err.into();
        }
        let event = DomainEvent::new(
            EventKind::SessionReuseDetected,
            None,
            Subject::Session(session.id()),
            now,
        )
        .with_detail(format!("family of user {} revoked", session.user_id()));
        self.record.audit(event, None).await;
        rejected(TokenRejection::Reused)
    }
}
