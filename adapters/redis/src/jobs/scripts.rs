//! The Lua scripts: each state transition of a job is one script, so it is atomic on the
//! server and no crash point leaves a job in two structures or in none.
//!
//! Every script takes the jobs key prefix as `ARGV[1]` and derives its keys from it and from
//! job ids and queue names (single Redis or Sentinel primary; not Redis Cluster). Times arrive
//! as integer microsecond strings and are stored as given: Lua numbers are doubles and Redis
//! would print large ones in exponent form.

use redis::Script;

/// Every transition's script, each with the prelude prepended.
pub(super) struct Scripts {
    pub(super) enqueue: Script,
    pub(super) claim: Script,
    pub(super) heartbeat: Script,
    pub(super) complete: Script,
    pub(super) fail: Script,
    pub(super) release: Script,
    pub(super) cancel: Script,
    pub(super) replay: Script,
    pub(super) purge_dead: Script,
    pub(super) promote: Script,
    pub(super) reap: Script,
}

impl Scripts {
    pub(super) fn compile() -> Self {
        let script = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            enqueue: script(ENQUEUE),
            claim: script(CLAIM),
            heartbeat: script(HEARTBEAT),
            complete: script(COMPLETE),
            fail: script(FAIL),
            release: script(RELEASE),
            cancel: script(CANCEL),
            replay: script(REPLAY),
            purge_dead: script(PURGE_DEAD),
            promote: script(PROMOTE),
            reap: script(REAP),
        }
    }
}

/// Helpers shared by the scripts, prepended to each.
pub(crate) const PRELUDE: &str = r"
local K = ARGV[1]
local function pend(id, now)
  local job = K .. 'job:' .. id
  local v = redis.call('HMGET', job, 'queue', 'priority')
  local seq = redis.call('INCR', K .. 'seq')
  redis.call('ZADD', K .. 'pending:' .. v[1], (3 - tonumber(v[2])) * 1e13 + seq, id)
  redis.call('HSET', job, 'state', 'pending', 'updated_at', now, 'lease', '', 'lease_expires', '')
end
local function held(id, token, now)
  local job = K .. 'job:' .. id
  local v = redis.call('HMGET', job, 'state', 'lease', 'lease_expires', 'queue')
  if v[1] ~= 'active' or v[2] ~= token or tonumber(v[3]) <= tonumber(now) then return nil end
  redis.call('ZREM', K .. 'active:' .. v[4], id)
  return job, v[4]
end
local function bury(id, queue, err, now, ttl_ms, cutoff, max_len)
  local job = K .. 'job:' .. id
  redis.call('HSET', job, 'state', 'dead', 'last_error', err, 'updated_at', now, 'lease', '', 'lease_expires', '')
  redis.call('PEXPIRE', job, ttl_ms)
  local dead = K .. 'dead:' .. queue
  redis.call('ZADD', dead, now, id)
  redis.call('ZREMRANGEBYSCORE', dead, '-inf', '(' .. cutoff)
  local excess = redis.call('ZCARD', dead) - tonumber(max_len)
  if excess > 0 then
    for _, old in ipairs(redis.call('ZRANGE', dead, 0, excess - 1)) do redis.call('DEL', K .. 'job:' .. old) end
    redis.call('ZREMRANGEBYRANK', dead, 0, excess - 1)
  end
end
";

/// ARGV: prefix, id, now, unique key, window ms, run-at (empty: now), queue, then HSET pairs.
/// Returns `{id, deduplicated}`.
pub(crate) const ENQUEUE: &str = r"
if ARGV[4] ~= '' then
  local existing = redis.call('GET', K .. 'unique:' .. ARGV[4])
  if existing then return {existing, 1} end
  redis.call('SET', K .. 'unique:' .. ARGV[4], ARGV[2], 'PX', ARGV[5])
end
local job = K .. 'job:' .. ARGV[2]
redis.call('HSET', job, unpack(ARGV, 8))
redis.call('SADD', K .. 'queues', ARGV[7])
if ARGV[6] ~= '' then
  redis.call('HSET', job, 'state', 'scheduled')
  redis.call('ZADD', K .. 'scheduled:' .. ARGV[7], ARGV[6], ARGV[2])
else
  pend(ARGV[2], ARGV[3])
end
return {ARGV[2], 0}";

/// ARGV: prefix, now, lease expiry, worker, then per queue: name, limit (0: none), window,
/// period ms. Returns the claimed job's hash, or `{}`.
pub(crate) const CLAIM: &str = r"
for i = 5, #ARGV, 4 do
  local pending = K .. 'pending:' .. ARGV[i]
  local rate = K .. 'rate:' .. ARGV[i] .. ':' .. ARGV[i + 2]
  local limited = tonumber(ARGV[i + 1]) > 0
  while true do
    if limited and tonumber(redis.call('GET', rate) or '0') >= tonumber(ARGV[i + 1]) then break end
    local popped = redis.call('ZPOPMIN', pending)
    if #popped == 0 then break end
    local id = popped[1]
    local job = K .. 'job:' .. id
    if redis.call('EXISTS', job) == 1 then
      if limited then
        redis.call('INCR', rate)
        redis.call('PEXPIRE', rate, ARGV[i + 3])
      end
      local token = ARGV[4] .. ':' .. redis.call('INCR', K .. 'seq')
      redis.call('HINCRBY', job, 'attempt', 1)
      redis.call('HSET', job, 'state', 'active', 'lease', token, 'lease_expires', ARGV[3], 'updated_at', ARGV[2])
      redis.call('ZADD', K .. 'active:' .. ARGV[i], ARGV[3], id)
      return redis.call('HGETALL', job)
    end
  end
