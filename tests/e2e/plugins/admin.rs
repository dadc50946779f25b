//! The plugin admin API: admin only, every operation, audited under the administrator.

use arcana_tests::plugins::{PluginDir, built};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{BIN, start};

fn upload(module: &[u8], signature: Option<&str>) -> Value {
    json!({
        "module_base64": base64::engine::general_purpose::STANDARD.encode(module),
        "signature": signature,
    })
}

#[tokio::test]
async fn plugin_administration_needs_the_admin_role() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    plugins.install("audit", "audit");
    let app = start(&plugins, &[]).await;
    let user = app.register("dave", "dave-password-123").await;
    assert_eq!(app.get("/api/v1/plugins", None).await.status(), 401);
    let calls = [
        (Method::GET, "/api/v1/plugins"),
        (Method::POST, "/api/v1/plugins/audit/disable"),
        (Method::POST, "/api/v1/plugins/audit/enable"),
        (Method::DELETE, "/api/v1/plugins/audit"),
    ];
    for (method, path) in calls {
        let response = app
            .request(method.clone(), path, Some(&user.access))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path} as a plain user");
    }
    let body = upload(&PluginDir::module("audit"), None);
    let put = app
        .send_json(
            Method::PUT,
            "/api/v1/plugins/audit",
            Some(&user.access),
            &body,
        )
        .await;
    assert_eq!(put.status(), 403);
    assert_eq!(
        app.get("/api/v1/ext/audit/stats", None).await.status(),
        200,
        "nothing changed"
    );
}

/// The content of a `.sig` for `module`, made by `arcana plugin sign` in a scratch file.
fn signature_for(plugins: &PluginDir, module: &[u8]) -> String {
    let file = plugins.keys().join("staging.wasm");
    std::fs::write(&file, module).unwrap();
    plugins.sign(&file);
    std::fs::read_to_string(format!("{}.sig", file.display())).unwrap()
}

#[tokio::test]
async fn an_upload_is_refused_without_a_valid_signature_or_under_another_name() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    let app = start(&plugins, &[]).await;
    let root = app.root().await;
    let token = Some(root.access.as_str());
    let listed: Value = app
        .get("/api/v1/plugins", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let module = PluginDir::module("audit");
    let put = |name: &'static str, body: Value| {
        let app = &app;
        async move {
            let path = format!("/api/v1/plugins/{name}");
            app.send_json(Method::PUT, &path, token, &body).await
        }
    };
    let unsigned = put("audit", upload(&module, None)).await;
    assert_eq!(unsigned.status(), 422);
    assert_eq!(
        unsigned.json::<Value>().await.unwrap()["code"],
        "plugin_rejected"
    );
    assert_eq!(
        put("audit", upload(&module, Some("ed25519:AAAA")))
            .await
            .status(),
        422
    );
    let signature = signature_for(&plugins, &module);
    let misnamed = put("other", upload(&module, Some(&signature))).await;
    assert_eq!(
        misnamed.status(),
        422,
        "the module describes itself as `audit`"
    );
    assert_eq!(put("Bad_Name", upload(&module, None)).await.status(), 422);
    let listed: Value = app
        .get("/api/v1/plugins", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]), "nothing was installed");
    assert!(!plugins.path().join("audit.wasm").exists());
}

#[tokio::test]
async fn an_admin_uploads_disables_enables_and_deletes_a_plugin() {
    if built().is_none() {
        return;
    }
    let plugins = PluginDir::new(BIN);
    let app = start(&plugins, &[]).await;
    let root = app.root().await;
    let token = Some(root.access.as_str());
    let module = PluginDir::module("audit");
    let signature = signature_for(&plugins, &module);
    let installed = app
        .send_json(
            Method::PUT,
            "/api/v1/plugins/audit",
            token,
            &upload(&module, Some(&signature)),
        )
        .await;
    assert_eq!(installed.status(), 200);
    let installed: Value = installed.json().await.unwrap();
    assert_eq!(installed["state"], "enabled");
    assert_eq!(installed["sha256"].as_str().unwrap().len(), 64);
    assert!(
        plugins.path().join("audit.wasm").exists()
            && plugins.path().join("audit.wasm.sig").exists()
    );
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 200);

    let disabled = app
        .post("/api/v1/plugins/audit/disable", token, &Value::Null)
        .await;
    assert_eq!(disabled.json::<Value>().await.unwrap()["state"], "disabled");
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 503);
    let enabled = app
        .post("/api/v1/plugins/audit/enable", token, &Value::Null)
        .await;
    assert_eq!(enabled.json::<Value>().await.unwrap()["state"], "enabled");
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 200);
    assert_eq!(
        app.post("/api/v1/plugins/nobody/enable", token, &Value::Null)
            .await
            .status(),
        404
    );

    let deleted = app
        .request(Method::DELETE, "/api/v1/plugins/audit", token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(!plugins.path().join("audit.wasm").exists());
    assert_eq!(app.get("/api/v1/ext/audit/stats", None).await.status(), 404);
    let again = app
        .request(Method::DELETE, "/api/v1/plugins/audit", token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    let audit: Value = app
        .get("/api/v1/audit?subject=plugin:audit", token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "plugin.installed",
        "plugin.disabled",
        "plugin.enabled",
        "plugin.removed",
    ] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == root.user_id.as_str()),
        "under the administrator: {audit}"
    );
}
