// Shared by the emulator tests: requests to the emulator's app in process (`app.request`), or over TCP to an
// emulator started on port 0 where a test needs a real socket (dropped connections, raw bytes, shutdown).
import { expect } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/app.ts';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.ts';

/** Where a test sends its requests: `request` takes a path (`/oauth/token`) or a URL starting with `url`. */
export interface Target {
  readonly url: string;
  request(input: string, init?: RequestInit): Promise<Response>;
}

export type TestEmulator = Target & Omit<Emulator, 'app'>;

/** The emulator without a socket: its Hono app answers `app.request()` directly. */
export function inProcess(options: EmulatorOptions = {}): TestEmulator {
  const { app, ...controls } = createEmulator({ quiet: true, ...options });
  return { ...controls, url: 'http://localhost', request: async (input, init) => app.request(input, init) };
}

/** A listening emulator, reached with `fetch` over TCP. */
export function overTcp(emulator: RunningEmulator): Target & RunningEmulator {
  const request = (input: string, init?: RequestInit) =>
    fetch(input.startsWith('/') ? `${emulator.url}${input}` : input, init);
  return { ...emulator, request };
}

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
  t: Target,
  params: { redirectUri?: string; scope?: string; state?: string; clientId?: string } = {},
): Promise<string> {
  const body = form({
    client_id: params.clientId ?? CLIENT_ID,
    redirect_uri: params.redirectUri ?? OOB,
    response_type: 'code',
    ...(params.scope === undefined ? {} : { scope: params.scope }),
    ...(params.state === undefined ? {} : { state: params.state }),
  });
  const res = await t.request('/oauth/authorize', { method: 'POST', body, redirect: 'manual' });
  expect(res.status).toBe(302);
  const code = new URL(res.headers.get('location') ?? '').searchParams.get('code');
  expect(code).toMatch(TOKEN_FORMAT);
  return code ?? '';
}

export function postToken(
  t: Target,
  params: Record<string, string>,
  init: RequestInit = {},
): Promise<Response> {
  return t.request('/oauth/token', { method: 'POST', body: form(params), ...init });
}

export function exchangeCode(t: Target, code: string, extra: Record<string, string> = {}): Promise<Response> {
  return postToken(t, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: OOB,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...extra,
  });
}

export function refresh(
  t: Target,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return postToken(t, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...extra,
  });
}

/** A fresh token pair through the whole authorization-code flow. */
export async function issuePair(t: Target, scope?: string): Promise<TokenBody> {
  const code = await authorizeCode(t, scope === undefined ? {} : { scope });
  const res = await exchangeCode(t, code);
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

export function tokenInfo(t: Target, accessToken: string): Promise<Response> {
  return t.request('/oauth/token/info', { headers: { Authorization: `Bearer ${accessToken}` } });
}

export function createCreditCheck(
  t: Target,
  accessToken: string | undefined,
  body: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (accessToken !== undefined) headers.Authorization = `Bearer ${accessToken}`;
  return t.request('/ps/v1/credit_checks', { method: 'POST', headers, body: JSON.stringify(body) });
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
