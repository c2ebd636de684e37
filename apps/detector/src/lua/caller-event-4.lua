--[[
  Caller side of one call event: bucketed windows of the calling number (event time).

  KEYS[1] {n:caller}:w   windows hash:
                           `<g><k>` bucket counters "a,u,s,d,tt,e" (attempts, answered, short answered,
                             new distinct callees, talk seconds, ended answered calls); g = m (2 min),
                             h (10 min), d (2 h)
                           `c<call>` "mask:tLast" event types applied to a call (1 attempt, 2 answered,
                             4 ended): the replay guard
                           `wm` watermark (newest event time), `fs` first seen, `rg` last callee
                           region, `dr` distinct callee regions (up to 16)
  KEYS[2] {n:caller}:x<day>  HyperLogLog of the day's callees (new distinct callee = PFADD changed it)
  KEYS[3] {n:caller}:f   familiarity: `<callee>` = 1 the caller called it, `t<callee>` = 1 they talked
  KEYS[4] {n:caller}:l   list mirror: scope -> "list|expiresAtMs|reason"

  ARGV[1] op: 'a' apply the event, 'r' read windows at time ARGV[2] only
  ARGV[2] event time, epoch ms
  ARGV[3] type: 'A' attempt, 'N' answered, 'E' ended
  ARGV[4] call fingerprint
  ARGV[5] callee fingerprint
  ARGV[6] lateness, ms
  ARGV[7] talk seconds (ended only)
  ARGV[8] short-call limit, seconds
  ARGV[9] TTL of the window keys, seconds
  ARGV[10] carrier id (list scope)
  ARGV[11] callee region
  ARGV[12] familiarity TTL, seconds
  ARGV[13] minimum talk seconds that make a pair familiar

  A bucket counts while any part of it lies inside the window, so a window is W to W + bucket.

  Returns { status, wm, fs, a10, a60, u60, s60, d60, tt60, e60, a1440, u1440, d1440, lists_global,
            lists_carrier, distinct_regions, region, mask of the call's applied event types }
  (the end of an unanswered call, which changes no counter, returns no window sums: all 0)
  status: 0 applied, 1 duplicate (no change), 2 late (older than watermark - lateness, dropped), 3 read
]]
local op = ARGV[1]
local t = tonumber(ARGV[2])
local late = tonumber(ARGV[6])
local ttl = tonumber(ARGV[9])
local G = { m = 120000, h = 600000, d = 7200000 }
local W = { m = 600000, h = 3600000, d = 86400000 }

local h = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
local wm = tonumber(h.wm or '0')
local status, applied = 3, 0
local light = false
local set = {}

if op == 'a' then
  if wm > 0 and t < wm - late then
    return { 2, wm }
  end
  local typ = ARGV[3]
  local bit = (typ == 'A' and 1) or (typ == 'N' and 2) or 4
  local cf = 'c' .. ARGV[4]
  local mask, last = 0, t
  if h[cf] then
    local m, f = string.match(h[cf], '^(%d+):(%d+)$')
    mask, last = tonumber(m), tonumber(f)
  end
  applied = mask
  if math.floor(mask / bit) % 2 == 1 then
    status = 1
  else
    status = 0
    applied = mask + bit
    set[#set + 1] = cf
    set[#set + 1] = applied .. ':' .. math.max(last, t)
    local da, du, ds, dd, dt, de = 0, 0, 0, 0, 0, 0
    if typ == 'A' then
      da = 1
      if redis.call('PFADD', KEYS[2], ARGV[5]) == 1 then
        dd = 1
        redis.call('EXPIRE', KEYS[2], ttl)
      end
      redis.call('HSETNX', KEYS[3], ARGV[5], 1)
      redis.call('EXPIRE', KEYS[3], tonumber(ARGV[12]))
      local rg = ARGV[11]
      if rg ~= '' then
        local dr = h.dr or ''
        if not string.find(',' .. dr .. ',', ',' .. rg .. ',', 1, true) then
          local n = 0
          for _ in string.gmatch(dr, '[^,]+') do n = n + 1 end
          if n < 16 then
            dr = (dr == '' and rg) or (dr .. ',' .. rg)
            set[#set + 1] = 'dr'
            set[#set + 1] = dr
            h.dr = dr
          end
        end
        if h.rg ~= rg then
          set[#set + 1] = 'rg'
          set[#set + 1] = rg
          h.rg = rg
        end
      end
    elseif typ == 'N' then
      du = 1
    else
      de = 1
      local talk = tonumber(ARGV[7])
      dt = talk
      if talk > 0 and talk < tonumber(ARGV[8]) then ds = 1 end
      if talk >= tonumber(ARGV[13]) then
        redis.call('HSETNX', KEYS[3], 't' .. ARGV[5], 1)
        redis.call('EXPIRE', KEYS[3], tonumber(ARGV[12]))
      end
    end
    -- the end of an unanswered call changes no counter: only the replay guard above
    light = typ == 'E' and dt == 0 and math.floor(mask / 2) % 2 == 0
    for g, size in pairs(light and {} or G) do
      local f = g .. math.floor(t / size)
      local a, u, s, d, tt, e = 0, 0, 0, 0, 0, 0
      if h[f] then
        a, u, s, d, tt, e = string.match(h[f], '^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$')
      end
      local v = (a + da) .. ',' .. (u + du) .. ',' .. (s + ds) .. ',' .. (d + dd) .. ',' .. (tt + dt) .. ',' .. (e + de)
      h[f] = v
      set[#set + 1] = f
      set[#set + 1] = v
    end
    local fs = tonumber(h.fs or '0')
    if fs == 0 or t < fs then
      set[#set + 1] = 'fs'
      set[#set + 1] = t
      h.fs = tostring(t)
    end
    if t > wm then
      wm = t
      set[#set + 1] = 'wm'
      set[#set + 1] = t
    end
  end
end

-- Windows are read at the number's watermark (or at the asked time, for the sweep). On apply,
-- what can no longer count is dropped: buckets past their window, calls past lateness.
local now = t
if op == 'a' then now = wm end
local sums = { m = { 0, 0, 0, 0, 0, 0 }, h = { 0, 0, 0, 0, 0, 0 }, d = { 0, 0, 0, 0, 0, 0 } }
local drop = {}
for f, v in pairs(h) do
  local g = string.sub(f, 1, 1)
  local size = G[g]
  if size and string.match(f, '^%a%d+$') then
    local k = tonumber(string.sub(f, 2))
    if light then
      if status == 0 and k < math.floor((wm - W[g] - late) / size) then drop[#drop + 1] = f end
    elseif k >= math.floor((now - W[g]) / size) and k <= math.floor(now / size) then
      local a, u, s, d, tt, e = string.match(v, '^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$')
      local acc = sums[g]
      acc[1] = acc[1] + a; acc[2] = acc[2] + u; acc[3] = acc[3] + s
      acc[4] = acc[4] + d; acc[5] = acc[5] + tt; acc[6] = acc[6] + e
    elseif status == 0 and k < math.floor((wm - W[g] - late) / size) then
      drop[#drop + 1] = f
    end
  elseif status == 0 and g == 'c' then
    local m, last = string.match(v, '^(%d+):(%d+)$')
    if (tonumber(m) >= 4 and tonumber(last) < wm - late) or tonumber(last) < wm - late - 21600000 then
      drop[#drop + 1] = f
    end
  end
end
if status == 0 then
  redis.call('HSET', KEYS[1], unpack(set))
  if #drop > 0 then redis.call('HDEL', KEYS[1], unpack(drop)) end
  redis.call('EXPIRE', KEYS[1], ttl)
end
local nr = 0
for _ in string.gmatch(h.dr or '', '[^,]+') do nr = nr + 1 end
local l = {}
if not light then l = redis.call('HMGET', KEYS[4], '*', ARGV[10]) end
local m, hh, d = sums.m, sums.h, sums.d
return { status, wm, tonumber(h.fs or '0'), m[1], hh[1], hh[2], hh[3], hh[4], hh[5], hh[6], d[1], d[2], d[4],
  l[1] or '', l[2] or '', nr, h.rg or '', applied }
