//! One reconnecting Redis connection per process, shared by every Redis adapter.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

/// How the adapters reach Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key and channel, so deployments and test runs can share a server.
    pub key_prefix: String,
    /// Bound on connecting and on each command: a Redis that stops answering costs a request
    /// this much at most before it falls back (cache) or fails with 503 (sessions).
    pub timeout: Duration,
}

/// A cheaply cloneable handle: the connection manager multiplexes every command over one
/// connection and reconnects by itself, so a server that starts with Redis down heals when
/// Redis comes back.
#[derive(Clone)]
pub struct RedisConnection {
    pub(crate) client: Client,
    pub(crate) manager: ConnectionManager,
    pub(crate) prefix: String,
}

impl RedisConnection {
    /// Checks the URL and prepares the connection without connecting.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn connect_lazy(settings: &RedisSettings) -> anyhow::Result<Self> {
        let client = Client::open(settings.url.as_str()).context("parsing the Redis URL")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            // Commands fail fast while Redis is away; the next command reconnects. Retrying
            // inside one command would hold a request for seconds.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .context("preparing the Redis connection")?;
        Ok(Self {
            client,
            manager,
            prefix: settings.key_prefix.clone(),
        })
    }

    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            key.push_str(part);
        }
        key
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }
}

/// Redis errors as a cause: connection details never reach the message (the URL may carry a
/// password), only the kind and Redis's own description.
pub(crate) fn cause(err: &RedisError, doing: &'static str) -> anyhow::Error {
    anyhow::anyhow!(
        "{doing}: {:?}: {}",
        err.kind(),
        err.detail().unwrap_or("no detail")
    )
}
