local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = 0
for _, id in ipairs(ids) do
  local k = ARGV[2] .. id
  if redis.call('HEXISTS', k, 'snapshot_key') == 1 then
    redis.call('HDEL', k, 'snapshot', 'snapshot_key')
    n = n + 1
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return n
