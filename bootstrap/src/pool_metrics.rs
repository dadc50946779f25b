//! `arcana_db_pool_*`: the database connection pool, read at each scrape (no sampling task).

use arcana_ports::health::PoolUsage;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts};

type Reading = Box<dyn Fn() -> PoolUsage + Send + Sync>;

struct PoolCollector {
    read: Reading,
    connections: IntGaugeVec,
    max: IntGauge,
    waited: IntCounter,
    timed_out: IntCounter,
    counts_waits: bool,
}

/// Registers the pool metrics of the database `read` describes on `registry`.
pub(crate) fn register(registry: &prometheus::Registry, read: Reading) -> prometheus::Result<()> {
    let counts_waits = read().waited.is_some();
    let collector = PoolCollector {
        read,
        connections: IntGaugeVec::new(
            Opts::new(
                "arcana_db_pool_connections",
                "Open database connections, by state (in_use, idle)",
            ),
            &["state"],
        )?,
        max: IntGauge::new(
            "arcana_db_pool_max_connections",
            "The pool's bound on open connections (database.max_connections)",
        )?,
        waited: IntCounter::new(
            "arcana_db_pool_waits_total",
            "Connection acquisitions that had to wait for one (MySQL/MariaDB)",
        )?,
        timed_out: IntCounter::new(
            "arcana_db_pool_timeouts_total",
            "Connection acquisitions that gave up after database.acquire_timeout_secs (MySQL/MariaDB)",
        )?,
        counts_waits,
    };
    registry.register(Box::new(collector))
}

/// Sets `counter` to `total`, a count the pool keeps since start.
fn set_total(counter: &IntCounter, total: u64) {
    let seen = counter.get();
    if total >= seen {
        counter.inc_by(total - seen);
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.connections.desc();
        descs.extend(self.max.desc());
        if self.counts_waits {
            descs.extend(self.waited.desc());
            descs.extend(self.timed_out.desc());
        }
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let usage = (self.read)();
        let in_use = usage.open.saturating_sub(usage.idle);
        self.connections
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.connections
            .with_label_values(&["idle"])
            .set(i64::from(usage.idle));
        self.max.set(i64::from(usage.max));
        let mut families = self.connections.collect();
        families.extend(self.max.collect());
        if self.counts_waits {
            set_total(&self.waited, usage.waited.unwrap_or_default());
            set_total(&self.timed_out, usage.timed_out.unwrap_or_default());
            families.extend(self.waited.collect());
            families.extend(self.timed_out.collect());
        }
        families
    }
}
