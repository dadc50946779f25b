//! The plugin API over the service tier's plugin host. Administration verifies the end user's
//! token first, as for every use case, and the admin rule is then the use case's own. The
//! request path (interceptors, routes) carries no end user: it is the public request's, which
//! the controller hands over exactly as the monolith's middleware hands it to its host.

use std::sync::Arc;

use anyhow::anyhow;
use arcana_ports::plugins::{BeforeRequest, PluginRequests, RouteRequest};
use arcana_ports::usecases::{PluginAdminError, PluginUseCases};

use super::service::ServiceApi;
use super::{Call, Refusal};
use crate::convert;
use crate::failure;
use crate::wire;

pub(super) const PLUGINS: &str = "arcana.internal.v1.Plugins";
/// The one RPC carrying a whole module.
pub const INSTALL: &str = "/arcana.internal.v1.Plugins/Install";
/// A plugin route's call, which carries the public request's body.
pub const ROUTE: &str = "/arcana.internal.v1.Plugins/Route";

/// The plugin host of the service tier and its administration.
pub struct ServicePlugins {
    pub admin: Arc<dyn PluginUseCases>,
    pub host: Arc<dyn PluginRequests>,
}

fn admin(error: PluginAdminError) -> Refusal {
    Refusal::Failed(failure::from_plugin_admin(error))
}

fn malformed(err: &anyhow::Error) -> Refusal {
    Refusal::Failed(failure::malformed(err))
}

impl ServiceApi {
    pub(super) async fn plugins(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        match method {
            "List" | "SetEnabled" | "Install" | "Remove" => self.administer(method, call).await,
            "Intercepts" | "BeforeRequest" | "AfterResponse" | "Route" => {
                self.request_path(method, call).await
            }
            _ => Err(Refusal::UnknownMethod),
        }
    }

    async fn administer(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let actor = self.authenticated(&call).await?;
        // A controller mounting the plugin API over a service tier that runs no host: the
        // operator's configurations disagree, which the controller shows as a 503.
        let Some(plugins) = &self.plugins else {
            return Err(admin(PluginAdminError::Unavailable(anyhow!(
                "plugins.enabled is false on the service tier"
            ))));
        };
        let admin_of = &plugins.admin;
        match method {
            "List" => {
                let items = admin_of.list(&actor).await.map_err(admin)?;
                call.reply(&wire::PluginInfos {
                    items: items.iter().map(convert::plugin_info_message).collect(),
                })
            }
            "SetEnabled" => {
                let body: wire::SetPluginEnabled = call.decode()?;
                let info = admin_of
                    .set_enabled(&actor, &body.name, body.enabled)
                    .await
                    .map_err(admin)?;
                call.reply(&convert::plugin_info_message(&info))
            }
            "Install" => {
                let body: wire::InstallPlugin = call.decode()?;
                let info = admin_of
                    .install(&actor, &body.name, body.module, body.signature)
                    .await
                    .map_err(admin)?;
                call.reply(&convert::plugin_info_message(&info))
            }
            _ => {
                let body: wire::Text = call.decode()?;
                admin_of.remove(&actor, &body.value).await.map_err(admin)?;
                call.reply(&wire::Empty {})
            }
        }
    }

    /// Without a host, the request path is that of a deployment without plugins: nothing
    /// intercepts and no plugin route exists.
    async fn request_path(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let host = self.plugins.as_ref().map(|plugins| &plugins.host);
        match method {
            "Intercepts" => call.reply(&wire::Interception {
                intercepts: host.is_some_and(|host| host.intercepts()),
                required: host.is_some_and(|host| host.requires_interception()),
            }),
            "BeforeRequest" => {
                let head = convert::http_head(Some(call.decode()?));
                let decision = match host {
                    Some(host) => host
                        .before_request(&head)
                        .await
                        .map_err(|err| Refusal::Failed(failure::from_plugin(err)))?,
                    None => BeforeRequest::Continue(Vec::new()),
                };
                call.reply(&convert::before_decision_message(decision))
            }
            "AfterResponse" => {
                let body: wire::AfterResponse = call.decode()?;
                let status = u16::try_from(body.status)
                    .map_err(|_| malformed(&anyhow!("field status: not an HTTP status")))?;
                let head = convert::http_head(body.head);
                let ops = match host {
                    Some(host) => host.after_response(&head, status).await,
                    None => Vec::new(),
                };
                call.reply(&wire::HeaderOps {
                    ops: convert::header_ops_message(&ops),
                })
            }
            _ => {
                let body: wire::RouteCall = call.decode()?;
                let name =
                    convert::plugin_name("plugin", &body.plugin).map_err(|err| malformed(&err))?;
                let request = RouteRequest {
                    head: convert::http_head(body.head),
                    body: body.body,
                };
                let Some(host) = host else {
                    let missing = arcana_ports::plugins::PluginError::NotFound(body.plugin);
                    return Err(Refusal::Failed(failure::from_plugin(missing)));
                };
                let answer = host
                    .handle_route(&name, request)
                    .await
                    .map_err(|err| Refusal::Failed(failure::from_plugin(err)))?;
                call.reply(&convert::plugin_answer_message(answer))
            }
        }
    }
}
