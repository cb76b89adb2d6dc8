// Doorkeeper::OAuth::TokenResponse: RFC 6749 §5.1 success body and headers.
import { JSON_CONTENT_TYPE } from '../doorkeeper-errors.ts';
import { type AccessTokenRecord, expiresInSeconds } from '../records.ts';

export function tokenResponse(token: AccessTokenRecord, nowMs: number): Response {
  const body: Record<string, string | number | null> = {
    access_token: token.token,
    token_type: 'Bearer',
    expires_in: expiresInSeconds(token, nowMs),
    refresh_token: token.refreshToken,
    scope: token.scopes.join(' '),
    created_at: Math.floor(token.createdAtMs / 1000),
  };
  // `.reject { |_, value| value.blank? }`: no `expires_in` for tokens that never expire.
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === '') delete body[key];
  }
  return new Response(JSON.stringify(body), {
    status: 200,
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Type': JSON_CONTENT_TYPE },
  });
}
