//! The storage backend, chosen by the scheme of `database.url`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcana_adapter_memory::{
    InMemoryAuditLog, InMemoryPluginKv, InMemorySessionStore, InMemoryUserRepository,
};
use arcana_adapter_mysql::MysqlStore;
use arcana_adapter_postgres::PostgresStore;
use arcana_adapter_sqlite::SqliteStore;
use arcana_ports::StoreError;
use arcana_ports::audit::AuditLog;
use arcana_ports::health::{HealthCheck, PoolUsage};
use arcana_ports::plugins::PluginKv;
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::UserRepository;

use crate::config::DatabaseSettings;
use crate::storage::Storage;

/// Audit entries kept by the in-memory log before the oldest are dropped.
const MEMORY_AUDIT_CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Memory,
    Sqlite,
    Postgres,
    Mysql,
}

impl Scheme {
    /// `memory:`, `sqlite:`, `postgres:`/`postgresql:`, `mysql:`/`mariadb:`.
    pub(crate) fn of(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?;
        match scheme {
            "memory" => Some(Self::Memory),
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::Mysql),
            _ => None,
        }
    }
}

/// One storage backend: its ports, its readiness check, and its migrations.
pub(crate) struct Database {
    pub(crate) users: Arc<dyn UserRepository>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) audit: Arc<dyn AuditLog>,
    pub(crate) plugin_kv: Arc<dyn PluginKv>,
    pub(crate) health: Arc<dyn HealthCheck>,
    store: Store,
}

enum Store {
    Memory,
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
    Mysql(MysqlStore),
}

macro_rules! sql_database {
    ($variant:ident, $store:expr) => {{
        let store = $store;
        Database {
            users: Arc::new(store.users()),
            sessions: Arc::new(store.sessions()),
            audit: Arc::new(store.audit()),
            plugin_kv: Arc::new(store.plugin_kv()),
            health: Arc::new(store.clone()),
            store: Store::$variant(store),
        }
    }};
}

impl Database {
    /// Builds the pool without connecting, so that a server can start while its database is
    /// down and report itself not ready until it comes back.
    pub(crate) fn open(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let url = settings.url.expose();
        let timeout = Duration::from_secs(settings.acquire_timeout_secs);
        let scheme = Scheme::of(url).context("database.url has an unsupported scheme")?;
        let opened = match scheme {
            Scheme::Memory => {
                let users = Arc::new(InMemoryUserRepository::new());
                Self {
                    users: users.clone(),
                    sessions: Arc::new(InMemorySessionStore::new()),
                    audit: Arc::new(InMemoryAuditLog::new(MEMORY_AUDIT_CAPACITY)),
                    plugin_kv: Arc::new(InMemoryPluginKv::new()),
                    health: users,
                    store: Store::Memory,
                }
            }
            Scheme::Sqlite => {
                let pool = arcana_adapter_sqlite::PoolSettings {
                    max_connections: settings.max_connections,
                    acquire_timeout: timeout,
                };
                sql_database!(
                    Sqlite,
                    SqliteStore::connect_lazy(url, &pool).map_err(described)?
                )
            }
            Scheme::Postgres => {
                let pool = arcana_adapter_postgres::PoolSettings {
                    max_connections: settings.max_connections,
                    acquire_timeout: timeout,
                };
                sql_database!(
                    Postgres,
                    PostgresStore::connect_lazy(url, &pool).map_err(described)?
                )
            }
            Scheme::Mysql => {
                let pool = arcana_adapter_mysql::PoolSettings {
                    max_connections: settings.max_connections,
                    acquire_timeout: timeout,
                };
                sql_database!(
                    Mysql,
                    MysqlStore::connect_lazy(url, &pool).map_err(described)?
                )
            }
        };
        Ok(opened)
    }

    /// Whether other processes may write to the same database (a server, not a file or memory).
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self.store, Store::Postgres(_) | Store::Mysql(_))
    }

    /// A reading of the connection pool's occupancy, for the metrics; `None` for `memory:`.
    pub(crate) fn pool_usage(&self) -> Option<Box<dyn Fn() -> PoolUsage + Send + Sync>> {
        match &self.store {
            Store::Memory => None,
            Store::Sqlite(store) => {
                let store = store.clone();
                Some(Box::new(move || store.usage()))
            }
            Store::Postgres(store) => {
                let store = store.clone();
                Some(Box::new(move || store.usage()))
            }
            Store::Mysql(store) => {
                let store = store.clone();
                Some(Box::new(move || store.usage()))
            }
        }
    }

    /// Backend name for logs (never the URL, which may hold a password).
    pub(crate) fn backend(&self) -> &'static str {
        match self.store {
            Store::Memory => "memory",
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
            Store::Mysql(_) => "mysql",
        }
    }

    /// The storage ports the application is built on, served by this database.
    pub(crate) fn storage(&self) -> Storage {
        Storage {
            users: self.users.clone(),
            sessions: self.sessions.clone(),
            audit: self.audit.clone(),
            plugin_kv: self.plugin_kv.clone(),
            health: self.health.clone(),
            dependency: "database",
            shared: self.is_shared(),
        }
    }

    /// Applies pending migrations. The memory backend has no schema.
    pub(crate) async fn migrate(&self) -> anyhow::Result<()> {
        match &self.store {
            Store::Memory => Ok(()),
            Store::Sqlite(store) => store.migrate().await.map_err(described),
            Store::Postgres(store) => store.migrate().await.map_err(described),
            Store::Mysql(store) => store.migrate().await.map_err(described),
        }
    }

    /// Closes the pool at shutdown. The MySQL pool (bb8) has no close: its connections end with
    /// the process.
    pub(crate) async fn close(&self) {
        match &self.store {
            Store::Sqlite(store) => store.close().await,
            Store::Postgres(store) => store.close().await,
            Store::Memory | Store::Mysql(_) => {}
        }
    }

    /// Names of migrations not applied yet.
    pub(crate) async fn pending_migrations(&self) -> anyhow::Result<Vec<String>> {
        match &self.store {
            Store::Memory => Ok(Vec::new()),
            Store::Sqlite(store) => store.pending_migrations().await.map_err(described),
            Store::Postgres(store) => store.pending_migrations().await.map_err(described),
            Store::Mysql(store) => store.pending_migrations().await.map_err(described),
        }
    }
}

/// Keeps the cause chain for the operator; storage errors never carry secrets.
fn described(err: StoreError) -> anyhow::Error {
    anyhow::Error::new(err)
}

#[cfg(test)]
mod tests {
    use super::Scheme;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        assert_eq!(Scheme::of("memory:"), Some(Scheme::Memory));
        assert_eq!(Scheme::of("sqlite://data/arcana.db"), Some(Scheme::Sqlite));
        assert_eq!(Scheme::of("postgresql://u@h/db"), Some(Scheme::Postgres));
        assert_eq!(Scheme::of("mariadb://root@h/db"), Some(Scheme::Mysql));
        assert_eq!(Scheme::of("oracle://x"), None);
    }
}
