--[[
  Caller side of one call event: bucketed windows of the calling number (event time).

  KEYS[1] {n:caller}:w   windows hash: bucket fields `<g><k>` = "a,u,s,d,tt,e", `wm`, `fs`, `rg`, `dr`
  KEYS[2] {n:caller}:k   calls seen: call fingerprint -> "mask:tLast" (bits 1 attempt, 2 answered, 4 ended)
  KEYS[3] {n:caller}:x<day>  HyperLogLog of the day's callees
  KEYS[4] {n:caller}:f   familiarity: callee fingerprint -> bits (1 caller called it, 2 they talked)
  KEYS[5] {n:caller}:l   list mirror: scope -> "list|expiresAtMs|reason"

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

  Buckets: g='m' 2 min (10-min window), 'h' 10 min (1-hour window), 'd' 2 h (24-hour window).
  A bucket counts while any part of it lies inside the window, so a window is W to W + bucket.

  Returns { status, wm, fs, a10, a60, u60, s60, d60, tt60, e60, a1440, u1440, d1440, lists_global,
            lists_carrier, distinct_regions, region, mask of the call's applied event types }
  status: 0 applied, 1 duplicate (no change), 2 late (older than watermark - lateness, dropped), 3 read
]]
local op = ARGV[1]
local t = tonumber(ARGV[2])
local late = tonumber(ARGV[6])
local ttl = tonumber(ARGV[9])

local G = { m = 120000, h = 600000, d = 7200000 }
local W = { m = 600000, h = 3600000, d = 86400000 }

local wm = tonumber(redis.call('HGET', KEYS[1], 'wm') or '0')
local status = 3
local applied = 0

if op == 'a' then
  if wm > 0 and t < wm - late then
    return { 2, wm }
  end
  local typ = ARGV[3]
  local bit = (typ == 'A' and 1) or (typ == 'N' and 2) or 4
  local prior = redis.call('HGET', KEYS[2], ARGV[4])
  local mask, last = 0, t
  if prior then
    local m, f = string.match(prior, '^(%d+):(%d+)$')
    mask, last = tonumber(m), tonumber(f)
  end
  applied = mask
  if math.floor(mask / bit) % 2 == 1 then
    status = 1
  else
    applied = mask + bit
    status = 0
    redis.call('HSET', KEYS[2], ARGV[4], (mask + bit) .. ':' .. math.max(last, t))
    redis.call('EXPIRE', KEYS[2], ttl)
    local da, du, ds, dd, dt, de = 0, 0, 0, 0, 0, 0
    if typ == 'A' then
      da = 1
      if redis.call('PFADD', KEYS[3], ARGV[5]) == 1 then dd = 1 end
      redis.call('EXPIRE', KEYS[3], ttl)
      local fam = tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0')
      if fam % 2 == 0 then redis.call('HSET', KEYS[4], ARGV[5], fam + 1) end
      redis.call('EXPIRE', KEYS[4], tonumber(ARGV[12]))
      local rg = ARGV[11]
      if rg ~= '' then
        local dr = redis.call('HGET', KEYS[1], 'dr') or ''
        local n = 0
        for _ in string.gmatch(dr, '[^,]+') do n = n + 1 end
        if n < 16 and not string.find(',' .. dr .. ',', ',' .. rg .. ',', 1, true) then
          redis.call('HSET', KEYS[1], 'dr', (dr == '' and rg) or (dr .. ',' .. rg))
        end
        redis.call('HSET', KEYS[1], 'rg', rg)
      end
    elseif typ == 'N' then
      du = 1
    else
      de = 1
      local talk = tonumber(ARGV[7])
      dt = talk
      if talk > 0 and talk < tonumber(ARGV[8]) then ds = 1 end
      if talk >= tonumber(ARGV[13]) then
        local fam = tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0')
        if math.floor(fam / 2) % 2 == 0 then redis.call('HSET', KEYS[4], ARGV[5], fam + 2) end
        redis.call('EXPIRE', KEYS[4], tonumber(ARGV[12]))
      end
    end
    for g, size in pairs(G) do
      local f = g .. math.floor(t / size)
      local v = redis.call('HGET', KEYS[1], f)
      local a, u, s, d, tt, e = 0, 0, 0, 0, 0, 0
      if v then
        a, u, s, d, tt, e = string.match(v, '^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$')
      end
      redis.call('HSET', KEYS[1], f,
        (a + da) .. ',' .. (u + du) .. ',' .. (s + ds) .. ',' .. (d + dd) .. ',' .. (tt + dt) .. ',' .. (e + de))
    end
    local fs = tonumber(redis.call('HGET', KEYS[1], 'fs') or '0')
    if fs == 0 or t < fs then redis.call('HSET', KEYS[1], 'fs', t) end
    if t > wm then
      wm = t
      redis.call('HSET', KEYS[1], 'wm', t)
    end
    redis.call('EXPIRE', KEYS[1], ttl)
    -- Forget calls once nothing about them can still arrive (ended and past lateness, or stale).
    if redis.call('HLEN', KEYS[2]) > 32 then
      local all = redis.call('HGETALL', KEYS[2])
      for i = 1, #all, 2 do
        local m, f = string.match(all[i + 1], '^(%d+):(%d+)$')
        m, f = tonumber(m), tonumber(f)
        if (m >= 4 and f < wm - late) or f < wm - late - 21600000 then
          redis.call('HDEL', KEYS[2], all[i])
        end
      end
    end
  end
end

-- Windows are read at the number's watermark (or at the asked time, for the sweep).
local now = t
if op == 'a' then now = wm end
local sums = { m = { 0, 0, 0, 0, 0, 0 }, h = { 0, 0, 0, 0, 0, 0 }, d = { 0, 0, 0, 0, 0, 0 } }
local all = redis.call('HGETALL', KEYS[1])
local fs, rg, dr = 0, '', ''
for i = 1, #all, 2 do
  local f = all[i]
  local g = string.sub(f, 1, 1)
  local size = G[g]
  if size and string.match(f, '^%a%d+$') then
    local k = tonumber(string.sub(f, 2))
    if k >= math.floor((now - W[g]) / size) and k <= math.floor(now / size) then
      local a, u, s, d, tt, e = string.match(all[i + 1], '^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$')
      local acc = sums[g]
      acc[1] = acc[1] + a; acc[2] = acc[2] + u; acc[3] = acc[3] + s
      acc[4] = acc[4] + d; acc[5] = acc[5] + tt; acc[6] = acc[6] + e
    elseif status == 0 and k < math.floor((wm - W[g] - late) / size) then
      redis.call('HDEL', KEYS[1], f)
    end
  elseif f == 'fs' then
    fs = tonumber(all[i + 1])
  elseif f == 'rg' then
    rg = all[i + 1]
  elseif f == 'dr' then
    dr = all[i + 1]
  end
end
local nr = 0
for _ in string.gmatch(dr, '[^,]+') do nr = nr + 1 end
local lg = redis.call('HGET', KEYS[5], '*') or ''
local lc = redis.call('HGET', KEYS[5], ARGV[10]) or ''
local m, h, d = sums.m, sums.h, sums.d
return { status, wm, fs, m[1], h[1], h[2], h[3], h[4], h[5], h[6], d[1], d[2], d[4], lg, lc, nr, rg, applied }
