//! Readiness of Redis, as seen by one role (sessions: required; cache: optional).

use arcana_ports::health::{Health, HealthCheck};
use async_trait::async_trait;

use crate::connection::{RedisConnection, cause};

pub struct RedisHealth {
    connection: RedisConnection,
    name: &'static str,
    required: bool,
}

impl RedisHealth {
    /// `name` is what `/health/ready` calls it (`sessions`, `cache`); `required` says whether
    /// the process can serve without it.
    pub fn new(connection: RedisConnection, name: &'static str, required: bool) -> Self {
        Self {
            connection,
            name,
            required,
        }
    }
}

#[async_trait]
impl HealthCheck for RedisHealth {
    fn name(&self) -> &'static str {
        self.name
    }

    fn required(&self) -> bool {
        self.required
    }

    async fn check(&self) -> Health {
        let mut conn = self.connection.conn();
        match redis::cmd("PING").query_async::<String>(&mut conn).await {
            Ok(_) => Health::Up {
                detail: "redis".to_owned(),
            },
            Err(err) => {
                let reason = cause(&err, "redis did not answer PING");
                tracing::debug!(error = %reason, "redis health check failed");
                Health::Down {
                    reason: "redis unreachable".to_owned(),
                }
            }
        }
    }
}
