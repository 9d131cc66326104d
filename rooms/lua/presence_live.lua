-- presence_lib.lua is loaded in front of this script: alive(), split(), live_members().
local live = live_members(KEYS[1])
local out = {}
for m in pairs(live) do
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], m) or ''
end
if ARGV[2] == 'count' then return #out / 2 end
return out
