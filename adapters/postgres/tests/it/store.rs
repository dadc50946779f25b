//! The PostgreSQL store's own behaviour: migrations, health, error classification.

use std::time::Duration;

use arcana_adapter_postgres::{PoolSettings, PostgresStore};
use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::users::UserRepository;
use sqlx::Connection as _;

use crate::support::{TestDb, user};

#[tokio::test]
async fn migrations_are_pending_until_applied_and_applying_twice_is_harmless() {
    let Some(db) = TestDb::unmigrated().await else {
        return;
    };
    assert_eq!(
        db.store.pending_migrations().await.unwrap(),
        ["1_initial", "2_plugin_kv"]
    );
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    assert!(db.store.pending_migrations().await.unwrap().is_empty());
    assert_eq!(
        db.store.check().await,
        Health::Up {
            detail: "postgres".into()
        }
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused_without_connecting() {
    let outcome = PostgresStore::connect_lazy("postgres://h:notaport/db", &PoolSettings::default());
    assert!(matches!(outcome, Err(StoreError::Other(_))));
}

#[tokio::test]
async fn an_unreachable_server_is_down_and_unavailable_without_leaking_its_address() {
    // Nothing listens on port 1 of the loopback: connections are refused at once.
    let settings = PoolSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(1),
    };
    let store =
        PostgresStore::connect_lazy("postgres://u:secret@127.0.0.1:1/db", &settings).unwrap();
    match store.check().await {
        Health::Down { reason } => {
            assert!(!reason.contains("secret") && !reason.contains("127.0.0.1"));
        }
        up @ Health::Up { .. } => panic!("{up:?}"),
    }
    let outcome = store
        .users()
        .find_by_id(arcana_domain::UserId::generate())
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_stored_value_the_domain_refuses_is_an_error_not_a_default() {
    let Some(db) = TestDb::fresh().await else {
        return;
    };
    let alice = user("alice");
    db.store.users().insert(&alice).await.unwrap();
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE users SET role = 'root'")
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    let outcome = db.store.users().find_by_id(alice.id()).await;
    assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
}
