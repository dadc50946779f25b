//! gRPC metrics: calls handled and their latency, by service, method and code, on the process
//! registry that `/metrics` renders.

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts};

/// Collectors for every gRPC call served.
///
/// Services outside this API and methods the server does not implement are folded into
/// `unknown`, so that a client inventing paths cannot blow up label cardinality.
#[derive(Clone)]
pub struct GrpcMetrics {
    handled: IntCounterVec,
    duration: HistogramVec,
    /// `grpc_shed_calls_total`: calls refused with UNAVAILABLE past `server.max_in_flight`.
    pub(crate) shed: IntCounter,
}

impl fmt::Debug for GrpcMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcMetrics").finish_non_exhaustive()
    }
}

impl GrpcMetrics {
    /// Creates `grpc_server_handled_total{service,method,code}` and
    /// `grpc_server_handling_seconds{service,method}` and registers both with `registry`.
    pub fn register(registry: &prometheus::Registry) -> anyhow::Result<Self> {
        let handled = IntCounterVec::new(
            Opts::new(
                "grpc_server_handled_total",
                "gRPC calls completed, by service, method and status code.",
            ),
            &["service", "method", "code"],
        )
        .context("creating grpc_server_handled_total")?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "grpc_server_handling_seconds",
                "Time from receiving a gRPC call to producing its response head.",
            ),
            &["service", "method"],
        )
        .context("creating grpc_server_handling_seconds")?;
        let shed = IntCounter::new(
            "grpc_shed_calls_total",
            "gRPC calls refused with UNAVAILABLE because too many requests were in flight.",
        )
        .context("creating grpc_shed_calls_total")?;
        registry
            .register(Box::new(shed.clone()))
            .context("registering grpc_shed_calls_total")?;
        registry
            .register(Box::new(handled.clone()))
            .context("registering grpc_server_handled_total")?;
        registry
            .register(Box::new(duration.clone()))
            .context("registering grpc_server_handling_seconds")?;
        Ok(Self {
            handled,
            duration,
            shed,
        })
    }

    pub(crate) fn observe(&self, service: &str, method: &str, code: &str, took: Duration) {
        self.handled
            .with_label_values(&[service, method, code])
            .inc();
        self.duration
            .with_label_values(&[service, method])
            .observe(took.as_secs_f64());
    }
}

/// The services this server answers; anything else is labelled `unknown`.
const SERVICES: [&str; 5] = [
    "arcana.auth.v1.AuthService",
    "arcana.user.v1.UserService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];
const UNKNOWN: &str = "unknown";

/// Splits `/package.Service/Method` into bounded labels.
pub(crate) fn labels<'a>(path: &'a str, code: &str) -> (&'static str, &'a str) {
    let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
        return (UNKNOWN, UNKNOWN);
    };
    let Some(service) = SERVICES.iter().find(|known| **known == service) else {
        return (UNKNOWN, UNKNOWN);
    };
    if code == "UNIMPLEMENTED" {
        (service, UNKNOWN)
    } else {
        (service, method)
    }
}

/// The canonical name of a `grpc-status` value.
pub(crate) fn code_name(status: &[u8]) -> &'static str {
    match status {
        b"0" => "OK",
        b"1" => "CANCELLED",
        b"2" => "UNKNOWN",
        b"3" => "INVALID_ARGUMENT",
        b"4" => "DEADLINE_EXCEEDED",
        b"5" => "NOT_FOUND",
        b"6" => "ALREADY_EXISTS",
        b"7" => "PERMISSION_DENIED",
        b"8" => "RESOURCE_EXHAUSTED",
        b"9" => "FAILED_PRECONDITION",
        b"10" => "ABORTED",
        b"11" => "OUT_OF_RANGE",
        b"12" => "UNIMPLEMENTED",
        b"13" => "INTERNAL",
        b"14" => "UNAVAILABLE",
        b"15" => "DATA_LOSS",
        b"16" => "UNAUTHENTICATED",
        _ => "INVALID_STATUS",
    }
}
