"""Lua scripts of the Redis backend: each state change is one atomic script.

Every script takes ``ARGV[1]`` = key prefix and ``ARGV[2]`` = the normal waiting list's
name (the original runbook's ``blood_analysis_queue``); its own arguments follow. Time
comes from the server (``TIME``), so leases mean the same on every machine.
"""

from __future__ import annotations

COMMON = r"""
local P, QN = ARGV[1], ARGV[2]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function list_key(prio)
  if prio == 'high' then return P .. 'high' elseif prio == 'low' then return P .. 'low' end
  return QN
end
local function unindex(id)
  for _, s in ipairs({'queued', 'processing', 'completed', 'failed', 'cancelled'}) do
    redis.call('ZREM', P .. 'idx:' .. s, id)
  end
end
local function finish(id, jk, status, err, ttl, now)
  local was = redis.call('HGET', jk, 'status')
  redis.call('HSET', jk, 'status', status, 'finished_ms', now, 'updated_ms', now, 'lease_until_ms', 0)
  if err ~= '' then redis.call('HSET', jk, 'error', err) else redis.call('HDEL', jk, 'error') end
  redis.call('ZREM', P .. 'processing', id)
  redis.call('ZREM', P .. 'idx:' .. was, id)  -- only active jobs finish, so one index holds it
  redis.call('ZADD', P .. 'idx:' .. status, now, id)
  if status == 'failed' then
    redis.call('EXPIRE', P .. 'upload:' .. id, ttl)  -- kept so a dead letter can be retried
  else
    redis.call('DEL', P .. 'upload:' .. id)
  end
  redis.call('EXPIRE', jk, ttl)
  redis.call('HINCRBY', P .. 'counts', status, 1)
  redis.call('ZADD', P .. 'recent:' .. status, now, id)
  if status ~= 'cancelled' and (redis.call('HGET', jk, 'callback') or '') ~= '' then
    redis.call('ZADD', P .. 'webhooks', now, id)  -- delivered by any process's dispatcher
  end
  redis.call('PUBLISH', P .. 'done', id)
end
local function back_to_waiting(id, jk, run_at, err, failed, now)
  redis.call('HSET', jk, 'status', 'queued', 'updated_ms', now, 'lease_until_ms', 0, 'run_at_ms', run_at,
             'token', '', 'stage', '', 'progress', 0)
  if err ~= '' then redis.call('HSET', jk, 'error', err) else redis.call('HDEL', jk, 'error') end
  if failed then
    redis.call('HINCRBY', jk, 'failures', 1)
    redis.call('HINCRBY', P .. 'counts', 'retried', 1)
  end
  redis.call('ZREM', P .. 'processing', id)
  unindex(id)
  redis.call('ZADD', P .. 'idx:queued', redis.call('HGET', jk, 'created_ms'), id)
  if run_at > now then
    redis.call('ZADD', P .. 'scheduled', run_at, id)
  else
    redis.call('LPUSH', list_key(redis.call('HGET', jk, 'priority')), id)
    redis.call('RPUSH', P .. 'notify', 1)
  end
end
local function current(jk, token)
  local cur = redis.call('HMGET', jk, 'token', 'status')
  return cur[1] == token and cur[2] == 'processing'
end
"""

# ARGV: 3 id, 4 priority, 5 max waiting (-1: adopting a spooled job, no limit, once only),
# 6 upload, 7 created ms (0: now), 8 idempotency key hash ('' none), 9 ttl s,
# 10 JSON array [query, file_name, file_size_bytes, request_id, callback].
# Returns the created ms, -1 when full, 0 when already adopted, or the id of the job a key already names.
ENQUEUE = COMMON + r"""
local id = ARGV[3]
local jk = P .. 'job:' .. id
local limit = tonumber(ARGV[5])
local idem = ARGV[8]
if idem ~= '' then
  local seen = redis.call('GET', P .. 'idem:' .. idem)
  if seen and redis.call('EXISTS', P .. 'job:' .. seen) == 1 then return seen end
end
if limit < 0 then
  if redis.call('EXISTS', jk) == 1 then return 0 end
else
  local waiting = redis.call('LLEN', P .. 'high') + redis.call('LLEN', QN) + redis.call('LLEN', P .. 'low')
    + redis.call('ZCARD', P .. 'scheduled')
  if waiting >= limit then return -1 end
end
local now = tonumber(ARGV[7])
if now == 0 then now = now_ms() end
local f = cjson.decode(ARGV[10])
redis.call('HSET', jk, 'id', id, 'priority', ARGV[4], 'status', 'queued', 'attempts', 0, 'failures', 0,
           'created_ms', now, 'updated_ms', now, 'query', f[1], 'file_name', f[2], 'file_size_bytes', f[3],
           'request_id', f[4], 'callback', f[5])
if idem ~= '' then redis.call('SET', P .. 'idem:' .. idem, id, 'EX', ARGV[9]) end
redis.call('SET', P .. 'upload:' .. id, ARGV[6])
redis.call('RPUSH', list_key(ARGV[4]), id)
redis.call('RPUSH', P .. 'notify', 1)
redis.call('ZADD', P .. 'idx:all', now, id)
redis.call('ZADD', P .. 'idx:queued', now, id)
redis.call('HINCRBY', P .. 'counts', 'submitted', 1)
return now
"""

