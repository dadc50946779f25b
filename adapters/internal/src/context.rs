//! The metadata of one internal call, and the call a task is currently serving.
//!
//! The driving-port clients take the request context from the principal or the command they
//! are given. The storage ports carry no such context (storage is not about requests), so the
//! service tier's internal server records the call it is serving in a task-local, and the
//! storage clients read it back: the service → repository hop forwards the same request id and
//! trace context as the controller → service hop did.

use arcana_ports::usecases::{AccessToken, RequestContext};

/// Metadata sent with every internal call, as headers (HTTP) or metadata (gRPC).
#[derive(Debug, Clone, Default)]
pub struct CallMeta {
    pub request: RequestContext,
    /// The end user's access token, on service API calls made for an authenticated user.
    pub bearer: Option<AccessToken>,
}

tokio::task_local! {
    static SERVING: RequestContext;
}

/// Runs `work` as the handling of a call made in `request`; storage calls it makes carry it on.
pub async fn serving<F: Future>(request: RequestContext, work: F) -> F::Output {
    SERVING.scope(request, work).await
}

/// The request context of the call this task serves, or an empty one outside any.
pub(crate) fn current() -> RequestContext {
    SERVING.try_with(Clone::clone).unwrap_or_default()
}
