-- Store a sealed message, index it, and append its id to the room's feed, all at once: a
-- message is either stored and on its way to every process, or not stored at all.
-- With a client id (ARGV[8], hashed with the author): a live message already sent under it
-- wins, and its id is returned instead.
-- KEYS: msg hash, msgs zset, expiry zset, purge-rooms set, feed stream, sent hash, sent-expiry zset,
--       feed-expiry zset (feed entry id by expires_at: the entry goes with the message)
-- ARGV: id, ts, expires_at, epoch, blob, room, feed maxlen, dedupe ('' for none)
local id, ts, exp, dedupe = ARGV[1], ARGV[2], ARGV[3], ARGV[8]
if dedupe ~= '' then
  local until_ms = redis.call('ZSCORE', KEYS[7], dedupe)
  if until_ms and tonumber(until_ms) > tonumber(ts) then
    return redis.call('HGET', KEYS[6], dedupe)
  end
  redis.call('HSET', KEYS[6], dedupe, id)
  redis.call('ZADD', KEYS[7], exp, dedupe)
end
redis.call('HSET', KEYS[1], 'ts', ts, 'expires_at', exp, 'epoch', ARGV[4], 'blob', ARGV[5])
-- The body vanishes on its own at expires_at even if no purge ever runs.
redis.call('PEXPIREAT', KEYS[1], exp)
redis.call('ZADD', KEYS[2], ts, id)
redis.call('ZADD', KEYS[3], exp, id)
redis.call('SADD', KEYS[4], ARGV[6])
local entry = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[7], '*', 'id', id)
redis.call('ZADD', KEYS[8], exp, entry)
return false
