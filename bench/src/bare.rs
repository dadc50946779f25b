//! The baselines: the least a server can do to answer the same requests.

use std::sync::Arc;

use arcana_adapter_grpc::proto::auth::v1 as pb;
use arcana_adapter_grpc::proto::auth::v1::auth_service_server::{AuthService, AuthServiceServer};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::servers::{AUDIENCE, ISSUER, JWT_SECRET};

#[derive(Deserialize)]
struct Claims {
    sub: String,
    role: String,
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

/// `/health` and `/me`: the JWT checks Arcana does first (signature, expiry, issuer, audience),
/// and nothing else — no deny list, session or account lookup, no middleware.
pub async fn serve_http() -> anyhow::Result<()> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let verifier = Arc::new(Verifier {
        key: DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        validation,
    });
    let app = Router::new()
        .route("/health", get(|| async { "{\"status\":\"ok\"}" }))
        .route("/me", get(me))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "arcana: REST listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

async fn me(
    State(verifier): State<Arc<Verifier>>,
    headers: HeaderMap,
) -> Result<axum::Json<serde_json::Value>, StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = jsonwebtoken::decode::<Claims>(token, &verifier.key, &verifier.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    Ok(axum::Json(
        serde_json::json!({"id": claims.sub, "role": claims.role}),
    ))
}

/// tonic with no layers, answering `ValidateToken` with a constant and serving the stock health
/// service.
pub async fn serve_grpc() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "arcana: gRPC listening on http://{}",
        listener.local_addr()?
    );
    let (_reporter, health) = tonic_health::server::health_reporter();
    Server::builder()
        .add_service(AuthServiceServer::new(Bare))
        .add_service(health)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await?;
    Ok(())
}

struct Bare;

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented(
        "the baseline answers ValidateToken only",
    ))
}

#[tonic::async_trait]
impl AuthService for Bare {
    async fn validate_token(
        &self,
        _request: Request<pb::ValidateTokenRequest>,
    ) -> Result<Response<pb::ValidateTokenResponse>, Status> {
        Ok(Response::new(pb::ValidateTokenResponse {
            valid: true,
            ..pb::ValidateTokenResponse::default()
        }))
    }
    async fn register(
        &self,
        _: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        unimplemented()
    }
    async fn login(
        &self,
        _: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        unimplemented()
    }
    async fn refresh(
        &self,
        _: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::RefreshResponse>, Status> {
        unimplemented()
    }
    async fn logout(
        &self,
        _: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        unimplemented()
    }
    async fn me(&self, _: Request<pb::MeRequest>) -> Result<Response<pb::MeResponse>, Status> {
        unimplemented()
    }
    async fn list_sessions(
        &self,
        _: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        unimplemented()
    }
    async fn revoke_session(
        &self,
        _: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        unimplemented()
    }
    async fn change_password(
        &self,
        _: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        unimplemented()
    }
}
