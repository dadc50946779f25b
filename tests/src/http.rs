//! Talking to a test server over REST: requests with or without a bearer token, the account
//! calls most scenarios start with, and problem+json checks.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::{ROOT_PASSWORD, ROOT_USERNAME, TestApp};

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    /// Registers `username` (email `<username>@example.com`) and returns the token response.
    pub async fn register(&self, username: &str, password: &str) -> Tokens {
        let body = json!({"username": username, "email": format!("{username}@example.com"), "password": password});
        let response = self.post("/api/v1/auth/register", None, &body).await;
        assert_eq!(response.status(), 201, "registering {username}");
        Tokens::from(response.json::<Value>().await.expect("json body"))
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Response {
        let body = json!({"username_or_email": identifier, "password": password});
        self.post("/api/v1/auth/login", None, &body).await
    }

    pub async fn login_ok(&self, identifier: &str, password: &str) -> Tokens {
        let response = self.login(identifier, password).await;
        assert_eq!(response.status(), 200, "login of {identifier}");
        Tokens::from(response.json::<Value>().await.expect("json body"))
    }

    pub async fn root(&self) -> Tokens {
        self.login_ok(ROOT_USERNAME, ROOT_PASSWORD).await
    }

    /// Has `admin` create a user with `role` and returns that user's tokens.
    pub async fn create_user(
        &self,
        admin: &Tokens,
        username: &str,
        role: &str,
        password: &str,
    ) -> Tokens {
        let body = json!({"username": username, "email": format!("{username}@example.com"), "password": password, "role": role});
        let response = self.post("/api/v1/users", Some(&admin.access), &body).await;
        assert_eq!(response.status(), 201, "creating {username} as {role}");
        self.login_ok(username, password).await
    }
}

/// The useful parts of a token response.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub body: Value,
}

impl From<Value> for Tokens {
    fn from(body: Value) -> Self {
        let text = |v: &Value| v.as_str().expect("string field").to_owned();
        Self {
            access: text(&body["access_token"]),
            refresh: text(&body["refresh_token"]),
            user_id: text(&body["user"]["id"]),
            body,
        }
    }
}

/// Reads a problem+json response, checking its content type and that it carries the request id.
pub async fn problem(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "status {status}: content type {content_type:?}"
    );
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "status field matches: {body}");
    assert!(
        body["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "request_id present: {body}"
    );
    assert!(
        body["code"].is_string() && body["title"].is_string(),
        "code and title present: {body}"
    );
    (status, body)
}
