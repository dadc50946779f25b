//! The read side of [`RedisJobQueue`]: records by id, search over the indexes, counts.

use std::collections::HashMap;

use arcana_domain::jobs::{JobRecord, JobState};
use arcana_ports::jobs::{JobFilter, QueueError, QueueStats};

use super::{RedisJobQueue, codec, unavailable};

/// Ids read per index when searching, at least (more when the limit is larger).
const SEARCH_SCAN: usize = 1000;

impl RedisJobQueue {
    pub(super) async fn records(&self, ids: &[String]) -> Result<Vec<JobRecord>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HGETALL").arg(self.key(&format!("job:{id}")));
        }
        let raw: Vec<HashMap<String, Vec<u8>>> = pipe
            .query_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "reading jobs"))?;
        raw.into_iter()
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
        && filter.name.as_ref().is_none_or(|n| *n == record.spec.name)
        && filter
            .tag
            .as_ref()
            .is_none_or(|t| record.spec.tags.contains(t))
}
