//! The SQLite store's own behaviour: URLs, files, migrations, health and error classification.

use arcana_adapter_sqlite::{PoolSettings, SqliteStore};
use arcana_domain::UserId;
use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::UserRepository;
use sqlx::Connection as _;

use crate::support::{TestDb, now, session, temp_path, url, user};

#[tokio::test]
async fn migrations_are_pending_until_applied_and_applying_twice_is_harmless() {
    let db = TestDb::unmigrated();
    assert_eq!(
        db.store.pending_migrations().await.unwrap(),
        ["1_initial", "2_plugin_kv"]
    );
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    assert!(db.store.pending_migrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn connecting_creates_the_missing_directory_and_the_file_on_first_use() {
    let dir = temp_path("d");
    let file = dir.join("nested").join("arcana.db");
    let store = SqliteStore::connect_lazy(&url(&file), &PoolSettings::default()).unwrap();
    assert!(
        dir.join("nested").is_dir(),
        "the directory exists before any connection"
    );
    store.migrate().await.unwrap();
    assert!(file.is_file());
    assert_eq!(
        store.check().await,
        Health::Up {
            detail: "sqlite".into()
        }
    );
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_is_one_database_for_the_whole_pool() {
    let store = SqliteStore::connect_lazy("sqlite::memory:", &PoolSettings::default()).unwrap();
    store.migrate().await.unwrap();
    let users = store.users();
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let users = users.clone();
            tokio::spawn(async move { users.insert(&user(&format!("mem-{i}"))).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let query = arcana_ports::users::UserQuery {
        after: None,
        limit: 10,
        role: None,
        status: None,
        text: None,
    };
    assert_eq!(users.list(&query).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_malformed_url_is_refused_without_connecting() {
    let outcome =
        SqliteStore::connect_lazy("sqlite://x.db?mode=sideways", &PoolSettings::default());
    assert!(matches!(outcome, Err(StoreError::Other(_))));
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_is_down_and_unavailable() {
    // A directory where the database file should be: SQLite cannot open it.
    let dir = temp_path("d");
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::connect_lazy(&url(&dir), &PoolSettings::default()).unwrap();
    assert!(matches!(store.check().await, Health::Down { .. }));
    let outcome = store
        .sessions()
        .find(session(UserId::generate(), 'a', now()).id())
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_stored_value_the_domain_refuses_is_an_error_not_a_default() {
    let db = TestDb::fresh().await;
    let alice = user("alice");
    db.store.users().insert(&alice).await.unwrap();
    let mut raw = sqlx::SqliteConnection::connect(&url(&db.path))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET role = 'root'")
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    let outcome = db.store.users().find_by_id(alice.id()).await;
    assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
}
