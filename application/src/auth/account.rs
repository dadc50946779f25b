//! Registration and password change.

use arcana_domain::error::FieldErrors;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::{NewPassword, NewUser, Password, Role, Status, User};
use arcana_ports::StoreError;
use arcana_ports::security::Verification;
use arcana_ports::usecases::auth::{ChangePassword, Register};
use arcana_ports::usecases::{AuthError, AuthSession, Principal, TokenRejection};

use super::AuthService;
use crate::identity::{self, NewIdentity};

impl AuthService {
    pub(super) async fn register_account(
        &self,
        command: Register,
    ) -> Result<AuthSession, AuthError> {
        let mut errors = FieldErrors::new();
        let identity = identity::parse(
            &mut errors,
            &command.username,
            &command.email,
            command.password,
            command.display_name.as_deref(),
        );
        let NewIdentity {
            username,
            email,
            password,
            display_name,
        } = errors
            .finish_with(identity)
            .map_err(AuthError::Validation)?;

        let now = self.ports.clock.now();
        let password_hash = self.ports.hasher.hash(password.as_password()).await?;
        let user = User::register(
            NewUser {
                username,
                email,
                display_name,
                password_hash,
                role: Role::User,
                status: Status::Active,
            },
            now,
        );
        self.ports.users.insert(&user).await?;
        let event = DomainEvent::new(
            EventKind::UserRegistered,
            Some(user.id()),
            Subject::User(user.id()),
            now,
        );
        self.record.audit(event, command.client.ip.clone()).await;
        self.open_session(user, command.client, now).await
    }

    pub(super) async fn replace_password(
        &self,
        principal: &Principal,
        command: ChangePassword,
    ) -> Result<(), AuthError> {
        // The principal is a view; the hash to check against, and the version to write over,
        // come from the store.
        let mut user = self
            .ports
            .users
            .find_by_id(principal.user.id())
            .await?
            .ok_or(AuthError::InvalidToken(TokenRejection::Revoked))?;
        let new_password = NewPassword::parse(command.new_password, user.username(), user.email())
            .map_err(|err| AuthError::Validation(vec![err.at("new_password")]))?;
        self.require_current(&user, &command.current_password)
            .await?;
        let hash = self.ports.hasher.hash(new_password.as_password()).await?;
        let now = self.ports.clock.now();
        user.set_password_hash(hash, now);
        match self.ports.users.update(&user).await {
            Ok(_) => {}
            // The account changed since this request authenticated (for instance a suspension):
            // make the client retry against the fresh state rather than overwrite it.
            Err(StoreError::StaleVersion) => {
                return Err(AuthError::Unavailable(anyhow::anyhow!(
                    "account modified concurrently"
                )));
            }
            Err(err) => return Err(err.into()),
        }
        let id = user.id();
        self.ports
            .sessions
            .revoke_all_for_user(id, Some(principal.session_id), now)
            .await?;
        let event = DomainEvent::new(
            EventKind::UserPasswordChanged,
            Some(id),
            Subject::User(id),
            now,
        )
        .with_detail("other sessions revoked");
        self.record.audit(event, None).await;
        Ok(())
    }

    /// Refuses unless `presented` is `user`'s current password.
    async fn require_current(&self, user: &User, presented: &Password) -> Result<(), AuthError> {
        let verification = self
            .ports
            .hasher
            .verify(presented, Some(user.password_hash()))
            .await?;
        if verification == Verification::Mismatch {
            return Err(AuthError::Validation(vec![
                arcana_domain::ValueError::new("incorrect", "is not the current password")
                    .at("current_password"),
            ]));
        }
        Ok(())
    }
}
