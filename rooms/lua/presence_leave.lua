-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
-- The last live socket gone: the member's sockets on dead processes go too, so a later reap()
-- does not report the same member as leaving a second time.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return 0 end
local _, m = split(v)
if m ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local stale = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local pid, mid = split(flat[i + 1])
  if mid == ARGV[3] then
    if alive(pid) then return 0 end
    stale[#stale + 1] = flat[i]
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