# ARGV: 3 worker id, 4 n, 5 lease ms, 6 nonce. Returns a list of HGETALL replies.
CLAIM_FN = r"""
local function claim(worker, n_arg, lease_arg, nonce)
  local now = now_ms()
  local due = redis.call('ZRANGEBYSCORE', P .. 'scheduled', '-inf', now, 'LIMIT', 0, 100)
  for _, id in ipairs(due) do
    redis.call('ZREM', P .. 'scheduled', id)
    local prio = redis.call('HGET', P .. 'job:' .. id, 'priority')
    if prio then redis.call('LPUSH', list_key(prio), id) end
  end
  local order = {P .. 'high', QN, P .. 'low'}
  if redis.call('INCR', P .. 'claims') % 10 == 0 then order = {P .. 'low', P .. 'high', QN} end
  local n, lease = tonumber(n_arg), now + tonumber(lease_arg)
  local out = {}
  while #out < n do
    local id = false
    for _, k in ipairs(order) do
      id = redis.call('LPOP', k)
      if id then break end
    end
    if not id then break end
    local jk = P .. 'job:' .. id
    if redis.call('HGET', jk, 'status') == 'queued' then
      local attempts = redis.call('HINCRBY', jk, 'attempts', 1)
      local token = worker .. '/' .. attempts .. '/' .. nonce .. '.' .. #out
      redis.call('HSET', jk, 'status', 'processing', 'token', token, 'worker_id', worker, 'started_ms', now,
                 'updated_ms', now, 'lease_until_ms', lease, 'progress', 0, 'stage', '')
      redis.call('ZADD', P .. 'processing', lease, id)
      redis.call('ZREM', P .. 'idx:queued', id)
      redis.call('ZADD', P .. 'idx:processing', redis.call('HGET', jk, 'created_ms'), id)
      out[#out + 1] = redis.call('HGETALL', jk)
    end
  end
  if #out < n then redis.call('DEL', P .. 'notify') end
  return out
end
"""
CLAIM = COMMON + CLAIM_FN + r"""
return claim(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""

# ARGV: 3 id, 4 token, 5 lease ms, 6 stage ('' = unchanged), 7 progress
TOUCH = COMMON + r"""
local jk = P .. 'job:' .. ARGV[3]
local cur = redis.call('HMGET', jk, 'token', 'status', 'cancel_requested')
if cur[1] ~= ARGV[4] or cur[2] ~= 'processing' then return 'lost' end
local now = now_ms()
local lease = now + tonumber(ARGV[5])
redis.call('ZADD', P .. 'processing', lease, ARGV[3])
redis.call('HSET', jk, 'lease_until_ms', lease)
if ARGV[6] ~= '' then redis.call('HSET', jk, 'stage', ARGV[6], 'progress', ARGV[7], 'updated_ms', now) end
if cur[3] == '1' then return 'cancel' end
return 'ok'
"""

# ARGV: 3 id, 4 token, 5 status, 6 error json or '', 7 ttl s, 8 result or '', 9 report or '',
# 10 '1' = the job has a report (stored now, or drawn from the result when first asked for: STORE_REPORT)
FINISH_FN = r"""
local function finish_attempt(a)
  local id = a[1]
  local jk = P .. 'job:' .. id
  if not current(jk, a[2]) then return 0 end
  local now, ttl = now_ms(), tonumber(a[5])
  local started = tonumber(redis.call('HGET', jk, 'started_ms'))
  if started and a[3] == 'completed' then
    redis.call('LPUSH', P .. 'durations', now - started)
    redis.call('LTRIM', P .. 'durations', 0, 99)
  end
  if a[6] ~= '' then redis.call('SET', P .. 'result:' .. id, a[6], 'EX', ttl) end
  if a[7] ~= '' then redis.call('SET', P .. 'report:' .. id, a[7], 'EX', ttl) end
  if a[8] == '1' then redis.call('HSET', jk, 'has_report', 1) end
  finish(id, jk, a[3], a[4], ttl, now)
  return 1
