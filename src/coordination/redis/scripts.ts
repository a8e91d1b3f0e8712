import { type CommandParser, defineScript } from 'redis';
import type { GcraOutcome, GcraRate } from '../gcra.ts';

/**
 * Every multi-step operation is one Lua script: atomic, and one round trip (node-redis sends
 * EVALSHA and falls back to EVAL once after a restart emptied the script cache). Times come from
 * the server's TIME, so processes with skewed clocks still agree. Some scripts derive keys from
 * a prefix passed in ARGV (the user index of a session): fine on one Redis or Sentinel, which is
 * what this adapter supports, but not on Redis Cluster.
 */

/** A session hash read as [userId, data, createdAt, expiresAt, ttlMs]. */
type SessionFields = (string | null)[];

const NOW_MS = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

// gcraAdvance of ../gcra.ts for a batch of consumes of one rate (ARGV: windowUs, then the
// emission interval as whole µs, fraction and denominator, then one cost per key, or none when
// all costs are 1), in order, with the same exact integer steps (every value stays below 2^53,
// see isExactRate). One MGET reads every TAT; a key repeated in the batch sees its earlier
// update (updated_us, updated_frac). A TAT is stored as its microseconds, then ":" and its
// remainder (in 1 / denominator µs) when that is not 0. Each outcome is two integers: TAT - now
// (µs) when allowed, -(TAT - now) - 1 when denied; then the TAT's remainder. Numbers passed to
// redis.call are written exactly, and so is format's %d; Lua's tostring (and ..) would round
// 16-digit values.
// A key expires at the end of the window-sized slot after the one its TAT is in: a function of
// the TAT alone, so it only needs setting when the TAT enters a new slot (once per `limit`
// units); KEEPTTL keeps it otherwise, cheaper than a PX on every write. A key thus outlives its
// TAT by one to two windows.
const GCRA_BATCH = `local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local window, whole = tonumber(ARGV[1]), tonumber(ARGV[2])
local fraction, denominator = tonumber(ARGV[3]), tonumber(ARGV[4])
local floor, call, match, format = math.floor, redis.call, string.match, string.format
local stored = call('MGET', unpack(KEYS))
local updated_us, updated_frac = {}, {}
local out = {}
for i, key in ipairs(KEYS) do
  local old, frac = updated_us[key], updated_frac[key]
  if not old and stored[i] then
    old, frac = tonumber(stored[i]), 0
    if not old then
      local us, rest = match(stored[i], '^(%d+):(%d+)$')
      old, frac = tonumber(us), tonumber(rest)
    end
  end
  local tat = old
  if not tat or tat < now then tat, frac = now, 0 end
  local cost = tonumber(ARGV[i + 4] or 1)
  local sum = frac + cost * fraction
  local new_tat = tat + cost * whole + floor(sum / denominator)
  local new_frac = sum % denominator
  local ahead = new_tat - now
  if ahead > window or (ahead == window and new_frac > 0) then
    out[2 * i - 1] = now - tat - 1
    out[2 * i] = frac
  else
    if cost > 0 then
      local value = new_tat
      if new_frac > 0 then value = format('%d:%d', new_tat, new_frac) end
      if old and floor(new_tat / window) == floor(old / window) then
        call('SET', key, value, 'KEEPTTL')
      else
        call('SET', key, value, 'PXAT', (floor(new_tat / window) + 2) * window / 1000)
      end
      updated_us[key], updated_frac[key] = new_tat, new_frac
    end
    out[2 * i - 1] = ahead
    out[2 * i] = new_frac
  end
end
return out`;

// A tag keeps its version until invalidated (deleted); it must outlive every entry using it.
const CLAIM_TAG_VERSIONS = `local ttl = tonumber(ARGV[2])
local versions = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'NX', 'PX', ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  versions[i] = redis.call('GET', key)
end
return versions`;

// The fencing counter has no TTL: it must never go back, whatever expires.
const LOCK_ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false`;

const LOCK_EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const LOCK_RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

// A session is a hash (u userId, d data, c createdAt, x expiresAt, t ttl) with a TTL; the
// user's index is a sorted set of session ids scored by expiry, living as long as its
// longest session, so expired ids can be pruned by score.
const EXTEND_INDEX = `if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end`;

const SESSION_CREATE = `${NOW_MS}
local ttl = tonumber(ARGV[3])
local idx = KEYS[2]
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'd', ARGV[2], 'c', now, 'x', now + ttl, 't', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
redis.call('ZADD', idx, now + ttl, ARGV[4])
${EXTEND_INDEX}
return redis.call('HMGET', KEYS[1], 'u', 'd', 'c', 'x', 't')`;

const SESSION_TOUCH = `local s = redis.call('HMGET', KEYS[1], 'u', 't')
if not s[1] then return false end
${NOW_MS}
local ttl = tonumber(ARGV[3]) or tonumber(s[2])
local idx = ARGV[1] .. s[1]
redis.call('HSET', KEYS[1], 'x', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', idx, now + ttl, ARGV[2])
${EXTEND_INDEX}
return redis.call('HMGET', KEYS[1], 'u', 'd', 'c', 'x', 't')`;

const SESSION_DESTROY = `local user = redis.call('HGET', KEYS[1], 'u')
if not user then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. user, ARGV[2])
return 1`;

const SESSION_LIST = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HMGET', ARGV[1] .. id, 'u', 'd', 'c', 'x', 't')
  if s[1] then
    table.insert(out, id)
    for _, field in ipairs(s) do table.insert(out, field) end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`;

