//! `arcana jobs enqueue|stats`: the queue from an operator's shell.

use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use arcana_adapter_jobs::JobClient;
use arcana_domain::jobs::{JobName, Priority, QueueName};
use chrono::TimeDelta;
use futures_util::StreamExt as _;

use crate::cli::EnqueueArgs;
use crate::config::{JobsBackend, Settings};

/// Jobs sent per `enqueue_many` with `--count`: each batch is one round trip (one script in
/// Redis), large enough to amortise the call, small enough not to hold Redis for long.
const BATCH: u64 = 256;
/// Batches in flight at once, so this process encodes the next while Redis stores one.
const IN_FLIGHT: usize = 4;

/// `500ms`, `10s`, `5m`, `1h`, or plain seconds.
pub(crate) fn parse_delay(raw: &str) -> anyhow::Result<TimeDelta> {
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: i64 = digits
        .parse()
        .with_context(|| format!("--delay: `{raw}` is not a duration"))?;
    Ok(match unit {
        "ms" => TimeDelta::milliseconds(n),
        "" | "s" => TimeDelta::seconds(n),
        "m" => TimeDelta::minutes(n),
        "h" => TimeDelta::hours(n),
        _ => bail!("--delay: unit must be ms, s, m or h"),
    })
}

pub async fn enqueue(settings: &Settings, args: EnqueueArgs) -> anyhow::Result<()> {
    if settings.jobs.backend == JobsBackend::Memory {
        bail!("jobs.backend is memory: jobs enqueued here would die with this command; use redis");
    }
    serde_json::from_str::<serde_json::Value>(&args.payload).context("--payload is not JSON")?;
    let name = JobName::parse(&args.name).map_err(|err| anyhow!("job name: {err}"))?;
    let queue = QueueName::parse(&args.queue).map_err(|err| anyhow!("--queue: {err}"))?;
    let priority = Priority::parse(&args.priority)
        .map_err(|err| anyhow!("--priority: `{}` is not {err}", args.priority))?;
    let delay = args.delay.as_deref().map(parse_delay).transpose()?;
    let parts = crate::jobs::backend(settings)?;
    let client = JobClient::new(parts.queue, parts.clock);
    let template = || {
        let job = client
            .named(name.clone(), args.payload.clone().into_bytes())
            .queue(queue.clone())
            .priority(priority);
        match delay {
            Some(delay) => job.delay(delay),
            None => job,
        }
    };
    let started = Instant::now();
    let sizes = (0..args.count)
        .step_by(usize::try_from(BATCH).unwrap_or(1))
        .map(|first| (args.count - first).min(BATCH));
    let sent = futures_util::stream::iter(sizes)
        .map(|size| {
            let spec = template().build();
            let client = &client;
            async move {
                let spec = spec.map_err(|err| (size, err))?;
                let batch = vec![spec; usize::try_from(size).unwrap_or(0)];
                client
                    .enqueue_many(batch)
                    .await
                    .map(|_| size)
                    .map_err(|err| (size, err))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    let failed: u64 = sent
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|(n, _)| n)
        .sum();
    let took = started.elapsed().as_secs_f64();
    let done = u32::try_from(args.count - failed).unwrap_or(u32::MAX);
    println!(
        "enqueued {} job(s) of {} in {took:.3}s ({:.0}/s)",
        done,
        name,
        f64::from(done) / took.max(1e-9)
    );
    if let Some(Err((_, err))) = sent.into_iter().find(Result::is_err) {
        return Err(anyhow::Error::from(err).context(format!("{failed} enqueue(s) failed")));
    }
    Ok(())
}

pub async fn stats(settings: &Settings) -> anyhow::Result<()> {
    let parts = crate::jobs::backend(settings)?;
    let stats = parts.queue.stats().await.context("reading queue stats")?;
    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "queue", "scheduled", "pending", "active", "completed", "dead"
    );
    for s in stats {
        println!(
            "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10}",
            s.queue, s.scheduled, s.pending, s.active, s.completed, s.dead_lettered
        );
    }
    Ok(())
}
