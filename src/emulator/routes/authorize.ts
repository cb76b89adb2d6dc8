// `/oauth/authorize` (RFC 6749 §4.1.1–§4.1.2): Doorkeeper's AuthorizationsController new/create/destroy,
// and the OOB page `/oauth/authorize/native`. There is no login: the person at the browser is user 1.
import { type Context, Hono } from 'hono';
import { jsonResponse, type OAuthError, oauthError, oauthErrorStatus } from '../doorkeeper-errors.ts';
import { faults } from '../fault-injection.ts';
import { consentPage, errorPage, htmlResponse, nativeCodePage, redirectPage } from '../html.ts';
import { parseQuery, readRequestParams } from '../params.ts';
import { issueGrant, type PreAuthorization, preAuthorize } from '../pre-authorization.ts';
import { isOobUri, redirectableUri } from '../redirect-uri.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';

/** Mounted under `/oauth`. */
export function authorizeRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  const withFaults = faults(state, 'authorize');
  return new Hono<EmulatorEnv>()
    .get('/authorize', withFaults, (c) => showConsent(state, c))
    .post('/authorize', withFaults, (c) => decide(state, c))
    .delete('/authorize', withFaults, (c) => decide(state, c, 'deny'))
    .get('/authorize/native', (c) => htmlResponse(nativeCodePage(parseQuery(c.req.url).get('code') ?? '')));
}

/** `new`: errors are an HTML page with status 200; valid requests get the consent page (or, auto-approved, the code). */
function showConsent(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  const result = preAuthorize(state, parseQuery(c.req.url));
  if (!result.ok) return htmlResponse(errorPage(result.error.description));
  if (state.options.autoApprove) return approve(state, result.preAuth, new URL(c.req.url).origin);
  return htmlResponse(consentPage(result.preAuth));
}

/** `create` (approve) and `destroy` (deny); a form POST with `_method=delete` is a deny (Rack::MethodOverride). */
async function decide(state: EmulatorState, c: Context<EmulatorEnv>, forced?: 'deny'): Promise<Response> {
  const params = await readRequestParams(c.req.raw);
  const deny = forced === 'deny' || params.get('_method')?.toLowerCase() === 'delete';
  const result = preAuthorize(state, params);
  if (!result.ok) return errorAnswer(result.error, result.redirectUri, result.state);
  if (deny) {
    const denied = oauthError('access_denied');
    return errorAnswer(denied, redirectableUri(result.preAuth.redirectUri), result.preAuth.state);
  }
  return approve(state, result.preAuth, new URL(c.req.url).origin);
}

/**
 * `CodeResponse`: OOB goes to the native page (without `state`); another URI gets `code` and `state` in its
 * query (RFC 6749 §4.1.2).
 */
function approve(state: EmulatorState, preAuth: PreAuthorization, origin: string): Promise<Response> {
  const grant = issueGrant(state, preAuth);
  if (isOobUri(preAuth.redirectUri)) return redirect(`${origin}/oauth/authorize/native?code=${grant.code}`);
  return redirect(withQuery(preAuth.redirectUri, { code: grant.code, state: preAuth.state }));
}

/** `redirect_or_render`: redirectable errors go back to the client (RFC 6749 §4.1.2.1), others are JSON. */
function errorAnswer(
  error: OAuthError,
  redirectUri: string | undefined,
  oauthState: string | undefined,
): Response | Promise<Response> {
  if (redirectUri !== undefined) {
    return redirect(
      withQuery(redirectUri, { error: error.error, error_description: error.description, state: oauthState }),
    );
  }
  return jsonResponse(
    { error: error.error, error_description: error.description },
    oauthErrorStatus(error.error),
  );
}

/** `URIBuilder.uri_with_query`: merged into the URI's own query, blank values dropped. */
function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value.trim() !== '') url.searchParams.set(key, value);
  }
  return url.href;
}

/** Rails' `redirect_to`: 302 with a tiny HTML body. */
function redirect(location: string): Promise<Response> {
  return htmlResponse(redirectPage(location), 302, { Location: location });
}
