import { randomBytes } from 'node:crypto';

/**
 * A new access token, refresh token or authorization code: Doorkeeper's default generator is
 * `SecureRandom.urlsafe_base64(32)`, i.e. 32 random bytes as unpadded base64url = 43 chars of [A-Za-z0-9_-].
 */
export function randomToken(length = 43): string {
  // A custom Doorkeeper generator (JWT, longer random) issues longer tokens: `length` characters of the same alphabet.
  if (length === 43) return randomBytes(32).toString('base64url');
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}
