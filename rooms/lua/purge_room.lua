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
-- What the expiry index `index` holds that is due by now, removed from `target` with `cmd`.
local function expire(cmd, target, index)
  local due = redis.call('ZRANGEBYSCORE', index, '-inf', now)
  for i = 1, #due, 500 do
    redis.call(cmd, target, unpack(due, i, math.min(i + 499, #due)))
  end
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  return #due
end
local keys_destroyed = expire('HDEL', KEYS[3], KEYS[4])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
expire('HDEL', KEYS[7], KEYS[8])
expire('XDEL', KEYS[9], KEYS[10])
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('HLEN', KEYS[3]) == 0
    and redis.call('ZCARD', KEYS[5]) == 0 and redis.call('ZCARD', KEYS[8]) == 0
    and redis.call('ZCARD', KEYS[10]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[3])
end
return {#ids, keys_destroyed}
