//! `Scheduler` in Redis: each schedule is a hash `{prefix}jobs:schedule:{name}` (cron, time
//! zone, paused flag, last fire time and the job's definition), listed in `jobs:schedules`.

use std::collections::HashMap;

use arcana_ports::jobs::{QueueError, Schedule, Scheduler};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::Script;

use super::codec::{self, Fields, micros};
use crate::connection::RedisConnection;

/// Definition fields are replaced; the paused flag and the last fire time survive a redeploy.
const UPSERT: &str = r"
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('HSETNX', KEYS[1], 'paused', '0')
redis.call('HSETNX', KEYS[1], 'last_fired_at', '')
redis.call('SADD', KEYS[2], ARGV[2])
return 1";

const SET_PAUSED: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'paused', ARGV[1])
return 1";

/// The last fire time only moves forward, whichever process records it.
const MARK_FIRED: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = tonumber(redis.call('HGET', KEYS[1], 'last_fired_at'))
if last and last >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'last_fired_at', ARGV[1])
return 1";

pub struct RedisScheduler {
    connection: RedisConnection,
    upsert: Script,
    set_paused: Script,
    mark_fired: Script,
}

fn unavailable(err: &redis::RedisError, doing: &'static str) -> QueueError {
    super::unavailable(err, doing)
}

impl RedisScheduler {
    pub fn new(connection: RedisConnection) -> Self {
        Self {
            connection,
            upsert: Script::new(UPSERT),
            set_paused: Script::new(SET_PAUSED),
            mark_fired: Script::new(MARK_FIRED),
        }
    }

    fn key(&self, name: &str) -> String {
        self.connection.key(&["jobs:schedule:", name])
    }

    fn index(&self) -> String {
        self.connection.key(&["jobs:schedules"])
    }
}

fn decode(raw: HashMap<String, Vec<u8>>) -> Result<Schedule, QueueError> {
    let f = Fields(raw);
    let job = codec::decode_spec(&f)?;
    Ok(Schedule {
        name: f.text("schedule")?.to_owned(),
        cron: f.text("cron")?.to_owned(),
        timezone: f.text("timezone")?.to_owned(),
        paused: f.text("paused")? == "1",
        last_fired_at: f
            .optional("last_fired_at")?
            .map(|_| f.time("last_fired_at"))
            .transpose()?,
        job,
    })
}

#[async_trait]
impl Scheduler for RedisScheduler {
    async fn upsert(&self, schedule: &Schedule) -> Result<(), QueueError> {
        let mut invocation = self.upsert.key(self.key(&schedule.name));
        invocation.key(self.index());
        // `schedule` first, so that ARGV[2] is the name the index records.
        invocation.arg("schedule").arg(&schedule.name);
        invocation.arg("cron").arg(&schedule.cron);
        invocation.arg("timezone").arg(&schedule.timezone);
        for (name, value) in codec::spec_fields(&schedule.job) {
            invocation.arg(name).arg(value);
        }
        invocation
            .invoke_async::<i64>(&mut self.connection.conn())
            .await
            .map(drop)
            .map_err(|err| unavailable(&err, "saving a schedule"))
    }

    async fn list(&self) -> Result<Vec<Schedule>, QueueError> {
        let mut conn = self.connection.conn();
        let names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.index())
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "listing schedules"))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for name in &names {
            pipe.cmd("HGETALL").arg(self.key(name));
        }
        let raw: Vec<HashMap<String, Vec<u8>>> = pipe
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "reading schedules"))?;
        let mut list = raw
            .into_iter()
            .filter(|fields| !fields.is_empty())
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, QueueError> {
        let found: i64 = self
            .set_paused
            .key(self.key(name))
            .arg(if paused { "1" } else { "0" })
            .invoke_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, "pausing a schedule"))?;
        Ok(found == 1)
    }

    async fn mark_fired(&self, name: &str, at: DateTime<Utc>) -> Result<(), QueueError> {
        self.mark_fired
            .key(self.key(name))
            .arg(micros(at))
            .invoke_async::<i64>(&mut self.connection.conn())
            .await
            .map(drop)
            .map_err(|err| unavailable(&err, "recording a schedule's fire time"))
    }
}
