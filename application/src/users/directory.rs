//! Listing, creating and editing profiles.

use arcana_domain::error::FieldErrors;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::user::ProfileChanges;
use arcana_domain::{
    DisplayName, Email, NewUser, ProfileUrl, Role, Status, User, UserId, Username, ValueError, rank,
};
use arcana_ports::usecases::users::{CreateUser, ListUsers, UpdateProfile};
use arcana_ports::usecases::{ManagementError, Principal, UserPage, UserView};
use arcana_ports::users::UserQuery;

use super::{UserService, require};
use crate::identity::{self, NewIdentity};

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

fn invalid(fields: Vec<arcana_domain::FieldError>) -> ManagementError {
    ManagementError::Validation(fields)
}

/// A listing's filters, checked, asking storage for one row more than the page (which tells
/// whether there is a next page); and the page size.
fn list_query(query: ListUsers) -> Result<(UserQuery, usize), ManagementError> {
    let mut errors = FieldErrors::new();
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        errors.push(ValueError::new("out_of_range", "must be between 1 and 100").at("limit"));
    }
    let after = query.cursor.as_deref().and_then(|raw| {
        errors.check(
            "cursor",
            UserId::parse(raw).map_err(|_| {
                ValueError::new("invalid_cursor", "is not a cursor from a previous page")
            }),
        )
    });
    let role = query
        .role
        .as_deref()
        .and_then(|raw| errors.check("role", Role::parse(raw)));
    let status = query
        .status
        .as_deref()
        .and_then(|raw| errors.check("status", Status::parse(raw)));
    errors.finish().map_err(invalid)?;
    let text = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    let page = limit as usize;
    let query = UserQuery {
        after,
        limit: page + 1,
        role,
        status,
        text,
    };
    Ok((query, page))
}

/// An administrator's new account, every field checked (all errors at once); the role
/// defaults to `user`.
fn new_user(command: CreateUser) -> Result<(NewIdentity, Role), ManagementError> {
    let mut errors = FieldErrors::new();
    let identity = identity::parse(
        &mut errors,
        &command.username,
        &command.email,
        command.password,
        command.display_name.as_deref(),
    );
    let role = match command.role.as_deref() {
        Some(raw) => errors.check("role", Role::parse(raw)),
        None => Some(Role::User),
    };
    errors.finish_with(identity.zip(role)).map_err(invalid)
}

impl UserService {
    pub(super) async fn list_users(
        &self,
        actor: &Principal,
        query: ListUsers,
    ) -> Result<UserPage, ManagementError> {
        require(actor, Role::Moderator)?;
        let (query, page) = list_query(query)?;
        let mut items = self.ports.users.list(&query).await?;
        let next_cursor = if items.len() > page {
            items.truncate(page);
            items.last().map(|u| u.id().to_string())
        } else {
            None
        };
        Ok(UserPage {
            items: items.into_iter().map(UserView::from).collect(),
            next_cursor,
        })
    }

    pub(super) async fn create_user(
        &self,
        actor: &Principal,
        command: CreateUser,
    ) -> Result<User, ManagementError> {
        require(actor, Role::Admin)?;
        let (
            NewIdentity {
                username,
                email,
                password,
                display_name,
            },
            role,
        ) = new_user(command)?;
        if !rank::may_grant(actor.user.role(), role) {
            return Err(ManagementError::Forbidden);
        }
        let now = self.ports.clock.now();
        let password_hash = self.ports.hasher.hash(password.as_password()).await?;
        let user = User::register(
            NewUser {
                username,
                email,
                display_name,
                password_hash,
                role,
                status: Status::Active,
            },
            now,
        );
        self.ports.users.insert(&user).await?;
        let event = DomainEvent::new(
            EventKind::UserRegistered,
            Some(actor.user.id()),
            Subject::User(user.id()),
            now,
        )
        .with_detail(format!("created with role {}", role.as_str()));
        self.record.audit(event, None).await;
        Ok(user)
    }

    pub(super) async fn update_profile(
        &self,
        actor: &Principal,
        id: UserId,
        changes: UpdateProfile,
    ) -> Result<User, ManagementError> {
        let acting_on_self = actor.user.id() == id;
        if !acting_on_self {
            require(actor, Role::Admin)?;
        }
        let mut user = self.live_user(id).await?;
        if !acting_on_self && !rank::may_manage(actor.user.role(), user.role()) {
            return Err(ManagementError::Forbidden);
        }
        if changes
            .expected_version
            .is_some_and(|v| v != user.version())
        {
            return Err(ManagementError::VersionConflict);
        }
        let parsed = parse_changes(changes)?;
        let field_names = changed_fields(&parsed);
        let now = self.ports.clock.now();
        user.update_profile(parsed, now);
        let stored = self.ports.users.update(&user).await?;
        let event = DomainEvent::new(
            EventKind::UserUpdated,
            Some(actor.user.id()),
            Subject::User(id),
            now,
        )
        .with_detail(format!("changed {field_names}"));
        self.record.audit(event, None).await;
        Ok(stored)
    }
}

fn parse_changes(changes: UpdateProfile) -> Result<ProfileChanges, ManagementError> {
    let mut errors = FieldErrors::new();
    let username = changes
        .username
        .as_deref()
        .and_then(|raw| errors.check("username", Username::parse(raw)));
    let email = changes
        .email
        .as_deref()
        .and_then(|raw| errors.check("email", Email::parse(raw)));
    let display_name = match changes.display_name {
        Some(Some(raw)) => errors
            .check("display_name", DisplayName::parse(&raw))
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let avatar_url = match changes.avatar_url {
        Some(Some(raw)) => errors
            .check("avatar_url", ProfileUrl::parse(&raw))
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    errors.finish().map_err(invalid)?;
    let parsed = ProfileChanges {
        username,
        email,
        display_name,
        avatar_url,
    };
    if parsed.is_empty() {
        return Err(invalid(vec![
            ValueError::new("empty_update", "name at least one field to change").at("body"),
        ]));
    }
    Ok(parsed)
}

/// Names (never values) of the changed fields, for the audit log.
fn changed_fields(changes: &ProfileChanges) -> String {
    let names = [
        changes.username.as_ref().map(|_| "username"),
        changes.email.as_ref().map(|_| "email"),
        changes.display_name.as_ref().map(|_| "display_name"),
        changes.avatar_url.as_ref().map(|_| "avatar_url"),
    ];
    names.into_iter().flatten().collect::<Vec<_>>().join(", ")
}
