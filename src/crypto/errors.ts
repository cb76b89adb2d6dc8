import type { FailureReason, ReasonedError } from '../failure-reason.ts';

/** The key ring given in `ALARMBOX_ENCRYPTION_KEYS` (or the key file) is malformed. */
export class KeyRingFormatError extends Error implements ReasonedError {
  override readonly name = 'KeyRingFormatError';
  readonly reason: FailureReason = 'configuration';
}

/** Why a stored value could not be decrypted. None of these ever yields garbage plaintext. */
export type DecryptionFailure = 'malformed' | 'unsupported_version' | 'unknown_key' | 'authentication_failed';

/** A stored envelope cannot be opened with the configured key ring. */
export class DecryptionError extends Error implements ReasonedError {
  override readonly name = 'DecryptionError';
  readonly reason: FailureReason = 'stored_data_invalid';
  readonly failure: DecryptionFailure;
  constructor(failure: DecryptionFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

/** The envelope would not fit the column it is meant for (the guide's `varchar(512)`). */
export class EnvelopeTooLongError extends Error implements ReasonedError {
  override readonly name = 'EnvelopeTooLongError';
  readonly reason: FailureReason = 'unexpected';
}
