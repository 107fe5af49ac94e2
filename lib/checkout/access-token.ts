import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The buyer's order access token: 32 random bytes, base64url (43 characters), shown once in the
 * checkout answer. Only its SHA-256 (hex) is stored (orders.access_token_hash); lookups compare
 * hashes in constant time.
 */

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateAccessToken(): { token: string; hash: string } {
  let token = randomBytes(32).toString('base64url');
  // `bf_…` bearer values are back-office API keys (api/orders/[id].ts routes them to the staff view):
  // a buyer token never starts like that (1 draw in 262,144 is redrawn).
  while (token.startsWith('bf_')) token = randomBytes(32).toString('base64url');
  return { token, hash: hashAccessToken(token) };
}

/** Constant-time check of a presented token against a stored hash (false for anything malformed). */
export function accessTokenMatches(presented: string | undefined, storedHash: string | undefined): boolean {
  // Hash whatever was presented so the work done does not depend on what was sent.
  const presentedHash = Buffer.from(hashAccessToken(presented ?? ''), 'hex');
  const stored = Buffer.from(storedHash && /^[0-9a-f]{64}$/.test(storedHash) ? storedHash : '0'.repeat(64), 'hex');
  const equal = timingSafeEqual(presentedHash, stored);
  return equal && presented !== undefined && TOKEN_PATTERN.test(presented) && storedHash !== undefined;
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}
