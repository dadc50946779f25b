//! The read side of [`RedisJobQueue`]: records by id, search over the indexes, counts.

use std::collections::HashMap;

use arcana_domain::jobs::{JobRecord, JobState};
use arcana_ports::jobs::{JobFilter, QueueError, QueueStats, WorkerInfo};
use chrono::{DateTime, TimeDelta, Utc};

use super::{RedisJobQueue, codec, unavailable};

/// Ids read per index when searching, at least (more when the limit is larger).
const SEARCH_SCAN: usize = 1000;

impl RedisJobQueue {
    /// The stored hashes of `ids`, in order, in one pipelined round trip (empty for a job
    /// that is gone).
    pub(super) async fn hashes(
        &self,
        ids: &[String],
        doing: &'static str,
    ) -> Result<Vec<HashMap<String, Vec<u8>>>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HGETALL").arg(self.key(&format!("job:{id}")));
        }
        pipe.query_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, doing))
    }

    pub(super) async fn records(&self, ids: &[String]) -> Result<Vec<JobRecord>, QueueError> {
        self.hashes(ids, "reading jobs")
            .await?
            .into_iter()
            .filter(|fields| !fields.is_empty())
            .map(|fields| codec::decode(fields).map(|(record, _)| record))
            .collect()
    }

    async fn queues(&self) -> Result<Vec<String>, QueueError> {
        let mut queues: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key("queues"))
            .query_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "listing queues"))?;
        queues.sort();
        Ok(queues)
    }

    /// The index keys that may hold jobs matching `filter`.
    async fn indexes(&self, filter: &JobFilter) -> Result<Vec<String>, QueueError> {
        let queues = match &filter.queue {
            Some(queue) => vec![queue.clone()],
            None => self.queues().await?,
        };
        let states: &[&str] = match filter.state {
            Some(JobState::Scheduled) => &["scheduled"],
            Some(JobState::Pending) => &["pending"],
            Some(JobState::Active) => &["active"],
            Some(JobState::Completed) => &["done"],
            Some(JobState::DeadLettered) => &["dead"],
            // Cancelled jobs are in no index; `get` still finds them until they expire.
            Some(JobState::Cancelled) => &[],
            None => &["scheduled", "pending", "active", "done", "dead"],
        };
        Ok(queues
            .iter()
            .flat_map(|q| states.iter().map(move |s| self.key(&format!("{s}:{q}"))))
            .collect())
    }
    pub(super) async fn search_indexes(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<JobRecord>, QueueError> {
        let scan = isize::try_from(filter.limit.max(SEARCH_SCAN)).unwrap_or(isize::MAX);
        let mut found = Vec::new();
        for index in self.indexes(filter).await? {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(&index)
                .arg(0)
                .arg(scan - 1)
                .query_async(&mut self.connection.conn())
                .await
                .map_err(|err| unavailable(&err, "searching jobs"))?;
            let records = self.records(&ids).await?;
            found.extend(records.into_iter().filter(|r| record_matches(r, filter)));
            if found.len() >= filter.limit {
                found.truncate(filter.limit);
                break;
            }
        }
        Ok(found)
    }

    pub(super) async fn count_indexes(&self) -> Result<Vec<QueueStats>, QueueError> {
        let queues = self.queues().await?;
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for queue in &queues {
            for index in ["scheduled", "pending", "active", "done", "dead"] {
                pipe.cmd("ZCARD").arg(self.key(&format!("{index}:{queue}")));
            }
        }
        let counts: Vec<u64> = pipe
            .query_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "counting jobs"))?;
        Ok(queues
            .into_iter()
            .zip(counts.chunks(5))
            .map(|(queue, c)| QueueStats {
                queue,
                scheduled: c[0],
                pending: c[1],
                active: c[2],
                completed: c[3],
                dead_lettered: c[4],
            })
            .collect())
    }
}

fn record_matches(record: &JobRecord, filter: &JobFilter) -> bool {
    filter.state.is_none_or(|s| s == record.state)
        && filter
            .name
            .as_ref()
            .is_none_or(|n| record.spec.name() == n.as_str())
        && filter
            .tag
            .as_ref()
            .is_none_or(|t| record.spec.tags().contains(t))
}

/// Worker presence: `workers` (ZSET id → lapse time, µs) and `worker:{id}` (hash, expiring).
impl RedisJobQueue {
    pub(super) async fn record_worker(
        &self,
        worker: &WorkerInfo,
        ttl: TimeDelta,
    ) -> Result<(), QueueError> {
        let key = self.key(&format!("worker:{}", worker.id));
        let lapse = codec::micros(worker.last_seen + ttl);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HSET")
            .arg(&key)
            .arg("queues")
            .arg(worker.queues.join(","))
            .arg("started_at")
            .arg(codec::micros(worker.started_at))
            .arg("last_seen")
            .arg(codec::micros(worker.last_seen))
            .arg("running")
            .arg(worker.running)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(codec::millis(ttl))
            .ignore()
            .cmd("ZADD")
            .arg(self.key("workers"))
            .arg(lapse)
            .arg(&worker.id)
            .ignore();
        pipe.query_async::<()>(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "recording a worker"))
    }

    pub(super) async fn live_workers(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<WorkerInfo>, QueueError> {
        let mut conn = self.connection.conn();
        let index = self.key("workers");
        // Lapsed workers leave the index here; their hashes expire by themselves.
        let (_, ids): (u64, Vec<String>) = redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&index)
            .arg("-inf")
            .arg(codec::micros(now))
            .cmd("ZRANGE")
            .arg(&index)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "listing workers"))?;
        let mut workers = Vec::new();
        for id in ids {
            let raw: HashMap<String, String> = redis::cmd("HGETALL")
                .arg(self.key(&format!("worker:{id}")))
                .query_async(&mut conn)
                .await
                .map_err(|err| unavailable(&err, "reading a worker"))?;
            if let Some(worker) = worker_info(id, &raw) {
                workers.push(worker);
            }
        }
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(workers)
    }
}

fn worker_info(id: String, raw: &HashMap<String, String>) -> Option<WorkerInfo> {
    let time = |key: &str| DateTime::from_timestamp_micros(raw.get(key)?.parse().ok()?);
    Some(WorkerInfo {
        queues: raw
            .get("queues")?
            .split(',')
            .filter(|q| !q.is_empty())
            .map(str::to_owned)
            .collect(),
        started_at: time("started_at")?,
        last_seen: time("last_seen")?,
        running: raw.get("running")?.parse().ok()?,
        id,
    })
}
