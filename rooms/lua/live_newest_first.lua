-- Newest first, skipping expired and vanished messages; a scan, because expires_at is not
-- monotonic in ts (a room's lifetime may have been shortened).
local prefix, now, limit, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local skip = {}
for i = 5, #ARGV do skip[ARGV[i]] = true end
local out, offset = {}, 0
local batch = math.max(limit, 64)
while #out < limit do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', offset, batch)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if not skip[id] then
      local f = redis.call('HMGET', prefix .. id, 'ts', 'expires_at', 'epoch', 'blob')
      if f[2] and tonumber(f[2]) > now then
        out[#out + 1] = {id, f[1], f[2], f[3], f[4]}
        if #out >= limit then break end
      end
    end
  end
  offset = offset + #ids
end
return out
