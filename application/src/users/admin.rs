//! Privileged changes: role, status, deletion. Each needs admin rank, obeys the rank rule, is
//! audited, and — where it takes rights away — revokes sessions so it applies at once.

use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::{Role, Status, User, UserId, rank};
use arcana_ports::usecases::{ManagementError, Principal};

use super::{UserService, require};
use crate::auth::throttle;

impl UserService {
    /// Loads the target and checks that `actor` outranks it.
    async fn manageable(&self, actor: &Principal, id: UserId) -> Result<User, ManagementError> {
        require(actor, Role::Admin)?;
        let user = self.live_user(id).await?;
        if rank::may_manage(actor.user.role(), user.role()) {
            Ok(user)
        } else {
            Err(ManagementError::Forbidden)
        }
    }

    pub(super) async fn change_role(
        &self,
        actor: &Principal,
        id: UserId,
        raw: &str,
    ) -> Result<User, ManagementError> {
        let role = Role::parse(raw).map_err(|e| ManagementError::Validation(vec![e.at("role")]))?;
        let mut user = self.manageable(actor, id).await?;
        if !rank::may_grant(actor.user.role(), role) {
            return Err(ManagementError::Forbidden);
        }
        let previous = user.role();
        let now = self.ports.clock.now();
        user.change_role(role, now);
        let stored = self.ports.users.update(&user).await?;
        let event = DomainEvent::new(
            EventKind::UserRoleChanged,
            Some(actor.user.id()),
            Subject::User(id),
            now,
        )
        .with_detail(format!("{} -> {}", previous.as_str(), role.as_str()));
        self.record.audit(event, None).await;
        Ok(stored)
    }

    pub(super) async fn change_status(
        &self,
        actor: &Principal,
        id: UserId,
        raw: &str,
        reason: Option<String>,
    ) -> Result<User, ManagementError> {
        let status =
            Status::parse(raw).map_err(|e| ManagementError::Validation(vec![e.at("status")]))?;
        let reason = reason
            .map(|r| {
                r.trim()
                    .chars()
                    .take(User::MAX_STATUS_REASON_CHARS)
                    .collect::<String>()
            })
            .filter(|r| !r.is_empty());
        let mut user = self.manageable(actor, id).await?;
        let now = self.ports.clock.now();
        user.change_status(status, reason.clone(), now)
            .map_err(|e| ManagementError::Validation(vec![e.at("status")]))?;
        let stored = self.ports.users.update(&user).await?;
        if status.may_authenticate() {
            self.lift_throttling(&stored).await?;
        } else {
            self.ports
                .sessions
                .revoke_all_for_user(id, None, now)
                .await?;
        }
        let detail = match &reason {
            Some(reason) => format!("{}: {reason}", status.as_str()),
            None => status.as_str().to_owned(),
        };
        let event = DomainEvent::new(
            EventKind::UserStatusChanged,
            Some(actor.user.id()),
            Subject::User(id),
            now,
        )
        .with_detail(detail);
        self.record.audit(event, None).await;
        Ok(stored)
    }

    pub(super) async fn delete_user(
        &self,
        actor: &Principal,
        id: UserId,
    ) -> Result<(), ManagementError> {
        let mut user = self.manageable(actor, id).await?;
        let now = self.ports.clock.now();
        // `manageable` found a live account; a deletion that raced this one is caught by the
        // version check of `update`.
        user.delete(now).map_err(|_| ManagementError::NotFound)?;
        self.ports.users.update(&user).await?;
        self.ports
            .sessions
            .revoke_all_for_user(id, None, now)
            .await?;
        let event = DomainEvent::new(
            EventKind::UserDeleted,
            Some(actor.user.id()),
            Subject::User(id),
            now,
        );
        self.record.audit(event, None).await;
        Ok(())
    }

    /// Activation is how an administrator unlocks an account: it also forgets failed login
    /// attempts under the account's username and email.
    async fn lift_throttling(&self, user: &User) -> Result<(), ManagementError> {
        let policy = &self.settings.throttle;
        let store = self.ports.throttle.as_ref();
        throttle::clear(store, &policy.account_key(user.username().as_str())).await?;
        throttle::clear(store, &policy.account_key(user.email().as_str())).await?;
        Ok(())
    }
}