const SESSION_DESTROY_ALL = `local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[1])
return n`;

function asIs<T>(reply: unknown): T {
  return reply as T;
}

export const SCRIPTS = {
  gcraBatch: defineScript({
    SCRIPT: GCRA_BATCH,
    parseCommand(parser: CommandParser, keys: string[], costs: string[], rate: GcraRate) {
      parser.pushKeysLength(keys);
      parser.push(
        String(rate.windowUs),
        String(rate.whole),
        String(rate.fraction),
        String(rate.denominator),
        ...costs,
      );
    },
    transformReply(reply: unknown): GcraOutcome[] {
      const flat = reply as number[];
      const outcomes: GcraOutcome[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const us = flat[i] as number;
        const frac = flat[i + 1] as number;
        outcomes.push(
          us >= 0 ? { allowed: true, ahead: { us, frac } } : { allowed: false, ahead: { us: -us - 1, frac } },
        );
      }
      return outcomes;
    },
  }),
  claimTagVersions: defineScript({
    SCRIPT: CLAIM_TAG_VERSIONS,
    parseCommand(parser: CommandParser, keys: readonly string[], candidate: string, ttlMs: number) {
      parser.pushKeysLength([...keys]);
      parser.push(candidate, String(ttlMs));
    },
    transformReply: asIs<string[]>,
  }),
  lockAcquire: defineScript({
    SCRIPT: LOCK_ACQUIRE,
    NUMBER_OF_KEYS: 2,
    parseCommand(parser: CommandParser, key: string, fencingKey: string, token: string, ttlMs: number) {
      parser.pushKeys([key, fencingKey]);
      parser.push(token, String(ttlMs));
    },
    transformReply: asIs<number | null>,
  }),
  lockExtend: defineScript({
    SCRIPT: LOCK_EXTEND,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: CommandParser, key: string, token: string, ttlMs: number) {
      parser.pushKey(key);
      parser.push(token, String(ttlMs));
    },
    transformReply: asIs<number>,
  }),
  lockRelease: defineScript({
    SCRIPT: LOCK_RELEASE,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: CommandParser, key: string, token: string) {
      parser.pushKey(key);
      parser.push(token);
    },
    transformReply: asIs<number>,
  }),
  sessionCreate: defineScript({
    SCRIPT: SESSION_CREATE,
    NUMBER_OF_KEYS: 2,
    parseCommand(
      parser: CommandParser,
      key: string,
      indexKey: string,
      fields: { userId: string; data: string; ttlMs: number; id: string },
    ) {
      parser.pushKeys([key, indexKey]);
      parser.push(fields.userId, fields.data, String(fields.ttlMs), fields.id);
    },
    transformReply: asIs<SessionFields>,
  }),
  sessionTouch: defineScript({
    SCRIPT: SESSION_TOUCH,
    NUMBER_OF_KEYS: 1,
    parseCommand(
      parser: CommandParser,
      key: string,
      indexPrefix: string,
      id: string,
      ttlMs: number | undefined,
    ) {
      parser.pushKey(key);
      parser.push(indexPrefix, id, ttlMs === undefined ? '' : String(ttlMs));
    },
    transformReply: asIs<SessionFields | null>,
  }),
  sessionDestroy: defineScript({
    SCRIPT: SESSION_DESTROY,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: CommandParser, key: string, indexPrefix: string, id: string) {
      parser.pushKey(key);
      parser.push(indexPrefix, id);
    },
    transformReply: asIs<number>,
  }),
  sessionList: defineScript({
    SCRIPT: SESSION_LIST,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: CommandParser, indexKey: string, sessionPrefix: string) {
      parser.pushKey(indexKey);
      parser.push(sessionPrefix);
    },
    transformReply: asIs<string[]>,
  }),
  sessionDestroyAll: defineScript({
    SCRIPT: SESSION_DESTROY_ALL,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: CommandParser, indexKey: string, sessionPrefix: string) {
      parser.pushKey(indexKey);
      parser.push(sessionPrefix);
    },
    transformReply: asIs<number>,
  }),
};
