--[[
  Node caller windows (DETECTOR_CALLER_WINDOWS=node): what stays in Redis of a key group's new
  caller events, which a number's windows string cannot hold: the day's distinct callees (a
  HyperLogLog per number and UTC day) and the familiarity hash (the callees it has called, and those
  it talked with long enough). Keys as caller-batch-1.lua's.

  KEYS[1] <stem>
  ARGV[1] TTL of a day's distinct-callee HyperLogLog, seconds
  ARGV[2] TTL of a familiarity hash, seconds (set when a field is added to it, and once a day)
  then 4 fields per operation: op, number token, callee fingerprint, UTC day (event time)
    'a' a new attempt: PFADD of the day's HyperLogLog, HSETNX of the callee in the familiarity hash
    'A' the same, for the number's first attempt of the day that the detector saw: both TTLs set
    't' an ended call that talked long enough: HSETNX of 't<callee>' in the familiarity hash
  Returns two characters per attempt ('a'/'A'), in order: '1' when PFADD changed the HyperLogLog (a
  new distinct callee of the day), then '1' when HSETNX added the callee (never called before).
]]
local STEM, HLL_TTL, FAM_TTL = KEYS[1], ARGV[1], ARGV[2]
local out = {}
for o = 3, #ARGV, 4 do
  local op, nb, x = ARGV[o], STEM .. 'n:' .. ARGV[o + 1], ARGV[o + 2]
  local kf = nb .. ':f'
  if op == 't' then
    if redis.call('HSETNX', kf, 't' .. x, '1') == 1 then redis.call('EXPIRE', kf, FAM_TTL) end
  else
    local hll = nb .. ':x' .. ARGV[o + 3]
    out[#out + 1] = redis.call('PFADD', hll, x) == 1 and '1' or '0'
    local added = redis.call('HSETNX', kf, x, '1') == 1
    out[#out + 1] = added and '1' or '0'
    if op == 'A' then
      redis.call('EXPIRE', hll, HLL_TTL)
      redis.call('EXPIRE', kf, FAM_TTL)
    elseif added then
      redis.call('EXPIRE', kf, FAM_TTL)
    end
  end
end
return table.concat(out)
