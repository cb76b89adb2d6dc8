// The guide's AlarmboxClient (lib/alarmbox/client.py), token part: three form posts to Doorkeeper, written by
// hand (docs/design.md「決めたことと理由」).

import { INSECURE_BASE_URL_MESSAGE, isSecureBaseUrl } from '../config/config.ts';
import { readBodyLimited } from '../http/body.ts';
import { type FetchLike, outgoingFetch } from '../http/fetch.ts';
import { tracedTokenRequest } from '../telemetry/telemetry.ts';
import { rememberSecrets, withSecrets } from '../text/operation-secrets.ts';
import { AlarmboxAPIError } from './errors.ts';
import {
  type EndpointAnswer,
  requestError,
  revocationAnswerError,
  type TokenGrant,
  tokenAnswerError,
} from './token-endpoint-errors.ts';
import { readIssuedTokens } from './token-response.ts';
import type { ReceivedTokens } from './types.ts';

/** Settings of {@link AlarmboxClient}: where AlarmBox is and the client credentials. */
export interface AlarmboxClientOptions {
  /** e.g. `https://api.alarmbox.jp`, or the emulator's `http://127.0.0.1:4010` */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default redirect URI: the one registered for this app (OOB unless configured). */
  readonly redirectUri: string;
  /** Per request, covering connect, headers and body. The guide's `timeout=30`. */
  readonly timeoutMs: number;
  /**
   * The app's own fetch, used for every request to AlarmBox; then HTTPS_PROXY / NO_PROXY are not applied
   * (docs/integration.md「プロキシと社内の CA」). Default: the package's, which honours them.
   */
  readonly fetch?: FetchLike | undefined;
}

/** Sent as the API client's default (src/api/client.ts). */
const USER_AGENT = 'alarmbox-auth';

/**
 * The guide's AlarmboxClient: the token endpoint (authorization code and refresh token grants) and revocation.
 * It holds no tokens; {@link TokenService} stores and refreshes them.
 */
export class AlarmboxClient {
  readonly #options: AlarmboxClientOptions;
  readonly #base: URL;
  readonly #fetch: FetchLike;

  constructor(options: AlarmboxClientOptions) {
    this.#options = options;
    this.#base = new URL(options.baseUrl);
    // A malformed proxy variable is a ConfigError here, before any request.
    this.#fetch = outgoingFetch(this.#base, options.fetch).fetch;
  }

  /** 認可コードからトークンを取得する (初回認証用), RFC 6749 §4.1.3. */
  getTokenByCode(code: string, redirectUri: string = this.#options.redirectUri): Promise<ReceivedTokens> {
    // The bare code of the OOB page; AlarmBox's apps are confidential clients without PKCE.
    return this.#tokenRequest('authorization_code', code, { code, redirect_uri: redirectUri });
  }

  /** リフレッシュトークンを使って新しいトークンを取得する, RFC 6749 §6. */
  refreshToken(
    refreshToken: string,
    redirectUri: string = this.#options.redirectUri,
  ): Promise<ReceivedTokens> {
    // Doorkeeper ignores redirect_uri on refresh; the guide sends it, and so do we.
    return this.#tokenRequest('refresh_token', refreshToken, {
      refresh_token: refreshToken,
      redirect_uri: redirectUri,
    });
  }

  /**
   * Revokes a token at `POST /oauth/revoke` (RFC 7009 §2.1), authenticating as for the token endpoint
   * (client_secret_post). Doorkeeper revokes the whole pair given either of its tokens, and answers 200 for an
   * unknown or already revoked token too (§2.2): a 200 means the token is no longer valid. Same timeout and
   * body size cap as a token request.
   * @throws AlarmboxAPIError when AlarmBox did not answer 200 (or not in time)
   */
  revokeToken(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    // An operation of known secrets like a token request: an echoing error body never shows the token revoked.
    return withSecrets([this.#options.clientSecret, token], async () => {
      const answer = await this.#post('/oauth/revoke', { token, token_type_hint: hint });
      if (answer.status !== 200) throw revocationAnswerError(answer);
    });
  }

  /**
   * One token request (RFC 6749 §4.1.3, §6) as one operation of known secrets (operation-secrets.ts): the client
   * secret and the grant's code or refresh token from the start, the tokens of the answer as soon as it is read.
   * Every error it throws is built inside it, so none of these values survives in a message or body.
   */
  #tokenRequest(
    grant: TokenGrant,
    grantValue: string,
    params: Record<string, string>,
  ): Promise<ReceivedTokens> {
    return withSecrets([this.#options.clientSecret, grantValue], () =>
      // The span and the histogram see the grant type, the server and the status only (telemetry.ts).
      tracedTokenRequest(new URL('/oauth/token', this.#base), grant, async (span) => {
        const requestedAt = new Date();
        const answer = await this.#post('/oauth/token', { grant_type: grant, ...params }, 'application/json');
        span.set('http.response.status_code', answer.status);
        rememberIssued(answer.json);
        if (answer.status >= 200 && answer.status < 300) {
          // Read by hand, leniently: a usable refresh token is kept whatever else is odd (token-response.ts).
          const issued = readIssuedTokens(answer.json, grant);
          if (issued !== undefined)
            return { response: issued.response, requestedAt, warnings: issued.warnings };
        }
        throw tokenAnswerError(grant, answer);
      }),
    );
  }

  /**
   * A form post to Doorkeeper (`application/x-www-form-urlencoded`, RFC 6749 Appendix B) authenticated with
   * client_secret_post (§2.3.1: the credentials in the body, as AlarmBox integrators send them). Redirects are
   * not followed: the credentials go to ALARMBOX_BASE_URL only. The timeout covers the body, read bounded: a
   * server that sends headers and then stalls, or an endless body, ends as a temporary error.
   */
  async #post(path: string, params: Record<string, string>, accept?: string): Promise<EndpointAnswer> {
    const url = new URL(path, this.#base);
    // Tokens and the client secret cross this connection: plain HTTP only to the emulator on this machine.
    if (!isSecureBaseUrl(url)) {
      throw new AlarmboxAPIError(INSECURE_BASE_URL_MESSAGE, { reason: 'configuration' });
    }
    const { clientId, clientSecret, timeoutMs } = this.#options;
    const body = new URLSearchParams({ ...params, client_id: clientId, client_secret: clientSecret });
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
          'user-agent': USER_AGENT,
          ...(accept === undefined ? {} : { accept }),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readBodyLimited(response);
      return { status: response.status, headers: response.headers, body: text, json: parseJson(text) };
    } catch (error) {
      throw requestError(error, timeoutMs);
    }
  }
}

/** Every token string of an answer, usable or not, is a secret of the operation from now on. */
function rememberIssued(json: unknown): void {
  if (typeof json !== 'object' || json === null) return;
  const body = json as Record<string, unknown>;
  for (const key of ['access_token', 'refresh_token', 'id_token']) {
    const value = body[key];
    if (typeof value === 'string') rememberSecrets(value);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
