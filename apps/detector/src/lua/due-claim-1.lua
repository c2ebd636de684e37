--[[
  Claims due duration-step checks of calls in progress. Each claimed member is leased (its score
  moved to now + lease), so a replica that dies mid-check leaves it to be claimed again, and two
  replicas never claim the same check at once.

  KEYS[1] {due<shard>}:z   member "carrier\tcallee\tcallId", score = due event time, epoch ms

  ARGV[1] now (event time), epoch ms
  ARGV[2] lease, ms
  ARGV[3] maximum members to claim

  Returns { member, dueAt, member, dueAt, ... }
]]
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), due[i])
end
return due
