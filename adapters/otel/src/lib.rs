//! W3C trace context (`traceparent`, `tracestate`) across Arcana's hops.
//!
//! Every inbound adapter (public REST and gRPC, the internal listeners) hands the caller's
//! headers to [`continue_trace`] for the span it opens per request; every internal call sends
//! [`outgoing`] instead of what it received, so that each tier's spans hang under the span of
//! the tier that called it. Until bootstrap installs a tracer (`observability.otlp_endpoint`),
//! the global propagator is a no-op: nothing is parsed, nothing is created, and calls forward
//! the caller's trace context unchanged, as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Set once by bootstrap after installing the tracer; until then every function here is a
/// couple of loads, not a propagator lookup per request.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Tells the adapters that a tracer and the W3C propagator are installed.
pub fn mark_exporting() {
    EXPORTING.store(true, Ordering::Release);
}

fn exporting() -> bool {
    EXPORTING.load(Ordering::Acquire)
}

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

struct Inbound<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for Inbound<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => self.traceparent,
            TRACESTATE => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

#[derive(Default)]
struct Outbound(HashMap<String, String>);

impl Injector for Outbound {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// Makes `span` a child of the caller's span when the caller sent a valid `traceparent` and a
/// tracer is installed, and records the trace id in its `trace_id` field (declare it
/// `trace_id = tracing::field::Empty`), so that every log line of the request carries it.
pub fn continue_trace(span: &Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    if !exporting() {
        // No tracer: the caller's trace id still ties the log lines to its trace.
        if let Some(id) = traceparent.and_then(trace_id_of) {
            span.record("trace_id", id);
        }
        return;
    }
    let inbound = Inbound {
        traceparent,
        tracestate,
    };
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&inbound));
    if parent.span().span_context().is_remote() {
        // Fails only when the span is disabled (filtered out): then there is nothing to link.
        let _ = span.set_parent(parent);
    }
    let context = span.context();
    let own = context.span();
    let trace_id = own.span_context().trace_id();
    if own.span_context().is_valid() {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// The trace context to send on a call made from the current span: the current span's own
/// when a tracer is installed, else `received` (what this request came with), unchanged.
pub fn outgoing(received: (Option<String>, Option<String>)) -> (Option<String>, Option<String>) {
    if !exporting() {
        return received;
    }
    let context = Span::current().context();
    if !context.span().span_context().is_valid() {
        return received;
    }
    let mut outbound = Outbound::default();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut outbound));
    let mut fields = outbound.0;
    match fields.remove(TRACEPARENT) {
        Some(traceparent) => (Some(traceparent), fields.remove(TRACESTATE)),
        None => received,
    }
}

/// The trace id of a well-formed `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), else `None`:
/// what reaches a log line must be checked, since the header is the caller's.
fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (_version, id) = (parts.next()?, parts.next()?);
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != "0".repeat(32))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::trace_id_of;

    #[test]
    fn only_a_well_formed_trace_id_is_taken_from_the_header() {
        let id = "0af7651916cd43dd8448eb211c80319c";
        assert_eq!(
            trace_id_of(&format!("00-{id}-b7ad6b7169203331-01")),
            Some(id)
        );
        for refused in [
            "",
            "00",
            "00-short-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c\nforged-b7ad6b7169203331-01",
        ] {
            assert_eq!(trace_id_of(refused), None, "{refused:?}");
        }
    }
}
