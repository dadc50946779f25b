//! Plugin administration: the `PluginUseCases` driving port over the `PluginHost`.
//! Every change is audited under the administrator who made it.

use std::sync::Arc;

use arcana_domain::Role;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::plugin::PluginName;
use arcana_ports::audit::AuditLog;
use arcana_ports::clock::Clock;
use arcana_ports::plugins::{PluginError, PluginHost, PluginInfo};
use arcana_ports::usecases::{PluginAdminError, PluginUseCases, Principal};
use async_trait::async_trait;

pub struct PluginAdminService {
    host: Arc<dyn PluginHost>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl PluginAdminService {
    pub fn new(host: Arc<dyn PluginHost>, audit: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self { host, audit, clock }
    }

    fn admit(
        actor: &Principal,
        name: Option<&str>,
    ) -> Result<Option<PluginName>, PluginAdminError> {
        if actor.user.role() < Role::Admin {
            return Err(PluginAdminError::Forbidden);
        }
        name.map(|raw| {
            PluginName::parse(raw).map_err(|err| PluginAdminError::Validation(vec![err.at("name")]))
        })
        .transpose()
    }

    /// The change already happened; losing its audit entry is logged, not undone.
    async fn record(&self, actor: &Principal, kind: EventKind, name: &PluginName, detail: String) {
        let event = DomainEvent::new(
            kind,
            Some(actor.user.id()),
            Subject::Plugin(name.clone()),
            self.clock.now(),
        )
        .with_detail(detail);
        if let Err(err) = self
            .audit
            .append(&AuditEntry::from_event(&event, None))
            .await
        {
            tracing::warn!(plugin = name.as_str(), "plugin audit entry lost: {err}");
        }
    }
}

fn translate(error: PluginError) -> PluginAdminError {
    match error {
        PluginError::NotFound(_) => PluginAdminError::NotFound,
        PluginError::Rejected(reason) => PluginAdminError::Rejected(reason),
        PluginError::Unavailable(name) => {
            PluginAdminError::Unavailable(anyhow::anyhow!("plugin {name} unavailable"))
        }
        PluginError::Failed { name, reason } => {
            PluginAdminError::Rejected(format!("plugin {name} failed: {reason}"))
        }
        PluginError::HostUnreachable(cause) => PluginAdminError::Unavailable(cause),
        PluginError::Internal(cause) => PluginAdminError::Internal(cause),
    }
}

#[async_trait]
impl PluginUseCases for PluginAdminService {
    #[tracing::instrument(level = "debug", name = "plugins.list", skip_all)]
    async fn list(&self, actor: &Principal) -> Result<Vec<PluginInfo>, PluginAdminError> {
        Self::admit(actor, None)?;
        Ok(self.host.list().await)
    }

    #[tracing::instrument(level = "debug", name = "plugins.set_enabled", skip_all)]
    async fn set_enabled(
        &self,
        actor: &Principal,
        name: &str,
        enabled: bool,
    ) -> Result<PluginInfo, PluginAdminError> {
        let name = Self::admit(actor, Some(name))?.ok_or(PluginAdminError::NotFound)?;
        let info = self
            .host
            .set_enabled(&name, enabled)
            .await
            .map_err(translate)?;
        let (kind, detail) = if enabled {
            (EventKind::PluginEnabled, "enabled")
        } else {
            (EventKind::PluginDisabled, "disabled")
        };
        self.record(actor, kind, &name, detail.to_owned()).await;
        Ok(info)
    }

    #[tracing::instrument(level = "debug", name = "plugins.install", skip_all)]
    async fn install(
        &self,
        actor: &Principal,
        name: &str,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginAdminError> {
        let name = Self::admit(actor, Some(name))?.ok_or(PluginAdminError::NotFound)?;
        let info = self
            .host
            .install(&name, module, signature)
            .await
            .map_err(translate)?;
        let detail = format!("installed {} ({})", info.version, info.sha256);
        self.record(actor, EventKind::PluginInstalled, &name, detail)
            .await;
        Ok(info)
    }

    #[tracing::instrument(level = "debug", name = "plugins.remove", skip_all)]
    async fn remove(&self, actor: &Principal, name: &str) -> Result<(), PluginAdminError> {
        let name = Self::admit(actor, Some(name))?.ok_or(PluginAdminError::NotFound)?;
        self.host.remove(&name).await.map_err(translate)?;
        self.record(actor, EventKind::PluginRemoved, &name, "removed".to_owned())
            .await;
        Ok(())
    }
}
