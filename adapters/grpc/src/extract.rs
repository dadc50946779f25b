//! Who is calling: the one bearer-metadata extractor every protected RPC goes through, and the
//! client's address and user agent.

use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::{AuthError, AuthUseCases, Principal, RequestContext, TokenRejection};
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::errors;

/// Longest user agent kept with a session; it is informational and clients control it.
const MAX_USER_AGENT_CHARS: usize = 256;

/// Authenticates the `authorization: Bearer …` metadata through
/// [`AuthUseCases::authenticate`], the same path REST's extractor takes (signature, expiry,
/// deny list, session, account status). Authorization is left to the use cases.
pub(crate) async fn principal<T>(
    auth: &dyn AuthUseCases,
    request: &Request<T>,
) -> Result<Principal, Status> {
    let token = bearer_token(request.metadata()).map_err(errors::from_auth)?;
    let principal = auth
        .authenticate(token, request_context(request.metadata()))
        .await
        .map_err(errors::from_auth)?;
    // Counted only once the token proved who the caller is.
    crate::limits::per_user(request, &principal).await?;
    Ok(principal)
}

/// W3C trace context values longer than this are not forwarded.
const MAX_TRACE_VALUE_LEN: usize = 512;

/// The request id the observing layer settled on (it is always in the metadata by the time a
/// handler runs), and the caller's W3C trace context when it is printable and of sane length.
pub(crate) fn request_context(metadata: &MetadataMap) -> RequestContext {
    let text = |name: &str| {
        let value = metadata.get(name)?.to_str().ok()?;
        (!value.is_empty() && value.len() <= MAX_TRACE_VALUE_LEN).then(|| value.to_owned())
    };
    RequestContext {
        request_id: text("x-request-id"),
        traceparent: text("traceparent"),
        tracestate: text("tracestate"),
    }
}

pub(crate) fn bearer_token(metadata: &MetadataMap) -> Result<&str, AuthError> {
    let value = metadata
        .get("authorization")
        .ok_or(AuthError::InvalidToken(TokenRejection::Missing))?;
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidToken(TokenRejection::Invalid))?;
    arcana_ports::usecases::bearer_token(value).map_err(AuthError::InvalidToken)
}

/// The peer address (what login throttling keys on) and the user agent, recorded with sessions
/// and the audit log. gRPC clients put their own name first in `user-agent`.
pub(crate) fn client_info<T>(request: &Request<T>) -> ClientInfo {
    let user_agent = request
        .metadata()
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    let ip = request.remote_addr().map(|peer| peer.ip().to_string());
    ClientInfo { user_agent, ip }
}
