/**
 * Every key and channel starts with `<prefix>:<kind>:`, so deployments sharing a Redis never
 * meet, and each kind of data can be found (or cleared) by its own pattern. The prefix cannot
 * contain ":" (options.ts), so the first ":" of a key ends its prefix: no prefix's key space
 * holds another's, even when one prefix extends another (`acme` and `acme-eu`, or the refused
 * `acme:cache:other`, whose keys would otherwise be `acme`'s cache entries). Kinds never
 * extend one another up to their ":" either (`cache:` and `cache-tag:`).
 */
export interface RedisKeys {
  cache: string;
  cacheTag: string;
  rateLimit: string;
  lock: string;
  /** One counter for every lock's fencing tokens. */
  fencingCounter: string;
  session: string;
  sessionsOfUser: string;
  channel: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    cache: `${prefix}:cache:`,
    cacheTag: `${prefix}:cache-tag:`,
    rateLimit: `${prefix}:rate:`,
    lock: `${prefix}:lock:`,
    fencingCounter: `${prefix}:lock-fencing`,
    session: `${prefix}:session:`,
    sessionsOfUser: `${prefix}:user-sessions:`,
    channel: `${prefix}:channel:`,
  };
}
