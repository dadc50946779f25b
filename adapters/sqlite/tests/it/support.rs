//! Fixtures for the SQLite adapter's tests: a fresh database file per test, and domain values.

use std::path::PathBuf;

use arcana_adapter_sqlite::{PoolSettings, SqliteStore};
pub use arcana_tests::fixtures::{now, session, user};

/// A migrated store on its own file, removed (with its WAL companions) when dropped.
pub struct TestDb {
    pub store: SqliteStore,
    pub path: PathBuf,
}

impl TestDb {
    pub async fn fresh() -> Self {
        let db = Self::unmigrated();
        db.store
            .migrate()
            .await
            .expect("migrations apply to a fresh file");
        db
    }

    pub fn unmigrated() -> Self {
        let path = temp_path("db");
        let store = SqliteStore::connect_lazy(&url(&path), &PoolSettings::default())
            .expect("a valid SQLite URL");
        Self { store, path }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn temp_path(extension: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "arcana-sqlite-test-{}.{extension}",
        uuid::Uuid::now_v7().simple()
    ))
}

pub fn url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}
