local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('DEL', KEYS[1], ARGV[2] .. id)
redis.call('ZREM', KEYS[2], ARGV[1])
return fields
