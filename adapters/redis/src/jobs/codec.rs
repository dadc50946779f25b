//! A job record as the fields of its Redis hash, and back. Times are microseconds since the
//! epoch, written as integers so that Lua compares them without losing digits.

use std::collections::HashMap;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{
    Backoff, JobName, JobRecord, JobSpec, JobState, Priority, QueueName, RetryPolicy, UniqueKey,
};
use arcana_ports::jobs::QueueError;
use chrono::{DateTime, TimeDelta, Utc};

/// Tags are stored joined by the ASCII unit separator, which no sensible tag contains.
const TAG_SEPARATOR: char = '\u{1f}';

pub(crate) fn micros(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

pub(crate) fn millis(span: TimeDelta) -> String {
    span.num_milliseconds().max(1).to_string()
}

fn backoff_name(backoff: Backoff) -> &'static str {
    match backoff {
        Backoff::Fixed => "fixed",
        Backoff::Linear => "linear",
        Backoff::Exponential => "exponential",
    }
}

/// The definition fields of a spec (not the life-cycle fields), as `HSET` arguments.
pub(crate) fn spec_fields(spec: &JobSpec) -> Vec<(&'static str, Vec<u8>)> {
    let text = |s: &str| s.as_bytes().to_vec();
    let (unique_key, unique_window) = spec.unique().map_or((String::new(), String::new()), |u| {
        (u.key.clone(), millis(u.window))
    });
    vec![
        ("name", text(spec.name().as_str())),
        ("queue", text(spec.queue().as_str())),
        ("payload", spec.payload().to_vec()),
        ("priority", text(&spec.priority().rank().to_string())),
        (
            "run_at",
            text(&spec.run_at().map(micros).unwrap_or_default()),
        ),
        ("max_attempts", text(&spec.retry().max_attempts.to_string())),
        ("backoff", text(backoff_name(spec.retry().backoff))),
        ("base_delay_ms", text(&millis(spec.retry().base_delay))),
        ("max_delay_ms", text(&millis(spec.retry().max_delay))),
        ("jitter", text(if spec.retry().jitter { "1" } else { "0" })),
        ("timeout_ms", text(&millis(spec.timeout()))),
        ("unique_key", text(&unique_key)),
        ("unique_window_ms", text(&unique_window)),
        ("tags", text(&spec.tags().join(&TAG_SEPARATOR.to_string()))),
        ("correlation_id", text(spec.correlation_id().unwrap_or(""))),
        ("traceparent", text(spec.trace_context().unwrap_or(""))),
    ]
}

fn corrupt(what: &str) -> QueueError {
    QueueError::Other(anyhow::anyhow!("a stored job has a malformed {what}"))
}

pub(crate) struct Fields(pub(crate) HashMap<String, Vec<u8>>);

impl Fields {
    pub(crate) fn text(&self, key: &str) -> Result<&str, QueueError> {
        let raw = self.0.get(key).ok_or_else(|| corrupt(key))?;
        std::str::from_utf8(raw).map_err(|_| corrupt(key))
    }

    pub(crate) fn optional(&self, key: &str) -> Result<Option<&str>, QueueError> {
        Ok(Some(self.text(key)?).filter(|s| !s.is_empty()))
    }

    /// A field that records written by an older version lack: absent reads as empty.
    fn added_later(&self, key: &str) -> Result<Option<&str>, QueueError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(_) => self.optional(key),
        }
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, QueueError> {
        self.text(key)?.parse().map_err(|_| corrupt(key))
    }

    pub(crate) fn time(&self, key: &str) -> Result<DateTime<Utc>, QueueError> {
        DateTime::from_timestamp_micros(self.number(key)?).ok_or_else(|| corrupt(key))
    }

    fn span(&self, key: &str) -> Result<TimeDelta, QueueError> {
        Ok(TimeDelta::milliseconds(self.number(key)?))
    }
}

fn parse_priority(rank: u8) -> Result<Priority, QueueError> {
    Priority::from_rank(rank).ok_or_else(|| corrupt("priority"))
}

fn parse_state(raw: &str) -> Result<JobState, QueueError> {
    JobState::parse(raw).map_err(|_| corrupt("state"))
}

fn parse_backoff(raw: &str) -> Result<Backoff, QueueError> {
    Ok(match raw {
        "fixed" => Backoff::Fixed,
        "linear" => Backoff::Linear,
        "exponential" => Backoff::Exponential,
        _ => return Err(corrupt("backoff")),
    })
}

pub(crate) fn decode_spec(f: &Fields) -> Result<JobSpec, QueueError> {
    let unique = match f.optional("unique_key")? {
        Some(key) => Some(UniqueKey {
            key: key.to_owned(),
            window: f.span("unique_window_ms")?,
        }),
        None => None,
    };
    let name = JobName::parse(f.text("name")?).map_err(|_| corrupt("name"))?;
    let queue = QueueName::parse(f.text("queue")?).map_err(|_| corrupt("queue"))?;
    let payload = f.0.get("payload").cloned().unwrap_or_default();
    Ok(JobSpec::new(name, payload)
        .with_queue(queue)
        .with_priority(parse_priority(f.number("priority")?)?)
        .with_run_at(
            f.optional("run_at")?
                .map(|_| f.time("run_at"))
                .transpose()?,
        )
        .with_retry(RetryPolicy {
            max_attempts: f.number("max_attempts")?,
            backoff: parse_backoff(f.text("backoff")?)?,
            base_delay: f.span("base_delay_ms")?,
            max_delay: f.span("max_delay_ms")?,
            jitter: f.text("jitter")? == "1",
        })
        .with_timeout(f.span("timeout_ms")?)
        .with_unique(unique)
        .with_tags(
            f.optional("tags")?
                .map(|t| t.split(TAG_SEPARATOR).map(str::to_owned).collect())
                .unwrap_or_default(),
        )
        .with_correlation_id(f.optional("correlation_id")?.map(str::to_owned))
        .with_trace_context(f.added_later("traceparent")?.map(str::to_owned)))
}

/// The token and expiry of a job's current delivery.
pub(crate) type HeldLease = Option<(String, DateTime<Utc>)>;

/// A record from its hash, with the current lease when it is active.
pub(crate) fn decode(raw: HashMap<String, Vec<u8>>) -> Result<(JobRecord, HeldLease), QueueError> {
    let f = Fields(raw);
    let id = JobId::parse(f.text("id")?).map_err(|_| corrupt("id"))?;
    let lease = match f.optional("lease")? {
        Some(token) => Some((token.to_owned(), f.time("lease_expires")?)),
        None => None,
    };
    let record = JobRecord {
        id,
        spec: decode_spec(&f)?,
        state: parse_state(f.text("state")?)?,
        attempt: f.number("attempt")?,
        created_at: f.time("created_at")?,
        updated_at: f.time("updated_at")?,
        last_error: f.optional("last_error")?.map(str::to_owned),
    };
    Ok((record, lease))
}
