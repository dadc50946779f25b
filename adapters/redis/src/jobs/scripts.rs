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
    pub(super) turnover: Script,
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
            turnover: script(TURNOVER),
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
local function chunked(command, key, args)
  for i = 1, #args, 500 do redis.call(command, key, unpack(args, i, math.min(i + 499, #args))) end
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

/// ARGV: prefix, number of templates, then per template: unique key, window ms, run-at
/// (empty: now), queue, priority rank, number of HSET pairs, the pairs (every field of the
/// record but the id); then the number of jobs and per job: its id and template (1-based).
/// Returns `{id, deduplicated, …}` per job, in order. A batch of the same job sends its record
/// once, and the jobs after a template's first copy its hash (`COPY`, Redis 6.2 or later): what
/// Redis spends moving fields through Lua, not storing them, is most of an enqueue's cost. One
/// `INCRBY` numbers the arrivals and one `ZADD` per queue and index files them.
pub(crate) const ENQUEUE: &str = r"
local templates, i = {}, 3
for t = 1, tonumber(ARGV[2]) do
  local last = i + 5 + 2 * tonumber(ARGV[i + 5])
  templates[t] = {unique = ARGV[i], window = ARGV[i + 1], run_at = ARGV[i + 2], queue = ARGV[i + 3],
    rank = tonumber(ARGV[i + 4]), first = i + 6, last = last}
  i = last + 1
end
local count = tonumber(ARGV[i])
local seq = redis.call('INCRBY', K .. 'seq', count) - count
local out, queues, pending, scheduled = {}, {}, {}, {}
local function file(index, queue, score, id)
  local list = index[queue]
  if not list then list = {}; index[queue] = list end
  list[#list + 1] = score
  list[#list + 1] = id
end
for j = i + 1, i + 2 * count, 2 do
  local id, t = ARGV[j], templates[tonumber(ARGV[j + 1])]
  local existing = false
  if t.unique ~= '' then
    existing = redis.call('GET', K .. 'unique:' .. t.unique)
    if not existing then redis.call('SET', K .. 'unique:' .. t.unique, id, 'PX', t.window) end
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 1
  else
    local job = K .. 'job:' .. id
    -- A template's later jobs copy its first one's hash (a copy of the encoded fields) and set
    -- their id: far cheaper than passing every field through Lua again.
    if t.copy and redis.call('COPY', t.copy, job) == 1 then
      redis.call('HSET', job, 'id', id)
    else
      redis.call('HSET', job, 'id', id, unpack(ARGV, t.first, t.last))
      t.copy = job
    end
    queues[t.queue] = true
    if t.run_at ~= '' then
      file(scheduled, t.queue, t.run_at, id)
    else
      seq = seq + 1
      file(pending, t.queue, (3 - t.rank) * 1e13 + seq, id)
    end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
for queue in pairs(queues) do redis.call('SADD', K .. 'queues', queue) end
for queue, list in pairs(pending) do chunked('ZADD', K .. 'pending:' .. queue, list) end
for queue, list in pairs(scheduled) do chunked('ZADD', K .. 'scheduled:' .. queue, list) end
return out";

/// ARGV: prefix, now, lease expiry, worker, max to claim, completed retention ms,
/// completed-index cutoff, number of leases to complete, their `id, token` pairs, then per
/// queue: name, limit (0: none), window, period ms. Completes the leases still held, then
/// claims up to max jobs. Returns `{lost ids, claimed ids}`: the caller reads the claimed records
/// itself (`HGETALL` straight from the hash), which costs Redis far less than carrying every
/// field through Lua into the reply. Nobody but the new holder changes a leased record, so what
/// it reads is what this script left.
pub(crate) const TURNOVER: &str = r"
local now, expiry, worker, max = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local acks = tonumber(ARGV[8])
local lost, finished = {}, {}
for i = 9, 8 + 2 * acks, 2 do
  local id = ARGV[i]
  local job = K .. 'job:' .. id
  local v = redis.call('HMGET', job, 'state', 'lease', 'lease_expires', 'queue')
  if v[1] ~= 'active' or v[2] ~= ARGV[i + 1] or tonumber(v[3]) <= tonumber(now) then
    lost[#lost + 1] = id
  else
    redis.call('HSET', job, 'state', 'completed', 'updated_at', now, 'lease', '', 'lease_expires', '')
    redis.call('PEXPIRE', job, ARGV[6])
    local ids = finished[v[4]]
    if not ids then ids = {}; finished[v[4]] = ids end
    ids[#ids + 1] = id
  end
end
for queue, ids in pairs(finished) do
  chunked('ZREM', K .. 'active:' .. queue, ids)
  local scored = {}
  for j, id in ipairs(ids) do
    scored[2 * j - 1] = now
    scored[2 * j] = id
  end
  local done = K .. 'done:' .. queue
  chunked('ZADD', done, scored)
  redis.call('ZREMRANGEBYSCORE', done, '-inf', '(' .. ARGV[7])
end
local claimed = {}
for i = 9 + 2 * acks, #ARGV, 4 do
  if #claimed >= max then break end
  local pending, limit = K .. 'pending:' .. ARGV[i], tonumber(ARGV[i + 1])
  local rate = K .. 'rate:' .. ARGV[i] .. ':' .. ARGV[i + 2]
  local leased = {}
  while #claimed < max do
    local want = max - #claimed
    if limit > 0 then
      want = math.min(want, limit - tonumber(redis.call('GET', rate) or '0'))
      if want <= 0 then break end
    end
    local popped = redis.call('ZPOPMIN', pending, want)
    if #popped == 0 then break end
    local seq = redis.call('INCRBY', K .. 'seq', #popped / 2) - #popped / 2
    local started = 0
    for j = 1, #popped, 2 do
      local id = popped[j]
      local job = K .. 'job:' .. id
      if redis.call('EXISTS', job) == 1 then
        seq = seq + 1
        redis.call('HINCRBY', job, 'attempt', 1)
        redis.call('HSET', job, 'state', 'active', 'lease', worker .. ':' .. seq, 'lease_expires', expiry, 'updated_at', now)
        leased[#leased + 1] = expiry
        leased[#leased + 1] = id
        claimed[#claimed + 1] = id
        started = started + 1
      end
    end
    if limit > 0 and started > 0 then
      redis.call('INCRBY', rate, started)
      redis.call('PEXPIRE', rate, ARGV[i + 3])
    end
  end
  chunked('ZADD', K .. 'active:' .. ARGV[i], leased)
end
return {lost, claimed}";

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
