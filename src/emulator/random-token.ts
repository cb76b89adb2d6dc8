import { randomBytes } from 'node:crypto';

/**
 * A new access token, refresh token or authorization code: Doorkeeper's default generator is
 * `SecureRandom.urlsafe_base64(32)`, i.e. 32 random bytes as unpadded base64url = 43 chars of [A-Za-z0-9_-].
 */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
