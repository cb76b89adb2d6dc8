/**
 * The guide's step 8-1 URL: `GET /oauth/authorize` (RFC 6749 §4.1.1). With the OOB redirect URI AlarmBox
 * (Doorkeeper) shows the code on screen after login and consent.
 */
export function buildAuthorizeUrl(params: {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state?: string | undefined;
}): string {
  const url = new URL('/oauth/authorize', params.baseUrl);
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', params.scope);
  if (params.state !== undefined) url.searchParams.set('state', params.state);
  return url.href;
}
