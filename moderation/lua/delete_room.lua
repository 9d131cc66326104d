local flag_prefix, status_prefix = ARGV[1], ARGV[2]
for _, id in ipairs(redis.call('HVALS', KEYS[1])) do
  local k = flag_prefix .. id
  local status = redis.call('HGET', k, 'status')
  if status then redis.call('ZREM', status_prefix .. status, id) end
  redis.call('DEL', k)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', ARGV[3] .. m) end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('DEL', ARGV[4] .. m) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
