//! Fixtures for the PostgreSQL adapter's tests: a fresh database per test, made and dropped by the
//! workspace harness (`arcana_tests::databases`, which also decides whether a missing server
//! is a skip or a failure), and domain values.

use arcana_adapter_postgres::{PoolSettings, PostgresStore};
use arcana_tests::databases::{Service, TestDatabase};
pub use arcana_tests::fixtures::user;

/// A store on its own throwaway database (the workspace harness creates and drops it).
pub struct TestDb {
    pub store: PostgresStore,
    pub url: String,
    _database: TestDatabase,
}

impl TestDb {
    /// A fresh, migrated database, or `None` (after saying why) when no server is configured.
    pub async fn fresh() -> Option<Self> {
        let db = Self::unmigrated().await?;
        db.store
            .migrate()
            .await
            .expect("migrations apply to a fresh database");
        Some(db)
    }

    pub async fn unmigrated() -> Option<Self> {
        let database = TestDatabase::create(Service::Postgres).await?;
        let store = PostgresStore::connect_lazy(&database.url, &PoolSettings::default())
            .expect("a valid PostgreSQL URL");
        Some(Self {
            store,
            url: database.url.clone(),
            _database: database,
        })
    }
}
