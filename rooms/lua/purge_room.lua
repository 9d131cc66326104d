-- One room per call: expired messages, keys past destroy_after (the crypto-shredding),
-- stale slow-mode slots and client ids of expired messages; the room leaves the purge index
-- once nothing in it can expire.
-- KEYS: msgs, expiry, keys, key-destroy, slow, purge-rooms, sent, sent-expiry, feed, feed-expiry
local now, prefix = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #ids, 500 do
  local batch, names = {}, {}
  for j = i, math.min(i + 499, #ids) do
    batch[#batch + 1] = ids[j]
    names[#names + 1] = prefix .. ids[j]
    names[#names + 1] = ARGV[4] .. ids[j]  -- the message's reactions
  end
  redis.call('DEL', unpack(names))
  redis.call('ZREM', KEYS[1], unpack(batch))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local epochs = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for i = 1, #epochs, 500 do
  redis.call('HDEL', KEYS[3], unpack(epochs, i, math.min(i + 499, #epochs)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local sent = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', now)
for i = 1, #sent, 500 do
  redis.call('HDEL', KEYS[7], unpack(sent, i, math.min(i + 499, #sent)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now)
local entries = redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', now)
for i = 1, #entries, 500 do
  redis.call('XDEL', KEYS[9], unpack(entries, i, math.min(i + 499, #entries)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('HLEN', KEYS[3]) == 0
    and redis.call('ZCARD', KEYS[5]) == 0 and redis.call('ZCARD', KEYS[8]) == 0
    and redis.call('ZCARD', KEYS[10]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[3])
end
return {#ids, #epochs}
