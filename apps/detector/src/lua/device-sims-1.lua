--[[
  Distinct SIMs (caller numbers) seen on one handset.

  KEYS[1] {d:device}:s   HyperLogLog of caller fingerprints

  ARGV[1] caller fingerprint to add, or '' to only read
  ARGV[2] TTL, seconds (refreshed when a new SIM is added)

  Returns the estimated number of distinct SIMs.
]]
if ARGV[1] ~= '' and redis.call('PFADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return redis.call('PFCOUNT', KEYS[1])
