//! The plugin host of the service tier, seen from the controller: [`PluginUseCases`] (the
//! administration, for the end user whose token each call carries) and [`PluginRequests`] (the
//! interceptors and `/api/v1/ext` routes on a public request's path).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::{
    BeforeRequest, HeaderOp, HttpHead, PluginError, PluginInfo, PluginRequests, PluginResponse,
    RouteRequest,
};
use arcana_ports::usecases::{PluginAdminError, PluginUseCases, Principal, RequestContext};
use async_trait::async_trait;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rpc;
use crate::context::CallMeta;
use crate::convert::{self, Invalid};
use crate::failure::{plugin_admin_error, plugin_error};
use crate::transport::{RemoteError, Transport, invoke};
use crate::wire;

/// How often the controller asks whether any plugin intercepts requests. A plugin installed
/// with an interceptor starts seeing requests at most this long after it runs.
pub const INTERCEPTS_REFRESH: Duration = Duration::from_secs(2);

fn admin_answer(err: Invalid) -> PluginAdminError {
    PluginAdminError::Internal(err.context("the service tier answered a malformed message"))
}

fn request_answer(err: Invalid) -> PluginError {
    PluginError::Internal(err.context("the service tier answered a malformed message"))
}

/// The public request's id, from the head the middleware built (the request-id layer has set
/// it by then), so that the service tier's log lines for this call carry it too.
fn request_meta(head: &HttpHead) -> CallMeta {
    let request_id = head
        .headers
        .iter()
        .find(|(name, _)| name == "x-request-id")
        .map(|(_, value)| value.clone());
    CallMeta {
        request: RequestContext {
            request_id,
            ..RequestContext::default()
        },
        bearer: None,
    }
}

/// The plugins of the service tier.
pub struct RemotePlugins {
    transport: Arc<dyn Transport>,
    /// The last answer to `Intercepts`.
    intercepts: AtomicBool,
    required: AtomicBool,
}

impl RemotePlugins {
    /// Asks at once, then every [`INTERCEPTS_REFRESH`], whether any plugin intercepts requests;
    /// the refresh stops when the client is dropped. Needs a Tokio runtime.
    pub fn new(transport: Arc<dyn Transport>) -> Arc<Self> {
        let plugins = Arc::new(Self {
            transport,
            intercepts: AtomicBool::new(false),
            required: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&plugins);
        tokio::spawn(refresh_intercepts(weak));
        plugins
    }

    async fn ask<Req, Resp>(
        &self,
        path: &'static str,
        actor: &Principal,
        request: &Req,
    ) -> Result<Resp, PluginAdminError>
    where
        Req: Message + Serialize,
        Resp: Message + Default + DeserializeOwned,
    {
        let meta = CallMeta {
            request: actor.request.clone(),
            bearer: Some(actor.credential.clone()),
        };
        invoke(&*self.transport, path, request, &meta)
            .await
            .map_err(plugin_admin_error)
    }

    async fn info(
        &self,
        path: &'static str,
        actor: &Principal,
        request: &(impl Message + Serialize),
    ) -> Result<PluginInfo, PluginAdminError> {
        let reply: wire::PluginInfo = self.ask(path, actor, request).await?;
        convert::plugin_info(reply).map_err(admin_answer)
    }

    async fn ask_intercepts(&self) -> Result<(), RemoteError> {
        let reply: wire::Interception = invoke(
            &*self.transport,
            rpc!("Plugins", "Intercepts"),
            &wire::Empty {},
            &CallMeta::default(),
        )
        .await?;
        self.intercepts.store(reply.intercepts, Ordering::Relaxed);
        self.required.store(reply.required, Ordering::Relaxed);
        Ok(())
    }
}

async fn refresh_intercepts(plugins: Weak<RemotePlugins>) {
    let mut ticks = tokio::time::interval(INTERCEPTS_REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        let Some(plugins) = plugins.upgrade() else {
            return;
        };
        // While the service tier is unreachable the last answer stands: its interceptors'
        // calls fail the same way the request's own calls do.
        match plugins.ask_intercepts().await {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "cannot ask the service tier whether plugins intercept requests");
            }
            Err(_) => {}
        }
    }
}