end
return {}";

/// ARGV: prefix, id, token, now, new expiry. Returns 1, or 0 when the lease is lost.
pub(crate) const HEARTBEAT: &str = r"
local job, queue = held(ARGV[2], ARGV[3], ARGV[4])
if not job then return 0 end
redis.call('HSET', job, 'lease_expires', ARGV[5])
redis.call('ZADD', K .. 'active:' .. queue, ARGV[5], ARGV[2])
return 1";

/// ARGV: prefix, id, token, now, retention ms, completed-index cutoff.
pub(crate) const COMPLETE: &str = r"
local job, queue = held(ARGV[2], ARGV[3], ARGV[4])
if not job then return 0 end
redis.call('HSET', job, 'state', 'completed', 'updated_at', ARGV[4], 'lease', '', 'lease_expires', '')
redis.call('PEXPIRE', job, ARGV[5])
local done = K .. 'done:' .. queue
redis.call('ZADD', done, ARGV[4], ARGV[2])
redis.call('ZREMRANGEBYSCORE', done, '-inf', '(' .. ARGV[6])
return 1";

/// ARGV: prefix, id, token, now, error, retry-at (empty: dead-letter), dead ttl ms, dead
/// cutoff, dead max length. Returns 0 (lease lost), 1 (scheduled) or 2 (dead-lettered).
pub(crate) const FAIL: &str = r"
local job, queue = held(ARGV[2], ARGV[3], ARGV[4])
if not job then return 0 end
if ARGV[6] == '' then
  bury(ARGV[2], queue, ARGV[5], ARGV[4], ARGV[7], ARGV[8], ARGV[9])
  return 2
end
redis.call('HSET', job, 'state', 'scheduled', 'run_at', ARGV[6], 'last_error', ARGV[5], 'updated_at', ARGV[4], 'lease', '', 'lease_expires', '')
redis.call('ZADD', K .. 'scheduled:' .. queue, ARGV[6], ARGV[2])
return 1";

/// ARGV: prefix, id, token, now. The attempt is given back: it never started for real.
pub(crate) const RELEASE: &str = r"
local job = held(ARGV[2], ARGV[3], ARGV[4])
if not job then return 0 end
redis.call('HINCRBY', job, 'attempt', -1)
pend(ARGV[2], ARGV[4])
return 1";

/// ARGV: prefix, id, now, retention ms. Returns -1 (unknown), 0 (not cancellable) or 1.
pub(crate) const CANCEL: &str = r"
local job = K .. 'job:' .. ARGV[2]
local v = redis.call('HMGET', job, 'state', 'queue')
if not v[1] then return -1 end
if v[1] == 'scheduled' then
  redis.call('ZREM', K .. 'scheduled:' .. v[2], ARGV[2])
elseif v[1] == 'pending' then
  redis.call('ZREM', K .. 'pending:' .. v[2], ARGV[2])
else
  return 0
end
redis.call('HSET', job, 'state', 'cancelled', 'updated_at', ARGV[3])
redis.call('PEXPIRE', job, ARGV[4])
return 1";

/// ARGV: prefix, id, now. Returns -1 (unknown), 0 (not dead) or 1.
pub(crate) const REPLAY: &str = r"
local job = K .. 'job:' .. ARGV[2]
local v = redis.call('HMGET', job, 'state', 'queue')
if not v[1] then return -1 end
if v[1] ~= 'dead' then return 0 end
redis.call('ZREM', K .. 'dead:' .. v[2], ARGV[2])
redis.call('PERSIST', job)
redis.call('HSET', job, 'attempt', 0)
pend(ARGV[2], ARGV[3])
return 1";

/// ARGV: prefix, queue.
pub(crate) const PURGE_DEAD: &str = r"
local dead = K .. 'dead:' .. ARGV[2]
local ids = redis.call('ZRANGE', dead, 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', K .. 'job:' .. id) end
redis.call('DEL', dead)
return #ids";

/// ARGV: prefix, now, batch size. Moves due scheduled jobs of every queue to pending.
pub(crate) const PROMOTE: &str = r"
local count = 0
for _, queue in ipairs(redis.call('SMEMBERS', K .. 'queues')) do
  local scheduled = K .. 'scheduled:' .. queue
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', scheduled, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])) do
    redis.call('ZREM', scheduled, id)
    if redis.call('EXISTS', K .. 'job:' .. id) == 1 then pend(id, ARGV[2]) end
    count = count + 1
  end
end
return count";

/// ARGV: prefix, now, batch size, dead ttl ms, dead cutoff, dead max length. Lapsed leases
/// go back to pending, or to the dead letters when that was the job's last attempt.
pub(crate) const REAP: &str = r"
local count = 0
for _, queue in ipairs(redis.call('SMEMBERS', K .. 'queues')) do
  local active = K .. 'active:' .. queue
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])) do
    redis.call('ZREM', active, id)
    local v = redis.call('HMGET', K .. 'job:' .. id, 'attempt', 'max_attempts')
    if v[1] then
      if tonumber(v[1]) >= tonumber(v[2]) then
        bury(id, queue, 'lease expired', ARGV[2], ARGV[4], ARGV[5], ARGV[6])
      else
        pend(id, ARGV[2])
      end
      count = count + 1
    end
  end
end
return count";
