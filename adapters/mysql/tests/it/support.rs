//! Fixtures for the MySQL adapter's tests: a fresh database per test on the server named by
//! `ARCANA_TEST_MYSQL_URL`, dropped afterwards, and domain values.
//!
//! The server is shared with other suites, so a test never assumes it owns it: it creates
//! `arcana_t_<uuid>` and drops it when done. Without the variable the tests are skipped with a
//! printed reason, unless `ARCANA_TEST_REQUIRE_SERVICES=1`, which makes a skip (or an
//! unreachable server) a failure.

use std::time::Duration;

use arcana_adapter_mysql::{MysqlStore, PoolSettings};
use arcana_domain::{Email, NewUser, PasswordHash, Role, Status, User, Username};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text, Unsigned};
use diesel_async::{AsyncConnection as _, AsyncMysqlConnection, RunQueryDsl as _};

const ADMIN_URL_VAR: &str = "ARCANA_TEST_MYSQL_URL";

#[derive(QueryableByName)]
struct Process {
    #[diesel(sql_type = Unsigned<BigInt>)]
    id: u64,
}

/// A migrated store on its own database, dropped with this value.
pub struct TestDb {
    pub store: MysqlStore,
    pub url: String,
    admin_url: String,
    name: String,
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
        let Ok(admin_url) = std::env::var(ADMIN_URL_VAR) else {
            assert!(
                std::env::var("ARCANA_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{ADMIN_URL_VAR} is unset and ARCANA_TEST_REQUIRE_SERVICES=1"
            );
            eprintln!("skipped: MySQL adapter test ({ADMIN_URL_VAR} is unset)");
            return None;
        };
        let name = format!("arcana_t_{}", uuid::Uuid::now_v7().simple());
        // The name is ours (hex digits only); identifiers cannot be bound as parameters.
        admin(&admin_url, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|err| panic!("cannot create a test database: {err}"));
        let url = with_database(&admin_url, &name);
        let store =
            MysqlStore::connect_lazy(&url, &PoolSettings::default()).expect("a valid MySQL URL");
        Some(Self {
            store,
            url,
            admin_url,
            name,
        })
    }

    /// Kills every server connection to this test's database, as a server restart would.
    pub async fn kill_connections(&self) {
        let mut conn =
            AsyncMysqlConnection::establish(&self.admin_url.replacen("mariadb://", "mysql://", 1))
                .await
                .expect("an admin connection");
        let victims: Vec<Process> = diesel::sql_query(
            "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        )
        .bind::<Text, _>(&self.name)
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

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with its own
        // runtime does the cleanup, and is waited for.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for cleanup");
            let statement = format!("DROP DATABASE IF EXISTS {name}");
            if let Err(err) = runtime.block_on(admin(&admin_url, &statement)) {
                eprintln!("warning: could not drop test database {name}: {err}");
            }
        });
        let _ = cleanup.join();
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

/// `url` with its path (the database name) replaced, keeping credentials, host and query.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let root = base[authority..]
        .find('/')
        .map_or(base, |slash| &base[..authority + slash]);
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A time with whole microseconds, the precision `DATETIME(6)` stores.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn user(username: &str) -> User {
    User::register(
        NewUser {
            username: Username::parse(username).unwrap(),
            email: Email::parse(&format!("{username}@example.com")).unwrap(),
            display_name: None,
            password_hash: PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA")
                .unwrap(),
            role: Role::User,
            status: Status::Active,
        },
        now(),
    )
}

#[test]
fn the_database_name_replaces_only_the_path() {
    assert_eq!(
        with_database("mysql://u:p@h:3306/test", "x"),
        "mysql://u:p@h:3306/x"
    );
    assert_eq!(
        with_database("mariadb://h/test?prefer_socket=false", "x"),
        "mariadb://h/x?prefer_socket=false"
    );
    assert_eq!(with_database("mysql://h", "x"), "mysql://h/x");
}
