//! The MySQL store's own behaviour: URLs, migrations, health, error classification.

use std::time::Duration;

use arcana_adapter_mysql::{MysqlStore, PoolSettings};
use arcana_domain::UserId;
use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::users::UserRepository;

use crate::support::{TestDb, user};

#[tokio::test]
async fn migrations_are_pending_until_applied_and_applying_twice_is_harmless() {
    let Some(db) = TestDb::unmigrated().await else {
        return;
    };
    assert_eq!(
        db.store.pending_migrations().await.unwrap(),
        ["0001_initial", "0002_plugin_kv"]
    );
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    assert!(db.store.pending_migrations().await.unwrap().is_empty());
    assert_eq!(
        db.store.check().await,
        Health::Up {
            detail: "mysql".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_together_both_succeed_one_after_the_other() {
    let Some(db) = TestDb::unmigrated().await else {
        return;
    };
    let other = MysqlStore::connect_lazy(&db.url, &PoolSettings::default()).unwrap();
    let (first, second) = tokio::join!(db.store.migrate(), other.migrate());
    first.unwrap();
    second.unwrap();
    assert!(db.store.pending_migrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_mariadb_url_reaches_the_same_database() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let alice = user("alice");
    db.store.users().insert(&alice).await.unwrap();
    let url = db.url.replacen("mysql://", "mariadb://", 1);
    let store = MysqlStore::connect_lazy(&url, &PoolSettings::default()).unwrap();
    assert_eq!(
        store.users().find_by_id(alice.id()).await.unwrap(),
        Some(alice)
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused_without_connecting_or_echoing_it() {
    for url in ["mysql://u:secret@h:notaport/db", "postgres://u:secret@h/db"] {
        let outcome = MysqlStore::connect_lazy(url, &PoolSettings::default());
        let Err(err @ StoreError::Other(_)) = outcome else {
            panic!("{url} accepted");
        };
        assert!(!format!("{err:?}").contains("secret"), "{err:?}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_down_and_unavailable_without_leaking_its_address() {
    // Nothing listens on port 1 of the loopback: connections are refused at once.
    let settings = PoolSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(1),
    };
    let store = MysqlStore::connect_lazy("mysql://u:secret@127.0.0.1:1/db", &settings).unwrap();
    match store.check().await {
        Health::Down { reason } => {
            assert!(!reason.contains("secret") && !reason.contains("127.0.0.1"));
        }
        up @ Health::Up { .. } => panic!("{up:?}"),
    }
    let outcome = store.users().find_by_id(UserId::generate()).await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
    let outcome = store.migrate().await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn connections_the_server_killed_are_replaced_without_failing_a_request() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let users = db.store.users();
    let alice = user("alice");
    users.insert(&alice).await.unwrap();
    db.kill_connections().await;
    // The pool pings a connection before handing it out and replaces a dead one.
    assert_eq!(users.find_by_id(alice.id()).await.unwrap(), Some(alice));
}

#[tokio::test]
async fn a_stored_value_the_domain_refuses_is_an_error_not_a_default() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let alice = user("alice");
    db.store.users().insert(&alice).await.unwrap();
    db.execute("UPDATE users SET role = 'root'").await;
    let outcome = db.store.users().find_by_id(alice.id()).await;
    assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
}

#[tokio::test]
async fn a_value_too_long_for_its_column_is_refused_not_truncated() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    // The adapter's sessions run in strict mode whatever the server's default, where MySQL
    // would store a shortened value with only a warning.
    let outcome = arcana_ports::sessions::SessionStore::deny_access_token(
        &db.store.sessions(),
        &"x".repeat(300),
        chrono::Utc::now(),
    )
    .await;
    assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
}
