//! Reading the audit log: the `AuditUseCases` driving port.

use arcana_domain::error::FieldErrors;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use arcana_domain::{Role, UserId, ValueError};
use arcana_ports::audit::{AuditLog, AuditQuery};
use arcana_ports::usecases::audit::{AuditFilter, AuditPage, AuditUseCases};
use arcana_ports::usecases::{ManagementError, Principal};
use async_trait::async_trait;
use std::sync::Arc;

pub struct AuditService {
    log: Arc<dyn AuditLog>,
}

impl AuditService {
    pub fn new(log: Arc<dyn AuditLog>) -> Self {
        Self { log }
    }
}

#[async_trait]
impl AuditUseCases for AuditService {
    #[tracing::instrument(level = "debug", name = "audit.query", skip_all)]
    async fn query(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<AuditPage, ManagementError> {
        if actor.user.role() < Role::Admin {
            return Err(ManagementError::Forbidden);
        }
        let mut errors = FieldErrors::new();
        let limit = filter.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            errors.push(ValueError::new("out_of_range", "must be between 1 and 100").at("limit"));
        }
        let actor_id = filter
            .actor
            .as_deref()
            .and_then(|raw| errors.check("actor", UserId::parse(raw)));
        let action = filter.action.as_deref().and_then(|raw| {
            errors.check(
                "action",
                EventKind::parse(raw)
                    .ok_or_else(|| ValueError::new("invalid_action", "is not a known event name")),
            )
        });
        let before = filter.cursor.as_deref().and_then(|raw| {
            errors.check(
                "cursor",
                EventId::parse(raw).map_err(|_| {
                    ValueError::new("invalid_cursor", "is not a cursor from a previous page")
                }),
            )
        });
        errors.finish().map_err(ManagementError::Validation)?;
        let page = limit as usize;
        let query = AuditQuery {
            actor: actor_id,
            subject: filter.subject,
            action,
            before,
            limit: page + 1,
        };
        let mut items = self.log.query(&query).await?;
        let next_cursor = if items.len() > page {
            items.truncate(page);
            items.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(AuditPage { items, next_cursor })
    }
}
