import { AlarmboxError } from '../errors.ts';

/** The key ring given in `ALARMBOX_ENCRYPTION_KEYS` (or the key file) is malformed. */
export class KeyRingFormatError extends AlarmboxError {
  override readonly name: string = 'KeyRingFormatError';
  constructor(message: string) {
    super(message, { reason: 'configuration' });
  }
}

/** Why a stored value could not be decrypted. None of these ever yields garbage plaintext. */
export type DecryptionFailure = 'malformed' | 'unsupported_version' | 'unknown_key' | 'authentication_failed';

/** A stored envelope cannot be opened with the configured key ring. */
export class DecryptionError extends AlarmboxError {
  override readonly name: string = 'DecryptionError';
  readonly failure: DecryptionFailure;
  constructor(failure: DecryptionFailure, message: string) {
    super(message, { reason: 'stored_data_invalid' });
    this.failure = failure;
  }
}

/** The envelope would not fit the column it is meant for (the guide's `varchar(512)`). */
export class EnvelopeTooLongError extends AlarmboxError {
  override readonly name: string = 'EnvelopeTooLongError';
  constructor(message: string) {
    super(message, { reason: 'unexpected' });
  }
}
