//! The connection pool: URL handling, how each connection is opened, and checking one out.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use arcana_ports::StoreError;
use diesel::ConnectionError;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, bb8};
use diesel_async::{AsyncConnection as _, AsyncMysqlConnection, RunQueryDsl as _};

use crate::error::pool_error;

pub(crate) type Pool = bb8::Pool<AsyncMysqlConnection>;
pub(crate) type Connection<'a> = bb8::PooledConnection<'a, AsyncMysqlConnection>;

/// A fixed `sql_mode`, whatever the server's default: strict, so that a value too long for its
/// column is an error rather than silently truncated, and no engine substitution, so that the
/// migration fails loudly if InnoDB (row locks, transactions) is unavailable. It also drops
/// modes that would change how statements parse (`ANSI_QUOTES`, `NO_BACKSLASH_ESCAPES`).
const SESSION_SQL_MODE: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

/// Builds the pool without opening a connection: connections are opened on first use (and a
/// failure then surfaces as `Unavailable`), so a server can start while its database is down.
/// Must be called inside a Tokio runtime (bb8 spawns its reaper task).
pub(crate) fn build(url: String, max_connections: u32, acquire_timeout: Duration) -> Pool {
    // bb8 panics on a zero size or timeout.
    let acquire_timeout = acquire_timeout.max(Duration::from_millis(1));
    let mut config = ManagerConfig::default();
    // Also bounds connecting, so that a black-holed server cannot leave connection attempts
    // hanging for the operating system's TCP timeout.
    config.custom_setup = Box::new(move |url| Box::pin(establish(url, acquire_timeout)));
    // The default recycling method (`Verified`) pings a connection before handing it out, which
    // is what discards connections a server restart or a network cut has killed: mysql_async
    // cannot tell them apart otherwise, and the pool would hand them out forever.
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    Pool::builder()
        .max_size(max_connections.max(1))
        .connection_timeout(acquire_timeout)
        .build_unchecked(manager)
}

/// A connection from the pool, or `Unavailable` once the acquire timeout has passed.
pub(crate) async fn connection<'a>(
    pool: &'a Pool,
    doing: &'static str,
) -> Result<Connection<'a>, StoreError> {
    pool.get().await.map_err(|err| pool_error(err, doing))
}

type Establishing<'a> =
    Pin<Box<dyn Future<Output = Result<AsyncMysqlConnection, ConnectionError>> + Send + 'a>>;

fn establish(url: &str, timeout: Duration) -> Establishing<'_> {
    let open = async move {
        let mut conn = AsyncMysqlConnection::establish(url).await?;
        diesel::sql_query(SESSION_SQL_MODE)
            .execute(&mut conn)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    };
    Box::pin(async move {
        let outcome = tokio::time::timeout(timeout, open)
            .await
            .unwrap_or_else(|_| Err(ConnectionError::BadConnection("connect timed out".into())));
        if let Err(err) = &outcome {
            log_connect_failure(err);
        }
        outcome
    })
}

/// The pool reports only "timed out" to its callers, so the reason a connection could not be
/// opened is logged here. Refusals by the server (wrong password, unknown database, too many
/// connections) and bad URLs need an operator and are warnings; an unreachable server is already
/// visible as failing readiness, and retries would repeat the line every few hundred ms.
/// mysql_async's messages name the user and host, never the password.
fn log_connect_failure(err: &ConnectionError) {
    if let ConnectionError::BadConnection(_) = err {
        tracing::debug!(error = %err, "cannot connect to MySQL");
    } else {
        tracing::warn!(error = %err, "MySQL refused the connection");
    }
}

/// The URL mysql_async accepts, from a `mysql://` or `mariadb://` one; checked here so that a
/// malformed URL is refused at start-up instead of failing every connection attempt. The error
/// never quotes the URL, which may hold a password. mysql_async validates query parameters when
/// it connects.
pub(crate) fn driver_url(url: &str) -> Result<String, StoreError> {
    let invalid = |why: &str| StoreError::Other(anyhow::anyhow!("invalid MySQL URL: {why}"));
    let rest = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))
        .ok_or_else(|| invalid("the scheme must be mysql:// or mariadb://"))?;
    let before_query = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, database) = before_query.split_once('/').unwrap_or((before_query, ""));
    if database.contains('/') {
        return Err(invalid("the path must be a single database name"));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let port = match host_port.rsplit_once(':') {
        // An IPv6 literal without a port: its colons are inside the brackets.
        Some((host, _)) if host.starts_with('[') && !host.ends_with(']') => None,
        Some((host, port)) if !host.is_empty() => Some(port),
        Some(_) => return Err(invalid("the host is missing")),
        None if host_port.is_empty() => return Err(invalid("the host is missing")),
        None => None,
    };
    if port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return Err(invalid("the port must be a number up to 65535"));
    }
    Ok(format!("mysql://{rest}"))
}

#[cfg(test)]
mod tests {
    use super::driver_url;

    #[test]
    fn mariadb_urls_are_rewritten_for_the_driver() {
        assert_eq!(
            driver_url("mariadb://u:p@h:3306/db?x=1").unwrap(),
            "mysql://u:p@h:3306/db?x=1"
        );
        assert_eq!(driver_url("mysql://h/db").unwrap(), "mysql://h/db");
        assert_eq!(driver_url("mysql://[::1]/db").unwrap(), "mysql://[::1]/db");
        assert!(driver_url("mysql://u:p@[::1]:3307/db").is_ok());
    }

    #[test]
    fn malformed_urls_are_refused_without_echoing_them() {
        for url in [
            "postgres://h/db",
            "mysql://h:notaport/db",
            "mysql://u:secret@h:99999/db",
            "mysql:///db",
            "mysql://u:secret@/db",
            "mysql://h/a/b",
        ] {
            let err = driver_url(url).expect_err(url);
            assert!(!format!("{err:?}").contains("secret"), "{err:?}");
        }
    }
}
