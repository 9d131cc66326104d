-- Address marks (precise rule 26): KEYS are one key per (room, address hash); ARGV holds pairs
-- (mark JSON, expiry in ms since the epoch). Of two marks for one hash (two sanctioned members
-- behind one address) the one kept longer wins.
for i = 1, #KEYS do
  local cur = redis.call('PEXPIRETIME', KEYS[i])
  local exp = tonumber(ARGV[2 * i])
  if cur < 0 or cur <= exp then
    redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PXAT', exp)
  end
end
return #KEYS