end
"""
FINISH = COMMON + FINISH_FN + r"""
return finish_attempt({ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]})
"""

# FINISH (ARGV 3-10) then CLAIM for the same slot (ARGV: 11 worker, 12 n, 13 lease ms, 14 nonce): a slot that
# finishes a job asks for its next one in the same round trip. Returns {finished 0/1, claimed records}.
FINISH_CLAIM = COMMON + FINISH_FN + CLAIM_FN + r"""
local done = finish_attempt({ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]})
if tonumber(ARGV[12]) == 0 then return {done, {}} end
return {done, claim(ARGV[11], ARGV[12], ARGV[13], ARGV[14])}
"""

# ARGV: 3 id, 4 report. A report drawn on demand, kept as long as the job's record; 0 when the job is gone.
STORE_REPORT = COMMON + r"""
local jk = P .. 'job:' .. ARGV[3]
if redis.call('HGET', jk, 'status') ~= 'completed' then return 0 end
local ttl = redis.call('PTTL', jk)
if ttl == -2 then return 0 end
if ttl > 0 then
  redis.call('SET', P .. 'report:' .. ARGV[3], ARGV[4], 'PX', ttl)
else
  redis.call('SET', P .. 'report:' .. ARGV[3], ARGV[4])
end
return 1
"""

# ARGV: 3 id, 4 token, 5 run_at ms (0 = head of the list now), 6 error json or '', 7 '1' = counts as a failure
REQUEUE = COMMON + r"""
local jk = P .. 'job:' .. ARGV[3]
if not current(jk, ARGV[4]) then return 0 end
back_to_waiting(ARGV[3], jk, tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1', now_ms())
return 1
"""

# ARGV: 3 id, 4 ttl s, 5 error json
CANCEL = COMMON + r"""
local id = ARGV[3]
local jk = P .. 'job:' .. id
local st = redis.call('HGET', jk, 'status')
if not st then return 'missing' end
if st == 'processing' then
  redis.call('HSET', jk, 'cancel_requested', 1, 'updated_ms', now_ms())
  return 'requested'
end
if st ~= 'queued' then return st end
redis.call('LREM', list_key(redis.call('HGET', jk, 'priority')), 0, id)
redis.call('ZREM', P .. 'scheduled', id)
finish(id, jk, 'cancelled', ARGV[5], tonumber(ARGV[4]), now_ms())
return 'cancelled'
"""

# ARGV: 3 id
DELETE = COMMON + r"""
local id = ARGV[3]
local jk = P .. 'job:' .. id
local prio = redis.call('HGET', jk, 'priority')
if prio then redis.call('LREM', list_key(prio), 0, id) end
redis.call('ZREM', P .. 'scheduled', id)
redis.call('ZREM', P .. 'processing', id)
redis.call('ZREM', P .. 'idx:all', id)
unindex(id)
redis.call('DEL', jk, P .. 'upload:' .. id, P .. 'result:' .. id, P .. 'report:' .. id)
redis.call('PUBLISH', P .. 'done', id)
return 1
"""

# ARGV: 3 id
REVIVE = COMMON + r"""
local id = ARGV[3]
local jk = P .. 'job:' .. id
local st = redis.call('HGET', jk, 'status')
if (st ~= 'failed' and st ~= 'cancelled') or redis.call('EXISTS', P .. 'upload:' .. id) == 0 then return 0 end
redis.call('PERSIST', jk)
redis.call('PERSIST', P .. 'upload:' .. id)
redis.call('HSET', jk, 'failures', 0, 'cancel_requested', 0)
redis.call('HDEL', jk, 'finished_ms')
back_to_waiting(id, jk, 0, '', false, now_ms())
return 1
"""

# ARGV: 3 lock ms, 4 max retries, 5 ttl s, 6 lock token, 7 poison error json, 8 lapsed error json
SWEEP = COMMON + r"""
if not redis.call('SET', P .. 'sweep_lock', ARGV[6], 'NX', 'PX', ARGV[3]) then return false end
local now, ttl = now_ms(), tonumber(ARGV[5])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'processing', '-inf', now, 'LIMIT', 0, 100)) do
  local jk = P .. 'job:' .. id
  if redis.call('EXISTS', jk) == 0 then
    redis.call('ZREM', P .. 'processing', id)
  else
    redis.call('HINCRBY', P .. 'counts', 'recovered', 1)
    if tonumber(redis.call('HGET', jk, 'failures') or '0') >= tonumber(ARGV[4]) then
      finish(id, jk, 'failed', ARGV[7], ttl, now)
    else
      back_to_waiting(id, jk, 0, ARGV[8], true, now)
    end
    out[#out + 1] = id
  end
end
for _, s in ipairs({'completed', 'failed', 'cancelled'}) do
  redis.call('ZREMRANGEBYSCORE', P .. 'idx:' .. s, '-inf', now - ttl * 1000)
end
redis.call('ZREMRANGEBYSCORE', P .. 'idx:all', '-inf', now - 2 * ttl * 1000)
redis.call('ZREMRANGEBYSCORE', P .. 'consumers', '-inf', now - 3600 * 1000)
return out
"""

# ARGV: 3 ttl s, then (id, info json) pairs
REGISTER = COMMON + r"""
local now = now_ms()
for i = 4, #ARGV, 2 do
  redis.call('ZADD', P .. 'consumers', now, ARGV[i])
  redis.call('SET', P .. 'consumer:' .. ARGV[i], ARGV[i + 1], 'EX', ARGV[3])
end
return now
"""

# ARGV: 3 live window ms. Returns counts and timings in one round trip.
STATS = COMMON + r"""
local now = now_ms()
local live = redis.call('ZRANGEBYSCORE', P .. 'consumers', now - tonumber(ARGV[3]), '+inf')
local infos = {}
for i, id in ipairs(live) do infos[i] = redis.call('GET', P .. 'consumer:' .. id) or '' end
local recent = {}
for i, s in ipairs({'completed', 'failed', 'cancelled'}) do
  redis.call('ZREMRANGEBYSCORE', P .. 'recent:' .. s, '-inf', now - 60000)
  recent[i] = redis.call('ZCARD', P .. 'recent:' .. s)
end
local by_status = {}
for i, s in ipairs({'queued', 'processing', 'completed', 'failed', 'cancelled'}) do
  by_status[i] = redis.call('ZCARD', P .. 'idx:' .. s)
end
return {
  {redis.call('LLEN', P .. 'high'), redis.call('LLEN', QN), redis.call('LLEN', P .. 'low')},
  redis.call('ZCARD', P .. 'scheduled'),
  redis.call('ZCARD', P .. 'processing'),
  live, infos, by_status,
  redis.call('HGETALL', P .. 'counts'),
  redis.call('LRANGE', P .. 'durations', 0, -1),
  recent,
}
"""

# ARGV: 3 n, 4 lease ms. Takes up to n due webhook deliveries, leasing each; returns job ids.
WEBHOOK_CLAIM = COMMON + r"""
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', P .. 'webhooks', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do
  if redis.call('EXISTS', P .. 'job:' .. id) == 1 then
    redis.call('ZADD', P .. 'webhooks', now + tonumber(ARGV[4]), id)
  else
    redis.call('ZREM', P .. 'webhooks', id)
  end
end
return due
"""

# ARGV: 3 id, 4 state json, 5 next attempt ms (0 = done: delivered or given up)
WEBHOOK_DONE = COMMON + r"""
local jk = P .. 'job:' .. ARGV[3]
if redis.call('EXISTS', jk) == 0 then
  redis.call('ZREM', P .. 'webhooks', ARGV[3])
  return 0
end
redis.call('HSET', jk, 'webhook', ARGV[4])
if ARGV[5] == '0' then
  redis.call('ZREM', P .. 'webhooks', ARGV[3])
else
  redis.call('ZADD', P .. 'webhooks', ARGV[5], ARGV[3])
end
return 1
"""
