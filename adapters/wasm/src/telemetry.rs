//! Plugin metrics on `/metrics` and the counters the admin API shows.
//!
//! Host-side series are labelled by plugin name (a bounded set: the files in the plugin
//! directory). Series a plugin defines itself are prefixed `arcana_plugin_<name>_` and capped:
//! at most [`MAX_METRICS_PER_PLUGIN`] names and [`MAX_LABEL_SETS`] label sets each, further ones
//! folded into one `other` series, so a plugin cannot exhaust the registry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::PluginCounters;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

pub const MAX_METRICS_PER_PLUGIN: usize = 32;
pub const MAX_LABEL_SETS: usize = 16;

pub struct PluginMetrics {
    registry: Registry,
    calls: IntCounterVec,
    duration: HistogramVec,
    dropped: IntCounterVec,
    transitions: IntCounterVec,
    state: IntGaugeVec,
    custom: Mutex<HashMap<String, Custom>>,
}

struct Custom {
    counter: IntCounterVec,
    label_names: Vec<String>,
    /// The label values seen so far; asking prometheus would create the series.
    label_sets: std::collections::HashSet<Vec<String>>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Trap,
    Timeout,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Trap => "trap",
            Self::Timeout => "timeout",
        }
    }
}

impl PluginMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let calls = IntCounterVec::new(
            Opts::new(
                "arcana_plugin_calls_total",
                "Calls into plugins by hook and outcome.",
            ),
            &["plugin", "hook", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "arcana_plugin_call_duration_seconds",
                "Time spent in plugin calls.",
            )
            .buckets(vec![
                1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2, 0.25, 1.0,
            ]),
            &["plugin", "hook"],
        )?;
        let dropped = IntCounterVec::new(
            Opts::new(
                "arcana_plugin_events_dropped_total",
                "Events not delivered to a plugin, by reason.",
            ),
            &["plugin", "reason"],
        )?;
        let transitions = IntCounterVec::new(
            Opts::new(
                "arcana_plugin_transitions_total",
                "Plugin lifecycle transitions.",
            ),
            &["plugin", "to"],
        )?;
        let state = IntGaugeVec::new(
            Opts::new("arcana_plugin_state", "1 for the state each plugin is in."),
            &["plugin", "state"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(dropped.clone()))?;
        registry.register(Box::new(transitions.clone()))?;
        registry.register(Box::new(state.clone()))?;
        Ok(Self {
            registry: registry.clone(),
            calls,
            duration,
            dropped,
            transitions,
            state,
            custom: Mutex::new(HashMap::new()),
        })
    }

    pub fn call(&self, plugin: &PluginName, hook: &str, outcome: Outcome, elapsed: Duration) {
        self.calls
            .with_label_values(&[plugin.as_str(), hook, outcome.as_str()])
            .inc();
        self.duration
            .with_label_values(&[plugin.as_str(), hook])
            .observe(elapsed.as_secs_f64());
    }

    pub fn dropped(&self, plugin: &PluginName, reason: &str) {
        self.dropped
            .with_label_values(&[plugin.as_str(), reason])
            .inc();
    }

    pub fn transition(&self, plugin: &PluginName, to: &str) {
        self.transitions
            .with_label_values(&[plugin.as_str(), to])
            .inc();
    }

    pub fn set_state(&self, plugin: &PluginName, state: Option<&str>) {
        for candidate in ["enabled", "disabled", "quarantined", "rejected"] {
            let value = i64::from(state == Some(candidate));
            self.state
                .with_label_values(&[plugin.as_str(), candidate])
                .set(value);
        }
    }

    /// A plugin's own counter. Invalid names or label names are ignored (and logged), never an
    /// error for the plugin: metrics must not change what it does.
    pub fn plugin_counter_add(
        &self,
        plugin: &PluginName,
        name: &str,
        value: u64,
        labels: &[(String, String)],
    ) {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if !valid(name) || labels.len() > 4 || labels.iter().any(|(k, _)| !valid(k)) {
            tracing::debug!(
                plugin = plugin.as_str(),
                metric = name,
                "plugin metric ignored: invalid name or labels"
            );
            return;
        }
        let full = format!("arcana_plugin_{}_{name}_total", plugin.metric_part());
        let Ok(mut custom) = self.custom.lock() else {
            return;
        };
        if !custom.contains_key(&full) && !self.register_custom(&mut custom, plugin, &full, labels)
        {
            return;
        }
        let Some(entry) = custom.get_mut(&full) else {
            return;
        };
        if labels.iter().map(|(k, _)| k).ne(entry.label_names.iter()) {
            return;
        }
        let values = entry.bounded_values(labels);
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        entry.counter.with_label_values(&values).inc_by(value);
    }
}

