//! Provisioning a fresh store per case on each backend, and running the case list.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arcana_adapter_memory::{
    InMemoryAuditLog, InMemoryPluginKv, InMemorySessionStore, InMemoryUserRepository,
};
use arcana_adapter_mysql::MysqlStore;
use arcana_adapter_postgres::PostgresStore;
use arcana_adapter_sqlite::SqliteStore;
use arcana_ports::audit::AuditLog;
use arcana_ports::plugins::PluginKv;
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::UserRepository;
use std::time::Duration;

use arcana_adapter_cache::{CachedSessionStore, CachedUserRepository, MokaCache};
use arcana_adapter_redis::{RedisConnection, RedisSessionStore, RedisSettings, TieredCache};
use arcana_ports::cache::Cache;
use arcana_tests::databases::{Service, TestDatabase};
use arcana_tests::redis::TestRedis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
    Mysql,
    /// The Redis session store (the only port Redis implements among these).
    Redis,
    /// The cache-aside decorators over the two-tier cache: memory users, Redis sessions.
    Tiered,
    /// The cache-aside decorators over the default in-process cache (moka).
    MokaCached,
    /// The repository tier's storage API over internal gRPC with mutual TLS (the remote
    /// clients of the service tier), served from a SQLite store.
    RepositoryTier,
    /// The same over internal HTTP/JSON with TLS and a link credential.
    RepositoryTierHttp,
}

/// The driven ports of one fresh store, and whatever keeps it alive.
pub struct Stores {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub audit: Arc<dyn AuditLog>,
    pub plugin_kv: Arc<dyn PluginKv>,
    _keep: Option<Box<dyn Send + Sync>>,
}

/// Removes a SQLite test file (and its WAL companions) when the case ends.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

macro_rules! sql_stores {
    ($store:expr, $keep:expr) => {{
        let store = $store;
        store
            .migrate()
            .await
            .expect("migrations apply to a fresh database");
        Stores {
            users: Arc::new(store.users()),
            sessions: Arc::new(store.sessions()),
            audit: Arc::new(store.audit()),
            plugin_kv: Arc::new(store.plugin_kv()),
            _keep: Some(Box::new($keep)),
        }
    }};
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Redis => "redis",
            Self::Tiered => "tiered-cache",
            Self::MokaCached => "moka-cache",
            Self::RepositoryTier => "repository-tier-grpc",
            Self::RepositoryTierHttp => "repository-tier-http",
        }
    }

    fn cases(self) -> Vec<Case> {
        match self {
            Self::Redis => crate::sessions::cases(),
            Self::Tiered | Self::MokaCached => {
                let mut cases = crate::users::cases();
                cases.extend(crate::sessions::cases());
                cases
            }
            Self::Memory
            | Self::Sqlite
            | Self::Postgres
            | Self::Mysql
            | Self::RepositoryTier
            | Self::RepositoryTierHttp => all_cases(),
        }
    }

    /// A fresh, migrated store; `None` when the backend's service is not configured.
    pub async fn provision(self) -> Option<Stores> {
        Some(match self {
            Self::Memory => Stores {
                users: Arc::new(InMemoryUserRepository::new()),
                sessions: Arc::new(InMemorySessionStore::new()),
                audit: Arc::new(InMemoryAuditLog::new(10_000)),
                plugin_kv: Arc::new(InMemoryPluginKv::new()),
                _keep: None,
            },
            Self::Sqlite => sqlite_stores().await,
            Self::MokaCached => {
                let cache: Arc<dyn Cache> = Arc::new(MokaCache::new(10_000));
                let ttl = Duration::from_mins(1);
                Stores {
                    users: Arc::new(CachedUserRepository::new(
                        Arc::new(InMemoryUserRepository::new()),
                        cache.clone(),
                        ttl,
                    )),
                    sessions: Arc::new(CachedSessionStore::new(
                        Arc::new(InMemorySessionStore::new()),
                        cache,
                        ttl,
                    )),
                    audit: Arc::new(InMemoryAuditLog::new(10_000)),
                    plugin_kv: Arc::new(InMemoryPluginKv::new()),
                    _keep: None,
                }
            }
            Self::RepositoryTier => {
                crate::remote::repository_tier(sqlite_stores().await, crate::remote::Link::Grpc)
                    .await
            }
            Self::RepositoryTierHttp => {
                crate::remote::repository_tier(sqlite_stores().await, crate::remote::Link::Http)
                    .await
            }
            Self::Postgres => {
                let db = TestDatabase::create(Service::Postgres).await?;
                let store = PostgresStore::connect_lazy(
                    &db.url,
                    &arcana_adapter_postgres::PoolSettings::default(),
                )
                .expect("a PostgreSQL URL");
                sql_stores!(store, db)
            }
            Self::Mysql => {
                let db = TestDatabase::create(Service::Mysql).await?;
                let store = MysqlStore::connect_lazy(
                    &db.url,
                    &arcana_adapter_mysql::PoolSettings::default(),
                )
                .expect("a MySQL URL");
                sql_stores!(store, db)
            }
            Self::Redis => {
                let redis = TestRedis::create()?;
                let connection = redis_connection(&redis);
                Stores {
                    users: Arc::new(InMemoryUserRepository::new()),
                    sessions: Arc::new(RedisSessionStore::new(connection)),
                    audit: Arc::new(InMemoryAuditLog::new(10_000)),
                    plugin_kv: Arc::new(InMemoryPluginKv::new()),
                    _keep: Some(Box::new(redis)),
                }
            }
            Self::Tiered => {
                let redis = TestRedis::create()?;
                let connection = redis_connection(&redis);
                let cache: Arc<dyn Cache> = Arc::new(TieredCache::new(
                    &connection,
                    10_000,
                    Duration::from_mins(1),
                ));
                let ttl = Duration::from_mins(1);
                let users = Arc::new(InMemoryUserRepository::new());
                let sessions = Arc::new(RedisSessionStore::new(connection));
                Stores {
                    users: Arc::new(CachedUserRepository::new(users, cache.clone(), ttl)),
                    sessions: Arc::new(CachedSessionStore::new(sessions, cache, ttl)),
                    audit: Arc::new(InMemoryAuditLog::new(10_000)),
                    plugin_kv: Arc::new(InMemoryPluginKv::new()),
                    _keep: Some(Box::new(redis)),
                }
            }
        })
    }
}

