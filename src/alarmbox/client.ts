// The guide's AlarmboxClient (lib/alarmbox/client.py), token part: POST /oauth/token through oauth4webapi.
import * as oauth from 'oauth4webapi';
import { readBodyLimited } from '../http/body.ts';
import { type FetchLike, outgoingFetch } from '../http/fetch.ts';
import { rememberSecrets, withSecrets } from '../text/operation-secrets.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { AlarmboxAPIError } from './errors.ts';
import { toRevocationError } from './revocation-errors.ts';
import { type TokenGrant, toTokenEndpointError } from './token-endpoint-errors.ts';
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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The guide's AlarmboxClient: the token endpoint (authorization code and refresh token grants) and revocation.
 * It holds no tokens; {@link TokenService} stores and refreshes them.
 */
export class AlarmboxClient {
  readonly #as: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #options: AlarmboxClientOptions;
  readonly #insecure: boolean;
  readonly #fetch: FetchLike;

  constructor(options: AlarmboxClientOptions) {
    const base = new URL(options.baseUrl);
    this.#options = options;
    // Doorkeeper publishes no RFC 8414 metadata we can rely on: describe the server by hand.
    this.#as = {
      issuer: base.origin,
      token_endpoint: new URL('/oauth/token', base).href,
      // Doorkeeper's TokensController#revoke (RFC 7009).
      revocation_endpoint: new URL('/oauth/revoke', base).href,
    };
    this.#client = { client_id: options.clientId };
    // AlarmBox integrators send the credentials in the body (RFC 6749 §2.3.1 client_secret_post).
    this.#auth = oauth.ClientSecretPost(options.clientSecret);
    this.#insecure = base.protocol === 'http:' && LOOPBACK.has(base.hostname);
    // A malformed proxy variable is a ConfigError here, before any request.
    this.#fetch = outgoingFetch(base, options.fetch).fetch;
  }

  /** 認可コードからトークンを取得する (初回認証用), RFC 6749 §4.1.3. */
  async getTokenByCode(
    code: string,
    redirectUri: string = this.#options.redirectUri,
  ): Promise<ReceivedTokens> {
    // oauth4webapi takes the code from validated callback parameters; OOB gives us the bare code.
    const callback = oauth.validateAuthResponse(
      this.#as,
      this.#client,
      new URLSearchParams({ code }),
      oauth.skipStateCheck,
    );
    return this.#tokenRequest('authorization_code', code, (opts) =>
      // Doorkeeper's AlarmBox apps are confidential clients without PKCE.
      oauth.authorizationCodeGrantRequest(
        this.#as,
        this.#client,
        this.#auth,
        callback,
        redirectUri,
        oauth.nopkce,
        opts,
      ),
    );
  }

  /** リフレッシュトークンを使って新しいトークンを取得する, RFC 6749 §6. */
  async refreshToken(
    refreshToken: string,
    redirectUri: string = this.#options.redirectUri,
  ): Promise<ReceivedTokens> {
    return this.#tokenRequest('refresh_token', refreshToken, (opts) =>
      oauth.refreshTokenGrantRequest(this.#as, this.#client, this.#auth, refreshToken, {
        ...opts,
        // Doorkeeper ignores it on refresh; the guide sends it, and so do we.
        additionalParameters: { redirect_uri: redirectUri },
      }),
    );
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
    return withSecrets([this.#options.clientSecret, token], () => this.#sendRevocation(token, hint));
  }

  async #sendRevocation(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    let body: string | undefined;
    try {
      const response = await oauth.revocationRequest(this.#as, this.#client, this.#auth, token, {
        signal,
        [oauth.allowInsecureRequests]: this.#insecure,
        [oauth.customFetch]: this.#fetch,
        additionalParameters: { token_type_hint: hint },
      });
      body = await readBodyLimited(response);
      await oauth.processRevocationResponse(replayOf(response, body));
    } catch (error) {
      throw toRevocationError(error, { timeoutMs: this.#options.timeoutMs, body });
    }
  }

  /**
   * One token request as one operation of known secrets (operation-secrets.ts): the client secret and the
   * grant's code or refresh token from the start, the tokens of the answer as soon as it is read. Every error
   * it throws is built inside it, so none of these values survives in a message or body, whatever its form.
   */
  #tokenRequest(
    grant: TokenGrant,
    grantValue: string,
    send: (options: oauth.TokenEndpointRequestOptions) => Promise<Response>,
  ): Promise<ReceivedTokens> {
    return withSecrets([this.#options.clientSecret, grantValue], () => this.#sendTokenRequest(grant, send));
  }

  async #sendTokenRequest(
    grant: TokenGrant,
    send: (options: oauth.TokenEndpointRequestOptions) => Promise<Response>,
  ): Promise<ReceivedTokens> {
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    const requestedAt = new Date();
    let body: string | undefined;
    try {
      const response = await send({
        signal,
        [oauth.allowInsecureRequests]: this.#insecure,
        [oauth.customFetch]: this.#fetch,
      });
      // Bounded and under the request's timeout signal: a server that sends headers and then stalls, or an
      // endless body, ends as a temporary error.
      body = await readBodyLimited(response);
      const json = parseJson(body);
      rememberIssued(json);
      if (response.ok) {
        // Read by hand, leniently: a usable refresh token is kept whatever else is odd (token-response.ts).
        const issued = readIssuedTokens(json, grant);
        if (issued !== undefined)
          return { response: issued.response, requestedAt, warnings: issued.warnings };
      }
      // Nothing usable: oauth4webapi names what is wrong (an OAuth error, a challenge, a non-JSON body).
      const replay = replayOf(response, body);
      if (grant === 'authorization_code') {
        await oauth.processAuthorizationCodeResponse(this.#as, this.#client, replay);
      } else {
        await oauth.processRefreshTokenResponse(this.#as, this.#client, replay);
      }
      throw new AlarmboxAPIError('JSONパースエラー: AlarmBox の応答に使えるトークンがありません。', {
        statusCode: response.status,
        responseBody: terminalSafe(body),
        reason: 'temporary',
      });
    } catch (error) {
      throw toTokenEndpointError(error, { grant, timeoutMs: this.#options.timeoutMs, body });
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

/** An identical Response for oauth4webapi, whose body was already read. */
function replayOf(response: Response, text: string): Response {
  const nullBody = response.status === 204 || response.status === 205 || response.status === 304;
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  return new Response(nullBody ? null : text, init);
}
