//! The transitions that move many jobs per round trip: enqueueing a batch, and completing
//! finished jobs while claiming the next ones ([`scripts::ENQUEUE`], [`scripts::TURNOVER`]).
//! A job's cost is then a few commands inside a script instead of a script call of its own.

use arcana_domain::ids::JobId;
use arcana_domain::jobs::JobSpec;
use arcana_ports::jobs::{Enqueued, Lease, QueueError, Turnover};
use chrono::{DateTime, TimeDelta, Utc};
use redis::ScriptInvocation;

use super::codec::{self, micros, millis};
#[cfg(doc)]
use super::scripts;
use super::{RedisJobQueue, unavailable};

fn malformed(what: &str) -> QueueError {
    QueueError::Other(anyhow::anyhow!("the queue answered a malformed {what}"))
}

/// One template's arguments to the enqueue script: unique key, window, run-at, queue, priority
/// rank, then the record as `HSET` pairs, state included, id excluded (each job adds its own).
fn push_template(invocation: &mut ScriptInvocation<'_>, spec: &JobSpec, now: DateTime<Utc>) {
    let now_us = micros(now);
    let (unique, window) = spec.unique().map_or((String::new(), String::new()), |u| {
        (u.key.clone(), millis(u.window))
    });
    let run_at = spec
        .run_at()
        .filter(|at| *at > now)
        .map(micros)
        .unwrap_or_default();
    let state: &[u8] = if run_at.is_empty() {
        b"pending"
    } else {
        b"scheduled"
    };
    let mut fields = codec::spec_fields(spec);
    fields.extend([
        ("created_at", now_us.as_bytes().to_vec()),
        ("updated_at", now_us.into_bytes()),
        ("state", state.to_vec()),
        ("attempt", b"0".to_vec()),
        ("last_error", Vec::new()),
        ("lease", Vec::new()),
        ("lease_expires", Vec::new()),
    ]);
    invocation
        .arg(unique)
        .arg(window)
        .arg(run_at)
        .arg(spec.queue().as_str())
        .arg(u32::from(spec.priority().rank()))
        .arg(fields.len());
    for (name, value) in fields {
        invocation.arg(name).arg(value);
    }
}

impl RedisJobQueue {
    pub(super) async fn enqueue_batch(
        &self,
        specs: &[JobSpec],
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, QueueError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        // Runs of equal specs (a bulk enqueue of one job) share a template.
        let mut templates: Vec<&JobSpec> = Vec::new();
        let mut jobs: Vec<(String, usize)> = Vec::with_capacity(specs.len());
        for spec in specs {
            if templates.last().is_none_or(|last| *last != spec) {
                templates.push(spec);
            }
            jobs.push((JobId::generate().to_string(), templates.len()));
        }
        let mut invocation = self.scripts.enqueue.prepare_invoke();
        invocation.arg(self.prefix.as_str()).arg(templates.len());
        for spec in &templates {
            push_template(&mut invocation, spec, now);
        }
        invocation.arg(jobs.len());
        for (id, template) in &jobs {
            invocation.arg(id).arg(*template);
        }
        let answered: Vec<(String, i64)> = invocation
            .invoke_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "enqueueing jobs"))?;
        if answered.len() != specs.len() {
            return Err(malformed("enqueue outcome"));
        }
        answered
            .into_iter()
            .map(|(id, deduplicated)| {
                Ok(Enqueued {
                    id: JobId::parse(&id).map_err(|_| malformed("job id"))?,
                    deduplicated: deduplicated == 1,
                })
            })
            .collect()
    }

    pub(super) async fn turnover(
        &self,
        done: &[Lease],
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Turnover, QueueError> {
        let mut invocation = self.scripts.turnover.prepare_invoke();
        invocation
            .arg(self.prefix.as_str())
            .arg(micros(now))
            .arg(micros(now + lease))
            .arg(worker)
            .arg(max)
            .arg(millis(self.retention.completed))
            .arg(micros(now - self.retention.completed))
            .arg(done.len());
        for held in done {
            invocation.arg(held.job.id.to_string()).arg(&held.token);
        }
        for arg in self.claim_args(queues, now) {
            invocation.arg(arg);
        }
        let (lost, claimed): (Vec<String>, Vec<String>) = invocation
            .invoke_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "completing and claiming jobs"))?;
        let lost = lost
            .iter()
            .map(|id| JobId::parse(id).map_err(|_| malformed("job id")))
            .collect::<Result<_, _>>()?;
        // The claims are made; should this read fail, their leases lapse and the reaper hands
        // the jobs out again.
        let claimed = self
            .hashes(&claimed, "reading claimed jobs")
            .await?
            .into_iter()
            .map(|raw| {
                let (job, held) = codec::decode(raw)?;
                let (token, expires_at) = held.ok_or_else(|| malformed("claim without a lease"))?;
                Ok(Lease {
                    job,
                    token,
                    expires_at,
                })
            })
            .collect::<Result<_, QueueError>>()?;
        Ok(Turnover { lost, claimed })
    }
}
