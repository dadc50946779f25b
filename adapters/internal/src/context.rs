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

impl CallMeta {
    /// The metadata as `(name, value)` pairs, the same on both transports (gRPC metadata keys
    /// and HTTP header names); absent fields are not sent.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let request = &self.request;
        // The next tier's spans hang under this tier's current span (when traces are exported).
        let (traceparent, tracestate) = arcana_adapter_otel::outgoing((
            request.traceparent.clone(),
            request.tracestate.clone(),
        ));
        [
            ("x-request-id", request.request_id.clone()),
            ("traceparent", traceparent),
            ("tracestate", tracestate),
            (
                "authorization",
                self.bearer
                    .as_ref()
                    .map(|token| format!("Bearer {}", token.expose())),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }

    /// Reads the metadata back from whatever `lookup` finds under each name.
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let bearer = lookup("authorization").and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| AccessToken::new(token.trim()))
        });
        Self {
            request: RequestContext {
                request_id: lookup("x-request-id"),
                traceparent: lookup("traceparent"),
                tracestate: lookup("tracestate"),
            },
            bearer,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_entries_and_read() {
        let meta = CallMeta {
            request: RequestContext {
                request_id: Some("req-1".into()),
                traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
                tracestate: None,
            },
            bearer: Some(AccessToken::new("token")),
        };
        let entries: Vec<_> = meta.entries().collect();
        assert_eq!(entries.len(), 3, "absent fields are not sent");
        let read = CallMeta::read(|name| {
            entries
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        });
        assert_eq!(read.request, meta.request);
        assert_eq!(read.bearer, meta.bearer);
    }
}
