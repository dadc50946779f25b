//! `arcana.plugins.v1.PluginService`: plugin administration. The admin requirement is decided
//! behind the port, exactly as for REST; this module only translates.

use std::sync::Arc;

use arcana_ports::plugins::PluginInfo;
use arcana_ports::usecases::{AuthUseCases, PluginUseCases};
use chrono::SecondsFormat;
use tonic::{Request, Response, Status};

use crate::errors;
use crate::extract::principal;
use crate::proto::plugins::v1 as pb;
use crate::proto::plugins::v1::plugin_service_server::PluginService;

pub(crate) struct GrpcPluginService {
    pub(crate) auth: Arc<dyn AuthUseCases>,
    pub(crate) plugins: Arc<dyn PluginUseCases>,
}

type Reply<T> = Result<Response<T>, Status>;

fn plugin(info: PluginInfo) -> pb::Plugin {
    let time = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let c = info.counters;
    pb::Plugin {
        name: info.name.to_string(),
        version: info.version,
        state: info.state.as_str().to_owned(),
        sha256: info.sha256,
        subscriptions: info.subscriptions,
        routes: info.routes,
        interceptor: info.interceptor,
        counters: Some(pb::PluginCounters {
            calls: c.calls,
            failures: c.failures,
            timeouts: c.timeouts,
            traps: c.traps,
            dropped_events: c.dropped_events,
            latency_p50_us: c.latency_p50_us,
            latency_p99_us: c.latency_p99_us,
        }),
        last_error: info.last_error,
        quarantined_until: info.quarantined_until.map(time),
        loaded_at: info.loaded_at.map(time),
    }
}

fn reply(info: PluginInfo) -> Response<pb::PluginResponse> {
    Response::new(pb::PluginResponse {
        plugin: Some(plugin(info)),
    })
}

#[tonic::async_trait]
impl PluginService for GrpcPluginService {
    async fn list_plugins(
        &self,
        request: Request<pb::ListPluginsRequest>,
    ) -> Reply<pb::ListPluginsResponse> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let items = self
            .plugins
            .list(&actor)
            .await
            .map_err(errors::from_plugins)?;
        Ok(Response::new(pb::ListPluginsResponse {
            items: items.into_iter().map(plugin).collect(),
        }))
    }

    async fn enable_plugin(
        &self,
        request: Request<pb::PluginRequest>,
    ) -> Reply<pb::PluginResponse> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let name = request.into_inner().name;
        let info = self.plugins.set_enabled(&actor, &name, true).await;
        info.map(reply).map_err(errors::from_plugins)
    }

    async fn disable_plugin(
        &self,
        request: Request<pb::PluginRequest>,
    ) -> Reply<pb::PluginResponse> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let name = request.into_inner().name;
        let info = self.plugins.set_enabled(&actor, &name, false).await;
        info.map(reply).map_err(errors::from_plugins)
    }

    async fn install_plugin(
        &self,
        request: Request<pb::InstallPluginRequest>,
    ) -> Reply<pb::PluginResponse> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let body = request.into_inner();
        let signature = body.signature.map(String::into_bytes);
        let info = self
            .plugins
            .install(&actor, &body.name, body.module, signature)
            .await;
        info.map(reply).map_err(errors::from_plugins)
    }

    async fn remove_plugin(
        &self,
        request: Request<pb::PluginRequest>,
    ) -> Reply<pb::RemovePluginResponse> {
        let actor = principal(self.auth.as_ref(), &request).await?;
        let name = request.into_inner().name;
        match self.plugins.remove(&actor, &name).await {
            Ok(()) => Ok(Response::new(pb::RemovePluginResponse {})),
            Err(error) => Err(errors::from_plugins(error)),
        }
    }
}