impl PluginMetrics {
    /// Registers a plugin's new counter, within its quota of metrics; false when refused.
    fn register_custom(
        &self,
        custom: &mut HashMap<String, Custom>,
        plugin: &PluginName,
        full: &str,
        labels: &[(String, String)],
    ) -> bool {
        let prefix = format!("arcana_plugin_{}_", plugin.metric_part());
        if custom.keys().filter(|key| key.starts_with(&prefix)).count() >= MAX_METRICS_PER_PLUGIN {
            return false;
        }
        let label_names: Vec<String> = labels.iter().map(|(k, _)| k.clone()).collect();
        let refs: Vec<&str> = label_names.iter().map(String::as_str).collect();
        let Ok(counter) = IntCounterVec::new(Opts::new(full, "Defined by a plugin."), &refs) else {
            return false;
        };
        if self.registry.register(Box::new(counter.clone())).is_err() {
            return false;
        }
        custom.insert(
            full.to_owned(),
            Custom {
                counter,
                label_names,
                label_sets: std::collections::HashSet::new(),
            },
        );
        true
    }
}

impl Custom {
    /// The label values to count under: past `MAX_LABEL_SETS` distinct sets, new ones all
    /// count as `other`, so a plugin cannot grow the metrics output without bound.
    fn bounded_values(&mut self, labels: &[(String, String)]) -> Vec<String> {
        let values: Vec<String> = labels.iter().map(|(_, v)| v.clone()).collect();
        if self.label_sets.contains(&values) {
            values
        } else if self.label_sets.len() < MAX_LABEL_SETS {
            self.label_sets.insert(values.clone());
            values
        } else {
            vec!["other".to_owned(); values.len()]
        }
    }
}

/// Counters for the admin API, lock-free on the call path. Latency goes into power-of-two
/// microsecond buckets, enough for a p50/p99 within a factor of two.
#[derive(Default)]
pub struct CallStats {
    calls: AtomicU64,
    failures: AtomicU64,
    timeouts: AtomicU64,
    traps: AtomicU64,
    dropped: AtomicU64,
    buckets: [AtomicU64; 32],
}

impl CallStats {
    pub fn record(&self, outcome: Outcome, elapsed: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Ok => {}
            Outcome::Trap => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.traps.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Timeout => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let bucket = micros.ilog2() as usize;
        self.buckets[bucket.min(31)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> PluginCounters {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        PluginCounters {
            calls: self.calls.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            dropped_events: self.dropped.load(Ordering::Relaxed),
            latency_p50_us: percentile(&counts, 50),
            latency_p99_us: percentile(&counts, 99),
        }
    }
}

/// The upper bound of the bucket holding the `pct`th percentile.
fn percentile(counts: &[u64], pct: u64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = (total * pct).div_ceil(100);
    let mut seen = 0;
    for (bucket, count) in counts.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return 1u64 << (bucket + 1);
        }
    }
    u64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_outcomes_and_estimate_percentiles() {
        let stats = CallStats::default();
        for _ in 0..98 {
            stats.record(Outcome::Ok, Duration::from_micros(3));
        }
        stats.record(Outcome::Trap, Duration::from_micros(900));
        stats.record(Outcome::Timeout, Duration::from_millis(100));
        let snapshot = stats.snapshot();
        assert_eq!(
            (
                snapshot.calls,
                snapshot.failures,
                snapshot.traps,
                snapshot.timeouts
            ),
            (100, 2, 1, 1)
        );
        assert_eq!(snapshot.latency_p50_us, 4);
        assert_eq!(snapshot.latency_p99_us, 1024);
    }

    #[test]
    fn plugin_metrics_are_prefixed_and_capped() {
        let registry = Registry::new();
        let metrics = PluginMetrics::register(&registry).unwrap();
        let plugin = PluginName::parse("my-plugin").unwrap();
        for i in 0..40 {
            let labels = vec![("kind".to_owned(), format!("k{i}"))];
            metrics.plugin_counter_add(&plugin, "seen", 1, &labels);
        }
        metrics.plugin_counter_add(&plugin, "Bad-Name", 1, &[]);
        let families = registry.gather();
        let seen = families
            .iter()
            .find(|f| f.name() == "arcana_plugin_my_plugin_seen_total")
            .expect("prefixed counter");
        assert_eq!(
            seen.get_metric().len(),
            MAX_LABEL_SETS + 1,
            "16 label sets and `other`"
        );
        assert!(!families.iter().any(|f| f.name().contains("Bad")));
    }
}
