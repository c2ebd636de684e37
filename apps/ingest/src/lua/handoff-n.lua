--[[
  Hands one chunk of one carrier's events (all in one partition) to the detector, exactly once.
  The key count varies with the number of event-time buckets in the chunk (hence "-n"): the caller
  passes it.

  Input:
    KEYS[1]        hand-off stream of the partition                  ee:{h<p>}:events
    KEYS[2..n]     dedupe set per event-time bucket in the chunk     ee:{h<p>}:seen:<carrier>:<bucket>
                   (every key carries the same {h<p>} hash tag)

    ARGV[1]        dedupe TTL, seconds, counted from the last new event of a bucket
    ARGV[2]        carrier id (stream entry field `c`)
    ARGV[3]        the chunk's events, packed (libs/contracts handoff-packed.ts): one line per event,
                   lines joined by "\n" (ASCII only, no empty line)
    ARGV[4]        one byte per event: the index into KEYS of its bucket's dedupe set
    ARGV[5]        8 bytes per event: its id's fingerprint (apps/ingest event-fingerprint.ts); the
                   ids are unique in the chunk
    ARGV[6]        W3C traceparent of the batch's ingest span (stream entry field `t`), or "" for
                   none (optional: a caller of the earlier five-argument form writes no `t`)

  Events whose fingerprint is already in their bucket's set are duplicates; the others are added
  to it and written as ONE stream entry {c = carrier, p = the new events' lines[, t = traceparent]}. A few commands
  per chunk rather than per event keep Redis far from its command-rate ceiling at 100k events/s.

  Output: { stream entry id, or "" when every event was a duplicate,
            string of m characters: "1" where event i was a duplicate, "0" where it was new }
]]
local ttl = tonumber(ARGV[1])
local keyOf = ARGV[4]
local m = #keyOf
local idsByKey = {}
local slotsByKey = {}
local fps = ARGV[5]
local sub = string.sub
if #KEYS == 2 then
  -- one event-time bucket, the usual chunk: every event's id goes to KEYS[2], in order (each Lua
  -- operation costs Redis about a tenth of a microsecond: no per-event byte read or slot table)
  local ids = {}
  for i = 1, m do ids[i] = sub(fps, i * 8 - 7, i * 8) end
  idsByKey[2] = ids
else
  for i = 1, m do
    local id = sub(fps, i * 8 - 7, i * 8)
    local k = string.byte(keyOf, i)
    local ids = idsByKey[k]
    if not ids then
      ids = {}
      idsByKey[k] = ids
      slotsByKey[k] = {}
    end
    local n = #ids + 1
    ids[n] = id
    slotsByKey[k][n] = i
  end
end

local dup = {}
local ndup = 0
for k, ids in pairs(idsByKey) do
  local seen = redis.call('SMISMEMBER', KEYS[k], unpack(ids))
  local slots = slotsByKey[k]
  local new, nn = {}, 0
  for j = 1, #ids do
    if seen[j] == 1 then
      dup[slots and slots[j] or j] = true
      ndup = ndup + 1
    else
      nn = nn + 1
      new[nn] = ids[j]
    end
  end
  if nn > 0 then
    redis.call('SADD', KEYS[k], unpack(new))
    redis.call('EXPIRE', KEYS[k], ttl)
  end
end

local entry = ''
if ndup < m then
  local payload = ARGV[3]
  if ndup > 0 then
    -- cut the duplicates' lines out
    local parts = {}
    local i = 0
    for line in string.gmatch(payload, '[^\n]+') do
      i = i + 1
      if not dup[i] then parts[#parts + 1] = line end
    end
    payload = table.concat(parts, '\n')
  end
  local trace = ARGV[6]
  if trace and trace ~= '' then
    entry = redis.call('XADD', KEYS[1], '*', 'c', ARGV[2], 'p', payload, 't', trace)
  else
    entry = redis.call('XADD', KEYS[1], '*', 'c', ARGV[2], 'p', payload)
  end
end

if ndup == 0 then return { entry, string.rep('0', m) } end
local flags = {}
for j = 1, m do
  flags[j] = dup[j] and '1' or '0'
end
return { entry, table.concat(flags) }
