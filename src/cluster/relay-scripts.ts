/**
 * The Redis side of registration, as Lua scripts: each runs atomically, so
 * a client id is claimed by one replica only, and a replica never deletes
 * or refreshes a record that another one has since written. Values are
 * compared whole: a live record's JSON is fixed for the life of its request.
 * (Several keys per script: one Redis, not Redis Cluster.)
 */

/**
 * KEYS: live key of the completion id, then of the client id if any.
 * ARGV: the live record, its TTL in ms.
 * Returns 0, writing nothing, when the client id is held by another request.
 */
export const REGISTER = `
if #KEYS == 2 and not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * KEYS: live keys of one request. ARGV: its live record, the TTL in ms.
 * Keeps each key alive, and writes it again where it is gone (Redis
 * restarted, or was unreachable when the request was registered), unless
 * another request holds it now.
 */
export const REFRESH = `
for _, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if not current or current == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  end
end
return 1
`;

/**
 * KEYS: pairs of (live key, done key), one pair per handle.
 * ARGV: the request's live record; its done record, or '' for none; the
 * done record's TTL in ms. Drops the live keys that are still this
 * request's, then writes the done records.
 */
export const FINISH = `
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
  end
  if ARGV[2] ~= '' then
    redis.call('SET', KEYS[i + 1], ARGV[2], 'PX', ARGV[3])
  end
end
return 1
`;
