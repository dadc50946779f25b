//! Who is calling: the bearer principal, and the client's user agent and address.

use std::net::{IpAddr, SocketAddr};

use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::{AuthError, Principal, RequestContext, TokenRejection};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderName};

use arcana_ports::ratelimit::{LimitClass, Subject};

use crate::limits::{Applied, count};
use crate::middleware::RequestId;
use crate::problem::ApiError;
use crate::state::AppState;

/// Longest user agent kept with a session; it is informational and clients control it.
const MAX_USER_AGENT_CHARS: usize = 256;
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// W3C trace context headers longer than this are not forwarded (`tracestate` may hold at most
/// 32 members of 256 characters; a sane one is far shorter).
const MAX_TRACE_HEADER_LEN: usize = 512;

/// The caller behind a valid `Authorization: Bearer` access token. Every failure (absent header,
/// other scheme, bad or revoked token) is a 401 with a `WWW-Authenticate` challenge.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?;
        let principal = state
            .ports
            .auth
            .authenticate(token, request_context(parts))
            .await?;
        // Per user, counted only once the token proved who the caller is: a forged token
        // cannot spend someone else's budget.
        if let (Some(limits), Some(applied)) = (&state.limits, parts.extensions.get::<Applied>()) {
            let subject = Subject::User(principal.user.id());
            count(limits, applied, LimitClass::PerUser, &subject).await?;
        }
        Ok(Self(principal))
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or(AuthError::InvalidToken(TokenRejection::Missing))?;
    let value = header
        .to_str()
        .map_err(|_| AuthError::InvalidToken(TokenRejection::Invalid))?;
    arcana_ports::usecases::bearer_token(value).map_err(AuthError::InvalidToken)
}

/// User agent and address of the client, recorded with sessions and the audit log, and keyed
/// on by login throttling; and the request they came with, for the calls made on their behalf.
#[derive(Debug, Clone)]
pub(crate) struct Client(pub(crate) ClientInfo, pub(crate) RequestContext);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            client_info(parts, state.trust_forwarded_for),
            request_context(parts),
        ))
    }
}

/// The request id the middleware settled on, and the caller's W3C trace context when it is
/// printable and of sane length (anything else is dropped, never forwarded).
pub(crate) fn request_context(parts: &Parts) -> RequestContext {
    let trace_header = |name: &HeaderName| {
        let value = parts.headers.get(name)?;
        let bytes = value.as_bytes();
        if bytes.is_empty()
            || bytes.len() > MAX_TRACE_HEADER_LEN
            || !bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        {
            return None;
        }
        value.to_str().ok().map(str::to_owned)
    };
    RequestContext {
        request_id: parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned()),
        traceparent: trace_header(&TRACEPARENT),
        tracestate: trace_header(&TRACESTATE),
    }
}

pub(crate) fn client_info(parts: &Parts, trust_forwarded_for: bool) -> ClientInfo {
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    let ip =
        client_ip(&parts.headers, &parts.extensions, trust_forwarded_for).map(|ip| ip.to_string());
    ClientInfo { user_agent, ip }
}

/// The client's address: the first `X-Forwarded-For` hop when trusted, else the peer.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| first_forwarded_hop(headers))
        .flatten();
    forwarded.or_else(|| {
        let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
        Some(peer.ip())
    })
}

/// The first `X-Forwarded-For` entry is the client as seen by the outermost proxy. It must parse
/// as an address: anything else is ignored, so junk never reaches throttling keys or the audit log.
fn first_forwarded_hop(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get(X_FORWARDED_FOR)?.to_str().ok()?;
    value.split(',').next()?.trim().parse().ok()
}
