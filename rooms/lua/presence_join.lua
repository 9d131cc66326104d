-- presence_lib.lua is loaded in front of this script: alive(), split(), name_key(), live_members().
-- Capacity is checked, the member's number chosen (precise rule 27) and the socket added in one
-- step, so concurrent joins on any number of processes never overfill a room nor share a name.
-- Only new peers count against capacity.
-- KEYS: sockets, members, this process's rooms, names (name key -> member id), removals.
-- ARGV[9]: '' for a join; when a process puts its sockets back after its heartbeat lapsed, the
-- member's removal count it saw when the socket joined: a member removed since is not put back.
-- ARGV[10..]: the keys of the member's candidate names, unnumbered first.
-- Returns {first (1/0; -1 room full, -2 removed since), number, the member's removal count}, and
-- after -2 the last removal's ban end ('' for none).
local sid, mid, pid, role = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local sealed, capacity, room, seen = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local count, banned = string.match(redis.call('HGET', KEYS[5], mid) or '0|', '^(%d+)|(.*)$')
local removals = tonumber(count) or 0
if seen ~= '' and removals > tonumber(seen) then return {-2, 0, removals, banned or ''} end
local live = live_members(KEYS[1])
local first = not live[mid]
local number = 1
if first then
  if capacity ~= '' and role == '0' then
    local peers = 0
    for m in pairs(live) do
      local info = redis.call('HGET', KEYS[2], m)
      if info and string.sub(info, 1, 2) == '0|' then peers = peers + 1 end
    end
    if peers >= tonumber(capacity) then return {-1, 0, removals} end
  end
  local chosen = ''
  for i = 10, #ARGV do
    local holder = redis.call('HGET', KEYS[4], ARGV[i])
    local free = true
    if holder and holder ~= mid and live[holder] then
      local info = redis.call('HGET', KEYS[2], holder)
      free = not info or name_key(info) ~= ARGV[i]
    end
    if free then
      number, chosen = i - 9, ARGV[i]
      break
    end
  end
  if chosen ~= '' then redis.call('HSET', KEYS[4], chosen, mid) end
  local t = redis.call('TIME')
  local joined = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[2], mid, role .. '|' .. joined .. '|' .. number .. '|' .. chosen .. '|' .. sealed)
else
  local info = redis.call('HGET', KEYS[2], mid)
  if info then
    local _, n = name_key(info)
    number = tonumber(n) or 1
  end
end
redis.call('HSET', KEYS[1], sid, pid .. '|' .. mid)
redis.call('SADD', KEYS[3], room)
if first then return {1, number, removals} end
return {0, number, removals}
