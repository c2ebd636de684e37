--[[
  Node caller windows (DETECTOR_CALLER_WINDOWS=node): what stays in Redis of a key group's new
  caller events, which a number's windows string cannot hold: the familiarity hash, the callees the
  number has called (and the UTC day it last called each) and those it talked with long enough.
  Keys as caller-batch-1.lua's.

  KEYS[1] <stem>
  <stem>n:<number>:f     familiarity hash: `<callee>` = X * 2^33 + e * 2^32 + c, where X = 2 * (the
                         last UTC day the number called it), + 1 when it also called it the day
                         before that day (so a late attempt of the day before is judged exactly);
                         c is the 32-bit tag of the call that made that day the last (its first
                         call of the day) and e 1 when that call was the number's first to the
                         callee ever. A value below 2^33 is X alone (written before the tag).
                         `t<callee>` = 1 they talked long enough.
                         (caller-batch-1.lua, the script windows, stores `<callee>` = 1 and keeps
                         each day's callees in a HyperLogLog `<stem>n:<number>:x<day>`, asked for
                         such a field.)
  ARGV[1] TTL of a familiarity hash, seconds: the familiarity's own plus a day (set on the number's
          first attempt of each day and when a talked field is added; a hash without a TTL gets
          one when any field is added)
  then 5 fields per operation: op, number token, callee fingerprint, UTC day (event time), call tag
    'a' a new attempt: was the callee new for the day, and new ever? The callee's field updated
    'A' the same, for the number's first attempt of the day that the detector saw: the TTL set
    't' an ended call that talked long enough: HSETNX of 't<callee>' in the familiarity hash
  Returns two characters per attempt ('a'/'A'), in order: '1' when the callee is new for that day
  (a new distinct callee of the day), then '1' when the number had never called it.
  One HGET per attempt and an HSET for a callee new for the day: a HyperLogLog per number and day
  cost a PFADD per attempt, an EXPIRE a day and about 150 bytes per active number.

  Asked again for the call that made the field's day (same tag, same day), it answers as it did
  the first time and writes nothing: the detector may apply an event again after a restart, onto
  windows written before the event (their writes are deferred, DETECTOR_WINDOWS_WRITE_DELAY_MS),
  and the replayed attempt must count its callee as the first application did.
]]
local STEM, FAM_TTL = KEYS[1], ARGV[1]
local floor = math.floor
local X2, E2 = 8589934592, 4294967296 -- 2^33, 2^32
-- (Every Lua operation costs Redis about a tenth of a microsecond or more: each key is made in one
-- concatenation, a callee never called is known from the missing field without a conversion, and
-- the reply takes one piece per attempt.)
local out, k = {}, 0
for o = 2, #ARGV, 5 do
  local op, x = ARGV[o], ARGV[o + 2]
  local kf = STEM .. 'n:' .. ARGV[o + 1] .. ':f'
  if op == 't' then
    if redis.call('HSETNX', kf, 't' .. x, '1') == 1 then redis.call('EXPIRE', kf, FAM_TTL) end
  else
    local d = tonumber(ARGV[o + 3])
    local raw = redis.call('HGET', kf, x)
    local v = raw and (tonumber(raw) or -1) or -1
    local new, distinct, nv = v < 0, false, nil
    local tag = tonumber(ARGV[o + 4])
    local e, c = 0, -1
    if v >= X2 then
      -- the tagged form: the day's value, then whether its call was the first ever, and its tag
      local xv = floor(v / X2)
      c = v - xv * X2
      if c >= E2 then e, c = 1, c - E2 end
      v = xv
    end
    if c == tag and floor(v / 2) == d then
      -- the call that made this day the last, asked again (a replay): the same answer, no write
      distinct, new = true, e == 1
    elseif new then
      distinct, nv = true, 2 * d * X2 + E2 + tag
    elseif v == 1 then
      -- written by the script windows, which keep each day's callees in a HyperLogLog: asked once
      -- (a deployment switching from them keeps its day's counts), then the day is stored here
      local hll = STEM .. 'n:' .. ARGV[o + 1] .. ':x' .. ARGV[o + 3]
      distinct = redis.call('EXISTS', hll) == 0 or redis.call('PFADD', hll, x) == 1
      nv = 2 * d * X2 + tag
    else
      local last = floor(v / 2)
      if d > last then
        distinct, nv = true, (2 * d + ((last == d - 1) and 1 or 0)) * X2 + tag
      elseif d == last - 1 and v % 2 == 0 then
        -- a late attempt of the day before the last: that day's first call to this callee (the
        -- last day's call keeps the tag)
        distinct, nv = true, (v + 1) * X2 + e * E2 + (c >= 0 and c or 0)
      end
    end
    if nv then redis.call('HSET', kf, x, nv) end
    k = k + 1
    out[k] = distinct and (new and '11' or '10') or (new and '01' or '00')
    -- The TTL is set again on the number's first attempt of each day, and it is a day longer than
    -- the familiarity lasts: a callee first called later that day stays at least as long as the
    -- familiarity after its call. A callee new ever only makes sure the hash has a TTL at all (NX:
    -- one it has is left alone, and nothing is written): for a number calling new callees all day
    -- (the benchmark's traffic, a fan-out scammer's) that was an EXPIRE written to the append-only
    -- file per attempt (issue 13).
    if op == 'A' then
      redis.call('EXPIRE', kf, FAM_TTL)
    elseif new then
      redis.call('EXPIRE', kf, FAM_TTL, 'NX')
    end
  end
end
return table.concat(out)
