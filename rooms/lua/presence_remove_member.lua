-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
-- KEYS: sockets, members, names, removals. ARGV[2]: member id; ARGV[3]: banned until (ms) or ''.
-- The removal is counted (removals: member id -> `<count>|<banned until>`), so a process that was
-- cut off from Redis meanwhile does not put the member's sockets back when it returns.
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local _, mid = split(flat[i + 1])
  if mid == ARGV[2] then out[#out + 1] = flat[i] end
end
if #out > 0 then redis.call('HDEL', KEYS[1], unpack(out)) end
local info = redis.call('HGET', KEYS[2], ARGV[2])
if info then
  local nk = name_key(info)
  if nk ~= '' and redis.call('HGET', KEYS[3], nk) == ARGV[2] then redis.call('HDEL', KEYS[3], nk) end
end
redis.call('HDEL', KEYS[2], ARGV[2])
local count = tonumber(string.match(redis.call('HGET', KEYS[4], ARGV[2]) or '0', '^(%d+)')) or 0
redis.call('HSET', KEYS[4], ARGV[2], (count + 1) .. '|' .. (ARGV[3] or ''))
return out
