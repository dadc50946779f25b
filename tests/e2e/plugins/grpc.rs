//! Plugin administration over `arcana.plugins.v1`: the same use cases as REST, so the same
//! rule (admin only) and the same refusals.

use arcana_adapter_grpc::proto::plugins::v1 as pb;
use arcana_adapter_grpc::proto::plugins::v1::plugin_service_client::PluginServiceClient;
use arcana_tests::api::grpc::with_bearer as authed;
use arcana_tests::plugins::{PluginDir, built};
use tonic::Code;

use crate::support::{BIN, start};

fn named(name: &str) -> pb::PluginRequest {
    pb::PluginRequest {
        name: name.to_owned(),
    }
}

#[tokio::test]
async fn the_grpc_plugin_service_serves_admins_only_and_runs_every_operation() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    let app = start(&plugins, &[]).await;
    let root = app.root().await.access;
    let user = app.register("erin", "erin-password-123").await.access;
    let mut client = PluginServiceClient::new(app.grpc_channel().await);

    let anonymous = client
        .list_plugins(authed(pb::ListPluginsRequest {}, None))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let denied = client
        .list_plugins(authed(pb::ListPluginsRequest {}, Some(&user)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let module = PluginDir::module("audit");
    let file = plugins.keys().join("audit.wasm");
    std::fs::write(&file, &module).unwrap();
    plugins.sign(&file);
    let signature = std::fs::read_to_string(format!("{}.sig", file.display())).unwrap();
    let install = |signature: Option<String>| pb::InstallPluginRequest {
        name: "audit".to_owned(),
        module: module.clone(),
        signature,
    };
    let refused = client
        .install_plugin(authed(install(None), Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::InvalidArgument,
        "unsigned: {refused:?}"
    );
    let as_user = client
        .install_plugin(authed(install(Some(signature.clone())), Some(&user)))
        .await;
    assert_eq!(as_user.unwrap_err().code(), Code::PermissionDenied);

    let installed = client
        .install_plugin(authed(install(Some(signature)), Some(&root)))
        .await
        .unwrap()
        .into_inner()
        .plugin
        .unwrap();
    assert_eq!(
        (installed.name.as_str(), installed.state.as_str()),
        ("audit", "enabled")
    );
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 200);

    let disabled = client
        .disable_plugin(authed(named("audit"), Some(&root)))
        .await
        .unwrap();
    assert_eq!(disabled.into_inner().plugin.unwrap().state, "disabled");
    let enabled = client
        .enable_plugin(authed(named("audit"), Some(&root)))
        .await
        .unwrap();
    assert_eq!(enabled.into_inner().plugin.unwrap().state, "enabled");
    let listed = client
        .list_plugins(authed(pb::ListPluginsRequest {}, Some(&root)))
        .await
        .unwrap();
    assert_eq!(listed.into_inner().items.len(), 1);
    let missing = client
        .enable_plugin(authed(named("nobody"), Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let invalid = client
        .enable_plugin(authed(named("Bad_Name"), Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);

    client
        .remove_plugin(authed(named("audit"), Some(&root)))
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 404);
    let again = client
        .remove_plugin(authed(named("audit"), Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
}
