//! Fixtures for the MySQL adapter's tests: a fresh database per test, made and dropped by the
//! workspace harness (`arcana_tests::databases`, which also decides whether a missing server
//! is a skip or a failure), and domain values.

use std::time::Duration;

use arcana_adapter_mysql::{MysqlStore, PoolSettings};
use arcana_tests::databases::{Service, TestDatabase};
pub use arcana_tests::fixtures::{now, user};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text, Unsigned};
use diesel_async::{AsyncConnection as _, AsyncMysqlConnection, RunQueryDsl as _};

#[derive(QueryableByName)]
struct Process {
    #[diesel(sql_type = Unsigned<BigInt>)]
    id: u64,
}

/// A store on its own throwaway database (the workspace harness creates and drops it).
pub struct TestDb {
    pub store: MysqlStore,
    pub url: String,
    database: TestDatabase,
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
        let database = TestDatabase::create(Service::Mysql).await?;
        let store = MysqlStore::connect_lazy(&database.url, &PoolSettings::default())
            .expect("a valid MySQL URL");
        Some(Self {
            store,
            url: database.url.clone(),
            database,
        })
    }

    /// Kills every server connection to this test's database, as a server restart would.
    pub async fn kill_connections(&self) {
        let mut conn = AsyncMysqlConnection::establish(&self.database.admin_url.replacen(
            "mariadb://",
            "mysql://",
            1,
        ))
        .await
        .expect("an admin connection");
        let victims: Vec<Process> = diesel::sql_query(
            "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        )
        .bind::<Text, _>(&self.database.name)
        .load(&mut conn)
        .await
        .expect("the process list");
        assert!(!victims.is_empty(), "no connection to kill");
        for victim in victims {
            diesel::sql_query(format!("KILL CONNECTION {}", victim.id))
                .execute(&mut conn)
                .await
                .expect("killing a connection");
        }
    }

    /// Runs one statement on this test's database, outside the adapter (to plant bad data).
    pub async fn execute(&self, statement: &str) {
        admin(&self.url, statement)
            .await
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

/// Runs one statement on its own connection, within a bound so a dead server fails the test
/// instead of hanging it.
async fn admin(url: &str, statement: &str) -> Result<(), String> {
    let url = url.replacen("mariadb://", "mysql://", 1);
    let run = async {
        let mut conn = AsyncMysqlConnection::establish(&url)
            .await
            .map_err(|e| e.to_string())?;
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}
