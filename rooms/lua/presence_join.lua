-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
-- Capacity is checked and the socket added in one step, so concurrent joins on any number of
-- processes never overfill a room. Only new peers count against it.
local sid, mid, pid, role = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local sealed, capacity, room = ARGV[6], ARGV[7], ARGV[8]
local live = live_members(KEYS[1])
local first = not live[mid]
if first then
  if capacity ~= '' and role == '0' then
    local peers = 0
    for m in pairs(live) do
      local info = redis.call('HGET', KEYS[2], m)
      if info and string.sub(info, 1, 2) == '0|' then peers = peers + 1 end
    end
    if peers >= tonumber(capacity) then return -1 end
  end
  local t = redis.call('TIME')
  local joined = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[2], mid, role .. '|' .. joined .. '|' .. sealed)
end
redis.call('HSET', KEYS[1], sid, pid .. '|' .. mid)
redis.call('SADD', KEYS[3], room)
if first then return 1 end
return 0
