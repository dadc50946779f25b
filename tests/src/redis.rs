//! A key prefix of its own on the local Redis, per test: the server is shared, so a test never
//! flushes it; it deletes its own keys when the guard goes.

use crate::databases::services_required;

const ENV: &str = "ARCANA_TEST_REDIS_URL";

/// A Redis namespace that exists until this value is dropped.
pub struct TestRedis {
    pub url: String,
    /// `arcana-t-<uuid>:`, to pass as the adapters' key prefix.
    pub prefix: String,
}

impl TestRedis {
    /// A fresh prefix on the configured Redis, or `None` (after printing why) when
    /// `ARCANA_TEST_REDIS_URL` is unset. Panics when services are required and it is unset.
    pub fn create() -> Option<Self> {
        let Ok(url) = std::env::var(ENV) else {
            assert!(
                !services_required(),
                "{ENV} is unset and ARCANA_TEST_REQUIRE_SERVICES=1"
            );
            eprintln!("skipped: redis suite ({ENV} is unset)");
            return None;
        };
        Some(Self {
            url,
            prefix: format!("arcana-t-{}:", uuid::Uuid::now_v7().simple()),
        })
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{}*", self.prefix);
        // SCAN, not KEYS: the server is shared and KEYS blocks it.
        let keys: Vec<String> = match redis::Commands::scan_match(&mut conn, &pattern) {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}
