--[[
  Caller side of a batch of call events, all of numbers (and handsets) in one key group: bucketed
  windows of each calling number (event time), then the distinct SIMs of each handset.

  One call applies every event of the round whose number falls in this group, in the order given
  (event time), so a round costs one script call per group rather than one or two per event. The
  events of one number are applied one after another exactly as one call per event would.

  KEYS[1] <stem>         the group's key stem `<prefix>:{g<k>}:` (libs/redis keys.ts): every key
                         this script touches starts with it, so all of them hash to one slot

  Keys under the stem (built here from KEYS[1] and the tokens in ARGV):
  <stem>n:<number>:w     windows hash of a calling number:
                           `M<k>` 2-minute bucket k (event time / 120000): struct '<H' attempts
                           `H<k>` 10-minute bucket: struct '<HHHHIH' attempts, answered, short
                             answered, new distinct callees, talk seconds, ended calls with talk > 0
                           `D<k>` 2-hour bucket: struct '<HHHHIHHH' attempts, answered, new distinct
                             callees of the day, new-ever callees (never called before), talk seconds,
                             ended calls with talk > 0, short ones (talk < the event's short-call
                             limit), long ones (talk >= ARGV[5]); a 6-byte '<HHH' bucket of the
                             earlier layout reads with the missing counters 0 and is rewritten in
                             the new layout when next updated
                           `Y<day>` UTC day bucket (event time / 86400000): the same '<HHHHIHHH' layout
                           `J<k>` `K<k>` `I<day>` `R<day>` answered calls this number RECEIVED (J,
                             I) and those from numbers it had called before (K, R: called back), per
                             2-hour bucket and day: integers written by callee-batch-1.lua
                           (counters saturate at 65535, talk seconds at 2^32 - 1)
                           `c<call>` "mask:tLast" event types applied to a call (1 attempt, 2 answered,
                             4 ended): the replay guard
                           `wm` watermark (newest event time), `fs` first seen, `rg` last callee
                           region, `dr` distinct callee regions (up to 16), `hs` handsets the
                           number called from (device fingerprints, up to 16), `xd` the day whose
                           distinct-callee HyperLogLog has its TTL set, `te` the UTC day (event
                           time) the TTLs of this hash and the familiarity hash were last set
  <stem>n:<number>:x<day>  HyperLogLog of the day's callees (new distinct callee = PFADD changed it)
  <stem>n:<number>:f     familiarity: `<callee>` = 1 the caller called it, `t<callee>` = 1 they talked
  <stem>n:<number>:l     list mirror: scope -> "list|expiresAtMs|reason"

  <stem>d:<device>:s     HyperLogLog of the caller fingerprints seen on one handset

  ARGV[1] lateness, ms
  ARGV[2] TTL of a day's distinct-callee HyperLogLog, seconds
  ARGV[3] familiarity TTL, seconds
  ARGV[4] TTL of a windows hash, seconds: it keeps 7 days of day buckets
  ARGV[5] long-call limit, seconds
  ARGV[6] TTL of a handset's SIM HyperLogLog, seconds (refreshed when a new SIM is added)
  ARGV[7] n, the number of caller events; ARGV[8] m, the number of handset operations
  then n events of 12 fields each (event i at offset o = 8 + 12 * (i - 1)):
    o+1 op: 'a' apply the event, 'r' read windows at time o+3 only
    o+2 number token (the caller, or the number whose own windows a read wants)
    o+3 event time, epoch ms
    o+4 type: 'A' attempt, 'N' answered, 'E' ended
    o+5 call fingerprint
    o+6 counterpart (callee) fingerprint
    o+7 talk seconds (ended only)
    o+8 short-call limit, seconds
    o+9 minimum talk seconds that make a pair familiar
    o+10 carrier id (list scope)
    o+11 callee region
    o+12 fingerprint of the calling handset ('' when unknown)
  then m handset operations of 2 fields: handset token, caller fingerprint to add ('' only reads)

  Bucket field names (`M<k>`, `H<k>`, `D<k>`, `Y<day>` and the oldest of each window) are formatted
  once per distinct 2-minute bucket of the batch: number-to-string conversion is the dearest thing
  a Redis Lua script does, and a round's events share a handful of buckets. An event older than
  the number's watermark (out of order) reads at the watermark and computes its bounds itself.

  A bucket counts while any part of it lies inside the window, so a window is W to W + bucket; the
  7-day window is the day of the read time and the six days before it.
  Housekeeping (dropping buckets past their window and replay guards past lateness) runs when a new
  2-minute bucket opens, so at most once per 2 minutes of a number's activity. The TTLs of the
  windows and familiarity hashes are set once per UTC day of event time, each a day longer than
  ARGV[3] and ARGV[4] (so a key lives at least that long after its number's last event), and the
  familiarity hash's also when a field is added to it: two EXPIREs per number and day rather than
  per bucket opened. The lists mirror is read once per number and carrier per call.

  Returns one binary string, the events' replies one after another, then m little-endian doubles
  (each handset's distinct SIMs). One event's reply (decoded by caller-reply.ts; strings rather
  than arrays, which the client would parse value by value): 33 little-endian doubles
    status, wm, fs, a10, a60, u60, s60, d60, tt60, e60, a1440, u1440, d1440, distinct_regions,
    mask of the call's applied event types, n1440, tt1440, e1440, s1440, l1440, slots1440, a7d, u7d,
    d7d, n7d, tt7d, e7d, days7d, in1440, back1440, in7d, back7d, handsets
  then three strings, each after its '<H' length: lists_global, lists_carrier, region.
  (10-minute/1-hour/24-hour/7-day sums: a attempts, u answered, s short answered (1 h) or short
  (24 h), d new distinct callees of the day, n new-ever callees, tt talk seconds, e ended with talk,
  l long; slots1440: 2-hour buckets of the 24 hours with attempts, days7d: days of the 7 with
  attempts; in: answered calls received, back: received from numbers this one had called. The end
  of an unanswered call, which changes no counter, and a late event return every window sum as 0
  and empty strings)
  status: 0 applied, 1 duplicate (no change; also when older than the watermark), 2 late (a new event
  older than watermark - lateness, dropped), 3 read
]]
local late = tonumber(ARGV[1])
local HLL_TTL, LONG_S, SIM_TTL = ARGV[2], tonumber(ARGV[5]), ARGV[6]
-- as strings once: Lua turns a number into a string by sprintf, each time it is passed to redis.call
local FAM_TTL_D, HIST_TTL_D = tostring(tonumber(ARGV[3]) + 86400), tostring(tonumber(ARGV[4]) + 86400)
local STEM = KEYS[1]
local floor, sbyte, min = math.floor, string.byte, math.min
local spack, sunpack = struct.pack, struct.unpack
local MASKS = { '1', '2', '3', '4', '5', '6', '7' }
-- 33 doubles, then three strings each after its '<H' length ('c0' packs a whole string)
local REPLY = '<' .. string.rep('d', 33) .. 'Hc0Hc0Hc0'
-- a late event's reply: status and watermark, every sum 0, three empty strings
local LATE = '<dd'
local LATE_TAIL = string.rep(spack('<d', 0), 31) .. spack('<HHH', 0, 0, 0)

-- bucket fields of an event time, by 2-minute bucket m: own M, H, D; oldest M, H, D inside the
-- 10-minute, 1-hour and 24-hour windows; the UTC day; own Y and oldest Y of the 7-day window
local memo = {}
-- the lists mirror of a number and carrier, read once per call (nothing in this script writes it)
local lists = {}
local function buckets(t)
  local m = floor(t / 120000)
  local b = memo[m]
  if b then return b end
  local hh, dd, day = floor(m / 5), floor(m / 60), floor(m / 720)
  local dlo, ylo = dd - 12, day - 6
  b = { 'M' .. m, 'H' .. hh, 'D' .. dd, 'M' .. (m - 5), 'H' .. (hh - 6), 'D' .. dlo, tostring(day), 'Y' .. day,
    'Y' .. ylo, 'J' .. dlo, 'J' .. dd, 'K' .. dlo, 'K' .. dd, 'I' .. ylo, 'I' .. day, 'R' .. ylo, 'R' .. day, day }
  memo[m] = b
  return b
end

-- `item` added to a comma-separated set of at most 16 (callee regions, handsets): the new list, or
-- nil when it holds the item already or is full
local function listAdd(list, item)
  if list == '' then return item end
  if string.find(',' .. list .. ',', ',' .. item .. ',', 1, true) then return nil end
  local _, commas = string.gsub(list, ',', '')
  if commas >= 15 then return nil end
  return list .. ',' .. item
end

local function event(o)
  local op, ts = ARGV[o + 1], ARGV[o + 3]
  local t = tonumber(ts)
  local nb = STEM .. 'n:' .. ARGV[o + 2]
  local kw, kf, cp = nb .. ':w', nb .. ':f', ARGV[o + 6]
  local B = buckets(t)

  local flat = redis.call('HGETALL', kw)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  local wm = tonumber(h.wm or '0')
  local status, applied = 3, 0
  local light = false
  local opened = #flat == 0
  local set, n = {}, 0
  -- a field was added to the familiarity hash (its TTL is set below)
  local famNew = false

  if op == 'a' then
    local typ = ARGV[o + 4]
    local bit = (typ == 'A' and 1) or (typ == 'N' and 2) or 4
    local cf = 'c' .. ARGV[o + 5]
    local mask, lastS = 0, ts
    local guard = h[cf]
    if guard then
      local m, l = string.match(guard, '^(%d+):(%d+)$')
      mask = tonumber(m)
      if tonumber(l) > t then lastS = l end
    end
    -- an event its call's guard already holds is a duplicate however old (a replica killed between
    -- rounds: the call's end, applied since, moved the watermark past the answer it redelivers); only
    -- a new event older than the watermark by more than the lateness is late
    local known = floor(mask / bit) % 2 == 1
    if not known and wm > 0 and t < wm - late then
      return spack(LATE, 2, wm) .. LATE_TAIL
    end
    applied = mask
    if known then
      status = 1
    else
      status = 0
      applied = mask + bit
      set[1], set[2], n = cf, MASKS[applied] .. ':' .. lastS, 2
      h[cf] = set[2] -- housekeeping below judges the guard as it is now
      local da, du, ds, dd, dt, de, dn, dl = 0, 0, 0, 0, 0, 0, 0, 0
      if typ == 'A' then
        da = 1
        if redis.call('PFADD', nb .. ':x' .. B[7], cp) == 1 then
          dd = 1
          if h.xd ~= B[7] then
            redis.call('EXPIRE', nb .. ':x' .. B[7], HLL_TTL)
            set[n + 1], set[n + 2], n = 'xd', B[7], n + 2
          end
        end
        if redis.call('HSETNX', kf, cp, '1') == 1 then
          dn = 1
          famNew = true
        end
        local rg = ARGV[o + 11]
        if rg ~= '' then
          local dr = listAdd(h.dr or '', rg)
          if dr then
            set[n + 1], set[n + 2], n = 'dr', dr, n + 2
            h.dr = dr
          end
          if h.rg ~= rg then
            set[n + 1], set[n + 2], n = 'rg', rg, n + 2
            h.rg = rg
          end
        end
        local dv = ARGV[o + 12]
        if dv ~= '' then
          local hs = listAdd(h.hs or '', dv)
          if hs then
            set[n + 1], set[n + 2], n = 'hs', hs, n + 2
            h.hs = hs
          end
        end
      elseif typ == 'N' then
        du = 1
      else
        dt = tonumber(ARGV[o + 7])
        if dt > 0 then
          de = 1
          if dt < tonumber(ARGV[o + 8]) then ds = 1 end
          if dt >= LONG_S then dl = 1 end
        end
        if dt >= tonumber(ARGV[o + 9]) then
          if redis.call('HSETNX', kf, 't' .. cp, '1') == 1 then famNew = true end
        end
      end
      -- the end of an unanswered call changes no counter: only the replay guard above
      light = typ == 'E' and dt == 0 and floor(mask / 2) % 2 == 0
      if not light then
        local f, v = B[1], nil
        v = h[f]
        if v then v = spack('<H', min(sunpack('<H', v) + da, 65535)) else
          v = spack('<H', da)
          opened = true
        end
        h[f] = v
        set[n + 1], set[n + 2], n = f, v, n + 2
        f = B[2]
        local a, u, s, d, tt, e = 0, 0, 0, 0, 0, 0
        if h[f] then a, u, s, d, tt, e = sunpack('<HHHHIH', h[f]) end
        v = spack('<HHHHIH', min(a + da, 65535), min(u + du, 65535), min(s + ds, 65535), min(d + dd, 65535),
          min(tt + dt, 4294967295), min(e + de, 65535))
        h[f] = v
        set[n + 1], set[n + 2], n = f, v, n + 2
        -- the 2-hour and the day bucket: same layout, same increments
        for i = 3, 8, 5 do
          f = B[i]
          v = h[f]
          local nw, lg = 0, 0
          a, u, s, d, tt, e = 0, 0, 0, 0, 0, 0
          if v then
            if #v == 6 then a, u, d = sunpack('<HHH', v) else a, u, d, nw, tt, e, s, lg = sunpack('<HHHHIHHH', v) end
          end
          v = spack('<HHHHIHHH', min(a + da, 65535), min(u + du, 65535), min(d + dd, 65535), min(nw + dn, 65535),
            min(tt + dt, 4294967295), min(e + de, 65535), min(s + ds, 65535), min(lg + dl, 65535))
          h[f] = v
          set[n + 1], set[n + 2], n = f, v, n + 2
        end
      end
      local fs = tonumber(h.fs or '0')
      if fs == 0 or t < fs then
        set[n + 1], set[n + 2], n = 'fs', ts, n + 2
        h.fs = ts
      end
      if t > wm then
        wm = t
        set[n + 1], set[n + 2], n = 'wm', ts, n + 2
      end
    end
  end

  -- Window bounds as field names (equal digit counts compare like the numbers): from the batch's table when the
  -- windows are read at the event time, computed here when the watermark is ahead of it.
  local mlo, hlo, dlo, ylo, mhi, hhi, dhi, yhi
  local shifted = op == 'a' and wm > t
  if shifted then
    mlo, hlo, dlo = 'M' .. floor((wm - 600000) / 120000), 'H' .. floor((wm - 3600000) / 600000),
      'D' .. floor((wm - 86400000) / 7200000)
    mhi, hhi, dhi = 'M' .. floor(wm / 120000), 'H' .. floor(wm / 600000), 'D' .. floor(wm / 7200000)
    yhi = floor(wm / 86400000)
    ylo, yhi = 'Y' .. (yhi - 6), 'Y' .. yhi
  else
    mlo, hlo, dlo, ylo, mhi, hhi, dhi, yhi = B[4], B[5], B[6], B[9], B[1], B[2], B[3], B[8]
  end
  local m1 = 0
  local h1, h2, h3, h4, h5, h6 = 0, 0, 0, 0, 0, 0
  local d1, d2, d3, d4, d5, d6, d7, d8, d9 = 0, 0, 0, 0, 0, 0, 0, 0, 0
  local y1, y2, y3, y4, y5, y6, y7 = 0, 0, 0, 0, 0, 0, 0
  local j1, k1, i1, r1 = 0, 0, 0, 0
  if not light then
    -- received-call buckets share the 2-hour and day indexes of D and Y
    local jlo, jhi, klo, khi, ilo, ihi, rlo, rhi = B[10], B[11], B[12], B[13], B[14], B[15], B[16], B[17]
    if shifted then
      jlo, jhi, klo, khi = 'J' .. string.sub(dlo, 2), 'J' .. string.sub(dhi, 2), 'K' .. string.sub(dlo, 2),
        'K' .. string.sub(dhi, 2)
      ilo, ihi, rlo, rhi = 'I' .. string.sub(ylo, 2), 'I' .. string.sub(yhi, 2), 'R' .. string.sub(ylo, 2),
        'R' .. string.sub(yhi, 2)
    end
    for f, v in pairs(h) do
      local b = sbyte(f)
      if b == 77 then
        if f >= mlo and f <= mhi and #f == #mlo then m1 = m1 + sunpack('<H', v) end
      elseif b == 72 then
        if f >= hlo and f <= hhi and #f == #hlo then
          local a, u, s, d, tt, e = sunpack('<HHHHIH', v)
          h1, h2, h3, h4, h5, h6 = h1 + a, h2 + u, h3 + s, h4 + d, h5 + tt, h6 + e
        end
      elseif b == 68 then
        if f >= dlo and f <= dhi and #f == #dlo then
          if #v == 6 then
            local a, u, d = sunpack('<HHH', v)
            d1, d2, d3 = d1 + a, d2 + u, d3 + d
            if a > 0 then d9 = d9 + 1 end
          else
            local a, u, d, nw, tt, e, s, lg = sunpack('<HHHHIHHH', v)
            d1, d2, d3, d4, d5, d6, d7, d8 = d1 + a, d2 + u, d3 + d, d4 + nw, d5 + tt, d6 + e, d7 + s, d8 + lg
            if a > 0 then d9 = d9 + 1 end
          end
        end
      elseif b == 89 then
        if f >= ylo and f <= yhi and #f == #ylo then
          local a, u, d, nw, tt, e = sunpack('<HHHHIHHH', v)
          y1, y2, y3, y4, y5, y6 = y1 + a, y2 + u, y3 + d, y4 + nw, y5 + tt, y6 + e
          if a > 0 then y7 = y7 + 1 end
        end
      elseif b == 74 then
        if f >= jlo and f <= jhi and #f == #jlo then j1 = j1 + tonumber(v) end
      elseif b == 75 then
        if f >= klo and f <= khi and #f == #klo then k1 = k1 + tonumber(v) end
      elseif b == 73 then
        if f >= ilo and f <= ihi and #f == #ilo then i1 = i1 + tonumber(v) end
      elseif b == 82 then
        if f >= rlo and f <= rhi and #f == #rlo then r1 = r1 + tonumber(v) end
      end
    end
  end

  if status == 0 then
    -- the keys' TTLs are set once per UTC day of event time, a day longer than their length
    local refresh = (tonumber(h.te) or -1) < B[18]
    if refresh then set[n + 1], set[n + 2], n = 'te', B[7], n + 2 end
    redis.call('HSET', kw, unpack(set))
    if refresh then
      redis.call('EXPIRE', kw, HIST_TTL_D)
      redis.call('EXPIRE', kf, FAM_TTL_D)
    elseif famNew then
      redis.call('EXPIRE', kf, FAM_TTL_D)
    end
    if opened then
      local drop = {}
      local keep = {
        [77] = floor((wm - 600000 - late) / 120000),
        [72] = floor((wm - 3600000 - late) / 600000),
        [68] = floor((wm - 86400000 - late) / 7200000),
        [89] = floor((wm - 518400000 - late) / 86400000),
      }
      keep[74], keep[75], keep[73], keep[82] = keep[68], keep[68], keep[89], keep[89]
      for f, v in pairs(h) do
        local b = sbyte(f)
        if keep[b] then
          if tonumber(string.sub(f, 2)) < keep[b] then drop[#drop + 1] = f end
        elseif b == 99 then
          local m, l = string.match(v, '^(%d+):(%d+)$')
          if not m or (tonumber(m) >= 4 and tonumber(l) < wm - late) or tonumber(l) < wm - late - 21600000 then
            drop[#drop + 1] = f
          end
        elseif (b == 109 or b == 104 or b == 100) and (sbyte(f, 2) or 0) <= 57 then
          drop[#drop + 1] = f -- `m<k>` `h<k>` `d<k>`: a bucket of the earlier text layout
        end
      end
      if #drop > 0 then redis.call('HDEL', kw, unpack(drop)) end
    end
  end
  local nr = 0
  if h.dr and h.dr ~= '' then
    local _, commas = string.gsub(h.dr, ',', '')
    nr = commas + 1
  end
  local nh = 0
  if h.hs and h.hs ~= '' then
    local _, commas = string.gsub(h.hs, ',', '')
    nh = commas + 1
  end
  local l = {}
  if not light then
    local lk = nb .. '\0' .. ARGV[o + 10]
    l = lists[lk]
    if not l then
      l = redis.call('HMGET', nb .. ':l', '*', ARGV[o + 10])
      lists[lk] = l
    end
  end
  local lg, lc, rg = l[1] or '', l[2] or '', h.rg or ''
  return spack(REPLY, status, wm, tonumber(h.fs or '0'), m1, h1, h2, h3, h4, h5, h6, d1, d2, d3, nr, applied,
    d4, d5, d6, d7, d8, d9, y1, y2, y3, y4, y5, y6, y7, j1, k1, i1, r1, nh, #lg, lg, #lc, lc, #rg, rg)
end

local n, m = tonumber(ARGV[7]), tonumber(ARGV[8])
local out = {}
for i = 1, n do out[i] = event(8 + 12 * (i - 1)) end
local d0 = 8 + 12 * n
for j = 1, m do
  local key, sim = STEM .. 'd:' .. ARGV[d0 + 2 * j - 1] .. ':s', ARGV[d0 + 2 * j]
  if sim ~= '' and redis.call('PFADD', key, sim) == 1 then redis.call('EXPIRE', key, SIM_TTL) end
  out[n + j] = spack('<d', redis.call('PFCOUNT', key))
end
return table.concat(out)
