// Wire types of the token endpoint (the guide's lib/alarmbox/types.py), named as on the wire.

/**
 * トークン取得・更新のレスポンス. Doorkeeper drops keys with blank values, so everything but the access
 * token and its type may be missing (no `expires_in` for tokens that never expire).
 */
export interface TokenResponse {
  /** Empty when the response had no usable access token (the refresh token is kept; a warning says so). */
  readonly access_token: string;
  /** Lower-cased; `bearer` unless a warning says otherwise. */
  readonly token_type: string;
  /** 有効期間 (秒) */
  readonly expires_in?: number;
  /** Replaced on every use (rotation); keep the old one only if a response omits it. */
  readonly refresh_token?: string;
  /** 許可された権限 */
  readonly scope?: string;
  /** Doorkeeper: epoch seconds on the server's clock. Not used for expiry (clocks differ). */
  readonly created_at?: number;
}

/** A token response with the moment the request was sent: expiry is counted from there (never from receipt). */
export interface ReceivedTokens {
  readonly response: TokenResponse;
  readonly requestedAt: Date;
  /** What was odd in the response and how it was made up for (token-response.ts); kept anyway. */
  readonly warnings?: readonly TokenWarning[] | undefined;
}

/** What was odd in a token response that was stored anyway (see {@link TokenWarning}). */
export type TokenWarningCode =
  | 'token_type_missing'
  | 'token_type_not_bearer'
  | 'expires_in_missing'
  | 'expires_in_invalid'
  | 'access_token_unusable'
  | 'refresh_token_missing'
  | 'refresh_token_unusable'
  | 'scope_not_string'
  | 'scope_control_characters'
  | 'scope_too_long';

/** Something odd in a token response that was stored anyway. The message never holds a token. */
export interface TokenWarning {
  readonly code: TokenWarningCode;
  readonly message: string;
}
