import type { FailureReason, ReasonedError } from '../failure-reason.ts';

/** A setting is missing or malformed. The message names the variable and shows an example value. */
export class ConfigError extends Error implements ReasonedError {
  override readonly name = 'ConfigError';
  readonly reason: FailureReason = 'configuration';
  /** The environment variable (or option) at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}
