/**
 * Why an operation failed, in a form that schedulers, monitoring and the CLI's exit code can act on.
 * Every typed error of this package carries one; the message carries the Japanese explanation.
 */
export type FailureReason =
  /** Local setup is wrong: an environment variable, the encryption key ring, pending migrations. */
  | 'configuration'
  /** The command line itself is wrong (a blank `--code`, an unknown option). */
  | 'usage'
  /** AlarmBox rejected the client credentials (`invalid_client`): client_id / client_secret are wrong. */
  | 'client_configuration'
  /** No token pair is stored yet: run `save-token`. */
  | 'not_registered'
  /** The token chain is dead (`invalid_grant` and no peer refreshed): a person must re-authorize. */
  | 'reauthorization_required'
  /** The stored row cannot be decrypted (unknown key id, wrong key, tampered value). */
  | 'stored_data_invalid'
  /** Network, timeout, 5xx, 429, a non-JSON answer, the database out of reach: retry later. */
  | 'temporary'
  /** Another process held the refresh lock for longer than we were willing to wait: retry later. */
  | 'lock_timeout'
  /** A bug or a state this package does not know how to name. */
  | 'unexpected';

/** Errors of this package that know their {@link FailureReason}. */
export interface ReasonedError extends Error {
  readonly reason: FailureReason;
}

export function isReasonedError(error: unknown): error is ReasonedError {
  return error instanceof Error && typeof (error as Partial<ReasonedError>).reason === 'string';
}
