--[[
  Callee side of one answered or ended call: the calls this number is on, who reached it.

  KEYS[1] {n:callee}:v   callee state hash:
                           `wm` watermark; `c<call>` call context (opaque JSON, while in progress);
                           `a<call>` "level|step|answeredAt" alert state of a call in progress;
                           `z<call>` "endedAt|talk|level" tombstone of an ended call;
                           `s<caller>` last time a suspect caller reached this number;
                           `o<caller>` cooldown: no new alert for this pair before this time
  KEYS[2] {n:callee}:f   familiarity: caller fingerprint -> bits (1 callee called it, 2 they talked)

  ARGV[1] op: 'a' apply, 'r' read (the sweep)
  ARGV[2] event time, epoch ms (read: the sweep's event-time now)
  ARGV[3] type: 'N' answered, 'E' ended
  ARGV[4] call fingerprint
  ARGV[5] caller fingerprint
  ARGV[6] lateness, ms
  ARGV[7] talk seconds (ended)
  ARGV[8] 1 when the caller's own score makes it a suspect
  ARGV[9] call context JSON (answered)
  ARGV[10] TTL of the state key, seconds
  ARGV[11] ring window, ms (distinct suspect callers counted over it)
  ARGV[12] minimum talk seconds that make a pair familiar
  ARGV[13] familiarity TTL, seconds

  Returns { status, familiarity bits, distinct suspect callers in the ring window, context or '',
            alert level, alert step, answeredAt, ended (0/1), talk }
  status: 0 applied, 1 duplicate, 2 late (dropped), 3 read
]]
local op = ARGV[1]
local t = tonumber(ARGV[2])
local late = tonumber(ARGV[6])
local call = ARGV[4]
local caller = ARGV[5]
local ring = tonumber(ARGV[11])

local wm = tonumber(redis.call('HGET', KEYS[1], 'wm') or '0')
local status = 3
local ctx = redis.call('HGET', KEYS[1], 'c' .. call) or ''
local level, step, answered = 0, -1, 0
local a = redis.call('HGET', KEYS[1], 'a' .. call)
if a then
  local l, s, at = string.match(a, '^(%d+)|(%-?%d+)|(%d+)$')
  level, step, answered = tonumber(l), tonumber(s), tonumber(at)
end
local ended, talk = 0, 0
local z = redis.call('HGET', KEYS[1], 'z' .. call)
if z then
  local te, tk, l = string.match(z, '^(%d+)|(%d+)|(%d+)$')
  ended, talk, level = 1, tonumber(tk), tonumber(l)
end

if op == 'a' then
  if wm > 0 and t < wm - late then
    return { 2, 0, 0, '', 0, -1, 0, 0, 0 }
  end
  if ARGV[3] == 'N' then
    if ctx ~= '' or ended == 1 then
      status = 1
    else
      status = 0
      ctx = ARGV[9]
      answered = t
      redis.call('HSET', KEYS[1], 'c' .. call, ctx, 'a' .. call, '0|-1|' .. t)
      if ARGV[8] == '1' then
        local prev = tonumber(redis.call('HGET', KEYS[1], 's' .. caller) or '0')
        if t > prev then redis.call('HSET', KEYS[1], 's' .. caller, t) end
      end
    end
  else
    if ended == 1 then
      status = 1
    else
      status = 0
      ended = 1
      talk = tonumber(ARGV[7])
      redis.call('HSET', KEYS[1], 'z' .. call, t .. '|' .. talk .. '|' .. level)
      redis.call('HDEL', KEYS[1], 'c' .. call, 'a' .. call)
      -- A long call makes the pair familiar, unless it was alerted: a scammer's call must not
      -- whitelist the scammer for the next one.
      if talk >= tonumber(ARGV[12]) and level == 0 then
        local fam = tonumber(redis.call('HGET', KEYS[2], caller) or '0')
        if math.floor(fam / 2) % 2 == 0 then redis.call('HSET', KEYS[2], caller, fam + 2) end
        redis.call('EXPIRE', KEYS[2], tonumber(ARGV[13]))
      end
    end
  end
  if status == 0 then
    if t > wm then
      wm = t
      redis.call('HSET', KEYS[1], 'wm', t)
    end
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
  end
end

-- One pass: count distinct suspect callers in the ring window; on apply, drop what has expired.
local n = 0
local now = t
if op == 'a' then now = wm end
local all = redis.call('HGETALL', KEYS[1])
local prune = status == 0 and #all > 48
for i = 1, #all, 2 do
  local f = all[i]
  local kind = string.sub(f, 1, 1)
  if kind == 's' then
    local ts = tonumber(all[i + 1])
    if ts >= now - ring and ts <= now + late then
      n = n + 1
    elseif prune and ts < wm - ring - late then
      redis.call('HDEL', KEYS[1], f)
    end
  elseif prune and kind == 'z' then
    local te = tonumber(string.match(all[i + 1], '^(%d+)'))
    if te < wm - late then redis.call('HDEL', KEYS[1], f) end
  elseif prune and kind == 'o' then
    if tonumber(all[i + 1]) < wm then redis.call('HDEL', KEYS[1], f) end
  elseif prune and kind == 'a' then
    local at = tonumber(string.match(all[i + 1], '(%d+)$'))
    if at < wm - 21600000 then
      redis.call('HDEL', KEYS[1], f, 'c' .. string.sub(f, 2))
    end
  end
end
local fam = tonumber(redis.call('HGET', KEYS[2], caller) or '0')
return { status, fam, n, ctx, level, step, answered, ended, talk }
