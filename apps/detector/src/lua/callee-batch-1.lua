--[[
  Callee side of a batch of answered and ended calls (and the sweep's reads), all of called numbers
  in one key group: the calls each number is on, who reached it. One call per key group per round,
  the events of one number applied one after another in the order given, exactly as one call per
  event would.

  KEYS[1] <stem>         the group's key stem `<prefix>:{g<k>}:` (libs/redis keys.ts): every key
                         this script touches starts with it, so all of them hash to one slot

  Keys under the stem (built here from KEYS[1] and each event's called number):
  <stem>n:<callee>:v     callee state hash (empty, hence gone, when nothing is going on):
                           `c<call>` call context (opaque JSON) while the call is in progress;
                           `a<call>` "level|step|answeredAt" alert state of a call in progress;
                           `z<call>` "endedAt|talk|level" an alerted call that ended, or (level 0) one
                           whose answer was not applied before its end, from a watched caller
                           (o+8): kept for lateness, so an answer that comes after its end knows it;
                           `s<caller>` last time a suspect caller reached this number;
                           `o<caller>` cooldown: no new alert for this pair before this time
  <stem>n:<callee>:f     familiarity: `<caller>` = 1 the callee called it, `t<caller>` = 1 they talked
  <stem>n:<callee>:w     the callee's own caller windows (caller-batch-1.lua): an answered call it
                           RECEIVED counts there once it ends with talk, in `J<k>` (2-hour bucket k)
                           and `I<day>` (UTC day); when the callee had called this caller before (a
                           call back), also in `K<k>` and `R<day>`. Plain integers (HINCRBY).
                           `rv` counts the received calls counted (their revision: the detector,
                           DETECTOR_CALLER_WINDOWS=node, reads the fields when it changed)

  ARGV[1] lateness, ms
  ARGV[2] TTL of the state key, seconds
  ARGV[3] familiarity TTL, seconds
  ARGV[4] TTL of the windows hash, seconds
  ARGV[5] n, the number of events
  then n events of 12 fields each (event i at offset o = 5 + 12 * (i - 1)):
    o+1 op: 'a' apply, 'r' read (the sweep, a late answer), 'c' count a received call only (an
        ended call with talk, applied by op 'a' without o+12: the detector defers the writes of
        the caller's windows, DETECTOR_WINDOWS_WRITE_DELAY_MS, and counts the call once they are
        stored, so that an event applied again after a restart is counted once; o+8 is then 1 when
        op 'a' found the callee had called the caller before, and o+9 to o+12 are not read)
    o+2 called number token
    o+3 event time, epoch ms (read: the sweep's event-time now)
    o+4 type: 'N' answered, 'E' ended
    o+5 call fingerprint
    o+6 caller fingerprint
    o+7 talk seconds (ended)
    o+8 answered: 1 when the caller's own score makes it a suspect; ended: 1 when the caller is
        watched, so that an answer coming after this end would still be alerted (its end is kept)
    o+9 call context JSON (answered)
    o+10 ring window, ms (distinct suspect callers counted over it)
    o+11 minimum talk seconds that make a pair familiar
    o+12 1 to count the received call in the windows hash (an ENDED event with talk, applied for
         the first time by the caller script), else 0

  Late events never get here: the caller script of the same event drops them first.

  Returns one binary string, the events one after another, each packed as '<BBIHidBIIc0': status,
  familiarity bits (1 called before, 2 talked before), distinct suspect callers in the ring window,
  alert level, alert step, answeredAt (epoch ms), ended (0/1), talk seconds, then the length of the
  call context and the context ('' when the call is not in progress). status: 0 applied,
  1 duplicate, 3 read. (A table of 9 values per event cost Redis twice as much to reply and the
  detector ten times as much to decode.)
]]
local late = tonumber(ARGV[1])
local STATE_TTL, FAM_TTL, HIST_TTL = ARGV[2], ARGV[3], ARGV[4]
local STEM = KEYS[1]
local sbyte, floor, spack = string.byte, math.floor, struct.pack
local out = {}

-- received-call field suffixes of an event time: the 2-hour bucket and the UTC day, as digits
local memo = {}
local function buckets(t)
  local k = floor(t / 7200000)
  local b = memo[k]
  if b then return b end
  b = { tostring(k), tostring(floor(t / 86400000)) }
  memo[k] = b
  return b
end

-- Counts a call the number received, ended at t with talk, in its windows hash `kw`; `back`: it had
-- called the caller before (a call back).
local function count(kw, t, back)
  local B = buckets(t)
  local jf = 'J' .. B[1]
  if redis.call('HINCRBY', kw, jf, '1') == 1 then
    redis.call('EXPIRE', kw, HIST_TTL)
    -- a new 2-hour bucket: received-call buckets no window can read any more are dropped (the
    -- caller script's housekeeping drops them too, but only for a number that also calls, and
    -- not at all when the detector keeps the caller windows: DETECTOR_CALLER_WINDOWS=node)
    local jkeep, ikeep = floor((t - 86400000 - late) / 7200000), floor((t - 518400000 - late) / 86400000)
    local drop = {}
    for _, f in ipairs(redis.call('HKEYS', kw)) do
      local b, d = sbyte(f), sbyte(f, 2) or 0
      if d >= 48 and d <= 57 then
        if (b == 74 or b == 75) and tonumber(string.sub(f, 2)) < jkeep then drop[#drop + 1] = f
        elseif (b == 73 or b == 82) and tonumber(string.sub(f, 2)) < ikeep then drop[#drop + 1] = f end
      end
    end
    if #drop > 0 then redis.call('HDEL', kw, unpack(drop)) end
  end
  redis.call('HINCRBY', kw, 'I' .. B[2], '1')
  -- the received calls' revision: the detector reads the fields again only when it changed
  redis.call('HINCRBY', kw, 'rv', '1')
  if back then
    redis.call('HINCRBY', kw, 'K' .. B[1], '1')
    redis.call('HINCRBY', kw, 'R' .. B[2], '1')
  end
end

local COUNTED = spack('<BBIHidBIIc0', 0, 0, 0, 0, -1, 0, 0, 0, 0, '')

local function event(o)
  local op, ts, typ = ARGV[o + 1], ARGV[o + 3], ARGV[o + 4]
  local t = tonumber(ts)
  local call, caller, ring = ARGV[o + 5], ARGV[o + 6], tonumber(ARGV[o + 10])
  local nb = STEM .. 'n:' .. ARGV[o + 2]
  local kv, kf, kw = nb .. ':v', nb .. ':f', nb .. ':w'
  if op == 'c' then
    if tonumber(ARGV[o + 7]) > 0 then count(kw, t, ARGV[o + 8] == '1') end
    out[#out + 1] = COUNTED
    return
  end


  local h = {}
  local flat = redis.call('HGETALL', kv)
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
  local fam = redis.call('HMGET', kf, caller, 't' .. caller)
  local bits = ((fam[1] and 1) or 0) + ((fam[2] and 2) or 0)
  local set, drop = {}, {}

  if op == 'a' then
    if typ == 'N' then
      if ctx ~= '' or ended == 1 then
        status = 1
      else
        status = 0
        ctx = ARGV[o + 9]
        answered = t
        set = { 'c' .. call, ctx, 'a' .. call, '0|-1|' .. ts }
        if ARGV[o + 8] == '1' and t > tonumber(h['s' .. caller] or '0') then
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
      talk = tonumber(ARGV[o + 7])
      if ctx ~= '' then
        drop = { 'c' .. call, 'a' .. call }
        h['c' .. call], h['a' .. call] = nil, nil
        -- only an alerted call needs remembering after its end (CallEnded, no post-call alert)
        if level > 0 then set = { 'z' .. call, ts .. '|' .. ARGV[o + 7] .. '|' .. (level == 1 and '1' or '2') } end
      elseif ARGV[o + 8] == '1' then
        -- the answer was not applied (it comes after its end, or the call was not watched when it
        -- was answered): the end is kept, so that a late answer's alert has the call's talk time
        set = { 'z' .. call, ts .. '|' .. ARGV[o + 7] .. '|0' }
      end
      -- A long call makes the pair familiar, unless it was alerted: a scammer's call must not
      -- whitelist the scammer for the next one.
      if talk >= tonumber(ARGV[o + 11]) and level == 0 then
        redis.call('HSETNX', kf, 't' .. caller, '1')
        redis.call('EXPIRE', kf, FAM_TTL)
      end
    end
  end
  -- A received call counts in the callee's own windows (its incoming share, who calls it back); the
  -- caller script's replay guard decided it is the first time (field o+12).
  if op == 'a' and typ == 'E' and ARGV[o + 12] == '1' and tonumber(ARGV[o + 7]) > 0 then
    count(kw, t, bits % 2 == 1)
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
    if #set > 0 then redis.call('HSET', kv, unpack(set)) end
    if #drop > 0 then redis.call('HDEL', kv, unpack(drop)) end
    if #set > 0 then redis.call('EXPIRE', kv, STATE_TTL) end
  end
  out[#out + 1] = spack('<BBIHidBIIc0', status, bits, n, level, step, answered, ended, talk, #ctx, ctx)
end

for i = 1, tonumber(ARGV[5]) do event(5 + 12 * (i - 1)) end
return table.concat(out)
