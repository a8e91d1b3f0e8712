import { createHash, randomBytes } from 'node:crypto';
import { Secret } from '../shared/secret.ts';

// afk_<prefix>_<secret>: a fixed prefix to recognise the key (secret scanners, logs), 16 hex digits
// (64 random bits) to find it, and 32 random bytes in base64url (43 characters) as the secret.
// The lengths are fixed, so the `_` that base64url may hold in the secret is never ambiguous.
const KEY_PATTERN = /^afk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedAgentKey {
  prefix: string;
  secret: Secret;
}

/** A new key: its full text (shown once), public prefix and the hash to store. */
export function generateAgentKey(): { key: Secret; prefix: string; secretHash: Secret } {
  const prefix = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: new Secret(`afk_${prefix}_${secret}`), prefix, secretHash: hashKeySecret(secret) };
}

/** The prefix and secret of a well-formed key, else undefined. */
export function parseAgentKey(key: unknown): ParsedAgentKey | undefined {
  const text = key instanceof Secret ? key.reveal() : key;
  if (typeof text !== 'string') return undefined;
  const match = KEY_PATTERN.exec(text);
  return match ? { prefix: match[1]!, secret: new Secret(match[2]!) } : undefined;
}

/**
 * SHA-256 (hex) of a key's secret: what is stored and compared. The secret holds 256 random bits,
 * so a fast hash is as safe as a slow one and verification pays no password-hash cost.
 */
export function hashKeySecret(secret: Secret | string): Secret {
  const text = secret instanceof Secret ? secret.reveal() : secret;
  return new Secret(createHash('sha256').update(text, 'utf8').digest('hex'));
}
