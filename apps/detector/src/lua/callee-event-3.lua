--[[
  Callee side of one answered or ended call: the calls this number is on, who reached it.

  KEYS[1] {n:callee}:v   callee state hash (empty, hence gone, when nothing is going on):
                           `c<call>` call context (opaque JSON) while the call is in progress;
                           `a<call>` "level|step|answeredAt" alert state of a call in progress;
                           `z<call>` "endedAt|talk|level" an alerted call that ended (kept for lateness);
                           `s<caller>` last time a suspect caller reached this number;
                           `o<caller>` cooldown: no new alert for this pair before this time
  KEYS[2] {n:callee}:f   familiarity: `<caller>` = 1 the callee called it, `t<caller>` = 1 they talked
  KEYS[3] {n:callee}:w   the callee's own caller windows (caller-event-4.lua): an answered call
                           it RECEIVED counts there once it ends with talk, in `J<k>` (2-hour bucket
                           k) and `I<day>` (UTC day); when the callee had called this caller before
                           (a call back), also in `K<k>` and `R<day>`. Plain integers (HINCRBY).

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
  ARGV[14] 1 to count the received call in KEYS[3] (an ENDED event with talk, applied for the
           first time by the caller script), else 0
  ARGV[15] ARGV[16]  the event time's 2-hour bucket index and UTC day, as digits
  ARGV[17] TTL of KEYS[3] (the windows hash), seconds

  Late events never get here: the caller script of the same event drops them first.

  Returns { status, familiarity bits (1 called before, 2 talked before), distinct suspect callers in
            the ring window, context or '', alert level, alert step, answeredAt, ended (0/1), talk }
  status: 0 applied, 1 duplicate, 3 read
]]
local op = ARGV[1]
local ts = ARGV[2]
local t = tonumber(ts)
local sbyte = string.byte
local late = tonumber(ARGV[6])
local call = ARGV[4]
local caller = ARGV[5]
local ring = tonumber(ARGV[11])

local h = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
local status = 3
local ctx = h['c' .. call] or ''
local level, step, answered = 0, -1, 0
if h['a' .. call] then
  local l, s, at = string.match(h['a' .. call], '^(%d+)|(%-?%d+)|(%d+)$')
  level, step, answered = tonumber(l), tonumber(s), tonumber(at)
end
local ended, talk = 0, 0
if h['z' .. call] then
  local _, tk, l = string.match(h['z' .. call], '^(%d+)|(%d+)|(%d+)$')
  ended, talk, level = 1, tonumber(tk), tonumber(l)
end
local fam = redis.call('HMGET', KEYS[2], caller, 't' .. caller)
local bits = ((fam[1] and 1) or 0) + ((fam[2] and 2) or 0)
local set, drop = {}, {}

if op == 'a' then
  if ARGV[3] == 'N' then
    if ctx ~= '' or ended == 1 then
      status = 1
    else
      status = 0
      ctx = ARGV[9]
      answered = t
      set = { 'c' .. call, ctx, 'a' .. call, '0|-1|' .. ts }
      if ARGV[8] == '1' and t > tonumber(h['s' .. caller] or '0') then
        set[#set + 1] = 's' .. caller
        set[#set + 1] = ts
        h['s' .. caller] = ts
      end
    end
  elseif ended == 1 then
    status = 1
  else
    status = 0
    ended = 1
    talk = tonumber(ARGV[7])
    if ctx ~= '' then
      drop = { 'c' .. call, 'a' .. call }
      h['c' .. call], h['a' .. call] = nil, nil
      -- only an alerted call needs remembering after its end (CallEnded, no post-call alert)
      if level > 0 then set = { 'z' .. call, ts .. '|' .. ARGV[7] .. '|' .. (level == 1 and '1' or '2') } end
    end
    -- A long call makes the pair familiar, unless it was alerted: a scammer's call must not
    -- whitelist the scammer for the next one.
    if talk >= tonumber(ARGV[12]) and level == 0 then
      redis.call('HSETNX', KEYS[2], 't' .. caller, 1)
      redis.call('EXPIRE', KEYS[2], tonumber(ARGV[13]))
    end
  end
end
-- A received call counts in the callee's own windows (its incoming share, who calls it back); the
-- caller script's replay guard decided it is the first time (ARGV[14]).
if op == 'a' and ARGV[3] == 'E' and ARGV[14] == '1' and tonumber(ARGV[7]) > 0 then
  local jf = 'J' .. ARGV[15]
  if redis.call('HINCRBY', KEYS[3], jf, 1) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[17]) end
  redis.call('HINCRBY', KEYS[3], 'I' .. ARGV[16], 1)
  if bits % 2 == 1 then
    redis.call('HINCRBY', KEYS[3], 'K' .. ARGV[15], 1)
    redis.call('HINCRBY', KEYS[3], 'R' .. ARGV[16], 1)
  end
end

-- Count distinct suspect callers in the ring window; on apply, drop what has expired.
local n = 0
for f, v in pairs(h) do
  local kind = sbyte(f)
  if kind == 115 then -- s
    local ts = tonumber(v)
    if ts >= t - ring and ts <= t + late then
      n = n + 1
    elseif status == 0 and ts < t - ring - late then
      drop[#drop + 1] = f
    end
  elseif status == 0 and kind == 122 then -- z
    if tonumber(string.match(v, '^(%d+)')) < t - late then drop[#drop + 1] = f end
  elseif status == 0 and kind == 111 then -- o
    if tonumber(v) < t - late then drop[#drop + 1] = f end
  elseif status == 0 and kind == 97 then -- a
    -- a call whose end never arrived
    if tonumber(string.match(v, '(%d+)$')) < t - 21600000 then
      drop[#drop + 1] = f
      drop[#drop + 1] = 'c' .. string.sub(f, 2)
    end
  end
end
if status == 0 then
  if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
  if #drop > 0 then redis.call('HDEL', KEYS[1], unpack(drop)) end
  if #set > 0 then redis.call('EXPIRE', KEYS[1], ARGV[10]) end
end
return { status, bits, n, ctx, level, step, answered, ended, talk }
