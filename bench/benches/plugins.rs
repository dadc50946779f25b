//! Micro-benchmarks of the plugin host (`cargo bench -p arcana-bench --bench plugins`): a warm
//! host→guest call (the `header-stamp` interceptor's `before`, conversions included), and an
//! event from `dispatch` to the audit plugin's handler having stored its count (in-memory kv).
//! Each iteration also pays one `block_on` of a current-thread runtime, so both are upper bounds.

#[path = "../src/plugin_modules.rs"]
mod plugin_modules;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcana_adapter_memory::{InMemoryAuditLog, InMemoryPluginKv};
use arcana_adapter_wasm::{HostSettings, WasmPluginHost};
use arcana_domain::UserId;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::plugins::{HttpHead, PluginHost, PluginKv};
use criterion::{Criterion, criterion_group, criterion_main};

fn host(runtime: &tokio::runtime::Runtime, kv: Arc<InMemoryPluginKv>) -> WasmPluginHost {
    let modules = plugin_modules::build().expect("plugins/ builds for wasm32-wasip2");
    let dir = std::env::temp_dir().join(format!("arcana-bench-plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("plugin dir");
    for (krate, name) in [("header_stamp", "header-stamp"), ("audit", "audit")] {
        std::fs::copy(
            modules.join(format!("{krate}.wasm")),
            dir.join(format!("{name}.wasm")),
        )
        .expect("module copied");
    }
    let mut settings = HostSettings::new(&dir);
    settings.allow_unsigned = true;
    settings.watch = false;
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
    c.bench_function("plugin: warm interceptor call (before)", |b| {
        b.iter(|| runtime.block_on(host.before_request(black_box(&head))));
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

criterion_group!(benches, plugins);
criterion_main!(benches);
