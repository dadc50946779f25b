//! Fixtures for the PostgreSQL adapter's tests: a fresh database per test on the server named
//! by `ARCANA_TEST_POSTGRES_URL`, dropped afterwards, and domain values.
//!
//! The server is shared with other suites, so a test never assumes it owns it: it creates
//! `arcana_t_<uuid>` and drops it (`WITH (FORCE)`) when done. Without the variable the tests are
//! skipped with a printed reason, unless `ARCANA_TEST_REQUIRE_SERVICES=1`, which makes a skip
//! (or an unreachable server) a failure.

use std::time::Duration;

use arcana_adapter_postgres::{PoolSettings, PostgresStore};
use arcana_domain::{Email, NewUser, PasswordHash, Role, Status, User, Username};
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

const ADMIN_URL_VAR: &str = "ARCANA_TEST_POSTGRES_URL";

/// A migrated store on its own database, dropped with this value.
pub struct TestDb {
    pub store: PostgresStore,
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
            eprintln!("skipped: PostgreSQL adapter test ({ADMIN_URL_VAR} is unset)");
            return None;
        };
        let name = format!("arcana_t_{}", uuid::Uuid::now_v7().simple());
        admin(&admin_url, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|err| panic!("cannot create a test database: {err}"));
        let url = with_database(&admin_url, &name);
        let store = PostgresStore::connect_lazy(&url, &PoolSettings::default())
            .expect("a valid PostgreSQL URL");
        Some(Self {
            store,
            url,
            admin_url,
            name,
        })
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
            let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(err) = runtime.block_on(admin(&admin_url, &statement)) {
                eprintln!("warning: could not drop test database {name}: {err}");
            }
        });
        let _ = cleanup.join();
    }
}

/// Runs one statement on the admin connection, within a bound so a dead server fails the test
/// instead of hanging it.
async fn admin(admin_url: &str, statement: &str) -> Result<(), String> {
    let run = async {
        let mut conn = PgConnection::connect(admin_url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        conn.close().await.map_err(|e| e.to_string())
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// `url` with its path (the database name) replaced, keeping credentials, host and query.
fn with_database(url: &str, name: &str) -> String {
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

/// A time with whole microseconds, the precision PostgreSQL stores.
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
        with_database("postgres://u:p@h:5432/test", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://h/test?sslmode=disable", "x"),
        "postgres://h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
