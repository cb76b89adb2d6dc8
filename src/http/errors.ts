// A request to AlarmBox that failed before it was sent, for a reason this machine's setup explains: the proxy
// refused or wants credentials, or AlarmBox's TLS certificate cannot be verified (a TLS-inspecting proxy
// whose CA Node does not trust). The callers (token endpoint, API client) turn it into their own error class.
import { AlarmboxError, type AlarmboxErrorOptions } from '../errors.ts';

/** Internal: thrown by the package's fetch (src/http/fetch.ts); never reaches an app as is. */
export class OutgoingRequestError extends AlarmboxError {
  override readonly name: string = 'OutgoingRequestError';
  /** The request never left this machine (no byte of it reached AlarmBox): even a POST was not carried out. */
  readonly neverSent = true;
  constructor(message: string, options: AlarmboxErrorOptions) {
    super(message, options);
  }
}
