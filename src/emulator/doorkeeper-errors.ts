// Doorkeeper's error responses (Doorkeeper::OAuth::ErrorResponse and its default English locale,
// config/locales/en.yml). Clients must not match on the texts (a Japanese locale exists), but tests do.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'unsupported_response_type';

export interface OAuthError {
  readonly error: OAuthErrorCode;
  readonly description: string;
}

const DESCRIPTIONS: Readonly<Record<OAuthErrorCode, string>> = {
  invalid_request:
    'The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.',
  invalid_client:
    'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
  invalid_grant:
    'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
  invalid_scope: 'The requested scope is invalid, unknown, or malformed.',
  unauthorized_client: 'The client is not authorized to perform this request using this method.',
  access_denied: 'The resource owner or authorization server denied the request.',
  invalid_redirect_uri: "The requested redirect uri is malformed or doesn't match client redirect URI.",
  unsupported_response_type: 'The authorization server does not support this response type.',
};

/** An error with Doorkeeper's stock description. */
export function oauthError(error: OAuthErrorCode): OAuthError {
  return { error, description: DESCRIPTIONS[error] };
}

/** `invalid_request` for a blank required parameter: "Missing required parameter: code." */
export function missingParameter(name: string): OAuthError {
  return { error: 'invalid_request', description: `Missing required parameter: ${name}.` };
}

/** `revoke.unauthorized`: what `POST /oauth/revoke` answers (403) to a client it cannot authenticate. */
export const REVOKE_UNAUTHORIZED: OAuthError = {
  error: 'unauthorized_client',
  description: 'You are not authorized to revoke this token',
};

/** RFC 6749 §5.2: 401 when client authentication failed, 400 for every other error. */
export function oauthErrorStatus(error: OAuthErrorCode): 400 | 401 {
  return error === 'invalid_client' ? 401 : 400;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `ErrorResponse#authenticate_info`: sent on every token-endpoint error, even the 400s. */
export function wwwAuthenticate(error: string, description: string): string {
  return `Bearer realm="Doorkeeper", error="${error}", error_description="${description}"`;
}

/** `ErrorResponse#headers` + body, as the token endpoint renders them. */
export function oauthErrorResponse(err: OAuthError, status: number = oauthErrorStatus(err.error)): Response {
  return jsonResponse({ error: err.error, error_description: err.description }, status, {
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'WWW-Authenticate': wwwAuthenticate(err.error, err.description),
  });
}

/** `InvalidTokenResponse.from_access_token`: revoked is checked before expired. */
export type InvalidTokenReason = 'revoked' | 'expired' | 'unknown';

export const INVALID_TOKEN_DESCRIPTIONS: Readonly<Record<InvalidTokenReason, string>> = {
  revoked: 'The access token was revoked',
  expired: 'The access token expired',
  unknown: 'The access token is invalid',
};

/** A plain JSON answer with the charset Rails adds. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers },
  });
}
