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
local spack = struct.pack
local NONE, SAME = spack('<B', 0), spack('<B', 2)
local out = {}
local sunpack = struct.unpack
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local o = 2 + 4 * i
  local nb = STEM .. 'n:' .. ARGV[o]
  local kw = nb .. ':w'
  local want = tonumber(ARGV[o + 2])
  local head = NONE
  if want ~= -1 then
    local s = redis.call('GET', nb .. ':s')
    if s and want >= 0 and #s >= 5 and sunpack('<I', s, 2) == want then
      head = SAME
    elseif s then
      head = spack('<BIc0', 1, #s, s)
    end
  end
  local l = redis.call('HMGET', nb .. ':l', '*', ARGV[o + 1])
  local lg, lc = l[1] or '', l[2] or ''
  local rv = tonumber(redis.call('HGET', kw, 'rv') or '0')
  local flat = {}
  if want == -2 or rv ~= tonumber(ARGV[o + 3]) then flat = redis.call('HGETALL', kw) end
  -- one struct.pack per piece ('c0' packs a whole string): each string Lua makes costs Redis more
  -- than the bytes in it
  local parts = { head, spack('<Hc0Hc0IH', #lg, lg, #lc, lc, rv, #flat / 2) }
  for k = 1, #flat, 2 do
    local f, v = flat[k], flat[k + 1]
    parts[#parts + 1] = spack('<Bc0Hc0', #f, f, #v, v)
  end
  out[#out + 1] = table.concat(parts)
end
return table.concat(out)
