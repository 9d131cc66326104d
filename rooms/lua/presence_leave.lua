-- presence_lib.lua is loaded in front of this script: alive(), split(), name_key(), live_members().
-- A socket leaves; the member is gone only when no socket of theirs is left on any process.
-- Sockets of a process whose heartbeat is missing still count here: that process may only be
-- cut off from Redis for a moment. If it really died, reap() removes them and reports the
-- member then, once.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return 0 end
local _, m = split(v)
if m ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local flat = redis.call('HGETALL', KEYS[1])
for i = 2, #flat, 2 do
  local _, mid = split(flat[i])
  if mid == ARGV[3] then return 0 end
end
local info = redis.call('HGET', KEYS[2], ARGV[3])
if info then
  local nk = name_key(info)
  if nk ~= '' and redis.call('HGET', KEYS[3], nk) == ARGV[3] then redis.call('HDEL', KEYS[3], nk) end
end
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
