//! Fixtures for the SQLite adapter's tests: a fresh database file per test, and domain values.

use std::path::PathBuf;

use arcana_adapter_sqlite::{PoolSettings, SqliteStore};
use arcana_domain::session::{ClientInfo, Session, SessionLifetimes, TokenHash};
use arcana_domain::{Email, NewUser, PasswordHash, Role, Status, User, UserId, Username};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

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

/// A time with whole microseconds, the precision SQLite stores.
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

pub fn hash(seed: char) -> TokenHash {
    TokenHash::parse(&seed.to_string().repeat(64)).unwrap()
}

pub fn lifetimes() -> SessionLifetimes {
    SessionLifetimes {
        idle: TimeDelta::hours(1),
        absolute: TimeDelta::days(1),
    }
}

pub fn session(user: UserId, refresh: char, at: DateTime<Utc>) -> Session {
    let client = ClientInfo {
        user_agent: Some("tests/1.0".into()),
        ip: Some("192.0.2.1".into()),
    };
    Session::start(user, hash(refresh), client, lifetimes(), at)
}
