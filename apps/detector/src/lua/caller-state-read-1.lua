--[[
  Node caller windows (DETECTOR_CALLER_WINDOWS=node): what the detector reads of a key group's
  calling numbers before it applies a round in its own memory (windows/caller-states.ts).

  KEYS[1] <stem>           the group's key stem `<prefix>:{g<k>}:` (every key below starts with it)
  <stem>n:<number>:s       the number's windows, one binary string (libs/scoring caller-state.ts),
                           whose bytes 2..5 are its revision ('<I'): written by caller-state-write-1.lua
  <stem>n:<number>:w       the number's received calls, integers `J<k>` `K<k>` (per 2-hour bucket) and
                           `I<day>` `R<day>` (per UTC day), written by callee-batch-1.lua; a number
                           not yet moved from the script windows also has that script's other fields
  <stem>n:<number>:l       list mirror: scope -> "list|expiresAtMs|reason"

  ARGV[1] n, then n quadruples: number token, carrier id (list scope), the windows string wanted
  (-1: not wanted, a number the detector holds; -2: wanted; a revision >= 0: wanted unless the
  stored string is that revision, which the detector holds), the revision of the received calls the
  detector holds (the hash's `rv`, which callee-batch-1.lua counts up; -1: none held).
  Returns one binary string, per number: '<B' 0 (no string: not wanted, or none stored), 1 (then '<I'
  length and the string) or 2 (the stored string is the revision held); lists global and carrier
  ('<H' length each); '<I' the received calls' revision; '<H' count of the windows hash's fields,
  then each field '<B' length and its name, '<H' length and its value: every field when the string
  was wanted without a revision held (-2) or the received revision is not the one held, else none.
  Reads only. One MGET and two EXISTS per call, then only what those say is there.
]]
local STEM = KEYS[1]
local spack, sunpack, min = struct.pack, struct.unpack, math.min
local NONE, SAME, NOLISTS, NORECEIVED = spack('<B', 0), spack('<B', 2), spack('<HH', 0, 0), spack('<IH', 0, 0)
-- One MGET of the strings and one EXISTS over each kind of hash for the whole call, instead of a
-- command per number: most numbers have no lists mirror and many no received calls, and once as
-- many as EXISTS counted have been found, the rest are known absent without asking. (EXISTS counts
-- a key named twice twice, so a number listed for two carriers can only make the count too high:
-- the numbers after it are then asked, as before.)
local function mget(keys)
  local r = {}
  for a = 1, #keys, 1000 do
    local part = redis.call('MGET', unpack(keys, a, min(a + 999, #keys)))
    for j = 1, #part do r[a + j - 1] = part[j] end
  end
  return r
end
local function existing(keys)
  local c = 0
  for a = 1, #keys, 1000 do c = c + redis.call('EXISTS', unpack(keys, a, min(a + 999, #keys))) end
  return c
end
local n = tonumber(ARGV[1])
local kls, kws, kss, wants = {}, {}, {}, {}
-- (Every Lua operation costs Redis about a tenth of a microsecond or more: a number held by the
-- detector, most of them, is compared as the string '-1' rather than converted.)
local m = 0
for i = 1, n do
  local o = 4 * i - 2
  local nb = STEM .. 'n:' .. ARGV[o]
  kls[i], kws[i] = nb .. ':l', nb .. ':w'
  local want = ARGV[o + 2]
  if want == '-1' then
    wants[i] = -1
  else
    wants[i] = tonumber(want)
    m = m + 1
    kss[m] = nb .. ':s'
  end
end
local strings = mget(kss)
local lists = existing(kls)
local received = existing(kws)
-- The reply is built as one flat list of pieces joined once at the end: every string Lua makes
-- costs Redis more than the bytes in it, and a windows string packed into a piece would be copied
-- twice more.
local out, k, j = {}, 0, 0
for i = 1, n do
  local o = 4 * i - 2
  local want = wants[i]
  local s, head = nil, NONE
  if want ~= -1 then
    j = j + 1
    s = strings[j] or nil
    -- held: the string only when the stored one is another revision (bytes 2..5)
    if s and want >= 0 and #s >= 5 and sunpack('<I', s, 2) == want then s, head = nil, SAME end
  end
  if s then
    out[k + 1], out[k + 2], k = spack('<BI', 1, #s), s, k + 2
  else
    out[k + 1], k = head, k + 1
  end
  if lists > 0 and redis.call('EXISTS', kls[i]) == 1 then
    lists = lists - 1
    local l = redis.call('HMGET', kls[i], '*', ARGV[o + 1])
    local lg, lc = l[1] or '', l[2] or ''
    out[k + 1], k = spack('<Hc0Hc0', #lg, lg, #lc, lc), k + 1
  else
    out[k + 1], k = NOLISTS, k + 1
  end
  local rv, flat = 0, nil
  if received > 0 then
    local kw = kws[i]
    local v = false
    if want == -2 then
      -- every field is wanted: the revision is one of them (no HGET of it first)
      flat = redis.call('HGETALL', kw)
      for f = 1, #flat, 2 do
        if flat[f] == 'rv' then rv = tonumber(flat[f + 1]) end
      end
    else
      v = redis.call('HGET', kw, 'rv')
      rv = tonumber(v or '0')
      if rv ~= tonumber(ARGV[o + 3]) then flat = redis.call('HGETALL', kw) end
    end
    -- one of the hashes EXISTS counted has been found
    if v or (flat and #flat > 0) then received = received - 1 end
  end
  if flat then
    out[k + 1], k = spack('<IH', rv, #flat / 2), k + 1
    for f = 1, #flat, 2 do
      local fk, fv = flat[f], flat[f + 1]
      out[k + 1], k = spack('<Bc0Hc0', #fk, fk, #fv, fv), k + 1
    end
  elseif rv == 0 then
    out[k + 1], k = NORECEIVED, k + 1
  else
    out[k + 1], k = spack('<IH', rv, 0), k + 1
  end
end
return table.concat(out)
