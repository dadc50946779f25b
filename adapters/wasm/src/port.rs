//! The `PluginRequests` and `PluginHost` ports: interceptors, routes, event dispatch, jobs and
//! administration.

use arcana_domain::event::DomainEvent;
use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::{
    BeforeRequest, HeaderOp, HttpHead, PluginError, PluginHost, PluginInfo, PluginJobError,
    PluginRequests, PluginResponse, RouteRequest,
};
use async_trait::async_trait;
use tokio::sync::mpsc::error::TrySendError;

use crate::bindings::exports::arcana::plugin::http_interceptor::BeforeAction;
use crate::bindings::exports::arcana::plugin::jobs::JobError;
use crate::convert;
use crate::host::{CallError, WasmPluginHost};
use crate::version::Warm;

/// The largest body a plugin route receives.
pub const ROUTE_BODY_LIMIT: usize = 1024 * 1024;

#[async_trait]
impl PluginRequests for WasmPluginHost {
    fn intercepts(&self) -> bool {
        !self.inner.interceptors.load().is_empty()
    }

    fn requires_interception(&self) -> bool {
        self.inner.interceptors.load().iter().any(|slot| {
            slot.version
                .load()
                .as_ref()
                .and_then(|version| version.manifest.interceptor.as_ref())
                .is_some_and(|declared| declared.required)
        })
    }

    async fn before_request(&self, head: &HttpHead) -> Result<BeforeRequest, PluginError> {
        let interceptors = self.inner.interceptors.load_full();
        let mut ops = Vec::new();
        let wire = convert::head(head);
        for slot in interceptors.iter() {
            let Some(declared) = slot
                .version
                .load()
                .as_ref()
                .and_then(|v| v.manifest.interceptor.clone())
            else {
                continue;
            };
            if !declared.applies_to(&head.path) {
                continue;
            }
            let result = self.run_before(slot, wire.clone()).await;
            // A fail-open interceptor that failed is skipped (`invoke` counted it); a required
            // one refuses the request.
            let action = match result {
                Ok(action) => action,
                Err(_) if declared.required => {
                    return Err(PluginError::Unavailable(slot.name.to_string()));
                }
                Err(_) => continue,
            };
            match action {
                BeforeAction::Continue => {}
                BeforeAction::Modify(changes) => ops.extend(convert::header_ops(changes)),
                BeforeAction::Respond(response) => match convert::response(response) {
                    Ok(response) => return Ok(BeforeRequest::Respond(response)),
                    Err(reason) if declared.required => {
                        tracing::warn!(
                            plugin = slot.name.as_str(),
                            "required interceptor answered badly: {reason}"
                        );
                        return Err(PluginError::Unavailable(slot.name.to_string()));
                    }
                    Err(_) => {}
                },
            }
        }
        Ok(BeforeRequest::Continue(ops))
    }

    async fn after_response(&self, head: &HttpHead, status: u16) -> Vec<HeaderOp> {
        let interceptors = self.inner.interceptors.load_full();
        let mut ops = Vec::new();
        let wire = convert::head(head);
        for slot in interceptors.iter() {
            let applies = slot
                .version
                .load()
                .as_ref()
                .and_then(|v| {
                    v.manifest
                        .interceptor
                        .as_ref()
                        .map(|i| i.applies_to(&head.path))
                })
                .unwrap_or(false);
            if !applies {
                continue;
            }
            let request = wire.clone();
            let budget = self.inner.settings.interceptor_budget;
            let result = self
                .invoke(slot, "after", budget, |warm| {
                    Box::pin(async move {
                        let Warm {
                            store, interceptor, ..
                        } = warm;
                        match interceptor {
                            Some(guest) => guest.call_after(store, &request, status).await,
                            None => Ok(Vec::new()),
                        }
                    })
                })
                .await;
            if let Ok(changes) = result {
                ops.extend(convert::header_ops(changes));
            }
        }
        ops
    }

