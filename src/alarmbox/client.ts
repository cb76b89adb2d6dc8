// The guide's AlarmboxClient (lib/alarmbox/client.py), token part: POST /oauth/token through oauth4webapi.
import * as oauth from 'oauth4webapi';
import { AlarmboxAPIError } from './errors.ts';
import { type TokenGrant, toTokenEndpointError } from './token-endpoint-errors.ts';
import type { ReceivedTokens, TokenResponse } from './types.ts';

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

  constructor(options: AlarmboxClientOptions) {
    const base = new URL(options.baseUrl);
    this.#options = options;
    // Doorkeeper publishes no RFC 8414 metadata we can rely on: describe the server by hand.
    this.#as = { issuer: base.origin, token_endpoint: new URL('/oauth/token', base).href };
    this.#client = { client_id: options.clientId };
    // AlarmBox integrators send the credentials in the body (RFC 6749 §2.3.1 client_secret_post).
    this.#auth = oauth.ClientSecretPost(options.clientSecret);
    this.#insecure = base.protocol === 'http:' && LOOPBACK.has(base.hostname);
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
    return this.#tokenRequest('authorization_code', (opts) =>
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
    return this.#tokenRequest('refresh_token', (opts) =>
      oauth.refreshTokenGrantRequest(this.#as, this.#client, this.#auth, refreshToken, {
        ...opts,
        // Doorkeeper ignores it on refresh; the guide sends it, and so do we.
        additionalParameters: { redirect_uri: redirectUri },
      }),
    );
  }

  async #tokenRequest(
    grant: TokenGrant,
    send: (options: oauth.TokenEndpointRequestOptions) => Promise<Response>,
  ): Promise<ReceivedTokens> {
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    const requestedAt = new Date();
    let body: string | undefined;
    try {
      const response = await readWhole(await send({ signal, [oauth.allowInsecureRequests]: this.#insecure }));
      body = response.text;
      const processed =
        grant === 'authorization_code'
          ? await oauth.processAuthorizationCodeResponse(this.#as, this.#client, response.replay)
          : await oauth.processRefreshTokenResponse(this.#as, this.#client, response.replay);
      return { response: toTokenResponse(processed), requestedAt };
    } catch (error) {
      throw toTokenEndpointError(error, { grant, timeoutMs: this.#options.timeoutMs, body });
    }
  }
}

/**
 * Reads the body under the request's timeout signal (a server that sends headers and then stalls must time
 * out too) and keeps the text for the error report; oauth4webapi then parses an identical Response.
 */
async function readWhole(response: Response): Promise<{ text: string; replay: Response }> {
  const text = await response.text();
  const nullBody = response.status === 204 || response.status === 205 || response.status === 304;
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  return { text, replay: new Response(nullBody ? null : text, init) };
}

function toTokenResponse(r: oauth.TokenEndpointResponse): TokenResponse {
  const createdAt = (r as { created_at?: unknown }).created_at;
  if (r.expires_in !== undefined && (!Number.isFinite(r.expires_in) || r.expires_in <= 0)) {
    throw new AlarmboxAPIError(`AlarmBox の応答の expires_in が不正です (${String(r.expires_in)})。`, {
      statusCode: 200,
      reason: 'temporary',
    });
  }
  return {
    access_token: r.access_token,
    token_type: r.token_type,
    ...(r.expires_in === undefined ? {} : { expires_in: r.expires_in }),
    ...(r.refresh_token === undefined ? {} : { refresh_token: r.refresh_token }),
    ...(r.scope === undefined ? {} : { scope: r.scope }),
    ...(typeof createdAt === 'number' ? { created_at: createdAt } : {}),
  };
}
