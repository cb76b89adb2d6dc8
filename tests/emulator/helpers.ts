// Shared by the emulator tests: real HTTP against an emulator started on port 0.
import { expect } from 'vitest';

export const OOB = 'urn:ietf:wg:oauth:2.0:oob';
export const CLIENT_ID = 'local-client-id';
export const CLIENT_SECRET = 'local-client-secret';
export const ALL_SCOPES = 'read customer:delete customer:create credit_check:create';
export const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export const DESCRIPTIONS = {
  invalid_client:
    'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
  invalid_grant:
    'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
  invalid_scope: 'The requested scope is invalid, unknown, or malformed.',
  access_denied: 'The resource owner or authorization server denied the request.',
  invalid_redirect_uri: "The requested redirect uri is malformed or doesn't match client redirect URI.",
  unsupported_response_type: 'The authorization server does not support this response type.',
} as const;

export interface TokenBody {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in?: number;
  readonly refresh_token: string;
  readonly scope?: string;
  readonly created_at: number;
}

export function form(params: Record<string, string>): URLSearchParams {
  return new URLSearchParams(params);
}

/** Approves an authorization request (POST /oauth/authorize, as the consent page's 承認 button does). */
export async function authorizeCode(
  url: string,
  params: { redirectUri?: string; scope?: string; state?: string; clientId?: string } = {},
): Promise<string> {
  const body = form({
    client_id: params.clientId ?? CLIENT_ID,
    redirect_uri: params.redirectUri ?? OOB,
    response_type: 'code',
    ...(params.scope === undefined ? {} : { scope: params.scope }),
    ...(params.state === undefined ? {} : { state: params.state }),
  });
  const res = await fetch(`${url}/oauth/authorize`, { method: 'POST', body, redirect: 'manual' });
  expect(res.status).toBe(302);
  const code = new URL(res.headers.get('location') ?? '').searchParams.get('code');
  expect(code).toMatch(TOKEN_FORMAT);
  return code ?? '';
}

export function postToken(
  url: string,
  params: Record<string, string>,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${url}/oauth/token`, { method: 'POST', body: form(params), ...init });
}

export function exchangeCode(
  url: string,
  code: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return postToken(url, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: OOB,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...extra,
  });
}

export function refresh(
  url: string,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return postToken(url, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...extra,
  });
}

/** A fresh token pair through the whole authorization-code flow. */
export async function issuePair(url: string, scope?: string): Promise<TokenBody> {
  const code = await authorizeCode(url, scope === undefined ? {} : { scope });
  const res = await exchangeCode(url, code);
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

export function tokenInfo(url: string, accessToken: string): Promise<Response> {
  return fetch(`${url}/oauth/token/info`, { headers: { Authorization: `Bearer ${accessToken}` } });
}

export function createCreditCheck(
  url: string,
  accessToken: string | undefined,
  body: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (accessToken !== undefined) headers.Authorization = `Bearer ${accessToken}`;
  return fetch(`${url}/ps/v1/credit_checks`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Asserts Doorkeeper's token-endpoint error: status, body and the WWW-Authenticate challenge. */
export async function expectOAuthError(
  res: Response,
  status: number,
  error: string,
  description: string,
): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({
    status,
    body: { error, error_description: description },
  });
  expect(res.headers.get('www-authenticate')).toBe(
    `Bearer realm="Doorkeeper", error="${error}", error_description="${description}"`,
  );
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
}
