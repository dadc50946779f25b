//! Throwaway databases on the local PostgreSQL and MariaDB services, one per test.
//!
//! The services are shared (other suites, other projects), so a test never assumes it owns
//! them: it creates a uniquely named database, uses it, and drops it when the guard goes.
//! URLs come from `ARCANA_TEST_POSTGRES_URL` / `ARCANA_TEST_MYSQL_URL`. Without a URL, a
//! container is started (once per test process, with testcontainers) when a Docker daemon
//! answers; otherwise the suite is skipped with a printed reason — unless
//! `ARCANA_TEST_REQUIRE_SERVICES=1` (set by CI), which turns every skip into a failure.

use std::fmt;
use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use sqlx::Connection as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postgres,
    Mysql,
}

impl Service {
    fn env_var(self) -> &'static str {
        match self {
            Self::Postgres => "ARCANA_TEST_POSTGRES_URL",
            Self::Mysql => "ARCANA_TEST_MYSQL_URL",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        })
    }
}

/// Whether skips must fail instead.
pub fn services_required() -> bool {
    std::env::var("ARCANA_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A database that exists until this value is dropped.
pub struct TestDatabase {
    pub service: Service,
    /// URL of the new database, for adapters and servers.
    pub url: String,
    /// URL of the server's administrative database, for out-of-band statements.
    pub admin_url: String,
    /// The database's name (`arcana_t_<uuid>`), e.g. to find its server connections.
    pub name: String,
}

impl TestDatabase {
    /// Creates a fresh database on `service`, or returns `None` (after printing why) when the
    /// service is not configured. Panics when it is configured but unreachable, or when
    /// services are required.
    pub async fn create(service: Service) -> Option<Self> {
        let admin_url = match std::env::var(service.env_var()) {
            Ok(url) => url,
            Err(_) => match containers::admin_url(service).await {
                Ok(url) => url,
                Err(reason) => {
                    assert!(
                        !services_required(),
                        "{} is unset, no container could be started ({reason}), and \
                         ARCANA_TEST_REQUIRE_SERVICES=1",
                        service.env_var()
                    );
                    eprintln!(
                        "skipped: {service} suite ({} is unset; {reason})",
                        service.env_var()
                    );
                    return None;
                }
            },
        };
        let name = format!("arcana_t_{}", uuid::Uuid::now_v7().simple());
        let run = async {
            match service {
                Service::Postgres => {
                    postgres_admin(&admin_url, &format!("CREATE DATABASE {name}")).await
                }
                Service::Mysql => {
                    mysql_admin(
                        &admin_url,
                        &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
                    )
                    .await
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| Err(format!("{service}: timed out")))
            .unwrap_or_else(|err| panic!("cannot create a test database on {service}: {err}"));
        let url = with_database(&admin_url, &name);
        Some(Self {
            service,
            url,
            admin_url,
            name,
        })
    }
}

/// Replaces the path (database name) of `url`, keeping credentials, host and query.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

async fn postgres_admin(admin_url: &str, statement: &str) -> Result<(), String> {
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    conn.close().await.map_err(|e| e.to_string())
}

async fn mysql_admin(admin_url: &str, statement: &str) -> Result<(), String> {
    let opts = mysql_async::Opts::from_url(&admin_url.replacen("mariadb://", "mysql://", 1))
        .map_err(|e| e.to_string())?;
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|e| e.to_string())?;
    conn.query_drop(statement)
        .await
        .map_err(|e| e.to_string())?;
    conn.disconnect().await.map_err(|e| e.to_string())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (service, admin_url, name) = (self.service, self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a short-lived thread
        // with its own runtime does the cleanup and is waited for.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let statement = match service {
                    Service::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    Service::Mysql => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let outcome = match service {
                    Service::Postgres => postgres_admin(&admin_url, &statement).await,
                    Service::Mysql => mysql_admin(&admin_url, &statement).await,
                };
                if let Err(err) = outcome {
                    eprintln!("warning: could not drop test database {name} on {service}: {err}");
                }
            });
            Some(())
        });
        let _ = cleanup.join();
    }
}

/// Throwaway servers in containers, for machines with Docker and no configured service.
mod containers {
    use testcontainers_modules::mariadb::Mariadb;
    use testcontainers_modules::postgres::Postgres;
    use testcontainers_modules::testcontainers::ContainerAsync;
    use testcontainers_modules::testcontainers::runners::AsyncRunner as _;
    use tokio::sync::OnceCell;

    use super::Service;

    /// One container per service per test process, started on first use and left to
    /// testcontainers' reaper at exit; every test still gets its own database inside it.
    static POSTGRES: OnceCell<Result<(ContainerAsync<Postgres>, String), String>> =
        OnceCell::const_new();
    static MARIADB: OnceCell<Result<(ContainerAsync<Mariadb>, String), String>> =
        OnceCell::const_new();

    fn docker_available() -> bool {
        std::env::var_os("DOCKER_HOST").is_some()
            || std::path::Path::new("/var/run/docker.sock").exists()
    }

    pub(super) async fn admin_url(service: Service) -> Result<String, String> {
        if !docker_available() {
            return Err("no Docker daemon for a container".into());
        }
        let started = match service {
            Service::Postgres => POSTGRES
                .get_or_init(|| start(Postgres::default(), 5432, "postgres://postgres:postgres"))
                .await
                .as_ref()
                .map(|(_, url)| url.clone()),
            Service::Mysql => MARIADB
                .get_or_init(|| start(Mariadb::default(), 3306, "mysql://root"))
                .await
                .as_ref()
                .map(|(_, url)| url.clone()),
        };
        started.map_err(Clone::clone)
    }

    async fn start<I: testcontainers_modules::testcontainers::Image>(
        image: I,
        port: u16,
        prefix: &str,
    ) -> Result<(ContainerAsync<I>, String), String> {
        let container = image
            .start()
            .await
            .map_err(|e| format!("container did not start: {e}"))?;
        let host = container.get_host().await.map_err(|e| e.to_string())?;
        let mapped = container
            .get_host_port_ipv4(port)
            .await
            .map_err(|e| e.to_string())?;
        let database = if prefix.starts_with("postgres") {
            "postgres"
        } else {
            "test"
        };
        Ok((container, format!("{prefix}@{host}:{mapped}/{database}")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_replaces_only_the_path() {
        assert_eq!(
            super::with_database("postgres://u:p@h:5432/test", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            super::with_database("mysql://root@127.0.0.1:3306/test?ssl=0", "x"),
            "mysql://root@127.0.0.1:3306/x?ssl=0"
        );
        assert_eq!(
            super::with_database("mysql://root@h", "x"),
            "mysql://root@h/x"
        );
    }
}
