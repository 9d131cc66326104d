-- Only an open flag (status ARGV[5]) can be resolved, so of two admins resolving at once exactly one wins.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'resolution', ARGV[3], 'purge_after', ARGV[4])
local created = redis.call('HGET', KEYS[1], 'created_at')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], created, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1
