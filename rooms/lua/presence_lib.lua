-- Shared by every script: a socket is "pid|member_id"; it counts only while its process's
-- heartbeat key exists. ARGV[1] is always the heartbeat key prefix.
local hb = ARGV[1]
local alive_cache = {}
local function alive(pid)
  local a = alive_cache[pid]
  if a == nil then
    a = redis.call('EXISTS', hb .. pid) == 1
    alive_cache[pid] = a
  end
  return a
end
local function split(v)
  local bar = string.find(v, '|', 1, true)
  return string.sub(v, 1, bar - 1), string.sub(v, bar + 1)
end
-- A member's info is "role|joined|number|name key|sealed pseudonym" (the name key may be empty);
-- returns the name key and the number.
local function name_key(info)
  local a = string.find(info, '|', 1, true)
  local b = string.find(info, '|', a + 1, true)
  local c = string.find(info, '|', b + 1, true)
  local d = string.find(info, '|', c + 1, true)
  return string.sub(info, c + 1, d - 1), string.sub(info, b + 1, c - 1)
end
local function live_members(sockets)
  local live = {}
  local flat = redis.call('HGETALL', sockets)
  for i = 1, #flat, 2 do
    local pid, mid = split(flat[i + 1])
    if alive(pid) then live[mid] = true end
  end
  return live
end
