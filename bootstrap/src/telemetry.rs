//! Logging: human-readable in development, one JSON object per line in production. Logs go to
//! standard error; standard output carries only the lines scripts read (listening addresses).
//!
//! With `observability.otlp_endpoint`, spans are also exported over OTLP/gRPC: the spans the
//! code opens anyway (one per REST or gRPC request, internal call, job run) become OpenTelemetry
//! spans through `tracing-opentelemetry`, batched on the SDK's own thread, so a slow or absent
//! collector costs dropped spans, never request latency.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, ObservabilitySettings, Settings};

/// Keeps the trace exporter of the process; [`Telemetry::shutdown`] flushes what is queued.
#[must_use = "dropping it without shutdown loses the spans still queued"]
pub(crate) struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still queued (bounded by `observability.otlp_timeout_ms`) and stops
    /// the exporter.
    pub(crate) fn shutdown(self) {
        if let Some(provider) = self.provider {
            // Off the reactor: the SDK blocks its calling thread until its worker is done.
            let flushed = std::thread::spawn(move || provider.shutdown()).join();
            if !matches!(flushed, Ok(Ok(()))) {
                eprintln!("arcana: the last spans could not be exported");
            }
        }
    }
}

/// Installs logging, and trace export when configured, for the process named `service` (its
/// binary, reported as `service.name`). Must run inside the Tokio runtime: the gRPC exporter
/// lives on it.
pub(crate) fn init(settings: &Settings, service: &'static str) -> Telemetry {
    let observability = &settings.observability;
    let filter =
        EnvFilter::try_new(&observability.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = observability.otlp_endpoint.as_deref().and_then(|endpoint| {
        match tracer_provider(observability, endpoint, service) {
            Ok(provider) => Some(provider),
            Err(err) => {
                // Observability must not take the service down: run without export, say so.
                eprintln!("arcana: trace export disabled: {err:#}");
                None
            }
        }
    });
    // Per-layer filters: `log_level` decides what is logged, not what is traced, so a
    // deployment logging only warnings still exports every request's spans.
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service))
            // Per-span attributes that cost more than they tell: source location (three
            // attributes, the span's name and target already say where), thread id and name,
            // busy/idle times. Converting attributes is most of the export thread's work.
            .with_tracked_inactivity(false)
            .with_location(false)
            .with_threads(false)
            .with_filter(traced())
    });
    let logs = log_layer(observability.format_for(settings.environment)).with_filter(filter);
    // `try_init` fails only if a subscriber is already set (a second call in one process), in
    // which case the first one keeps working.
    let installed = tracing_subscriber::registry()
        .with(traces)
        .with(logs)
        .try_init()
        .is_ok();
    if installed && provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        arcana_adapter_otel::mark_exporting();
        tracing::info!(
            endpoint = observability.otlp_endpoint.as_deref().unwrap_or_default(),
            "exporting traces over OTLP/gRPC"
        );
    }
    Telemetry { provider }
}

/// Log lines to stderr: one JSON object per line, or compact text for people.
fn log_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(std::io::stderr)
            .boxed(),
    }
}

/// What becomes an exported span: Arcana's request, call and job spans (info), each use case
/// (`auth.login`, …) and each call to a guarded dependency (`dependency_call`), both debug so that
/// they are no work at all for the logs at their usual levels. Libraries' own debug spans
/// (sqlx, hyper, h2) stay out.
fn traced() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("arcana_application", LevelFilter::DEBUG)
        .with_target("arcana_adapter_resilience", LevelFilter::DEBUG)
}

fn tracer_provider(
    observability: &ObservabilitySettings,
    endpoint: &str,
    service: &'static str,
) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_millis(observability.otlp_timeout_ms))
        .build()?;
    let root = Sampler::TraceIdRatioBased(observability.trace_sample_ratio);
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(root)))
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}
