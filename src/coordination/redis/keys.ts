/**
 * Every key and channel starts with `<prefix>:<kind>:`, so deployments sharing a Redis never
 * meet, and each kind of data can be found (or cleared) by its own pattern.
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
