-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local pid, mid = split(flat[i + 1])
  if mid == ARGV[2] and alive(pid) then out[#out + 1] = flat[i] end
end
return out
