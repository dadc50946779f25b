//! Audit log query and entries.

use arcana_domain::audit::AuditEntry;
use arcana_ports::usecases::{AuditFilter, AuditPage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::timestamp;

/// Filters of `GET /api/v1/audit`; newest entries first.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only entries caused by this user id.
    #[param(format = Uuid)]
    actor: Option<String>,
    /// Only entries about this subject (`user:<id>`, `session:<id>` …).
    subject: Option<String>,
    /// Only this action (`user.role_changed` …).
    #[param(schema_with = super::params::event_kind)]
    action: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

impl From<AuditQuery> for AuditFilter {
    fn from(query: AuditQuery) -> Self {
        Self {
            actor: query.actor,
            subject: query.subject,
            action: query.action,
            cursor: query.cursor,
            limit: query.limit,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub(crate) struct AuditEntryDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    at: String,
    /// Event name, e.g. `user.status_changed`.
    action: &'static str,
    /// User id of whoever caused it; `null` for anonymous events such as a failed login.
    #[schema(format = Uuid)]
    actor: Option<String>,
    /// `user:<id>`, `session:<id>`, `login:<masked identifier>` or `job:<id>`.
    subject: String,
    detail: Option<String>,
    ip: Option<String>,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id.to_string(),
            at: timestamp(entry.at),
            action: entry.action.name(),
            actor: entry.actor.map(|actor| actor.to_string()),
            subject: entry.subject,
            detail: entry.detail,
            ip: entry.ip,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditPage)]
pub(crate) struct AuditPageDto {
    items: Vec<AuditEntryDto>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

impl From<AuditPage> for AuditPageDto {
    fn from(page: AuditPage) -> Self {
        Self {
            items: page.items.into_iter().map(AuditEntryDto::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