    async fn handle_route(
        &self,
        name: &PluginName,
        request: RouteRequest,
    ) -> Result<PluginResponse, PluginError> {
        let not_found = || PluginError::NotFound(name.to_string());
        let slot = self.slot(name).ok_or_else(not_found)?;
        let declared = slot.version.load().as_ref().is_some_and(|v| {
            v.manifest
                .route(&request.head.method, &request.head.path)
                .is_some()
        });
        if !declared {
            return Err(not_found());
        }
        if request.body.len() > ROUTE_BODY_LIMIT {
            return Err(PluginError::Rejected(format!(
                "request bodies are limited to {ROUTE_BODY_LIMIT} bytes"
            )));
        }
        let head = convert::head(&request.head);
        let body = request.body;
        let budget = self.inner.settings.route_budget;
        let result = self
            .invoke(&slot, "route", budget, |warm| {
                Box::pin(async move {
                    let Warm { store, routes, .. } = warm;
                    match routes {
                        Some(guest) => guest.call_handle(store, &head, &body).await.map(Some),
                        None => Ok(None),
                    }
                })
            })
            .await;
        match result {
            Ok(Some(response)) => {
                convert::response(response).map_err(|reason| PluginError::Failed {
                    name: name.to_string(),
                    reason,
                })
            }
            Ok(None) => Err(not_found()),
            Err(CallError::NotRunning(_)) => Err(PluginError::Unavailable(name.to_string())),
            Err(CallError::Failed(failure)) => Err(PluginError::Failed {
                name: name.to_string(),
                reason: failure.reason,
            }),
        }
    }
}

#[async_trait]
impl PluginHost for WasmPluginHost {
    fn dispatch(&self, event: &DomainEvent) {
        let name = event.kind.name();
        for slot in self.slots() {
            let subscribed = slot
                .version
                .load()
                .as_ref()
                .is_some_and(|version| version.manifest.subscribes_to(name));
            if !subscribed {
                continue;
            }
            // Closed only while the slot is being dropped; nothing to count then.
            if let Err(TrySendError::Full(_)) = slot.events.try_send(event.clone()) {
                slot.stats.dropped();
                self.inner
                    .services
                    .metrics
                    .dropped(&slot.name, "queue_full");
            }
        }
    }

    fn runs_job(&self, name: &str) -> bool {
        self.job_slot(name).is_some()
    }

    async fn run_job(&self, name: &str, payload: &[u8]) -> Result<(), PluginJobError> {
        let Some((slot, kind)) = self.job_slot(name) else {
            return Err(PluginJobError::Fatal(format!(
                "no loaded plugin runs job {name}"
            )));
        };
        let payload = String::from_utf8_lossy(payload).into_owned();
        let budget = self.inner.settings.job_budget;
        let result = self
            .invoke(&slot, "job", budget, |warm| {
                Box::pin(async move {
                    let Warm { store, jobs, .. } = warm;
                    match jobs {
                        Some(guest) => guest.call_handle(store, &kind, &payload).await,
                        None => Ok(Err(JobError {
                            retryable: false,
                            message: "the plugin exports no jobs".to_owned(),
                        })),
                    }
                })
            })
            .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(JobError {
                retryable: true,
                message,
            })) => Err(PluginJobError::Retry(message)),
            Ok(Err(JobError { message, .. })) => Err(PluginJobError::Fatal(message)),
            Err(CallError::NotRunning(why)) => Err(PluginJobError::Retry(format!(
                "plugin {} is {why}",
                slot.name
            ))),
            Err(CallError::Failed(failure)) => Err(PluginJobError::Retry(failure.reason)),
        }
    }

    async fn list(&self) -> Vec<PluginInfo> {
        self.slots().iter().map(|slot| slot.info()).collect()
    }

    async fn set_enabled(
        &self,
        name: &PluginName,
        enabled: bool,
    ) -> Result<PluginInfo, PluginError> {
        self.enable(name, enabled)
    }

    async fn install(
        &self,
        name: &PluginName,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginError> {
        self.install_module(name, module, signature).await
    }

    async fn remove(&self, name: &PluginName) -> Result<(), PluginError> {
        self.remove_module(name).await
    }
}

impl WasmPluginHost {
    /// The slot of the plugin that declares job `name`, and the job's kind.
    fn job_slot(&self, name: &str) -> Option<(std::sync::Arc<crate::slot::Slot>, String)> {
        let (plugin, _) = name.split_once('.')?;
        let slot = self.slot(&PluginName::parse(plugin).ok()?)?;
        let kind = slot
            .version
            .load()
            .as_ref()?
            .manifest
            .job_kind(name)?
            .to_owned();
        Some((slot, kind))
    }

    /// One interceptor's `before` hook, under the interceptor budget.
    async fn run_before(
        &self,
        slot: &crate::slot::Slot,
        request: crate::bindings::arcana::plugin::types::RequestHead,
    ) -> Result<BeforeAction, CallError> {
        let budget = self.inner.settings.interceptor_budget;
        self.invoke(slot, "before", budget, |warm| {
            Box::pin(async move {
                let Warm {
                    store, interceptor, ..
                } = warm;
                match interceptor {
                    Some(guest) => guest.call_before(store, &request).await,
                    None => Ok(BeforeAction::Continue),
                }
            })
        })
        .await
    }
}
