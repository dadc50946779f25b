//! The REST side of [`super::Api`].

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::{Map, Value, json};

use super::{
    Failure, Kind, ListQuery, NewAccount, Outcome, ProfileChanges, SessionView, SignedIn, UserPage,
    UserView,
};
use crate::{TestApp, problem};

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn optional(value: &Value) -> Option<String> {
    value.as_str().map(ToOwned::to_owned)
}

fn user(value: &Value) -> UserView {
    UserView {
        id: text(&value["id"]),
        username: text(&value["username"]),
        email: text(&value["email"]),
        display_name: optional(&value["display_name"]),
        avatar_url: optional(&value["avatar_url"]),
        role: text(&value["role"]),
        status: text(&value["status"]),
        version: value["version"].as_u64().unwrap_or_default(),
    }
}

fn signed_in(value: &Value) -> SignedIn {
    SignedIn {
        access: text(&value["access_token"]),
        refresh: text(&value["refresh_token"]),
        token_type: text(&value["token_type"]),
        expires_in: value["expires_in"].as_u64().unwrap_or_default(),
        user: user(&value["user"]),
    }
}

/// A 2xx body parsed by `parse`, or the problem as a [`Failure`].
async fn outcome<T>(response: Response, parse: impl FnOnce(&Value) -> T) -> Outcome<T> {
    if response.status().is_success() {
        let body = if response.status() == 204 {
            Value::Null
        } else {
            response.json().await.expect("a JSON body")
        };
        return Ok(parse(&body));
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .map(Duration::from_secs);
    let (status, body) = problem(response).await;
    let reason = text(&body["code"]);
    let kind = match status {
        400 | 422 => Kind::Invalid,
        401 => Kind::Unauthenticated,
        403 => Kind::PermissionDenied,
        404 => Kind::NotFound,
        409 if reason == "version_conflict" => Kind::VersionConflict,
        409 => Kind::Conflict,
        429 => Kind::Throttled,
        500 => Kind::Internal,
        503 => Kind::Unavailable,
        other => Kind::Other(other.to_string()),
    };
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| text(&e["field"])).collect())
        .unwrap_or_default();
    fields.sort();
    Err(Failure {
        kind,
        reason,
        message: text(&body["detail"]),
        fields,
        retry_after,
    })
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    let request = app.request(method, path, token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.expect("request sent")
}

fn account_body(account: &NewAccount<'_>) -> Value {
    let mut body = json!({
        "username": account.username,
        "email": account.email,
        "password": account.password,
    });
    if let Some(role) = account.role {
        body["role"] = json!(role);
    }
    body
}

pub(super) async fn register(app: &TestApp, account: NewAccount<'_>) -> Outcome<SignedIn> {
    let body = account_body(&account);
    let response = send(app, Method::POST, "/api/v1/auth/register", None, Some(body)).await;
    outcome(response, signed_in).await
}

pub(super) async fn login(app: &TestApp, identifier: &str, password: &str) -> Outcome<SignedIn> {
    let body = json!({"username_or_email": identifier, "password": password});
    let response = send(app, Method::POST, "/api/v1/auth/login", None, Some(body)).await;
    outcome(response, signed_in).await
}

pub(super) async fn refresh(app: &TestApp, token: &str) -> Outcome<SignedIn> {
    let body = json!({"refresh_token": token});
    let response = send(app, Method::POST, "/api/v1/auth/refresh", None, Some(body)).await;
    outcome(response, signed_in).await
}

pub(super) async fn me(app: &TestApp, token: Option<&str>) -> Outcome<UserView> {
    let response = send(app, Method::GET, "/api/v1/auth/me", token, None).await;
    outcome(response, user).await
}

pub(super) async fn logout(app: &TestApp, token: &str, all_sessions: bool) -> Outcome<()> {
    let body = all_sessions.then(|| json!({"all_sessions": true}));
    let response = send(app, Method::POST, "/api/v1/auth/logout", Some(token), body).await;
    outcome(response, |_| ()).await
}

