-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
-- One dead process at a time, atomically, so two survivors reaping at once report each
-- member once. ARGV: hb prefix, dead pid, room key prefix, ':sockets', ':members'.
local dead = ARGV[2]
if alive(dead) then return {} end
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local sk, mk = ARGV[3] .. room .. ARGV[4], ARGV[3] .. room .. ARGV[5]
  local flat = redis.call('HGETALL', sk)
  local gone, affected, rest = {}, {}, {}
  for i = 1, #flat, 2 do
    local pid, mid = split(flat[i + 1])
    if pid == dead then
      gone[#gone + 1] = flat[i]
      affected[mid] = true
    else
      rest[#rest + 1] = {flat[i], pid, mid}
    end
  end
  if #gone > 0 then
    redis.call('HDEL', sk, unpack(gone))
    for m in pairs(affected) do
      local online, stale = false, {}
      for _, s in ipairs(rest) do
        if s[3] == m then
          if alive(s[2]) then online = true else stale[#stale + 1] = s[1] end
        end
      end
      if not online then
        if #stale > 0 then redis.call('HDEL', sk, unpack(stale)) end
        redis.call('HDEL', mk, m)
        out[#out + 1] = room
        out[#out + 1] = m
      end
    end
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], dead)
return out
