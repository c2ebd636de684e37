--[[
  Node caller windows (DETECTOR_CALLER_WINDOWS=node): writes the windows strings of a key group's
  numbers that a round changed, each only if the stored string is still the revision the detector
  read (or none, revision 0): a replica never overwrites a newer write of another (a string found
  to be another revision is put back in the same call).

  KEYS[1] <stem>           the group's key stem (caller-state-read-1.lua lists the keys)
  ARGV[1] TTL of a windows string, ms (it keeps 7 days of day buckets)
  then quadruples: number token, the revision read, the new string (its bytes 2..5 hold the revision
  read + 1), '1' when the number's windows hash still has the fields of the script windows
  (caller-batch-1.lua), which are then deleted (its received-call fields J K I R and rv stay), else '0'.
  Returns one character per number: '0' written, '1' not written (another revision is stored: the
  detector reads it again and re-applies the round's events of that number).
]]
local STEM, TTL = KEYS[1], ARGV[1]
local sunpack, sbyte = struct.unpack, string.byte
local out, k = {}, 0
for o = 2, #ARGV, 4 do
  local ks = STEM .. 'n:' .. ARGV[o] .. ':s'
  -- Written at once, and the string it replaced compared after: one key lookup per number instead
  -- of two (a GETRANGE of the revision, then the SET), since another revision is rare (two replicas
  -- on one number). That one is then put back, with a whole TTL again (its own rest is gone): a
  -- string kept a little longer, never a newer one lost.
  local old = redis.call('SET', ks, ARGV[o + 2], 'PX', TTL, 'GET')
  local rev = 0
  if old and #old >= 5 then rev = sunpack('<I', old, 2) end
  if rev == tonumber(ARGV[o + 1]) then
    if ARGV[o + 3] == '1' then
      local kw = STEM .. 'n:' .. ARGV[o] .. ':w'
      local drop = {}
      for _, f in ipairs(redis.call('HKEYS', kw)) do
        local b = sbyte(f)
        -- J K I R (74 75 73 82) followed by a digit: received calls, and their revision rv, kept
        if not ((b == 74 or b == 75 or b == 73 or b == 82) and (sbyte(f, 2) or 0) <= 57) and f ~= 'rv' then
          drop[#drop + 1] = f
        end
      end
      for d = 1, #drop, 500 do redis.call('HDEL', kw, unpack(drop, d, math.min(d + 499, #drop))) end
    end
    k = k + 1
    out[k] = '0'
  else
    if old then
      redis.call('SET', ks, old, 'PX', TTL)
    else
      redis.call('DEL', ks)
    end
    k = k + 1
    out[k] = '1'
  end
end
return table.concat(out)
