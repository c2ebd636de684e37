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
  Reads only.
]]
local STEM = KEYS[1]
local spack, sunpack = struct.pack, struct.unpack
local NONE, SAME, NOLISTS = spack('<B', 0), spack('<B', 2), spack('<HH', 0, 0)
-- The reply is built as one flat list of pieces joined once at the end: every string Lua makes
-- costs Redis more than the bytes in it, and a windows string packed into a piece would be copied
-- twice more.
local out, k = {}, 0
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local o = 2 + 4 * i
  local nb = STEM .. 'n:' .. ARGV[o]
  local kw = nb .. ':w'
  local want = tonumber(ARGV[o + 2])
  local s, head = nil, NONE
  if want >= 0 then
    -- held: only its revision is read (bytes 2..5), the string only when it is another one
    local r = redis.call('GETRANGE', nb .. ':s', 1, 4)
    if #r == 4 and sunpack('<I', r) == want then
      head = SAME
    else
      s = redis.call('GET', nb .. ':s')
    end
  elseif want == -2 then
    s = redis.call('GET', nb .. ':s')
  end
  if s then
    out[k + 1], out[k + 2], k = spack('<BI', 1, #s), s, k + 2
  else
    out[k + 1], k = head, k + 1
  end
  -- the lists mirror exists for few numbers: EXISTS costs Redis half an HMGET of a missing hash
  if redis.call('EXISTS', nb .. ':l') == 1 then
    local l = redis.call('HMGET', nb .. ':l', '*', ARGV[o + 1])
    local lg, lc = l[1] or '', l[2] or ''
    out[k + 1], k = spack('<Hc0Hc0', #lg, lg, #lc, lc), k + 1
  else
    out[k + 1], k = NOLISTS, k + 1
  end
  local rv, flat = 0, {}
  if want == -2 then
    -- every field is wanted: the revision is one of them (no HGET of it first)
    flat = redis.call('HGETALL', kw)
    for f = 1, #flat, 2 do
      if flat[f] == 'rv' then rv = tonumber(flat[f + 1]) end
    end
  else
    rv = tonumber(redis.call('HGET', kw, 'rv') or '0')
    if rv ~= tonumber(ARGV[o + 3]) then flat = redis.call('HGETALL', kw) end
  end
  out[k + 1], k = spack('<IH', rv, #flat / 2), k + 1
  for f = 1, #flat, 2 do
    local fk, fv = flat[f], flat[f + 1]
    out[k + 1], k = spack('<Bc0Hc0', #fk, fk, #fv, fv), k + 1
  end
end
return table.concat(out)
