//! Micro-benchmarks of the plugin host (`cargo bench -p arcana-bench --bench plugins`): the bare
//! host→guest call (the `header-stamp` interceptor's `before` on a warm instance, arguments
//! lowered, nothing of the host's around it), the same hook through the host's `before_request`
//! (admission, supervisor, instance pool, conversions, stats and metrics included), and an event
//! from `dispatch` to the audit plugin's handler having stored its count (in-memory kv). The
//! calls run in a loop inside one `block_on` per sample; the event row pays one per event.

#[path = "../src/plugin_modules.rs"]
mod plugin_modules;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcana_adapter_memory::{InMemoryAuditLog, InMemoryPluginKv};
use arcana_adapter_wasm::{HostSettings, WasmPluginHost, bench_support};
use arcana_domain::UserId;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::plugins::{HttpHead, PluginHost, PluginKv, PluginRequests};
use criterion::{Criterion, criterion_group, criterion_main};

/// A plugin directory holding `header-stamp` and `audit` (nothing when `empty`).
fn plugin_dir(label: &str, empty: bool) -> std::path::PathBuf {
    let modules = plugin_modules::build().expect("plugins/ builds for wasm32-wasip2");
    let dir = std::env::temp_dir().join(format!(
        "arcana-bench-plugins-{label}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("plugin dir");
    if empty {
        return dir;
    }
    for (krate, name) in [("header_stamp", "header-stamp"), ("audit", "audit")] {
        std::fs::copy(
            modules.join(format!("{krate}.wasm")),
            dir.join(format!("{name}.wasm")),
        )
        .expect("module copied");
    }
    dir
}

fn start(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    compiled_cache: Option<std::path::PathBuf>,
    kv: Arc<InMemoryPluginKv>,
) -> WasmPluginHost {
    let mut settings = HostSettings::new(dir);
    settings.allow_unsigned = true;
    settings.watch = false;
    settings.compiled_cache = compiled_cache;
    let audit = Arc::new(InMemoryAuditLog::new(1_000));
    runtime
        .block_on(WasmPluginHost::start(
            settings,
            kv,
            audit,
            &prometheus::Registry::new(),
        ))
        .expect("the host starts")
}

fn host(runtime: &tokio::runtime::Runtime, kv: Arc<InMemoryPluginKv>) -> WasmPluginHost {
    start(runtime, &plugin_dir("calls", false), None, kv)
}

/// A host's start with the two plugins compiled, loaded from the compiled cache, and with no
/// plugin at all (the engine alone): (cached − empty) ÷ 2 is one cached plugin's load.
fn loading(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("plugin host start, 2 plugins");
    group.sample_size(10);
    let (dir, empty) = (plugin_dir("load", false), plugin_dir("empty", true));
    let cache = dir.join(".compiled");
    for (label, dir, cache) in [
        ("compiled at load", &dir, None),
        ("from the compiled cache", &dir, Some(cache.clone())),
        ("no plugins (engine only)", &empty, None),
    ] {
        if cache.is_some() {
            // Primes the cache: the first start compiles and stores.
            drop(start(
                &runtime,
                dir,
                cache.clone(),
                Arc::new(InMemoryPluginKv::new()),
            ));
        }
        // The host is dropped outside the timing: its teardown (unmapping the pooling
        // allocator's reservation) is not part of a start.
        group.bench_function(label, |b| {
            b.iter_with_large_drop(|| {
                start(
                    &runtime,
                    dir,
                    cache.clone(),
                    Arc::new(InMemoryPluginKv::new()),
                )
            });
        });
    }
    group.finish();
}

fn plugins(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let kv = Arc::new(InMemoryPluginKv::new());
    let host = host(&runtime, kv.clone());
    let head = HttpHead {
        method: "GET".to_owned(),
        path: "/api/v1/auth/me".to_owned(),
        query: String::new(),
        headers: vec![("accept".to_owned(), "application/json".to_owned())],
    };
    let stamp = PluginName::parse("header-stamp").expect("name");
    c.bench_function("plugin: bare host-to-guest call (before)", |b| {
        b.iter_custom(|iterations| {
            runtime
                .block_on(bench_support::before_calls(
                    &host, &stamp, &head, iterations,
                ))
                .expect("header-stamp is loaded with an interceptor")
        });
    });
    c.bench_function("plugin: interceptor call through the host (before)", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    black_box(host.before_request(black_box(&head)).await).expect("continues");
                }
                started.elapsed()
            })
        });
    });

    let (plugin, key) = (
        PluginName::parse("audit").expect("name"),
        PluginKey::parse("count:user.registered").expect("key"),
    );
    let event = DomainEvent::new(
        EventKind::UserRegistered,
        None,
        Subject::User(UserId::generate()),
        chrono::Utc::now(),
    );
    let mut seen = 0u64;
    c.bench_function("plugin: event dispatch to handler done", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                seen += 1;
                let started = Instant::now();
                host.dispatch(&event);
                runtime.block_on(async {
                    while count(&*kv, &plugin, &key).await < seen {
                        tokio::task::yield_now().await;
                    }
                });
                total += started.elapsed();
            }
            total
        });
    });
}

async fn count(kv: &dyn PluginKv, plugin: &PluginName, key: &PluginKey) -> u64 {
    kv.get(plugin, key)
        .await
        .ok()
        .flatten()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(0)
}

criterion_group!(benches, plugins, loading);
criterion_main!(benches);
