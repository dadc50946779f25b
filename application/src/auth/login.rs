//! Sign-in by username or email.
//!
//! Nothing in the answer or its timing tells whether the account exists: an unknown identifier
//! costs one dummy hash verification, throttling is keyed by what was typed, and the account's
//! status is looked at only once the password has verified.

use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::{Email, Password, User, Username};
use arcana_ports::StoreError;
use arcana_ports::security::Verification;
use arcana_ports::usecases::auth::Login;
use arcana_ports::usecases::{AuthError, AuthSession};
use chrono::{DateTime, Utc};

use super::throttle::{self, ThrottleKey};
use super::{AuthService, may_sign_in};

impl AuthService {
    pub(super) async fn sign_in(&self, command: Login) -> Result<AuthSession, AuthError> {
        let now = self.ports.clock.now();
        let policy = &self.settings.throttle;
        let mut keys = vec![policy.account_key(&command.username_or_email)];
        if let Some(ip) = &command.client.ip {
            keys.push(policy.ip_key(ip));
        }
        let store = self.ports.throttle.as_ref();
        if let Some(retry_after) = throttle::retry_after(store, policy, &keys, now).await? {
            return Err(AuthError::Throttled { retry_after });
        }

        let user = self.find_by_identifier(&command.username_or_email).await?;
        let verification = self
            .ports
            .hasher
            .verify(&command.password, user.as_ref().map(User::password_hash))
            .await?;
        let (Some(user), Verification::Match { needs_rehash }) = (user, verification) else {
            return Err(self.failed_login(&command, &keys, now).await);
        };
        may_sign_in(&user)?;
        throttle::clear(store, &keys[0]).await?;

        let user = self
            .stamp_login(user, &command.password, needs_rehash, now)
            .await?;
        let event = DomainEvent::new(
            EventKind::UserLoggedIn,
            Some(user.id()),
            Subject::User(user.id()),
            now,
        );
        self.record.audit(event, command.client.ip.clone()).await;
        self.open_session(user, command.client, now).await
    }

    /// Parses the identifier as an email if it has an `@` (usernames cannot), else as a
    /// username. Unparseable input is simply an unknown account.
    async fn find_by_identifier(&self, identifier: &str) -> Result<Option<User>, StoreError> {
        if identifier.contains('@') {
            match Email::parse(identifier) {
                Ok(email) => self.ports.users.find_by_email(&email).await,
                Err(_) => Ok(None),
            }
        } else {
            match Username::parse(identifier) {
                Ok(username) => self.ports.users.find_by_username(&username).await,
                Err(_) => Ok(None),
            }
        }
    }

    async fn failed_login(
        &self,
        command: &Login,
        keys: &[ThrottleKey],
        now: DateTime<Utc>,
    ) -> AuthError {
        if let Err(err) = throttle::record_failure(
            self.ports.throttle.as_ref(),
            &self.settings.throttle,
            keys,
            now,
        )
        .await
        {
            return err.into();
        }
        let subject = Subject::LoginIdentifier(mask(&command.username_or_email));
        let event = DomainEvent::new(EventKind::UserLoginFailed, None, subject, now);
        self.record.audit(event, command.client.ip.clone()).await;
        AuthError::InvalidCredentials
    }

    /// Records the login time (and upgrades the hash if its parameters are outdated).
    ///
    /// The write is version-checked: if an administrator changed the account meanwhile, the
    /// fresh state is re-read and re-checked, so a login can never undo a suspension.
    async fn stamp_login(
        &self,
        mut user: User,
        password: &Password,
        needs_rehash: bool,
        now: DateTime<Utc>,
    ) -> Result<User, AuthError> {
        let new_hash = if needs_rehash {
            Some(self.ports.hasher.hash(password).await?)
        } else {
            None
        };
        for _ in 0..3 {
            user.record_login(now);
            if let Some(hash) = &new_hash {
                user.set_password_hash(hash.clone(), now);
            }
            match self.ports.users.update(&user).await {
                Ok(stored) => return Ok(stored),
                Err(StoreError::StaleVersion) => {
                    user = self
                        .ports
                        .users
                        .find_by_id(user.id())
                        .await?
                        .ok_or(AuthError::InvalidCredentials)?;
                    may_sign_in(&user)?;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(AuthError::Unavailable(anyhow::anyhow!(
            "account is being modified concurrently"
        )))
    }
}

/// Keeps the first character (and an email's domain) so that an audit reader can correlate
/// attempts without the log holding what was typed — which is sometimes a password.
fn mask(identifier: &str) -> String {
    let trimmed = identifier.trim();
    let first: String = trimmed.chars().take(1).collect();
    match trimmed.rsplit_once('@') {
        Some((_, domain)) => format!("{first}***@{domain}"),
        None => format!("{first}***"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masking_keeps_only_the_first_character_and_domain() {
        assert_eq!(super::mask("alice@example.com"), "a***@example.com");
        assert_eq!(super::mask("alice"), "a***");
        assert_eq!(super::mask(""), "***");
    }
}
