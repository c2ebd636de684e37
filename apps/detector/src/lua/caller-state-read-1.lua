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

  ARGV[1] n, then n quadruples: number token, carrier id (list scope), '1' to read the windows string
  (a number the detector does not hold) or '0', the revision of the received calls the detector
  holds (the hash's `rv`, which callee-batch-1.lua counts up; -1: none held).
  Returns one binary string, per number: '<I' length and the windows string (length 0: none, or
  not asked), lists global and carrier ('<H' length each), '<I' the received calls' revision, '<H'
  count of the windows hash's fields, then each field '<B' length and its name, '<H' length and its
  value: every field when the string was asked for or the revision is not the one held, else none.
  Reads only.
]]
local STEM = KEYS[1]
local spack = struct.pack
local out = {}
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local o = 2 + 4 * i
  local nb = STEM .. 'n:' .. ARGV[o]
  local kw = nb .. ':w'
  local s, whole = '', ARGV[o + 2] == '1'
  if whole then s = redis.call('GET', nb .. ':s') or '' end
  local l = redis.call('HMGET', nb .. ':l', '*', ARGV[o + 1])
  local lg, lc = l[1] or '', l[2] or ''
  local rv = tonumber(redis.call('HGET', kw, 'rv') or '0')
  local flat = {}
  if whole or rv ~= tonumber(ARGV[o + 3]) then flat = redis.call('HGETALL', kw) end
  local parts = { spack('<I', #s), s, spack('<H', #lg), lg, spack('<H', #lc), lc, spack('<IH', rv, #flat / 2) }
  for k = 1, #flat, 2 do
    local f, v = flat[k], flat[k + 1]
    parts[#parts + 1] = spack('<B', #f) .. f .. spack('<H', #v) .. v
  end
  out[#out + 1] = table.concat(parts)
end
return table.concat(out)
