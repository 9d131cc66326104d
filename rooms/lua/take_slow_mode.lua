local next_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
local now = tonumber(ARGV[2])
if next_ms and tonumber(next_ms) > now then return tonumber(next_ms) - now end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 0
