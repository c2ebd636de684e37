--[[
  Claims the right to raise (or upgrade) one victim alert, once, across replicas and redeliveries.

  KEYS[1] {g<k>}:n:<victim>:v   callee state hash (see callee-batch-1.lua)

  ARGV[1] call fingerprint
  ARGV[2] suspect (caller) fingerprint
  ARGV[3] severity level: 1 warning, 2 critical
  ARGV[4] duration step, seconds
  ARGV[5] event time, epoch ms
  ARGV[6] cooldown of the (victim, suspect) pair, ms
  ARGV[7] mode: 'live' (call in progress) or 'post' (the call has ended)
  ARGV[8] TTL of the state key, seconds

  Returns 1 claimed (raise it), 2 this exact alert was claimed before (re-adding its job is safe),
  0 nothing to raise (already at this level, or the pair is cooling down), -1 no such call.
]]
local call, suspect = ARGV[1], ARGV[2]
local level, step, t = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local cool = 'o' .. suspect
local untilT = t + tonumber(ARGV[6])

if ARGV[7] == 'live' then
  local a = redis.call('HGET', KEYS[1], 'a' .. call)
  if not a then return -1 end
  local l, s, at = string.match(a, '^(%d+)|(%-?%d+)|(%d+)$')
  l, s = tonumber(l), tonumber(s)
  if l == level and s == step then return 2 end
  if l >= level then return 0 end
  -- the first alert of a call respects the pair's cooldown; its upgrades do not
  if l == 0 and tonumber(redis.call('HGET', KEYS[1], cool) or '0') > t then return 0 end
  redis.call('HSET', KEYS[1], 'a' .. call, level .. '|' .. step .. '|' .. at, cool, untilT)
  return 1
end

-- post-call: the call is over and was never alerted; the cooldown entry set by this very claim
-- (same end time) marks it as raised
local c = tonumber(redis.call('HGET', KEYS[1], cool) or '0')
if c == untilT then return 2 end
if c > t then return 0 end
redis.call('HSET', KEYS[1], cool, untilT)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[8]))
return 1
