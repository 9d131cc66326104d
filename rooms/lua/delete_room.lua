-- KEYS: room, rooms, msgs, expiry, keys, key-destroy, members, slow, purge-rooms, feed, sent, sent-expiry,
--       feed-expiry
local prefix = ARGV[2]
local ids = redis.call('ZRANGE', KEYS[3], 0, -1)
for i = 1, #ids, 500 do
  local batch = {}
  for j = i, math.min(i + 499, #ids) do
    batch[#batch + 1] = prefix .. ids[j]
    batch[#batch + 1] = ARGV[3] .. ids[j]
  end
  redis.call('DEL', unpack(batch))
end
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[10], KEYS[11], KEYS[12], KEYS[13])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[9], ARGV[1])
return existed