pub(super) async fn sessions(app: &TestApp, token: &str) -> Outcome<Vec<SessionView>> {
    let response = send(app, Method::GET, "/api/v1/auth/sessions", Some(token), None).await;
    outcome(response, |body| {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| SessionView {
                id: text(&s["id"]),
                current: s["current"].as_bool().unwrap_or_default(),
            })
            .collect()
    })
    .await
}

pub(super) async fn revoke_session(app: &TestApp, token: &str, id: &str) -> Outcome<()> {
    let path = format!("/api/v1/auth/sessions/{id}");
    let response = send(app, Method::DELETE, &path, Some(token), None).await;
    outcome(response, |_| ()).await
}

pub(super) async fn change_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> Outcome<()> {
    let body = json!({"current_password": current, "new_password": new});
    let response = send(
        app,
        Method::PUT,
        "/api/v1/auth/password",
        Some(token),
        Some(body),
    )
    .await;
    outcome(response, |_| ()).await
}

pub(super) async fn list_users(app: &TestApp, token: &str, query: ListQuery) -> Outcome<UserPage> {
    let mut params: Vec<(&str, String)> = Vec::new();
    params.extend(query.limit.map(|limit| ("limit", limit.to_string())));
    params.extend(query.cursor.map(|cursor| ("cursor", cursor)));
    params.extend(query.role.map(|role| ("role", role)));
    params.extend(query.status.map(|status| ("status", status)));
    params.extend(query.q.map(|q| ("q", q)));
    let query: Vec<String> = params
        .iter()
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect();
    let path = format!("/api/v1/users?{}", query.join("&"));
    let response = send(app, Method::GET, &path, Some(token), None).await;
    outcome(response, |body| UserPage {
        items: body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(user)
            .collect(),
        next_cursor: optional(&body["next_cursor"]),
    })
    .await
}

/// Percent-encodes everything but unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

pub(super) async fn get_user(app: &TestApp, token: &str, id: &str) -> Outcome<UserView> {
    let path = format!("/api/v1/users/{id}");
    outcome(send(app, Method::GET, &path, Some(token), None).await, user).await
}

pub(super) async fn create_user(
    app: &TestApp,
    token: &str,
    account: NewAccount<'_>,
) -> Outcome<UserView> {
    let body = account_body(&account);
    let response = send(app, Method::POST, "/api/v1/users", Some(token), Some(body)).await;
    outcome(response, user).await
}

pub(super) async fn update_user(
    app: &TestApp,
    token: &str,
    id: &str,
    changes: ProfileChanges,
) -> Outcome<UserView> {
    let mut body = Map::new();
    if let Some(name) = changes.display_name {
        body.insert("display_name".into(), json!(name));
    }
    if let Some(url) = changes.avatar_url {
        body.insert("avatar_url".into(), json!(url));
    }
    let path = format!("/api/v1/users/{id}");
    let response = send(
        app,
        Method::PATCH,
        &path,
        Some(token),
        Some(Value::Object(body)),
    )
    .await;
    outcome(response, user).await
}

pub(super) async fn set_role(
    app: &TestApp,
    token: &str,
    id: &str,
    role: &str,
) -> Outcome<UserView> {
    let path = format!("/api/v1/users/{id}/role");
    let body = json!({"role": role});
    outcome(
        send(app, Method::PUT, &path, Some(token), Some(body)).await,
        user,
    )
    .await
}

pub(super) async fn set_status(
    app: &TestApp,
    token: &str,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Outcome<UserView> {
    let path = format!("/api/v1/users/{id}/status");
    let body = json!({"status": status, "reason": reason});
    outcome(
        send(app, Method::PUT, &path, Some(token), Some(body)).await,
        user,
    )
    .await
}

pub(super) async fn delete_user(app: &TestApp, token: &str, id: &str) -> Outcome<()> {
    let path = format!("/api/v1/users/{id}");
    outcome(
        send(app, Method::DELETE, &path, Some(token), None).await,
        |_| (),
    )
    .await
}
