//! Domain events: facts about what happened, published after the change is stored. They feed
//! the audit log, metrics and plugins.

use chrono::{DateTime, Utc};

use crate::ids::EventId;
use crate::plugin::PluginName;
use crate::{SessionId, UserId};

/// What happened. The names are part of the public contract (plugins subscribe by pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    UserRegistered,
    UserLoggedIn,
    UserLoginFailed,
    UserUpdated,
    UserRoleChanged,
    UserStatusChanged,
    UserPasswordChanged,
    UserDeleted,
    SessionRefreshed,
    SessionRevoked,
    SessionReuseDetected,
    JobDeadLettered,
    /// A line a plugin wrote to the audit log through its host function.
    PluginRecorded,
    PluginInstalled,
    PluginRemoved,
    PluginEnabled,
    PluginDisabled,
    /// The host stopped calling a plugin that failed too often.
    PluginQuarantined,
    /// A quarantined plugin's backoff ended; it runs again on probation.
    PluginRestored,
}

impl EventKind {
    pub const ALL: [EventKind; 19] = [
        Self::UserRegistered,
        Self::UserLoggedIn,
        Self::UserLoginFailed,
        Self::UserUpdated,
        Self::UserRoleChanged,
        Self::UserStatusChanged,
        Self::UserPasswordChanged,
        Self::UserDeleted,
        Self::SessionRefreshed,
        Self::SessionRevoked,
        Self::SessionReuseDetected,
        Self::JobDeadLettered,
        Self::PluginRecorded,
        Self::PluginInstalled,
        Self::PluginRemoved,
        Self::PluginEnabled,
        Self::PluginDisabled,
        Self::PluginQuarantined,
        Self::PluginRestored,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::UserRegistered => "user.registered",
            Self::UserLoggedIn => "user.logged_in",
            Self::UserLoginFailed => "user.login_failed",
            Self::UserUpdated => "user.updated",
            Self::UserRoleChanged => "user.role_changed",
            Self::UserStatusChanged => "user.status_changed",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserDeleted => "user.deleted",
            Self::SessionRefreshed => "session.refreshed",
            Self::SessionRevoked => "session.revoked",
            Self::SessionReuseDetected => "session.reuse_detected",
            Self::JobDeadLettered => "job.dead_lettered",
            Self::PluginRecorded => "plugin.recorded",
            Self::PluginInstalled => "plugin.installed",
            Self::PluginRemoved => "plugin.removed",
            Self::PluginEnabled => "plugin.enabled",
            Self::PluginDisabled => "plugin.disabled",
            Self::PluginQuarantined => "plugin.quarantined",
            Self::PluginRestored => "plugin.restored",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == raw)
    }
}

/// The thing an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    Session(SessionId),
    /// A login attempt for an identifier that may not belong to any account; kept as a masked
    /// form so the audit log never stores what a user typed in full.
    LoginIdentifier(String),
    Job(String),
    Plugin(PluginName),
}

impl Subject {
    /// The stored form: `user:<id>`, `session:<id>`, `login:<masked>`, `job:<id>`, `plugin:<name>`.
    pub fn render(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Session(id) => format!("session:{id}"),
            Self::LoginIdentifier(masked) => format!("login:{masked}"),
            Self::Job(id) => format!("job:{id}"),
            Self::Plugin(name) => format!("plugin:{name}"),
        }
    }
}

/// One event: id, time, who did it (none for anonymous requests) and what it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    pub id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub kind: EventKind,
    pub actor: Option<UserId>,
    pub subject: Subject,
    /// A short, non-sensitive explanation (the reason given for a suspension, the new role …).
    pub detail: Option<String>,
}

impl DomainEvent {
    pub fn new(
        kind: EventKind,
        actor: Option<UserId>,
        subject: Subject,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: EventId::generate(),
            occurred_at,
            kind,
            actor,
            subject,
            detail: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_name_parses_back_to_its_kind() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(EventKind::parse("user.exploded"), None);
    }
}