async fn sqlite_stores() -> Stores {
    let path = std::env::temp_dir().join(format!(
        "arcana-conformance-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect_lazy(&url, &arcana_adapter_sqlite::PoolSettings::default())
        .expect("a SQLite URL");
    sql_stores!(store, TempFile(path))
}

impl Stores {
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionStore>,
        audit: Arc<dyn AuditLog>,
        plugin_kv: Arc<dyn PluginKv>,
        keep: Box<dyn Send + Sync>,
    ) -> Self {
        Self {
            users,
            sessions,
            audit,
            plugin_kv,
            _keep: Some(keep),
        }
    }
}

pub fn redis_connection(redis: &TestRedis) -> RedisConnection {
    RedisConnection::connect_lazy(&RedisSettings {
        url: redis.url.clone(),
        key_prefix: redis.prefix.clone(),
        timeout: Duration::from_secs(2),
    })
    .expect("a Redis URL")
}

pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type Case = (&'static str, fn(Arc<Stores>) -> CaseFuture);

/// Builds the `(name, case)` list entries from async functions taking `Arc<Stores>`.
#[macro_export]
macro_rules! cases {
    ($($case:path),* $(,)?) => {
        vec![$((
            stringify!($case),
            (|stores| Box::pin($case(stores)) as $crate::harness::CaseFuture) as fn(_) -> _,
        )),*]
    };
}

fn all_cases() -> Vec<Case> {
    let mut cases = crate::users::cases();
    cases.extend(crate::sessions::cases());
    cases.extend(crate::audit::cases());
    cases.extend(crate::plugin_kv::cases());
    cases
}

/// Runs every case on its own fresh store, collecting failures instead of stopping at the
/// first, and prints the count.
pub async fn run_all(backend: Backend) {
    let cases = backend.cases();
    let total = cases.len();
    let mut failed = Vec::new();
    for (name, case) in cases {
        let Some(stores) = backend.provision().await else {
            println!(
                "conformance[{}]: skipped (service not configured)",
                backend.name()
            );
            return;
        };
        let stores = Arc::new(stores);
        let outcome = tokio::spawn(case(stores.clone())).await;
        drop(stores);
        if let Err(err) = outcome {
            eprintln!("conformance[{}]: {name} FAILED: {err}", backend.name());
            failed.push(name);
        }
    }
    println!(
        "conformance[{}]: {} of {total} cases passed",
        backend.name(),
        total - failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} failing case(s) on {}: {failed:?}",
        failed.len(),
        backend.name()
    );
}