fn name_text(name: &str) -> wire::Text {
    wire::Text {
        value: name.to_owned(),
    }
}

#[async_trait]
impl PluginUseCases for RemotePlugins {
    async fn list(&self, actor: &Principal) -> Result<Vec<PluginInfo>, PluginAdminError> {
        let reply: wire::PluginInfos = self
            .ask(rpc!("Plugins", "List"), actor, &wire::Empty {})
            .await?;
        reply
            .items
            .into_iter()
            .map(|item| convert::plugin_info(item).map_err(admin_answer))
            .collect()
    }

    async fn set_enabled(
        &self,
        actor: &Principal,
        name: &str,
        enabled: bool,
    ) -> Result<PluginInfo, PluginAdminError> {
        let request = wire::SetPluginEnabled {
            name: name.to_owned(),
            enabled,
        };
        self.info(rpc!("Plugins", "SetEnabled"), actor, &request)
            .await
    }

    async fn install(
        &self,
        actor: &Principal,
        name: &str,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginAdminError> {
        let request = wire::InstallPlugin {
            name: name.to_owned(),
            module,
            signature,
        };
        let info = self
            .info(rpc!("Plugins", "Install"), actor, &request)
            .await?;
        // Its interceptors apply from the next request, not from the next refresh.
        if info.interceptor {
            self.intercepts.store(true, Ordering::Relaxed);
        }
        Ok(info)
    }

    async fn remove(&self, actor: &Principal, name: &str) -> Result<(), PluginAdminError> {
        let _: wire::Empty = self
            .ask(rpc!("Plugins", "Remove"), actor, &name_text(name))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl PluginRequests for RemotePlugins {
    fn intercepts(&self) -> bool {
        self.intercepts.load(Ordering::Relaxed)
    }

    fn requires_interception(&self) -> bool {
        self.required.load(Ordering::Relaxed)
    }

    /// An unreachable service tier is a failed interceptor: skipped unless one is required, as
    /// the host itself treats a failing fail-open interceptor.
    async fn before_request(&self, head: &HttpHead) -> Result<BeforeRequest, PluginError> {
        let reply = invoke(
            &*self.transport,
            rpc!("Plugins", "BeforeRequest"),
            &convert::http_head_message(head),
            &request_meta(head),
        )
        .await
        .map_err(plugin_error);
        match reply {
            Ok(reply) => convert::before_decision(reply).map_err(request_answer),
            Err(PluginError::HostUnreachable(cause)) if !self.requires_interception() => {
                tracing::debug!(error = %format!("{cause:#}"), "before-request interceptors skipped");
                Ok(BeforeRequest::Continue(Vec::new()))
            }
            Err(err) => Err(err),
        }
    }

    /// The response is already decided: a failure to reach the service tier is logged and
    /// changes nothing, as a failing fail-open interceptor would.
    async fn after_response(&self, head: &HttpHead, status: u16) -> Vec<HeaderOp> {
        let request = wire::AfterResponse {
            head: Some(convert::http_head_message(head)),
            status: u32::from(status),
        };
        let reply: Result<wire::HeaderOps, _> = invoke(
            &*self.transport,
            rpc!("Plugins", "AfterResponse"),
            &request,
            &request_meta(head),
        )
        .await;
        match reply {
            Ok(reply) => convert::header_ops(reply.ops),
            // Debug only: while the service tier is down every request would log it, and the
            // request's own calls already report the outage.
            Err(err) => {
                tracing::debug!(error = %err, "after-response interceptors skipped");
                Vec::new()
            }
        }
    }

    async fn handle_route(
        &self,
        name: &PluginName,
        request: RouteRequest,
    ) -> Result<PluginResponse, PluginError> {
        let meta = request_meta(&request.head);
        let call = wire::RouteCall {
            plugin: name.as_str().to_owned(),
            head: Some(convert::http_head_message(&request.head)),
            body: request.body,
        };
        let reply: wire::PluginAnswer =
            invoke(&*self.transport, rpc!("Plugins", "Route"), &call, &meta)
                .await
                .map_err(plugin_error)?;
        convert::plugin_answer(reply).map_err(request_answer)
    }
}
