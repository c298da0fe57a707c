package redisq

import "github.com/redis/go-redis/v9"

// Every state change of the frontier is one Lua script, so it is atomic: a job is always in exactly
// one of the ready stream, the delayed set, a worker's pending list, done or the dead letters, and
// Stats sees a consistent snapshot (so "drained" is never a half-moved job).

// luaEnsure creates the stream and its consumer group together.
const luaEnsure = `
local function ensure(q, g)
  if redis.call('EXISTS', q) == 0 then
    redis.call('XGROUP', 'CREATE', q, g, '0', 'MKSTREAM')
  end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// enqueue: KEYS q delayed seen stats; ARGV group maxJobs ttl {id notBeforeMs payload}...
// Returns {added, dropped}.
var enqueueScript = redis.NewScript(luaEnsure + `
local q, delayed, seen, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local g, max, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
ensure(q, g)
local now = now_ms()
local added, dropped = 0, 0
for i = 4, #ARGV, 3 do
  local id, nb, payload = ARGV[i], tonumber(ARGV[i+1]), ARGV[i+2]
  if redis.call('SISMEMBER', seen, id) == 0 then
    if max > 0 and redis.call('SCARD', seen) >= max then
      dropped = dropped + 1
    else
      redis.call('SADD', seen, id)
      if nb > now then
        redis.call('ZADD', delayed, nb, '0|' .. payload)
      else
        redis.call('XADD', q, '*', 'job', payload, 'attempt', '0')
      end
      added = added + 1
    end
  end
end
if added > 0 then redis.call('HINCRBY', stats, 'enqueued', added) end
if dropped > 0 then redis.call('HINCRBY', stats, 'dropped', dropped) end
if ttl > 0 then
  for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ttl) end
end
return {added, dropped}
`)

// claim: KEYS q delayed dead stats; ARGV group consumer max minIdleMs maxAttempts.
// Promotes due delayed jobs, reclaims jobs idle longer than minIdleMs (a dead worker's), moving
// those out of attempts to the dead letters, then reads new jobs.
// The stream's "attempt" field counts the claims a job had before it was (re)queued; a lease's
// attempt is that plus its deliveries, so the first claim is attempt 1.
// Returns a flat list {id, payload, attempt, ...}.
var claimScript = redis.NewScript(luaEnsure + `
local q, delayed, dead, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local g, c, max, idle, maxAtt = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
ensure(q, g)
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 256)
for _, m in ipairs(due) do
  local a, p = string.match(m, '^(%d+)|(.*)$')
  redis.call('XADD', q, '*', 'job', p, 'attempt', a)
  redis.call('ZREM', delayed, m)
end
local out = {}
local n = 0
local function field(e, name)
  local f = e[2]
  if not f then return nil end
  for i = 1, #f, 2 do if f[i] == name then return f[i+1] end end
  return nil
end
if idle > 0 then
  local r = redis.call('XAUTOCLAIM', q, g, c, idle, '0-0', 'COUNT', max)
  for _, e in ipairs(r[2]) do
    local id = e[1]
    local p = field(e, 'job')
    if p then
      local pend = redis.call('XPENDING', q, g, id, id, 1)
      local deliveries = 1
      if pend[1] then deliveries = tonumber(pend[1][4]) end
      local claims = tonumber(field(e, 'attempt') or '0') + deliveries - 1
      local att = claims + 1
      if claims >= maxAtt then
        att = claims
        redis.call('XADD', dead, '*', 'job', p, 'attempt', tostring(att), 'reason', 'worker lost the lease ' .. (deliveries - 1) .. ' times (died or hung)')
        redis.call('XACK', q, g, id)
        redis.call('XDEL', q, id)
        redis.call('HINCRBY', stats, 'dead', 1)
        local src = string.match(p, '"source":"([^"]*)"')
        if src then redis.call('HINCRBY', stats, 'dead:' .. src, 1) end
      else
        out[#out+1] = id; out[#out+1] = p; out[#out+1] = tostring(att)
        n = n + 1
      end
    else
      redis.call('XACK', q, g, id)
    end
  end
end
if n < max then
  local r = redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', max - n, 'STREAMS', q, '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      out[#out+1] = e[1]; out[#out+1] = field(e, 'job'); out[#out+1] = tostring(tonumber(field(e, 'attempt') or '0') + 1)
    end
  end
end
return out
`)

// ack: KEYS q stats; ARGV group id source. Returns 1 when this ack finished the job, 0 when it was
// already acked (by a worker that reclaimed it) or handed back.
var ackScript = redis.NewScript(`
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if n == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], 'done', 1)
  redis.call('HINCRBY', KEYS[2], 'done:' .. ARGV[3], 1)
end
return n
`)

// requeue: KEYS q delayed dead stats; ARGV group consumer id atMs payload attempt maxAttempts reason source.
// Only the lease's current owner may requeue. Returns 0 (lease lost), 1 (requeued) or 2 (dead).
var requeueScript = redis.NewScript(luaEnsure + `
local q, delayed, dead, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local g, c, id, at, p, att, maxAtt, reason = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local pend = redis.call('XPENDING', q, g, id, id, 1)
if not pend[1] or pend[1][2] ~= c then return 0 end
redis.call('XACK', q, g, id)
redis.call('XDEL', q, id)
if maxAtt > 0 and att >= maxAtt then
  redis.call('XADD', dead, '*', 'job', p, 'attempt', tostring(att), 'reason', reason)
  redis.call('HINCRBY', stats, 'dead', 1)
  redis.call('HINCRBY', stats, 'dead:' .. ARGV[9], 1)
  return 2
end
if at > now_ms() then
  redis.call('ZADD', delayed, at, tostring(att) .. '|' .. p)
else
  redis.call('XADD', q, '*', 'job', p, 'attempt', tostring(att))
end
return 1
`)

// extend: KEYS q; ARGV group consumer id... Resets the idle time of the consumer's own leases
// (a live worker's heartbeat). Returns how many were still owned.
var extendScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local pend = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if pend[1] and pend[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    n = n + 1
  end
end
return n
`)

// stats: KEYS q delayed stats; ARGV group. Returns {ready+delayed, inflight, done, dead, enqueued, dropped}.
var statsScript = redis.NewScript(`
local xlen, inflight = 0, 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  xlen = redis.call('XLEN', KEYS[1])
  local ok, s = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
  if ok and s then inflight = tonumber(s[1]) end
end
local h = redis.call('HMGET', KEYS[3], 'done', 'dead', 'enqueued', 'dropped')
local function num(v) if v then return tonumber(v) end return 0 end
return {xlen - inflight + redis.call('ZCARD', KEYS[2]), inflight, num(h[1]), num(h[2]), num(h[3]), num(h[4])}
`)

// bury: KEYS q dead stats; ARGV group consumer id payload attempt reason source. Sends a leased
// job straight to the dead letters (a permanent failure). Returns 0 when the lease was lost.
var buryScript = redis.NewScript(`
local q, dead, stats = KEYS[1], KEYS[2], KEYS[3]
local pend = redis.call('XPENDING', q, ARGV[1], ARGV[3], ARGV[3], 1)
if not pend[1] or pend[1][2] ~= ARGV[2] then return 0 end
redis.call('XACK', q, ARGV[1], ARGV[3])
redis.call('XDEL', q, ARGV[3])
redis.call('XADD', dead, '*', 'job', ARGV[4], 'attempt', ARGV[5], 'reason', ARGV[6])
redis.call('HINCRBY', stats, 'dead', 1)
redis.call('HINCRBY', stats, 'dead:' .. ARGV[7], 1)
return 1
`)
