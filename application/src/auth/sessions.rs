//! Opening sessions, minting tokens, authenticating bearers and ending sessions.

use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::ids::TokenId;
use arcana_domain::session::{ClientInfo, Session};
use arcana_domain::{SessionId, User};
use arcana_ports::security::{AccessClaims, TokenError};
use arcana_ports::usecases::{
    AccessToken, AuthError, AuthSession, Principal, RequestContext, TokenRejection,
};
use chrono::{DateTime, Utc};

use super::AuthService;

/// Separates the session id from the secret in a refresh token. The id lets the store find
/// the family with one key lookup; only the secret's digest is stored.
pub(super) const REFRESH_SEPARATOR: char = '.';

impl AuthService {
    /// Starts a new refresh-token family for `user` and returns its first token pair.
    pub(super) async fn open_session(
        &self,
        user: User,
        client: ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<AuthSession, AuthError> {
        let secret = self.ports.refresh_tokens.generate();
        let session = Session::start(user.id(), secret.hash, client, self.settings.session, now);
        self.ports.sessions.create(&session).await?;
        self.mint(user, session.id(), &secret.secret, now)
    }

    /// Signs an access token for `session` and packages it with the refresh secret.
    pub(super) fn mint(
        &self,
        user: User,
        session: SessionId,
        refresh_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthSession, AuthError> {
        let ttl = self.settings.access_ttl;
        let claims = AccessClaims {
            user_id: user.id(),
            session_id: session,
            role: user.role(),
            token_id: TokenId::generate().to_string(),
            issued_at: now,
            expires_at: now + ttl,
        };
        let access_token = self
            .ports
            .tokens
            .issue(&claims)
            .map_err(AuthError::Internal)?;
        Ok(AuthSession {
            access_token,
            refresh_token: format!("{session}{REFRESH_SEPARATOR}{refresh_secret}"),
            expires_in: ttl.to_std().unwrap_or_default(),
            user: user.into(),
        })
    }

    /// Every check a bearer must pass, in order of cost: signature and expiry (CPU only), deny
    /// list, session, account. The role and status come from storage, not from the token, so a
    /// demotion or suspension applies from the next request.
    pub(super) async fn principal_for(
        &self,
        token: &str,
        request: RequestContext,
    ) -> Result<Principal, AuthError> {
        let now = self.ports.clock.now();
        let claims = self.ports.tokens.verify(token, now).map_err(|err| {
            AuthError::InvalidToken(match err {
                TokenError::Expired => TokenRejection::Expired,
                TokenError::Invalid => TokenRejection::Invalid,
            })
        })?;
        let revoked = || AuthError::InvalidToken(TokenRejection::Revoked);
        if self
            .ports
            .sessions
            .is_access_token_denied(&claims.token_id, now)
            .await?
        {
            return Err(revoked());
        }
        let session = self
            .ports
            .sessions
            .find(claims.session_id)
            .await?
            .ok_or_else(revoked)?;
        if session.user_id() != claims.user_id || !session.is_live(now) {
            return Err(revoked());
        }
        let user = self
            .ports
            .users
            .find_by_id(claims.user_id)
            .await?
            .ok_or_else(revoked)?;
        if !user.status().may_authenticate() {
            return Err(revoked());
        }
        Ok(Principal {
            user: user.into(),
            session_id: claims.session_id,
            token_id: claims.token_id,
            token_expires_at: claims.expires_at,
            credential: AccessToken::new(token),
            request,
        })
    }

    pub(super) async fn sign_out(&self, principal: &Principal, all: bool) -> Result<(), AuthError> {
        let now = self.ports.clock.now();
        let user = principal.user.id();
        // The deny-list entry makes this very token fail even on a process whose session
        // lookup is served from a cache that has not seen the revocation yet.
        self.ports
            .sessions
            .deny_access_token(&principal.token_id, principal.token_expires_at)
            .await?;
        if all {
            let count = self
                .ports
                .sessions
                .revoke_all_for_user(user, None, now)
                .await?
                .len();
            let event = DomainEvent::new(
                EventKind::SessionRevoked,
                Some(user),
                Subject::User(user),
                now,
            )
            .with_detail(format!("logout from all sessions ({count})"));
            self.record.audit(event, None).await;
        } else {
            self.ports
                .sessions
                .revoke(principal.session_id, now)
                .await?;
            let subject = Subject::Session(principal.session_id);
            let event = DomainEvent::new(EventKind::SessionRevoked, Some(user), subject, now)
                .with_detail("logout");
            self.record.audit(event, None).await;
        }
        Ok(())
    }

    pub(super) async fn revoke_own_session(
        &self,
        principal: &Principal,
        id: SessionId,
    ) -> Result<(), AuthError> {
        let now = self.ports.clock.now();
        let user = principal.user.id();
        match self.ports.sessions.find(id).await? {
            Some(session) if session.user_id() == user && !session.is_revoked() => {}
            _ => return Err(AuthError::SessionNotFound),
        }
        if id == principal.session_id {
            self.ports
                .sessions
                .deny_access_token(&principal.token_id, principal.token_expires_at)
                .await?;
        }
        self.ports.sessions.revoke(id, now).await?;
        let event = DomainEvent::new(
            EventKind::SessionRevoked,
            Some(user),
            Subject::Session(id),
            now,
        )
        .with_detail("revoked by owner");
        self.record.audit(event, None).await;
        Ok(())
    }
}
