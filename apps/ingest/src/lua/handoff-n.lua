--[[
  Hands one chunk of one carrier's events (all in one partition) to the detector, exactly once.
  The key count varies with the number of calls in the chunk (hence "-n"): the caller passes it.

  Input:
    KEYS[1]        hand-off stream of the partition          ee:{h<p>}:events
    KEYS[2..n]     dedupe hash of each call in the chunk     ee:{h<p>}:dedupe:<carrier>:<call>
                   (every key carries the same {h<p>} hash tag)

    ARGV[1]        dedupe TTL, seconds (the window in which a redelivered event id is recognised)
    ARGV[2]        carrier id (stream entry field `c`)
    ARGV[3]        number of events m
    ARGV[4+3i]     event i (0-based): index into KEYS of its call's dedupe hash
    ARGV[5+3i]     event i: event id
    ARGV[6+3i]     event i: the event as JSON (a HandoffEvent)

  For each event: HSETNX its id into its call's dedupe hash; new ones are collected into ONE stream
  entry {c = carrier, e = JSON array}. Every touched dedupe hash gets the TTL again.

  Output: { stream entry id or "" when every event was a duplicate,
            string of m characters, "1" where event i was a duplicate, "0" where it was new }
]]
local ttl = tonumber(ARGV[1])
local m = tonumber(ARGV[3])
local parts = {}
local flags = {}
local touched = {}
for i = 0, m - 1 do
  local base = 4 + 3 * i
  local k = tonumber(ARGV[base])
  if redis.call('HSETNX', KEYS[k], ARGV[base + 1], '1') == 1 then
    parts[#parts + 1] = ARGV[base + 2]
    flags[i + 1] = '0'
  else
    flags[i + 1] = '1'
  end
  touched[k] = true
end
for k in pairs(touched) do
  redis.call('EXPIRE', KEYS[k], ttl)
end
local entry = ''
if #parts > 0 then
  entry = redis.call('XADD', KEYS[1], '*', 'c', ARGV[2], 'e', '[' .. table.concat(parts, ',') .. ']')
end
return { entry, table.concat(flags) }
